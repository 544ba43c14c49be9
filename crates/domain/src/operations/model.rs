//! Readiness items, milestones and dependencies, and the parsing of what a person types into
//! them.

use super::graph::NodeRef;
use super::status::{ItemStatus, MilestoneStatus};
use crate::error::FieldErrors;
use crate::ids::{DependencyId, MilestoneId, OpsItemId, ProjectId, UserId};
use crate::portfolio::{parse_date, parse_description, parse_name};
use crate::revision::Versioned;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The longest planned duration of an item, in days (ten years).
pub const MAX_DURATION_DAYS: i64 = 3_650;

/// A short single-line text (owner, source).
fn parse_line(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must be one line without control characters".into());
    }
    Ok(s.to_owned())
}

/// A planned duration in whole days, 1 to ten years; empty means the default of one day.
pub fn parse_duration(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(1);
    }
    let n: i64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of days"))?;
    if !(1..=MAX_DURATION_DAYS).contains(&n) {
        return Err(format!("must be 1 to {MAX_DURATION_DAYS} days"));
    }
    Ok(n)
}

/// Something that must be done before operations can start: a procedure written, a team
/// trained, a ground station contracted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadinessItem {
    pub id: OpsItemId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub title: String,
    pub description: String,
    /// Who answers for it: a name, an e-mail or a team (free text, as owners are often
    /// outside the project's members).
    pub owner: String,
    pub due_date: Option<NaiveDate>,
    pub status: ItemStatus,
    /// Where the need came from (free text now; impact findings later).
    pub source: String,
    /// Planned duration in days, used by the critical path and the earliest-finish forecast.
    pub duration_days: i64,
    pub revision: i64,
    /// When it was last marked done (cleared when reopened): the burn-down reads it.
    pub done_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for ReadinessItem {
    const ARTEFACT_TYPE: &'static str = "ops_item";
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
            "description": self.description,
            "owner": self.owner,
            "due_date": self.due_date,
            "source": self.source,
            "duration_days": self.duration_days,
        })
    }
}

impl ReadinessItem {
    pub fn blank(project_id: ProjectId, at: DateTime<Utc>) -> Self {
        Self {
            id: OpsItemId::new(),
            project_id,
            human_id: String::new(),
            title: String::new(),
            description: String::new(),
            owner: String::new(),
            due_date: None,
            status: ItemStatus::Open,
            source: String::new(),
            duration_days: 1,
            revision: 1,
            done_at: None,
            created_at: at,
            updated_at: at,
        }
    }
}

/// What a person submits for an item; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ItemInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// YYYY-MM-DD; empty clears it.
    pub due_date: Option<String>,
    pub source: Option<String>,
    pub duration_days: Option<String>,
}

impl ItemInput {
    pub fn apply(&self, i: &mut ReadinessItem, errors: &mut FieldErrors) {
        if let Some(t) = &self.title {
            if let Some(t) = errors.check("title", parse_name(t)) {
                i.title = t;
            }
        }
        if let Some(d) = &self.description {
            if let Some(d) = errors.check("description", parse_description(d)) {
                i.description = d;
            }
        }
        if let Some(o) = &self.owner {
            if let Some(o) = errors.check("owner", parse_line(o, 200)) {
                i.owner = o;
            }
        }
        if let Some(d) = &self.due_date {
            if let Some(d) = errors.check("due_date", parse_date(d)) {
                i.due_date = d;
            }
        }
        if let Some(s) = &self.source {
            if let Some(s) = errors.check("source", parse_line(s, 500)) {
                i.source = s;
            }
        }
        if let Some(d) = &self.duration_days {
            if let Some(d) = errors.check("duration_days", parse_duration(d)) {
                i.duration_days = d;
            }
        }
    }
}

/// A dated event of the operations plan (operational readiness review, launch, handover)
/// whose gating items must all be done before it is achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: MilestoneId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub name: String,
    pub description: String,
    pub target_date: NaiveDate,
    pub status: MilestoneStatus,
    /// The gating criteria: readiness items that must be done, in the order listed.
    pub gates: Vec<OpsItemId>,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Milestone {
    const ARTEFACT_TYPE: &'static str = "ops_milestone";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "human_id": self.human_id,
            "name": self.name,
            "description": self.description,
            "target_date": self.target_date,
            "gates": self.gates,
        })
    }
}

/// What a person submits for a milestone; `None` leaves a field unchanged. Gating items are
/// resolved from human ids by the use case.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MilestoneInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub target_date: Option<String>,
}

impl MilestoneInput {
    pub fn apply(&self, m: &mut Milestone, errors: &mut FieldErrors) {
        if let Some(t) = &self.name {
            if let Some(t) = errors.check("name", parse_name(t)) {
                m.name = t;
            }
        }
        if let Some(d) = &self.description {
            if let Some(d) = errors.check("description", parse_description(d)) {
                m.description = d;
            }
        }
        if let Some(d) = &self.target_date {
            match errors.check("target_date", parse_date(d)) {
                Some(Some(d)) => m.target_date = d,
                Some(None) => errors.add("target_date", "is required"),
                None => {}
            }
        }
    }
}

/// A finish-to-start dependency: `successor` cannot start before `predecessor` is finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub id: DependencyId,
    pub project_id: ProjectId,
    pub predecessor: NodeRef,
    pub successor: NodeRef,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_input_names_fields() {
        let mut i = ReadinessItem::blank(ProjectId::new(), Utc::now());
        let mut errors = FieldErrors::new();
        ItemInput {
            title: Some(" ".into()),
            owner: Some("a\nb".into()),
            due_date: Some("tomorrow".into()),
            duration_days: Some("0".into()),
            ..Default::default()
        }
        .apply(&mut i, &mut errors);
        for f in ["title", "owner", "due_date", "duration_days"] {
            assert!(errors.get(f).is_some(), "{f}: {errors}");
        }
        assert_eq!(parse_duration("").unwrap(), 1);
        assert_eq!(parse_duration(" 12 ").unwrap(), 12);
        assert!(parse_duration("1.5").unwrap_err().contains("whole number"));
        assert!(parse_duration("4000").is_err());
    }

    #[test]
    fn milestone_needs_a_target_date() {
        let mut m = Milestone {
            id: MilestoneId::new(),
            project_id: ProjectId::new(),
            human_id: String::new(),
            name: "x".into(),
            description: String::new(),
            target_date: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            status: MilestoneStatus::Planned,
            gates: vec![],
            revision: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let mut errors = FieldErrors::new();
        MilestoneInput {
            target_date: Some("".into()),
            ..Default::default()
        }
        .apply(&mut m, &mut errors);
        assert_eq!(errors.get("target_date").unwrap()[0], "is required");
    }
}
