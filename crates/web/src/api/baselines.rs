//! `/api/v1/projects/{code}/…`: baselines and release governance over JSON — baselines (draft,
//! freeze, the items they hold, comparisons with another baseline or the working state, the
//! field-level drill-down of one artefact), release packs on frozen baselines with their live
//! readiness checklist, lock and unlock, governance decisions and adoption actions.
//!
//! The conventions are the requirements API's: handlers call the pages' use cases (404 for
//! non-members and other projects' artefacts, 403 for a role that is too low, 409 for a change
//! the artefact's state refuses, 422 naming the field) and turn the results into the response
//! types below. Ids are strings, times RFC 3339.

use super::portfolio::AuditEventOut;
use super::requirements::{check_paging, text, ApiQuery, FieldDiffOut};
use super::ApiJson;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::baselines::packs::PackDetail;
use opensesa_app::baselines::{BaselineDetail, CompareTo};
use opensesa_app::portfolio::ProjectCtx;
use opensesa_app::ports::PackSummary;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::baselines::{
    ActionInput, ActionStatus, AdoptionAction, ArtefactKind, Baseline, BaselineInput, CheckItem,
    Decision, DecisionInput, Item, KindDiff, PackDocument, PackInput, Pair, ReleasePack,
};
use opensesa_domain::requirements::Module;
use opensesa_domain::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

