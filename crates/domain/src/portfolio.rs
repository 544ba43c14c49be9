//! Portfolio: programs, projects, phases, delivery organisations and project memberships.

use crate::access::Role;
use crate::error::{FieldErrors, ValidationError};
use crate::ids::{OrganisationId, PhaseId, ProgramId, ProjectId, UserId};
use crate::revision::Versioned;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A short code used in URLs and human ids: `A-Z`, `0-9`, `-`, `_`, 2–20 characters, starting
/// with a letter. Lower case input is upper-cased.
pub fn parse_code(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_uppercase();
    if s.is_empty() {
        return Err("is required".into());
    }
    if s.len() < 2 || s.len() > 20 {
        return Err("must be 2 to 20 characters".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err("must start with a letter".into());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("may contain only letters, digits, '-' and '_'".into());
    }
    Ok(s)
}

pub fn parse_name(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("is required".into());
    }
    if s.chars().count() > 200 {
        return Err("is longer than 200 characters".into());
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(s.to_owned())
}

pub fn parse_description(raw: &str) -> Result<String, String> {
    if raw.chars().count() > 20_000 {
        return Err("is longer than 20000 characters".into());
    }
    Ok(raw.trim().replace("\r\n", "\n"))
}

pub fn parse_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("{s:?} is not a date in the form YYYY-MM-DD"))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub id: ProgramId,
    pub code: String,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Active,
    Archived,
}

impl ProjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "active",
            ProjectStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "active" => Ok(Self::Active),
            "archived" => Ok(Self::Archived),
            other => Err(format!(
                "unknown status {other:?}; expected active or archived"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub code: String,
    pub name: String,
    pub description: String,
    pub program_id: Option<ProgramId>,
    pub status: ProjectStatus,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Project {
    const ARTEFACT_TYPE: &'static str = "project";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "program_id": self.program_id,
            "status": self.status,
        })
    }
}

/// The fields a person sets on a project; parsed from a form or an API body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub program: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub id: PhaseId,
    pub project_id: ProjectId,
    pub ordinal: i64,
    pub name: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub revision: i64,
}

impl Versioned for Phase {
    const ARTEFACT_TYPE: &'static str = "phase";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "ordinal": self.ordinal,
            "name": self.name,
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PhaseInput {
    pub name: Option<String>,
    pub ordinal: Option<i64>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
}

/// Validated phase fields.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseFields {
    pub name: String,
    pub ordinal: Option<i64>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

impl PhaseInput {
    pub fn parse(&self) -> Result<PhaseFields, ValidationError> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", parse_name(self.name.as_deref().unwrap_or_default()));
        let starts_on = errors.check(
            "starts_on",
            parse_date(self.starts_on.as_deref().unwrap_or_default()),
        );
        let ends_on = errors.check(
            "ends_on",
            parse_date(self.ends_on.as_deref().unwrap_or_default()),
        );
        if let Some(o) = self.ordinal {
            if !(1..=1000).contains(&o) {
                errors.add("ordinal", "must be between 1 and 1000");
            }
        }
        if let (Some(Some(s)), Some(Some(e))) = (starts_on, ends_on) {
            if e < s {
                errors.add("ends_on", "must not be before starts_on");
            }
        }
        errors.into_result()?;
        Ok(PhaseFields {
            name: name.unwrap_or_default(),
            ordinal: self.ordinal,
            starts_on: starts_on.flatten(),
            ends_on: ends_on.flatten(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub created_at: DateTime<Utc>,
}

impl Membership {
    pub fn snapshot(&self) -> Value {
        json!({ "role": self.role, "organisation_id": self.organisation_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(parse_code(" sat-1 "), Ok("SAT-1".into()));
        for bad in ["", "A", "1ABC", "AB CD", "ÄB", &"A".repeat(21)] {
            assert!(parse_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phase_dates_are_checked() {
        let p = PhaseInput {
            name: Some("Design".into()),
            ordinal: Some(2),
            starts_on: Some("2026-02-01".into()),
            ends_on: Some("2026-01-01".into()),
        };
        let err = p.parse().unwrap_err();
        assert!(err.0.get("ends_on").is_some());
        let bad = PhaseInput {
            name: None,
            starts_on: Some("02/01/2026".into()),
            ..Default::default()
        };
        let err = bad.parse().unwrap_err();
        assert!(err.0.get("name").is_some() && err.0.get("starts_on").is_some());
        let ok = PhaseInput {
            name: Some("Build".into()),
            ..Default::default()
        }
        .parse();
        assert_eq!(ok.map(|f| f.name), Ok("Build".to_owned()));
    }
}
