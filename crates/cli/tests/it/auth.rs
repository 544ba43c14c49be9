//! Login, logout, session rotation, lockout.

use crate::location;
use opensesa_app::ports::AuditQuery;
use opensesa_domain::audit::Action;
use opensesa_testkit::{Backend, Browser, TestApp, PASSWORD};

async fn login_success_and_failure(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.browser();
    let res = br.login("ada@example.org", "wrong-password-123").await;
    assert_eq!(res.status(), 401);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Email or password is incorrect."));
    assert!(br.session_cookie().is_none());
    assert_eq!(
        location(&br.get("/projects").await),
        "/login?next=%2Fprojects"
    );

    let res = br.login("ada@example.org", PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/");
    assert!(br.session_cookie().is_some());
    let res = br.get("/projects").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("<h1>Projects</h1>"));

    let events = t
        .app
        .store
        .list_audit(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.action == Action::LoginFailed && e.artefact_id == "ada@example.org"));
    assert!(events
        .iter()
        .any(|e| e.action == Action::Login && e.actor == "ada@example.org"));

    // Logout ends the session on the server, not only in the browser.
    let before = br.session_cookie().unwrap();
    let res = br.submit("/projects", "/logout", &[]).await;
    assert_eq!(location(&res), "/login");
    let replay = Browser::new(&t.base);
    let res = replay
        .client
        .get(replay.url("/projects"))
        .header("Cookie", format!("osa_session={before}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "an ended session must not work again");
}

async fn unknown_email_and_wrong_password_are_indistinguishable(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.browser();
    let wrong = br.login("ada@example.org", "not-the-password-1").await;
    let (ws, wb) = (
        wrong.status(),
        wrong
            .text()
            .await
            .unwrap()
            .replace("ada@example.org", "EMAIL"),
    );
    let unknown = br.login("nobody@example.org", "not-the-password-1").await;
    let (us, ub) = (
        unknown.status(),
        unknown
            .text()
            .await
            .unwrap()
            .replace("nobody@example.org", "EMAIL"),
    );
    assert_eq!(ws, us);
    assert_eq!(
        wb, ub,
        "the pages differ, which tells an attacker which emails exist"
    );
    // Unknown accounts lock like known ones, so lockout does not reveal them either.
    for _ in 0..4 {
        br.login("nobody@example.org", "not-the-password-1").await;
    }
    assert_eq!(
        br.login("nobody@example.org", "not-the-password-1")
            .await
            .status(),
        429
    );
}

async fn session_id_rotates_at_login(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    // A session id planted before login (fixation) is never adopted.
    let br = t.browser();
    let planted = "attacker-chosen-session-id";
    let res = br
        .client
        .post(br.url("/login"))
        .header("Origin", &br.base)
        .header("Cookie", format!("osa_session={planted}"))
        .form(&[("email", "ada@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let first = br.session_cookie().unwrap();
    assert_ne!(first, planted);
    // Logging in again replaces the session: the old id stops working.
    assert_eq!(br.login("ada@example.org", PASSWORD).await.status(), 303);
    let second = br.session_cookie().unwrap();
    assert_ne!(first, second);
    let other = Browser::new(&t.base);
    let res = other
        .client
        .get(other.url("/projects"))
        .header("Cookie", format!("osa_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(br.get("/projects").await.status(), 200);
}

async fn lockout_after_repeated_failures_and_its_expiry(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.browser();
    for _ in 0..5 {
        assert_eq!(
            br.login("ada@example.org", "wrong-password-123")
                .await
                .status(),
            401
        );
    }
    // Locked: even the right password is refused, with a time to retry.
    let res = br.login("ada@example.org", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Too many failed attempts"));
    t.clock.advance(chrono::Duration::minutes(14));
    assert_eq!(br.login("ada@example.org", PASSWORD).await.status(), 429);
    t.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(br.login("ada@example.org", PASSWORD).await.status(), 303);
}

async fn logout_everywhere_ends_every_session(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let laptop = t.logged_in("ada@example.org").await;
    let phone = t.logged_in("ada@example.org").await;
    assert!(t.browser().get_text("/login").await.contains("Log in"));
    let page = laptop.get_text("/account").await;
    assert_eq!(
        page.matches("/end\"").count(),
        1,
        "the other session is listed with an End button"
    );
    let res = laptop
        .submit("/account", "/account/logout-everywhere", &[])
        .await;
    assert_eq!(location(&res), "/login");
    assert_eq!(phone.get("/projects").await.status(), 303);
    assert_eq!(laptop.get("/projects").await.status(), 303);
}

async fn idle_sessions_expire(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.logged_in("ada@example.org").await;
    t.clock.advance(chrono::Duration::hours(11));
    assert_eq!(br.get("/projects").await.status(), 200);
    t.clock.advance(chrono::Duration::hours(13));
    assert_eq!(br.get("/projects").await.status(), 303);
}

both!(
    login_success_and_failure,
    unknown_email_and_wrong_password_are_indistinguishable,
    session_id_rotates_at_login,
    lockout_after_repeated_failures_and_its_expiry,
    logout_everywhere_ends_every_session,
    idle_sessions_expire,
);
