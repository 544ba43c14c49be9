//! JUnit XML import: the report a CI pipeline produces (pytest, cargo-nextest, googletest,
//! ctest) becomes one result per mapped verification case, with the file as evidence.
//! Tests map to cases by the case's automation key (the test's full name, its name, or a
//! trailing part of the full name) or by a case id in the test's name (`VC-001`,
//! `test_vc_001_...`). Every upload is a dry run first; unknown tests are listed, and
//! nothing is recorded until the person confirms.

use super::results::{parse_time, Upload};
use super::store_err;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{CaseFact, PendingImport};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{CaseId, ImportId, ResultId, RunId};
use opensesa_domain::vv::model::parse_result_fields;
use opensesa_domain::vv::{TestResult, Verdict, CASE_PREFIX};
use opensesa_domain::FieldErrors;
use opensesa_interchange::junit::{self, Outcome, TestCase};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The largest JUnit file accepted (a 10,000-test report with output is a few MB).
pub const MAX_JUNIT_BYTES: usize = 64 * 1024 * 1024;

/// One case the import will record a result for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JunitMapped {
    pub case: String,
    pub title: String,
    pub verdict: String,
    /// The tests that map to it.
    pub tests: Vec<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JunitUnknown {
    pub test: String,
    pub outcome: String,
}

/// The dry-run report, kept with the pending import.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct JunitReport {
    pub file_name: String,
    pub tests: usize,
    pub suites: usize,
    pub mapped: Vec<JunitMapped>,
    pub unknown: Vec<JunitUnknown>,
    /// Cases that cannot take a result (retired), with the reason.
    pub refused: Vec<(String, String)>,
    /// Results to record per verdict.
    pub counts: BTreeMap<String, usize>,
    pub configuration: String,
    pub executor: String,
    pub executed_at: String,
}

fn verdict_of(o: &Outcome) -> Verdict {
    match o {
        Outcome::Passed => Verdict::Pass,
        Outcome::Failed => Verdict::Fail,
        // The test could not run as written (a fixture or setup error).
        Outcome::Error => Verdict::Blocked,
        Outcome::Skipped => Verdict::NotRun,
    }
}

/// The verdict of a case several tests map to: any failure fails it; else an error blocks
/// it; all passing passes it; all skipped is not run; passes mixed with skips are
/// inconclusive.
fn combine(vs: &[Verdict]) -> Verdict {
    if vs.contains(&Verdict::Fail) {
        Verdict::Fail
    } else if vs.contains(&Verdict::Blocked) {
        Verdict::Blocked
    } else if vs.iter().all(|v| *v == Verdict::Pass) {
        Verdict::Pass
    } else if vs.iter().all(|v| *v == Verdict::NotRun) {
        Verdict::NotRun
    } else {
        Verdict::Inconclusive
    }
}

/// A case id named in a test name: `VC-001`, `vc_001`, `VC001` (case-insensitive, as a
/// whole token), normalised to `VC-001`.
fn case_id_in(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let p = CASE_PREFIX.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&p).map(|i| i + from) {
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let mut j = i + p.len();
        if j < bytes.len() && (bytes[j] == b'-' || bytes[j] == b'_') {
            j += 1;
        }
        let start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        let after_ok = j == bytes.len() || !bytes[j].is_ascii_alphanumeric();
        if before_ok && after_ok && j > start {
            if let Ok(n) = lower[start..j].parse::<i64>() {
                return Some(opensesa_domain::requirements::model::human_id(
                    CASE_PREFIX,
                    n,
                ));
            }
        }
        from = i + p.len();
    }
    None
}

struct Mapper<'a> {
    by_key: HashMap<&'a str, &'a CaseFact>,
    by_human: HashMap<&'a str, &'a CaseFact>,
    keys: Vec<(&'a str, &'a CaseFact)>,
}

impl<'a> Mapper<'a> {
    fn new(cases: &'a [CaseFact]) -> Self {
        let keys: Vec<(&str, &CaseFact)> = cases
            .iter()
            .filter(|c| !c.automation_key.is_empty())
            .map(|c| (c.automation_key.as_str(), c))
            .collect();
        Self {
            by_key: keys.iter().copied().collect(),
            by_human: cases.iter().map(|c| (c.human_id.as_str(), c)).collect(),
            keys,
        }
    }

    fn find(&self, t: &TestCase) -> Option<&'a CaseFact> {
        let full = t.full_name();
        if let Some(c) = self
            .by_key
            .get(full.as_str())
            .or_else(|| self.by_key.get(t.name.as_str()))
        {
            return Some(c);
        }
        if let Some(c) = case_id_in(&t.name)
            .or_else(|| case_id_in(&full))
            .and_then(|h| self.by_human.get(h.as_str()).copied())
        {
            return Some(c);
        }
        // A key that ends the full name at a separator (`module::test` for `crate::module::test`).
        self.keys
            .iter()
            .filter(|(k, _)| {
                full.ends_with(k)
                    && full[..full.len() - k.len()]
                        .chars()
                        .last()
                        .is_none_or(|c| matches!(c, ':' | '.' | '/' | ' '))
            })
            .max_by_key(|(k, _)| k.len())
            .map(|(_, c)| *c)
    }
}

