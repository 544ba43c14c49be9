//! Row types of the V&V tables and their conversion to domain records.

use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::ports::{LatestResult, Snapshot, StoreError, StoreResult};
use opensesa_domain::ids::*;
use opensesa_domain::requirements::VerificationMethod;
use opensesa_domain::vv::snapshot::SnapshotContent;
use opensesa_domain::vv::{
    Activity, Case, CaseSet, CaseStatus, Defect, DefectStatus, Evidence, Plan, PlanStatus,
    Severity, Step, StepResult, TestResult, Verdict,
};
use sqlx::types::Json;
use uuid::Uuid;

fn corrupt(what: &str, e: String) -> StoreError {
    StoreError::Backend(format!("stored {what} is not valid: {e}").into())
}

pub const PLAN_COLS: &str =
    "id, project_id, human_id, title, description, scope_modules, status, revision, \
     approved_by, approved_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct PlanRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    title: String,
    description: String,
    scope_modules: Json<Vec<ModuleId>>,
    status: String,
    revision: i64,
    approved_by: Option<Uuid>,
    approved_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PlanRow> for Plan {
    type Error = StoreError;
    fn try_from(r: PlanRow) -> StoreResult<Self> {
        Ok(Plan {
            id: PlanId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            title: r.title,
            description: r.description,
            scope_modules: r.scope_modules.0,
            status: PlanStatus::parse(&r.status).map_err(|e| corrupt("plan status", e))?,
            revision: r.revision,
            approved_by: r.approved_by.map(UserId),
            approved_at: r.approved_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const ACTIVITY_COLS: &str =
    "id, plan_id, title, phase, method, planned_start, planned_end, organisation, ordinal";

#[derive(sqlx::FromRow)]
pub struct ActivityRow {
    id: Uuid,
    plan_id: Uuid,
    title: String,
    phase: String,
    method: String,
    planned_start: Option<NaiveDate>,
    planned_end: Option<NaiveDate>,
    organisation: String,
    ordinal: i64,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = StoreError;
    fn try_from(r: ActivityRow) -> StoreResult<Self> {
        Ok(Activity {
            id: ActivityId(r.id),
            plan_id: PlanId(r.plan_id),
            title: r.title,
            phase: r.phase,
            method: VerificationMethod::parse(&r.method).map_err(|e| corrupt("method", e))?,
            planned_start: r.planned_start,
            planned_end: r.planned_end,
            organisation: r.organisation,
            ordinal: r.ordinal,
        })
    }
}

pub const CASE_COLS: &str =
    "id, project_id, human_id, title, method, preconditions, steps, expected, \
     automation_key, activity_id, status, revision, created_at, updated_at";

pub fn case_cols(alias: &str) -> String {
    CASE_COLS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
pub struct CaseRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    title: String,
    method: String,
    preconditions: String,
    steps: Json<Vec<Step>>,
    expected: String,
    automation_key: String,
    activity_id: Option<Uuid>,
    status: String,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CaseRow> for Case {
    type Error = StoreError;
    fn try_from(r: CaseRow) -> StoreResult<Self> {
        Ok(Case {
            id: CaseId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            title: r.title,
            method: VerificationMethod::parse(&r.method).map_err(|e| corrupt("method", e))?,
            preconditions: r.preconditions,
            steps: r.steps.0,
            expected: r.expected,
            automation_key: r.automation_key,
            activity_id: r.activity_id.map(ActivityId),
            status: CaseStatus::parse(&r.status).map_err(|e| corrupt("case status", e))?,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct LatestRow {
    pub case_id: Uuid,
    pub result_id: Uuid,
    pub verdict: String,
    pub executed_at: DateTime<Utc>,
}

impl TryFrom<LatestRow> for LatestResult {
    type Error = StoreError;
    fn try_from(r: LatestRow) -> StoreResult<Self> {
        Ok(LatestResult {
            case_id: CaseId(r.case_id),
            result_id: ResultId(r.result_id),
            verdict: Verdict::parse(&r.verdict).map_err(|e| corrupt("verdict", e))?,
            executed_at: r.executed_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct SetRow {
    id: Uuid,
    project_id: Uuid,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl From<SetRow> for CaseSet {
    fn from(r: SetRow) -> Self {
        CaseSet {
            id: CaseSetId(r.id),
            project_id: ProjectId(r.project_id),
            name: r.name,
            description: r.description,
            created_at: r.created_at,
        }
    }
}

pub const RESULT_COLS: &str = "id, project_id, case_id, case_revision, run_id, set_id, verdict, steps, executor, \
     executed_at, configuration, baseline_id, notes, evidence, supersedes_id, supersede_reason, source, recorded_by, \
     recorded_at";

pub fn result_cols(alias: &str) -> String {
    RESULT_COLS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
pub struct ResultRow {
    id: Uuid,
    project_id: Uuid,
    case_id: Uuid,
    case_revision: i64,
    run_id: Option<Uuid>,
    set_id: Option<Uuid>,
    verdict: String,
    steps: Json<Vec<StepResult>>,
    executor: String,
    executed_at: DateTime<Utc>,
    configuration: String,
    baseline_id: Option<Uuid>,
    notes: String,
    evidence: Json<Vec<Evidence>>,
    supersedes_id: Option<Uuid>,
    supersede_reason: String,
    source: String,
    recorded_by: Option<Uuid>,
    recorded_at: DateTime<Utc>,
}

impl TryFrom<ResultRow> for TestResult {
    type Error = StoreError;
    fn try_from(r: ResultRow) -> StoreResult<Self> {
        Ok(TestResult {
            id: ResultId(r.id),
            project_id: ProjectId(r.project_id),
            case_id: CaseId(r.case_id),
            case_revision: r.case_revision,
            run_id: r.run_id.map(RunId),
            set_id: r.set_id.map(CaseSetId),
            verdict: Verdict::parse(&r.verdict).map_err(|e| corrupt("verdict", e))?,
            steps: r.steps.0,
            executor: r.executor,
            executed_at: r.executed_at,
            configuration: r.configuration,
            baseline_id: r.baseline_id,
            notes: r.notes,
            evidence: r.evidence.0,
            supersedes: r.supersedes_id.map(ResultId),
            supersede_reason: r.supersede_reason,
            source: r.source,
            recorded_by: r.recorded_by.map(UserId),
            recorded_at: r.recorded_at,
        })
    }
}

pub const DEFECT_COLS: &str =
    "id, project_id, human_id, title, description, severity, status, revision, results, \
     cases, requirements, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct DefectRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    title: String,
    description: String,
    severity: String,
    status: String,
    revision: i64,
    results: Json<Vec<ResultId>>,
    cases: Json<Vec<CaseId>>,
    requirements: Json<Vec<RequirementId>>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<DefectRow> for Defect {
    type Error = StoreError;
    fn try_from(r: DefectRow) -> StoreResult<Self> {
        Ok(Defect {
            id: DefectId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            title: r.title,
            description: r.description,
            severity: Severity::parse(&r.severity).map_err(|e| corrupt("severity", e))?,
            status: DefectStatus::parse(&r.status).map_err(|e| corrupt("defect status", e))?,
            revision: r.revision,
            results: r.results.0,
            cases: r.cases.0,
            requirements: r.requirements.0,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const SNAPSHOT_COLS: &str =
    "id, project_id, human_id, title, scope_kind, scope_id, scope_label, content, \
     content_hash, created_by, created_at";

#[derive(sqlx::FromRow)]
pub struct SnapshotRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    title: String,
    scope_kind: String,
    scope_id: Uuid,
    scope_label: String,
    content: Json<SnapshotContent>,
    content_hash: String,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl From<SnapshotRow> for Snapshot {
    fn from(r: SnapshotRow) -> Self {
        Snapshot {
            id: SnapshotId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            title: r.title,
            scope_kind: r.scope_kind,
            scope_id: r.scope_id,
            scope_label: r.scope_label,
            content: r.content.0,
            content_hash: r.content_hash,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
        }
    }
}
