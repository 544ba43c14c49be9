//! Baselines and release governance: a baseline records the exact revision of every chosen
//! artefact and is frozen once; release packs are built on frozen baselines, carry a live
//! readiness checklist, are locked and unlocked with reasons, and collect adoption actions and
//! governance decisions. The rules live here; storage and use cases are elsewhere.

pub mod checklist;
pub mod compare;
pub mod content;

use crate::access::Role;
use crate::ids::{ActionId, BaselineId, DecisionId, ModuleId, PackId, ProjectId, UserId};
use crate::portfolio::{parse_date, parse_description, parse_name};
use crate::requirements::model::text_enum;
use crate::revision::Versioned;
use crate::vv::status::{check, edge, next_of, Edge};
use crate::FieldErrors;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use crate::vv::model::parse_reason;
pub use checklist::{CheckItem, Checklist, ChecklistFacts};
pub use compare::{compare, Comparison, KindDiff, Pair};
pub use content::{ArtefactKind, Group, Item};

/// Human-id prefixes (requirement modules may not use them).
pub const BASELINE_PREFIX: &str = "BL";
pub const PACK_PREFIX: &str = "RP";
pub const ACTION_PREFIX: &str = "AA";
pub const RESERVED_PREFIXES: [&str; 3] = [BASELINE_PREFIX, PACK_PREFIX, ACTION_PREFIX];

text_enum!(
    /// draft → frozen (a lead's action, once: a frozen baseline never changes).
    BaselineStatus {
        Draft => "draft",
        Frozen => "frozen",
    }
);

text_enum!(
    /// draft → locked (checklist passes, or a lead overrides with a reason) → draft (unlock,
    /// with a reason). Both steps are a lead's.
    PackStatus {
        Draft => "draft",
        Locked => "locked",
    }
);

text_enum!(
    /// open → in progress → done | cancelled; a lead reopens.
    ActionStatus {
        Open => "open",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
);

text_enum!(
    /// A governance decision on a release pack.
    DecisionKind {
        Go => "go",
        NoGo => "no_go",
        Conditional => "conditional",
    }
);

impl BaselineStatus {
    pub fn label(self) -> &'static str {
        match self {
            BaselineStatus::Draft => "Draft",
            BaselineStatus::Frozen => "Frozen",
        }
    }
}

impl PackStatus {
    pub fn label(self) -> &'static str {
        match self {
            PackStatus::Draft => "Draft",
            PackStatus::Locked => "Locked",
        }
    }
}

impl DecisionKind {
    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::Go => "Go",
            DecisionKind::NoGo => "No-go",
            DecisionKind::Conditional => "Conditional",
        }
    }
}

const ACTION_EDGES: [Edge<ActionStatus>; 9] = [
    edge(ActionStatus::Open, ActionStatus::InProgress, Role::Editor),
    edge(ActionStatus::InProgress, ActionStatus::Open, Role::Editor),
    edge(ActionStatus::Open, ActionStatus::Done, Role::Editor),
    edge(ActionStatus::InProgress, ActionStatus::Done, Role::Editor),
    edge(ActionStatus::Open, ActionStatus::Cancelled, Role::Editor),
    edge(
        ActionStatus::InProgress,
        ActionStatus::Cancelled,
        Role::Editor,
    ),
    edge(ActionStatus::Done, ActionStatus::InProgress, Role::Lead),
    edge(ActionStatus::Cancelled, ActionStatus::Open, Role::Lead),
    edge(ActionStatus::Done, ActionStatus::Open, Role::Lead),
];

impl ActionStatus {
    pub fn check_move(self, to: Self, role: Role) -> Result<(), String> {
        check(&ACTION_EDGES, self, to, role, Self::as_str)
    }
    pub fn next(self, role: Role) -> Vec<Self> {
        next_of(&ACTION_EDGES, self, role)
    }
    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "Open",
            ActionStatus::InProgress => "In progress",
            ActionStatus::Done => "Done",
            ActionStatus::Cancelled => "Cancelled",
        }
    }
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

