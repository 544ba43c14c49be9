//! Job pages: a job's live progress and its download, the runtime status page for site
//! admins with retry and discard, and starting an audit-trail export in the background.

use super::{render, when, Layout};
use crate::auth::{redirect_with_flash, CsrfForm, PageUser};
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use opensesa_app::jobs::{AuditExport, JobKind, VvReportExport};
use opensesa_app::AppError;
use opensesa_domain::ids::JobId;
use opensesa_domain::jobs::{Job, JobState};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    l: Layout,
    id: JobId,
    short: String,
    kind: String,
    state: &'static str,
    attempts: i64,
    max_attempts: i64,
    progress: i64,
    message: String,
    error: Option<String>,
    result: Option<String>,
    downloadable: bool,
    finished: bool,
    created: String,
    finished_at: Option<String>,
}

fn short(id: JobId) -> String {
    id.0.simple().to_string()[20..].to_owned()
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(id): Path<JobId>,
) -> PageResult {
    let job = st.app.job_for(&p, id).await?;
    let page = JobPage {
        l: Layout::for_user(&st, &p, &c, format!("Job {}", short(id)), "jobs"),
        id,
        short: short(id),
        kind: job.kind.clone(),
        state: job.state.as_str(),
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        progress: job.progress.unwrap_or(if job.state == JobState::Succeeded {
            100
        } else {
            0
        }),
        message: job.progress_message.clone().unwrap_or_default(),
        error: job
            .last_error
            .clone()
            .filter(|_| job.state != JobState::Succeeded),
        result: job
            .result
            .as_ref()
            .map(|r| serde_json::to_string_pretty(r).unwrap_or_default()),
        downloadable: is_export(&job.kind) && job.state == JobState::Succeeded,
        finished: job.state.is_finished(),
        created: when(&job.created_at),
        finished_at: job.finished_at.as_ref().map(when),
    };
    render(&page)
}

