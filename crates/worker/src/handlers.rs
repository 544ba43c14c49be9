//! The job handlers: what each kind of job does.

use crate::{Handler, JobCtx, JobFailure};
use async_trait::async_trait;
use opensesa_app::jobs::{
    AuditExport, AuditExportPayload, JobKind, Ping, PingPayload, PruneHeartbeats, PruneJobs,
    PruneSessions, RefreshWorkingGroups, VvReportExport, VvReportPayload,
};
use opensesa_app::ports::AuditQuery;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;

/// Parses and validates a payload as its kind requires; a bad payload never succeeds, so it
/// fails permanently.
fn payload<K: JobKind>(raw: &Value) -> Result<K::Payload, JobFailure> {
    let p: K::Payload = serde_json::from_value(raw.clone())
        .map_err(|e| JobFailure::permanent(format!("payload: {e}")))?;
    K::validate(&p).map_err(|e| JobFailure::permanent(format!("payload: {e}")))?;
    Ok(p)
}

pub struct PingHandler;

#[async_trait]
impl Handler for PingHandler {
    fn kind(&self) -> &'static str {
        Ping::KIND
    }
    fn max_attempts(&self) -> i64 {
        Ping::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let p: PingPayload = payload::<Ping>(&ctx.job.payload)?;
        if p.delay_ms > 0 {
            ctx.progress(0, "waiting").await;
            tokio::time::sleep(std::time::Duration::from_millis(p.delay_ms)).await;
        }
        Ok(json!({ "pong": true, "worker": ctx.worker_id, "attempt": ctx.job.attempts }))
    }
}

pub struct PruneSessionsHandler;

#[async_trait]
impl Handler for PruneSessionsHandler {
    fn kind(&self) -> &'static str {
        PruneSessions::KIND
    }
    fn max_attempts(&self) -> i64 {
        PruneSessions::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let (sessions, failures) = ctx
            .app
            .prune_auth_state()
            .await
            .map_err(JobFailure::retry)?;
        Ok(json!({ "sessions_deleted": sessions, "auth_failures_deleted": failures }))
    }
}

pub struct RefreshWorkingGroupsHandler;

#[async_trait]
impl Handler for RefreshWorkingGroupsHandler {
    fn kind(&self) -> &'static str {
        RefreshWorkingGroups::KIND
    }
    fn max_attempts(&self) -> i64 {
        RefreshWorkingGroups::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let projects = ctx
            .app
            .refresh_working_groups()
            .await
            .map_err(JobFailure::retry)?;
        Ok(json!({ "projects_refreshed": projects }))
    }
}

pub struct PruneJobsHandler;

#[async_trait]
impl Handler for PruneJobsHandler {
    fn kind(&self) -> &'static str {
        PruneJobs::KIND
    }
    fn max_attempts(&self) -> i64 {
        PruneJobs::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let now = ctx.app.now();
        // Succeeded jobs go after a week; dead and discarded ones are kept a month for review.
        let n = ctx
            .app
            .store
            .delete_finished_jobs(
                now - chrono::Duration::days(7),
                now - chrono::Duration::days(30),
            )
            .await
            .map_err(JobFailure::retry)?;
        // Uploaded import files wait a day for their dry-run report to be confirmed.
        let imports = ctx
            .app
            .store
            .prune_imports(now - chrono::Duration::days(1))
            .await
            .map_err(JobFailure::retry)?;
        // Their files, and uploads that were interrupted or refused without clean-up.
        let import_files = match &ctx.app.import_files {
            Some(f) => f
                .prune(std::time::Duration::from_secs(24 * 3600))
                .await
                .map_err(|e| JobFailure::retry(format!("import file area: {e}")))?,
            None => 0,
        };
        // Interrupted evidence uploads leave temporary files; an hour is longer than any upload.
        let stale_uploads = match &ctx.app.blobs {
            Some(b) => b
                .remove_stale_uploads(std::time::Duration::from_secs(3600))
                .await
                .map_err(|e| JobFailure::retry(e.to_string()))?,
            None => 0,
        };
        Ok(
            json!({ "jobs_deleted": n, "imports_deleted": imports, "import_files_removed": import_files, "stale_uploads_removed": stale_uploads }),
        )
    }
}

pub struct PruneHeartbeatsHandler;

#[async_trait]
impl Handler for PruneHeartbeatsHandler {
    fn kind(&self) -> &'static str {
        PruneHeartbeats::KIND
    }
    fn max_attempts(&self) -> i64 {
        PruneHeartbeats::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let n = ctx
            .app
            .store
            .delete_heartbeats(ctx.app.now() - chrono::Duration::days(1))
            .await
            .map_err(JobFailure::retry)?;
        Ok(json!({ "heartbeats_deleted": n }))
    }
}

/// Writes the filtered audit trail of a project to `exports/<job id>.csv` in the data
/// directory, a slice at a time (bounded memory), reporting progress; the file appears under
/// its final name only when complete.
pub struct AuditExportHandler;

