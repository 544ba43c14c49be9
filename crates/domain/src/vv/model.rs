//! Plans, activities, cases, sets, results, evidence and defects, and the parsing of what a
//! person types into them.

use super::status::{CaseStatus, DefectStatus, PlanStatus, Severity, Verdict};
use crate::error::FieldErrors;
use crate::ids::{
    ActivityId, CaseId, CaseSetId, DefectId, ModuleId, PlanId, ProjectId, ResultId, RunId, UserId,
};
use crate::portfolio::{parse_date, parse_description, parse_name};
use crate::requirements::model::VerificationMethod;
use crate::revision::Versioned;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Longest free text (preconditions, notes, step texts): generous, bounded.
pub const MAX_TEXT: usize = 20_000;
/// Most steps in one case.
pub const MAX_STEPS: usize = 500;

fn parse_text(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim().replace("\r\n", "\n");
    if s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok(s)
}

/// A short single-line text (organisation, phase, configuration, automation key).
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub title: String,
    pub description: String,
    /// The requirement modules whose requirements the plan sets out to verify.
    pub scope_modules: Vec<ModuleId>,
    pub status: PlanStatus,
    pub revision: i64,
    pub approved_by: Option<UserId>,
    pub approved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Plan {
    const ARTEFACT_TYPE: &'static str = "vv_plan";
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
            "scope_modules": self.scope_modules,
        })
    }
}

/// What a person submits for a plan; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PlanInput {
    pub title: Option<String>,
    pub description: Option<String>,
}

impl PlanInput {
    pub fn apply(&self, p: &mut Plan, errors: &mut FieldErrors) {
        if let Some(t) = &self.title {
            if let Some(t) = errors.check("title", parse_name(t)) {
                p.title = t;
            }
        }
        if let Some(d) = &self.description {
            if let Some(d) = errors.check("description", parse_description(d)) {
                p.description = d;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub plan_id: PlanId,
    pub title: String,
    /// The life-cycle phase it belongs to (free text: "integration", "qualification", ...).
    pub phase: String,
    pub method: VerificationMethod,
    pub planned_start: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    pub organisation: String,
    pub ordinal: i64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ActivityInput {
    pub title: Option<String>,
    pub phase: Option<String>,
    pub method: Option<String>,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    pub organisation: Option<String>,
}

impl ActivityInput {
    pub fn apply(&self, a: &mut Activity, errors: &mut FieldErrors) {
        if let Some(t) = &self.title {
            if let Some(t) = errors.check("title", parse_name(t)) {
                a.title = t;
            }
        }
        if let Some(t) = &self.phase {
            if let Some(t) = errors.check("phase", parse_line(t, 100)) {
                a.phase = t;
            }
        }
        if let Some(m) = &self.method {
            if let Some(m) = errors.check("method", VerificationMethod::parse(m)) {
                a.method = m;
            }
        }
        if let Some(d) = &self.planned_start {
            if let Some(d) = errors.check("planned_start", parse_date(d)) {
                a.planned_start = d;
            }
        }
        if let Some(d) = &self.planned_end {
            if let Some(d) = errors.check("planned_end", parse_date(d)) {
                a.planned_end = d;
            }
        }
        if let Some(t) = &self.organisation {
            if let Some(t) = errors.check("organisation", parse_line(t, 200)) {
                a.organisation = t;
            }
        }
        if let (Some(s), Some(e)) = (a.planned_start, a.planned_end) {
            if e < s {
                errors.add("planned_end", "is before the planned start");
            }
        }
    }
}

/// One step of a case: what to do and what should happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub action: String,
    pub expected: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub title: String,
    pub method: VerificationMethod,
    pub preconditions: String,
    pub steps: Vec<Step>,
    pub expected: String,
    /// The name an automated test reports (JUnit `classname::name`, or a part of it), used
    /// to map imported results to this case; empty when none.
    pub automation_key: String,
    /// The plan activity the case is allocated to, if any.
    pub activity_id: Option<ActivityId>,
    pub status: CaseStatus,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Case {
    const ARTEFACT_TYPE: &'static str = "vv_case";
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
            "method": self.method,
            "preconditions": self.preconditions,
            "steps": self.steps,
            "expected": self.expected,
            "automation_key": self.automation_key,
            "activity_id": self.activity_id,
        })
    }
}

impl Case {
    pub fn blank(project_id: ProjectId, at: DateTime<Utc>) -> Self {
        Self {
            id: CaseId::new(),
            project_id,
            human_id: String::new(),
            title: String::new(),
            method: VerificationMethod::Test,
            preconditions: String::new(),
            steps: Vec::new(),
            expected: String::new(),
            automation_key: String::new(),
            activity_id: None,
            status: CaseStatus::Draft,
            revision: 1,
            created_at: at,
            updated_at: at,
        }
    }
}

/// What a person submits for a case. Steps come as text, one per line, `action => expected`
/// (the form), or as a list (the API); `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CaseInput {
    pub title: Option<String>,
    pub method: Option<String>,
    pub preconditions: Option<String>,
    pub steps: Option<Vec<Step>>,
    pub steps_text: Option<String>,
    pub expected: Option<String>,
    pub automation_key: Option<String>,
}

