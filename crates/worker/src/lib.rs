//! Background jobs of OpenSESA: the runner and the handlers. A worker claims ready jobs with a
//! lease that it extends while the job runs, records the outcome (success, retry after an
//! exponential back-off with jitter, or dead after the last attempt), beats its heartbeat,
//! enqueues periodic jobs once per period across all workers, and on shutdown stops claiming,
//! lets running jobs finish within a grace period and releases the rest.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod handlers;

use async_trait::async_trait;
use chrono::Duration;
use opensesa_app::jobs::periodic;
use opensesa_app::ports::JobWakeups;
use opensesa_app::{App, AppError};
use opensesa_domain::ids::JobId;
use opensesa_domain::jobs::{backoff, Heartbeat, Job, NewJob};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Why a job did not succeed.
#[derive(Debug, Clone)]
pub struct JobFailure {
    pub message: String,
    /// Retrying cannot help (bad payload, missing project): dead at once.
    pub permanent: bool,
}

impl JobFailure {
    pub fn retry(e: impl std::fmt::Display) -> Self {
        Self {
            message: e.to_string(),
            permanent: false,
        }
    }

    pub fn permanent(e: impl std::fmt::Display) -> Self {
        Self {
            message: e.to_string(),
            permanent: true,
        }
    }
}

/// What a handler sees of its job.
pub struct JobCtx {
    pub app: App,
    pub job: Job,
    pub worker_id: String,
    pub data_dir: PathBuf,
}

impl JobCtx {
    /// Reports progress (0–100) and a short message; shown live on the job's page and API.
    pub async fn progress(&self, percent: i64, message: &str) {
        if let Err(e) = self
            .app
            .store
            .report_progress(
                self.job.id,
                &self.worker_id,
                percent,
                message,
                self.app.now(),
            )
            .await
        {
            tracing::warn!(job = %self.job.id, error = %e, "could not record progress");
        }
    }
}

/// A kind of job's work. At-least-once delivery: a handler must be idempotent.
#[async_trait]
pub trait Handler: Send + Sync {
    fn kind(&self) -> &'static str;
    fn max_attempts(&self) -> i64;
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure>;
}

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
}

impl Registry {
    /// Every handler of the product.
    pub fn standard() -> Self {
        Self::default()
            .with(handlers::PingHandler)
            .with(handlers::PruneSessionsHandler)
            .with(handlers::RefreshWorkingGroupsHandler)
            .with(handlers::PruneJobsHandler)
            .with(handlers::PruneHeartbeatsHandler)
            .with(handlers::AuditExportHandler)
            .with(handlers::VvReportHandler)
    }

    pub fn with(mut self, handler: impl Handler + 'static) -> Self {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub queues: Vec<String>,
    pub concurrency: usize,
    /// How long a claimed job stays ours without an extension.
    pub lease: Duration,
    /// The longest wait between looks at the queue when no wake-up comes.
    pub poll: std::time::Duration,
    pub heartbeat: std::time::Duration,
    /// On shutdown, how long running jobs may take to finish before they are released.
    pub grace: std::time::Duration,
    /// Enqueue the periodic maintenance jobs.
    pub periodic: bool,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub data_dir: PathBuf,
    /// A file touched on every heartbeat, for a container health check that needs no database.
    pub heartbeat_file: Option<PathBuf>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            queues: vec![
                opensesa_app::jobs::DEFAULT_QUEUE.into(),
                opensesa_app::jobs::MAINTENANCE_QUEUE.into(),
                opensesa_app::jobs::EXPORTS_QUEUE.into(),
            ],
            concurrency: 4,
            lease: Duration::seconds(60),
            poll: std::time::Duration::from_secs(2),
            heartbeat: std::time::Duration::from_secs(5),
            grace: std::time::Duration::from_secs(25),
            periodic: true,
            retry_base: Duration::seconds(5),
            retry_cap: Duration::minutes(30),
            data_dir: PathBuf::from("data"),
            heartbeat_file: None,
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

pub struct Worker {
    pub id: String,
    app: App,
    registry: Arc<Registry>,
    opts: WorkerOptions,
    wakeups: Option<Arc<dyn JobWakeups>>,
    started_at: chrono::DateTime<chrono::Utc>,
    in_flight: Arc<AtomicI64>,
}

/// What happened to a job this worker ran.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded(JobId),
    Retrying(JobId),
    Dead(JobId),
    /// Another worker took it over (our lease had expired); nothing recorded.
    Lost(JobId),
}

impl Worker {
    pub fn new(
        app: App,
        registry: Registry,
        opts: WorkerOptions,
        wakeups: Option<Arc<dyn JobWakeups>>,
    ) -> Self {
        let host = hostname();
        let id = format!(
            "{host}:{}:{}",
            std::process::id(),
            &opensesa_domain::ids::JobId::new().0.simple().to_string()[24..]
        );
        Self {
            id,
            started_at: app.now(),
            app,
            registry: Arc::new(registry),
            opts,
            wakeups,
            in_flight: Arc::default(),
        }
    }

