//! The job queue in-process: transactional enqueue, retries with back-off, dead letter,
//! deduplication, delays, periodic jobs, leases, the ping round trip, heartbeats and the
//! status page, and the audit export job.

use crate::location;
use async_trait::async_trait;
use chrono::Duration;
use opensesa_app::ports::Journal;
use opensesa_domain::ids::{JobId, OrganisationId};
use opensesa_domain::jobs::{JobState, NewJob};
use opensesa_testkit::{Backend, TestApp};
use opensesa_worker::{Handler, JobCtx, JobFailure, Outcome, Registry};
use reqwest::Method;
use serde_json::{json, Value};

/// Fails until its third attempt.
struct Flaky;

#[async_trait]
impl Handler for Flaky {
    fn kind(&self) -> &'static str {
        "test.flaky"
    }
    fn max_attempts(&self) -> i64 {
        5
    }
    async fn run(&self, ctx: &JobCtx) -> Result<Value, JobFailure> {
        if ctx.job.attempts < 3 {
            Err(JobFailure::retry(format!(
                "flaky failure on attempt {}",
                ctx.job.attempts
            )))
        } else {
            Ok(json!({"ok": ctx.job.attempts}))
        }
    }
}

struct Broken;

#[async_trait]
impl Handler for Broken {
    fn kind(&self) -> &'static str {
        "test.broken"
    }
    fn max_attempts(&self) -> i64 {
        2
    }
    async fn run(&self, _: &JobCtx) -> Result<Value, JobFailure> {
        Err(JobFailure::retry("the disk is on fire"))
    }
}

fn job(t: &TestApp, kind: &str, max_attempts: i64) -> NewJob {
    let now = t.app.now();
    NewJob {
        id: JobId::new(),
        queue: "default".into(),
        kind: kind.into(),
        payload: json!({}),
        priority: 0,
        max_attempts,
        run_after: now,
        dedup_key: None,
        project_id: None,
        created_by: None,
        created_at: now,
    }
}

async fn enqueue_in_a_rolled_back_transaction_leaves_no_job(b: Backend) {
    let t = TestApp::start(b).await;
    let org = |code: &str| opensesa_domain::portfolio::Organisation {
        id: OrganisationId::new(),
        code: code.into(),
        name: "Org".into(),
        created_at: t.app.now(),
    };
    let first = job(&t, "system.ping", 3);
    t.app
        .store
        .insert_organisation(&org("ACME"), &Journal::default().with_job(first.clone()))
        .await
        .unwrap();
    assert!(t.app.store.find_job(first.id).await.unwrap().is_some());
    // The same code again: the insert fails, so the job enqueued with it must not exist.
    let second = job(&t, "system.ping", 3);
    assert!(t
        .app
        .store
        .insert_organisation(&org("ACME"), &Journal::default().with_job(second.clone()))
        .await
        .is_err());
    assert!(t.app.store.find_job(second.id).await.unwrap().is_none());
}

async fn a_job_that_fails_twice_runs_three_times_with_growing_delays(b: Backend) {
    let t = TestApp::start(b).await;
    let w = t.worker(Registry::standard().with(Flaky));
    let j = job(&t, "test.flaky", 5);
    t.app.enqueue(&j).await.unwrap();

    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Retrying(j.id)));
    let after1 = t.app.store.find_job(j.id).await.unwrap().unwrap();
    let delay1 = after1.run_after - t.app.now();
    assert!(
        delay1 >= Duration::seconds(1) && delay1 <= Duration::milliseconds(1250),
        "{delay1}"
    );
    assert_eq!(
        after1.last_error.as_deref(),
        Some("flaky failure on attempt 1")
    );
    assert_eq!(
        w.run_once().await.unwrap(),
        None,
        "a job waiting for its retry does not run early"
    );

    t.clock.advance(Duration::milliseconds(1300));
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Retrying(j.id)));
    let after2 = t.app.store.find_job(j.id).await.unwrap().unwrap();
    let delay2 = after2.run_after - t.app.now();
    assert!(
        delay2 >= Duration::seconds(2) && delay2 <= Duration::milliseconds(2500),
        "{delay2}"
    );
    assert!(delay2 > delay1);

    t.clock.advance(Duration::milliseconds(2600));
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Succeeded(j.id)));
    let done = t.app.store.find_job(j.id).await.unwrap().unwrap();
    assert_eq!((done.state, done.attempts), (JobState::Succeeded, 3));
    assert_eq!(done.result, Some(json!({"ok": 3})));
}

