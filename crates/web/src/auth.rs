//! Who is calling: the session cookie or a bearer token is resolved once per request by the
//! `authenticate` middleware, which also applies the CSRF checks and the MFA policy gate.
//! Handlers then take `PageUser`, `ApiUser` or `CsrfForm<T>` extractors.

use crate::error::{ApiError, PageError};
use crate::security::{check_origin, is_unsafe};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use opensesa_app::accounts::ClientInfo;
use opensesa_app::{AppError, Principal};
use opensesa_domain::accounts::model::{Session, SessionStage};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// Cookie name over plain HTTP; over HTTPS the `__Host-` prefix pins it to this host and path.
pub const SESSION_COOKIE_PLAIN: &str = "osa_session";
const SESSION_COOKIE_SECURE: &str = "__Host-osa_session";
const FLASH_COOKIE: &str = "osa_flash";

/// The caller as resolved by the middleware.
#[derive(Clone, Default)]
pub struct Caller {
    pub principal: Option<Principal>,
    /// The session waiting for its second factor, if that is where the caller stands.
    pub pending: Option<Session>,
    /// The raw session cookie, to end it on a new login (rotation).
    pub cookie_token: Option<String>,
    pub flash: Option<String>,
}

pub fn cookie_name(st: &AppState) -> &'static str {
    if st.web.secure_cookies {
        SESSION_COOKIE_SECURE
    } else {
        SESSION_COOKIE_PLAIN
    }
}

pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn cookie(st: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if st.web.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

pub fn session_cookie(st: &AppState, token: &str) -> HeaderValue {
    cookie(
        st,
        cookie_name(st),
        token,
        Some(st.app.settings.session_absolute.num_seconds()),
    )
}

pub fn clear_session_cookie(st: &AppState) -> HeaderValue {
    cookie(st, cookie_name(st), "", Some(0))
}

/// A redirect that shows `message` once on the next page.
pub fn redirect_with_flash(st: &AppState, to: &str, message: &str) -> Response {
    let encoded =
        percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie(st, FLASH_COOKIE, &encoded, Some(60)),
    );
    res
}

