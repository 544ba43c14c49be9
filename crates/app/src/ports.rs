//! The ports: what the use cases need from the outside world. Adapters live in `store`
//! (SQLite, PostgreSQL, Redis); the app never names a database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opensesa_domain::access::Role;
use opensesa_domain::accounts::model::{ApiToken, Session, User};
use opensesa_domain::accounts::Email;
use opensesa_domain::audit::{Action, AuditEvent};
use opensesa_domain::ids::JobId;
use opensesa_domain::ids::{OrganisationId, PhaseId, ProgramId, ProjectId, TokenId, UserId};
use opensesa_domain::jobs::{Heartbeat, Job, JobState, NewJob};
use opensesa_domain::portfolio::{Membership, Organisation, Phase, Program, Project};
use opensesa_domain::revision::Revision;
use std::time::Duration;

pub use crate::baseline_port::*;
pub use crate::operations_port::*;
pub use crate::requirement_port::*;
pub use crate::vv_port::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key rule refused the write; the text names the constraint.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The audit events, revisions and jobs that a mutation writes in the same transaction as its
/// data: no change without its trail, and no job for a change that rolled back.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    pub events: Vec<AuditEvent>,
    pub revisions: Vec<Revision>,
    pub jobs: Vec<NewJob>,
}

impl Journal {
    pub fn event(event: AuditEvent) -> Self {
        Self {
            events: vec![event],
            ..Self::default()
        }
    }

    pub fn with_revision(mut self, revision: Revision) -> Self {
        self.revisions.push(revision);
        self
    }

    pub fn with_job(mut self, job: NewJob) -> Self {
        self.jobs.push(job);
        self
    }
}

/// Which failures an authentication limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    Account,
    Address,
}

impl LimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Account => "account",
            LimitScope::Address => "address",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub project_id: Option<ProjectId>,
    pub actor: Option<String>,
    pub action: Option<Action>,
    pub artefact_type: Option<String>,
    pub artefact_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// A project as seen by one user: the project and the user's role in it (`None` for a site
