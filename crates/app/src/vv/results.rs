//! Execution results: recorded once, never changed; a correction is a new result that
//! supersedes the old one with a reason. Evidence files go to the blob store first (content
//! addressed, so a failed save leaves at most an unreferenced file that a later upload of the
//! same bytes reuses) and are listed on the result.

use super::store_err;
use crate::audit::EventBuilder;
use crate::blob_port::BlobError;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{Journal, ResultRecord};
use crate::{App, Principal};
use chrono::{DateTime, NaiveDateTime, Utc};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{CaseSetId, ResultId, RunId};
use opensesa_domain::vv::model::{parse_reason, parse_result_fields};
use opensesa_domain::vv::{Case, CaseStatus, Evidence, StepResult, TestResult, Verdict};
use opensesa_domain::FieldErrors;
use serde::Deserialize;
use serde_json::json;

/// Most evidence files on one result.
pub const MAX_EVIDENCE_FILES: usize = 20;

/// A file a person uploads.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What a person records for one execution.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResultInput {
    pub verdict: String,
    /// Per-step outcomes: (1-based step, verdict, note); steps left out were not assessed.
    #[serde(default)]
    pub steps: Vec<StepInput>,
    #[serde(default)]
    pub executor: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` (a browser's local date-time, taken as UTC); now when
    /// empty.
    #[serde(default)]
    pub executed_at: String,
    #[serde(default)]
    pub configuration: String,
    /// The frozen baseline (human id, `BL-001`) the configuration under test corresponds to;
    /// empty for none.
    #[serde(default)]
    pub baseline: String,
    #[serde(default)]
    pub notes: String,
    /// The result this one corrects, and why.
    pub supersedes: Option<ResultId>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StepInput {
    pub step: usize,
    pub verdict: String,
    #[serde(default)]
    pub note: String,
}

pub(crate) fn parse_time(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(now);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "{s:?} is not a date and time; use 2026-05-01T14:30 or RFC 3339"
    ))
}

/// A file name to show: the last path component, no control characters, bounded.
fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() {
        "evidence".to_owned()
    } else {
        clean.trim().to_owned()
    }
}

impl App {
    /// Stores uploaded files as evidence; an oversize or empty file is refused naming it.
    pub(crate) async fn store_evidence(&self, files: &[Upload]) -> AppResult<Vec<Evidence>> {
        if files.len() > MAX_EVIDENCE_FILES {
            return Err(AppError::field(
                "evidence",
                format!("at most {MAX_EVIDENCE_FILES} files per result"),
            ));
        }
        let blobs = self
            .blobs
            .as_ref()
            .ok_or_else(|| AppError::Internal("no evidence store is configured".into()))?;
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let name = display_name(&f.file_name);
            let stored = blobs.put(&f.bytes).await.map_err(|e| match e {
                BlobError::TooLarge { .. } | BlobError::Empty => {
                    AppError::field("evidence", format!("{name}: {e}"))
                }
                other => AppError::Internal(other.to_string()),
            })?;
            out.push(Evidence {
                sha256: stored.sha256,
                size: stored.size,
                content_type: stored.content_type,
                file_name: name,
            });
        }
        Ok(out)
    }

    /// Checks a result input against the case and builds the result.
    fn build_result(
        &self,
        principal: &Principal,
        case: &Case,
        input: &ResultInput,
        evidence: Vec<Evidence>,
        errors: &mut FieldErrors,
    ) -> Option<TestResult> {
        let now = self.clock.now();
        let verdict = errors.check("verdict", Verdict::parse(&input.verdict));
        let mut steps = Vec::new();
        for s in &input.steps {
            let field = format!("steps[{}]", s.step);
            if s.step == 0 || s.step > case.steps.len() {
                errors.add(
                    &field,
                    format!("case {} has {} steps", case.human_id, case.steps.len()),
                );
                continue;
            }
            if s.verdict.trim().is_empty() {
                continue;
            }
            if let Some(v) = errors.check(&field, Verdict::parse(&s.verdict)) {
                steps.push(StepResult {
                    step: s.step,
                    verdict: v,
                    note: s.note.trim().chars().take(2_000).collect(),
                });
            }
        }
        let executor = if input.executor.trim().is_empty() {
            principal.label()
        } else {
            input.executor.clone()
        };
        let (configuration, notes, executor) =
            parse_result_fields(&input.configuration, &input.notes, &executor, errors);
        let executed_at = errors.check("executed_at", parse_time(&input.executed_at, now));
        if let Some(t) = executed_at {
            if t > now + chrono::Duration::minutes(5) {
                errors.add("executed_at", "is in the future");
            }
        }
        let reason = match input.supersedes {
            Some(_) => errors.check("reason", parse_reason(&input.reason)),
            None => Some(String::new()),
        };
        if case.status == CaseStatus::Retired {
            errors.add(
                "case",
                format!(
                    "case {} is retired: results cannot be recorded for it",
                    case.human_id
                ),
            );
        }
        Some(TestResult {
            id: ResultId::new(),
            project_id: case.project_id,
            case_id: case.id,
            case_revision: case.revision,
            run_id: None,
            set_id: None,
            verdict: verdict?,
            steps,
            executor,
            executed_at: executed_at?,
            configuration,
            baseline_id: None,
            notes,
            evidence,
            supersedes: input.supersedes,
            supersede_reason: reason?,
            source: "manual".into(),
            recorded_by: Some(principal.user.id),
            recorded_at: now,
        })
    }

    pub(crate) fn result_journal(
        &self,
        principal: &Principal,
        ctx: &ProjectCtx,
        results: &[TestResult],
    ) -> Journal {
        let mut journal = Journal::default();
        for r in results {
            let mut e = EventBuilder::by(
                self,
                principal,
                if r.supersedes.is_some() {
                    Action::Update
                } else {
                    Action::Create
                },
                "vv_result",
                r.id,
            )
            .project(ctx.project.id)
            .change("case", json!(null), json!(r.case_id))
            .change("verdict", json!(null), json!(r.verdict));
            if let Some(old) = r.supersedes {
                e = e
                    .change("supersedes", json!(null), json!(old))
                    .reason(Some(r.supersede_reason.clone()));
            }
            journal.events.push(e.build());
        }
        journal
    }

    /// Records one result of a case (a viewer cannot).
    /// The frozen baseline a result names, from its human id (empty: none).
    async fn result_baseline(
        &self,
        ctx: &ProjectCtx,
        raw: &str,
        errors: &mut FieldErrors,
    ) -> AppResult<Option<uuid::Uuid>> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        match self
            .store
            .find_baseline(ctx.project.id, &raw.to_uppercase())
            .await?
        {
            None => errors.add("baseline", format!("there is no baseline {raw}")),
            Some(b) if b.status != opensesa_domain::baselines::BaselineStatus::Frozen => errors
                .add(
                    "baseline",
                    format!(
                        "{} is a draft: a result names a frozen baseline",
                        b.human_id
                    ),
                ),
            Some(b) => return Ok(Some(b.id.0)),
        }
        Ok(None)
    }

    pub async fn record_result(
        &self,
        principal: &Principal,
        code: &str,
        case_human_id: &str,
        input: &ResultInput,
        files: &[Upload],
    ) -> AppResult<TestResult> {
        let (ctx, case) = self
            .case_of(principal, code, case_human_id, Permission::Write)
            .await?;
        if let Some(old) = input.supersedes {
            let rec = self
                .store
                .find_result(ctx.project.id, old)
                .await?
                .ok_or_else(|| AppError::field("supersedes", "no such result in this project"))?;
            if rec.result.case_id != case.id {
                return Err(AppError::field(
                    "supersedes",
                    format!(
                        "that result is of case {}, not {}",
                        rec.case_human_id, case.human_id
                    ),
                ));
            }
            if rec.superseded_by.is_some() {
                return Err(AppError::Conflict(
                    "that result has been superseded already; supersede the newest correction instead".into(),
                ));
            }
        }
        // Validate before storing any file.
        let mut errors = FieldErrors::new();
        let baseline = self
            .result_baseline(&ctx, &input.baseline, &mut errors)
            .await?;
        self.build_result(principal, &case, input, Vec::new(), &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let evidence = self.store_evidence(files).await?;
        let mut errors = FieldErrors::new();
        let mut result = self
            .build_result(principal, &case, input, evidence, &mut errors)
            .ok_or(AppError::Validation(errors))?;
        result.baseline_id = baseline;
        let journal = self.result_journal(principal, &ctx, std::slice::from_ref(&result));
        self.store
            .record_results(std::slice::from_ref(&result), &journal)
            .await
            .map_err(store_err)?;
        Ok(result)
    }

    /// Runs a set: one result per case given a verdict, all in one run and one transaction.
    /// `verdicts` maps case human ids to (verdict, note); the other fields are shared.
    pub async fn run_set(
        &self,
        principal: &Principal,
        code: &str,
        set: CaseSetId,
        verdicts: &[(String, String, String)],
        common: &ResultInput,
    ) -> AppResult<Vec<TestResult>> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let set = self
            .store
            .find_set(ctx.project.id, set)
            .await?
            .ok_or(AppError::NotFound)?;
        let members = self.store.set_members(set.id).await?;
        let cases = self.store.find_cases(ctx.project.id, &members).await?;
        let run = RunId::new();
        let mut errors = FieldErrors::new();
        let baseline = self
            .result_baseline(&ctx, &common.baseline, &mut errors)
            .await?;
        let mut results = Vec::new();
        for (hid, verdict, note) in verdicts {
            if verdict.trim().is_empty() {
                continue;
            }
            let Some(case) = cases.iter().find(|c| c.human_id.eq_ignore_ascii_case(hid)) else {
                errors.add(hid, format!("case {hid} is not in set {}", set.name));
                continue;
            };
            let input = ResultInput {
                verdict: verdict.clone(),
                notes: if note.trim().is_empty() {
                    common.notes.clone()
                } else {
                    note.clone()
                },
                steps: Vec::new(),
                supersedes: None,
                reason: String::new(),
                ..common.clone()
            };
            let mut case_errors = FieldErrors::new();
            let r = self.build_result(principal, case, &input, Vec::new(), &mut case_errors);
            for (f, reasons) in case_errors.iter() {
                for why in reasons {
                    errors.add(&format!("{}.{f}", case.human_id), why.clone());
                }
            }
            if let Some(mut r) = r {
                r.run_id = Some(run);
                r.set_id = Some(set.id);
                r.baseline_id = baseline;
                results.push(r);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if results.is_empty() {
            return Err(AppError::field(
                "verdicts",
                "give at least one case a verdict",
            ));
        }
        let journal = self.result_journal(principal, &ctx, &results);
        self.store
            .record_results(&results, &journal)
            .await
            .map_err(store_err)?;
        Ok(results)
    }

    /// Records prepared results in one transaction (with their audit events), for bulk
    /// loaders such as `opensesa demo --size N`. Needs write access to the project.
    pub async fn import_results(
        &self,
        principal: &Principal,
        code: &str,
        results: Vec<TestResult>,
    ) -> AppResult<usize> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        if results.iter().any(|r| r.project_id != ctx.project.id) {
            return Err(AppError::forbidden(
                "every result must belong to the project",
            ));
        }
        let journal = self.result_journal(principal, &ctx, &results);
        self.store
            .record_results(&results, &journal)
            .await
            .map_err(store_err)?;
        Ok(results.len())
    }

    pub async fn result(
        &self,
        principal: &Principal,
        code: &str,
        id: ResultId,
    ) -> AppResult<(ProjectCtx, ResultRecord)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let rec = self
            .store
            .find_result(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, rec))
    }

    pub async fn recent_results(
        &self,
        principal: &Principal,
        code: &str,
        limit: i64,
    ) -> AppResult<(ProjectCtx, Vec<ResultRecord>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let rows = self.store.recent_results(ctx.project.id, limit).await?;
        Ok((ctx, rows))
    }

    /// An evidence file of a result, its checksum verified against the stored bytes.
    pub async fn evidence(
        &self,
        principal: &Principal,
        code: &str,
        result: ResultId,
        sha256: &str,
    ) -> AppResult<(Evidence, Vec<u8>)> {
        let (_, rec) = self.result(principal, code, result).await?;
        let ev = rec
            .result
            .evidence
            .iter()
            .find(|e| e.sha256 == sha256)
            .cloned()
            .ok_or(AppError::NotFound)?;
        let blobs = self
            .blobs
            .as_ref()
            .ok_or_else(|| AppError::Internal("no evidence store is configured".into()))?;
        let bytes = blobs.get(&ev.sha256).await.map_err(|e| match e {
            BlobError::NotFound { .. } => AppError::NotFound,
            other => AppError::Internal(other.to_string()),
        })?;
        Ok((ev, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_names() {
        let now = Utc::now();
        assert_eq!(parse_time("", now).unwrap(), now);
        assert_eq!(
            parse_time("2026-05-01T14:30", now).unwrap().to_rfc3339(),
            "2026-05-01T14:30:00+00:00"
        );
        assert!(parse_time("yesterday", now).is_err());
        assert_eq!(display_name("C:\\logs\\run.txt"), "run.txt");
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("\u{7}"), "evidence");
    }
}
