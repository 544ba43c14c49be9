//! The account page (password, sessions, API tokens) and MFA enrolment and management.

use super::{render, when, Layout};
use crate::auth::{clear_session_cookie, redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use opensesa_app::{AppError, Principal};
use opensesa_domain::ids::TokenId;
use serde::Deserialize;

type PageResult = Result<Response, PageError>;

pub struct SessionView {
    id_hash: String,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
    current: bool,
}

pub struct TokenView {
    id: TokenId,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
    state: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    l: Layout,
    name: String,
    email: String,
    is_admin: bool,
    mfa_enabled: bool,
    codes_left: i64,
    sessions: Vec<SessionView>,
    tokens: Vec<TokenView>,
    new_token: Option<String>,
}

async fn account_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    error: Option<String>,
    new_token: Option<String>,
) -> PageResult {
    let current = p
        .session
        .as_ref()
        .map(|s| s.id_hash.clone())
        .unwrap_or_default();
    let sessions = st
        .app
        .list_sessions(p)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id_hash == current,
            created: when(&s.created_at),
            last_seen: when(&s.last_seen_at),
            ip: s.ip,
            user_agent: s.user_agent.chars().take(80).collect(),
            id_hash: s.id_hash,
        })
        .collect();
    let tokens = st
        .app
        .list_api_tokens(p)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created: when(&t.created_at),
            last_used: t
                .last_used_at
                .as_ref()
                .map(when)
                .unwrap_or_else(|| "never".into()),
            state: if t.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
            active: t.revoked_at.is_none(),
        })
        .collect();
    let page = AccountPage {
        l: Layout::for_user(st, p, c, "Your account", "account").with_error(error),
        name: p.user.display_name.clone(),
        email: p.user.email.to_string(),
        is_admin: p.user.is_admin,
        mfa_enabled: p.user.mfa_enabled(),
        codes_left: st.app.recovery_codes_left(p).await?,
        sessions,
        tokens,
        new_token,
    };
    render(&page)
}

pub async fn page(State(st): State<AppState>, PageUser(p, c): PageUser) -> PageResult {
    account_page(&st, &p, &c, None, None).await
}

fn user_error(e: AppError) -> Result<String, PageError> {
    match e {
        AppError::Validation(errors) => Ok(errors.to_string()),
        AppError::Conflict(why) | AppError::Forbidden(why) => Ok(why),
        AppError::RateLimited { retry_after_secs } => {
            Ok(crate::error::rate_limited_message(retry_after_secs))
        }
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    code: Option<String>,
    new_password: String,
}

pub async fn change_password(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<PasswordForm>,
) -> PageResult {
    match st
        .app
        .change_password(&p, &f.current_password, f.code.as_deref(), &f.new_password)
        .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &st,
            "/account",
            "Password changed; your other sessions have ended.",
        )),
        Err(e) => account_page(&st, &p, &c, Some(user_error(e)?), None).await,
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn end_session(
    State(st): State<AppState>,
    Path(hash): Path<String>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    st.app.end_own_session(&p, &hash).await?;
    Ok(redirect_with_flash(&st, "/account", "Session ended."))
}

pub async fn logout_everywhere(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    let n = st.app.logout_everywhere(&p).await?;
    let mut res = redirect_with_flash(
        &st,
        "/login",
        &format!("You are logged out everywhere ({n} sessions ended)."),
    );
    res.headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(&st));
    Ok(res)
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

pub async fn create_token(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<TokenForm>,
) -> PageResult {
    match st.app.create_api_token(&p, &f.name).await {
        Ok((plain, _)) => account_page(&st, &p, &c, None, Some(plain)).await,
        Err(e) => account_page(&st, &p, &c, Some(user_error(e)?), None).await,
    }
}

pub async fn revoke_token(
    State(st): State<AppState>,
    Path(id): Path<TokenId>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    st.app.revoke_api_token(&p, id).await?;
    Ok(redirect_with_flash(&st, "/account", "Token revoked."))
}

pub struct EnrolmentView {
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "mfa_setup.html")]
struct MfaSetupPage {
    l: Layout,
    required: bool,
    enabled: bool,
    codes_left: i64,
    enrolment: Option<EnrolmentView>,
    recovery_codes: Option<Vec<String>>,
}

fn qr_svg(data: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(data.as_bytes())
        .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the SVG is embedded in an HTML page.
    Ok(svg
        .find("<svg")
        .map_or(svg.clone(), |i| svg[i..].to_owned()))
}

async fn mfa_setup_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    error: Option<String>,
    recovery_codes: Option<Vec<String>>,
) -> PageResult {
    // Re-read: the principal of this request may predate the change that led here.
    let user = st
        .app
        .store
        .find_user(p.user.id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::Unauthenticated)?;
    let enrolment = match st.app.pending_mfa_enrolment(p).await? {
        Some(e) => Some(EnrolmentView {
            qr_svg: qr_svg(&e.otpauth_uri)?,
            secret: e.secret_base32,
        }),
        None => None,
    };
    let page = MfaSetupPage {
        l: Layout::for_user(st, p, c, "Two-factor authentication", "account").with_error(error),
        required: st.app.mfa_required_for(&user),
        enabled: user.mfa_enabled(),
        codes_left: st.app.recovery_codes_left(p).await?,
        enrolment,
        recovery_codes,
    };
    render(&page)
}

pub async fn mfa_page(State(st): State<AppState>, PageUser(p, c): PageUser) -> PageResult {
    mfa_setup_page(&st, &p, &c, None, None).await
}

pub async fn mfa_begin(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), _): CsrfForm<Empty>,
) -> PageResult {
    match st.app.begin_mfa_enrolment(&p).await {
        Ok(_) => mfa_setup_page(&st, &p, &c, None, None).await,
        Err(e) => mfa_setup_page(&st, &p, &c, Some(user_error(e)?), None).await,
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn mfa_confirm(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<CodeForm>,
) -> PageResult {
    match st.app.confirm_mfa_enrolment(&p, &f.code).await {
        Ok(codes) => mfa_setup_page(&st, &p, &c, None, Some(codes)).await,
        Err(e) => mfa_setup_page(&st, &p, &c, Some(user_error(e)?), None).await,
    }
}

#[derive(Deserialize)]
pub struct ReauthForm {
    password: String,
    code: String,
}

pub async fn mfa_disable(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<ReauthForm>,
) -> PageResult {
    match st.app.disable_mfa(&p, &f.password, &f.code).await {
        Ok(()) => Ok(redirect_with_flash(
            &st,
            "/account",
            "Two-factor authentication is off.",
        )),
        Err(e) => mfa_setup_page(&st, &p, &c, Some(user_error(e)?), None).await,
    }
}

pub async fn mfa_recovery_codes(
    State(st): State<AppState>,
    CsrfForm(PageUser(p, c), f): CsrfForm<ReauthForm>,
) -> PageResult {
    match st
        .app
        .regenerate_recovery_codes(&p, &f.password, &f.code)
        .await
    {
        Ok(codes) => mfa_setup_page(&st, &p, &c, None, Some(codes)).await,
        Err(e) => mfa_setup_page(&st, &p, &c, Some(user_error(e)?), None).await,
    }
}