/// What a baseline captures: the requirement modules (empty = every module) and whether the
/// verification artefacts (plans, cases and their latest results) come too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineScope {
    pub modules: Vec<ModuleId>,
    pub include_vv: bool,
}

impl BaselineScope {
    pub fn all() -> Self {
        Self {
            modules: Vec::new(),
            include_vv: true,
        }
    }
    pub fn covers_module(&self, m: ModuleId) -> bool {
        self.modules.is_empty() || self.modules.contains(&m)
    }
}

/// The facts recorded when a baseline is frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frozen {
    pub content_hash: String,
    pub items: i64,
    /// Items per artefact kind (kind name → count).
    pub counts: std::collections::BTreeMap<String, i64>,
    pub frozen_by: Option<UserId>,
    pub frozen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub id: BaselineId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub name: String,
    pub description: String,
    pub scope: BaselineScope,
    pub status: BaselineStatus,
    pub frozen: Option<Frozen>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A name and a description, validated.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BaselineInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl BaselineInput {
    pub fn parse(&self) -> Result<(String, String), FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", parse_name(&self.name));
        let description = e.check("description", parse_description(&self.description));
        match (name, description) {
            (Some(n), Some(d)) if e.is_empty() => Ok((n, d)),
            _ => Err(e),
        }
    }
}

/// A document that belongs to a release (a design description, a user manual): its title, a
/// reference (document number, URL) and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackDocument {
    pub title: String,
    pub reference: String,
    pub version: String,
}

/// Documents typed one per line: `title | reference | version` (reference and version may be
/// left out).
pub fn parse_documents(raw: &str) -> Result<Vec<PackDocument>, String> {
    let mut out = Vec::new();
    for (n, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split('|').map(str::trim);
        let title = parts.next().unwrap_or_default();
        let title = parse_name(title).map_err(|e| format!("line {}: title {e}", n + 1))?;
        let reference = parts.next().unwrap_or_default().to_owned();
        let version = parts.next().unwrap_or_default().to_owned();
        if parts.next().is_some() {
            return Err(format!(
                "line {}: write title | reference | version (at most two |)",
                n + 1
            ));
        }
        if reference.chars().count() > 500 || version.chars().count() > 100 {
            return Err(format!("line {}: reference or version too long", n + 1));
        }
        out.push(PackDocument {
            title,
            reference,
            version,
        });
    }
    if out.len() > 200 {
        return Err("at most 200 documents".into());
    }
    Ok(out)
}

