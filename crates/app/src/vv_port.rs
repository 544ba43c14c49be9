//! The storage port of verification and validation (re-exported from `ports`).

use crate::ports::{Journal, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_domain::ids::{
    ActivityId, CaseId, CaseSetId, LinkId, PlanId, ProjectId, ResultId, SnapshotId, UserId,
};
use opensesa_domain::requirements::TraceLink;
use opensesa_domain::vv::snapshot::SnapshotContent;
use opensesa_domain::vv::{Activity, Case, CaseSet, Defect, Plan, TestResult, Verdict};
use serde::Serialize;

/// The latest effective (not superseded) result of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatestResult {
    pub case_id: CaseId,
    pub result_id: ResultId,
    pub verdict: Verdict,
    pub executed_at: DateTime<Utc>,
}

/// A compact case for whole-project work (JUnit mapping, snapshots, coverage).
#[derive(Debug, Clone, Serialize)]
pub struct CaseFact {
    pub id: CaseId,
    pub human_id: String,
    pub title: String,
    pub status: String,
    pub revision: i64,
    pub content_hash: String,
    pub automation_key: String,
    pub activity_id: Option<ActivityId>,
}

/// A case written in a batch: created (human id allocated when empty) or updated
/// optimistically (the stored revision must be `case.revision - 1`, or equal when the content
/// did not change).
#[derive(Debug, Clone)]
pub struct CaseWrite {
    pub case: Case,
    pub create: bool,
    pub content_changed: bool,
}

/// Cases and their trace links, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct CaseBatch {
    pub project_id: Option<ProjectId>,
    pub cases: Vec<CaseWrite>,
    pub add_links: Vec<TraceLink>,
    pub remove_links: Vec<LinkId>,
}

#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub project_id: Option<ProjectId>,
    /// Matches human id, title or automation key.
    pub text: Option<String>,
    pub status: Option<String>,
    pub plan_id: Option<PlanId>,
    pub activity_id: Option<ActivityId>,
    pub set_id: Option<CaseSetId>,
    /// A verdict of the latest result, or `not_run` for cases without one.
    pub verdict: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub case: Case,
    pub latest: Option<LatestResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CasePage {
    pub rows: Vec<CaseRow>,
    pub total: i64,
}

/// A result and, when corrected, the result that superseded it.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRecord {
    pub result: TestResult,
    pub superseded_by: Option<ResultId>,
    pub case_human_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub plan: Plan,
    pub activities: i64,
    pub cases: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetSummary {
    pub set: CaseSet,
    pub cases: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: SnapshotId,
    pub project_id: ProjectId,
    pub human_id: String,
    pub title: String,
    /// plan | set
    pub scope_kind: String,
    pub scope_id: uuid::Uuid,
    pub scope_label: String,
    pub content: SnapshotContent,
    pub content_hash: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// What the V&V dashboard shows, read in a few aggregate queries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DashboardFacts {
    /// Cases per latest verdict (cases without a result are not in it).
    pub verdicts: Vec<(String, i64)>,
    /// Cases that are not retired.
    pub cases: i64,
    /// Results recorded per day and verdict since a date.
    pub daily: Vec<(NaiveDate, String, i64)>,
    /// Open defects per severity.
    pub open_defects: Vec<(String, i64)>,
    /// Requirements proper (not headings, information or obsolete) no case verifies.
    pub requirements_without_case: i64,
}

#[async_trait]
pub trait VvStore: Send + Sync {
    async fn list_plans(&self, project: ProjectId) -> StoreResult<Vec<PlanSummary>>;
    async fn find_plan(&self, project: ProjectId, human_id: &str) -> StoreResult<Option<Plan>>;
    /// Creates a plan (human id allocated) and returns its human id.
    async fn insert_plan(&self, plan: &Plan, journal: &Journal) -> StoreResult<String>;
    /// Optimistic: the stored revision must be `expected_revision`.
    async fn update_plan(
        &self,
        plan: &Plan,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()>;
    async fn plan_activities(&self, plan: PlanId) -> StoreResult<Vec<Activity>>;
    async fn save_activity(
        &self,
        activity: &Activity,
        create: bool,
        journal: &Journal,
    ) -> StoreResult<()>;

    async fn list_cases(&self, query: &CaseQuery) -> StoreResult<CasePage>;
    async fn find_case(&self, project: ProjectId, human_id: &str) -> StoreResult<Option<Case>>;
    async fn find_cases(&self, project: ProjectId, ids: &[CaseId]) -> StoreResult<Vec<Case>>;
    async fn case_facts(&self, project: ProjectId) -> StoreResult<Vec<CaseFact>>;
    /// Writes cases and links in one transaction; links touching a case whose content changed
    /// turn suspect. Returns the human ids of created cases in batch order.
    async fn save_cases(&self, batch: &CaseBatch, journal: &Journal) -> StoreResult<Vec<String>>;

    async fn list_sets(&self, project: ProjectId) -> StoreResult<Vec<SetSummary>>;
    async fn find_set(&self, project: ProjectId, id: CaseSetId) -> StoreResult<Option<CaseSet>>;
    /// The member cases of a set, in order.
    async fn set_members(&self, set: CaseSetId) -> StoreResult<Vec<CaseId>>;
    /// Creates or updates a set and replaces its members.
    async fn save_set(
        &self,
        set: &CaseSet,
        create: bool,
        members: &[CaseId],
        journal: &Journal,
    ) -> StoreResult<()>;

    /// Records results in one transaction (refused when a case is retired or a superseded
    /// result is already superseded) and keeps the latest result per case and the daily counts.
    async fn record_results(&self, results: &[TestResult], journal: &Journal) -> StoreResult<()>;
    async fn find_result(
        &self,
        project: ProjectId,
        id: ResultId,
    ) -> StoreResult<Option<ResultRecord>>;
    /// Results of a case, newest execution first.
    async fn case_results(&self, case: CaseId, limit: i64) -> StoreResult<Vec<ResultRecord>>;
    /// Results of a project recorded most recently first.
    async fn recent_results(
        &self,
        project: ProjectId,
        limit: i64,
    ) -> StoreResult<Vec<ResultRecord>>;
    async fn latest_results(&self, project: ProjectId) -> StoreResult<Vec<LatestResult>>;
    async fn latest_of(&self, cases: &[CaseId]) -> StoreResult<Vec<LatestResult>>;
    /// Full results by id (reports: the latest result of each case of a plan).
    async fn results_by_ids(&self, ids: &[ResultId]) -> StoreResult<Vec<TestResult>>;

    async fn list_defects(&self, project: ProjectId) -> StoreResult<Vec<Defect>>;
    async fn find_defect(&self, project: ProjectId, human_id: &str) -> StoreResult<Option<Defect>>;
    async fn insert_defect(&self, defect: &Defect, journal: &Journal) -> StoreResult<String>;
    async fn update_defect(
        &self,
        defect: &Defect,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()>;

    async fn insert_snapshot(&self, snapshot: &Snapshot, journal: &Journal) -> StoreResult<String>;
    async fn list_snapshots(&self, project: ProjectId) -> StoreResult<Vec<Snapshot>>;
    async fn find_snapshot(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Snapshot>>;

    async fn dashboard(&self, project: ProjectId, since: NaiveDate) -> StoreResult<DashboardFacts>;

    /// Moves a pending import to `applying`; false when it was not pending (applied, being
    /// applied by someone else, or discarded), so two confirmations cannot both apply it.
    async fn claim_import(&self, id: opensesa_domain::ids::ImportId) -> StoreResult<bool>;
}
