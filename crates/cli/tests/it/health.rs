//! `/healthz` and `/readyz`.

use opensesa_testkit::{Backend, TestApp};

async fn readyz_reports_and_fails_when_the_database_is_gone(b: Backend) {
    let t = TestApp::start(b).await;
    let br = t.browser();
    let res = br.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["migrations"]["ok"], true);
    assert_eq!(
        body["checks"]["database"]["backend"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgresql"
        }
    );

    t.tdb.db.close().await;
    let res = br.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["database"]["ok"], false);
    // Liveness does no I/O: the process is alive, so it is not restarted for a database blip.
    assert_eq!(br.get("/healthz").await.status(), 200);
}

async fn health_endpoints_answer_any_host(b: Backend) {
    let t = TestApp::start(b).await;
    let br = t.browser();
    let res = br
        .client
        .get(br.url("/healthz"))
        .header("Host", "10.0.0.7:8000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "orchestrators probe by address");
    let res = br
        .client
        .get(br.url("/login"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["x-opensesa-reason"], "host-not-allowed");
    assert!(res.text().await.unwrap().contains("OPENSESA_ALLOWED_HOSTS"));
}

both!(
    readyz_reports_and_fails_when_the_database_is_gone,
    health_endpoints_answer_any_host
);
