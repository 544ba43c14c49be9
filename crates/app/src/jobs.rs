//! Background jobs: the job kinds and their payloads (validated when enqueued), enqueueing,
//! a job's status for the people allowed to see it, and the runtime status for site admins
//! (workers, queues, failed and dead jobs, with retry and discard).

use crate::audit::{AuditFilter, EventBuilder};
use crate::error::{AppError, AppResult};
use crate::ports::{Journal, QueueStats};
use crate::{App, Principal};
use chrono::{DateTime, Duration, Utc};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{JobId, ProjectId, UserId};
use opensesa_domain::jobs::{Heartbeat, Job, JobState, NewJob, WorkerHealth};
use opensesa_domain::FieldErrors;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const DEFAULT_QUEUE: &str = "default";
pub const MAINTENANCE_QUEUE: &str = "maintenance";
pub const EXPORTS_QUEUE: &str = "exports";
/// A worker whose last beat is older than this is shown as down.
pub const HEARTBEAT_STALE_SECS: i64 = 30;

/// A kind of job: its name, queue, retry limit and payload type.
pub trait JobKind {
    const KIND: &'static str;
    const QUEUE: &'static str;
    const MAX_ATTEMPTS: i64;
    type Payload: Serialize + DeserializeOwned;
    /// Checks a payload before it is enqueued (and again before it runs).
    fn validate(_payload: &Self::Payload) -> Result<(), FieldErrors> {
        Ok(())
    }
}

/// A no-op that proves the queue works end to end; `delay_ms` holds the worker for a while
/// (at most a minute), for checking long-running behaviour such as graceful shutdown.
pub struct Ping;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PingPayload {
    #[serde(default)]
    pub delay_ms: u64,
}

impl JobKind for Ping {
    const KIND: &'static str = "system.ping";
    const QUEUE: &'static str = DEFAULT_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = PingPayload;
    fn validate(p: &PingPayload) -> Result<(), FieldErrors> {
        if p.delay_ms > 60_000 {
            return Err(FieldErrors::single("delay_ms", "must be at most 60000"));
        }
        Ok(())
    }
}

/// Periodic maintenance: expired sessions and old authentication failures.
pub struct PruneSessions;
/// Periodic maintenance: finished jobs older than their retention, and import uploads left
/// unconfirmed for a day.
pub struct PruneJobs;
/// Periodic maintenance: heartbeats of workers gone for a day.
pub struct PruneHeartbeats;
/// Periodic maintenance: the working-group cache of every project brought up to date, so
/// that a freeze or a comparison with the working state after a quiet minute reads only
/// what changed since (docs/baselines.md, "Working groups").
pub struct RefreshWorkingGroups;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NoPayload {}

impl JobKind for PruneSessions {
    const KIND: &'static str = "maintenance.sessions";
    const QUEUE: &'static str = MAINTENANCE_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = NoPayload;
}

impl JobKind for PruneJobs {
    const KIND: &'static str = "maintenance.jobs";
    const QUEUE: &'static str = MAINTENANCE_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = NoPayload;
}

impl JobKind for PruneHeartbeats {
    const KIND: &'static str = "maintenance.heartbeats";
    const QUEUE: &'static str = MAINTENANCE_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = NoPayload;
}

impl JobKind for RefreshWorkingGroups {
    const KIND: &'static str = "maintenance.working_groups";
    const QUEUE: &'static str = MAINTENANCE_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = NoPayload;
}

/// The project audit trail as a CSV file in the data directory.
pub struct AuditExport;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditExportPayload {
    pub project_code: String,
    pub filter: AuditFilter,
}

impl JobKind for AuditExport {
    const KIND: &'static str = "audit.export";
    const QUEUE: &'static str = EXPORTS_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = AuditExportPayload;
}

/// A verification report (HTML or XLSX) of a large plan or set, written to the data
/// directory for the person who asked.
pub struct VvReportExport;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VvReportPayload {
    pub project_code: String,
    /// A plan's human id, or empty when `set` is given.
    pub plan: String,
    pub set: Option<opensesa_domain::ids::CaseSetId>,
    /// html | xlsx
    pub format: String,
}

