//! `/p/{code}/operations`: the operations dashboard, and the full dependency diagram as SVG.

use super::svg::{self, Mark};
use super::DIAGRAM_MAX;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::requirements::{layout, render_status};
use crate::pages::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opensesa_app::operations::plan::PlanView;
use opensesa_domain::operations::{ItemStatus, MilestoneStatus};
use std::collections::HashSet;

type PageResult = Result<Response, PageError>;

pub struct MsRow {
    hid: String,
    name: String,
    target: String,
    status: &'static str,
    status_name: &'static str,
    gates_done: usize,
    gates_total: usize,
    path_days: i64,
    path_len: usize,
    forecast: String,
    late: bool,
}

#[derive(Template)]
#[template(path = "operations/dashboard.html")]
struct Dashboard {
    l: Layout,
    code: String,
    item_counts: Vec<(&'static str, &'static str, usize)>,
    items_total: usize,
    milestone_counts: Vec<(&'static str, &'static str, usize)>,
    timeline: String,
    burndown: String,
    open_now: i64,
    milestones: Vec<MsRow>,
    blocked: Vec<(String, String, String)>,
    late: Vec<(String, String, String)>,
    late_total: usize,
    diagram: String,
    diagram_note: String,
}

/// Critical-path nodes of every unsettled milestone, nearest target first.
pub(crate) fn critical_nodes(plan: &PlanView, cap: usize) -> Vec<usize> {
    let mut ms: Vec<_> = plan
        .milestones
        .iter()
        .filter(|m| !m.status.is_settled())
        .collect();
    ms.sort_by_key(|m| (m.target_date, m.human_id.clone()));
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in ms {
        let Some(n) = plan.milestone_node(m) else {
            continue;
        };
        if let Some(cp) = plan.critical_path(n) {
            if out.len() + cp.nodes.len() > cap && !out.is_empty() {
                break;
            }
            // A single path longer than the cap keeps its end: the work nearest the milestone.
            let skip = cp.nodes.len().saturating_sub(cap);
            for x in cp.nodes.into_iter().skip(skip) {
                if seen.insert(x) {
                    out.push(x);
                }
            }
        }
    }
    out
}

/// The diagram a page embeds: the whole plan when small, else the critical paths.
pub(crate) fn plan_diagram(plan: &PlanView, code: &str) -> (String, String) {
    let critical: HashSet<usize> = critical_nodes(plan, usize::MAX).into_iter().collect();
    let late: HashSet<usize> = plan.late.iter().map(|l| l.item).collect();
    let base = format!("/p/{code}/operations");
    if plan.graph.len() <= DIAGRAM_MAX {
        let note = if plan.graph.is_empty() {
            "No items or milestones yet.".to_owned()
        } else {
            format!(
                "All {} items and milestones; critical paths in red.",
                plan.graph.len()
            )
        };
        return (
            svg::diagram(&plan.graph, &critical, &late, Some(&base)),
            note,
        );
    }
    let keep = critical_nodes(plan, DIAGRAM_MAX);
    let sub = plan.graph.subgraph(&keep);
    let remap = |set: &HashSet<usize>| -> HashSet<usize> {
        keep.iter()
            .enumerate()
            .filter(|(_, n)| set.contains(n))
            .map(|(k, _)| k)
            .collect()
    };
    (
        svg::diagram(&sub, &remap(&critical), &remap(&late), Some(&base)),
        format!(
            "The critical paths of the next milestones ({} of {} nodes); the whole plan is in the full diagram.",
            sub.len(),
            plan.graph.len()
        ),
    )
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = st.app.operations_dashboard(&p, &code).await?;
    let plan = &d.plan;
    let code = d.ctx.project.code.clone();
    let late_nodes: HashSet<usize> = plan.late.iter().map(|l| l.item).collect();
    let done: HashSet<_> = plan
        .items
        .iter()
        .filter(|i| i.status.is_done())
        .map(|i| i.id)
        .collect();
    let milestones: Vec<MsRow> = plan
        .milestones
        .iter()
        .map(|m| {
            let node = plan.milestone_node(m);
            let cp = node.and_then(|n| plan.critical_path(n));
            let forecast = node.and_then(|n| plan.earliest[n]);
            MsRow {
                hid: m.human_id.clone(),
                name: m.name.clone(),
                target: m.target_date.to_string(),
                status: m.status.label(),
                status_name: m.status.as_str(),
                gates_done: m.gates.iter().filter(|g| done.contains(g)).count(),
                gates_total: m.gates.len(),
                path_days: cp.as_ref().map_or(0, |c| c.days),
                path_len: cp.as_ref().map_or(0, |c| c.nodes.len().saturating_sub(1)),
                forecast: forecast.map(|f| f.to_string()).unwrap_or_default(),
                late: forecast.is_some_and(|f| f > m.target_date),
            }
        })
        .collect();
    let marks: Vec<Mark> = plan
        .milestones
        .iter()
        .map(|m| Mark {
            label: m.human_id.clone(),
            name: m.name.clone(),
            date: m.target_date,
            state: m.status.as_str(),
            late: plan
                .milestone_node(m)
                .and_then(|n| plan.earliest[n])
                .is_some_and(|f| f > m.target_date),
        })
        .collect();
    let (diagram, diagram_note) = plan_diagram(plan, &code);
    let t = Dashboard {
        l: layout(&st, &p, &c, &d.ctx, "Operations readiness", "operations"),
        item_counts: ItemStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    s.label(),
                    plan.items.iter().filter(|i| i.status == *s).count(),
                )
            })
            .collect(),
        items_total: plan.items.len(),
        milestone_counts: MilestoneStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    s.label(),
                    plan.milestones.iter().filter(|m| m.status == *s).count(),
                )
            })
            .collect(),
        timeline: svg::timeline(&marks, plan.today),
        open_now: d.burndown.last().map_or(0, |(_, n)| *n),
        burndown: svg::burndown(&d.burndown),
        milestones,
        blocked: plan
            .blocked()
            .take(100)
            .map(|i| (i.human_id.clone(), i.title.clone(), i.owner.clone()))
            .collect(),
        late_total: late_nodes.len(),
        late: plan
            .late
            .iter()
            .take(100)
            .map(|l| {
                let n = &plan.graph.nodes[l.item];
                (n.label.clone(), n.title.clone(), plan.late_reason(l))
            })
            .collect(),
        diagram,
        diagram_note,
        code,
    };
    render_status(&t, StatusCode::OK)
}

/// The whole plan's dependency diagram as an SVG document.
pub async fn diagram(
    State(st): State<AppState>,
    PageUser(p, _c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let d = st.app.operations_dashboard(&p, &code).await?;
    Ok(svg_response(full_diagram(&d.plan, &d.ctx.project.code)))
}

pub(crate) fn full_diagram(plan: &PlanView, code: &str) -> String {
    let critical: HashSet<usize> = critical_nodes(plan, usize::MAX).into_iter().collect();
    let late: HashSet<usize> = plan.late.iter().map(|l| l.item).collect();
    svg::diagram(
        &plan.graph,
        &critical,
        &late,
        Some(&format!("/p/{code}/operations")),
    )
}

pub(crate) fn svg_response(body: String) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