/// The tests mapped to one case so far: the case, their verdicts and names, and the first
/// message of a test that did not pass.
type Mapped<'a> = (&'a CaseFact, Vec<Verdict>, Vec<String>, String);

/// What `plan` decides: the report, and per mapped case the (case id, verdict, notes).
struct JunitPlan {
    report: JunitReport,
    rows: Vec<(CaseId, Verdict, String)>,
}

fn plan(
    file_name: &str,
    bytes: &[u8],
    cases: &[CaseFact],
    configuration: &str,
    executor: &str,
    executed_at: &str,
) -> Result<JunitPlan, AppError> {
    let parsed =
        junit::read(bytes).map_err(|e| AppError::field("file", format!("{file_name}: {e}")))?;
    let mapper = Mapper::new(cases);
    let mut per_case: BTreeMap<String, Mapped<'_>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for t in &parsed.cases {
        match mapper.find(t) {
            Some(c) => {
                let e = per_case
                    .entry(c.human_id.clone())
                    .or_insert_with(|| (c, Vec::new(), Vec::new(), String::new()));
                let v = verdict_of(&t.outcome);
                e.1.push(v);
                e.2.push(t.full_name());
                if v != Verdict::Pass && e.3.is_empty() && !t.message.is_empty() {
                    e.3 = t.message.clone();
                }
            }
            None => unknown.push(JunitUnknown {
                test: t.full_name(),
                outcome: verdict_of(&t.outcome).as_str().to_owned(),
            }),
        }
    }
    let mut report = JunitReport {
        file_name: file_name.to_owned(),
        tests: parsed.cases.len(),
        suites: parsed.suites,
        unknown,
        configuration: configuration.to_owned(),
        executor: executor.to_owned(),
        executed_at: executed_at.to_owned(),
        ..Default::default()
    };
    let mut rows = Vec::new();
    for (hid, (c, verdicts, tests, message)) in per_case {
        if c.status == "retired" {
            report.refused.push((
                hid,
                "the case is retired: results cannot be recorded for it".into(),
            ));
            continue;
        }
        let v = combine(&verdicts);
        *report.counts.entry(v.as_str().to_owned()).or_insert(0) += 1;
        let notes = format!(
            "JUnit import of {file_name}: {}",
            tests
                .iter()
                .zip(&verdicts)
                .map(|(t, v)| format!("{t} {}", v.as_str()))
                .collect::<Vec<_>>()
                .join("; ")
        );
        rows.push((c.id, v, format!("{notes}\n{message}").trim().to_owned()));
        report.mapped.push(JunitMapped {
            case: hid,
            title: c.title.clone(),
            verdict: v.as_str().to_owned(),
            tests,
            message,
        });
    }
    Ok(JunitPlan { report, rows })
}

pub enum JunitApplied {
    Recorded(usize),
    /// The cases changed since the dry run: here is a fresh report to confirm.
    Replanned(ImportId),
}

