//! API for the caller's account, programs, organisations, projects, phases, members and the
//! project audit trail.

use super::ApiJson;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::audit::AuditFilter;
use opensesa_app::ports::MemberRow;
use opensesa_domain::access::Permission;
use opensesa_domain::audit::{Action, AuditEvent};
use opensesa_domain::ids::{PhaseId, UserId};
use opensesa_domain::portfolio::{Organisation, Phase, PhaseInput, Program, Project, ProjectInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

type ApiResult<T> = Result<Json<T>, ApiError>;

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    id: Uuid,
    email: String,
    display_name: String,
    is_admin: bool,
    mfa_enabled: bool,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account", summary = "The authenticated user",
    responses((status = 200, body = MeOut), (status = 401, body = ErrorBody)))]
pub async fn me(ApiUser(p): ApiUser) -> ApiResult<MeOut> {
    Ok(Json(MeOut {
        id: p.user.id.0,
        email: p.user.email.to_string(),
        display_name: p.user.display_name.clone(),
        is_admin: p.user.is_admin,
        mfa_enabled: p.user.mfa_enabled(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ProgramOut {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl From<Program> for ProgramOut {
    fn from(g: Program) -> Self {
        Self {
            id: g.id.0,
            code: g.code,
            name: g.name,
            description: g.description,
            created_at: g.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ProgramIn {
    code: String,
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(get, path = "/api/v1/programs", tag = "portfolio", summary = "List programs",
    responses((status = 200, body = Vec<ProgramOut>), (status = 401, body = ErrorBody)))]
pub async fn list_programs(
    State(st): State<AppState>,
    ApiUser(_): ApiUser,
) -> ApiResult<Vec<ProgramOut>> {
    Ok(Json(
        st.app
            .list_programs()
            .await?
            .into_iter()
            .map(ProgramOut::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/programs", tag = "portfolio", summary = "Create a program (site admins)", request_body = ProgramIn,
    responses((status = 201, body = ProgramOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_program(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<ProgramIn>,
) -> Result<(StatusCode, Json<ProgramOut>), ApiError> {
    let g = st
        .app
        .create_program(Some(&p), &b.code, &b.name, &b.description)
        .await?;
    Ok((StatusCode::CREATED, Json(g.into())))
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationOut {
    id: Uuid,
    code: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<Organisation> for OrganisationOut {
    fn from(o: Organisation) -> Self {
        Self {
            id: o.id.0,
            code: o.code,
            name: o.name,
            created_at: o.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct OrganisationIn {
    code: String,
    name: String,
}

#[utoipa::path(get, path = "/api/v1/organisations", tag = "portfolio", summary = "List delivery organisations",
    responses((status = 200, body = Vec<OrganisationOut>), (status = 401, body = ErrorBody)))]
pub async fn list_organisations(
    State(st): State<AppState>,
    ApiUser(_): ApiUser,
) -> ApiResult<Vec<OrganisationOut>> {
    Ok(Json(
        st.app
            .list_organisations()
            .await?
            .into_iter()
            .map(OrganisationOut::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/organisations", tag = "portfolio", summary = "Create a delivery organisation (site admins)",
    request_body = OrganisationIn,
    responses((status = 201, body = OrganisationOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_organisation(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<OrganisationIn>,
) -> Result<(StatusCode, Json<OrganisationOut>), ApiError> {
    let o = st
        .app
        .create_organisation(Some(&p), &b.code, &b.name)
        .await?;
    Ok((StatusCode::CREATED, Json(o.into())))
}

#[derive(Serialize, ToSchema)]
pub struct ProjectOut {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    /// Program id, when the project belongs to one.
    program_id: Option<Uuid>,
    /// `active` or `archived`.
    status: String,
    revision: i64,
    /// The caller's role: viewer, editor, lead; absent for a site admin who is not a member.
    role: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn project_out(p: Project, role: Option<opensesa_domain::access::Role>) -> ProjectOut {
    ProjectOut {
        id: p.id.0,
        code: p.code,
        name: p.name,
        description: p.description,
        program_id: p.program_id.map(|g| g.0),
        status: p.status.as_str().into(),
        revision: p.revision,
        role: role.map(|r| r.as_str().to_owned()),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// Project fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
pub struct ProjectIn {
    code: Option<String>,
    name: Option<String>,
    description: Option<String>,
    /// Program code; an empty string detaches the project from its program.
    program: Option<String>,
    status: Option<String>,
}

impl From<ProjectIn> for ProjectInput {
    fn from(b: ProjectIn) -> Self {
        ProjectInput {
            code: b.code,
            name: b.name,
            description: b.description,
            program: b.program,
            status: b.status,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", summary = "Projects visible to the caller",
    responses((status = 200, body = Vec<ProjectOut>), (status = 401, body = ErrorBody)))]
pub async fn list_projects(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
) -> ApiResult<Vec<ProjectOut>> {
    let rows = st.app.visible_projects(&p).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| project_out(r.project, r.role))
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", summary = "Create a project (site admins); the creator becomes lead",
    request_body = ProjectIn,
    responses((status = 201, body = ProjectOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(b): ApiJson<ProjectIn>,
) -> Result<(StatusCode, Json<ProjectOut>), ApiError> {
    let project = st.app.create_project(Some(&p), &b.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(project_out(
            project,
            Some(opensesa_domain::access::Role::Lead),
        )),
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}", tag = "projects", summary = "One project",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = ProjectOut), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<ProjectOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    Ok(Json(project_out(ctx.project, ctx.role)))
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}", tag = "projects", summary = "Update a project (leads); a new revision",
    params(("code" = String, Path, description = "Project code")), request_body = ProjectIn,
    responses((status = 200, body = ProjectOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_project(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ProjectIn>,
) -> ApiResult<ProjectOut> {
    let project = st.app.update_project(&p, &code, &b.into()).await?;
    let ctx = st
        .app
        .project_access(&p, &project.code, Permission::Read)
        .await?;
    Ok(Json(project_out(project, ctx.role)))
}

#[derive(Serialize, ToSchema)]
pub struct PhaseOut {
    id: Uuid,
    ordinal: i64,
    name: String,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    revision: i64,
}

impl From<Phase> for PhaseOut {
    fn from(f: Phase) -> Self {
        Self {
            id: f.id.0,
            ordinal: f.ordinal,
            name: f.name,
            starts_on: f.starts_on,
            ends_on: f.ends_on,
            revision: f.revision,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PhaseIn {
    name: Option<String>,
    /// Position (1-based); new phases go last when absent.
    ordinal: Option<i64>,
    /// YYYY-MM-DD
    starts_on: Option<String>,
    /// YYYY-MM-DD
    ends_on: Option<String>,
}

impl From<PhaseIn> for PhaseInput {
    fn from(b: PhaseIn) -> Self {
        PhaseInput {
            name: b.name,
            ordinal: b.ordinal,
            starts_on: b.starts_on,
            ends_on: b.ends_on,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/phases", tag = "projects", summary = "Phases of a project, in order",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<PhaseOut>), (status = 404, body = ErrorBody)))]
pub async fn list_phases(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<PhaseOut>> {
    let (_, phases) = st.app.list_phases(&p, &code).await?;
    Ok(Json(phases.into_iter().map(PhaseOut::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/phases", tag = "projects", summary = "Add a phase (leads)",
    params(("code" = String, Path, description = "Project code")), request_body = PhaseIn,
    responses((status = 201, body = PhaseOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_phase(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<PhaseIn>,
) -> Result<(StatusCode, Json<PhaseOut>), ApiError> {
    let phase = st.app.create_phase(&p, &code, &b.into()).await?;
    Ok((StatusCode::CREATED, Json(phase.into())))
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/phases/{id}", tag = "projects", summary = "Change a phase (leads)",
    params(("code" = String, Path, description = "Project code"), ("id" = Uuid, Path, description = "Phase id")), request_body = PhaseIn,
    responses((status = 200, body = PhaseOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_phase(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, Uuid)>,
    ApiJson(b): ApiJson<PhaseIn>,
) -> ApiResult<PhaseOut> {
    Ok(Json(
        st.app
            .update_phase(&p, &code, PhaseId(id), &b.into())
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/projects/{code}/phases/{id}", tag = "projects", summary = "Delete a phase (leads)",
    params(("code" = String, Path, description = "Project code"), ("id" = Uuid, Path, description = "Phase id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_phase(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    st.app.delete_phase(&p, &code, PhaseId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    user_id: Uuid,
    email: String,
    display_name: String,
    /// viewer, editor or lead
    role: String,
    /// Organisation code
    organisation: Option<String>,
}

impl From<MemberRow> for MemberOut {
    fn from(m: MemberRow) -> Self {
        Self {
            user_id: m.user.id.0,
            email: m.user.email.to_string(),
            display_name: m.user.display_name,
            role: m.membership.role.as_str().into(),
            organisation: m.organisation.map(|o| o.code),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct MemberIn {
    email: String,
    /// viewer, editor or lead
    role: String,
    /// Organisation code
    organisation: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/members", tag = "projects", summary = "Members of a project",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<MemberOut>), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<MemberOut>> {
    let (_, members) = st.app.list_members(&p, &code).await?;
    Ok(Json(members.into_iter().map(MemberOut::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/members", tag = "projects", summary = "Add a member or change a member's role (leads)",
    params(("code" = String, Path, description = "Project code")), request_body = MemberIn,
    responses((status = 200, body = MemberOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_member(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<MemberIn>,
) -> ApiResult<MemberOut> {
    let m = st
        .app
        .set_member(&p, &code, &b.email, &b.role, b.organisation.as_deref())
        .await?;
    let (_, members) = st.app.list_members(&p, &code).await?;
    let row = members
        .into_iter()
        .find(|r| r.membership.user_id == m.user_id)
        .ok_or(opensesa_app::AppError::NotFound)?;
    Ok(Json(row.into()))
}

#[utoipa::path(delete, path = "/api/v1/projects/{code}/members/{user_id}", tag = "projects", summary = "Remove a member (leads)",
    params(("code" = String, Path, description = "Project code"), ("user_id" = Uuid, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, user)): Path<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    st.app.remove_member(&p, &code, UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct FieldChangeOut {
    field: String,
    #[schema(value_type = Object)]
    before: serde_json::Value,
    #[schema(value_type = Object)]
    after: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventOut {
    id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor: String,
    artefact_type: String,
    artefact_id: String,
    action: String,
    changes: Vec<FieldChangeOut>,
    reason: Option<String>,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id.0,
            at: e.at,
            actor_id: e.actor_id.map(|u| u.0),
            actor: e.actor,
            artefact_type: e.artefact_type,
            artefact_id: e.artefact_id,
            action: e.action.as_str().into(),
            changes: e
                .changes
                .into_iter()
                .map(|c| FieldChangeOut {
                    field: c.field,
                    before: c.before,
                    after: c.after,
                })
                .collect(),
            reason: e.reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPageOut {
    total: i64,
    events: Vec<AuditEventOut>,
}

#[derive(Deserialize, IntoParams)]
pub struct AuditParams {
    /// Part of the actor's email
    actor: Option<String>,
    /// create, update, delete, login, ...
    action: Option<String>,
    artefact_type: Option<String>,
    /// RFC 3339 time, inclusive
    from: Option<DateTime<Utc>>,
    /// RFC 3339 time, exclusive
    to: Option<DateTime<Utc>>,
    /// At most 1000 (default 100)
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/audit", tag = "audit", summary = "The project's audit trail, newest first",
    params(("code" = String, Path, description = "Project code"), AuditParams),
    responses((status = 200, body = AuditPageOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_audit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    Query(q): Query<AuditParams>,
) -> ApiResult<AuditPageOut> {
    let action = match q.action.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(Action::parse(a).ok_or_else(|| {
            opensesa_app::AppError::field("action", format!("{a:?} is not a recorded action"))
        })?),
        None => None,
    };
    let filter = AuditFilter {
        actor: q.actor,
        action,
        artefact_type: q.artefact_type,
        from: q.from,
        to: q.to,
    };
    let page = st
        .app
        .project_audit(
            &p,
            &code,
            &filter,
            q.limit.unwrap_or(100).clamp(1, 1000),
            q.offset.unwrap_or(0),
        )
        .await?;
    Ok(Json(AuditPageOut {
        total: page.total,
        events: page.events.into_iter().map(AuditEventOut::from).collect(),
    }))
}