impl JobKind for VvReportExport {
    const KIND: &'static str = "vv.report";
    const QUEUE: &'static str = EXPORTS_QUEUE;
    const MAX_ATTEMPTS: i64 = 3;
    type Payload = VvReportPayload;
    fn validate(p: &VvReportPayload) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if p.plan.is_empty() == p.set.is_none() {
            e.add("scope", "name a plan or a set");
        }
        if !matches!(p.format.as_str(), "html" | "xlsx") {
            e.add("format", "is html or xlsx");
        }
        e.into_result().map_err(|v| v.0)
    }
}

/// A periodic job: kind and interval.
pub struct Periodic {
    pub kind: &'static str,
    pub queue: &'static str,
    pub every: Duration,
}

pub const PERIODIC: &[(&str, &str, i64)] = &[
    (PruneSessions::KIND, PruneSessions::QUEUE, 15 * 60),
    (PruneJobs::KIND, PruneJobs::QUEUE, 60 * 60),
    (PruneHeartbeats::KIND, PruneHeartbeats::QUEUE, 60 * 60),
    (RefreshWorkingGroups::KIND, RefreshWorkingGroups::QUEUE, 60),
];

pub fn periodic() -> Vec<Periodic> {
    PERIODIC
        .iter()
        .map(|(kind, queue, secs)| Periodic {
            kind,
            queue,
            every: Duration::seconds(*secs),
        })
        .collect()
}

/// What a worker process needs to know to show itself.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerView {
    #[serde(flatten)]
    pub heartbeat: Heartbeat,
    pub state: WorkerHealth,
    pub beat_age_secs: i64,
}

#[derive(Debug, Clone)]
pub struct RuntimeStatus {
    pub backend: &'static str,
    pub database: Result<(), String>,
    pub schema_applied: Vec<i64>,
    pub schema_pending: Vec<i64>,
    pub redis: Option<Result<(), String>>,
    pub workers: Vec<WorkerView>,
    pub queues: Vec<QueueStats>,
    pub running: Vec<Job>,
    pub failing: Vec<Job>,
    pub dead: Vec<Job>,
    pub now: DateTime<Utc>,
}

impl App {
    /// Builds a job of kind `K`, validating its payload.
    pub fn new_job<K: JobKind>(
        &self,
        payload: &K::Payload,
        created_by: Option<UserId>,
        project: Option<ProjectId>,
    ) -> AppResult<NewJob> {
        K::validate(payload).map_err(AppError::Validation)?;
        let payload = serde_json::to_value(payload)
            .map_err(|e| AppError::Internal(format!("job payload: {e}")))?;
        Ok(NewJob {
            id: JobId::new(),
            queue: K::QUEUE.to_owned(),
            kind: K::KIND.to_owned(),
            payload,
            priority: 0,
            max_attempts: K::MAX_ATTEMPTS,
            run_after: self.clock.now(),
            dedup_key: None,
            project_id: project,
            created_by,
            created_at: self.clock.now(),
        })
    }

    /// Enqueues a job that belongs to no other write. Returns false when deduplicated.
    pub async fn enqueue(&self, job: &NewJob) -> AppResult<bool> {
        let inserted = self.store.enqueue(job, &Journal::default()).await?;
        if inserted {
            self.jobs_enqueued(&job.queue).await;
        }
        Ok(inserted)
    }

    /// The round-trip check: a no-op job whose id the caller polls.
    pub async fn enqueue_ping(&self, principal: &Principal, delay_ms: u64) -> AppResult<JobId> {
        let job = self.new_job::<Ping>(&PingPayload { delay_ms }, Some(principal.user.id), None)?;
        self.enqueue(&job).await?;
        Ok(job.id)
    }

    /// A job as its creator, a site admin or a member of its project may see it.
    pub async fn job_for(&self, principal: &Principal, id: JobId) -> AppResult<Job> {
        let job = self.store.find_job(id).await?.ok_or(AppError::NotFound)?;
        if principal.is_admin() || job.created_by == Some(principal.user.id) {
            return Ok(job);
        }
        if let Some(project) = job.project_id {
            if let Some(p) = self.store.find_project(project).await? {
                if self
                    .project_access(principal, &p.code, Permission::Read)
                    .await
                    .is_ok()
                {
                    return Ok(job);
                }
            }
        }
        Err(AppError::NotFound)
    }

