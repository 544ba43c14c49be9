//! The project list, the project dashboard and the project settings (phases, members).

use super::{render, when, Layout};
use crate::auth::{redirect_with_flash, CsrfForm, PageUser};
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use opensesa_app::AppError;
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::audit::AuditEvent;
use opensesa_domain::ids::{PhaseId, UserId};
use opensesa_domain::portfolio::{Phase, PhaseInput, Project, ProjectInput};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

pub struct ProjectRow {
    code: String,
    name: String,
    program: String,
    status: &'static str,
    role: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    l: Layout,
    rows: Vec<ProjectRow>,
    is_admin: bool,
    programs: Vec<opensesa_domain::portfolio::Program>,
}

/// `/`: the project remembered in the session, else the project list.
pub async fn home(State(st): State<AppState>, PageUser(p, _): PageUser) -> PageResult {
    if let Some(id) = p.session.as_ref().and_then(|s| s.project_id) {
        if let Some(project) = st
            .app
            .store
            .find_project(id)
            .await
            .map_err(AppError::from)?
        {
            if st
                .app
                .project_access(&p, &project.code, Permission::Read)
                .await
                .is_ok()
            {
                return Ok(Redirect::to(&format!("/p/{}/", project.code)).into_response());
            }
        }
    }
    Ok(Redirect::to("/projects").into_response())
}

async fn list_page(
    st: &AppState,
    p: &opensesa_app::Principal,
    c: &crate::auth::Caller,
    error: Option<String>,
) -> PageResult {
    let programs = st.app.list_programs().await?;
    let rows = st
        .app
        .visible_projects(p)
        .await?
        .into_iter()
        .map(|r| ProjectRow {
            program: r
                .project
                .program_id
                .and_then(|id| programs.iter().find(|g| g.id == id))
                .map_or_else(String::new, |g| g.code.clone()),
            code: r.project.code,
            name: r.project.name,
            status: r.project.status.as_str(),
            role: r
                .role
                .map_or_else(|| "site admin".to_owned(), |r| r.to_string()),
        })
        .collect();
    let l = Layout::for_user(st, p, c, "Projects", "projects").with_error(error);
    render(&ProjectsPage {
        l,
        rows,
        is_admin: p.is_admin(),
        programs,
    })
}

pub async fn list(State(st): State<AppState>, PageUser(p, c): PageUser) -> PageResult {
    list_page(&st, &p, &c, None).await
}

