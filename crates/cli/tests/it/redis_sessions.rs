//! Sessions cached in Redis: shared by replicas, removed at logout, and never required
//! (Redis down costs a database read, not a login).

use opensesa_testkit::{redis_url, Backend, Options, TestApp};

async fn redis_keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis tests cannot run: {e}. Start Redis or set OPENSESA_TEST_REDIS_URL.")
        });
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

async fn sessions_are_cached_in_redis_and_removed_at_logout(b: Backend) {
    let mut opts = Options::new(b);
    opts.redis_url = Some(redis_url());
    let t = TestApp::start_with(opts).await;
    t.user("ada@example.org", false).await;
    let br = t.logged_in("ada@example.org").await;
    assert_eq!(br.get("/projects").await.status(), 200);
    let keys = redis_keys(&t.redis_prefix).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    // A second app replica on the same database and Redis sees the session.
    assert_eq!(br.get("/account").await.status(), 200);
    let res = br.get("/readyz").await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["redis"]["ok"], true);
    br.submit("/account", "/logout", &[]).await;
    assert!(
        redis_keys(&t.redis_prefix).await.is_empty(),
        "logout must remove the cached session"
    );
}

async fn redis_down_loses_nothing(b: Backend) {
    let mut opts = Options::new(b);
    // A port nothing listens on: Redis is configured but unreachable.
    opts.redis_url = Some("redis://127.0.0.1:9/0".into());
    let t = TestApp::start_with(opts).await;
    t.user("ada@example.org", false).await;
    let br = t.logged_in("ada@example.org").await;
    assert_eq!(br.get("/projects").await.status(), 200);
    let res = br.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["redis"]["ok"], false);
    assert_eq!(body["checks"]["database"]["ok"], true);
    br.submit("/account", "/logout", &[]).await;
    assert_eq!(br.get("/projects").await.status(), 303);
    // The runtime status says the broker is down.
    t.user("root@example.org", true).await;
    let token = t.token("root@example.org").await;
    let (status, s) = br
        .api(reqwest::Method::GET, "/api/v1/system/status", &token, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            s["redis"]["configured"].as_bool(),
            s["redis"]["ok"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let admin = t.logged_in("root@example.org").await;
    assert!(admin
        .get_text("/admin/status")
        .await
        .contains("down: Redis"));
}

both!(
    sessions_are_cached_in_redis_and_removed_at_logout,
    redis_down_loses_nothing
);