async fn modules_of(st: &AppState, ctx: &ProjectCtx) -> Result<Vec<Module>, AppError> {
    Ok(st.app.store.list_modules(ctx.project.id).await?)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------

/// What a baseline captures.
#[derive(Serialize, ToSchema)]
pub struct ScopeOut {
    /// Prefixes of the requirement modules in scope; empty means every module.
    modules: Vec<String>,
    /// Whether verification plans, cases and their latest results are recorded too.
    include_vv: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BaselineOut {
    id: String,
    /// `BL-001`, per project.
    human_id: String,
    name: String,
    description: String,
    /// draft or frozen
    status: String,
    scope: ScopeOut,
    /// SHA-256 over the lines `<artefact id> <revision hash>\n` of every item, sorted by id
    /// (ids lower-case hyphenated); set once frozen.
    content_hash: Option<String>,
    /// Items recorded at the freeze.
    items: Option<i64>,
    /// Items per artefact kind (module, requirement, trace_link, vv_plan, vv_case, vv_result);
    /// empty for a draft.
    counts: BTreeMap<String, i64>,
    frozen_at: Option<DateTime<Utc>>,
    /// The user id of the lead who froze it.
    frozen_by: Option<String>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn scope_prefixes(b: &Baseline, modules: &[Module]) -> Vec<String> {
    b.scope
        .modules
        .iter()
        .filter_map(|id| modules.iter().find(|m| m.id == *id))
        .map(|m| m.prefix.clone())
        .collect()
}

fn baseline_out(b: &Baseline, modules: &[Module]) -> BaselineOut {
    let frozen = b.frozen.as_ref();
    BaselineOut {
        id: b.id.to_string(),
        human_id: b.human_id.clone(),
        name: b.name.clone(),
        description: b.description.clone(),
        status: b.status.as_str().to_owned(),
        scope: ScopeOut {
            modules: scope_prefixes(b, modules),
            include_vv: b.scope.include_vv,
        },
        content_hash: frozen.map(|f| f.content_hash.clone()),
        items: frozen.map(|f| f.items),
        counts: frozen.map(|f| f.counts.clone()).unwrap_or_default(),
        frozen_at: frozen.map(|f| f.frozen_at),
        frozen_by: frozen.and_then(|f| f.frozen_by).map(|u| u.to_string()),
        created_by: b.created_by.map(|u| u.to_string()),
        created_at: b.created_at,
        updated_at: b.updated_at,
    }
}

/// One content-addressed group of a frozen baseline: the items of one kind under one container.
#[derive(Serialize, ToSchema)]
pub struct GroupOut {
    kind: String,
    /// The container (module or plan id; the nil UUID for project-level items).
    group: String,
    items: i64,
    /// SHA-256 of the group's body; equal hashes mean equal items.
    hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct BaselineDetailOut {
    #[serde(flatten)]
    baseline: BaselineOut,
    /// The groups of a frozen baseline (empty for a draft).
    groups: Vec<GroupOut>,
}

async fn baseline_detail_out(st: &AppState, d: BaselineDetail) -> ApiResult<BaselineDetailOut> {
    let modules = modules_of(st, &d.ctx).await?;
    Ok(Json(BaselineDetailOut {
        baseline: baseline_out(&d.baseline, &modules),
        groups: d
            .groups
            .iter()
            .map(|g| GroupOut {
                kind: g.kind.as_str().to_owned(),
                group: g.group.to_string(),
                items: g.items,
                hash: g.hash.clone(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/baselines", tag = "baselines",
    summary = "The project's baselines, newest first",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<BaselineOut>), (status = 404, body = ErrorBody)))]
pub async fn list_baselines(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<BaselineOut>> {
    let (ctx, list) = st.app.list_baselines(&p, &code).await?;
    let modules = modules_of(&st, &ctx).await?;
    Ok(Json(
        list.iter().map(|b| baseline_out(b, &modules)).collect(),
    ))
}

/// Baseline fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineIn {
    /// Required on create.
    name: Option<String>,
    description: Option<String>,
    /// Prefixes of the requirement modules to record; empty or absent on create = every module.
    modules: Option<Vec<String>>,
    /// Record verification plans, cases and their latest results too (default true).
    include_vv: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/baselines", tag = "baselines",
    summary = "Create a draft baseline (editors); a lead freezes it",
    params(("code" = String, Path, description = "Project code")), request_body = BaselineIn,
    responses((status = 201, body = BaselineDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_baseline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<BaselineIn>,
) -> Created<BaselineDetailOut> {
    let input = BaselineInput {
        name: b.name.unwrap_or_default(),
        description: b.description.unwrap_or_default(),
    };
    let modules = b.modules.unwrap_or_default().join(", ");
    let created = st
        .app
        .create_baseline(&p, &code, &input, &modules, b.include_vv.unwrap_or(true))
        .await?;
    let d = st.app.baseline(&p, &code, &created.human_id).await?;
    Ok((StatusCode::CREATED, baseline_detail_out(&st, d).await?))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/baselines/{human_id}", tag = "baselines",
    summary = "One baseline: status, scope, content hash, counts per kind, freeze facts and groups",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Baseline id, e.g. BL-001")),
    responses((status = 200, body = BaselineDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_baseline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<BaselineDetailOut> {
    let d = st.app.baseline(&p, &code, &human_id).await?;
    baseline_detail_out(&st, d).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/baselines/{human_id}", tag = "baselines",
    summary = "Edit a draft baseline's name, description and scope (editors); a frozen one is a conflict",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Baseline id")),
    request_body = BaselineIn,
    responses((status = 200, body = BaselineDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_baseline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<BaselineIn>,
) -> ApiResult<BaselineDetailOut> {
    let before = st.app.baseline(&p, &code, &human_id).await?;
    let cur = &before.baseline;
    let input = BaselineInput {
        name: b.name.unwrap_or_else(|| cur.name.clone()),
        description: b.description.unwrap_or_else(|| cur.description.clone()),
    };
    let modules = match b.modules {
        Some(m) => m.join(", "),
        None => scope_prefixes(cur, &modules_of(&st, &before.ctx).await?).join(", "),
    };
    let include_vv = b.include_vv.unwrap_or(cur.scope.include_vv);
    let edited = st
        .app
        .edit_baseline(&p, &code, &human_id, &input, &modules, include_vv)
        .await?;
    let d = st.app.baseline(&p, &code, &edited.human_id).await?;
    baseline_detail_out(&st, d).await
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/baselines/{human_id}/freeze", tag = "baselines",
    summary = "Freeze a draft baseline (leads): records the exact revision of every artefact in scope and the content hash, atomically; freezing a frozen baseline answers it unchanged",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Baseline id")),
    responses((status = 200, body = BaselineDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn freeze_baseline(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<BaselineDetailOut> {
    let frozen = st.app.freeze_baseline(&p, &code, &human_id).await?;
    let d = st.app.baseline(&p, &code, &frozen.human_id).await?;
    baseline_detail_out(&st, d).await
}

/// One artefact at one revision.
#[derive(Serialize, ToSchema)]
pub struct ItemOut {
    /// module, requirement, trace_link, vv_plan, vv_case or vv_result
    kind: String,
    /// The artefact's id (lower-case hyphenated UUID).
    id: String,
    revision: i64,
    /// SHA-256 of the revision's canonical content.
    revision_hash: String,
    /// A human id, or `SYS-001 derives SS-004` for a link.
    label: String,
    /// The container (module of a requirement, plan of a case; the nil UUID at project level).
    group: String,
    /// The item above it: a requirement's parent, a result's case.
    parent: Option<String>,
}

fn item_out(i: &Item) -> ItemOut {
    ItemOut {
        kind: i.kind.as_str().to_owned(),
        id: i.id.to_string(),
        revision: i.revision,
        revision_hash: i.hash.clone(),
        label: i.label.clone(),
        group: i.group.to_string(),
        parent: i.parent.map(|u| u.to_string()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ItemPageOut {
    baseline: String,
    /// draft (the items a freeze would record now) or frozen (the recorded items)
    status: String,
    /// Sorted by kind, label and id.
    items: Vec<ItemOut>,
    /// Matching items in all pages.
    total: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// Only items of this kind: module, requirement, trace_link, vv_plan, vv_case or vv_result
    kind: Option<String>,
    /// 1 to 500 (default 100)
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/baselines/{human_id}/items", tag = "baselines",
    summary = "The items a baseline holds (a draft: what a freeze would record now), paged",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Baseline id"), ItemParams),
    responses((status = 200, body = ItemPageOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn baseline_items(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<ItemParams>,
) -> ApiResult<ItemPageOut> {
    let mut errors = FieldErrors::new();
    let kind = text(&q.kind).and_then(|k| errors.check("kind", ArtefactKind::parse(k)));
    let (limit, offset) = check_paging(q.limit, q.offset, 100, &mut errors);
    st.app.project_access(&p, &code, Permission::Read).await?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let (_, b, items) = st.app.baseline_items(&p, &code, &human_id).await?;
    let matching: Vec<&Item> = items
        .iter()
        .filter(|i| kind.is_none_or(|k| i.kind == k))
        .collect();
    Ok(Json(ItemPageOut {
        baseline: b.human_id,
        status: b.status.as_str().to_owned(),
        total: count(matching.len()),
        items: matching
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(0))
            .map(item_out)
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// A frozen baseline, e.g. BL-001 (required).
    from: Option<String>,
    /// Another frozen baseline, or `working` (the default) for the current working state.
    to: Option<String>,
}

/// An artefact present on both sides with a difference.
#[derive(Serialize, ToSchema)]
pub struct PairOut {
    from: ItemOut,
    to: ItemOut,
}

fn pair_out(p: &Pair) -> PairOut {
    PairOut {
        from: item_out(&p.from),
        to: item_out(&p.to),
    }
}

/// The differences of one artefact kind.
#[derive(Serialize, ToSchema)]
pub struct KindDiffOut {
    kind: String,
    label: String,
    added: Vec<ItemOut>,
    removed: Vec<ItemOut>,
    /// Same artefact, another revision (for results: the case's latest result changed).
    changed: Vec<PairOut>,
    /// Same artefact, another container or parent.
    moved: Vec<PairOut>,
}

fn kind_diff_out(kind: ArtefactKind, d: &KindDiff) -> KindDiffOut {
    KindDiffOut {
        kind: kind.as_str().to_owned(),
        label: kind.label().to_owned(),
        added: d.added.iter().map(item_out).collect(),
        removed: d.removed.iter().map(item_out).collect(),
        changed: d.changed.iter().map(pair_out).collect(),
        moved: d.moved.iter().map(pair_out).collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ComparisonOut {
    from: String,
    /// A baseline's human id, or `working`.
    to: String,
    /// True when nothing differs.
    equal: bool,
    /// Only the kinds with a difference, in a fixed order.
    kinds: Vec<KindDiffOut>,
    /// Groups compared item by item (their hashes differed).
    groups_compared: i64,
    /// Groups skipped because their hashes were equal.
    groups_equal: i64,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/baselines/compare", tag = "baselines",
    summary = "Compare a frozen baseline with another or with the working state: added, removed, changed and moved artefacts per kind",
    params(("code" = String, Path, description = "Project code"), CompareParams),
    responses((status = 200, body = ComparisonOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn compare_baselines(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<CompareParams>,
) -> ApiResult<ComparisonOut> {
    let Some(from) = text(&q.from) else {
        st.app.project_access(&p, &code, Permission::Read).await?;
        return Err(AppError::field("from", "is required: a frozen baseline, e.g. BL-001").into());
    };
    let to = CompareTo::parse(text(&q.to).unwrap_or("working"));
    let v = st.app.compare_baselines(&p, &code, from, &to).await?;
    let c = &v.comparison;
    Ok(Json(ComparisonOut {
        from: v.from.human_id.clone(),
        to: v
            .to
            .as_ref()
            .map_or_else(|| "working".to_owned(), |b| b.human_id.clone()),
        equal: c.is_empty(),
        kinds: c.kinds.iter().map(|(k, d)| kind_diff_out(*k, d)).collect(),
        groups_compared: count(c.groups_compared),
        groups_equal: count(c.groups_equal),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtefactDiffParams {
    /// module, requirement, vv_plan or vv_case (links and results have no revisions)
    kind: Option<String>,
    /// The artefact's id (as in a comparison's items).
    id: Option<String>,
    /// The older revision.
    from: Option<i64>,
    /// The newer revision.
    to: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ArtefactDiffOut {
    kind: String,
    id: String,
    /// The artefact's human id (a module's prefix).
    label: String,
    from: i64,
    to: i64,
    /// Only the fields that differ, by name.
    fields: Vec<FieldDiffOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/baselines/diff", tag = "baselines",
    summary = "Field- and word-level differences of one artefact between two revisions (the drill-down of a comparison)",
    params(("code" = String, Path, description = "Project code"), ArtefactDiffParams),
    responses((status = 200, body = ArtefactDiffOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn artefact_diff(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ArtefactDiffParams>,
) -> ApiResult<ArtefactDiffOut> {
    let mut errors = FieldErrors::new();
    let kind = text(&q.kind);
    if kind.is_none() {
        errors.add("kind", "is required");
    }
    let id = match text(&q.id) {
        None => {
            errors.add("id", "is required");
            None
        }
        Some(raw) => errors.check(
            "id",
            Uuid::parse_str(raw).map_err(|_| format!("{raw:?} is not an artefact id")),
        ),
    };
    for (field, v) in [("from", q.from), ("to", q.to)] {
        match v {
            None => errors.add(field, "is required: a revision number"),
            Some(n) if n < 1 => errors.add(field, "must be 1 or more"),
            Some(_) => {}
        }
    }
    st.app.project_access(&p, &code, Permission::Read).await?;
    let (Some(kind), Some(id), Some(from), Some(to)) = (kind, id, q.from, q.to) else {
        return Err(AppError::Validation(errors).into());
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let d = st.app.artefact_diff(&p, &code, kind, id, from, to).await?;
    Ok(Json(ArtefactDiffOut {
        kind: d.kind.as_str().to_owned(),
        id: id.to_string(),
        label: d.label,
        from: d.from_revision,
        to: d.to_revision,
        fields: d.fields.into_iter().map(FieldDiffOut::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Release packs
// ---------------------------------------------------------------------------------------------

/// A document that belongs to a release.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentOut {
    title: String,
    /// Document number, URL…
    #[serde(default)]
    reference: String,
    #[serde(default)]
    version: String,
}

fn document_out(d: &PackDocument) -> DocumentOut {
    DocumentOut {
        title: d.title.clone(),
        reference: d.reference.clone(),
        version: d.version.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PackOut {
    id: String,
    /// `RP-001`, per project.
    human_id: String,
    /// The frozen baseline the pack is built on.
    baseline: String,
    name: String,
    notes: String,
    documents: Vec<DocumentOut>,
    /// draft or locked
    status: String,
    revision: i64,
    locked_at: Option<DateTime<Utc>>,
    locked_by: Option<String>,
    /// The reason a lead gave to lock with a failing checklist.
    lock_override: Option<String>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn pack_out(p: &ReleasePack, baseline: &str) -> PackOut {
    PackOut {
        id: p.id.to_string(),
        human_id: p.human_id.clone(),
        baseline: baseline.to_owned(),
        name: p.name.clone(),
        notes: p.notes.clone(),
        documents: p.documents.iter().map(document_out).collect(),
        status: p.status.as_str().to_owned(),
        revision: p.revision,
        locked_at: p.locked_at,
        locked_by: p.locked_by.map(|u| u.to_string()),
        lock_override: p.lock_override.clone(),
        created_by: p.created_by.map(|u| u.to_string()),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct PackSummaryOut {
    #[serde(flatten)]
    pack: PackOut,
    /// Adoption actions open or in progress.
    open_actions: i64,
    /// The latest governance decision: go, no_go or conditional.
    last_decision: Option<String>,
}

fn pack_summary_out(s: &PackSummary) -> PackSummaryOut {
    PackSummaryOut {
        pack: pack_out(&s.pack, &s.baseline_human_id),
        open_actions: s.open_actions,
        last_decision: s.last_decision.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CheckItemOut {
    /// Stable id: approved, coverage, failing, defects or suspect
    id: String,
    label: String,
    passed: bool,
    /// What was found, with up to ten examples.
    detail: String,
}

fn check_item_out(i: &CheckItem) -> CheckItemOut {
    CheckItemOut {
        id: i.id.to_owned(),
        label: i.label.to_owned(),
        passed: i.passed,
        detail: i.detail.clone(),
    }
}

/// The readiness checklist, computed live from the baseline's artefacts.
#[derive(Serialize, ToSchema)]
pub struct ChecklistOut {
    /// Every item passes.
    passed: bool,
    items: Vec<CheckItemOut>,
    /// Informative, not blocking: cases not yet passed, minor defects.
    notes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ActionOut {
    id: String,
    /// `AA-001`, per project.
    human_id: String,
    title: String,
    owner: String,
    due: Option<NaiveDate>,
    /// open, in_progress, done or cancelled
    status: String,
    /// The states the caller may move the action to now.
    transitions: Vec<String>,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn action_out(a: &AdoptionAction, role: Role) -> ActionOut {
    ActionOut {
        id: a.id.to_string(),
        human_id: a.human_id.clone(),
        title: a.title.clone(),
        owner: a.owner.clone(),
        due: a.due,
        status: a.status.as_str().to_owned(),
        transitions: a
            .status
            .next(role)
            .into_iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        revision: a.revision,
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

/// A member's role in the project (site admins who are not members act as leads).
fn role(ctx: &ProjectCtx) -> Role {
    ctx.role.unwrap_or(Role::Lead)
}

#[derive(Serialize, ToSchema)]
pub struct DecisionOut {
    id: String,
    /// go, no_go or conditional
    decision: String,
    rationale: String,
    conditions: String,
    /// Whether the readiness checklist passed when the decision was taken.
    checklist_passed: bool,
    decided_by: Option<String>,
    decided_by_name: String,
    decided_at: DateTime<Utc>,
}

fn decision_out(d: &Decision) -> DecisionOut {
    DecisionOut {
        id: d.id.to_string(),
        decision: d.kind.as_str().to_owned(),
        rationale: d.rationale.clone(),
        conditions: d.conditions.clone(),
        checklist_passed: d.checklist_passed,
        decided_by: d.decided_by.map(|u| u.to_string()),
        decided_by_name: d.decided_by_name.clone(),
        decided_at: d.decided_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct PackDetailOut {
    #[serde(flatten)]
    pack: PackOut,
    /// The baseline's content hash (what the pack ships).
    baseline_content_hash: Option<String>,
    checklist: ChecklistOut,
    actions: Vec<ActionOut>,
    /// Newest first.
    decisions: Vec<DecisionOut>,
    /// The pack's audit trail (creation, edits, locks and unlocks with their reasons,
    /// decisions), newest first.
    history: Vec<AuditEventOut>,
}

fn pack_detail_out(d: PackDetail) -> PackDetailOut {
    let r = role(&d.ctx);
    PackDetailOut {
        pack: pack_out(&d.pack, &d.baseline.human_id),
        baseline_content_hash: d.baseline.frozen.as_ref().map(|f| f.content_hash.clone()),
        checklist: ChecklistOut {
            passed: d.checklist.passed(),
            items: d.checklist.items.iter().map(check_item_out).collect(),
            notes: d.checklist.notes.clone(),
        },
        actions: d.actions.iter().map(|a| action_out(a, r)).collect(),
        decisions: d.decisions.iter().map(decision_out).collect(),
        history: d.history.into_iter().map(AuditEventOut::from).collect(),
    }
}

async fn pack_detail(
    st: &AppState,
    p: &Principal,
    code: &str,
    hid: &str,
) -> ApiResult<PackDetailOut> {
    Ok(Json(pack_detail_out(st.app.pack(p, code, hid).await?)))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/releases", tag = "baselines",
    summary = "The project's release packs with their open actions and latest decision",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<PackSummaryOut>), (status = 404, body = ErrorBody)))]
pub async fn list_packs(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<PackSummaryOut>> {
    let (_, packs) = st.app.list_packs(&p, &code).await?;
    Ok(Json(packs.iter().map(pack_summary_out).collect()))
}

/// The documents of a pack: a list, or text with one `title | reference | version` per line.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DocumentsIn {
    List(Vec<DocumentOut>),
    Text(String),
}

impl DocumentsIn {
    /// The one-per-line text the use case parses; a `|` or line break inside a listed field
    /// would change its meaning, so it is refused.
    fn text(self) -> Result<String, AppError> {
        match self {
            DocumentsIn::Text(t) => Ok(t),
            DocumentsIn::List(list) => {
                let mut lines = Vec::with_capacity(list.len());
                for (n, d) in list.iter().enumerate() {
                    let fields = [&d.title, &d.reference, &d.version];
                    if fields.iter().any(|f| f.contains(['|', '\n', '\r'])) {
                        return Err(AppError::field(
                            "documents",
                            format!("document {}: a field contains | or a line break", n + 1),
                        ));
                    }
                    if d.title.trim().is_empty() {
                        return Err(AppError::field(
                            "documents",
                            format!("document {}: the title is required", n + 1),
                        ));
                    }
                    lines.push(format!("{} | {} | {}", d.title, d.reference, d.version));
                }
                Ok(lines.join("\n"))
            }
        }
    }
}

/// Pack fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackIn {
    /// Create only (required): the frozen baseline, e.g. BL-001.
    baseline: Option<String>,
    /// Required on create.
    name: Option<String>,
    notes: Option<String>,
    /// Replaces the documents.
    documents: Option<DocumentsIn>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/releases", tag = "baselines",
    summary = "Create a draft release pack on a frozen baseline (editors)",
    params(("code" = String, Path, description = "Project code")), request_body = PackIn,
    responses((status = 201, body = PackDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_pack(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<PackIn>,
) -> Created<PackDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let Some(baseline) = b
        .baseline
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Err(
            AppError::field("baseline", "is required: a frozen baseline, e.g. BL-001").into(),
        );
    };
    let input = PackInput {
        name: b.name.unwrap_or_default(),
        notes: b.notes.unwrap_or_default(),
        documents: b
            .documents
            .map(DocumentsIn::text)
            .transpose()?
            .unwrap_or_default(),
    };
    let pack = st.app.create_pack(&p, &code, baseline, &input).await?;
    Ok((
        StatusCode::CREATED,
        pack_detail(&st, &p, &code, &pack.human_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/releases/{human_id}", tag = "baselines",
    summary = "One release pack: content, live readiness checklist, adoption actions, decisions and history",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Pack id, e.g. RP-001")),
    responses((status = 200, body = PackDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_pack(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<PackDetailOut> {
    pack_detail(&st, &p, &code, &human_id).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/releases/{human_id}", tag = "baselines",
    summary = "Edit a draft pack's name, notes and documents (editors); a locked pack is a conflict",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Pack id")),
    request_body = PackIn,
    responses((status = 200, body = PackDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_pack(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<PackIn>,
) -> ApiResult<PackDetailOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Write).await?;
    if b.baseline.is_some() {
        return Err(AppError::field("baseline", "is set on create only").into());
    }
    let cur = st
        .app
        .store
        .find_pack(ctx.project.id, &human_id.trim().to_uppercase())
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let documents = match b.documents {
        Some(d) => d.text()?,
        None => opensesa_domain::baselines::documents_text(&cur.documents),
    };
    let input = PackInput {
        name: b.name.unwrap_or(cur.name),
        notes: b.notes.unwrap_or(cur.notes),
        documents,
    };
    let pack = st.app.edit_pack(&p, &code, &human_id, &input).await?;
    pack_detail(&st, &p, &code, &pack.human_id).await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    /// Lock: only to override a failing checklist. Unlock: required.
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/releases/{human_id}/lock", tag = "baselines",
    summary = "Lock a pack (leads): the readiness checklist must pass (409 otherwise), or a reason overrides it; audited",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Pack id")),
    request_body(content = ReasonIn, description = "Optional"),
    responses((status = 200, body = PackDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lock_pack(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<PackDetailOut> {
    let b = reason_body(&body)?;
    let pack = st
        .app
        .lock_pack(&p, &code, &human_id, b.reason.as_deref())
        .await?;
    pack_detail(&st, &p, &code, &pack.human_id).await
}

/// The reason body is optional on lock: none means no override.
fn reason_body(body: &[u8]) -> Result<ReasonIn, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ReasonIn::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("the body is not a valid request: {e}"),
        )
    })
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/releases/{human_id}/unlock", tag = "baselines",
    summary = "Unlock a locked pack (leads), with a reason (required); audited",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Pack id")),
    request_body = ReasonIn,
    responses((status = 200, body = PackDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unlock_pack(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ReasonIn>,
) -> ApiResult<PackDetailOut> {
    let pack = st
        .app
        .unlock_pack(
            &p,
            &code,
            &human_id,
            b.reason.as_deref().unwrap_or_default(),
        )
        .await?;
    pack_detail(&st, &p, &code, &pack.human_id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// go, no_go or conditional
    decision: String,
    rationale: String,
    /// Required for a conditional decision.
    #[serde(default)]
    conditions: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/releases/{human_id}/decisions", tag = "baselines",
    summary = "Record a governance decision on a pack (leads): go, no-go or conditional, with rationale; audited",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Pack id")),
    request_body = DecisionIn,
    responses((status = 201, body = DecisionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide_pack(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<DecisionIn>,
) -> Created<DecisionOut> {
    let input = DecisionInput {
        decision: b.decision,
        rationale: b.rationale,
        conditions: b.conditions,
    };
    let d = st.app.decide_pack(&p, &code, &human_id, &input).await?;
    Ok((StatusCode::CREATED, Json(decision_out(&d))))
}

/// Adoption action fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    /// Required on create.
    title: Option<String>,
    owner: Option<String>,
    /// YYYY-MM-DD; an empty string removes it.
    due: Option<String>,
}

async fn action_response(
    st: &AppState,
    p: &Principal,
    code: &str,
    a: &AdoptionAction,
) -> ApiResult<ActionOut> {
    let ctx = st.app.project_access(p, code, Permission::Read).await?;
    Ok(Json(action_out(a, role(&ctx))))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/releases/{human_id}/actions", tag = "baselines",
    summary = "Add an adoption action to a pack (editors); it starts open",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Pack id")),
    request_body = ActionIn,
    responses((status = 201, body = ActionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_action(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ActionIn>,
) -> Created<ActionOut> {
    let input = ActionInput {
        title: b.title.unwrap_or_default(),
        owner: b.owner.unwrap_or_default(),
        due: b.due.unwrap_or_default(),
    };
    let a = st.app.add_action(&p, &code, &human_id, &input).await?;
    Ok((
        StatusCode::CREATED,
        action_response(&st, &p, &code, &a).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/actions/{human_id}", tag = "baselines",
    summary = "Edit an adoption action's title, owner and due date (editors)",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Action id, e.g. AA-001")),
    request_body = ActionIn,
    responses((status = 200, body = ActionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_action(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ActionIn>,
) -> ApiResult<ActionOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Write).await?;
    let cur = st
        .app
        .store
        .find_action(ctx.project.id, &human_id.trim().to_uppercase())
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let input = ActionInput {
        title: b.title.unwrap_or(cur.title),
        owner: b.owner.unwrap_or(cur.owner),
        due: b
            .due
            .unwrap_or_else(|| cur.due.map(|d| d.to_string()).unwrap_or_default()),
    };
    let a = st.app.edit_action(&p, &code, &human_id, &input).await?;
    Ok(Json(action_out(&a, role(&ctx))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionStatusIn {
    /// open, in_progress, done or cancelled (see the action's `transitions`); also accepted
    /// as `status`.
    #[serde(alias = "status")]
    to: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/actions/{human_id}/status", tag = "baselines",
    summary = "Move an adoption action: open → in_progress → done | cancelled (editors); reopening: leads",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Action id")),
    request_body = ActionStatusIn,
    responses((status = 200, body = ActionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_action(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ActionStatusIn>,
) -> ApiResult<ActionOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Write).await?;
    let to = ActionStatus::parse(&b.to).map_err(|e| AppError::field("to", e))?;
    let a = st.app.move_action(&p, &code, &human_id, to).await?;
    Ok(Json(action_out(&a, role(&ctx))))
}
