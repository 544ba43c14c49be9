//! `/p/{code}/vv`: the V&V dashboard.

use super::PageResult;
use crate::auth::PageUser;
use crate::pages::requirements::{layout, render_status};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use opensesa_domain::vv::Verdict;

pub struct VerdictBar {
    name: &'static str,
    label: &'static str,
    n: i64,
    pct: i64,
}

pub struct TrendRow {
    day: String,
    counts: Vec<i64>,
    total: i64,
    /// Each verdict's part of a 200-pixel bar scaled to the busiest day: (name, x, width).
    widths: Vec<(&'static str, i64, i64)>,
}

pub struct PlanRow {
    hid: String,
    title: String,
    status: &'static str,
    cases: i64,
}

pub struct ResultRow {
    id: String,
    case: String,
    verdict: &'static str,
    verdict_label: &'static str,
    at: String,
    executor: String,
    superseded: bool,
}

#[derive(Template)]
#[template(path = "vv/dashboard.html")]
struct Dashboard {
    l: Layout,
    code: String,
    cases: i64,
    verdicts: Vec<VerdictBar>,
    trend: Vec<TrendRow>,
    verdict_names: Vec<&'static str>,
    defects: Vec<(String, i64)>,
    open_defects: i64,
    without_case: i64,
    plans: Vec<PlanRow>,
    recent: Vec<ResultRow>,
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = st.app.vv_dashboard(&p, &code).await?;
    let (_, recent) = st.app.recent_results(&p, &code, 10).await?;
    let total: i64 = d.verdicts.iter().map(|(_, n)| n).sum();
    let busiest = d
        .trend
        .iter()
        .map(|t| t.counts.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let t = Dashboard {
        l: layout(&st, &p, &c, &d.ctx, "Verification", "vv"),
        code: d.ctx.project.code.clone(),
        cases: d.facts.cases,
        verdicts: d
            .verdicts
            .iter()
            .map(|(v, n)| VerdictBar {
                name: v.as_str(),
                label: v.label(),
                n: *n,
                pct: if total == 0 { 0 } else { n * 100 / total },
            })
            .collect(),
        trend: d
            .trend
            .iter()
            .map(|t| TrendRow {
                day: t.day.format("%m-%d").to_string(),
                total: t.counts.iter().sum(),
                widths: {
                    let mut x = 0;
                    Verdict::ALL
                        .iter()
                        .zip(&t.counts)
                        .map(|(v, n)| {
                            let w = n * 200 / busiest;
                            x += w;
                            (v.as_str(), x - w, w)
                        })
                        .collect()
                },
                counts: t.counts.clone(),
            })
            .collect(),
        verdict_names: Verdict::ALL.iter().map(|v| v.label()).collect(),
        open_defects: d.open_defects.iter().map(|(_, n)| n).sum(),
        defects: d.open_defects.clone(),
        without_case: d.facts.requirements_without_case,
        plans: d
            .plans
            .iter()
            .map(|s| PlanRow {
                hid: s.plan.human_id.clone(),
                title: s.plan.title.clone(),
                status: s.plan.status.label(),
                cases: s.cases,
            })
            .collect(),
        recent: recent
            .iter()
            .map(|r| ResultRow {
                id: r.result.id.to_string(),
                case: r.case_human_id.clone(),
                verdict: r.result.verdict.as_str(),
                verdict_label: r.result.verdict.label(),
                at: when(&r.result.executed_at),
                executor: r.result.executor.clone(),
                superseded: r.superseded_by.is_some(),
            })
            .collect(),
    };
    render_status(&t, StatusCode::OK)
}
