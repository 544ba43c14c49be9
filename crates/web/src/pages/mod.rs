//! Server-rendered pages, one module per area. Every page works without JavaScript.

mod account;
mod admin;
mod audit;
mod baselines;
mod jobs;
mod login;
pub(crate) mod operations;
mod projects;
mod req_exchange;
mod requirements;
mod statics;
mod vv;

use crate::auth::Caller;
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use opensesa_app::Principal;
use opensesa_domain::portfolio::Project;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(projects::home))
        .route("/login", get(login::login_page).post(login::login_submit))
        .route("/login/mfa", get(login::mfa_page).post(login::mfa_submit))
        .route("/logout", post(login::logout))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/p/{code}/", get(projects::dashboard))
        .route("/p/{code}", get(projects::dashboard_redirect))
        .route(
            "/p/{code}/settings",
            get(projects::settings).post(projects::update),
        )
        .route("/p/{code}/phases", post(projects::add_phase))
        .route("/p/{code}/phases/{id}", post(projects::edit_phase))
        .route("/p/{code}/phases/{id}/delete", post(projects::delete_phase))
        .route("/p/{code}/members", post(projects::set_member))
        .route(
            "/p/{code}/members/{user}/remove",
            post(projects::remove_member),
        )
        .route("/p/{code}/audit", get(audit::page))
        .route("/p/{code}/audit.csv", get(audit::csv))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/{hash}/end", post(account::end_session))
        .route(
            "/account/logout-everywhere",
            post(account::logout_everywhere),
        )
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/account/mfa",
            get(account::mfa_page).post(account::mfa_begin),
        )
        .route("/account/mfa/confirm", post(account::mfa_confirm))
        .route("/account/mfa/disable", post(account::mfa_disable))
        .route(
            "/account/mfa/recovery-codes",
            post(account::mfa_recovery_codes),
        )
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route("/admin/users/{id}/reset-mfa", post(admin::reset_mfa))
        .route("/admin/portfolio", get(admin::portfolio))
        .route("/admin/programs", post(admin::create_program))
        .route("/admin/organisations", post(admin::create_organisation))
        .route("/p/{code}/audit/export", post(jobs::start_audit_export))
        .route("/jobs/{id}", get(jobs::page))
        .route("/jobs/{id}/download", get(jobs::download))
        .route("/admin/status", get(jobs::status))
        .route("/admin/jobs/{id}/retry", post(jobs::retry))
        .route("/admin/jobs/{id}/discard", post(jobs::discard))
        .route("/static/{*path}", get(statics::serve))
        .merge(requirements::router())
        .merge(req_exchange::router())
        .merge(vv::router())
        .merge(baselines::router())
        .merge(operations::router())
}

pub struct NavUser {
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

pub struct NavProject {
    pub code: String,
    pub name: String,
    pub can_lead: bool,
}

/// What the base layout shows around every page.
pub struct Layout {
    pub title: String,
    pub css: String,
    pub js: String,
    pub favicon: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub project: Option<NavProject>,
    /// The area highlighted in the navigation.
    pub section: &'static str,
    pub flash: Option<String>,
    pub error: Option<String>,
}

impl Layout {
    pub fn new(st: &AppState, title: impl Into<String>, section: &'static str) -> Self {
        Self {
            title: title.into(),
            css: st.assets.url("app.css"),
            js: st.assets.url("app.js"),
            favicon: st.assets.url("favicon.svg"),
            user: None,
            csrf: String::new(),
            project: None,
            section,
            flash: None,
            error: None,
        }
    }

    pub fn for_user(
        st: &AppState,
        p: &Principal,
        caller: &Caller,
        title: impl Into<String>,
        section: &'static str,
    ) -> Self {
        let mut l = Self::new(st, title, section);
        l.user = Some(NavUser {
            name: p.user.display_name.clone(),
            email: p.user.email.to_string(),
            is_admin: p.user.is_admin,
        });
        l.csrf = p
            .session
            .as_ref()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default();
        l.flash = caller.flash.clone();
        l
    }

    pub fn in_project(mut self, project: &Project, can_lead: bool) -> Self {
        self.project = Some(NavProject {
            code: project.code.clone(),
            name: project.name.clone(),
            can_lead,
        });
        self
    }

    pub fn with_error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    pub fn is(&self, section: &str) -> bool {
        self.section == section
    }
}

/// Renders a template to a response.
pub fn render<T: Template>(t: &T) -> Result<Response, PageError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError::from(opensesa_app::AppError::Internal(format!("template: {e}"))))
}

/// Formats a time for people: UTC, minutes.
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
