//! `/api/v1/projects/{code}/operations/…`: operations readiness over JSON — readiness items
//! and their workflow, milestones with their gating items and the gating rule, finish-to-start
//! dependencies (409 naming the cycle a new one would close), the dashboard (critical path per
//! milestone, late and blocked items, burn-down) and the dependency diagram as SVG.
//!
//! The conventions are the V&V API's: handlers call the pages' use cases (404 for
//! non-members and other projects' artefacts, 403 for a role that is too low), ids are
//! strings, dates `YYYY-MM-DD`, times RFC 3339, and a call about one artefact answers with its
//! detail.

use super::requirements::{path_id, text, ApiQuery};
use super::ApiJson;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::operations::plan::PlanView;
use opensesa_app::operations::{DependencyView, ItemDetail, MilestoneDetail};
use opensesa_app::ports::ItemFact;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::DependencyId;
use opensesa_domain::operations::{
    ItemInput, ItemStatus, Milestone, MilestoneInput, MilestoneStatus, NodeRef, ReadinessItem,
};
use opensesa_domain::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

fn states<S: Copy>(next: &[S], name: impl Fn(S) -> &'static str) -> Vec<String> {
    next.iter().map(|s| name(*s).to_owned()).collect()
}

// ---------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct ItemOut {
    id: String,
    /// `OPS-001`
    human_id: String,
    title: String,
    owner: String,
    /// YYYY-MM-DD
    due_date: Option<NaiveDate>,
    /// open, in_progress, done or blocked
    status: String,
    source: String,
    /// Planned duration in days (critical path, forecast).
    duration_days: i64,
    /// When it was marked done (null unless done).
    done_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    /// Late against the nearest milestone it gates or precedes.
    late: bool,
}

fn item_out(i: &ItemFact, late: bool) -> ItemOut {
    ItemOut {
        id: i.id.to_string(),
        human_id: i.human_id.clone(),
        title: i.title.clone(),
        owner: i.owner.clone(),
        due_date: i.due_date,
        status: i.status.as_str().into(),
        source: i.source.clone(),
        duration_days: i.duration_days,
        done_at: i.done_at,
        created_at: i.created_at,
        late,
    }
}