impl App {
    /// Reads an uploaded JUnit file and stores a pending import with its dry-run report.
    pub async fn junit_dry_run(
        &self,
        principal: &Principal,
        code: &str,
        upload: &Upload,
        configuration: &str,
        executor: &str,
        executed_at: &str,
    ) -> AppResult<(ProjectCtx, PendingImport)> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        if upload.bytes.is_empty() {
            return Err(AppError::field("file", "is empty"));
        }
        if upload.bytes.len() > MAX_JUNIT_BYTES {
            return Err(AppError::field(
                "file",
                format!("is larger than {} MB", MAX_JUNIT_BYTES / 1024 / 1024),
            ));
        }
        let executor = if executor.trim().is_empty() {
            principal.label()
        } else {
            executor.trim().to_owned()
        };
        let mut errors = FieldErrors::new();
        let (configuration, _, executor) =
            parse_result_fields(configuration, "", &executor, &mut errors);
        errors.check("executed_at", parse_time(executed_at, self.clock.now()));
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let cases = self.store.case_facts(ctx.project.id).await?;
        let name = upload
            .file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("junit.xml")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>();
        let p = plan(
            &name,
            &upload.bytes,
            &cases,
            &configuration,
            &executor,
            executed_at.trim(),
        )?;
        let import = PendingImport {
            id: ImportId::new(),
            project_id: ctx.project.id,
            module_id: None,
            format: "junit".into(),
            file_name: name,
            created_by: principal.user.id,
            created_at: self.clock.now(),
            status: "pending".into(),
            report: serde_json::to_value(&p.report)
                .map_err(|e| AppError::Internal(format!("junit report: {e}")))?,
        };
        self.store.insert_import(&import, &upload.bytes).await?;
        Ok((ctx, import))
    }

    pub async fn junit_import(
        &self,
        principal: &Principal,
        code: &str,
        id: ImportId,
    ) -> AppResult<(ProjectCtx, PendingImport, JunitReport)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let (import, _) = self
            .store
            .find_import(ctx.project.id, id)
            .await?
            .filter(|(i, _)| i.format == "junit")
            .ok_or(AppError::NotFound)?;
        let report: JunitReport = serde_json::from_value(import.report.clone())
            .map_err(|e| AppError::Internal(format!("stored junit report: {e}")))?;
        Ok((ctx, import, report))
    }

    /// Records the results of a confirmed import in one transaction, with the file as
    /// evidence of each.
    pub async fn junit_apply(
        &self,
        principal: &Principal,
        code: &str,
        id: ImportId,
    ) -> AppResult<JunitApplied> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let (import, bytes) = self
            .store
            .find_import(ctx.project.id, id)
            .await?
            .filter(|(i, _)| i.format == "junit")
            .ok_or(AppError::NotFound)?;
        if import.status != "pending" {
            return Err(AppError::Conflict(format!(
                "this import is {} already",
                import.status
            )));
        }
        let seen: JunitReport = serde_json::from_value(import.report.clone())
            .map_err(|e| AppError::Internal(format!("stored junit report: {e}")))?;
        let cases = self.store.case_facts(ctx.project.id).await?;
        let p = plan(
            &import.file_name,
            &bytes,
            &cases,
            &seen.configuration,
            &seen.executor,
            &seen.executed_at,
        )?;
        if p.report != seen {
            let fresh = PendingImport {
                id: ImportId::new(),
                created_at: self.clock.now(),
                report: serde_json::to_value(&p.report)
                    .map_err(|e| AppError::Internal(format!("junit report: {e}")))?,
                ..import.clone()
            };
            self.store.insert_import(&fresh, &bytes).await?;
            self.store.set_import_status(import.id, "discarded").await?;
            return Ok(JunitApplied::Replanned(fresh.id));
        }
        if let Some((case, why)) = p.report.refused.first() {
            return Err(AppError::Conflict(format!("{case}: {why}")));
        }
        if p.rows.is_empty() {
            return Err(AppError::Conflict(
                "no test in the file maps to a case".into(),
            ));
        }
        if !self.store.claim_import(import.id).await? {
            return Err(AppError::Conflict(
                "this import is being applied or was applied already".into(),
            ));
        }
        let outcome = self
            .junit_record(principal, &ctx, &import, &bytes, &seen, &p.rows)
            .await;
        let status = if outcome.is_ok() {
            "applied"
        } else {
            "pending"
        };
        self.store.set_import_status(import.id, status).await?;
        outcome.map(JunitApplied::Recorded)
    }

    async fn junit_record(
        &self,
        principal: &Principal,
        ctx: &ProjectCtx,
        import: &PendingImport,
        bytes: &[u8],
        report: &JunitReport,
        rows: &[(CaseId, Verdict, String)],
    ) -> AppResult<usize> {
        let evidence = self
            .store_evidence(&[Upload {
                file_name: import.file_name.clone(),
                bytes: bytes.to_vec(),
            }])
            .await?;
        let now = self.clock.now();
        let executed_at =
            parse_time(&report.executed_at, now).map_err(|e| AppError::field("executed_at", e))?;
        let cases = self.store.case_facts(ctx.project.id).await?;
        let facts: HashMap<CaseId, &CaseFact> = cases.iter().map(|c| (c.id, c)).collect();
        let run = RunId::new();
        let results: Vec<TestResult> = rows
            .iter()
            .map(|(case, verdict, notes)| TestResult {
                id: ResultId::new(),
                project_id: ctx.project.id,
                case_id: *case,
                case_revision: facts.get(case).map_or(1, |f| f.revision),
                run_id: Some(run),
                set_id: None,
                verdict: *verdict,
                steps: Vec::new(),
                executor: report.executor.clone(),
                executed_at,
                configuration: report.configuration.clone(),
                baseline_id: None,
                notes: notes.chars().take(20_000).collect(),
                evidence: evidence.clone(),
                supersedes: None,
                supersede_reason: String::new(),
                source: "junit".into(),
                recorded_by: Some(principal.user.id),
                recorded_at: now,
            })
            .collect();
        let journal = self.result_journal(principal, ctx, &results);
        self.store
            .record_results(&results, &journal)
            .await
            .map_err(store_err)?;
        Ok(results.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_in_names() {
        assert_eq!(
            case_id_in("test_vc_001_power_on").as_deref(),
            Some("VC-001")
        );
        assert_eq!(case_id_in("VC-12 boots").as_deref(), Some("VC-012"));
        assert_eq!(case_id_in("tests::vc0042").as_deref(), Some("VC-042"));
        assert_eq!(case_id_in("test_svc_001"), None);
        assert_eq!(case_id_in("test_vc_"), None);
        assert_eq!(case_id_in("vc_001x"), None);
    }

    #[test]
    fn combined_verdicts() {
        use Verdict::*;
        assert_eq!(combine(&[Pass, Fail, Pass]), Fail);
        assert_eq!(combine(&[Pass, Blocked]), Blocked);
        assert_eq!(combine(&[Pass, Pass]), Pass);
        assert_eq!(combine(&[NotRun, NotRun]), NotRun);
        assert_eq!(combine(&[Pass, NotRun]), Inconclusive);
    }
}