async fn a_job_over_its_retry_limit_is_dead_and_an_admin_can_retry_or_discard_it(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("root@example.org", true).await;
    t.user("ada@example.org", false).await;
    let w = t.worker(Registry::standard().with(Broken));
    let j = job(&t, "test.broken", 2);
    t.app.enqueue(&j).await.unwrap();
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Retrying(j.id)));
    t.clock.advance(Duration::seconds(5));
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Dead(j.id)));
    let dead = t.app.store.find_job(j.id).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("the disk is on fire"));

    let token = t.token("root@example.org").await;
    let br = t.browser();
    let (status, s) = br
        .api(Method::GET, "/api/v1/system/status", &token, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(s["dead"][0]["id"], j.id.to_string());
    assert_eq!(s["dead"][0]["last_error"], "the disk is on fire");
    assert_eq!(s["queues"][0]["dead"], 1);
    let ada = t.token("ada@example.org").await;
    assert_eq!(
        br.api(Method::GET, "/api/v1/system/status", &ada, None)
            .await
            .0,
        403
    );
    assert_eq!(
        br.api(
            Method::POST,
            &format!("/api/v1/jobs/{}/retry", j.id),
            &ada,
            None
        )
        .await
        .0,
        403
    );

    let (status, retried) = br
        .api(
            Method::POST,
            &format!("/api/v1/jobs/{}/retry", j.id),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (retried["state"].as_str(), retried["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    // Discarding through the status page, audited.
    let admin = t.logged_in("root@example.org").await;
    let page = admin.get_text("/admin/status").await;
    assert!(page.contains("test.broken"));
    let res = admin
        .submit(
            "/admin/status",
            &format!("/admin/jobs/{}/discard", j.id),
            &[],
        )
        .await;
    assert_eq!(location(&res), "/admin/status");
    assert_eq!(
        t.app.store.find_job(j.id).await.unwrap().unwrap().state,
        JobState::Discarded
    );
    let events = t
        .app
        .store
        .list_audit(&opensesa_app::ports::AuditQuery {
            artefact_type: Some("job".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "retry and discard are audited");
}

async fn a_job_with_an_invalid_payload_is_dead_at_once(b: Backend) {
    let t = TestApp::start(b).await;
    let mut j = job(&t, "system.ping", 3);
    j.payload = json!({"delay_ms": "soon"});
    t.app.enqueue(&j).await.unwrap();
    let w = t.worker(Registry::standard());
    assert_eq!(
        w.run_once().await.unwrap(),
        Some(Outcome::Dead(j.id)),
        "retrying cannot fix a payload"
    );
    let dead = t.app.store.find_job(j.id).await.unwrap().unwrap();
    assert_eq!(dead.attempts, 1);
    assert!(dead.last_error.unwrap().starts_with("payload:"));
    // A kind no handler knows is dead at once too, with a message that says so.
    let unknown = job(&t, "no.such.kind", 3);
    t.app.enqueue(&unknown).await.unwrap();
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Dead(unknown.id)));
    let dead = t.app.store.find_job(unknown.id).await.unwrap().unwrap();
    assert!(dead.last_error.unwrap().contains("no handler for job kind"));
}

async fn a_dedup_key_keeps_one_pending_job(b: Backend) {
    let t = TestApp::start(b).await;
    let w = t.worker(Registry::standard());
    let mut a = job(&t, "system.ping", 3);
    a.dedup_key = Some("reindex:SAT".into());
    let mut again = job(&t, "system.ping", 3);
    again.dedup_key = a.dedup_key.clone();
    assert!(t.app.enqueue(&a).await.unwrap());
    assert!(
        !t.app.enqueue(&again).await.unwrap(),
        "a pending job with the key exists"
    );
    assert!(t.app.store.find_job(again.id).await.unwrap().is_none());
    assert_eq!(w.drain().await.unwrap().len(), 1);
    let mut later = job(&t, "system.ping", 3);
    later.dedup_key = a.dedup_key.clone();
    assert!(
        t.app.enqueue(&later).await.unwrap(),
        "once run, the key is free again"
    );
}

async fn a_delayed_job_does_not_run_early(b: Backend) {
    let t = TestApp::start(b).await;
    let w = t.worker(Registry::standard());
    let mut j = job(&t, "system.ping", 3);
    j.run_after = t.app.now() + Duration::minutes(10);
    t.app.enqueue(&j).await.unwrap();
    assert_eq!(w.run_once().await.unwrap(), None);
    t.clock.advance(Duration::minutes(9));
    assert_eq!(w.run_once().await.unwrap(), None);
    t.clock.advance(Duration::minutes(2));
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Succeeded(j.id)));
}

async fn periodic_jobs_are_enqueued_once_per_period_by_two_workers(b: Backend) {
    let t = TestApp::start(b).await;
    let (w1, w2) = (
        t.worker(Registry::standard()),
        t.worker(Registry::standard()),
    );
    let (a, b2) = tokio::join!(w1.tick_periodic(), w2.tick_periodic());
    assert_eq!(
        a.unwrap() + b2.unwrap(),
        4,
        "four periodic kinds, each once"
    );
    assert_eq!(
        w1.tick_periodic().await.unwrap() + w2.tick_periodic().await.unwrap(),
        0
    );
    t.clock.advance(Duration::minutes(16));
    assert_eq!(
        w2.tick_periodic().await.unwrap() + w1.tick_periodic().await.unwrap(),
        2,
        "the next periods of the 15-minute and the one-minute jobs"
    );
    let outcomes = w1.drain().await.unwrap();
    assert_eq!(outcomes.len(), 6);
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Succeeded(_))),
        "{outcomes:?}"
    );
}