fn late_set(plan: &PlanView) -> HashSet<NodeRef> {
    plan.late
        .iter()
        .map(|l| plan.graph.nodes[l.item].node)
        .collect()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// open, in_progress, done or blocked
    status: Option<String>,
    /// true: only late items
    late: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/items", tag = "operations",
    summary = "Readiness items of the project in id order, filtered by status or lateness",
    params(("code" = String, Path, description = "Project code"), ItemParams),
    responses((status = 200, body = Vec<ItemOut>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_items(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ItemParams>,
) -> ApiResult<Vec<ItemOut>> {
    let mut errors = FieldErrors::new();
    let status = text(&q.status).and_then(|s| errors.check("status", ItemStatus::parse(s)));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let d = st.app.operations_dashboard(&p, &code).await?;
    let late = late_set(&d.plan);
    Ok(Json(
        d.plan
            .items
            .iter()
            .filter(|i| status.is_none_or(|s| i.status == s))
            .map(|i| item_out(i, late.contains(&NodeRef::Item(i.id))))
            .filter(|o| q.late != Some(true) || o.late)
            .collect(),
    ))
}

/// A dependency end as a detail lists it.
#[derive(Serialize, ToSchema)]
pub struct NeighbourOut {
    /// The dependency's id (for DELETE …/dependencies/{id}).
    dependency_id: String,
    /// `OPS-002` or `MS-001`
    human_id: String,
    title: String,
}

fn neighbours(list: &[(DependencyId, String, String)]) -> Vec<NeighbourOut> {
    list.iter()
        .map(|(id, h, t)| NeighbourOut {
            dependency_id: id.to_string(),
            human_id: h.clone(),
            title: t.clone(),
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct ItemDetailOut {
    item: ItemOut,
    description: String,
    revision: i64,
    updated_at: DateTime<Utc>,
    /// States the caller may move the item to now.
    transitions: Vec<String>,
    /// Milestones it gates: human ids.
    gates: Vec<String>,
    /// What it waits for, and what waits for it (explicit dependencies).
    predecessors: Vec<NeighbourOut>,
    successors: Vec<NeighbourOut>,
    /// Why it is late, when it is.
    late_reason: Option<String>,
    /// Revision numbers, oldest first.
    revisions: Vec<i64>,
}

fn item_detail_out(d: ItemDetail) -> ItemDetailOut {
    let i: &ReadinessItem = &d.item;
    let mut revisions: Vec<i64> = d.revisions.iter().map(|r| r.number).collect();
    revisions.sort_unstable();
    ItemDetailOut {
        item: item_out(&ItemFact::from(i), d.late.is_some()),
        description: i.description.clone(),
        revision: i.revision,
        updated_at: i.updated_at,
        transitions: states(&d.next, ItemStatus::as_str),
        gates: d.gates.iter().map(|(h, _)| h.clone()).collect(),
        predecessors: neighbours(&d.predecessors),
        successors: neighbours(&d.successors),
        late_reason: d.late,
        revisions,
    }
}

async fn item_detail(
    st: &AppState,
    p: &Principal,
    code: &str,
    hid: &str,
) -> ApiResult<ItemDetailOut> {
    Ok(Json(item_detail_out(
        st.app.ops_item_detail(p, code, hid).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// Required.
    title: Option<String>,
    description: Option<String>,
    owner: Option<String>,
    /// YYYY-MM-DD; empty clears it.
    due_date: Option<String>,
    source: Option<String>,
    /// Whole days, 1 to 3650 (default 1).
    duration_days: Option<i64>,
    /// PATCH only: the revision you edited; 409 when it is no longer current.
    revision: Option<i64>,
}

impl ItemIn {
    fn input(&self) -> ItemInput {
        ItemInput {
            title: self.title.clone(),
            description: self.description.clone(),
            owner: self.owner.clone(),
            due_date: self.due_date.clone(),
            source: self.source.clone(),
            duration_days: self.duration_days.map(|d| d.to_string()),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/operations/items", tag = "operations",
    summary = "Create a readiness item (editors); it starts open",
    params(("code" = String, Path, description = "Project code")), request_body = ItemIn,
    responses((status = 201, body = ItemDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_item(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ItemIn>,
) -> Created<ItemDetailOut> {
    let i = st.app.create_ops_item(&p, &code, &b.input()).await?;
    Ok((
        StatusCode::CREATED,
        item_detail(&st, &p, &code, &i.human_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/items/{human_id}", tag = "operations",
    summary = "One readiness item with its dependencies, the milestones it gates, lateness and revisions",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Item id, e.g. OPS-001")),
    responses((status = 200, body = ItemDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_item(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<ItemDetailOut> {
    item_detail(&st, &p, &code, &human_id).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/operations/items/{human_id}", tag = "operations",
    summary = "Edit a readiness item (editors); absent fields stay as they are; a new revision",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Item id")),
    request_body = ItemIn,
    responses((status = 200, body = ItemDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_item(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ItemIn>,
) -> ApiResult<ItemDetailOut> {
    let i = st
        .app
        .update_ops_item(&p, &code, &human_id, &b.input(), b.revision)
        .await?;
    item_detail(&st, &p, &code, &i.human_id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemStatusIn {
    /// open, in_progress, done or blocked (see the item's `transitions`).
    #[serde(default)]
    to: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/operations/items/{human_id}/status", tag = "operations",
    summary = "Move a readiness item: open → in_progress → done, blocked ⇄ open / in_progress; a lead reopens a done item",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Item id")),
    request_body = ItemStatusIn,
    responses((status = 200, body = ItemDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_item(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ItemStatusIn>,
) -> ApiResult<ItemDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let to = ItemStatus::parse(&b.to).map_err(|e| AppError::field("to", e))?;
    let i = st.app.move_ops_item(&p, &code, &human_id, to).await?;
    item_detail(&st, &p, &code, &i.human_id).await
}

// ---------------------------------------------------------------------------------------------
// Milestones
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct MilestoneOut {
    id: String,
    /// `MS-001`
    human_id: String,
    name: String,
    description: String,
    /// YYYY-MM-DD
    target_date: NaiveDate,
    /// planned, at_risk, achieved or missed
    status: String,
    /// Gating items (human ids) in order.
    gates: Vec<String>,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn milestone_out(m: &Milestone, plan: &PlanView) -> MilestoneOut {
    MilestoneOut {
        id: m.id.to_string(),
        human_id: m.human_id.clone(),
        name: m.name.clone(),
        description: m.description.clone(),
        target_date: m.target_date,
        status: m.status.as_str().into(),
        gates: m
            .gates
            .iter()
            .map(|g| {
                plan.items
                    .iter()
                    .find(|i| i.id == *g)
                    .map_or_else(|| g.to_string(), |i| i.human_id.clone())
            })
            .collect(),
        revision: m.revision,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// One step of a critical path.
#[derive(Serialize, ToSchema)]
pub struct PathStepOut {
    human_id: String,
    title: String,
    /// item or milestone
    kind: String,
    duration_days: i64,
    status: String,
    /// The forecast finish (forward pass from today).
    earliest_finish: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct CriticalPathOut {
    /// Sum of the planned durations along the path.
    days: i64,
    /// From the first unfinished piece of work to the milestone.
    steps: Vec<PathStepOut>,
}

fn critical_path_out(plan: &PlanView, node: usize) -> CriticalPathOut {
    let cp = plan.critical_path(node);
    CriticalPathOut {
        days: cp.as_ref().map_or(0, |c| c.days),
        steps: cp
            .map(|c| {
                c.nodes
                    .iter()
                    .map(|n| {
                        let x = &plan.graph.nodes[*n];
                        PathStepOut {
                            human_id: x.label.clone(),
                            title: x.title.clone(),
                            kind: x.node.kind().into(),
                            duration_days: x.duration,
                            status: x.state.into(),
                            earliest_finish: plan.earliest[*n],
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LateOut {
    /// The late item.
    human_id: String,
    title: String,
    /// The nearest milestone it gates or precedes.
    milestone: String,
    target_date: NaiveDate,
    due_date: Option<NaiveDate>,
    earliest_finish: NaiveDate,
    /// The due date is after the target date.
    due_late: bool,
    /// The forecast finish is after the target date.
    forecast_late: bool,
    reason: String,
}

fn late_out(plan: &PlanView, l: &opensesa_domain::operations::graph::Late) -> LateOut {
    let n = &plan.graph.nodes[l.item];
    LateOut {
        human_id: n.label.clone(),
        title: n.title.clone(),
        milestone: plan.graph.nodes[l.milestone].label.clone(),
        target_date: l.target,
        due_date: l.due,
        earliest_finish: l.earliest_finish,
        due_late: l.due_late,
        forecast_late: l.forecast_late,
        reason: plan.late_reason(l),
    }
}

#[derive(Serialize, ToSchema)]
pub struct MilestoneDetailOut {
    milestone: MilestoneOut,
    /// States the caller may move the milestone to now.
    transitions: Vec<String>,
    /// Gating items not done yet ("OPS-003 is blocked"); achieving is refused while any
    /// remain, unless a lead gives a reason.
    open_gates: Vec<String>,
    /// The forecast date it is reached (null once achieved or missed).
    forecast: Option<NaiveDate>,
    critical_path: CriticalPathOut,
    /// Late items that gate it or whose nearest milestone it is.
    late_items: Vec<LateOut>,
    predecessors: Vec<NeighbourOut>,
    successors: Vec<NeighbourOut>,
    revisions: Vec<i64>,
}

fn milestone_detail_out(d: MilestoneDetail) -> MilestoneDetailOut {
    let plan = &d.plan;
    let gates: HashSet<_> = d.milestone.gates.iter().copied().collect();
    let mut revisions: Vec<i64> = d.revisions.iter().map(|r| r.number).collect();
    revisions.sort_unstable();
    MilestoneDetailOut {
        milestone: milestone_out(&d.milestone, plan),
        transitions: states(&d.next, MilestoneStatus::as_str),
        open_gates: d.open_gates.clone(),
        forecast: plan.earliest[d.node],
        critical_path: critical_path_out(plan, d.node),
        late_items: plan
            .late
            .iter()
            .filter(|l| {
                l.milestone == d.node
                    || matches!(plan.graph.nodes[l.item].node, NodeRef::Item(i) if gates.contains(&i))
            })
            .map(|l| late_out(plan, l))
            .collect(),
        predecessors: neighbours(&d.predecessors),
        successors: neighbours(&d.successors),
        revisions,
    }
}

async fn milestone_detail(
    st: &AppState,
    p: &Principal,
    code: &str,
    hid: &str,
) -> ApiResult<MilestoneDetailOut> {
    Ok(Json(milestone_detail_out(
        st.app.milestone_detail(p, code, hid).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/milestones", tag = "operations",
    summary = "Milestones of the project in id order, with their gating items",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<MilestoneOut>), (status = 404, body = ErrorBody)))]
pub async fn list_milestones(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<MilestoneOut>> {
    let d = st.app.operations_dashboard(&p, &code).await?;
    Ok(Json(
        d.plan
            .milestones
            .iter()
            .map(|m| milestone_out(m, &d.plan))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneIn {
    /// Required on create.
    name: Option<String>,
    description: Option<String>,
    /// YYYY-MM-DD; required on create.
    target_date: Option<String>,
    /// Gating items (human ids); on PATCH, present replaces the list.
    gates: Option<Vec<String>>,
    /// PATCH only: the revision you edited; 409 when it is no longer current.
    revision: Option<i64>,
}

impl MilestoneIn {
    fn input(&self) -> MilestoneInput {
        MilestoneInput {
            name: self.name.clone(),
            description: self.description.clone(),
            target_date: self.target_date.clone(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/operations/milestones", tag = "operations",
    summary = "Create a milestone with its gating items (editors); it starts planned",
    params(("code" = String, Path, description = "Project code")), request_body = MilestoneIn,
    responses((status = 201, body = MilestoneDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_milestone(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<MilestoneIn>,
) -> Created<MilestoneDetailOut> {
    let gates = b.gates.clone().unwrap_or_default().join(", ");
    let m = st
        .app
        .create_milestone(&p, &code, &b.input(), &gates)
        .await?;
    Ok((
        StatusCode::CREATED,
        milestone_detail(&st, &p, &code, &m.human_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/milestones/{human_id}", tag = "operations",
    summary = "One milestone with its gating checklist, critical path, forecast, late items and dependencies",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Milestone id, e.g. MS-001")),
    responses((status = 200, body = MilestoneDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_milestone(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<MilestoneDetailOut> {
    milestone_detail(&st, &p, &code, &human_id).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/operations/milestones/{human_id}", tag = "operations",
    summary = "Edit a milestone (editors); `gates` replaces the gating items (409 when one would close a cycle); a new revision",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Milestone id")),
    request_body = MilestoneIn,
    responses((status = 200, body = MilestoneDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_milestone(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<MilestoneIn>,
) -> ApiResult<MilestoneDetailOut> {
    let gates = b.gates.as_ref().map(|g| g.join(", "));
    let m = st
        .app
        .update_milestone(
            &p,
            &code,
            &human_id,
            &b.input(),
            gates.as_deref(),
            b.revision,
        )
        .await?;
    milestone_detail(&st, &p, &code, &m.human_id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneStatusIn {
    /// planned, at_risk, achieved or missed
    #[serde(default)]
    to: String,
    /// A lead's reason to record the milestone achieved although gating items are not done;
    /// audited.
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/operations/milestones/{human_id}/status", tag = "operations",
    summary = "Move a milestone: planned ⇄ at_risk → achieved | missed; a lead reopens. Achieving needs every gating item done (409 otherwise) or a lead's `reason`; missing needs the target date passed",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Milestone id")),
    request_body = MilestoneStatusIn,
    responses((status = 200, body = MilestoneDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_milestone(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<MilestoneStatusIn>,
) -> ApiResult<MilestoneDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let to = MilestoneStatus::parse(&b.to).map_err(|e| AppError::field("to", e))?;
    let reason = b.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let m = st
        .app
        .move_milestone(&p, &code, &human_id, to, reason)
        .await?;
    milestone_detail(&st, &p, &code, &m.human_id).await
}

// ---------------------------------------------------------------------------------------------
// Dependencies
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct DependencyOut {
    id: String,
    /// Human id of the predecessor (item or milestone).
    predecessor: String,
    /// Human id of the successor: it cannot start before the predecessor is finished.
    successor: String,
    created_at: DateTime<Utc>,
}

fn dependency_out(d: &DependencyView) -> DependencyOut {
    DependencyOut {
        id: d.dependency.id.to_string(),
        predecessor: d.predecessor.0.clone(),
        successor: d.successor.0.clone(),
        created_at: d.dependency.created_at,
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/dependencies", tag = "operations",
    summary = "Finish-to-start dependencies between the project's items and milestones",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<DependencyOut>), (status = 404, body = ErrorBody)))]
pub async fn list_dependencies(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<DependencyOut>> {
    let (_, deps) = st.app.list_ops_dependencies(&p, &code).await?;
    Ok(Json(deps.iter().map(dependency_out).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyIn {
    /// `OPS-…` or `MS-…`
    #[serde(default)]
    predecessor: String,
    /// `OPS-…` or `MS-…`
    #[serde(default)]
    successor: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/operations/dependencies", tag = "operations",
    summary = "Add a finish-to-start dependency (editors); 409 when it repeats one or would close a cycle (the message names the cycle)",
    params(("code" = String, Path, description = "Project code")), request_body = DependencyIn,
    responses((status = 201, body = DependencyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_dependency(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<DependencyIn>,
) -> Created<DependencyOut> {
    let d = st
        .app
        .add_ops_dependency(&p, &code, &b.predecessor, &b.successor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DependencyOut {
            id: d.id.to_string(),
            predecessor: b.predecessor.trim().to_uppercase(),
            successor: b.successor.trim().to_uppercase(),
            created_at: d.created_at,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/projects/{code}/operations/dependencies/{id}", tag = "operations",
    summary = "Remove a dependency (editors)",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Dependency id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_dependency(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: DependencyId = path_id(&id)?;
    st.app.remove_ops_dependency(&p, &code, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Dashboard and diagram
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct MilestoneSummaryOut {
    human_id: String,
    name: String,
    target_date: NaiveDate,
    status: String,
    gates_total: usize,
    gates_done: usize,
    forecast: Option<NaiveDate>,
    /// The forecast is after the target date.
    late: bool,
    critical_path: CriticalPathOut,
}

#[derive(Serialize, ToSchema)]
pub struct BurndownDayOut {
    day: NaiveDate,
    /// Items not done at the end of the day.
    open: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OpsDashboardOut {
    today: NaiveDate,
    /// Items per status.
    items: std::collections::BTreeMap<String, usize>,
    milestones: Vec<MilestoneSummaryOut>,
    blocked: Vec<ItemOut>,
    late: Vec<LateOut>,
    /// The last 60 days.
    burndown: Vec<BurndownDayOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/dashboard", tag = "operations",
    summary = "The operations dashboard: items per status, each milestone's critical path and forecast, blocked and late items, the burn-down",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = OpsDashboardOut), (status = 404, body = ErrorBody)))]
pub async fn dashboard(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<OpsDashboardOut> {
    let d = st.app.operations_dashboard(&p, &code).await?;
    let plan = &d.plan;
    let done: HashSet<_> = plan
        .items
        .iter()
        .filter(|i| i.status.is_done())
        .map(|i| i.id)
        .collect();
    let late = late_set(plan);
    Ok(Json(OpsDashboardOut {
        today: plan.today,
        items: ItemStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    plan.items.iter().filter(|i| i.status == *s).count(),
                )
            })
            .collect(),
        milestones: plan
            .milestones
            .iter()
            .filter_map(|m| {
                let n = plan.milestone_node(m)?;
                let forecast = plan.earliest[n];
                Some(MilestoneSummaryOut {
                    human_id: m.human_id.clone(),
                    name: m.name.clone(),
                    target_date: m.target_date,
                    status: m.status.as_str().into(),
                    gates_total: m.gates.len(),
                    gates_done: m.gates.iter().filter(|g| done.contains(g)).count(),
                    forecast,
                    late: forecast.is_some_and(|f| f > m.target_date),
                    critical_path: critical_path_out(plan, n),
                })
            })
            .collect(),
        blocked: plan
            .blocked()
            .map(|i| item_out(i, late.contains(&NodeRef::Item(i.id))))
            .collect(),
        late: plan.late.iter().map(|l| late_out(plan, l)).collect(),
        burndown: d
            .burndown
            .iter()
            .map(|(day, open)| BurndownDayOut {
                day: *day,
                open: *open,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/operations/diagram", tag = "operations",
    summary = "The dependency diagram of the whole plan as an SVG document (layered layout; critical paths and late items marked)",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, description = "The diagram", content_type = "image/svg+xml"), (status = 404, body = ErrorBody)))]
pub async fn diagram(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let d = st.app.operations_dashboard(&p, &code).await?;
    Ok(crate::pages::operations::dashboard_svg(
        &d.plan,
        &d.ctx.project.code,
    ))
}
