//! The job queue on both backends. Claiming differs: PostgreSQL takes the next ready row with
//! `FOR UPDATE SKIP LOCKED` (many workers, no waiting on each other); SQLite serialises every
//! write through its single writer connection, so a plain `UPDATE … RETURNING` is exclusive.

use crate::{db_err, insert_job, read, transaction, write, Db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opensesa_app::ports::{JobStore, JobWakeups, Journal, QueueStats, StoreError, StoreResult};
use opensesa_domain::ids::{JobId, ProjectId, UserId};
use opensesa_domain::jobs::{Heartbeat, Job, JobState, NewJob};
use sqlx::types::Json;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const JOB_COLS: &str = "id, queue, kind, payload, priority, state, attempts, max_attempts, run_after, dedup_key, locked_by, \
    lease_until, progress, progress_message, result, last_error, project_id, created_by, created_at, started_at, finished_at, updated_at";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    queue: String,
    kind: String,
    payload: Json<serde_json::Value>,
    priority: i64,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_after: DateTime<Utc>,
    dedup_key: Option<String>,
    locked_by: Option<String>,
    lease_until: Option<DateTime<Utc>>,
    progress: Option<i64>,
    progress_message: Option<String>,
    result: Option<Json<serde_json::Value>>,
    last_error: Option<String>,
    project_id: Option<Uuid>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        Ok(Job {
            state: JobState::parse(&r.state).ok_or_else(|| {
                StoreError::Backend(format!("stored job state {:?} is not valid", r.state).into())
            })?,
            id: JobId(r.id),
            queue: r.queue,
            kind: r.kind,
            payload: r.payload.0,
            priority: r.priority,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_after: r.run_after,
            dedup_key: r.dedup_key,
            locked_by: r.locked_by,
            lease_until: r.lease_until,
            progress: r.progress,
            progress_message: r.progress_message,
            result: r.result.map(|j| j.0),
            last_error: r.last_error,
            project_id: r.project_id.map(ProjectId),
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct HeartbeatRow {
    id: String,
    host: String,
    pid: i64,
    version: String,
    queues: Json<Vec<String>>,
    concurrency: i64,
    in_flight: i64,
    started_at: DateTime<Utc>,
    last_beat_at: DateTime<Utc>,
    stopped_at: Option<DateTime<Utc>>,
}

/// After a commit that enqueued jobs: wake the in-process SQLite worker. (PostgreSQL workers
/// are woken by the NOTIFY trigger.)
pub fn after_commit(db: &Db, journal: &Journal) {
    if let Db::Sqlite { wake, .. } = db {
        if !journal.jobs.is_empty() {
            wake.notify_one();
        }
    }
}

/// Builds the wake-up source of a worker on this database.
pub async fn wakeups(db: &Db) -> anyhow::Result<Arc<dyn JobWakeups>> {
    Ok(match db {
        Db::Sqlite { wake, .. } => Arc::new(LocalWakeups(wake.clone())),
        Db::Postgres(pool) => {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen("opensesa_jobs").await?;
            Arc::new(PgWakeups(tokio::sync::Mutex::new(listener)))
        }
    })
}

struct LocalWakeups(Arc<tokio::sync::Notify>);

#[async_trait]
impl JobWakeups for LocalWakeups {
    async fn wait(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.0.notified()).await;
    }
}

struct PgWakeups(tokio::sync::Mutex<sqlx::postgres::PgListener>);

#[async_trait]
impl JobWakeups for PgWakeups {
    async fn wait(&self, max: Duration) {
        let mut listener = self.0.lock().await;
        match tokio::time::timeout(max, listener.recv()).await {
            Ok(Ok(_)) | Err(_) => {}
            // Connection lost: the listener reconnects on the next call; poll meanwhile.
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "job notifications interrupted; polling");
                drop(listener);
                tokio::time::sleep(max).await;
            }
        }
    }
}