pub fn client_info(st: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    let forwarded = st
        .web
        .trust_proxy_headers
        .then(|| headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        // The proxy appends the address it saw last; earlier entries are client-supplied.
        .and_then(|v| v.rsplit(',').next())
        .map(|s| s.trim().to_owned());
    let ip = forwarded
        .or_else(|| peer.map(|p| p.ip().to_string()))
        .unwrap_or_default();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    ClientInfo { ip, user_agent }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Paths open to a session that still owes its second factor.
fn allowed_while_pending(path: &str) -> bool {
    path == "/login/mfa" || path == "/logout" || path == "/login" || path.starts_with("/static/")
}

/// Paths open to a user whom the policy requires to enrol MFA first.
fn allowed_while_enrolling(path: &str) -> bool {
    path.starts_with("/account/mfa") || path == "/logout" || path.starts_with("/static/")
}

fn refuse(path: &str, status: StatusCode, code: &str, message: String) -> Response {
    if is_api(path) {
        ApiError::new(status, code, message).into_response()
    } else {
        PageError::status(status, message).into_response()
    }
}

pub async fn authenticate(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/static/") || path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let mut caller = Caller {
        flash: read_cookie(req.headers(), FLASH_COOKIE).map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        }),
        ..Caller::default()
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let mut session_in_use: Option<Session> = None;
    if let Some(token) = bearer {
        match st.app.resolve_api_token(&token).await {
            Ok(Some(user)) => {
                caller.principal = Some(Principal {
                    user,
                    session: None,
                })
            }
            Ok(None) => {
                return refuse(
                    &path,
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the API token is not valid or was revoked".into(),
                )
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        let token = read_cookie(req.headers(), cookie_name(&st)).map(str::to_owned);
        if let Some(token) = &token {
            match st.app.resolve_session(token).await {
                Ok(Some((session, user))) => {
                    session_in_use = Some(session.clone());
                    match session.stage {
                        SessionStage::Active => {
                            caller.principal = Some(Principal {
                                user,
                                session: Some(session),
                            })
                        }
                        SessionStage::MfaPending => caller.pending = Some(session),
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    return refuse(
                        &path,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        format!("sessions are unavailable: {e}"),
                    )
                }
            }
        }
        caller.cookie_token = token;
        // CSRF: every unsafe request that could ride on cookies must come from a trusted origin.
        if is_unsafe(req.method()) {
            if let Err(why) = check_origin(&st, req.headers()) {
                tracing::warn!(path, reason = %why, "request refused by the CSRF check");
                let mut res = refuse(&path, StatusCode::FORBIDDEN, "csrf_failed", why);
                res.headers_mut()
                    .insert("x-opensesa-reason", HeaderValue::from_static("csrf-origin"));
                return res;
            }
            // Scripts calling the API with a session also echo the session's token.
            if is_api(&path) {
                if let Some(s) = &session_in_use {
                    let sent = req
                        .headers()
                        .get("x-csrf-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if !constant_eq(sent, &s.csrf_token) {
                        return refuse(
                            &path,
                            StatusCode::FORBIDDEN,
                            "csrf_failed",
                            "CSRF check failed: X-CSRF-Token header missing or wrong".into(),
                        );
                    }
                }
            }
        }
    }
    if caller.pending.is_some() && !allowed_while_pending(&path) {
        return if is_api(&path) {
            refuse(
                &path,
                StatusCode::UNAUTHORIZED,
                "mfa_required",
                "complete the second factor first".into(),
            )
        } else {
            Redirect::to("/login/mfa").into_response()
        };
    }
    if let Some(p) = &caller.principal {
        if p.session.is_some()
            && st.app.mfa_required_for(&p.user)
            && !p.user.mfa_enabled()
            && !allowed_while_enrolling(&path)
        {
            return if is_api(&path) {
                refuse(
                    &path,
                    StatusCode::FORBIDDEN,
                    "mfa_enrolment_required",
                    "the site policy requires two-factor authentication; enrol first".into(),
                )
            } else {
                Redirect::to("/account/mfa").into_response()
            };
        }
    }
    let had_flash = caller.flash.is_some();
    req.extensions_mut().insert(caller);
    let mut res = next.run(req).await;
    if had_flash && res.status().is_success() {
        res.headers_mut()
            .append(header::SET_COOKIE, cookie(&st, FLASH_COOKIE, "", Some(0)));
    }
    res
}

pub fn constant_eq(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    // Comparing digests keeps the time independent of where the strings differ.
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

fn caller(parts: &Parts) -> Caller {
    parts
        .extensions
        .get::<Caller>()
        .cloned()
        .unwrap_or_default()
}

/// The caller of a page: a fully logged-in session (redirects to the login page otherwise).
pub struct PageUser(pub Principal, pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let c = caller(parts);
        match c.principal.clone() {
            Some(p) if p.session.is_some() => Ok(PageUser(p, c)),
            _ => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let to = format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
                );
                Err(Redirect::to(&to).into_response())
            }
        }
    }
}

/// Whatever the middleware found, for pages open to everyone (login).
pub struct MaybeCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(caller(parts)))
    }
}

/// The caller of an API route: a token or a session (401 otherwise).
pub struct ApiUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        caller(parts)
            .principal
            .map(ApiUser)
            .ok_or_else(|| ApiError::from(AppError::Unauthenticated))
    }
}

/// A form posted by a logged-in user, checked against the session's CSRF token (hidden field
/// `csrf_token`) before it is parsed into `T`.
pub struct CsrfForm<T>(pub PageUser, pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = PageUser::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PageError::status(
                StatusCode::BAD_REQUEST,
                format!("the form could not be read: {e}"),
            )
            .into_response()
        })?;
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map_or("", |(_, v)| v.as_str());
        let expected = user
            .0
            .session
            .as_ref()
            .map_or("", |s| s.csrf_token.as_str());
        if expected.is_empty() || !constant_eq(sent, expected) {
            return Err(PageError::status(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this site. Reload the page and submit it again.".into(),
            )
            .into_response());
        }
        let value = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            PageError::status(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the form is not valid: {e}"),
            )
            .into_response()
        })?;
        Ok(CsrfForm(user, value))
    }
}
