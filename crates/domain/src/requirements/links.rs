//! Trace links: typed, directed relations between two artefacts of a project.
//!
//! A link reads "source KIND target": `SW-001 derives SYS-001` (SW-001 is derived from
//! SYS-001), `VC-001 verifies SYS-001`. So the target is upstream and the source downstream.
//! A link records the revisions of both ends when it was last confirmed; when either end gets
//! a new revision the link becomes suspect until a person confirms it again.

use crate::ids::{LinkId, ProjectId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Derives,
    Refines,
    Satisfies,
    Verifies,
    AllocatedTo,
    Mitigates,
    Relates,
}

impl LinkKind {
    pub const ALL: [LinkKind; 7] = [
        LinkKind::Derives,
        LinkKind::Refines,
        LinkKind::Satisfies,
        LinkKind::Verifies,
        LinkKind::AllocatedTo,
        LinkKind::Mitigates,
        LinkKind::Relates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Derives => "derives",
            LinkKind::Refines => "refines",
            LinkKind::Satisfies => "satisfies",
            LinkKind::Verifies => "verifies",
            LinkKind::AllocatedTo => "allocated_to",
            LinkKind::Mitigates => "mitigates",
            LinkKind::Relates => "relates",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LinkKind::Derives => "derives from",
            LinkKind::Refines => "refines",
            LinkKind::Satisfies => "satisfies",
            LinkKind::Verifies => "verifies",
            LinkKind::AllocatedTo => "is allocated to",
            LinkKind::Mitigates => "mitigates",
            LinkKind::Relates => "relates to",
        }
    }

    /// The reading from the target's side ("SYS-001 is derived by SW-001").
    pub fn inverse_label(self) -> &'static str {
        match self {
            LinkKind::Derives => "is the source of",
            LinkKind::Refines => "is refined by",
            LinkKind::Satisfies => "is satisfied by",
            LinkKind::Verifies => "is verified by",
            LinkKind::AllocatedTo => "has allocated",
            LinkKind::Mitigates => "is mitigated by",
            LinkKind::Relates => "relates to",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().to_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| {
                format!(
                    "unknown link kind {s:?}; expected one of {}",
                    Self::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }

    /// Hierarchy kinds build a decomposition: a cycle through them is refused.
    pub fn hierarchical(self) -> bool {
        matches!(self, LinkKind::Derives | LinkKind::Refines)
    }

    /// Kinds along which a change upstream makes the links further downstream suspect too:
    /// what was derived from a changed requirement may no longer hold for its own children.
    pub fn propagates(self) -> bool {
        self.hierarchical()
    }

    /// Kinds that count as trace coverage in the requirement hierarchy (upward and downward).
    pub fn is_trace(self) -> bool {
        !matches!(self, LinkKind::Relates | LinkKind::Verifies)
    }

    /// The kinds as SQL list literals, e.g. `'derives','refines'` (constants only; no input).
    pub fn sql_list(kinds: impl IntoIterator<Item = LinkKind>) -> String {
        kinds
            .into_iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Why a link is suspect: which end changed, between which revisions, and (for a link made
/// suspect by propagation) the artefact upstream whose change reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspectReason {
    /// "source" or "target": the end of this link that changed, or through which the change
    /// arrived.
    pub end: String,
    /// The human id of the artefact whose edit caused it.
    pub changed: String,
    pub changed_id: Uuid,
    pub from_revision: i64,
    pub to_revision: i64,
    /// True when the change happened further upstream and arrived through other links.
    pub propagated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceLink {
    pub id: LinkId,
    pub project_id: ProjectId,
    pub kind: LinkKind,
    pub source_type: String,
    pub source_id: Uuid,
    pub target_type: String,
    pub target_id: Uuid,
    /// The revisions of the two ends when the link was made or last confirmed.
    pub source_revision: i64,
    pub target_revision: i64,
    pub suspect: bool,
    pub suspect_reasons: Vec<SuspectReason>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: DateTime<Utc>,
    pub confirmed_by: Option<UserId>,
    /// The identifier in the file it was imported from (a ReqIF SPEC-RELATION).
    pub external_id: Option<String>,
}

impl TraceLink {
    /// The content a baseline records for a link: its ends, kind and confirmed revisions.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "source_type": self.source_type,
            "source_id": self.source_id,
            "target_type": self.target_type,
            "target_id": self.target_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_in_several_spellings() {
        assert_eq!(LinkKind::parse("Allocated-To"), Ok(LinkKind::AllocatedTo));
        assert_eq!(LinkKind::parse("derives"), Ok(LinkKind::Derives));
        assert!(LinkKind::parse("blocks").is_err());
        assert!(LinkKind::Derives.hierarchical() && !LinkKind::Relates.hierarchical());
    }
}