#[async_trait]
impl Handler for AuditExportHandler {
    fn kind(&self) -> &'static str {
        AuditExport::KIND
    }
    fn max_attempts(&self) -> i64 {
        AuditExport::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let p: AuditExportPayload = payload::<AuditExport>(&ctx.job.payload)?;
        let filter = p.filter.clone();
        let project = ctx
            .app
            .store
            .find_project_by_code(&p.project_code)
            .await
            .map_err(JobFailure::retry)?
            .ok_or_else(|| {
                JobFailure::permanent(format!("project {} no longer exists", p.project_code))
            })?;
        let mut query = AuditQuery {
            project_id: Some(project.id),
            actor: filter.actor,
            action: filter.action,
            artefact_type: filter.artefact_type,
            artefact_id: None,
            from: filter.from,
            to: filter.to,
            limit: 1000,
            offset: 0,
        };
        let total = ctx
            .app
            .store
            .count_audit(&query)
            .await
            .map_err(JobFailure::retry)?;
        let dir = ctx.data_dir.join("exports");
        std::fs::create_dir_all(&dir)
            .map_err(|e| JobFailure::retry(format!("cannot create {}: {e}", dir.display())))?;
        let name = format!("{}.csv", ctx.job.id);
        let tmp = dir.join(format!("{name}.part"));
        let file = std::fs::File::create(&tmp)
            .map_err(|e| JobFailure::retry(format!("cannot write {}: {e}", tmp.display())))?;
        let sink = HashingWriter {
            inner: std::io::BufWriter::new(file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let mut w = opensesa_interchange::csv_export::CsvWriter::new(
            sink,
            &opensesa_interchange::audit_csv::HEADER,
        )
        .map_err(|e| JobFailure::retry(e.to_string()))?;
        let mut rows = 0u64;
        loop {
            let events = ctx
                .app
                .store
                .list_audit(&query)
                .await
                .map_err(JobFailure::retry)?;
            for e in &events {
                rows += opensesa_interchange::audit_csv::write_event(&mut w, e)
                    .map_err(|e| JobFailure::retry(e.to_string()))?;
            }
            query.offset += events.len() as i64;
            let pct = if total == 0 {
                100
            } else {
                query.offset * 100 / total
            };
            ctx.progress(pct, &format!("{} of {} events", query.offset, total))
                .await;
            if (events.len() as i64) < query.limit {
                break;
            }
        }
        let mut out = w.finish().map_err(|e| JobFailure::retry(e.to_string()))?;
        out.inner
            .flush()
            .map_err(|e| JobFailure::retry(e.to_string()))?;
        let bytes = out.bytes;
        let sha256: String = out
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::rename(&tmp, dir.join(&name)).map_err(|e| JobFailure::retry(e.to_string()))?;
        Ok(
            json!({ "file": format!("exports/{name}"), "rows": rows, "events": total, "bytes": bytes, "sha256": sha256 }),
        )
    }
}

/// Writes a verification report (HTML or XLSX) of a plan or set to `exports/<job id>.<ext>`
/// in the data directory, for the person who asked: the report is built with their access,
/// so a job cannot show them more than the page would.
pub struct VvReportHandler;

#[async_trait]
impl Handler for VvReportHandler {
    fn kind(&self) -> &'static str {
        VvReportExport::KIND
    }
    fn max_attempts(&self) -> i64 {
        VvReportExport::MAX_ATTEMPTS
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        let p: VvReportPayload = payload::<VvReportExport>(&ctx.job.payload)?;
        let user_id = ctx
            .job
            .created_by
            .ok_or_else(|| JobFailure::permanent("the report job names no requester"))?;
        let user = ctx
            .app
            .store
            .find_user(user_id)
            .await
            .map_err(JobFailure::retry)?
            .filter(|u| u.is_active)
            .ok_or_else(|| JobFailure::permanent("the requester's account is gone or disabled"))?;
        let principal = opensesa_app::Principal {
            user,
            session: None,
        };
        let scope = match p.set {
            Some(set) => opensesa_app::vv::snapshots::SnapshotScope::Set(set),
            None => opensesa_app::vv::snapshots::SnapshotScope::Plan(p.plan.clone()),
        };
        ctx.progress(10, "building the report").await;
        let d = ctx
            .app
            .vv_report_file(&principal, &p.project_code, &scope, &p.format)
            .await
            .map_err(|e| match e {
                opensesa_app::AppError::Internal(m) => JobFailure::retry(m),
                other => JobFailure::permanent(other.to_string()),
            })?;
        let dir = ctx.data_dir.join("exports");
        std::fs::create_dir_all(&dir)
            .map_err(|e| JobFailure::retry(format!("cannot create {}: {e}", dir.display())))?;
        let name = format!("{}.{}", ctx.job.id, p.format);
        let tmp = dir.join(format!("{name}.part"));
        std::fs::write(&tmp, &d.bytes)
            .map_err(|e| JobFailure::retry(format!("cannot write {}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, dir.join(&name)).map_err(|e| JobFailure::retry(e.to_string()))?;
        let sha256: String = Sha256::digest(&d.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(json!({
            "file": format!("exports/{name}"),
            "file_name": d.file_name,
            "content_type": d.content_type,
            "bytes": d.bytes.len(),
            "sha256": sha256,
        }))
    }
}

/// Counts and hashes what passes through, so the checksum needs no second read of the file.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
