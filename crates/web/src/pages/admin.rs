//! Site administration: users (create, disable, admin flag, MFA reset), programs and
//! delivery organisations.

use super::{render, when, Layout};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use opensesa_app::{AppError, Principal};
use opensesa_domain::ids::UserId;
use opensesa_domain::portfolio::{Organisation, Program};
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

fn require_admin(p: &Principal) -> Result<(), PageError> {
    if p.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden("only site admins may open the administration pages").into())
    }
}

pub struct UserView {
    id: UserId,
    name: String,
    email: String,
    is_admin: bool,
    is_active: bool,
    mfa: bool,
    created: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserView>,
}

async fn users_page(st: &AppState, p: &Principal, c: &Caller, error: Option<String>) -> PageResult {
    require_admin(p)?;
    let users = st
        .app
        .list_users(p)
        .await?
        .into_iter()
        .map(|u| UserView {
            is_self: u.id == p.user.id,
            id: u.id,
            name: u.display_name.clone(),
            email: u.email.to_string(),
            is_admin: u.is_admin,
            is_active: u.is_active,
            mfa: u.mfa_enabled(),
            created: when(&u.created_at),
        })
        .collect();
    render(&UsersPage {
        l: Layout::for_user(st, p, c, "Users", "admin").with_error(error),
        users,
    })
}

pub async fn users(State(st): State<AppState>, PageUser(p, c): PageUser) -> PageResult {
    users_page(&st, &p, &c, None).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    display_name: String,
    password: String,
    is_admin: Option<String>,
}

pub async fn create_user(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<NewUserForm>,
) -> PageResult {
    require_admin(&p)?;
    let admin = f.is_admin.as_deref() == Some("true");
    match st
        .app
        .create_user(Some(&p), &f.email, &f.display_name, &f.password, admin)
        .await
    {
        Ok(u) => Ok(redirect_with_flash(
            &st,
            "/admin/users",
            &format!("Created {}.", u.email),
        )),
        Err(AppError::Validation(e)) => users_page(&st, &p, &c, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct UpdateUserForm {
    active: Option<String>,
    admin: Option<String>,
}

fn flag(v: Option<&str>) -> Option<bool> {
    match v {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    }
}

pub async fn update_user(
    State(st): State<AppState>,
    Path(id): Path<UserId>,
    CsrfForm(PageUser(p, c), f): CsrfForm<UpdateUserForm>,
) -> PageResult {
    match st
        .app
        .admin_update_user(&p, id, flag(f.active.as_deref()), flag(f.admin.as_deref()))
        .await
    {
        Ok(u) => Ok(redirect_with_flash(
            &st,
            "/admin/users",
            &format!("Saved {}.", u.email),
        )),
        Err(AppError::Forbidden(why)) if p.is_admin() => users_page(&st, &p, &c, Some(why)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn reset_mfa(
    State(st): State<AppState>,
    Path(id): Path<UserId>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    st.app.admin_reset_mfa(&p, id).await?;
    Ok(redirect_with_flash(
        &st,
        "/admin/users",
        "Two-factor authentication reset; the user's sessions ended.",
    ))
}

#[derive(Template)]
#[template(path = "admin_portfolio.html")]
struct PortfolioPage {
    l: Layout,
    programs: Vec<Program>,
    organisations: Vec<Organisation>,
}

async fn portfolio_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    error: Option<String>,
) -> PageResult {
    require_admin(p)?;
    render(&PortfolioPage {
        l: Layout::for_user(st, p, c, "Portfolio", "portfolio").with_error(error),
        programs: st.app.list_programs().await?,
        organisations: st.app.list_organisations().await?,
    })
}

pub async fn portfolio(State(st): State<AppState>, PageUser(p, c): PageUser) -> PageResult {
    portfolio_page(&st, &p, &c, None).await
}

#[derive(Deserialize)]
pub struct CodeNameForm {
    code: String,
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn create_program(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<CodeNameForm>,
) -> PageResult {
    match st
        .app
        .create_program(Some(&p), &f.code, &f.name, &f.description)
        .await
    {
        Ok(g) => Ok(redirect_with_flash(
            &st,
            "/admin/portfolio",
            &format!("Program {} created.", g.code),
        )),
        Err(AppError::Validation(e)) => portfolio_page(&st, &p, &c, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn create_organisation(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<CodeNameForm>,
) -> PageResult {
    match st.app.create_organisation(Some(&p), &f.code, &f.name).await {
        Ok(o) => Ok(redirect_with_flash(
            &st,
            "/admin/portfolio",
            &format!("Organisation {} created.", o.code),
        )),
        Err(AppError::Validation(e)) => portfolio_page(&st, &p, &c, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}
