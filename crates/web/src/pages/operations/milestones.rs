//! Milestones: the list with the create form; a milestone's page (gating checklist, workflow
//! with the gating rule and a lead's override, critical path, the diagram of what it waits
//! for, edit, revisions); and the dependencies page (list, add, remove).

use super::items::unpack;
use super::svg;
use super::DIAGRAM_MAX;
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::error::PageError;
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Failure, Fields, Opt};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::DependencyId;
use opensesa_domain::operations::{MilestoneInput, MilestoneStatus, NodeRef};
use std::collections::HashSet;

type PageResult = Result<Response, PageError>;
type Typed = Option<(Fields, Failure)>;

pub struct MsRow {
    hid: String,
    name: String,
    target: String,
    status: &'static str,
    status_name: &'static str,
    gates: usize,
}

#[derive(Template)]
#[template(path = "operations/milestones.html")]
struct MilestonesPage {
    l: Layout,
    code: String,
    rows: Vec<MsRow>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

fn input(f: &Fields) -> MilestoneInput {
    MilestoneInput {
        name: f.get("name").map(str::to_owned),
        description: f.get("description").map(str::to_owned),
        target_date: f.get("target_date").map(str::to_owned),
    }
}

async fn milestones_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, ms) = st.app.list_milestones(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let t = MilestonesPage {
        l: layout(st, p, c, &ctx, "Milestones", "operations").with_error(error),
        code: ctx.project.code.clone(),
        rows: ms
            .iter()
            .map(|m| MsRow {
                hid: m.human_id.clone(),
                name: m.name.clone(),
                target: m.target_date.to_string(),
                status: m.status.label(),
                status_name: m.status.as_str(),
                gates: m.gates.len(),
            })
            .collect(),
        can_write: ctx.can(Permission::Write),
        f,
        errs,
    };
    render_status(&t, status)
}

