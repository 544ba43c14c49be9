//! Roles and project isolation: a viewer cannot write, an editor cannot lead, another
//! project's artefacts do not exist for a non-member.

use crate::location;
use opensesa_testkit::{Backend, TestApp};
use reqwest::Method;
use serde_json::json;

async fn setup(b: Backend) -> TestApp {
    let t = TestApp::start(b).await;
    for u in [
        "vera@example.org",
        "emil@example.org",
        "lena@example.org",
        "olga@example.org",
    ] {
        t.user(u, false).await;
    }
    t.project(
        "ALPHA",
        &[
            ("vera@example.org", "viewer"),
            ("emil@example.org", "editor"),
            ("lena@example.org", "lead"),
        ],
    )
    .await;
    t.project("BRAVO", &[("olga@example.org", "lead")]).await;
    t
}

async fn viewer_gets_403_on_write(b: Backend) {
    let t = setup(b).await;
    let vera = t.token("vera@example.org").await;
    let br = t.browser();
    let (status, body) = br
        .api(
            Method::PATCH,
            "/api/v1/projects/ALPHA",
            &vera,
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("viewer"));
    let (status, _) = br
        .api(
            Method::POST,
            "/api/v1/projects/ALPHA/phases",
            &vera,
            Some(json!({"name": "Build"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = br
        .api(Method::GET, "/api/v1/projects/ALPHA", &vera, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["role"], "viewer");

    // The same through the pages.
    let page = t.logged_in("vera@example.org").await;
    let res = page
        .submit("/p/ALPHA/settings", "/p/ALPHA/phases", &[("name", "Build")])
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        !page
            .get_text("/p/ALPHA/settings")
            .await
            .contains("Add phase"),
        "no write forms for viewers"
    );

    // An editor cannot take a lead's decisions; a lead can.
    let emil = t.logged_in("emil@example.org").await;
    assert_eq!(
        emil.submit("/p/ALPHA/settings", "/p/ALPHA/phases", &[("name", "Build")])
            .await
            .status(),
        403
    );
    let lena = t.logged_in("lena@example.org").await;
    let res = lena
        .submit(
            "/p/ALPHA/settings",
            "/p/ALPHA/phases",
            &[("name", "Build"), ("starts_on", "2026-01-01")],
        )
        .await;
    assert_eq!(location(&res), "/p/ALPHA/settings");
    assert!(lena.get_text("/p/ALPHA/").await.contains("Build"));
}

async fn other_projects_answer_404(b: Backend) {
    let t = setup(b).await;
    let br = t.logged_in("vera@example.org").await;
    assert_eq!(br.get("/p/BRAVO/").await.status(), 404);
    assert_eq!(br.get("/p/BRAVO/audit").await.status(), 404);
    assert_eq!(
        br.get("/p/NOSUCH/").await.status(),
        404,
        "unknown and forbidden look the same"
    );
    assert!(!br.get_text("/projects").await.contains("BRAVO"));

    let vera = t.token("vera@example.org").await;
    let (status, body) = br
        .api(Method::GET, "/api/v1/projects/BRAVO", &vera, None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (_, list) = br.api(Method::GET, "/api/v1/projects", &vera, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // An artefact of BRAVO addressed through ALPHA, by a lead of ALPHA: not found.
    let olga = t.token("olga@example.org").await;
    let (status, phase) = br
        .api(
            Method::POST,
            "/api/v1/projects/BRAVO/phases",
            &olga,
            Some(json!({"name": "Bravo phase"})),
        )
        .await;
    assert_eq!(status, 201);
    let id = phase["id"].as_str().unwrap();
    let lena = t.token("lena@example.org").await;
    let (status, _) = br
        .api(
            Method::PATCH,
            &format!("/api/v1/projects/ALPHA/phases/{id}"),
            &lena,
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = br
        .api(
            Method::DELETE,
            &format!("/api/v1/projects/ALPHA/phases/{id}"),
            &lena,
            None,
        )
        .await;
    assert_eq!(status, 404);
}

async fn leads_manage_members_and_keep_one_lead(b: Backend) {
    let t = setup(b).await;
    let lena = t.token("lena@example.org").await;
    let br = t.browser();
    let (status, m) = br
        .api(
            Method::POST,
            "/api/v1/projects/ALPHA/members",
            &lena,
            Some(json!({"email": "olga@example.org", "role": "editor"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(m["role"], "editor");
    let (status, e) = br
        .api(
            Method::POST,
            "/api/v1/projects/ALPHA/members",
            &lena,
            Some(json!({"email": "nobody@example.org", "role": "boss"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["email"][0]
        .as_str()
        .unwrap()
        .contains("no account"));
    assert!(e["error"]["details"]["role"][0]
        .as_str()
        .unwrap()
        .contains("boss"));
    // The last lead cannot leave or be demoted.
    let user = t
        .app
        .store
        .find_user_by_email(&opensesa_domain::accounts::Email::parse("lena@example.org").unwrap())
        .await
        .unwrap()
        .unwrap();
    let (status, e) = br
        .api(
            Method::POST,
            "/api/v1/projects/ALPHA/members",
            &lena,
            Some(json!({"email": "lena@example.org", "role": "viewer"})),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    let (status, _) = br
        .api(
            Method::DELETE,
            &format!("/api/v1/projects/ALPHA/members/{}", user.id),
            &lena,
            None,
        )
        .await;
    assert_eq!(status, 409);
}

both!(
    viewer_gets_403_on_write,
    other_projects_answer_404,
    leads_manage_members_and_keep_one_lead
);