    /// Claims one ready job and runs it to its outcome; `None` when nothing is ready.
    pub async fn run_once(&self) -> Result<Option<Outcome>, AppError> {
        let now = self.app.now();
        let Some(job) = self
            .app
            .store
            .claim_job(&self.id, &self.opts.queues, now, now + self.opts.lease)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(
            execute(
                self.app.clone(),
                self.registry.clone(),
                self.opts.clone(),
                self.id.clone(),
                job,
            )
            .await,
        ))
    }

    /// Runs ready jobs until none is left (tests and the `drain` of small deployments).
    pub async fn drain(&self) -> Result<Vec<Outcome>, AppError> {
        let mut out = Vec::new();
        while let Some(o) = self.run_once().await? {
            out.push(o);
        }
        Ok(out)
    }

    /// Enqueues each periodic job whose period has not been scheduled yet; returns how many.
    pub async fn tick_periodic(&self) -> Result<usize, AppError> {
        let now = self.app.now();
        let mut n = 0;
        for p in periodic() {
            let period = now.timestamp().div_euclid(p.every.num_seconds().max(1));
            let job = NewJob {
                id: JobId::new(),
                queue: p.queue.to_owned(),
                kind: p.kind.to_owned(),
                payload: serde_json::json!({}),
                priority: -10,
                max_attempts: self
                    .registry
                    .handlers
                    .get(p.kind)
                    .map_or(3, |h| h.max_attempts()),
                run_after: now,
                dedup_key: Some(format!("periodic:{}:{period}", p.kind)),
                project_id: None,
                created_by: None,
                created_at: now,
            };
            if self.app.store.schedule_period(p.kind, period, &job).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    pub async fn beat(&self, stopped: bool) -> Result<(), AppError> {
        let now = self.app.now();
        let hb = Heartbeat {
            id: self.id.clone(),
            host: hostname(),
            pid: i64::from(std::process::id()),
            version: env!("CARGO_PKG_VERSION").into(),
            queues: self.opts.queues.clone(),
            concurrency: self.opts.concurrency as i64,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            started_at: self.started_at,
            last_beat_at: now,
            stopped_at: stopped.then_some(now),
        };
        self.app.store.upsert_heartbeat(&hb).await?;
        if let Some(f) = &self.opts.heartbeat_file {
            if let Err(e) = std::fs::write(f, now.to_rfc3339()) {
                tracing::warn!(file = %f.display(), error = %e, "cannot write the heartbeat file");
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` turns true, then shuts down gracefully.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), AppError> {
        tracing::info!(worker = %self.id, queues = ?self.opts.queues, concurrency = self.opts.concurrency, kinds = ?self.registry.kinds(), "worker started");
        let me = Arc::new(self);
        me.beat(false).await?;
        let beats = {
            let me = me.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(me.opts.heartbeat);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {
                            if let Err(e) = me.beat(false).await { tracing::warn!(error = %e, "heartbeat failed"); }
                            // Housekeeping rides on the heartbeat: expired leases, periodic jobs.
                            match me.app.store.reap_expired_leases(me.app.now()).await {
                                Ok(n) if n > 0 => tracing::warn!(jobs = n, "requeued jobs whose worker stopped answering"),
                                Ok(_) => {}
                                Err(e) => tracing::warn!(error = %e, "lease check failed"),
                            }
                            if me.opts.periodic {
                                if let Err(e) = me.tick_periodic().await { tracing::warn!(error = %e, "periodic scheduling failed"); }
                            }
                        }
                        _ = stop.changed() => return,
                    }
                }
            })
        };
        let mut running: JoinSet<Outcome> = JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            if running.len() >= me.opts.concurrency {
                tokio::select! {
                    _ = running.join_next() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let now = me.app.now();
            match me
                .app
                .store
                .claim_job(&me.id, &me.opts.queues, now, now + me.opts.lease)
                .await
            {
                Ok(Some(job)) => {
                    me.in_flight.fetch_add(1, Ordering::Relaxed);
                    let (app, registry, opts, id, counter) = (
                        me.app.clone(),
                        me.registry.clone(),
                        me.opts.clone(),
                        me.id.clone(),
                        me.in_flight.clone(),
                    );
                    running.spawn(async move {
                        let o = execute(app, registry, opts, id, job).await;
                        counter.fetch_sub(1, Ordering::Relaxed);
                        o
                    });
                }
                Ok(None) => {
                    let wait = me.opts.poll;
                    tokio::select! {
                        _ = async { match &me.wakeups { Some(w) => w.wait(wait).await, None => tokio::time::sleep(wait).await } } => {}
                        _ = running.join_next(), if !running.is_empty() => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    // The database is away: keep the jobs we run, retry the claim later.
                    tracing::warn!(error = %e, "claiming failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(me.opts.poll) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        tracing::info!(worker = %me.id, running = running.len(), grace_secs = me.opts.grace.as_secs(), "shutting down: no new jobs; waiting for running ones");
        let finished = tokio::time::timeout(me.opts.grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
            let released = me.app.store.release_jobs(&me.id, me.app.now()).await?;
            tracing::warn!(
                released,
                "grace period over: released unfinished jobs to the queue"
            );
        }
        beats.abort();
        me.beat(true).await?;
        tracing::info!(worker = %me.id, "worker stopped");
        Ok(())
    }
}

/// Runs one claimed job: extends its lease while it runs, then records the outcome.
async fn execute(
    app: App,
    registry: Arc<Registry>,
    opts: WorkerOptions,
    worker_id: String,
    job: Job,
) -> Outcome {
    let id = job.id;
    let started = std::time::Instant::now();
    let Some(handler) = registry.handlers.get(job.kind.as_str()).cloned() else {
        let msg = format!(
            "no handler for job kind {:?} in this worker (version {})",
            job.kind,
            env!("CARGO_PKG_VERSION")
        );
        return record(
            &app,
            &opts,
            &worker_id,
            &job,
            Err(JobFailure::permanent(msg)),
        )
        .await;
    };
    let lease_keeper = {
        let (app, worker_id, lease) = (app.clone(), worker_id.clone(), opts.lease);
        let every =
            std::time::Duration::from_millis((lease.num_milliseconds() / 3).max(100) as u64);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                match app
                    .store
                    .extend_lease(id, &worker_id, app.now() + lease)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = %id, "lease lost: another worker may run this job");
                        return;
                    }
                    Err(e) => tracing::warn!(job = %id, error = %e, "lease extension failed"),
                }
            }
        })
    };
    let ctx = JobCtx {
        app: app.clone(),
        job: job.clone(),
        worker_id: worker_id.clone(),
        data_dir: opts.data_dir.clone(),
    };
    // A panicking handler is a failed attempt, not a dead worker.
    let result = match tokio::spawn(async move { handler.run(&ctx).await }).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(JobFailure::retry("the job panicked")),
        Err(_) => Err(JobFailure::retry("the job was cancelled")),
    };
    lease_keeper.abort();
    let outcome = record(&app, &opts, &worker_id, &job, result).await;
    tracing::info!(job = %id, kind = job.kind, attempt = job.attempts, ms = started.elapsed().as_millis() as u64, outcome = ?outcome, "job finished");
    outcome
}

async fn record(
    app: &App,
    opts: &WorkerOptions,
    worker_id: &str,
    job: &Job,
    result: Result<Value, JobFailure>,
) -> Outcome {
    let now = app.now();
    let recorded = match &result {
        Ok(value) => app
            .store
            .finish_job(job.id, worker_id, value, now)
            .await
            .map(|ok| (ok, Outcome::Succeeded(job.id))),
        Err(f) if f.permanent || job.attempts >= job.max_attempts => app
            .store
            .fail_job(job.id, worker_id, &f.message, None, now)
            .await
            .map(|ok| (ok, Outcome::Dead(job.id))),
        Err(f) => {
            let wait = backoff(
                job.attempts,
                opts.retry_base,
                opts.retry_cap,
                rand::random::<f64>(),
            );
            app.store
                .fail_job(job.id, worker_id, &f.message, Some(now + wait), now)
                .await
                .map(|ok| (ok, Outcome::Retrying(job.id)))
        }
    };
    match recorded {
        Ok((true, outcome)) => {
            if let Err(f) = &result {
                tracing::warn!(job = %job.id, kind = job.kind, attempt = job.attempts, error = f.message, "job failed");
            }
            outcome
        }
        Ok((false, _)) => Outcome::Lost(job.id),
        Err(e) => {
            // The lease will expire and the job run again: at-least-once.
            tracing::error!(job = %job.id, error = %e, "could not record the outcome of a job");
            Outcome::Lost(job.id)
        }
    }
}