/// Parses steps typed one per line as `action => expected` (the expected part optional).
pub fn parse_steps_text(raw: &str) -> Result<Vec<Step>, String> {
    raw.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once("=>") {
            Some((a, e)) => Step {
                action: a.trim().to_owned(),
                expected: e.trim().to_owned(),
            },
            None => Step {
                action: l.to_owned(),
                expected: String::new(),
            },
        })
        .map(Ok)
        .collect::<Result<Vec<_>, String>>()
        .and_then(check_steps)
}

/// Steps as one line each, the form's text.
pub fn steps_text(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| {
            if s.expected.is_empty() {
                s.action.clone()
            } else {
                format!("{} => {}", s.action, s.expected)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_steps(steps: Vec<Step>) -> Result<Vec<Step>, String> {
    if steps.len() > MAX_STEPS {
        return Err(format!("has more than {MAX_STEPS} steps"));
    }
    steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let action =
                parse_text(&s.action, 2_000).map_err(|e| format!("step {}: action {e}", i + 1))?;
            if action.is_empty() {
                return Err(format!("step {}: the action is empty", i + 1));
            }
            let expected = parse_text(&s.expected, 2_000)
                .map_err(|e| format!("step {}: expected result {e}", i + 1))?;
            Ok(Step { action, expected })
        })
        .collect()
}

impl CaseInput {
    pub fn apply(&self, c: &mut Case, errors: &mut FieldErrors) {
        if let Some(t) = &self.title {
            if let Some(t) = errors.check("title", parse_name(t)) {
                c.title = t;
            }
        }
        if let Some(m) = &self.method {
            if let Some(m) = errors.check("method", VerificationMethod::parse(m)) {
                c.method = m;
            }
        }
        if let Some(t) = &self.preconditions {
            if let Some(t) = errors.check("preconditions", parse_text(t, MAX_TEXT)) {
                c.preconditions = t;
            }
        }
        if let Some(steps) = &self.steps {
            if let Some(s) = errors.check("steps", check_steps(steps.clone())) {
                c.steps = s;
            }
        } else if let Some(t) = &self.steps_text {
            if let Some(s) = errors.check("steps", parse_steps_text(t)) {
                c.steps = s;
            }
        }
        if let Some(t) = &self.expected {
            if let Some(t) = errors.check("expected", parse_text(t, MAX_TEXT)) {
                c.expected = t;
            }
        }
        if let Some(t) = &self.automation_key {
            if let Some(t) = errors.check("automation_key", parse_line(t, 500)) {
                c.automation_key = t;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSet {
    pub id: CaseSetId,
    pub project_id: ProjectId,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// A file attached to a result as evidence: the stored blob's checksum, size and detected
/// type, and the name it was uploaded under (shown, never used as a path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
}

/// The outcome of one step in a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    /// 1-based index into the case's steps at the revision executed.
    pub step: usize,
    pub verdict: Verdict,
    pub note: String,
}

/// An execution result: immutable once recorded. A correction is a new result that names
/// the one it supersedes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub id: ResultId,
    pub project_id: ProjectId,
    pub case_id: CaseId,
    /// The case revision that was executed.
    pub case_revision: i64,
    /// Results recorded together (a set run, an import) share a run.
    pub run_id: Option<RunId>,
    pub set_id: Option<CaseSetId>,
    pub verdict: Verdict,
    pub steps: Vec<StepResult>,
    pub executor: String,
    pub executed_at: DateTime<Utc>,
    /// The configuration under test, as text.
    pub configuration: String,
    /// The baseline under test, when baselines exist.
    pub baseline_id: Option<uuid::Uuid>,
    pub notes: String,
    pub evidence: Vec<Evidence>,
    pub supersedes: Option<ResultId>,
    pub supersede_reason: String,
    /// manual | junit
    pub source: String,
    pub recorded_by: Option<UserId>,
    pub recorded_at: DateTime<Utc>,
}

/// Validates the free fields of a result as typed.
pub fn parse_result_fields(
    configuration: &str,
    notes: &str,
    executor: &str,
    errors: &mut FieldErrors,
) -> (String, String, String) {
    let configuration = errors
        .check("configuration", parse_line(configuration, 500))
        .unwrap_or_default();
    let notes = errors
        .check("notes", parse_text(notes, MAX_TEXT))
        .unwrap_or_default();
    let executor = errors
        .check("executor", parse_line(executor, 200))
        .unwrap_or_default();
    (configuration, notes, executor)
}

/// A reason a person gives (supersede, override, unlock): required, bounded.
pub fn parse_reason(raw: &str) -> Result<String, String> {
    let s = parse_text(raw, 2_000)?;
    if s.is_empty() {
        return Err("is required".into());
    }
    Ok(s)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Defect {
    pub id: DefectId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: DefectStatus,
    pub revision: i64,
    /// Results, cases and requirements it concerns (ids).
    pub results: Vec<ResultId>,
    pub cases: Vec<CaseId>,
    pub requirements: Vec<crate::ids::RequirementId>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Defect {
    const ARTEFACT_TYPE: &'static str = "vv_defect";
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
            "severity": self.severity,
            "results": self.results,
            "cases": self.cases,
            "requirements": self.requirements,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DefectInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Option<String>,
}

impl DefectInput {
    pub fn apply(&self, d: &mut Defect, errors: &mut FieldErrors) {
        if let Some(t) = &self.title {
            if let Some(t) = errors.check("title", parse_name(t)) {
                d.title = t;
            }
        }
        if let Some(t) = &self.description {
            if let Some(t) = errors.check("description", parse_text(t, MAX_TEXT)) {
                d.description = t;
            }
        }
        if let Some(s) = &self.severity {
            if let Some(s) = errors.check("severity", Severity::parse(s)) {
                d.severity = s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_from_text() {
        let s =
            parse_steps_text("Power on => LED green\n\n  Send TC-1 =>  ack \nWait 5 s").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].expected, "LED green");
        assert_eq!(s[1].action, "Send TC-1");
        assert_eq!(s[2].expected, "");
        assert_eq!(parse_steps_text(&steps_text(&s)).unwrap(), s);
        let e = parse_steps_text("=> only expected").unwrap_err();
        assert_eq!(e, "step 1: the action is empty");
    }

    #[test]
    fn case_input_names_fields() {
        let mut c = Case::blank(ProjectId::new(), Utc::now());
        let mut errors = FieldErrors::new();
        CaseInput {
            title: Some(" ".into()),
            method: Some("guess".into()),
            automation_key: Some("a\nb".into()),
            ..Default::default()
        }
        .apply(&mut c, &mut errors);
        assert!(errors.get("title").is_some());
        assert!(errors.get("method").is_some());
        assert!(errors.get("automation_key").is_some());
    }

    #[test]
    fn activity_dates_ordered() {
        let mut a = Activity {
            id: ActivityId::new(),
            plan_id: PlanId::new(),
            title: "x".into(),
            phase: String::new(),
            method: VerificationMethod::Test,
            planned_start: None,
            planned_end: None,
            organisation: String::new(),
            ordinal: 0,
        };
        let mut errors = FieldErrors::new();
        ActivityInput {
            planned_start: Some("2026-05-02".into()),
            planned_end: Some("2026-05-01".into()),
            ..Default::default()
        }
        .apply(&mut a, &mut errors);
        assert_eq!(
            errors.get("planned_end").unwrap()[0],
            "is before the planned start"
        );
    }

    #[test]
    fn reason_required() {
        assert!(parse_reason("  ").is_err());
        assert_eq!(
            parse_reason(" typo in verdict ").unwrap(),
            "typo in verdict"
        );
    }
}
