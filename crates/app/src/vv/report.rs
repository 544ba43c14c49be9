//! Verification reports per plan or set: verdict summary, per-requirement coverage by the
//! scope's cases, failing cases with their defects, and the evidence list with checksums.
//! One model renders to a self-contained printable HTML page and to XLSX, so the page, the
//! download and the background job for large plans produce the same report.

use super::snapshots::SnapshotScope;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::requirements::coverage::{CaseIndex, VerificationStatus};
use crate::requirements::exchange::Download;
use crate::{App, Principal};
use chrono::{DateTime, Utc};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{CaseId, ResultId};
use opensesa_domain::requirements::LinkKind;
use opensesa_domain::vv::Verdict;
use opensesa_interchange::sheet::{Cell, SheetFormat, SheetWriter};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

/// Plans with more cases than this get their report from a background job.
pub const INLINE_REPORT_CASES: usize = 2_000;

#[derive(Debug, Clone, Serialize)]
pub struct ReportCase {
    pub human_id: String,
    pub title: String,
    pub status: String,
    pub revision: i64,
    pub verdict: Option<Verdict>,
    pub result_id: Option<ResultId>,
    pub executed_at: Option<DateTime<Utc>>,
    pub executor: String,
    pub configuration: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRequirement {
    pub human_id: String,
    pub title: String,
    pub cases: Vec<String>,
    pub status: VerificationStatus,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportDefect {
    pub human_id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportEvidence {
    pub case: String,
    pub result_id: ResultId,
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VvReport {
    pub project_code: String,
    pub project_name: String,
    pub scope_kind: String,
    pub scope_label: String,
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    pub verdicts: Vec<(Verdict, usize)>,
    pub cases: Vec<ReportCase>,
    pub requirements: Vec<ReportRequirement>,
    /// Failing cases (latest result fails) with the defects that name them.
    pub failing: Vec<(String, String, Vec<ReportDefect>)>,
    pub evidence: Vec<ReportEvidence>,
}

impl VvReport {
    pub fn file_stem(&self) -> String {
        let scope: String = self
            .scope_label
            .split_whitespace()
            .next()
            .unwrap_or("report")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        format!("{}-{}-vv-report", self.project_code, scope)
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report as one printable HTML document (no scripts, inline style).
pub fn to_html(r: &VvReport) -> String {
    let mut h = String::with_capacity(256 + r.cases.len() * 300);
    let title = format!("V&V report — {} — {}", r.project_code, r.scope_label);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font:13px/1.4 system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}}\
         th,td{{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}}th{{background:#eee}}\
         .pass{{color:#176317}}.fail{{color:#a11}}code{{font-size:11px;word-break:break-all}}\
         @media print{{body{{margin:0}}h2{{page-break-after:avoid}}tr{{page-break-inside:avoid}}}}</style></head><body>",
        esc(&title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p>Project {} ({}) · {} {} · generated {} by {}</p>",
        esc(&title),
        esc(&r.project_name),
        esc(&r.project_code),
        esc(&r.scope_kind),
        esc(&r.scope_label),
        r.generated_at.format("%Y-%m-%d %H:%M UTC"),
        esc(&r.generated_by)
    );
    h.push_str("<h2>Summary by verdict</h2><table><tr><th>Verdict</th><th>Cases</th></tr>");
    for (v, n) in &r.verdicts {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", v.label());
    }
    let _ = write!(
        h,
        "<tr><th>Total</th><th>{}</th></tr></table>",
        r.cases.len()
    );
    h.push_str("<h2>Requirement coverage</h2><table><tr><th>Requirement</th><th>Title</th><th>Cases</th><th>Status</th></tr>");
    for q in &r.requirements {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&q.human_id),
            esc(&q.title),
            esc(&q.cases.join(", ")),
            q.status.label()
        );
    }
    h.push_str("</table><h2>Failing cases and defects</h2>");
    if r.failing.is_empty() {
        h.push_str("<p>No case fails.</p>");
    } else {
        h.push_str("<table><tr><th>Case</th><th>Title</th><th>Defects</th></tr>");
        for (c, t, ds) in &r.failing {
            let defects = if ds.is_empty() {
                "none raised".to_owned()
            } else {
                ds.iter()
                    .map(|d| {
                        format!(
                            "{} {} ({}, {})",
                            esc(&d.human_id),
                            esc(&d.title),
                            esc(&d.severity),
                            esc(&d.status)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{defects}</td></tr>",
                esc(c),
                esc(t)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Cases</h2><table><tr><th>Case</th><th>Title</th><th>Rev.</th><th>Status</th><th>Latest verdict</th><th>Executed</th><th>By</th><th>Configuration</th></tr>");
    for c in &r.cases {
        let (class, verdict) = match c.verdict {
            Some(Verdict::Pass) => ("pass", "Pass"),
            Some(Verdict::Fail) => ("fail", "Fail"),
            Some(v) => ("", v.label()),
            None => ("", "No result"),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{verdict}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.human_id),
            esc(&c.title),
            c.revision,
            esc(&c.status),
            c.executed_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
            esc(&c.executor),
            esc(&c.configuration)
        );
    }
    h.push_str("</table><h2>Evidence</h2>");
    if r.evidence.is_empty() {
        h.push_str("<p>No evidence files on the latest results.</p>");
    } else {
        h.push_str(
            "<table><tr><th>Case</th><th>File</th><th>Type</th><th>Bytes</th><th>SHA-256</th></tr>",
        );
        for e in &r.evidence {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&e.case),
                esc(&e.file_name),
                esc(&e.content_type),
                e.size,
                esc(&e.sha256)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>");
    h
}

/// The report as an XLSX workbook: one sheet per section.
pub fn to_xlsx(r: &VvReport) -> AppResult<Vec<u8>> {
    let err = |e: opensesa_interchange::sheet::SheetError| {
        AppError::Internal(format!("report export: {e}"))
    };
    let mut w = SheetWriter::new(SheetFormat::Xlsx, "Summary").map_err(err)?;
    w.header(&["verdict", "cases"]).map_err(err)?;
    for (v, n) in &r.verdicts {
        w.row(&[v.as_str().into(), Cell::Number(*n as f64)])
            .map_err(err)?;
    }
    w.add_sheet("Cases").map_err(err)?;
    w.header(&[
        "case",
        "title",
        "revision",
        "status",
        "verdict",
        "executed",
        "executor",
        "configuration",
    ])
    .map_err(err)?;
    for c in &r.cases {
        w.row(&[
            c.human_id.as_str().into(),
            c.title.as_str().into(),
            Cell::Number(c.revision as f64),
            c.status.as_str().into(),
            c.verdict.map_or("", Verdict::as_str).into(),
            c.executed_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
                .into(),
            c.executor.as_str().into(),
            c.configuration.as_str().into(),
        ])
        .map_err(err)?;
    }
    w.add_sheet("Requirements").map_err(err)?;
    w.header(&["requirement", "title", "cases", "status"])
        .map_err(err)?;
    for q in &r.requirements {
        w.row(&[
            q.human_id.as_str().into(),
            q.title.as_str().into(),
            q.cases.join(", ").into(),
            q.status.as_str().into(),
        ])
        .map_err(err)?;
    }
    w.add_sheet("Failing").map_err(err)?;
    w.header(&["case", "title", "defects"]).map_err(err)?;
    for (c, t, ds) in &r.failing {
        w.row(&[
            c.as_str().into(),
            t.as_str().into(),
            ds.iter()
                .map(|d| format!("{} ({}, {})", d.human_id, d.severity, d.status))
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        ])
        .map_err(err)?;
    }
    w.add_sheet("Evidence").map_err(err)?;
    w.header(&["case", "result", "file", "content type", "bytes", "sha256"])
        .map_err(err)?;
    for e in &r.evidence {
        w.row(&[
            e.case.as_str().into(),
            e.result_id.to_string().into(),
            e.file_name.as_str().into(),
            e.content_type.as_str().into(),
            Cell::Number(e.size as f64),
            e.sha256.as_str().into(),
        ])
        .map_err(err)?;
    }
    w.finish().map_err(err)
}

impl App {
    /// Builds the report of a plan or set.
    pub async fn vv_report(
        &self,
        principal: &Principal,
        code: &str,
        scope: &SnapshotScope,
    ) -> AppResult<(ProjectCtx, VvReport)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let (kind, _, label, case_ids) = self.scope_cases(&ctx, scope).await?;
        let in_scope: HashSet<CaseId> = case_ids.iter().copied().collect();
        let cases = self.store.find_cases(ctx.project.id, &case_ids).await?;
        let latest = self.store.latest_of(&case_ids).await?;
        let latest_ids: Vec<ResultId> = latest.iter().map(|l| l.result_id).collect();
        let results: HashMap<CaseId, _> = self
            .store
            .results_by_ids(&latest_ids)
            .await?
            .into_iter()
            .map(|r| (r.case_id, r))
            .collect();
        let mut verdict_count: BTreeMap<Verdict, usize> = BTreeMap::new();
        let mut report_cases = Vec::with_capacity(cases.len());
        let mut evidence = Vec::new();
        for c in &cases {
            let r = results.get(&c.id);
            *verdict_count
                .entry(r.map_or(Verdict::NotRun, |r| r.verdict))
                .or_insert(0) += 1;
            if let Some(r) = r {
                for e in &r.evidence {
                    evidence.push(ReportEvidence {
                        case: c.human_id.clone(),
                        result_id: r.id,
                        file_name: e.file_name.clone(),
                        sha256: e.sha256.clone(),
                        size: e.size,
                        content_type: e.content_type.clone(),
                    });
                }
            }
            report_cases.push(ReportCase {
                human_id: c.human_id.clone(),
                title: c.title.clone(),
                status: c.status.as_str().to_owned(),
                revision: c.revision,
                verdict: r.map(|r| r.verdict),
                result_id: r.map(|r| r.id),
                executed_at: r.map(|r| r.executed_at),
                executor: r.map(|r| r.executor.clone()).unwrap_or_default(),
                configuration: r.map(|r| r.configuration.clone()).unwrap_or_default(),
            });
        }
        // Requirement coverage by the scope's cases only.
        let index = CaseIndex {
            names: cases
                .iter()
                .filter(|c| c.status.as_str() != "retired")
                .map(|c| (c.id.0, c.human_id.clone()))
                .collect(),
            latest: latest.iter().map(|l| (l.case_id.0, l.verdict)).collect(),
        };
        let links = self.store.link_facts(ctx.project.id).await?;
        let mut by_req: BTreeMap<uuid::Uuid, Vec<uuid::Uuid>> = BTreeMap::new();
        for l in links
            .iter()
            .filter(|l| l.kind == LinkKind::Verifies && in_scope.contains(&CaseId(l.source_id)))
        {
            by_req.entry(l.target_id).or_default().push(l.source_id);
        }
        let facts = self.store.requirement_facts_light(ctx.project.id).await?;
        let scope_modules: HashSet<_> = match scope {
            SnapshotScope::Plan(h) => self
                .store
                .find_plan(ctx.project.id, &h.trim().to_uppercase())
                .await?
                .map(|p| p.scope_modules.into_iter().collect())
                .unwrap_or_default(),
            SnapshotScope::Set(_) => HashSet::new(),
        };
        let mut requirements: Vec<ReportRequirement> = facts
            .iter()
            .filter(|f| {
                f.status != "obsolete" && !matches!(f.kind.as_str(), "heading" | "information")
            })
            .filter(|f| by_req.contains_key(&f.id.0) || scope_modules.contains(&f.module_id))
            .map(|f| {
                let ids = by_req.get(&f.id.0).cloned().unwrap_or_default();
                ReportRequirement {
                    human_id: f.human_id.clone(),
                    title: f.title.clone(),
                    cases: ids
                        .iter()
                        .filter_map(|i| index.names.get(i).cloned())
                        .collect(),
                    status: index.status(&ids),
                }
            })
            .collect();
        requirements.sort_by(|a, b| a.human_id.cmp(&b.human_id));
        let defects = self.store.list_defects(ctx.project.id).await?;
        let failing = cases
            .iter()
            .filter(|c| {
                results
                    .get(&c.id)
                    .is_some_and(|r| r.verdict == Verdict::Fail)
            })
            .map(|c| {
                let ds = defects
                    .iter()
                    .filter(|d| d.cases.contains(&c.id))
                    .map(|d| ReportDefect {
                        human_id: d.human_id.clone(),
                        title: d.title.clone(),
                        severity: d.severity.as_str().to_owned(),
                        status: d.status.as_str().to_owned(),
                    })
                    .collect();
                (c.human_id.clone(), c.title.clone(), ds)
            })
            .collect();
        let report = VvReport {
            project_code: ctx.project.code.clone(),
            project_name: ctx.project.name.clone(),
            scope_kind: kind.to_owned(),
            scope_label: label,
            generated_at: self.clock.now(),
            generated_by: principal.label(),
            verdicts: Verdict::ALL
                .iter()
                .map(|v| (*v, verdict_count.get(v).copied().unwrap_or(0)))
                .collect(),
            cases: report_cases,
            requirements,
            failing,
            evidence,
        };
        Ok((ctx, report))
    }

    /// The report as a download: `html` or `xlsx`.
    pub async fn vv_report_file(
        &self,
        principal: &Principal,
        code: &str,
        scope: &SnapshotScope,
        format: &str,
    ) -> AppResult<Download> {
        let (_, r) = self.vv_report(principal, code, scope).await?;
        match format {
            "xlsx" => Ok(Download {
                file_name: format!("{}.xlsx", r.file_stem()),
                content_type: SheetFormat::Xlsx.content_type(),
                bytes: to_xlsx(&r)?,
            }),
            "html" => Ok(Download {
                file_name: format!("{}.html", r.file_stem()),
                content_type: "text/html; charset=utf-8",
                bytes: to_html(&r).into_bytes(),
            }),
            other => Err(AppError::field(
                "format",
                format!("{other:?} is not html or xlsx"),
            )),
        }
    }
}