pub async fn list(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    milestones_page(&st, &p, &c, &code, None).await
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .create_milestone(&p, &code, &input(&f), &f.text("gates"))
        .await;
    match recoverable(r, None)? {
        Ok(m) => Ok(redirect_with_flash(
            &st,
            &format!(
                "/p/{}/operations/milestones/{}",
                code.to_uppercase(),
                m.human_id
            ),
            &format!("Milestone {} created.", m.human_id),
        )),
        Err(failure) => milestones_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

pub struct PathStep {
    hid: String,
    title: String,
    kind: &'static str,
    days: i64,
    status: &'static str,
    finish: String,
}

#[derive(Template)]
#[template(path = "operations/milestone.html")]
struct MilestonePage {
    l: Layout,
    code: String,
    hid: String,
    name: String,
    description: Vec<String>,
    description_raw: String,
    target: String,
    forecast: String,
    status: &'static str,
    status_name: &'static str,
    revision: i64,
    gates: Vec<(String, String, &'static str, &'static str, bool)>,
    gates_text: String,
    open_gates: Vec<String>,
    path: Vec<PathStep>,
    path_days: i64,
    late: Vec<(String, String, String)>,
    predecessors: Vec<(String, String, String)>,
    successors: Vec<(String, String, String)>,
    diagram: String,
    diagram_note: String,
    next: Vec<Opt>,
    can_write: bool,
    can_lead: bool,
    revisions: Vec<(i64, String)>,
    f: Fields,
    errs: Errs,
    edit_open: bool,
}

async fn milestone_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.milestone_detail(p, code, hid).await?;
    let edit_open = typed.as_ref().is_some_and(|(f, _)| f.get("name").is_some());
    let (f, errs, error, status) = unpack(typed);
    let m = &d.milestone;
    let plan = &d.plan;
    let cp = plan.critical_path(d.node);
    let critical: HashSet<usize> = cp
        .as_ref()
        .map(|c| c.nodes.iter().copied().collect())
        .unwrap_or_default();
    // What the milestone waits for: its ancestors (capped, critical path first).
    let mut keep: Vec<usize> = cp.as_ref().map(|c| c.nodes.clone()).unwrap_or_default();
    let skip = keep.len().saturating_sub(DIAGRAM_MAX - 1);
    keep.drain(..skip);
    let mut kept: HashSet<usize> = keep.iter().copied().collect();
    let ancestors = plan.graph.ancestors(d.node);
    let total = ancestors.len();
    // The nearest ancestors first (highest index in the plan's order is no guide; use depth
    // from the milestone), so the capped diagram shows what the milestone waits for directly.
    let mut frontier = vec![d.node];
    while let Some(x) = frontier.pop() {
        for &p in plan.graph.preds(x) {
            if keep.len() >= DIAGRAM_MAX {
                break;
            }
            if kept.insert(p) {
                keep.push(p);
                frontier.insert(0, p);
            }
        }
    }
    if kept.insert(d.node) {
        keep.push(d.node);
    }
    let sub = plan.graph.subgraph(&keep);
    let late_nodes: HashSet<usize> = plan.late.iter().map(|l| l.item).collect();
    let remap = |set: &HashSet<usize>| -> HashSet<usize> {
        keep.iter()
            .enumerate()
            .filter(|(_, n)| set.contains(n))
            .map(|(k, _)| k)
            .collect()
    };
    let base = format!("/p/{}/operations", d.ctx.project.code);
    let diagram = svg::diagram(&sub, &remap(&critical), &remap(&late_nodes), Some(&base));
    let diagram_note = if total > sub.len() {
        format!(
            "{} of the {total} items and milestones it waits for.",
            sub.len()
        )
    } else {
        format!("Everything it waits for ({} nodes).", sub.len())
    };
    let gate_ids: HashSet<_> = m.gates.iter().collect();
    let t = MilestonePage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("{} {}", m.human_id, m.name),
            "operations",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        hid: m.human_id.clone(),
        name: m.name.clone(),
        description: m.description.lines().map(str::to_owned).collect(),
        description_raw: m.description.clone(),
        target: m.target_date.to_string(),
        forecast: plan.earliest[d.node]
            .map(|f| f.to_string())
            .unwrap_or_default(),
        status: m.status.label(),
        status_name: m.status.as_str(),
        revision: m.revision,
        gates: d
            .gates
            .iter()
            .map(|g| {
                (
                    g.human_id.clone(),
                    g.title.clone(),
                    g.status.label(),
                    g.status.as_str(),
                    g.status.is_done(),
                )
            })
            .collect(),
        gates_text: d
            .gates
            .iter()
            .map(|g| g.human_id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        open_gates: d.open_gates.clone(),
        path_days: cp.as_ref().map_or(0, |c| c.days),
        path: cp
            .as_ref()
            .map(|c| {
                c.nodes
                    .iter()
                    .map(|n| {
                        let node = &plan.graph.nodes[*n];
                        PathStep {
                            hid: node.label.clone(),
                            title: node.title.clone(),
                            kind: if node.node.is_milestone() {
                                "milestones"
                            } else {
                                "items"
                            },
                            days: node.duration,
                            status: node.state,
                            finish: plan.earliest[*n]
                                .map(|f| f.to_string())
                                .unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
        late: plan
            .late
            .iter()
            .filter(|l| {
                l.milestone == d.node
                    || matches!(plan.graph.nodes[l.item].node, NodeRef::Item(i) if gate_ids.contains(&i))
            })
            .map(|l| {
                let n = &plan.graph.nodes[l.item];
                (n.label.clone(), n.title.clone(), plan.late_reason(l))
            })
            .collect(),
        predecessors: d
            .predecessors
            .iter()
            .map(|(id, h, t)| (id.to_string(), h.clone(), t.clone()))
            .collect(),
        successors: d
            .successors
            .iter()
            .map(|(id, h, t)| (id.to_string(), h.clone(), t.clone()))
            .collect(),
        diagram,
        diagram_note,
        next: d
            .next
            .iter()
            .map(|s| {
                Opt::new(
                    s.as_str(),
                    format!("Move to {}", s.label().to_lowercase()),
                    false,
                )
            })
            .collect(),
        can_write: d.ctx.can(Permission::Write),
        can_lead: d.ctx.can(Permission::Lead),
        revisions: d
            .revisions
            .iter()
            .rev()
            .map(|r| (r.number, when(&r.at)))
            .collect(),
        f,
        errs,
        edit_open,
    };
    render_status(&t, status)
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    milestone_page(&st, &p, &c, &code, &hid, None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let expected = f.non_empty("revision").and_then(|r| r.parse().ok());
    let gates = f.get("gates").map(str::to_owned);
    let r = st
        .app
        .update_milestone(&p, &code, &hid, &input(&f), gates.as_deref(), expected)
        .await;
    match recoverable(r, Some("gates"))? {
        Ok(m) => Ok(redirect_with_flash(
            &st,
            &format!(
                "/p/{}/operations/milestones/{}",
                code.to_uppercase(),
                m.human_id
            ),
            "Milestone saved.",
        )),
        Err(failure) => milestone_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn status(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = match MilestoneStatus::parse(&f.text("to")) {
        Ok(to) => {
            st.app
                .move_milestone(&p, &code, &hid, to, f.non_empty("reason").as_deref())
                .await
        }
        Err(e) => Err(AppError::field("to", e)),
    };
    match recoverable(r, Some("to"))? {
        Ok(m) => Ok(redirect_with_flash(
            &st,
            &format!(
                "/p/{}/operations/milestones/{}",
                code.to_uppercase(),
                m.human_id
            ),
            &format!(
                "Milestone {} is {}.",
                m.human_id,
                m.status.label().to_lowercase()
            ),
        )),
        Err(failure) => milestone_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

#[derive(Template)]
#[template(path = "operations/dependencies.html")]
struct DependenciesPage {
    l: Layout,
    code: String,
    rows: Vec<(String, String, String, String, String)>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

async fn dependencies_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, deps) = st.app.list_ops_dependencies(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let t = DependenciesPage {
        l: layout(st, p, c, &ctx, "Dependencies", "operations").with_error(error),
        code: ctx.project.code.clone(),
        rows: deps
            .iter()
            .map(|d| {
                (
                    d.dependency.id.to_string(),
                    d.predecessor.0.clone(),
                    d.predecessor.1.clone(),
                    d.successor.0.clone(),
                    d.successor.1.clone(),
                )
            })
            .collect(),
        can_write: ctx.can(Permission::Write),
        f,
        errs,
    };
    render_status(&t, status)
}

pub async fn dependencies(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    dependencies_page(&st, &p, &c, &code, None).await
}

/// Where to go after a dependency form: the page it came from when that is one of this
/// project's operations pages, else the dependencies list (never another site).
fn back(code: &str, f: &Fields) -> String {
    let base = format!("/p/{}/operations", code.to_uppercase());
    match f.non_empty("back") {
        Some(b)
            if b.starts_with(&format!("{base}/"))
                && !b.contains("//")
                && b.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/-_".contains(c)) =>
        {
            b
        }
        _ => format!("{base}/dependencies"),
    }
}

pub async fn add_dependency(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .add_ops_dependency(&p, &code, &f.text("predecessor"), &f.text("successor"))
        .await;
    match recoverable(r, Some("successor"))? {
        Ok(_) => Ok(redirect_with_flash(
            &st,
            &back(&code, &f),
            &format!(
                "{} now waits for {}.",
                f.text("successor").trim().to_uppercase(),
                f.text("predecessor").trim().to_uppercase()
            ),
        )),
        Err(failure) => dependencies_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

pub async fn remove_dependency(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(PageUser(p, _c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let id: DependencyId = id.parse().map_err(|_| AppError::NotFound)?;
    st.app.remove_ops_dependency(&p, &code, id).await?;
    Ok(redirect_with_flash(
        &st,
        &back(&code, &f),
        "Dependency removed.",
    ))
}
