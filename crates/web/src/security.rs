//! Browser security: security headers on every response, the `Host` allow-list, the
//! Origin / Sec-Fetch-Site check for unsafe requests, and the access log.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Adds the security headers to every response, error pages and static files included.
pub async fn headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    );
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    if st.web.secure_cookies && st.web.hsts_seconds > 0 {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "max-age={}; includeSubDomains",
            st.web.hsts_seconds
        )) {
            h.insert(header::STRICT_TRANSPORT_SECURITY, v);
        }
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry personal data and CSRF tokens: never store them in shared caches.
        set(h, "cache-control", "no-store");
    }
    res
}

/// The host part of a `Host` header value (port removed, IPv6 brackets kept).
fn host_of(value: &str) -> &str {
    if value.starts_with('[') {
        return value
            .split_once(']')
            .map_or(value, |(h, _)| &value[..h.len() + 1]);
    }
    value.rsplit_once(':').map_or(value, |(h, _)| h)
}

pub fn host_allowed(allowed: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    allowed.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        a == "*" || a == host || (a.starts_with('.') && (host.ends_with(&a) || host == a[1..]))
    })
}

/// Refuses requests whose `Host` is not allowed (DNS rebinding, cache poisoning). Health
/// probes are exempt: they come from the orchestrator by address.
pub async fn host_check(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(host_of)
        .unwrap_or("");
    if host_allowed(&st.web.allowed_hosts, host) {
        return next.run(req).await;
    }
    tracing::warn!(host, "request refused: host not in OPENSESA_ALLOWED_HOSTS");
    let mut res = (
        StatusCode::BAD_REQUEST,
        format!("Bad Request: the host {host:?} is not served here. An operator adds it to OPENSESA_ALLOWED_HOSTS."),
    )
        .into_response();
    res.headers_mut().insert(
        "x-opensesa-reason",
        HeaderValue::from_static("host-not-allowed"),
    );
    res
}

pub fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The scheme the client used: from the proxy's `X-Forwarded-Proto` when trusted.
pub fn request_scheme(st: &AppState, headers: &HeaderMap) -> &'static str {
    if st.web.trust_proxy_headers {
        if let Some(p) = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
        {
            if p.trim().eq_ignore_ascii_case("https") {
                return "https";
            }
        }
    }
    "http"
}

/// The CSRF origin check for an unsafe request that may carry cookies. `Err` explains why it
/// was refused in terms an operator can act on.
pub fn check_origin(st: &AppState, headers: &HeaderMap) -> Result<(), String> {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    match origin {
        Some(o) if !o.is_empty() && o != "null" => {
            let own = format!("{}://{}", request_scheme(st, headers), host).to_ascii_lowercase();
            let o_lower = o.to_ascii_lowercase();
            if o_lower == own
                || st
                    .web
                    .trusted_origins
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(o))
                || st
                    .web
                    .public_url
                    .as_ref()
                    .is_some_and(|u| u.origin().ascii_serialization().eq_ignore_ascii_case(o))
            {
                Ok(())
            } else {
                Err(format!(
                    "CSRF check failed: the origin {o} is not trusted (this request's own origin is {own}). \
                     Add {o} to OPENSESA_CSRF_TRUSTED_ORIGINS, or make OPENSESA_PUBLIC_URL match it."
                ))
            }
        }
        _ => match fetch_site {
            Some("same-origin") | Some("none") => Ok(()),
            Some(other) => Err(format!(
                "CSRF check failed: a {other} request without an Origin header"
            )),
            None => Err(
                "CSRF check failed: the request has neither an Origin nor a Sec-Fetch-Site header"
                    .into(),
            ),
        },
    }
}

/// One log line per request, with its status and duration (paths only, never query strings,
/// which may carry tokens).
pub async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = res.status().as_u16();
    if path != "/healthz" {
        tracing::info!(%method, path, status, ms = format!("{ms:.2}"), "request");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let allowed = vec![
            "example.org".to_owned(),
            ".corp.test".to_owned(),
            "[::1]".to_owned(),
        ];
        assert!(host_allowed(&allowed, host_of("example.org:8443")));
        assert!(host_allowed(&allowed, host_of("a.corp.test")));
        assert!(host_allowed(&allowed, host_of("corp.test")));
        assert!(host_allowed(&allowed, host_of("[::1]:8000")));
        assert!(!host_allowed(&allowed, host_of("evil.org")));
        assert!(!host_allowed(&allowed, host_of("xcorp.test")));
        assert!(host_allowed(&["*".to_owned()], "anything"));
    }
}