async fn an_expired_lease_returns_the_job_to_the_queue(b: Backend) {
    let t = TestApp::start(b).await;
    let j = job(&t, "system.ping", 3);
    t.app.enqueue(&j).await.unwrap();
    let now = t.app.now();
    // A worker claims it and dies (never extends, never finishes).
    let claimed = t
        .app
        .store
        .claim_job(
            "dead-worker",
            &["default".into()],
            now,
            now + Duration::seconds(60),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, j.id);
    let w = t.worker(Registry::standard());
    assert_eq!(
        w.run_once().await.unwrap(),
        None,
        "a leased job is not taken by another worker"
    );
    assert_eq!(
        t.app.store.reap_expired_leases(t.app.now()).await.unwrap(),
        0
    );
    t.clock.advance(Duration::seconds(61));
    assert_eq!(
        t.app.store.reap_expired_leases(t.app.now()).await.unwrap(),
        1
    );
    assert_eq!(w.run_once().await.unwrap(), Some(Outcome::Succeeded(j.id)));
    let done = t.app.store.find_job(j.id).await.unwrap().unwrap();
    assert_eq!(done.attempts, 2);
    assert!(
        !t.app
            .store
            .finish_job(j.id, "dead-worker", &json!({}), t.app.now())
            .await
            .unwrap(),
        "the stale worker cannot overwrite the outcome"
    );
}