    /// Starts a CSV export of a project's audit trail in the background.
    pub async fn enqueue_audit_export(
        &self,
        principal: &Principal,
        code: &str,
        filter: AuditFilter,
    ) -> AppResult<JobId> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let payload = AuditExportPayload {
            project_code: ctx.project.code.clone(),
            filter,
        };
        let job =
            self.new_job::<AuditExport>(&payload, Some(principal.user.id), Some(ctx.project.id))?;
        let event = EventBuilder::by(self, principal, Action::Create, "job", job.id)
            .project(ctx.project.id)
            .change("kind", serde_json::Value::Null, AuditExport::KIND.into())
            .build();
        self.store.enqueue(&job, &Journal::event(event)).await?;
        self.jobs_enqueued(&job.queue).await;
        Ok(job.id)
    }

    /// Starts a verification report in the background (large plans).
    pub async fn enqueue_vv_report(
        &self,
        principal: &Principal,
        code: &str,
        payload: VvReportPayload,
    ) -> AppResult<JobId> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let payload = VvReportPayload {
            project_code: ctx.project.code.clone(),
            ..payload
        };
        // The plan or set must exist now, not only when the job runs.
        let scope = match payload.set {
            Some(set) => crate::vv::snapshots::SnapshotScope::Set(set),
            None => crate::vv::snapshots::SnapshotScope::Plan(payload.plan.clone()),
        };
        self.scope_cases(&ctx, &scope).await?;
        let job = self.new_job::<VvReportExport>(
            &payload,
            Some(principal.user.id),
            Some(ctx.project.id),
        )?;
        let event = EventBuilder::by(self, principal, Action::Create, "job", job.id)
            .project(ctx.project.id)
            .change("kind", serde_json::Value::Null, VvReportExport::KIND.into())
            .build();
        self.store.enqueue(&job, &Journal::event(event)).await?;
        self.jobs_enqueued(&job.queue).await;
        Ok(job.id)
    }

    fn require_site_admin(principal: &Principal) -> AppResult<()> {
        if principal.is_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "only site admins may see the runtime status",
            ))
        }
    }

    pub async fn runtime_status(&self, principal: &Principal) -> AppResult<RuntimeStatus> {
        Self::require_site_admin(principal)?;
        let now = self.clock.now();
        let database = self.store.ping().await.map_err(|e| e.to_string());
        let schema = self.store.schema_status().await.ok();
        let redis = match &self.cache {
            Some(c) => Some(c.ping().await),
            None => None,
        };
        let stale = Duration::seconds(HEARTBEAT_STALE_SECS);
        let workers = self
            .store
            .list_heartbeats()
            .await?
            .into_iter()
            .map(|hb| WorkerView {
                state: hb.health(now, stale),
                beat_age_secs: (now - hb.last_beat_at).num_seconds(),
                heartbeat: hb,
            })
            .collect();
        Ok(RuntimeStatus {
            backend: self.store.backend_name(),
            database,
            schema_applied: schema
                .as_ref()
                .map(|s| s.applied.clone())
                .unwrap_or_default(),
            schema_pending: schema.map(|s| s.pending).unwrap_or_default(),
            redis,
            workers,
            queues: self.store.queue_stats(now).await?,
            running: self
                .store
                .list_jobs(&[JobState::Running], false, 100)
                .await?,
            failing: self
                .store
                .list_jobs(&[JobState::Pending], true, 100)
                .await?,
            dead: self.store.list_jobs(&[JobState::Dead], false, 100).await?,
            now,
        })
    }

    pub async fn retry_job(&self, principal: &Principal, id: JobId) -> AppResult<()> {
        Self::require_site_admin(principal)?;
        let event = EventBuilder::by(self, principal, Action::Update, "job", id)
            .change(
                "state",
                JobState::Dead.as_str().into(),
                JobState::Pending.as_str().into(),
            )
            .build();
        if self
            .store
            .retry_job(id, self.clock.now(), &Journal::event(event))
            .await?
        {
            Ok(())
        } else {
            Err(AppError::Conflict("only a dead job can be retried".into()))
        }
    }

    pub async fn discard_job(&self, principal: &Principal, id: JobId) -> AppResult<()> {
        Self::require_site_admin(principal)?;
        let event = EventBuilder::by(self, principal, Action::Delete, "job", id)
            .change(
                "state",
                serde_json::Value::Null,
                JobState::Discarded.as_str().into(),
            )
            .build();
        if self
            .store
            .discard_job(id, self.clock.now(), &Journal::event(event))
            .await?
        {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "only a dead or waiting job can be discarded".into(),
            ))
        }
    }
}
