//! Login with password, the second-factor step, and logout.

use super::{render, Layout};
use crate::auth::{
    clear_session_cookie, client_info, redirect_with_flash, session_cookie, MaybeCaller,
};
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use opensesa_app::accounts::NextStep;
use opensesa_app::AppError;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    email: String,
    next: String,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    l: Layout,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub async fn login_page(
    State(st): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    Query(q): Query<NextQuery>,
) -> Response {
    if c.principal.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let mut l = Layout::new(&st, "Log in", "login");
    l.flash = c.flash;
    render(&LoginPage {
        l,
        email: String::new(),
        next: safe_next(q.next.as_deref()),
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(st): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let client = client_info(&st, &headers, Some(peer));
    let next = safe_next(f.next.as_deref());
    match st
        .app
        .login(&f.email, &f.password, &client, c.cookie_token.as_deref())
        .await
    {
        Ok((session, step)) => {
            let to = match step {
                NextStep::MfaCode => "/login/mfa".to_owned(),
                NextStep::MfaEnrolment => "/account/mfa".to_owned(),
                NextStep::Done => next,
            };
            let mut res = Redirect::to(&to).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&st, &session.token));
            res
        }
        Err(e) => {
            let (status, message) = match e {
                AppError::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    "Email or password is incorrect.".to_owned(),
                ),
                AppError::RateLimited { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    crate::error::rate_limited_message(retry_after_secs),
                ),
                other => return PageError::from(other).into_response(),
            };
            let l = Layout::new(&st, "Log in", "login").with_error(Some(message));
            let mut res = render(&LoginPage {
                l,
                email: f.email.trim().to_owned(),
                next,
            })
            .into_response();
            *res.status_mut() = status;
            res
        }
    }
}

pub async fn mfa_page(State(st): State<AppState>, MaybeCaller(c): MaybeCaller) -> Response {
    if c.pending.is_none() {
        return Redirect::to("/login").into_response();
    }
    render(&MfaPage {
        l: Layout::new(&st, "Two-factor authentication", "login"),
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct MfaForm {
    code: String,
}

pub async fn mfa_submit(
    State(st): State<AppState>,
    MaybeCaller(c): MaybeCaller,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<MfaForm>,
) -> Response {
    let Some(pending) = c.pending else {
        return Redirect::to("/login").into_response();
    };
    let client = client_info(&st, &headers, Some(peer));
    match st.app.complete_mfa(&pending, &f.code, &client).await {
        Ok((session, factor)) => {
            let mut res = if factor == opensesa_app::accounts::SecondFactor::RecoveryCode {
                redirect_with_flash(
                    &st,
                    "/account",
                    "You used a recovery code. Generate new codes if you are running low.",
                )
            } else {
                Redirect::to("/").into_response()
            };
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&st, &session.token));
            res
        }
        Err(AppError::Validation(errors)) => {
            let l = Layout::new(&st, "Two-factor authentication", "login")
                .with_error(Some(errors.to_string()));
            let mut res = render(&MfaPage { l }).into_response();
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            res
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            let l = Layout::new(&st, "Two-factor authentication", "login")
                .with_error(Some(crate::error::rate_limited_message(retry_after_secs)));
            let mut res = render(&MfaPage { l }).into_response();
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

/// Ends the current session (full or pending). Protected by the Origin check like every
/// unsafe request; a forged logout could only log the victim out.
pub async fn logout(State(st): State<AppState>, MaybeCaller(c): MaybeCaller) -> Response {
    let session = c.principal.and_then(|p| p.session).or(c.pending);
    if let Some(s) = session {
        if let Err(e) = st.app.logout(&s).await {
            return PageError::from(e).into_response();
        }
    }
    let mut res = redirect_with_flash(&st, "/login", "You are logged out.");
    res.headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(&st));
    res
}
