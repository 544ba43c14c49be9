//! The JSON API: token auth and revocation, the error shape, the OpenAPI document.

use opensesa_testkit::{extract_between, Backend, Browser, TestApp};
use reqwest::Method;
use serde_json::json;

async fn api_token_auth_and_revocation(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.logged_in("ada@example.org").await;
    let res = br
        .submit("/account", "/account/tokens", &[("name", "CI pipeline")])
        .await;
    let page = res.text().await.unwrap();
    let token = extract_between(&page, "id=\"new-token\">", "<").unwrap();
    assert!(token.starts_with("osa_"));
    assert!(
        !br.get_text("/account").await.contains(&token),
        "a token is shown once"
    );

    let api = Browser::new(&t.base);
    let (status, me) = api.api(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "ada@example.org");
    // A token needs no CSRF token: it is not a cookie a browser sends by itself.
    let (status, _) = api.api(Method::GET, "/api/v1/projects", &token, None).await;
    assert_eq!(status, 200);

    let page = br.get_text("/account").await;
    let end = page.find("/revoke\"").unwrap();
    let id = &page[end - 36..end];
    br.submit("/account", &format!("/account/tokens/{id}/revoke"), &[])
        .await;
    let (status, body) = api.api(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = api
        .api(Method::GET, "/api/v1/me", "osa_not-a-real-token", None)
        .await;
    assert_eq!(status, 401);
}

async fn api_validation_errors_name_the_field(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("root@example.org", true).await;
    let token = t.token("root@example.org").await;
    let br = t.browser();
    let (status, body) = br
        .api(
            Method::POST,
            "/api/v1/projects",
            &token,
            Some(json!({"code": "1x", "name": ""})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "validation_error");
    assert_eq!(
        body["error"]["details"]["code"][0],
        "must start with a letter"
    );
    assert_eq!(body["error"]["details"]["name"][0], "is required");

    let (status, p) = br
        .api(
            Method::POST,
            "/api/v1/projects",
            &token,
            Some(json!({"code": "sat", "name": "Satellite"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(p["code"], "SAT");
    assert_eq!(p["role"], "lead");
    let (status, body) = br
        .api(
            Method::POST,
            "/api/v1/projects",
            &token,
            Some(json!({"code": "SAT", "name": "Again"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["code"][0]
        .as_str()
        .unwrap()
        .contains("already used"));

    let (status, body) = br
        .api(
            Method::POST,
            "/api/v1/projects/SAT/phases",
            &token,
            Some(json!({"name": "A", "starts_on": "2026-02-30"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["starts_on"][0]
        .as_str()
        .unwrap()
        .contains("YYYY-MM-DD"));
    let (status, body) = br
        .api(
            Method::POST,
            "/api/v1/projects/SAT/phases",
            &token,
            Some(json!({"name": "A", "starts_on": "2026-03-01", "ends_on": "2026-02-01"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["ends_on"].is_array());

    // A body that is not JSON, or of the wrong shape, gets the same error shape.
    let res = br
        .client
        .post(br.url("/api/v1/projects"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_body");
    let (status, body) = br
        .api(
            Method::POST,
            "/api/v1/organisations",
            &token,
            Some(json!({"code": 5})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_body");
    let (status, _) = br
        .api(
            Method::GET,
            "/api/v1/projects/SAT/audit?action=explode",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 422);
}

async fn openapi_documents_every_route(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("root@example.org", true).await;
    t.project("SAT", &[("root@example.org", "lead")]).await;
    let token = t.token("root@example.org").await;
    let br = t.browser();
    let res = br.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), 200);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{} paths", paths.len());
    // Every documented operation is routed (an unrouted one answers 404 with no body).
    let mut operations = 0;
    for (path, item) in paths {
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let concrete = path
                .replace("{code}", "SAT")
                .replace("{id}", &uuid::Uuid::nil().to_string())
                .replace("{user_id}", &uuid::Uuid::nil().to_string());
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = br
                .client
                .request(m, br.url(&concrete))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            assert!(
                status != 405 && !(status == 404 && body.is_empty()),
                "{method} {path} is documented but not routed ({status})"
            );
            if status >= 400 {
                let parsed: serde_json::Value = serde_json::from_str(&body)
                    .unwrap_or_else(|_| panic!("{method} {path}: not the error shape: {body}"));
                assert!(
                    parsed["error"]["code"].is_string(),
                    "{method} {path}: {body}"
                );
            }
        }
    }
    assert!(operations >= 17, "{operations} operations");
}

/// Every API route goes through `OpenApiRouter::routes`, so none can miss the document; this
/// guards the rule itself: a plain `.route(` in the API code would bypass it.
#[test]
fn api_code_registers_routes_only_through_the_openapi_router() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/src/api");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let call: String = text[at..].chars().take(120).collect();
            assert!(
                call.contains("openapi.json"),
                "{} registers a route outside the OpenAPI router: {call}",
                path.display()
            );
        }
    }
}

both!(
    api_token_auth_and_revocation,
    api_validation_errors_name_the_field,
    openapi_documents_every_route
);