pub async fn create(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), input): CsrfForm<ProjectInput>,
) -> PageResult {
    match st.app.create_project(Some(&p), &input).await {
        Ok(project) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/", project.code),
            "Project created; you are its lead.",
        )),
        Err(AppError::Validation(e)) => list_page(&st, &p, &c, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

pub struct PhaseRow {
    id: PhaseId,
    ordinal: i64,
    name: String,
    starts: String,
    ends: String,
}

fn phase_rows(phases: &[Phase]) -> Vec<PhaseRow> {
    phases
        .iter()
        .map(|ph| PhaseRow {
            id: ph.id,
            ordinal: ph.ordinal,
            name: ph.name.clone(),
            starts: ph.starts_on.map(|d| d.to_string()).unwrap_or_default(),
            ends: ph.ends_on.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect()
}

pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    pub artefact_type: String,
    pub summary: String,
}

pub fn event_row(e: &AuditEvent) -> EventRow {
    let fields: Vec<&str> = e.changes.iter().map(|c| c.field.as_str()).collect();
    EventRow {
        at: when(&e.at),
        actor: e.actor.clone(),
        action: e.action.as_str(),
        artefact_type: e.artefact_type.clone(),
        summary: if fields.is_empty() {
            String::new()
        } else {
            format!("({})", fields.join(", "))
        },
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    project: Project,
    role: String,
    can_lead: bool,
    member_count: usize,
    lead_count: usize,
    editor_count: usize,
    viewer_count: usize,
    current_phase: String,
    program: String,
    phases: Vec<PhaseRow>,
    events: Vec<EventRow>,
}

pub async fn dashboard_redirect(Path(code): Path<String>) -> Response {
    Redirect::permanent(&format!("/p/{}/", code.to_uppercase())).into_response()
}

pub async fn dashboard(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let overview = st.app.project_overview(&p, &code, 10).await?;
    let ctx = overview.ctx;
    if let Some(s) = &p.session {
        st.app.select_project(s, ctx.project.id).await?;
    }
    let (phases, members) = (overview.phases, overview.members);
    let program = overview.program.map_or_else(|| "—".into(), |g| g.name);
    let today = st.app.now().date_naive();
    let current_phase = phases
        .iter()
        .find(|ph| {
            ph.starts_on.is_some_and(|s| s <= today) && ph.ends_on.is_none_or(|e| e >= today)
        })
        .map_or_else(|| "—".to_owned(), |ph| ph.name.clone());
    let count = |r: Role| members.iter().filter(|m| m.membership.role == r).count();
    let can_lead = ctx.can(Permission::Lead);
    let page = DashboardPage {
        l: Layout::for_user(&st, &p, &c, ctx.project.name.clone(), "dashboard")
            .in_project(&ctx.project, can_lead),
        role: ctx
            .role
            .map_or_else(|| "site admin".to_owned(), |r| r.to_string()),
        can_lead,
        member_count: members.len(),
        lead_count: count(Role::Lead),
        editor_count: count(Role::Editor),
        viewer_count: count(Role::Viewer),
        current_phase,
        program,
        phases: phase_rows(&phases),
        events: overview.recent.iter().map(event_row).collect(),
        project: ctx.project,
    };
    render(&page)
}

pub struct ProgramOption {
    code: String,
    name: String,
    selected: bool,
}

pub struct MemberView {
    user_id: UserId,
    name: String,
    email: String,
    role: &'static str,
    organisation: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    l: Layout,
    project: Project,
    can_lead: bool,
    programs: Vec<ProgramOption>,
    phases: Vec<PhaseRow>,
    members: Vec<MemberView>,
    organisations: Vec<opensesa_domain::portfolio::Organisation>,
}

async fn settings_page(
    st: &AppState,
    p: &opensesa_app::Principal,
    c: &crate::auth::Caller,
    code: &str,
    error: Option<String>,
) -> PageResult {
    let (ctx, phases) = st.app.list_phases(p, code).await?;
    let (_, members) = st.app.list_members(p, code).await?;
    let can_lead = ctx.can(Permission::Lead);
    let programs = st
        .app
        .list_programs()
        .await?
        .into_iter()
        .map(|g| ProgramOption {
            selected: ctx.project.program_id == Some(g.id),
            code: g.code,
            name: g.name,
        })
        .collect();
    let members = members
        .into_iter()
        .map(|m| MemberView {
            user_id: m.user.id,
            name: m.user.display_name,
            email: m.user.email.to_string(),
            role: m.membership.role.as_str(),
            organisation: m.organisation.map(|o| o.code).unwrap_or_default(),
        })
        .collect();
    let title = if can_lead {
        "Project settings"
    } else {
        "Phases and members"
    };
    let page = SettingsPage {
        l: Layout::for_user(st, p, c, title, "settings")
            .in_project(&ctx.project, can_lead)
            .with_error(error),
        can_lead,
        programs,
        phases: phase_rows(&phases),
        members,
        organisations: st.app.list_organisations().await?,
        project: ctx.project,
    };
    render(&page)
}

pub async fn settings(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    settings_page(&st, &p, &c, &code, None).await
}

/// Runs a settings change: on success back to settings with a message; on invalid input the
/// settings page again with the reasons.
async fn settings_action<T>(
    st: &AppState,
    p: &opensesa_app::Principal,
    c: &crate::auth::Caller,
    code: &str,
    result: Result<T, AppError>,
    ok: &str,
) -> PageResult {
    match result {
        Ok(_) => Ok(redirect_with_flash(
            st,
            &format!("/p/{}/settings", code.to_uppercase()),
            ok,
        )),
        Err(AppError::Validation(e)) => settings_page(st, p, c, code, Some(e.to_string())).await,
        Err(AppError::Conflict(why)) => settings_page(st, p, c, code, Some(why)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn update(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), input): CsrfForm<ProjectInput>,
) -> PageResult {
    let r = st.app.update_project(&p, &code, &input).await;
    if let Ok(project) = &r {
        if !project.code.eq_ignore_ascii_case(&code) {
            return Ok(redirect_with_flash(
                &st,
                &format!("/p/{}/settings", project.code),
                "Project saved.",
            ));
        }
    }
    settings_action(&st, &p, &c, &code, r, "Project saved.").await
}

pub async fn add_phase(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), input): CsrfForm<PhaseForm>,
) -> PageResult {
    let r = st.app.create_phase(&p, &code, &input.into_input()).await;
    settings_action(&st, &p, &c, &code, r, "Phase added.").await
}

/// Phase fields as a form sends them (empty strings for empty inputs).
#[derive(Deserialize)]
pub struct PhaseForm {
    name: Option<String>,
    ordinal: Option<String>,
    starts_on: Option<String>,
    ends_on: Option<String>,
}

impl PhaseForm {
    fn into_input(self) -> PhaseInput {
        PhaseInput {
            name: self.name,
            // A non-number here is caught by the ordinal range check (0 is refused).
            ordinal: self
                .ordinal
                .filter(|o| !o.trim().is_empty())
                .map(|o| o.trim().parse().unwrap_or(0)),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
        }
    }
}

pub async fn edit_phase(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, PhaseId)>,
    CsrfForm(PageUser(p, c), input): CsrfForm<PhaseForm>,
) -> PageResult {
    let r = st
        .app
        .update_phase(&p, &code, id, &input.into_input())
        .await;
    settings_action(&st, &p, &c, &code, r, "Phase saved.").await
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn delete_phase(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, PhaseId)>,
    CsrfForm(PageUser(p, c), _): CsrfForm<Empty>,
) -> PageResult {
    let r = st.app.delete_phase(&p, &code, id).await;
    settings_action(&st, &p, &c, &code, r, "Phase deleted.").await
}

#[derive(Deserialize)]
pub struct MemberForm {
    email: String,
    role: String,
    organisation: Option<String>,
}

pub async fn set_member(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<MemberForm>,
) -> PageResult {
    let r = st
        .app
        .set_member(&p, &code, &f.email, &f.role, f.organisation.as_deref())
        .await;
    settings_action(&st, &p, &c, &code, r, "Member saved.").await
}

pub async fn remove_member(
    State(st): State<AppState>,
    Path((code, user)): Path<(String, UserId)>,
    CsrfForm(PageUser(p, c), _): CsrfForm<Empty>,
) -> PageResult {
    let r = st.app.remove_member(&p, &code, user).await;
    settings_action(&st, &p, &c, &code, r, "Member removed.").await
}
