//! CSRF and security headers.

use crate::location;
use opensesa_testkit::{Backend, Options, TestApp, PASSWORD};

async fn csrf_rejects_cross_origin_and_accepts_same_origin(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.browser();
    let creds = [("email", "ada@example.org"), ("password", PASSWORD)];
    let res = br
        .client
        .post(br.url("/login"))
        .header("Origin", "https://evil.example")
        .form(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["x-opensesa-reason"], "csrf-origin");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("OPENSESA_CSRF_TRUSTED_ORIGINS"));
    let res = br
        .client
        .post(br.url("/login"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = br
        .client
        .post(br.url("/login"))
        .form(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no Origin and no Sec-Fetch-Site");
    let res = br
        .client
        .post(br.url("/login"))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = br.post_form("/login", &creds).await;
    assert_eq!(location(&res), "/");

    // Logged in: a same-origin form without the session's token is refused, with it accepted.
    let res = br.post_form("/account/tokens", &[("name", "x")]).await;
    assert_eq!(res.status(), 403);
    let res = br
        .post_form(
            "/account/tokens",
            &[("name", "x"), ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = br
        .submit("/account", "/account/tokens", &[("name", "x")])
        .await;
    assert_eq!(res.status(), 200);
    // A cross-origin post with a valid token still fails the origin check.
    let token = br.csrf_token("/account").await;
    let res = br
        .client
        .post(br.url("/account/tokens"))
        .header("Origin", "https://evil.example")
        .form(&[("name", "y"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Scripts using the session on the API echo the CSRF token in a header.
    let res = br
        .client
        .post(br.url("/api/v1/organisations"))
        .header("Origin", &br.base)
        .json(&serde_json::json!({"code": "X1", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    let res = br
        .client
        .post(br.url("/api/v1/organisations"))
        .header("Origin", &br.base)
        .header("X-CSRF-Token", &token)
        .json(&serde_json::json!({"code": "X1", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "past CSRF, a non-admin is refused by the use case"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
}

async fn security_headers_on_every_response(b: Backend) {
    let t = TestApp::start(b).await;
    let br = t.browser();
    let html = br.get_text("/login").await;
    let css = opensesa_testkit::extract_between(&html, "rel=\"stylesheet\" href=\"", "\"").unwrap();
    for path in [
        "/login",
        "/healthz",
        "/api/v1/projects",
        "/p/NOPE/",
        "/static/app.css",
        css.as_str(),
        "/no/such/page",
    ] {
        let res = br.get(path).await;
        let h = res.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("object-src 'none'")
                && csp.contains("base-uri 'none'"),
            "{path}"
        );
        assert!(
            !csp.contains("unsafe-inline"),
            "{path}: inline script allowed"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.contains_key("permissions-policy"), "{path}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "{path}: HSTS over plain HTTP"
        );
    }
    let res = br.get(&css).await;
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        html.contains("<script src=\"/static/app."),
        "scripts load from hashed files"
    );
    assert!(!html.contains("<script>"), "no inline script");
}

async fn secure_mode_sends_hsts_and_secure_cookies(b: Backend) {
    let mut opts = Options::new(b);
    opts.web.secure_cookies = true;
    opts.web.hsts_seconds = 31_536_000;
    let t = TestApp::start_with(opts).await;
    t.user("ada@example.org", false).await;
    let br = t.browser();
    let res = br.get("/login").await;
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let res = br
        .post_form(
            "/login",
            &[("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-osa_session="), "{cookie}");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
}

both!(
    csrf_rejects_cross_origin_and_accepts_same_origin,
    security_headers_on_every_response,
    secure_mode_sends_hsts_and_secure_cookies
);
