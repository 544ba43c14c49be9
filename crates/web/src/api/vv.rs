//! `/api/v1/projects/{code}/vv/…`: verification and validation over JSON — plans and their
//! activities, cases with their `verifies` links, sets and set runs, immutable results with
//! evidence files, corrections, defects and their closing rule, snapshots and their comparison,
//! JUnit imports (a dry run, then apply), the dashboard and reports.
//!
//! The conventions are the requirements API's: handlers call the pages' use cases (so access
//! is the same: 404 for non-members and other projects' artefacts, 403 for a role that is too
//! low) and turn the results into the response types below, because domain types carry no
//! OpenAPI derives. Ids are strings, times RFC 3339. A call about one artefact answers with its
//! detail, so a client sees the effect of a change without a second request.

use super::requirements::{check_paging, path_id, text};
use super::requirements::{ApiQuery, FieldDiffOut, LinkOut};
use super::ApiJson;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::blob_port::{attachment_disposition, served_content_type};
use opensesa_app::jobs::VvReportPayload;
use opensesa_app::portfolio::ProjectCtx;
use opensesa_app::ports::{
    CaseQuery, CaseRow, LatestResult, PendingImport, PlanSummary, ResultRecord, SetSummary,
    Snapshot,
};
use opensesa_app::requirements::exchange::Download;
use opensesa_app::vv::junit::{JunitApplied, JunitReport};
use opensesa_app::vv::results::{ResultInput, StepInput, Upload};
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{ActivityId, CaseId, CaseSetId, ImportId, RequirementId, ResultId};
use opensesa_domain::requirements::{LinkKind, Module};
use opensesa_domain::vv::snapshot::{CaseChange, SnapCase};
use opensesa_domain::vv::{
    Activity, ActivityInput, Case, CaseInput, CaseSet, CaseStatus, Defect, DefectInput,
    DefectStatus, Plan, PlanInput, PlanStatus, Severity, Step, TestResult, Verdict,
};
use opensesa_domain::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// Uploads (evidence, JUnit reports) are read up to this many bytes per request, as on the
/// pages; the evidence store applies its own configured limit per file and names it.
const MAX_UPLOAD_BYTES: usize = 80 * 1024 * 1024;

/// The body limit of the upload routes (the default limit is far smaller).
pub(super) fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_UPLOAD_BYTES)
}

/// An id in a body: malformed is a refusal naming the field.
fn body_id<T: std::str::FromStr>(field: &str, raw: &str, what: &str) -> Result<T, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::field(field, format!("{raw:?} is not {what}")))
}

/// Human ids as the use cases take them: one comma-separated list.
fn joined(ids: &[String]) -> String {
    ids.join(", ")
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn states<S: Copy>(next: &[S], name: impl Fn(S) -> &'static str) -> Vec<String> {
    next.iter().map(|s| name(*s).to_owned()).collect()
}

fn store_err(e: opensesa_app::ports::StoreError) -> AppError {
    AppError::from(e)
}

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VvStatusIn {
    /// The state to move to (see the artefact's `transitions` for the ones open to the caller).
    to: String,
}

/// Cases per verdict.
#[derive(Serialize, ToSchema, Default)]
pub struct VerdictCountsOut {
    pass: i64,
    fail: i64,
    blocked: i64,
    inconclusive: i64,
    not_run: i64,
}

impl VerdictCountsOut {
    fn add(&mut self, verdict: &str, n: i64) {
        match verdict {
            "pass" => self.pass += n,
            "fail" => self.fail += n,
            "blocked" => self.blocked += n,
            "inconclusive" => self.inconclusive += n,
            _ => self.not_run += n,
        }
    }

    fn of<'a>(pairs: impl IntoIterator<Item = (&'a str, i64)>) -> Self {
        let mut out = Self::default();
        for (v, n) in pairs {
            out.add(v, n);
        }
        out
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReportJobOut {
    /// The job's id.
    id: String,
    /// Where to poll for the job's state; its result names the report file.
    url: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// html (default) or xlsx
    format: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReportJobIn {
    /// html (default) or xlsx
    #[serde(default)]
    format: String,
}

impl ReportJobIn {
    /// The body is optional: none means the defaults.
    fn read(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("the body is not a valid report request: {e}"),
            )
        })
    }
}

fn report_format(raw: Option<&str>) -> Result<&str, AppError> {
    match raw.map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok("html"),
        Some(f @ ("html" | "xlsx")) => Ok(f),
        Some(f) => Err(AppError::field(
            "format",
            format!("{f:?} is not html or xlsx"),
        )),
    }
}

/// A file download: always an attachment, its type never sniffed.
fn download(d: Download) -> Response {
    let mut res = d.bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(d.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&attachment_disposition(&d.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn report_job(
    st: &AppState,
    p: &Principal,
    code: &str,
    payload: VvReportPayload,
) -> Result<(StatusCode, Json<ReportJobOut>), ApiError> {
    let id = st.app.enqueue_vv_report(p, code, payload).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportJobOut {
            id: id.to_string(),
            url: format!("/api/v1/jobs/{id}"),
        }),
    ))
}

/// One part of a multipart body.
struct Part {
    name: String,
    file_name: Option<String>,
    bytes: Vec<u8>,
}

impl Part {
    fn text(&self) -> Result<String, AppError> {
        String::from_utf8(self.bytes.clone())
            .map_err(|_| AppError::field(&self.name, "is not UTF-8 text"))
    }

    fn upload(self, default_name: &str) -> Upload {
        Upload {
            file_name: self
                .file_name
                .filter(|f| !f.trim().is_empty())
                .unwrap_or_else(|| default_name.to_owned()),
            bytes: self.bytes,
        }
    }
}

fn multipart_error(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_body",
            format!(
                "the upload is larger than {} MB per request",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            ),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the multipart body could not be read: {}", e.body_text()),
        )
    }
}

/// Every part of a multipart body, in order.
async fn read_parts(form: Result<Multipart, MultipartRejection>) -> Result<Vec<Part>, ApiError> {
    let mut form = form.map_err(|r| ApiError::new(r.status(), "invalid_body", r.body_text()))?;
    let mut parts = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(&e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
        parts.push(Part {
            name,
            file_name,
            bytes: bytes.to_vec(),
        });
    }
    Ok(parts)
}

fn unknown_part(name: &str, known: &str) -> AppError {
    AppError::field(
        if name.is_empty() { "(unnamed)" } else { name },
        format!("is not a part of this upload; send {known}"),
    )
}

