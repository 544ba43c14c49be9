//! API for jobs and the runtime: the ping job round trip, a job's state, the runtime status
//! and the admin's retry and discard of failed jobs.

use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use opensesa_app::jobs::RuntimeStatus;
use opensesa_domain::ids::JobId;
use opensesa_domain::jobs::Job;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct JobOut {
    id: Uuid,
    kind: String,
    queue: String,
    /// pending, running, succeeded, dead or discarded
    state: String,
    attempts: i64,
    max_attempts: i64,
    /// 0–100 while running
    progress: Option<i64>,
    progress_message: Option<String>,
    #[schema(value_type = Object)]
    result: Option<Value>,
    last_error: Option<String>,
    run_after: DateTime<Utc>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobOut {
    fn from(j: Job) -> Self {
        Self {
            id: j.id.0,
            kind: j.kind,
            queue: j.queue,
            state: j.state.as_str().into(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            progress: j.progress,
            progress_message: j.progress_message,
            result: j.result,
            last_error: j.last_error,
            run_after: j.run_after,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PingIn {
    /// Hold the worker this long (at most 60000 ms).
    #[serde(default)]
    delay_ms: u64,
}

#[derive(Serialize, ToSchema)]
pub struct JobRef {
    id: Uuid,
    /// Where to poll for the job's state.
    url: String,
}

#[utoipa::path(post, path = "/api/v1/system/ping-job", tag = "system", summary = "Enqueue a no-op job to prove queue processing end to end",
    request_body(content = PingIn, description = "Optional"),
    responses((status = 202, body = JobRef), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ping_job(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<JobRef>), ApiError> {
    // The body is optional: an empty one means no delay.
    let delay = if body.iter().all(u8::is_ascii_whitespace) {
        0
    } else {
        serde_json::from_slice::<PingIn>(&body)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    format!("the body is not a valid ping request: {e}"),
                )
            })?
            .delay_ms
    };
    let id = st.app.enqueue_ping(&p, delay).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JobRef {
            id: id.0,
            url: format!("/api/v1/jobs/{id}"),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "system", summary = "A job's state, progress, result and error",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<Uuid>,
) -> Result<Json<JobOut>, ApiError> {
    Ok(Json(st.app.job_for(&p, JobId(id)).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "system", summary = "Retry a dead job (site admins)",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, body = JobOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<Uuid>,
) -> Result<Json<JobOut>, ApiError> {
    st.app.retry_job(&p, JobId(id)).await?;
    Ok(Json(st.app.job_for(&p, JobId(id)).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/jobs/{id}/discard", tag = "system", summary = "Discard a dead or waiting job (site admins)",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, body = JobOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn discard_job(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<Uuid>,
) -> Result<Json<JobOut>, ApiError> {
    st.app.discard_job(&p, JobId(id)).await?;
    Ok(Json(st.app.job_for(&p, JobId(id)).await?.into()))
}

/// The runtime status as JSON (also used by the status page's tests and by `verify`).
pub fn status_json(version: &str, s: &RuntimeStatus) -> Value {
    let jobs = |list: &[Job]| list.iter().cloned().map(JobOut::from).collect::<Vec<_>>();
    json!({
        "version": version,
        "backend": s.backend,
        "database": match &s.database { Ok(()) => json!({"ok": true}), Err(e) => json!({"ok": false, "error": e}) },
        "schema": { "applied": s.schema_applied, "pending": s.schema_pending },
        "redis": match &s.redis {
            None => json!({"configured": false, "ok": true}),
            Some(Ok(())) => json!({"configured": true, "ok": true}),
            Some(Err(e)) => json!({"configured": true, "ok": false, "error": e}),
        },
        "workers": s.workers,
        "workers_up": s.workers.iter().filter(|w| w.state == opensesa_domain::jobs::WorkerHealth::Up).count(),
        "queues": s.queues.iter().map(|q| json!({
            "queue": q.queue, "ready": q.ready, "scheduled": q.scheduled, "running": q.running, "dead": q.dead,
            "oldest_ready_age_secs": q.oldest_ready.map(|t| (s.now - t).num_seconds()),
        })).collect::<Vec<_>>(),
        "running": jobs(&s.running),
        "failing": jobs(&s.failing),
        "dead": jobs(&s.dead),
        "now": s.now,
    })
}

#[utoipa::path(get, path = "/api/v1/system/status", tag = "system", summary = "Runtime status (site admins): version, schema, database, Redis, workers, queues, failed jobs",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let s = st.app.runtime_status(&p).await?;
    Ok(Json(status_json(&st.web.version, &s)))
}