/// Documents back in the one-per-line form.
pub fn documents_text(docs: &[PackDocument]) -> String {
    docs.iter()
        .map(|d| format!("{} | {} | {}", d.title, d.reference, d.version))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleasePack {
    pub id: PackId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub baseline_id: BaselineId,
    pub name: String,
    pub notes: String,
    pub documents: Vec<PackDocument>,
    pub status: PackStatus,
    pub revision: i64,
    pub locked_by: Option<UserId>,
    pub locked_at: Option<DateTime<Utc>>,
    /// The reason a lead gave to lock with a failing checklist.
    pub lock_override: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for ReleasePack {
    const ARTEFACT_TYPE: &'static str = "release_pack";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "human_id": self.human_id,
            "baseline_id": self.baseline_id,
            "name": self.name,
            "notes": self.notes,
            "documents": documents_text(&self.documents),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PackInput {
    pub name: String,
    #[serde(default)]
    pub notes: String,
    /// One per line: `title | reference | version`.
    #[serde(default)]
    pub documents: String,
}

impl PackInput {
    pub fn parse(&self) -> Result<(String, String, Vec<PackDocument>), FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", parse_name(&self.name));
        let notes = e.check("notes", parse_description(&self.notes));
        let docs = e.check("documents", parse_documents(&self.documents));
        match (name, notes, docs) {
            (Some(n), Some(t), Some(d)) if e.is_empty() => Ok((n, t, d)),
            _ => Err(e),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdoptionAction {
    pub id: ActionId,
    pub project_id: ProjectId,
    pub pack_id: PackId,
    pub human_id: String,
    pub title: String,
    pub owner: String,
    pub due: Option<NaiveDate>,
    pub status: ActionStatus,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for AdoptionAction {
    const ARTEFACT_TYPE: &'static str = "adoption_action";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "human_id": self.human_id,
            "title": self.title,
            "owner": self.owner,
            "due": self.due,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ActionInput {
    pub title: String,
    #[serde(default)]
    pub owner: String,
    /// YYYY-MM-DD or empty.
    #[serde(default)]
    pub due: String,
}

impl ActionInput {
    pub fn parse(&self) -> Result<(String, String, Option<NaiveDate>), FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.check("title", parse_name(&self.title));
        let owner = self.owner.trim().to_owned();
        if owner.chars().count() > 200 {
            e.add("owner", "is longer than 200 characters");
        }
        let due = e.check("due", parse_date(&self.due));
        match (title, due) {
            (Some(t), Some(d)) if e.is_empty() => Ok((t, owner, d)),
            _ => Err(e),
        }
    }
}

/// A governance decision on a release pack (append-only: a new decision supersedes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub id: DecisionId,
    pub project_id: ProjectId,
    pub pack_id: PackId,
    pub kind: DecisionKind,
    pub rationale: String,
    pub conditions: String,
    /// Whether the readiness checklist passed when the decision was taken.
    pub checklist_passed: bool,
    pub decided_by: Option<UserId>,
    pub decided_by_name: String,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DecisionInput {
    /// go | no_go | conditional
    pub decision: String,
    pub rationale: String,
    /// Required for a conditional decision.
    #[serde(default)]
    pub conditions: String,
}

impl DecisionInput {
    pub fn parse(&self) -> Result<(DecisionKind, String, String), FieldErrors> {
        let mut e = FieldErrors::new();
        let kind = e.check("decision", DecisionKind::parse(&self.decision));
        let rationale = self.rationale.trim().to_owned();
        if rationale.is_empty() {
            e.add("rationale", "is required: say why");
        }
        if rationale.chars().count() > 20_000 {
            e.add("rationale", "is longer than 20000 characters");
        }
        let conditions = self.conditions.trim().to_owned();
        if kind == Some(DecisionKind::Conditional) && conditions.is_empty() {
            e.add("conditions", "are required for a conditional decision");
        }
        if conditions.chars().count() > 20_000 {
            e.add("conditions", "are longer than 20000 characters");
        }
        match kind {
            Some(k) if e.is_empty() => Ok((k, rationale, conditions)),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_machine_refuses_unlisted_steps_and_roles() {
        assert!(ActionStatus::Open
            .check_move(ActionStatus::Done, Role::Editor)
            .is_ok());
        assert!(ActionStatus::Done
            .check_move(ActionStatus::Cancelled, Role::Lead)
            .is_err());
        let e = ActionStatus::Done
            .check_move(ActionStatus::Open, Role::Editor)
            .unwrap_err();
        assert!(e.contains("lead"), "{e}");
        assert!(ActionStatus::Open
            .check_move(ActionStatus::InProgress, Role::Viewer)
            .is_err());
    }

    #[test]
    fn decisions_need_rationale_and_conditions_when_conditional() {
        let e = DecisionInput {
            decision: "conditional".into(),
            rationale: " ".into(),
            conditions: String::new(),
        }
        .parse()
        .unwrap_err();
        assert!(e.get("rationale").is_some() && e.get("conditions").is_some());
        assert!(DecisionInput {
            decision: "maybe".into(),
            rationale: "x".into(),
            conditions: String::new()
        }
        .parse()
        .unwrap_err()
        .get("decision")
        .is_some());
        let ok = DecisionInput {
            decision: "no-go".into(),
            rationale: "tests fail".into(),
            conditions: String::new(),
        }
        .parse()
        .unwrap();
        assert_eq!(ok.0, DecisionKind::NoGo);
    }

    #[test]
    fn documents_parse_one_per_line() {
        let d = parse_documents("SDD | DOC-12 | 2.1\n\nUser manual").unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].reference, "DOC-12");
        assert_eq!(d[1].version, "");
        assert!(parse_documents("a|b|c|d").unwrap_err().contains("line 1"));
        assert!(parse_documents(" | x").unwrap_err().contains("title"));
    }
}