async fn the_ping_job_round_trip_through_the_api(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ops@example.org", false).await;
    t.user("eve@example.org", false).await;
    let token = t.token("ops@example.org").await;
    let br = t.browser();
    let (status, created) = br
        .api(Method::POST, "/api/v1/system/ping-job", &token, None)
        .await;
    assert_eq!(status, 202);
    let url = created["url"].as_str().unwrap().to_owned();
    let (_, pending) = br.api(Method::GET, &url, &token, None).await;
    assert_eq!(pending["state"], "pending");
    t.worker(Registry::standard()).drain().await.unwrap();
    let (status, done) = br.api(Method::GET, &url, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["result"]["pong"], true);
    let eve = t.token("eve@example.org").await;
    assert_eq!(
        br.api(Method::GET, &url, &eve, None).await.0,
        404,
        "another user's job does not exist for them"
    );
    let (status, body) = br
        .api(
            Method::POST,
            "/api/v1/system/ping-job",
            &token,
            Some(json!({"delay_ms": 999999})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["delay_ms"].is_array());
}

async fn a_stale_heartbeat_shows_the_worker_down(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("root@example.org", true).await;
    let w = t.worker(Registry::standard());
    w.beat(false).await.unwrap();
    let token = t.token("root@example.org").await;
    let br = t.browser();
    let (_, s) = br
        .api(Method::GET, "/api/v1/system/status", &token, None)
        .await;
    assert_eq!(s["workers"][0]["state"], "up");
    assert_eq!(s["workers_up"], 1);
    assert_eq!(s["database"]["ok"], true);
    t.clock.advance(Duration::seconds(31));
    let (_, s) = br
        .api(Method::GET, "/api/v1/system/status", &token, None)
        .await;
    assert_eq!(s["workers"][0]["state"], "down");
    assert_eq!(s["workers"][0]["id"], w.id.as_str());
    assert_eq!(s["workers_up"], 0);
    let admin = t.logged_in("root@example.org").await;
    let page = admin.get_text("/admin/status").await;
    assert!(
        page.contains("badge down") && page.contains(&w.id),
        "the page shows the worker down"
    );
    w.beat(true).await.unwrap();
    let (_, s) = br
        .api(Method::GET, "/api/v1/system/status", &token, None)
        .await;
    assert_eq!(s["workers"][0]["state"], "stopped");
}

async fn the_audit_export_runs_as_a_job_with_progress_and_a_download(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("lena@example.org", false).await;
    t.project("SAT", &[("lena@example.org", "lead")]).await;
    let lena = t.logged_in("lena@example.org").await;
    for i in 0..3 {
        let name = format!("Phase {i}");
        lena.submit(
            "/p/SAT/settings",
            "/p/SAT/phases",
            &[("name", name.as_str())],
        )
        .await;
    }
    let res = lena
        .submit(
            "/p/SAT/audit",
            "/p/SAT/audit/export",
            &[("action", "create")],
        )
        .await;
    let job_url = location(&res);
    assert!(job_url.starts_with("/jobs/"), "{job_url}");
    let page = lena.get_text(&job_url).await;
    assert!(
        page.contains("pending") && page.contains("http-equiv=\"refresh\""),
        "a waiting job's page refreshes itself"
    );
    t.worker(Registry::standard()).drain().await.unwrap();
    let page = lena.get_text(&job_url).await;
    assert!(
        page.contains("succeeded") && page.contains("Download"),
        "{page}"
    );
    let res = lena.get(&format!("{job_url}/download")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("at,actor,action,"));
    assert_eq!(
        csv.lines().filter(|l| l.contains(",phase,")).count(),
        3 * 2,
        "3 phases, 2 fields set each (name, ordinal)"
    );
    let other = t.browser();
    t.user("eve@example.org", false).await;
    other
        .login("eve@example.org", opensesa_testkit::PASSWORD)
        .await;
    assert_eq!(
        other.get(&format!("{job_url}/download")).await.status(),
        404
    );
}

both!(
    enqueue_in_a_rolled_back_transaction_leaves_no_job,
    a_job_that_fails_twice_runs_three_times_with_growing_delays,
    a_job_over_its_retry_limit_is_dead_and_an_admin_can_retry_or_discard_it,
    a_job_with_an_invalid_payload_is_dead_at_once,
    a_dedup_key_keeps_one_pending_job,
    a_delayed_job_does_not_run_early,
    periodic_jobs_are_enqueued_once_per_period_by_two_workers,
    an_expired_lease_returns_the_job_to_the_queue,
    the_ping_job_round_trip_through_the_api,
    a_stale_heartbeat_shows_the_worker_down,
    the_audit_export_runs_as_a_job_with_progress_and_a_download,
);