// ---------------------------------------------------------------------------------------------
// Plans and activities
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct PlanOut {
    id: String,
    /// `VP-001`
    human_id: String,
    title: String,
    description: String,
    /// Prefixes of the requirement modules the plan sets out to verify.
    scope: Vec<String>,
    /// draft, approved, active or closed
    status: String,
    /// Send it back as `revision` on update to refuse lost writes.
    revision: i64,
    approved_by: Option<String>,
    approved_at: Option<DateTime<Utc>>,
    /// Activities in the plan.
    activities: i64,
    /// Cases allocated to the plan's activities.
    cases: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn plan_out(p: &Plan, activities: i64, cases: i64, modules: &[Module]) -> PlanOut {
    PlanOut {
        id: p.id.to_string(),
        human_id: p.human_id.clone(),
        title: p.title.clone(),
        description: p.description.clone(),
        scope: p
            .scope_modules
            .iter()
            .filter_map(|id| modules.iter().find(|m| m.id == *id))
            .map(|m| m.prefix.clone())
            .collect(),
        status: p.status.as_str().into(),
        revision: p.revision,
        approved_by: p.approved_by.map(|u| u.to_string()),
        approved_at: p.approved_at,
        activities,
        cases,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

fn plan_summary_out(s: &PlanSummary, modules: &[Module]) -> PlanOut {
    plan_out(&s.plan, s.activities, s.cases, modules)
}

#[derive(Serialize, ToSchema)]
pub struct ActivityOut {
    id: String,
    /// How a case names it: the plan and the activity's position, `VP-001/2`.
    #[serde(rename = "ref")]
    reference: String,
    /// 1-based position in the plan.
    position: usize,
    title: String,
    /// The life-cycle phase (free text).
    phase: String,
    /// test, analysis, inspection or demonstration
    method: String,
    planned_start: Option<NaiveDate>,
    planned_end: Option<NaiveDate>,
    organisation: String,
}

fn activity_out(plan: &str, index: usize, a: &Activity) -> ActivityOut {
    ActivityOut {
        id: a.id.to_string(),
        reference: format!("{plan}/{}", index + 1),
        position: index + 1,
        title: a.title.clone(),
        phase: a.phase.clone(),
        method: a.method.as_str().into(),
        planned_start: a.planned_start,
        planned_end: a.planned_end,
        organisation: a.organisation.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanDetailOut {
    plan: PlanOut,
    /// In plan order.
    activities: Vec<ActivityOut>,
    /// States the caller may move the plan to now.
    transitions: Vec<String>,
}

async fn modules_of(st: &AppState, ctx: &ProjectCtx) -> Result<Vec<Module>, AppError> {
    st.app
        .store
        .list_modules(ctx.project.id)
        .await
        .map_err(store_err)
}

async fn plan_detail_out(
    st: &AppState,
    p: &Principal,
    code: &str,
    human_id: &str,
) -> ApiResult<PlanDetailOut> {
    let d = st.app.plan(p, code, human_id).await?;
    let modules = modules_of(st, &d.ctx).await?;
    let (_, cases) = st
        .app
        .list_cases(
            p,
            code,
            CaseQuery {
                plan_id: Some(d.plan.id),
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    Ok(Json(PlanDetailOut {
        plan: plan_out(&d.plan, count(d.activities.len()), cases.total, &modules),
        activities: d
            .activities
            .iter()
            .enumerate()
            .map(|(i, a)| activity_out(&d.plan.human_id, i, a))
            .collect(),
        transitions: states(&d.next, PlanStatus::as_str),
    }))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/plans", tag = "vv",
    summary = "Verification plans with their activity and case counts",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<PlanOut>), (status = 404, body = ErrorBody)))]
pub async fn list_plans(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<PlanOut>> {
    let (ctx, plans) = st.app.list_plans(&p, &code).await?;
    let modules = modules_of(&st, &ctx).await?;
    Ok(Json(
        plans
            .iter()
            .map(|s| plan_summary_out(s, &modules))
            .collect(),
    ))
}

/// Plan fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// Required on create.
    title: Option<String>,
    description: Option<String>,
    /// Prefixes of the requirement modules in scope; replaces the list.
    scope: Option<Vec<String>>,
    /// Update only: the revision the change is based on; another revision is a conflict (409).
    revision: Option<i64>,
}

impl PlanIn {
    fn input(&self) -> PlanInput {
        PlanInput {
            title: self.title.clone(),
            description: self.description.clone(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/plans", tag = "vv",
    summary = "Create a verification plan (editors); it starts as draft",
    params(("code" = String, Path, description = "Project code")), request_body = PlanIn,
    responses((status = 201, body = PlanDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_plan(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<PlanIn>,
) -> Created<PlanDetailOut> {
    if b.revision.is_some() {
        st.app.project_access(&p, &code, Permission::Write).await?;
        return Err(AppError::field("revision", "is only for updates").into());
    }
    let scope = joined(b.scope.as_deref().unwrap_or_default());
    let plan = st.app.create_plan(&p, &code, &b.input(), &scope).await?;
    Ok((
        StatusCode::CREATED,
        plan_detail_out(&st, &p, &code, &plan.human_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/plans/{human_id}", tag = "vv",
    summary = "One plan with its activities",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id, e.g. VP-001")),
    responses((status = 200, body = PlanDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<PlanDetailOut> {
    plan_detail_out(&st, &p, &code, &human_id).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/vv/plans/{human_id}", tag = "vv",
    summary = "Edit a plan (editors): a new revision; an approved plan goes back to draft; a closed one is refused",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id")),
    request_body = PlanIn,
    responses((status = 200, body = PlanDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_plan(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<PlanIn>,
) -> ApiResult<PlanDetailOut> {
    let scope = b.scope.as_deref().map(joined);
    let plan = st
        .app
        .update_plan(
            &p,
            &code,
            &human_id,
            &b.input(),
            scope.as_deref(),
            b.revision,
        )
        .await?;
    plan_detail_out(&st, &p, &code, &plan.human_id).await
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/plans/{human_id}/status", tag = "vv",
    summary = "Move a plan: draft → approved (leads) → active → closed (leads); approved → draft and closed → active (leads)",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id")),
    request_body = VvStatusIn,
    responses((status = 200, body = PlanDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_plan(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<VvStatusIn>,
) -> ApiResult<PlanDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let to = PlanStatus::parse(&b.to).map_err(|e| AppError::field("to", e))?;
    let plan = st.app.move_plan(&p, &code, &human_id, to).await?;
    plan_detail_out(&st, &p, &code, &plan.human_id).await
}

/// Activity fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    /// Required on create.
    title: Option<String>,
    phase: Option<String>,
    /// test (default), analysis, inspection or demonstration
    method: Option<String>,
    /// `YYYY-MM-DD`; an empty string removes the date.
    planned_start: Option<String>,
    planned_end: Option<String>,
    organisation: Option<String>,
}

impl ActivityIn {
    fn input(self) -> ActivityInput {
        ActivityInput {
            title: self.title,
            phase: self.phase,
            method: self.method,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            organisation: self.organisation,
        }
    }
}

async fn save_activity(
    st: &AppState,
    p: &Principal,
    code: &str,
    plan: &str,
    id: Option<ActivityId>,
    b: ActivityIn,
) -> ApiResult<ActivityOut> {
    let a = st.app.save_activity(p, code, plan, id, &b.input()).await?;
    let d = st.app.plan(p, code, plan).await?;
    let i = d
        .activities
        .iter()
        .position(|x| x.id == a.id)
        .ok_or(AppError::NotFound)?;
    Ok(Json(activity_out(&d.plan.human_id, i, &d.activities[i])))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/plans/{human_id}/activities", tag = "vv",
    summary = "Add an activity to a plan (editors); not to a closed plan",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id")),
    request_body = ActivityIn,
    responses((status = 201, body = ActivityOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_activity(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ActivityIn>,
) -> Created<ActivityOut> {
    let out = save_activity(&st, &p, &code, &human_id, None, b).await?;
    Ok((StatusCode::CREATED, out))
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/vv/plans/{human_id}/activities/{id}", tag = "vv",
    summary = "Change an activity of a plan (editors)",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id"), ("id" = String, Path, description = "Activity id")),
    request_body = ActivityIn,
    responses((status = 200, body = ActivityOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_activity(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id, id)): Path<(String, String, String)>,
    ApiJson(b): ApiJson<ActivityIn>,
) -> ApiResult<ActivityOut> {
    let id: ActivityId = path_id(&id)?;
    save_activity(&st, &p, &code, &human_id, Some(id), b).await
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/plans/{human_id}/report", tag = "vv",
    summary = "The verification report of a plan as a download: verdict summary, requirement coverage, failing cases with their defects, evidence with checksums",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id"), ReportParams),
    responses((status = 200, description = "The report as an attachment",
            content(("text/html"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn plan_report(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    st.app.plan(&p, &code, &human_id).await?;
    let format = report_format(q.format.as_deref())?;
    let d = st
        .app
        .vv_report_file(&p, &code, &SnapshotScope::Plan(human_id), format)
        .await?;
    Ok(download(d))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/plans/{human_id}/report", tag = "vv",
    summary = "Generate a plan's report in the background (large plans); poll the job",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Plan id")),
    request_body(content = ReportJobIn, description = "Optional"),
    responses((status = 202, body = ReportJobOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn plan_report_job(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ReportJobOut>), ApiError> {
    let d = st.app.plan(&p, &code, &human_id).await?;
    let b = ReportJobIn::read(&body)?;
    let format = report_format(Some(&b.format))?;
    report_job(
        &st,
        &p,
        &code,
        VvReportPayload {
            plan: d.plan.human_id,
            format: format.to_owned(),
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseStep {
    /// What to do.
    action: String,
    /// What should happen.
    #[serde(default)]
    expected: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    id: String,
    /// `VC-001`
    human_id: String,
    title: String,
    /// test, analysis, inspection or demonstration
    method: String,
    preconditions: String,
    steps: Vec<CaseStep>,
    expected: String,
    /// The name an automated test reports, used to map JUnit results to this case.
    automation_key: String,
    /// The plan activity the case is allocated to.
    activity_id: Option<String>,
    /// draft, ready or retired
    status: String,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn case_out(c: &Case) -> CaseOut {
    CaseOut {
        id: c.id.to_string(),
        human_id: c.human_id.clone(),
        title: c.title.clone(),
        method: c.method.as_str().into(),
        preconditions: c.preconditions.clone(),
        steps: c
            .steps
            .iter()
            .map(|s| CaseStep {
                action: s.action.clone(),
                expected: s.expected.clone(),
            })
            .collect(),
        expected: c.expected.clone(),
        automation_key: c.automation_key.clone(),
        activity_id: c.activity_id.map(|a| a.to_string()),
        status: c.status.as_str().into(),
        revision: c.revision,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// The latest effective (not superseded) result of a case.
#[derive(Serialize, ToSchema)]
pub struct LatestOut {
    result_id: String,
    /// pass, fail, blocked, inconclusive or not_run
    verdict: String,
    executed_at: DateTime<Utc>,
}

fn latest_out(l: &LatestResult) -> LatestOut {
    LatestOut {
        result_id: l.result_id.to_string(),
        verdict: l.verdict.as_str().into(),
        executed_at: l.executed_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct CaseRowOut {
    #[serde(flatten)]
    case: CaseOut,
    /// Absent when the case has no result.
    latest: Option<LatestOut>,
}

fn case_row_out(r: &CaseRow) -> CaseRowOut {
    CaseRowOut {
        case: case_out(&r.case),
        latest: r.latest.as_ref().map(latest_out),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CasePageOut {
    items: Vec<CaseRowOut>,
    /// Matching cases in all pages.
    total: i64,
}

/// Filters and page of the case list; filters combine with AND.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseParams {
    /// Text in the human id, title or automation key (also accepted as `text`).
    #[serde(alias = "text")]
    q: Option<String>,
    /// draft, ready or retired
    status: Option<String>,
    /// The latest result's verdict: pass, fail, blocked, inconclusive, or not_run (also for
    /// cases without a result)
    verdict: Option<String>,
    /// Cases allocated to an activity of this plan (`VP-001`).
    plan: Option<String>,
    /// Cases in this set (its id).
    set: Option<String>,
    /// 1 to 500 (default 50)
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/cases", tag = "vv",
    summary = "Verification cases with their latest verdicts: filter and page",
    params(("code" = String, Path, description = "Project code"), CaseParams),
    responses((status = 200, body = CasePageOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_cases(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<CaseParams>,
) -> ApiResult<CasePageOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let mut errors = FieldErrors::new();
    let status = text(&q.status)
        .and_then(|s| errors.check("status", CaseStatus::parse(s)))
        .map(|s| s.as_str().to_owned());
    let verdict = text(&q.verdict)
        .and_then(|v| errors.check("verdict", Verdict::parse(v)))
        .map(|v| v.as_str().to_owned());
    let plan_id = match text(&q.plan) {
        None => None,
        Some(h) => {
            let plan = st
                .app
                .store
                .find_plan(ctx.project.id, &h.to_uppercase())
                .await
                .map_err(store_err)?;
            if plan.is_none() {
                errors.add("plan", format!("no plan {h} in this project"));
            }
            plan.map(|p| p.id)
        }
    };
    let set_id = match text(&q.set) {
        None => None,
        Some(raw) => match raw.parse::<CaseSetId>() {
            Err(_) => {
                errors.add("set", format!("{raw:?} is not a set id"));
                None
            }
            Ok(id) => {
                let set = st
                    .app
                    .store
                    .find_set(ctx.project.id, id)
                    .await
                    .map_err(store_err)?;
                if set.is_none() {
                    errors.add("set", "no such set in this project");
                }
                set.map(|s| s.id)
            }
        },
    };
    let (limit, offset) = check_paging(q.limit, q.offset, 50, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let (_, page) = st
        .app
        .list_cases(
            &p,
            &code,
            CaseQuery {
                text: text(&q.q).map(str::to_owned),
                status,
                verdict,
                plan_id,
                set_id,
                limit,
                offset,
                ..Default::default()
            },
        )
        .await?;
    Ok(Json(CasePageOut {
        items: page.rows.iter().map(case_row_out).collect(),
        total: page.total,
    }))
}

/// Case fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseIn {
    /// Required on create.
    title: Option<String>,
    /// test (default), analysis, inspection or demonstration
    method: Option<String>,
    preconditions: Option<String>,
    /// Replaces the steps (at most 500).
    steps: Option<Vec<CaseStep>>,
    expected: Option<String>,
    /// The JUnit test name (`classname::name`, or a trailing part of it) that reports on
    /// this case.
    automation_key: Option<String>,
    /// Human ids of the requirements the case verifies; replaces the `verifies` links (an
    /// empty list removes them all).
    verifies: Option<Vec<String>>,
    /// The plan activity, as `VP-001/1` (plan and position); an empty string removes it.
    activity: Option<String>,
    /// Update only: the revision the change is based on; another revision is a conflict (409).
    revision: Option<i64>,
}

impl CaseIn {
    fn input(&self) -> CaseInput {
        CaseInput {
            title: self.title.clone(),
            method: self.method.clone(),
            preconditions: self.preconditions.clone(),
            steps: self.steps.as_ref().map(|steps| {
                steps
                    .iter()
                    .map(|s| Step {
                        action: s.action.clone(),
                        expected: s.expected.clone(),
                    })
                    .collect()
            }),
            steps_text: None,
            expected: self.expected.clone(),
            automation_key: self.automation_key.clone(),
        }
    }
}

/// A name for a linked artefact.
#[derive(Serialize, ToSchema)]
pub struct NamedOut {
    id: String,
    human_id: String,
    title: String,
}

/// A defect as other artefacts list it.
#[derive(Serialize, ToSchema)]
pub struct DefectRefOut {
    human_id: String,
    title: String,
    severity: String,
    status: String,
}

/// The plan activity a case is allocated to.
#[derive(Serialize, ToSchema)]
pub struct CaseActivityOut {
    /// The plan's human id.
    plan: String,
    /// `VP-001/2`
    #[serde(rename = "ref")]
    reference: String,
    title: String,
}

#[derive(Serialize, ToSchema)]
pub struct SetRefOut {
    id: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseDetailOut {
    case: CaseOut,
    /// Human ids of the requirements the case verifies.
    verifies: Vec<String>,
    /// Its trace links (the case is the source of its `verifies` links).
    links: Vec<LinkOut>,
    activity: Option<CaseActivityOut>,
    /// Its results, newest first (at most 200), superseded ones included.
    results: Vec<ResultOut>,
    /// Defects that name the case.
    defects: Vec<DefectRefOut>,
    /// Sets it belongs to.
    sets: Vec<SetRefOut>,
    /// Revision numbers, oldest first.
    revisions: Vec<i64>,
    /// States the caller may move the case to now.
    transitions: Vec<String>,
}

async fn case_detail_out(
    st: &AppState,
    p: &Principal,
    code: &str,
    human_id: &str,
) -> ApiResult<CaseDetailOut> {
    let d = st.app.case_detail(p, code, human_id).await?;
    let me = d.case.id.0;
    let verifies = d
        .links
        .iter()
        .filter(|l| l.link.kind == LinkKind::Verifies && l.link.source_id == me)
        .map(|l| l.target_human_id.clone())
        .collect();
    let activity = match (&d.activity, d.case.activity_id) {
        (Some((plan, title)), Some(id)) => {
            let pd = st.app.plan(p, code, plan).await?;
            pd.activities
                .iter()
                .position(|a| a.id == id)
                .map(|at| CaseActivityOut {
                    plan: plan.clone(),
                    reference: format!("{plan}/{}", at + 1),
                    title: title.clone(),
                })
        }
        _ => None,
    };
    let code = d.ctx.project.code.clone();
    let mut revisions: Vec<i64> = d.revisions.iter().map(|r| r.number).collect();
    revisions.sort_unstable();
    Ok(Json(CaseDetailOut {
        verifies,
        activity,
        links: d.links.into_iter().map(LinkOut::from).collect(),
        results: d.results.iter().map(|r| result_out(&code, r)).collect(),
        defects: d
            .defects
            .iter()
            .map(|x| DefectRefOut {
                human_id: x.human_id.clone(),
                title: x.title.clone(),
                severity: x.severity.as_str().into(),
                status: x.status.as_str().into(),
            })
            .collect(),
        sets: d
            .sets
            .iter()
            .map(|s| SetRefOut {
                id: s.set.id.to_string(),
                name: s.set.name.clone(),
            })
            .collect(),
        revisions,
        transitions: states(&d.next, CaseStatus::as_str),
        case: case_out(&d.case),
    }))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/cases", tag = "vv",
    summary = "Create a verification case (editors), with its `verifies` links and plan activity",
    params(("code" = String, Path, description = "Project code")), request_body = CaseIn,
    responses((status = 201, body = CaseDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_case(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<CaseIn>,
) -> Created<CaseDetailOut> {
    if b.revision.is_some() {
        st.app.project_access(&p, &code, Permission::Write).await?;
        return Err(AppError::field("revision", "is only for updates").into());
    }
    let verifies = joined(b.verifies.as_deref().unwrap_or_default());
    let activity = b.activity.clone().unwrap_or_default();
    let c = st
        .app
        .create_case(&p, &code, &b.input(), &verifies, &activity)
        .await?;
    Ok((
        StatusCode::CREATED,
        case_detail_out(&st, &p, &code, &c.human_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/cases/{human_id}", tag = "vv",
    summary = "One case with its links, results, defects, sets and revisions",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Case id, e.g. VC-001")),
    responses((status = 200, body = CaseDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<CaseDetailOut> {
    case_detail_out(&st, &p, &code, &human_id).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/vv/cases/{human_id}", tag = "vv",
    summary = "Edit a case (editors): a content change is a new revision; a retired case is refused",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Case id")),
    request_body = CaseIn,
    responses((status = 200, body = CaseDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_case(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<CaseIn>,
) -> ApiResult<CaseDetailOut> {
    let verifies = b.verifies.as_deref().map(joined);
    let c = st
        .app
        .update_case(
            &p,
            &code,
            &human_id,
            &b.input(),
            verifies.as_deref(),
            b.activity.as_deref(),
            b.revision,
        )
        .await?;
    case_detail_out(&st, &p, &code, &c.human_id).await
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/cases/{human_id}/status", tag = "vv",
    summary = "Move a case: draft ⇄ ready (editors); ready → retired and retired → draft (leads)",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Case id")),
    request_body = VvStatusIn,
    responses((status = 200, body = CaseDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_case(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<VvStatusIn>,
) -> ApiResult<CaseDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let to = CaseStatus::parse(&b.to).map_err(|e| AppError::field("to", e))?;
    let c = st.app.move_case(&p, &code, &human_id, to).await?;
    case_detail_out(&st, &p, &code, &c.human_id).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseDiffParams {
    /// The older revision (default: the one before `to`).
    from: Option<i64>,
    /// The newer revision (default: the current one).
    to: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseDiffOut {
    human_id: String,
    from: i64,
    to: i64,
    /// Only the fields that differ; steps appear as `steps`.
    fields: Vec<FieldDiffOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/cases/{human_id}/diff", tag = "vv",
    summary = "Field- and word-level differences between two revisions of a case",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Case id"), CaseDiffParams),
    responses((status = 200, body = CaseDiffOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn case_diff(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<CaseDiffParams>,
) -> ApiResult<CaseDiffOut> {
    let (from, to) = match (q.from, q.to) {
        (Some(f), Some(t)) => (f, t),
        (f, t) => {
            // The first call only reads the current revision (revision 1 always exists).
            let (case, _, _) = st.app.case_diff(&p, &code, &human_id, 1, 1).await?;
            let to = t.unwrap_or(case.revision);
            (f.unwrap_or((to - 1).max(1)), to)
        }
    };
    let (case, _, fields) = st.app.case_diff(&p, &code, &human_id, from, to).await?;
    Ok(Json(CaseDiffOut {
        human_id: case.human_id,
        from,
        to,
        fields: fields.into_iter().map(FieldDiffOut::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Results and evidence
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct EvidenceOut {
    /// The SHA-256 of the file (lowercase hex); downloads carry it in `X-Evidence-Checksum`.
    sha256: String,
    size: u64,
    /// Detected from the content when stored.
    content_type: String,
    /// The name it was uploaded under (shown, never used as a path).
    file_name: String,
    /// Where to download it.
    url: String,
}

#[derive(Serialize, ToSchema)]
pub struct StepResultOut {
    /// 1-based index into the case's steps at the revision executed.
    step: usize,
    verdict: String,
    note: String,
}

/// An execution result: immutable once recorded; a correction is a new result.
#[derive(Serialize, ToSchema)]
pub struct ResultOut {
    id: String,
    /// The case's human id.
    case: String,
    case_id: String,
    /// The case revision that was executed.
    case_revision: i64,
    /// Results recorded together (a set run, a JUnit import) share a run.
    run_id: Option<String>,
    set_id: Option<String>,
    /// pass, fail, blocked, inconclusive or not_run
    verdict: String,
    steps: Vec<StepResultOut>,
    executor: String,
    executed_at: DateTime<Utc>,
    configuration: String,
    /// The id of the frozen baseline the configuration corresponds to.
    baseline_id: Option<String>,
    notes: String,
    evidence: Vec<EvidenceOut>,
    /// The result this one corrects.
    supersedes: Option<String>,
    /// Why it corrects it.
    supersede_reason: String,
    /// The correction that replaced this result; absent while it is in effect.
    superseded_by: Option<String>,
    /// manual or junit
    source: String,
    recorded_by: Option<String>,
    recorded_at: DateTime<Utc>,
}

fn result_out_of(
    code: &str,
    r: &TestResult,
    case: &str,
    superseded_by: Option<ResultId>,
) -> ResultOut {
    ResultOut {
        id: r.id.to_string(),
        case: case.to_owned(),
        case_id: r.case_id.to_string(),
        case_revision: r.case_revision,
        run_id: r.run_id.map(|x| x.to_string()),
        set_id: r.set_id.map(|x| x.to_string()),
        verdict: r.verdict.as_str().into(),
        steps: r
            .steps
            .iter()
            .map(|s| StepResultOut {
                step: s.step,
                verdict: s.verdict.as_str().into(),
                note: s.note.clone(),
            })
            .collect(),
        executor: r.executor.clone(),
        executed_at: r.executed_at,
        configuration: r.configuration.clone(),
        baseline_id: r.baseline_id.map(|b| b.to_string()),
        notes: r.notes.clone(),
        evidence: r
            .evidence
            .iter()
            .map(|e| EvidenceOut {
                sha256: e.sha256.clone(),
                size: e.size,
                content_type: e.content_type.clone(),
                file_name: e.file_name.clone(),
                url: format!(
                    "/api/v1/projects/{code}/vv/results/{}/evidence/{}",
                    r.id, e.sha256
                ),
            })
            .collect(),
        supersedes: r.supersedes.map(|x| x.to_string()),
        supersede_reason: r.supersede_reason.clone(),
        superseded_by: superseded_by.map(|x| x.to_string()),
        source: r.source.clone(),
        recorded_by: r.recorded_by.map(|u| u.to_string()),
        recorded_at: r.recorded_at,
    }
}

fn result_out(code: &str, r: &ResultRecord) -> ResultOut {
    result_out_of(code, &r.result, &r.case_human_id, r.superseded_by)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepVerdictIn {
    /// 1-based step number of the case.
    step: usize,
    /// pass, fail, blocked, inconclusive or not_run; empty: not assessed.
    verdict: String,
    #[serde(default)]
    note: String,
}

/// What was observed in one execution of a case.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultIn {
    /// pass, fail, blocked, inconclusive or not_run
    verdict: String,
    /// Per-step outcomes; steps left out were not assessed.
    #[serde(default)]
    steps: Vec<StepVerdictIn>,
    /// Who executed it (default: the caller).
    #[serde(default)]
    executor: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` taken as UTC (default: now); not in the future.
    #[serde(default)]
    executed_at: String,
    /// The configuration under test.
    #[serde(default)]
    configuration: String,
    /// The frozen baseline the configuration corresponds to (`BL-001`); empty for none.
    #[serde(default)]
    baseline: String,
    #[serde(default)]
    notes: String,
    /// A correction: the id of the result it supersedes (the newest of that case's chain),
    /// with `reason`.
    supersedes: Option<String>,
    /// Required with `supersedes`.
    #[serde(default)]
    reason: String,
}

impl ResultIn {
    fn input(self) -> Result<ResultInput, AppError> {
        let supersedes = match self.supersedes.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(body_id::<ResultId>("supersedes", raw, "a result id")?),
        };
        Ok(ResultInput {
            verdict: self.verdict,
            steps: self
                .steps
                .into_iter()
                .map(|s| StepInput {
                    step: s.step,
                    verdict: s.verdict,
                    note: s.note,
                })
                .collect(),
            executor: self.executor,
            executed_at: self.executed_at,
            configuration: self.configuration,
            baseline: self.baseline,
            notes: self.notes,
            supersedes,
            reason: self.reason,
        })
    }
}

async fn record(
    st: &AppState,
    p: &Principal,
    code: &str,
    case: &str,
    input: &ResultInput,
    files: &[Upload],
) -> Created<ResultOut> {
    let r = st.app.record_result(p, code, case, input, files).await?;
    let (ctx, rec) = st.app.result(p, code, r.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(result_out(&ctx.project.code, &rec)),
    ))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/cases/{human_id}/results", tag = "vv",
    summary = "Record a result of a case (editors); with `supersedes` and `reason`, a correction of an earlier one",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Case id")),
    request_body = ResultIn,
    responses((status = 201, body = ResultOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_result(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ResultIn>,
) -> Created<ResultOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    record(&st, &p, &code, &human_id, &b.input()?, &[]).await
}

/// The multipart body of a result with evidence files.
#[derive(ToSchema)]
#[allow(dead_code)] // Documents the multipart body; the handler reads the parts one by one.
pub struct ResultUpload {
    /// The result as JSON (the body of `POST …/results`).
    result: ResultIn,
    /// Evidence files (repeat the part, at most 20); each is stored by its SHA-256.
    #[schema(value_type = Vec<String>, format = Binary, required = false)]
    evidence: Vec<Vec<u8>>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/cases/{human_id}/results/multipart", tag = "vv",
    summary = "Record a result with evidence files (editors): a `result` part holding the JSON result and `evidence` file parts",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Case id")),
    request_body(content = ResultUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ResultOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_result_multipart(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    form: Result<Multipart, MultipartRejection>,
) -> Created<ResultOut> {
    // Refuse a caller who may not write before reading a large body.
    st.app.project_access(&p, &code, Permission::Write).await?;
    let mut result = None;
    let mut files = Vec::new();
    for part in read_parts(form).await? {
        match part.name.as_str() {
            "result" => {
                let raw = part.text()?;
                let r: ResultIn = serde_json::from_str(&raw).map_err(|e| {
                    AppError::field("result", format!("is not a valid result: {e}"))
                })?;
                result = Some(r);
            }
            "evidence" => files.push(part.upload("evidence")),
            other => return Err(unknown_part(other, "result and evidence").into()),
        }
    }
    let result = result.ok_or_else(|| {
        AppError::field("result", "is required: a part holding the result as JSON")
    })?;
    record(&st, &p, &code, &human_id, &result.input()?, &files).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecentParams {
    /// 1 to 500 (default 50)
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/results", tag = "vv",
    summary = "The project's most recently recorded results, newest first",
    params(("code" = String, Path, description = "Project code"), RecentParams),
    responses((status = 200, body = Vec<ResultOut>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn recent_results(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<RecentParams>,
) -> ApiResult<Vec<ResultOut>> {
    st.app.project_access(&p, &code, Permission::Read).await?;
    let mut errors = FieldErrors::new();
    let (limit, _) = check_paging(q.limit, None, 50, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let (ctx, rows) = st.app.recent_results(&p, &code, limit).await?;
    Ok(Json(
        rows.iter()
            .map(|r| result_out(&ctx.project.code, r))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/results/{id}", tag = "vv",
    summary = "One result, with its evidence and what it supersedes or is superseded by",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Result id")),
    responses((status = 200, body = ResultOut), (status = 404, body = ErrorBody)))]
pub async fn get_result(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<ResultOut> {
    let (ctx, rec) = st.app.result(&p, &code, path_id(&id)?).await?;
    Ok(Json(result_out(&ctx.project.code, &rec)))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/results/{id}/evidence/{sha256}", tag = "vv",
    summary = "An evidence file of a result, checked against its SHA-256 before it is served; always an attachment",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Result id"), ("sha256" = String, Path, description = "The file's SHA-256")),
    responses((status = 200, description = "The file; `X-Evidence-Checksum: sha-256=<hex>`. Types that could run script in a browser are served as application/octet-stream",
            content(("application/octet-stream")),
            headers(("X-Evidence-Checksum" = String, description = "sha-256=<lowercase hex> as recorded"),
                ("Content-Disposition" = String, description = "attachment; filename=…"))),
        (status = 404, body = ErrorBody)))]
pub async fn evidence(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id, sha256)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (ev, bytes) = st
        .app
        .evidence(&p, &code, path_id(&id)?, sha256.trim())
        .await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served_content_type(&ev.content_type)),
    );
    if let Ok(v) = HeaderValue::from_str(&attachment_disposition(&ev.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256={}", ev.sha256)) {
        // The checksum as recorded, for a client to check what it received.
        h.insert("x-evidence-checksum", v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

// ---------------------------------------------------------------------------------------------
// Sets and set runs
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct SetOut {
    id: String,
    name: String,
    description: String,
    /// Cases in the set.
    cases: i64,
    created_at: DateTime<Utc>,
}

fn set_out(s: &CaseSet, cases: i64) -> SetOut {
    SetOut {
        id: s.id.to_string(),
        name: s.name.clone(),
        description: s.description.clone(),
        cases,
        created_at: s.created_at,
    }
}

fn set_summary_out(s: &SetSummary) -> SetOut {
    set_out(&s.set, s.cases)
}

#[derive(Serialize, ToSchema)]
pub struct SetDetailOut {
    set: SetOut,
    /// Its cases with their latest verdicts.
    cases: Vec<CaseRowOut>,
}

async fn set_detail_out(
    st: &AppState,
    p: &Principal,
    code: &str,
    id: CaseSetId,
) -> ApiResult<SetDetailOut> {
    let d = st.app.set_detail(p, code, id).await?;
    Ok(Json(SetDetailOut {
        set: set_out(&d.set, d.cases.total),
        cases: d.cases.rows.iter().map(case_row_out).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/sets", tag = "vv",
    summary = "Case sets with their case counts",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<SetOut>), (status = 404, body = ErrorBody)))]
pub async fn list_sets(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<SetOut>> {
    let (_, sets) = st.app.list_sets(&p, &code).await?;
    Ok(Json(sets.iter().map(set_summary_out).collect()))
}

/// Set fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetIn {
    /// Required on create.
    name: Option<String>,
    description: Option<String>,
    /// Case human ids, in order; replaces the members.
    cases: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/sets", tag = "vv",
    summary = "Create a case set (editors)",
    params(("code" = String, Path, description = "Project code")), request_body = SetIn,
    responses((status = 201, body = SetDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_set(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<SetIn>,
) -> Created<SetDetailOut> {
    let set = st
        .app
        .save_set(
            &p,
            &code,
            None,
            b.name.as_deref().unwrap_or_default(),
            b.description.as_deref().unwrap_or_default(),
            &joined(b.cases.as_deref().unwrap_or_default()),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        set_detail_out(&st, &p, &code, set.id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/sets/{id}", tag = "vv",
    summary = "One set with its cases and their latest verdicts",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Set id")),
    responses((status = 200, body = SetDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_set(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<SetDetailOut> {
    set_detail_out(&st, &p, &code, path_id(&id)?).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/vv/sets/{id}", tag = "vv",
    summary = "Change a set's name, description or members (editors)",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Set id")),
    request_body = SetIn,
    responses((status = 200, body = SetDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_set(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<SetIn>,
) -> ApiResult<SetDetailOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Write).await?;
    let id: CaseSetId = path_id(&id)?;
    let set = st
        .app
        .store
        .find_set(ctx.project.id, id)
        .await
        .map_err(store_err)?
        .ok_or(AppError::NotFound)?;
    let members = match &b.cases {
        Some(c) => joined(c),
        None => {
            // Unchanged members, in their order.
            let ids = st.app.store.set_members(id).await.map_err(store_err)?;
            let facts = st
                .app
                .store
                .case_facts(ctx.project.id)
                .await
                .map_err(store_err)?;
            let names: HashMap<CaseId, &str> =
                facts.iter().map(|f| (f.id, f.human_id.as_str())).collect();
            ids.iter()
                .filter_map(|c| names.get(c).copied())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    st.app
        .save_set(
            &p,
            &code,
            Some(id),
            b.name.as_deref().unwrap_or(&set.name),
            b.description.as_deref().unwrap_or(&set.description),
            &members,
        )
        .await?;
    set_detail_out(&st, &p, &code, id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunVerdictIn {
    /// A case of the set (human id).
    case: String,
    /// pass, fail, blocked, inconclusive or not_run; empty: not run in this run.
    verdict: String,
    /// Notes for this case (default: the run's notes).
    #[serde(default)]
    note: String,
}

/// A run of a set: one result per case given a verdict, all in one transaction.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIn {
    verdicts: Vec<RunVerdictIn>,
    /// Who executed the run (default: the caller).
    #[serde(default)]
    executor: String,
    /// RFC 3339 or `YYYY-MM-DDTHH:MM` (UTC); default now.
    #[serde(default)]
    executed_at: String,
    #[serde(default)]
    configuration: String,
    /// The frozen baseline the configuration corresponds to (`BL-001`); empty for none.
    #[serde(default)]
    baseline: String,
    #[serde(default)]
    notes: String,
}

#[derive(Serialize, ToSchema)]
pub struct RunOut {
    run_id: String,
    /// One per case given a verdict.
    results: Vec<ResultOut>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/sets/{id}/run", tag = "vv",
    summary = "Record a run of a set (editors): all results or none; errors name the case (`VC-001.verdict`)",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Set id")),
    request_body = RunIn,
    responses((status = 201, body = RunOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn run_set(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<RunIn>,
) -> Created<RunOut> {
    let id: CaseSetId = path_id(&id)?;
    let verdicts: Vec<(String, String, String)> = b
        .verdicts
        .into_iter()
        .map(|v| (v.case.trim().to_owned(), v.verdict, v.note))
        .collect();
    let common = ResultInput {
        executor: b.executor,
        executed_at: b.executed_at,
        configuration: b.configuration,
        baseline: b.baseline,
        notes: b.notes,
        ..Default::default()
    };
    let results = st.app.run_set(&p, &code, id, &verdicts, &common).await?;
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let facts = st
        .app
        .store
        .case_facts(ctx.project.id)
        .await
        .map_err(store_err)?;
    let names: HashMap<CaseId, &str> = facts.iter().map(|f| (f.id, f.human_id.as_str())).collect();
    Ok((
        StatusCode::CREATED,
        Json(RunOut {
            run_id: results
                .first()
                .and_then(|r| r.run_id)
                .map(|r| r.to_string())
                .unwrap_or_default(),
            results: results
                .iter()
                .map(|r| {
                    let case = names.get(&r.case_id).copied().unwrap_or_default();
                    result_out_of(&ctx.project.code, r, case, None)
                })
                .collect(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/sets/{id}/report", tag = "vv",
    summary = "The verification report of a set as a download",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Set id"), ReportParams),
    responses((status = 200, description = "The report as an attachment",
            content(("text/html"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_report(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    st.app.project_access(&p, &code, Permission::Read).await?;
    let id: CaseSetId = path_id(&id)?;
    let format = report_format(q.format.as_deref())?;
    let d = st
        .app
        .vv_report_file(&p, &code, &SnapshotScope::Set(id), format)
        .await?;
    Ok(download(d))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/sets/{id}/report", tag = "vv",
    summary = "Generate a set's report in the background; poll the job",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Set id")),
    request_body(content = ReportJobIn, description = "Optional"),
    responses((status = 202, body = ReportJobOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_report_job(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ReportJobOut>), ApiError> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let id: CaseSetId = path_id(&id)?;
    st.app
        .store
        .find_set(ctx.project.id, id)
        .await
        .map_err(store_err)?
        .ok_or(AppError::NotFound)?;
    let b = ReportJobIn::read(&body)?;
    let format = report_format(Some(&b.format))?;
    report_job(
        &st,
        &p,
        &code,
        VvReportPayload {
            set: Some(id),
            format: format.to_owned(),
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Defects
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct DefectOut {
    id: String,
    /// `DEF-001`
    human_id: String,
    title: String,
    description: String,
    /// critical, major or minor
    severity: String,
    /// open, in_progress, resolved, closed or rejected
    status: String,
    revision: i64,
    /// Ids of the results it was raised from.
    results: Vec<String>,
    /// Human ids of the cases it concerns.
    cases: Vec<String>,
    /// Human ids of the requirements it concerns.
    requirements: Vec<String>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn defect_out(
    d: &Defect,
    case: impl Fn(CaseId) -> String,
    req: impl Fn(RequirementId) -> String,
) -> DefectOut {
    DefectOut {
        id: d.id.to_string(),
        human_id: d.human_id.clone(),
        title: d.title.clone(),
        description: d.description.clone(),
        severity: d.severity.as_str().into(),
        status: d.status.as_str().into(),
        revision: d.revision,
        results: d.results.iter().map(ToString::to_string).collect(),
        cases: d.cases.iter().map(|c| case(*c)).collect(),
        requirements: d.requirements.iter().map(|r| req(*r)).collect(),
        created_by: d.created_by.map(|u| u.to_string()),
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DefectParams {
    /// open, in_progress, resolved, closed or rejected
    status: Option<String>,
    /// critical, major or minor
    severity: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/defects", tag = "vv",
    summary = "Defects of the project, filtered by status and severity",
    params(("code" = String, Path, description = "Project code"), DefectParams),
    responses((status = 200, body = Vec<DefectOut>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_defects(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<DefectParams>,
) -> ApiResult<Vec<DefectOut>> {
    let (ctx, defects) = st.app.list_defects(&p, &code).await?;
    let mut errors = FieldErrors::new();
    let status = text(&q.status).and_then(|s| errors.check("status", DefectStatus::parse(s)));
    let severity = text(&q.severity).and_then(|s| errors.check("severity", Severity::parse(s)));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let facts = st
        .app
        .store
        .case_facts(ctx.project.id)
        .await
        .map_err(store_err)?;
    let cases: HashMap<CaseId, &str> = facts.iter().map(|f| (f.id, f.human_id.as_str())).collect();
    let reqs = st
        .app
        .store
        .requirement_facts_light(ctx.project.id)
        .await
        .map_err(store_err)?;
    let reqs: HashMap<RequirementId, &str> =
        reqs.iter().map(|r| (r.id, r.human_id.as_str())).collect();
    Ok(Json(
        defects
            .iter()
            .filter(|d| status.is_none_or(|s| d.status == s))
            .filter(|d| severity.is_none_or(|s| d.severity == s))
            .map(|d| {
                defect_out(
                    d,
                    |c| {
                        cases
                            .get(&c)
                            .map_or_else(|| c.to_string(), |h| (*h).to_owned())
                    },
                    |r| {
                        reqs.get(&r)
                            .map_or_else(|| r.to_string(), |h| (*h).to_owned())
                    },
                )
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DefectDetailOut {
    defect: DefectOut,
    cases: Vec<NamedOut>,
    requirements: Vec<NamedOut>,
    /// The results it was raised from.
    results: Vec<ResultOut>,
    /// States the caller may move the defect to now.
    transitions: Vec<String>,
    /// Revision numbers, oldest first.
    revisions: Vec<i64>,
    /// While resolved: why closing would be refused now (empty when the closing rule is
    /// met: a passing result of every linked case executed after the defect was raised).
    closing_blockers: Vec<String>,
}

async fn defect_detail_out(
    st: &AppState,
    p: &Principal,
    code: &str,
    human_id: &str,
) -> ApiResult<DefectDetailOut> {
    let d = st.app.defect_detail(p, code, human_id).await?;
    let project = d.ctx.project.id;
    let mut results = Vec::with_capacity(d.defect.results.len());
    for id in &d.defect.results {
        if let Some(rec) = st
            .app
            .store
            .find_result(project, *id)
            .await
            .map_err(store_err)?
        {
            results.push(result_out(&d.ctx.project.code, &rec));
        }
    }
    let case_name = |c: CaseId| {
        d.cases
            .iter()
            .find(|(id, _, _)| *id == c)
            .map_or_else(|| c.to_string(), |(_, h, _)| h.clone())
    };
    let req_name = |r: RequirementId| {
        d.requirements
            .iter()
            .find(|(id, _, _)| *id == r)
            .map_or_else(|| r.to_string(), |(_, h, _)| h.clone())
    };
    let mut revisions: Vec<i64> = d.revisions.iter().map(|r| r.number).collect();
    revisions.sort_unstable();
    Ok(Json(DefectDetailOut {
        defect: defect_out(&d.defect, case_name, req_name),
        cases: d
            .cases
            .iter()
            .map(|(id, h, t)| NamedOut {
                id: id.to_string(),
                human_id: h.clone(),
                title: t.clone(),
            })
            .collect(),
        requirements: d
            .requirements
            .iter()
            .map(|(id, h, t)| NamedOut {
                id: id.to_string(),
                human_id: h.clone(),
                title: t.clone(),
            })
            .collect(),
        results,
        transitions: states(&d.next, DefectStatus::as_str),
        revisions,
        closing_blockers: d.closing_blockers,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefectIn {
    /// Required.
    title: Option<String>,
    description: Option<String>,
    /// critical, major (default) or minor
    severity: Option<String>,
    /// The id of a result that did not pass; its case is linked too.
    result: Option<String>,
    /// Case human ids to link.
    #[serde(default)]
    cases: Vec<String>,
    /// Requirement human ids to link.
    #[serde(default)]
    requirements: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/defects", tag = "vv",
    summary = "Raise a defect (editors), from a failed result or by hand; it starts open",
    params(("code" = String, Path, description = "Project code")), request_body = DefectIn,
    responses((status = 201, body = DefectDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_defect(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<DefectIn>,
) -> Created<DefectDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let result = match b.result.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(body_id::<ResultId>("result", raw, "a result id")?),
    };
    let input = DefectInput {
        title: b.title,
        description: b.description,
        severity: b.severity,
    };
    let d = st
        .app
        .create_defect(
            &p,
            &code,
            &input,
            result,
            &joined(&b.cases),
            &joined(&b.requirements),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        defect_detail_out(&st, &p, &code, &d.human_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/defects/{human_id}", tag = "vv",
    summary = "One defect with its cases, requirements, results and, while resolved, what blocks closing it",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Defect id, e.g. DEF-001")),
    responses((status = 200, body = DefectDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_defect(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<DefectDetailOut> {
    defect_detail_out(&st, &p, &code, &human_id).await
}

/// Defect fields; absent fields stay as they are. Links are only added.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefectPatchIn {
    title: Option<String>,
    description: Option<String>,
    /// critical, major or minor
    severity: Option<String>,
    /// Case human ids to link as well.
    #[serde(default)]
    add_cases: Vec<String>,
    /// Requirement human ids to link as well.
    #[serde(default)]
    add_requirements: Vec<String>,
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/vv/defects/{human_id}", tag = "vv",
    summary = "Edit a defect and link more cases or requirements (editors); a new revision",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Defect id")),
    request_body = DefectPatchIn,
    responses((status = 200, body = DefectDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_defect(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<DefectPatchIn>,
) -> ApiResult<DefectDetailOut> {
    let input = DefectInput {
        title: b.title,
        description: b.description,
        severity: b.severity,
    };
    let d = st
        .app
        .update_defect(
            &p,
            &code,
            &human_id,
            &input,
            &joined(&b.add_cases),
            &joined(&b.add_requirements),
        )
        .await?;
    defect_detail_out(&st, &p, &code, &d.human_id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefectStatusIn {
    /// open, in_progress, resolved, closed or rejected
    to: String,
    /// A lead's reason to close although the closing rule is not met; audited.
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/defects/{human_id}/status", tag = "vv",
    summary = "Move a defect: open → in_progress → resolved → closed | rejected. Closing needs a passing result of every linked case executed after the defect was raised (409 otherwise), or a lead's `reason`",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Defect id")),
    request_body = DefectStatusIn,
    responses((status = 200, body = DefectDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_defect(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<DefectStatusIn>,
) -> ApiResult<DefectDetailOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let to = DefectStatus::parse(&b.to).map_err(|e| AppError::field("to", e))?;
    let reason = b.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some() && to != DefectStatus::Closed {
        return Err(
            AppError::field("reason", "is only for closing against the closing rule").into(),
        );
    }
    let d = st.app.move_defect(&p, &code, &human_id, to, reason).await?;
    defect_detail_out(&st, &p, &code, &d.human_id).await
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct SnapResultOut {
    result_id: String,
    verdict: String,
    /// RFC 3339.
    executed_at: String,
}

/// A case as a snapshot froze it.
#[derive(Serialize, ToSchema)]
pub struct SnapCaseOut {
    case_id: String,
    human_id: String,
    title: String,
    revision: i64,
    /// The content hash of that revision, as in the case's revision history.
    revision_hash: String,
    status: String,
    /// Its latest result then; absent when it had none.
    latest: Option<SnapResultOut>,
}

fn snap_case_out(c: &SnapCase) -> SnapCaseOut {
    SnapCaseOut {
        case_id: c.case_id.to_string(),
        human_id: c.human_id.clone(),
        title: c.title.clone(),
        revision: c.revision,
        revision_hash: c.revision_hash.clone(),
        status: c.status.clone(),
        latest: c.latest.as_ref().map(|l| SnapResultOut {
            result_id: l.result_id.to_string(),
            verdict: l.verdict.as_str().into(),
            executed_at: l.executed_at.clone(),
        }),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SnapshotOut {
    id: String,
    /// `VS-001`
    human_id: String,
    title: String,
    /// plan or set
    scope_kind: String,
    scope_id: String,
    scope_label: String,
    /// SHA-256 over the canonical JSON of the frozen content.
    content_hash: String,
    /// Cases per latest verdict when frozen (no result counts as not run).
    verdicts: VerdictCountsOut,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    /// The frozen cases, by human id; left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    cases: Option<Vec<SnapCaseOut>>,
}

fn snapshot_out(s: &Snapshot, with_cases: bool) -> SnapshotOut {
    SnapshotOut {
        id: s.id.to_string(),
        human_id: s.human_id.clone(),
        title: s.title.clone(),
        scope_kind: s.scope_kind.clone(),
        scope_id: s.scope_id.to_string(),
        scope_label: s.scope_label.clone(),
        content_hash: s.content_hash.clone(),
        verdicts: VerdictCountsOut::of(
            s.content
                .verdict_counts()
                .into_iter()
                .map(|(v, n)| (v, count(n))),
        ),
        created_by: s.created_by.map(|u| u.to_string()),
        created_at: s.created_at,
        cases: with_cases.then(|| s.content.cases.iter().map(snap_case_out).collect()),
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/snapshots", tag = "vv",
    summary = "Verification snapshots (without their cases)",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<SnapshotOut>), (status = 404, body = ErrorBody)))]
pub async fn list_snapshots(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<SnapshotOut>> {
    let (_, snaps) = st.app.list_snapshots(&p, &code).await?;
    Ok(Json(snaps.iter().map(|s| snapshot_out(s, false)).collect()))
}

/// What to freeze: a plan's cases or a set's (exactly one of `plan` and `set`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotIn {
    title: String,
    /// A plan's human id.
    plan: Option<String>,
    /// A set's id.
    set: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/snapshots", tag = "vv",
    summary = "Freeze a plan's or set's cases at their revisions with their latest results (editors); never changed afterwards",
    params(("code" = String, Path, description = "Project code")), request_body = SnapshotIn,
    responses((status = 201, body = SnapshotOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_snapshot(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<SnapshotIn>,
) -> Created<SnapshotOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Write).await?;
    let scope = match (text(&b.plan), text(&b.set)) {
        (Some(h), None) => {
            let plan = st
                .app
                .store
                .find_plan(ctx.project.id, &h.to_uppercase())
                .await
                .map_err(store_err)?
                .ok_or_else(|| AppError::field("plan", format!("no plan {h} in this project")))?;
            SnapshotScope::Plan(plan.human_id)
        }
        (None, Some(raw)) => {
            let id: CaseSetId = body_id("set", raw, "a set id")?;
            st.app
                .store
                .find_set(ctx.project.id, id)
                .await
                .map_err(store_err)?
                .ok_or_else(|| AppError::field("set", "no such set in this project"))?;
            SnapshotScope::Set(id)
        }
        _ => {
            return Err(AppError::field("scope", "name exactly one of plan and set").into());
        }
    };
    let s = st.app.create_snapshot(&p, &code, &scope, &b.title).await?;
    Ok((StatusCode::CREATED, Json(snapshot_out(&s, true))))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/snapshots/{human_id}", tag = "vv",
    summary = "One snapshot with its frozen cases",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Snapshot id, e.g. VS-001")),
    responses((status = 200, body = SnapshotOut), (status = 404, body = ErrorBody)))]
pub async fn get_snapshot(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<SnapshotOut> {
    let (_, s) = st.app.snapshot(&p, &code, &human_id).await?;
    Ok(Json(snapshot_out(&s, true)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// The older snapshot's human id.
    from: Option<String>,
    /// The newer snapshot's human id.
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseChangeOut {
    human_id: String,
    title: String,
    from_revision: i64,
    to_revision: i64,
    /// Absent when the case had no result.
    from_verdict: Option<String>,
    to_verdict: Option<String>,
}

fn change_out(c: &CaseChange) -> CaseChangeOut {
    CaseChangeOut {
        human_id: c.human_id.clone(),
        title: c.title.clone(),
        from_revision: c.from_revision,
        to_revision: c.to_revision,
        from_verdict: c.from_verdict.map(|v| v.as_str().to_owned()),
        to_verdict: c.to_verdict.map(|v| v.as_str().to_owned()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SnapshotDiffOut {
    from: SnapshotOut,
    to: SnapshotOut,
    /// Cases only in `to`.
    added: Vec<SnapCaseOut>,
    /// Cases only in `from`.
    removed: Vec<SnapCaseOut>,
    /// Cases at another revision (their verdict may differ too).
    changed: Vec<CaseChangeOut>,
    /// Cases at the same revision with another latest verdict.
    verdict_changed: Vec<CaseChangeOut>,
    /// Cases equal in both.
    unchanged: usize,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/snapshots/compare", tag = "vv",
    summary = "Compare two snapshots: cases added, removed, at another revision, or with another verdict",
    params(("code" = String, Path, description = "Project code"), CompareParams),
    responses((status = 200, body = SnapshotDiffOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn compare_snapshots(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<CompareParams>,
) -> ApiResult<SnapshotDiffOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let mut errors = FieldErrors::new();
    let mut named = |field: &str, v: &Option<String>| -> Option<String> {
        match text(v) {
            None => {
                errors.add(field, "is required: a snapshot's human id");
                None
            }
            Some(h) => Some(h.to_uppercase()),
        }
    };
    let (from, to) = (named("from", &q.from), named("to", &q.to));
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AppError::Validation(errors).into());
    };
    // Unknown snapshots are refused naming the parameter rather than as a missing page.
    for (field, h) in [("from", &from), ("to", &to)] {
        if st
            .app
            .store
            .find_snapshot(ctx.project.id, h)
            .await
            .map_err(store_err)?
            .is_none()
        {
            errors.add(field, format!("no snapshot {h} in this project"));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let (_, a, b, diff) = st.app.compare_snapshots(&p, &code, &from, &to).await?;
    Ok(Json(SnapshotDiffOut {
        from: snapshot_out(&a, false),
        to: snapshot_out(&b, false),
        added: diff.added.iter().map(snap_case_out).collect(),
        removed: diff.removed.iter().map(snap_case_out).collect(),
        changed: diff.changed.iter().map(change_out).collect(),
        verdict_changed: diff.verdict_changed.iter().map(change_out).collect(),
        unchanged: diff.unchanged,
    }))
}

// ---------------------------------------------------------------------------------------------
// JUnit imports
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct JunitMappedOut {
    /// The case's human id.
    case: String,
    title: String,
    /// The verdict the import records: any failing test fails the case, an error blocks it,
    /// all passing passes it, all skipped is not_run, passes mixed with skips inconclusive.
    verdict: String,
    /// The tests that map to the case.
    tests: Vec<String>,
    /// The first failure message.
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct JunitUnknownOut {
    /// The test's full name; no case maps to it.
    test: String,
    outcome: String,
}

#[derive(Serialize, ToSchema)]
pub struct JunitRefusedOut {
    case: String,
    reason: String,
}

/// The dry-run report: what applying the import would record.
#[derive(Serialize, ToSchema)]
pub struct JunitReportOut {
    file_name: String,
    tests: usize,
    suites: usize,
    mapped: Vec<JunitMappedOut>,
    unknown: Vec<JunitUnknownOut>,
    /// Cases that cannot take a result (retired); applying is refused while there are any.
    refused: Vec<JunitRefusedOut>,
    /// Results to record per verdict.
    counts: VerdictCountsOut,
    configuration: String,
    executor: String,
    /// As given (empty: the time of applying).
    executed_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct JunitImportOut {
    id: String,
    file_name: String,
    /// pending, applied or discarded
    status: String,
    created_by: String,
    created_at: DateTime<Utc>,
    report: JunitReportOut,
}

fn junit_out(i: &PendingImport, r: &JunitReport) -> JunitImportOut {
    JunitImportOut {
        id: i.id.to_string(),
        file_name: i.file_name.clone(),
        status: i.status.clone(),
        created_by: i.created_by.to_string(),
        created_at: i.created_at,
        report: JunitReportOut {
            file_name: r.file_name.clone(),
            tests: r.tests,
            suites: r.suites,
            mapped: r
                .mapped
                .iter()
                .map(|m| JunitMappedOut {
                    case: m.case.clone(),
                    title: m.title.clone(),
                    verdict: m.verdict.clone(),
                    tests: m.tests.clone(),
                    message: m.message.clone(),
                })
                .collect(),
            unknown: r
                .unknown
                .iter()
                .map(|u| JunitUnknownOut {
                    test: u.test.clone(),
                    outcome: u.outcome.clone(),
                })
                .collect(),
            refused: r
                .refused
                .iter()
                .map(|(case, reason)| JunitRefusedOut {
                    case: case.clone(),
                    reason: reason.clone(),
                })
                .collect(),
            counts: VerdictCountsOut::of(r.counts.iter().map(|(v, n)| (v.as_str(), count(*n)))),
            configuration: r.configuration.clone(),
            executor: r.executor.clone(),
            executed_at: r.executed_at.clone(),
        },
    }
}

/// The multipart body of a JUnit upload.
#[derive(ToSchema)]
#[allow(dead_code)] // Documents the multipart body; the handler reads the parts one by one.
pub struct JunitUpload {
    /// The JUnit XML report (pytest, cargo-nextest, googletest, ctest).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The configuration under test, recorded on every result.
    configuration: Option<String>,
    /// Who ran the tests (default: the caller).
    executor: Option<String>,
    /// RFC 3339 or `YYYY-MM-DDTHH:MM` (UTC); default: the time of applying.
    executed_at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/junit", tag = "vv",
    summary = "Upload a JUnit XML report (editors): a dry run that maps tests to cases (automation key or a case id in the name) and records nothing",
    params(("code" = String, Path, description = "Project code")),
    request_body(content = JunitUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = JunitImportOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn junit_upload(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Created<JunitImportOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let mut file = None;
    let (mut configuration, mut executor, mut executed_at) =
        (String::new(), String::new(), String::new());
    for part in read_parts(form).await? {
        match part.name.as_str() {
            "file" => file = Some(part.upload("junit.xml")),
            "configuration" => configuration = part.text()?,
            "executor" => executor = part.text()?,
            "executed_at" => executed_at = part.text()?,
            other => {
                return Err(
                    unknown_part(other, "file, configuration, executor and executed_at").into(),
                )
            }
        }
    }
    let file = file.ok_or_else(|| AppError::field("file", "is required: the JUnit XML file"))?;
    let (_, import) = st
        .app
        .junit_dry_run(&p, &code, &file, &configuration, &executor, &executed_at)
        .await?;
    let (_, import, report) = st.app.junit_import(&p, &code, import.id).await?;
    Ok((StatusCode::CREATED, Json(junit_out(&import, &report))))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/junit/{id}", tag = "vv",
    summary = "A JUnit import with its dry-run report",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Import id")),
    responses((status = 200, body = JunitImportOut), (status = 404, body = ErrorBody)))]
pub async fn get_junit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<JunitImportOut> {
    let id: ImportId = path_id(&id)?;
    let (_, import, report) = st.app.junit_import(&p, &code, id).await?;
    Ok(Json(junit_out(&import, &report)))
}

#[derive(Serialize, ToSchema)]
pub struct JunitApplyOut {
    /// recorded: the results are recorded, each with the file as evidence. replanned: the
    /// cases changed since the dry run, nothing was recorded, and `import` is a fresh dry run
    /// to review and apply instead.
    outcome: String,
    /// Results recorded.
    recorded: usize,
    /// The fresh import (when replanned).
    import: Option<JunitImportOut>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/vv/junit/{id}/apply", tag = "vv",
    summary = "Apply a reviewed JUnit import (editors): one result per mapped case, in one transaction",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Import id")),
    responses((status = 200, body = JunitApplyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn apply_junit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<JunitApplyOut> {
    let id: ImportId = path_id(&id)?;
    Ok(Json(match st.app.junit_apply(&p, &code, id).await? {
        JunitApplied::Recorded(n) => JunitApplyOut {
            outcome: "recorded".into(),
            recorded: n,
            import: None,
        },
        JunitApplied::Replanned(fresh) => {
            let (_, import, report) = st.app.junit_import(&p, &code, fresh).await?;
            JunitApplyOut {
                outcome: "replanned".into(),
                recorded: 0,
                import: Some(junit_out(&import, &report)),
            }
        }
    }))
}

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct TrendDayOut {
    day: NaiveDate,
    /// Results recorded that day per verdict.
    results: VerdictCountsOut,
}

#[derive(Serialize, ToSchema)]
pub struct OpenDefectsOut {
    critical: i64,
    major: i64,
    minor: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DashboardOut {
    /// Cases that are not retired.
    cases: i64,
    /// Cases per latest verdict; cases without a result count as not run.
    verdicts: VerdictCountsOut,
    /// Results recorded per day over the last 30 days, oldest first.
    trend: Vec<TrendDayOut>,
    /// Open defects (not closed or rejected) per severity.
    open_defects: OpenDefectsOut,
    /// Requirements proper (not headings, information or obsolete) that no case verifies.
    requirements_without_case: i64,
    plans: Vec<PlanOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/vv/dashboard", tag = "vv",
    summary = "The V&V dashboard: latest verdicts, the 30-day trend, open defects and unverified requirements",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = DashboardOut), (status = 404, body = ErrorBody)))]
pub async fn dashboard(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<DashboardOut> {
    let d = st.app.vv_dashboard(&p, &code).await?;
    let modules = modules_of(&st, &d.ctx).await?;
    let defects = |s: &str| {
        d.open_defects
            .iter()
            .find(|(x, _)| x == s)
            .map_or(0, |(_, n)| *n)
    };
    Ok(Json(DashboardOut {
        cases: d.facts.cases,
        verdicts: VerdictCountsOut::of(d.verdicts.iter().map(|(v, n)| (v.as_str(), *n))),
        trend: d
            .trend
            .iter()
            .map(|t| TrendDayOut {
                day: t.day,
                results: VerdictCountsOut::of(
                    Verdict::ALL
                        .iter()
                        .zip(&t.counts)
                        .map(|(v, n)| (v.as_str(), *n)),
                ),
            })
            .collect(),
        open_defects: OpenDefectsOut {
            critical: defects("critical"),
            major: defects("major"),
            minor: defects("minor"),
        },
        requirements_without_case: d.facts.requirements_without_case,
        plans: d
            .plans
            .iter()
            .map(|s| plan_summary_out(s, &modules))
            .collect(),
    }))
}