/// Serves the file an export job wrote, once it succeeded.
pub async fn download(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path(id): Path<JobId>,
) -> PageResult {
    let job: Job = st.app.job_for(&p, id).await?;
    let file = job
        .result
        .as_ref()
        .and_then(|r| r.get("file"))
        .and_then(|f| f.as_str())
        .filter(|_| is_export(&job.kind) && job.state == JobState::Succeeded)
        .ok_or(AppError::NotFound)?;
    // The name comes from our own job result, but check it anyway: no path escapes.
    if file.contains("..") || file.starts_with('/') {
        return Err(AppError::NotFound.into());
    }
    let path = st.data_dir.join(file);
    let f = tokio::fs::File::open(&path)
        .await
        .map_err(|_| AppError::Conflict("the export file is no longer on this server".into()))?;
    let mut res = Body::from_stream(file_stream(f)).into_response();
    let h = res.headers_mut();
    let (content_type, name) = if job.kind == VvReportExport::KIND {
        let text = |k: &str| {
            job.result
                .as_ref()
                .and_then(|r| r.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        // Only the two types the report job writes are served as such.
        let ct = match text("content_type").as_str() {
            "text/html; charset=utf-8" => "text/html; charset=utf-8",
            _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        };
        (ct, text("file_name"))
    } else {
        (
            "text/csv; charset=utf-8",
            format!("audit-export-{}.csv", short(id)),
        )
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&opensesa_app::blob_port::attachment_disposition(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Job kinds whose result is a file to download.
fn is_export(kind: &str) -> bool {
    kind == AuditExport::KIND || kind == VvReportExport::KIND
}

/// Reads a file in chunks as a body stream.
fn file_stream(
    mut f: tokio::fs::File,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    use tokio::io::AsyncReadExt;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let mut buf = vec![0u8; 64 * 1024];
            match f.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(Ok(buf)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
    });
    super::audit::ReceiverStream(rx)
}

/// Starts the background export with the filters the audit page shows (same form, same parsing).
pub async fn start_audit_export(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, _), f): CsrfForm<super::audit::FilterForm>,
) -> PageResult {
    let id = st.app.enqueue_audit_export(&p, &code, f.parse()?).await?;
    Ok(redirect_with_flash(
        &st,
        &format!("/jobs/{id}"),
        "The export is queued; this page follows it.",
    ))
}

pub struct WorkerRow {
    id: String,
    state: &'static str,
    beat_age: i64,
    queues: String,
    in_flight: i64,
    concurrency: i64,
    version: String,
    started: String,
}

pub struct QueueRow {
    queue: String,
    ready: i64,
    oldest: String,
    scheduled: i64,
    running: i64,
    dead: i64,
}

pub struct JobRow {
    id: JobId,
    short: String,
    kind: String,
    state: &'static str,
    attempts: String,
    progress: String,
    worker: String,
    error: String,
}

fn job_row(j: &Job) -> JobRow {
    JobRow {
        id: j.id,
        short: short(j.id),
        kind: j.kind.clone(),
        state: j.state.as_str(),
        attempts: format!("{} / {}", j.attempts, j.max_attempts),
        progress: j
            .progress
            .map(|p| format!("{p} % {}", j.progress_message.clone().unwrap_or_default()))
            .unwrap_or_default(),
        worker: j.locked_by.clone().unwrap_or_default(),
        error: j.last_error.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    l: Layout,
    version: String,
    schema: String,
    backend: &'static str,
    database: String,
    redis: String,
    workers_up: usize,
    workers: Vec<WorkerRow>,
    queues: Vec<QueueRow>,
    running: Vec<JobRow>,
    failed: Vec<JobRow>,
}

pub async fn status(State(st): State<AppState>, PageUser(p, c): PageUser) -> PageResult {
    let s = st.app.runtime_status(&p).await?;
    let state_name = |w: &opensesa_domain::jobs::WorkerHealth| match w {
        opensesa_domain::jobs::WorkerHealth::Up => "up",
        opensesa_domain::jobs::WorkerHealth::Down => "down",
        opensesa_domain::jobs::WorkerHealth::Stopped => "stopped",
    };
    let page = StatusPage {
        l: Layout::for_user(&st, &p, &c, "Runtime status", "status"),
        version: st.web.version.clone(),
        schema: match (s.schema_applied.last(), s.schema_pending.is_empty()) {
            (Some(v), true) => format!("{v} (current)"),
            (Some(v), false) => format!("{v} ({} pending)", s.schema_pending.len()),
            (None, _) => "none".into(),
        },
        backend: s.backend,
        database: match &s.database {
            Ok(()) => "reachable".into(),
            Err(e) => format!("unreachable: {e}"),
        },
        redis: match &s.redis {
            None => "not configured".into(),
            Some(Ok(())) => "reachable".into(),
            Some(Err(e)) => format!("down: {e}"),
        },
        workers_up: s
            .workers
            .iter()
            .filter(|w| w.state == opensesa_domain::jobs::WorkerHealth::Up)
            .count(),
        workers: s
            .workers
            .iter()
            .map(|w| WorkerRow {
                id: w.heartbeat.id.clone(),
                state: state_name(&w.state),
                beat_age: w.beat_age_secs,
                queues: w.heartbeat.queues.join(", "),
                in_flight: w.heartbeat.in_flight,
                concurrency: w.heartbeat.concurrency,
                version: w.heartbeat.version.clone(),
                started: when(&w.heartbeat.started_at),
            })
            .collect(),
        queues: s
            .queues
            .iter()
            .map(|q| QueueRow {
                queue: q.queue.clone(),
                ready: q.ready,
                oldest: q
                    .oldest_ready
                    .map(|t| format!("{} s", (s.now - t).num_seconds()))
                    .unwrap_or_else(|| "—".into()),
                scheduled: q.scheduled,
                running: q.running,
                dead: q.dead,
            })
            .collect(),
        running: s.running.iter().map(job_row).collect(),
        failed: s.dead.iter().chain(s.failing.iter()).map(job_row).collect(),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn retry(
    State(st): State<AppState>,
    Path(id): Path<JobId>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    st.app.retry_job(&p, id).await?;
    Ok(redirect_with_flash(
        &st,
        "/admin/status",
        "The job is queued again.",
    ))
}

pub async fn discard(
    State(st): State<AppState>,
    Path(id): Path<JobId>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    st.app.discard_job(&p, id).await?;
    Ok(redirect_with_flash(
        &st,
        "/admin/status",
        "The job was discarded.",
    ))
}