/// admin who is not a member).
#[derive(Debug, Clone)]
pub struct ProjectWithRole {
    pub project: Project,
    pub role: Option<Role>,
}

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub membership: Membership,
    pub user: User,
    pub organisation: Option<Organisation>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn count_users(&self) -> StoreResult<i64>;
    async fn find_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn insert_user(&self, user: &User, journal: &Journal) -> StoreResult<()>;
    /// Saves every column of the user (profile, flags, password hash, TOTP state).
    async fn update_user(&self, user: &User, journal: &Journal) -> StoreResult<()>;
    /// Replaces the recovery codes of a user (hashes only).
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        hashes: &[String],
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Marks one unused recovery code as used; false when there was none with that hash.
    async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn count_unused_recovery_codes(&self, user: UserId) -> StoreResult<i64>;
    /// Records `step` as the last accepted TOTP step if it is newer than the stored one;
    /// false when it is not (a replay). Atomic, so two requests cannot both win.
    async fn advance_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;

    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// The session and its user in one round trip (the per-request lookup).
    async fn find_session_user(&self, id_hash: &str) -> StoreResult<Option<(Session, User)>>;
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn set_session_project(
        &self,
        id_hash: &str,
        project: Option<ProjectId>,
    ) -> StoreResult<()>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Ends every session of a user except `keep`; returns the ended sessions' hashes.
    async fn delete_user_sessions(
        &self,
        user: UserId,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>>;
    async fn list_user_sessions(&self, user: UserId) -> StoreResult<Vec<Session>>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    async fn record_auth_failure(
        &self,
        scope: LimitScope,
        key: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Failures since `since`: their count and the time of the latest.
    async fn auth_failures(
        &self,
        scope: LimitScope,
        key: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<(i64, Option<DateTime<Utc>>)>;
    async fn clear_auth_failures(&self, scope: LimitScope, key: &str) -> StoreResult<()>;
    async fn prune_auth_failures(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    async fn insert_token(&self, token: &ApiToken, journal: &Journal) -> StoreResult<()>;
    async fn find_token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    async fn revoke_token(
        &self,
        id: TokenId,
        user: UserId,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool>;
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()>;
}

#[async_trait]
pub trait PortfolioStore: Send + Sync {
    async fn list_programs(&self) -> StoreResult<Vec<Program>>;
    async fn find_program_by_code(&self, code: &str) -> StoreResult<Option<Program>>;
    async fn find_program(&self, id: ProgramId) -> StoreResult<Option<Program>>;
    async fn insert_program(&self, program: &Program, journal: &Journal) -> StoreResult<()>;

    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    async fn list_projects_for_user(&self, user: UserId) -> StoreResult<Vec<ProjectWithRole>>;
    async fn find_project_by_code(&self, code: &str) -> StoreResult<Option<Project>>;
    async fn find_project(&self, id: ProjectId) -> StoreResult<Option<Project>>;
    /// A project by code with `user`'s role in it (`None`: not a member), in one round trip.
    async fn find_project_for_user(
        &self,
        code: &str,
        user: UserId,
    ) -> StoreResult<Option<(Project, Option<Role>)>>;
    async fn insert_project(&self, project: &Project, journal: &Journal) -> StoreResult<()>;
    /// Saves the project if its stored revision is `project.revision - 1`; `Conflict` when
    /// someone saved in between (optimistic concurrency, no lost write).
    async fn update_project(&self, project: &Project, journal: &Journal) -> StoreResult<()>;

    async fn list_phases(&self, project: ProjectId) -> StoreResult<Vec<Phase>>;
    async fn find_phase(&self, project: ProjectId, id: PhaseId) -> StoreResult<Option<Phase>>;
    async fn insert_phase(&self, phase: &Phase, journal: &Journal) -> StoreResult<()>;
    async fn update_phase(&self, phase: &Phase, journal: &Journal) -> StoreResult<()>;
    async fn delete_phase(
        &self,
        project: ProjectId,
        id: PhaseId,
        journal: &Journal,
    ) -> StoreResult<()>;

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>>;
    async fn find_organisation(&self, id: OrganisationId) -> StoreResult<Option<Organisation>>;
    async fn find_organisation_by_code(&self, code: &str) -> StoreResult<Option<Organisation>>;
    async fn insert_organisation(&self, org: &Organisation, journal: &Journal) -> StoreResult<()>;

    async fn list_members(&self, project: ProjectId) -> StoreResult<Vec<MemberRow>>;
    async fn find_membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<Option<Membership>>;
    async fn upsert_membership(
        &self,
        membership: &Membership,
        journal: &Journal,
    ) -> StoreResult<()>;
    async fn delete_membership(
        &self,
        project: ProjectId,
        user: UserId,
        journal: &Journal,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Writes events and revisions that belong to no other write (logins, logouts).
    async fn append_journal(&self, journal: &Journal) -> StoreResult<()>;
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
    async fn count_audit(&self, query: &AuditQuery) -> StoreResult<i64>;
    async fn list_revisions(
        &self,
        artefact_type: &str,
        artefact_id: &str,
    ) -> StoreResult<Vec<Revision>>;
}

/// Schema level as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    pub applied: Vec<i64>,
    /// Versions the binary knows but the database has not applied.
    pub pending: Vec<i64>,
    /// Versions the database has applied but the binary does not know (a newer binary ran).
    pub unknown: Vec<i64>,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// A cheap round trip to the database.
    async fn ping(&self) -> StoreResult<()>;
    async fn schema_status(&self) -> StoreResult<SchemaStatus>;
    fn backend_name(&self) -> &'static str;
}

/// Per queue: jobs ready now, scheduled for later, running, dead, and the oldest ready one.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    pub queue: String,
    pub ready: i64,
    pub scheduled: i64,
    pub running: i64,
    pub dead: i64,
    pub oldest_ready: Option<DateTime<Utc>>,
}

/// The job queue. Enqueueing is part of `Journal` (same transaction as the data change);
/// `enqueue` is for jobs that belong to no other write.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Inserts the job unless a pending job has the same deduplication key; true if inserted.
    async fn enqueue(&self, job: &NewJob, journal: &Journal) -> StoreResult<bool>;
    /// Takes the next ready job of `queues` (priority, then age) for `worker`, with a lease.
    /// Concurrent claimers never get the same job.
    async fn claim_job(
        &self,
        worker: &str,
        queues: &[String],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Job>>;
    /// Extends the lease while `worker` still holds the job; false when it lost it.
    async fn extend_lease(
        &self,
        id: JobId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn report_progress(
        &self,
        id: JobId,
        worker: &str,
        percent: i64,
        message: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        result: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Records a failure: pending again at `retry_at`, or dead when `retry_at` is `None`.
    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Puts the running jobs of `worker` back in the queue (a clean shutdown); the attempt
    /// they were on is not counted.
    async fn release_jobs(&self, worker: &str, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Jobs whose lease expired (their worker died) become pending again, or dead when they
    /// used every attempt.
    async fn reap_expired_leases(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    async fn find_job(&self, id: JobId) -> StoreResult<Option<Job>>;
    /// Newest first.
    async fn list_jobs(
        &self,
        states: &[JobState],
        failed_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Job>>;
    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<Vec<QueueStats>>;
    /// A dead job back to pending with a fresh set of attempts.
    async fn retry_job(
        &self,
        id: JobId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool>;
    async fn discard_job(
        &self,
        id: JobId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool>;
    async fn delete_finished_jobs(
        &self,
        succeeded_before: DateTime<Utc>,
        failed_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Enqueues `job` if the periodic `kind` has not been scheduled for `period` yet (by any
    /// worker); atomic, so several workers enqueue it once.
    async fn schedule_period(&self, kind: &str, period: i64, job: &NewJob) -> StoreResult<bool>;
    async fn upsert_heartbeat(&self, heartbeat: &Heartbeat) -> StoreResult<()>;
    async fn list_heartbeats(&self) -> StoreResult<Vec<Heartbeat>>;
    async fn delete_heartbeats(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Everything the app needs from its database.
pub trait Store:
    AccountStore
    + PortfolioStore
    + AuditStore
    + HealthStore
    + JobStore
    + RequirementStore
    + VvStore
    + BaselineStore
    + OpsStore
{
}
impl<T> Store for T where
    T: AccountStore
        + PortfolioStore
        + AuditStore
        + HealthStore
        + JobStore
        + RequirementStore
        + VvStore
        + BaselineStore
        + OpsStore
{
}

/// Wake-ups for workers when jobs are enqueued (PostgreSQL NOTIFY, Redis, in-process). A
/// worker also polls, so a lost wake-up only delays a job.
#[async_trait]
pub trait JobWakeups: Send + Sync {
    /// Returns when a job may be ready, or after `max`.
    async fn wait(&self, max: Duration);
}

/// An optional cache of sessions shared by app replicas (Redis). The database stays the
/// source of truth: a cache failure only costs a database read.
#[async_trait]
pub trait SessionCache: Send + Sync {
    async fn get(&self, id_hash: &str) -> Option<Session>;
    async fn put(&self, session: &Session);
    async fn remove(&self, id_hashes: &[String]);
    async fn ping(&self) -> Result<(), String>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Tells workers in other processes that jobs were enqueued (Redis pub/sub). Best effort:
/// workers poll as well, so a lost message only delays a job.
#[async_trait]
pub trait JobNotifier: Send + Sync {
    async fn jobs_enqueued(&self, queue: &str);
}