fn job_cols(prefix: &str) -> String {
    JOB_COLS
        .split(", ")
        .map(|c| format!("{prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl JobStore for Db {
    async fn enqueue(&self, job: &NewJob, journal: &Journal) -> StoreResult<bool> {
        let mut journal = journal.clone();
        journal.jobs.clear();
        let inserted = transaction!(self, &journal, |tx| { insert_job!(tx, job) })?;
        if inserted > 0 {
            after_commit(
                self,
                &Journal {
                    jobs: vec![job.clone()],
                    ..Journal::default()
                },
            );
        }
        Ok(inserted > 0)
    }

    async fn claim_job(
        &self,
        worker: &str,
        queues: &[String],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        // One queue at a time, in the worker's order: each claim is an index walk that stops
        // at the first ready job (see the jobs_claim index).
        let set = "state = 'running', locked_by = $1, lease_until = $2, attempts = attempts + 1, \
                   started_at = COALESCE(started_at, $3), updated_at = $3, progress = NULL, progress_message = NULL";
        let pick =
            "SELECT id FROM jobs WHERE state = 'pending' AND queue = $4 AND run_after <= $3 \
                    ORDER BY priority DESC, run_after, id LIMIT 1";
        for queue in queues {
            let row: Option<JobRow> = match self {
                Db::Sqlite { write, .. } => {
                    let sql =
                        format!("UPDATE jobs SET {set} WHERE id = ({pick}) RETURNING {JOB_COLS}");
                    sqlx::query_as(&sql)
                        .bind(worker)
                        .bind(lease_until)
                        .bind(now)
                        .bind(queue)
                        .fetch_optional(write)
                        .await
                        .map_err(db_err)?
                }
                Db::Postgres(p) => {
                    let sql = format!("UPDATE jobs SET {set} WHERE id = ({pick} FOR UPDATE SKIP LOCKED) RETURNING {JOB_COLS}");
                    sqlx::query_as(&sql)
                        .bind(worker)
                        .bind(lease_until)
                        .bind(now)
                        .bind(queue)
                        .fetch_optional(p)
                        .await
                        .map_err(db_err)?
                }
            };
            if let Some(row) = row {
                return Job::try_from(row).map(Some);
            }
        }
        Ok(None)
    }

    async fn extend_lease(
        &self,
        id: JobId,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let n = write!(self, |p| {
            sqlx::query("UPDATE jobs SET lease_until = $3 WHERE id = $1 AND locked_by = $2 AND state = 'running'")
            .bind(id.0)
            .bind(worker)
            .bind(lease_until)
            .execute(p)
            .await
            .map_err(db_err)?
            .rows_affected()
        });
        Ok(n == 1)
    }

    async fn report_progress(
        &self,
        id: JobId,
        worker: &str,
        percent: i64,
        message: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let n = write!(self, |p| {
            sqlx::query(
            "UPDATE jobs SET progress = $3, progress_message = $4, updated_at = $5 WHERE id = $1 AND locked_by = $2 AND state = 'running'"
        )
        .bind(id.0)
        .bind(worker)
        .bind(percent.clamp(0, 100))
        .bind(message)
        .bind(now)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()
        });
        Ok(n == 1)
    }

    async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        result: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let n = write!(self, |p| {
            sqlx::query(
            "UPDATE jobs SET state = 'succeeded', result = $3, progress = 100, finished_at = $4, updated_at = $4, \
             locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2 AND state = 'running'"
        )
        .bind(id.0)
        .bind(worker)
        .bind(Json(result))
        .bind(now)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()
        });
        Ok(n == 1)
    }

    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let error: String = error.chars().take(4000).collect();
        let n = match retry_at {
            Some(at) => write!(self, |p| {
                sqlx::query(
                "UPDATE jobs SET state = 'pending', run_after = $4, last_error = $3, updated_at = $5, locked_by = NULL, \
                 lease_until = NULL WHERE id = $1 AND locked_by = $2 AND state = 'running'"
            )
            .bind(id.0)
            .bind(worker)
            .bind(&error)
            .bind(at)
            .bind(now)
            .execute(p)
            .await
            .map_err(db_err)?
            .rows_affected()
            }),
            None => write!(self, |p| {
                sqlx::query(
                "UPDATE jobs SET state = 'dead', last_error = $3, finished_at = $4, updated_at = $4, locked_by = NULL, \
                 lease_until = NULL WHERE id = $1 AND locked_by = $2 AND state = 'running'"
            )
            .bind(id.0)
            .bind(worker)
            .bind(&error)
            .bind(now)
            .execute(p)
            .await
            .map_err(db_err)?
            .rows_affected()
            }),
        };
        Ok(n == 1)
    }

    async fn release_jobs(&self, worker: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        write!(self, |p| {
            Ok(sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = attempts - 1, locked_by = NULL, lease_until = NULL, run_after = $2, \
             updated_at = $2 WHERE locked_by = $1 AND state = 'running'"
        )
        .bind(worker)
        .bind(now)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected())
        })
    }

    async fn reap_expired_leases(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        write!(self, |p| {
            Ok(sqlx::query(
            "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'pending' END, \
             finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
             last_error = 'the worker ' || COALESCE(locked_by, '?') || ' stopped answering (lease expired)', \
             locked_by = NULL, lease_until = NULL, run_after = $1, updated_at = $1 \
             WHERE state = 'running' AND lease_until < $1"
        )
        .bind(now)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected())
        })
    }

    async fn find_job(&self, id: JobId) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Job::try_from).transpose()
    }

    async fn list_jobs(
        &self,
        states: &[JobState],
        failed_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Job>> {
        let list = states
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let failed = if failed_only {
            "AND last_error IS NOT NULL"
        } else {
            ""
        };
        let sql = format!("SELECT {} FROM jobs WHERE state IN ({list}) {failed} ORDER BY updated_at DESC LIMIT $1", job_cols(""));
        let rows: Vec<JobRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(Job::try_from).collect()
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> StoreResult<Vec<QueueStats>> {
        let rows: Vec<(String, i64, i64, i64, i64, Option<DateTime<Utc>>)> =
            read!(self, |p| sqlx::query_as(
                "SELECT queue, \
               SUM(CASE WHEN state = 'pending' AND run_after <= $1 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN state = 'pending' AND run_after > $1 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), \
               SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), \
               MIN(CASE WHEN state = 'pending' AND run_after <= $1 THEN run_after END) \
             FROM jobs WHERE state IN ('pending', 'running', 'dead') GROUP BY queue ORDER BY queue"
            )
            .bind(now)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows
            .into_iter()
            .map(
                |(queue, ready, scheduled, running, dead, oldest_ready)| QueueStats {
                    queue,
                    ready,
                    scheduled,
                    running,
                    dead,
                    oldest_ready,
                },
            )
            .collect())
    }

    async fn retry_job(
        &self,
        id: JobId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        let done = transaction!(self, journal, |tx| {
            let n = sqlx::query(
                "UPDATE jobs SET state = 'pending', attempts = 0, run_after = $2, finished_at = NULL, updated_at = $2 \
                 WHERE id = $1 AND state = 'dead'",
            )
            .bind(id.0)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            true
        })?;
        if done {
            after_commit(
                self,
                &Journal {
                    jobs: vec![placeholder(id, now)],
                    ..Journal::default()
                },
            );
        }
        Ok(done)
    }

    async fn discard_job(
        &self,
        id: JobId,
        now: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        transaction!(self, journal, |tx| {
            let n = sqlx::query(
                "UPDATE jobs SET state = 'discarded', finished_at = $2, updated_at = $2 WHERE id = $1 AND state IN ('dead', 'pending')",
            )
            .bind(id.0)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            true
        })
    }

    async fn delete_finished_jobs(
        &self,
        succeeded_before: DateTime<Utc>,
        failed_before: DateTime<Utc>,
    ) -> StoreResult<u64> {
        write!(self, |p| {
            Ok(sqlx::query(
            "DELETE FROM jobs WHERE (state = 'succeeded' AND finished_at < $1) OR (state IN ('dead', 'discarded') AND finished_at < $2)"
        )
        .bind(succeeded_before)
        .bind(failed_before)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected())
        })
    }

    async fn schedule_period(&self, kind: &str, period: i64, job: &NewJob) -> StoreResult<bool> {
        let journal = Journal {
            jobs: vec![job.clone()],
            ..Journal::default()
        };
        let scheduled = transaction!(self, &Journal::default(), |tx| {
            sqlx::query("INSERT INTO periodic_schedule (kind, last_period) VALUES ($1, -1) ON CONFLICT DO NOTHING")
                .bind(kind)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let n = sqlx::query("UPDATE periodic_schedule SET last_period = $2 WHERE kind = $1 AND last_period < $2")
                .bind(kind)
                .bind(period)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if n == 1 {
                insert_job!(tx, job);
            }
            n == 1
        })?;
        if scheduled {
            after_commit(self, &journal);
        }
        Ok(scheduled)
    }

    async fn upsert_heartbeat(&self, h: &Heartbeat) -> StoreResult<()> {
        write!(self, |p| {
            sqlx::query(
            "INSERT INTO worker_heartbeats (id, host, pid, version, queues, concurrency, in_flight, started_at, last_beat_at, stopped_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET in_flight = excluded.in_flight, \
             last_beat_at = excluded.last_beat_at, stopped_at = excluded.stopped_at"
        )
        .bind(&h.id)
        .bind(&h.host)
        .bind(h.pid)
        .bind(&h.version)
        .bind(Json(&h.queues))
        .bind(h.concurrency)
        .bind(h.in_flight)
        .bind(h.started_at)
        .bind(h.last_beat_at)
        .bind(h.stopped_at)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err)
        })
    }

    async fn list_heartbeats(&self) -> StoreResult<Vec<Heartbeat>> {
        let rows: Vec<HeartbeatRow> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, host, pid, version, queues, concurrency, in_flight, started_at, last_beat_at, stopped_at \
             FROM worker_heartbeats ORDER BY last_beat_at DESC"
        )
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        Ok(rows
            .into_iter()
            .map(|r| Heartbeat {
                id: r.id,
                host: r.host,
                pid: r.pid,
                version: r.version,
                queues: r.queues.0,
                concurrency: r.concurrency,
                in_flight: r.in_flight,
                started_at: r.started_at,
                last_beat_at: r.last_beat_at,
                stopped_at: r.stopped_at,
            })
            .collect())
    }

    async fn delete_heartbeats(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        write!(self, |p| Ok(sqlx::query(
            "DELETE FROM worker_heartbeats WHERE last_beat_at < $1"
        )
        .bind(before)
        .execute(p)
        .await
        .map_err(db_err)?
        .rows_affected()))
    }
}

/// A stand-in job for waking the SQLite worker after a retry (only its presence matters).
fn placeholder(id: JobId, now: DateTime<Utc>) -> NewJob {
    NewJob {
        id,
        queue: String::new(),
        kind: String::new(),
        payload: serde_json::Value::Null,
        priority: 0,
        max_attempts: 0,
        run_after: now,
        dedup_key: None,
        project_id: None,
        created_by: None,
        created_at: now,
    }
}
