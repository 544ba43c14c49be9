//! TOTP enrolment and login, replay protection, recovery codes, the MFA policy, admin reset.

use crate::location;
use opensesa_app::MfaPolicy;
use opensesa_testkit::{extract_between, totp_now, Backend, Browser, Options, TestApp, PASSWORD};

/// Enrols TOTP for the logged-in browser; returns the secret and the recovery codes.
async fn enrol(t: &TestApp, br: &Browser) -> (String, Vec<String>) {
    let res = br.submit("/account/mfa", "/account/mfa", &[]).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("<svg"),
        "the QR code is rendered by the server"
    );
    let secret = extract_between(&page, "id=\"totp-secret\">", "<").unwrap();
    let wrong = br
        .submit(
            "/account/mfa",
            "/account/mfa/confirm",
            &[("code", "000000")],
        )
        .await;
    assert!(wrong.text().await.unwrap().contains("does not match"));
    let code = totp_now(t, &secret);
    let res = br
        .submit("/account/mfa", "/account/mfa/confirm", &[("code", &code)])
        .await;
    let page = res.text().await.unwrap();
    let list = extract_between(&page, "<ul class=\"codes\" id=\"codes\">", "</ul>").unwrap();
    let codes: Vec<String> = list
        .split("<li>")
        .filter_map(|s| s.split("</li>").next())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn password_step(br: &Browser) {
    let res = br.login("ada@example.org", PASSWORD).await;
    assert_eq!(location(&res), "/login/mfa");
    // Until the second factor is given, no other page opens.
    assert_eq!(location(&br.get("/projects").await), "/login/mfa");
}

async fn mfa_enrolment_login_replay_and_recovery_codes(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.logged_in("ada@example.org").await;
    let (secret, codes) = enrol(&t, &br).await;
    let enrol_code = totp_now(&t, &secret);
    assert_eq!(
        location(&br.submit("/account", "/logout", &[]).await),
        "/login"
    );

    // The code used to confirm enrolment is spent for its time step.
    password_step(&br).await;
    let res = br.post_form("/login/mfa", &[("code", &enrol_code)]).await;
    assert_eq!(
        res.status(),
        401,
        "a code must not work twice in its time step"
    );

    t.clock.advance(chrono::Duration::seconds(30));
    let code = totp_now(&t, &secret);
    let res = br.post_form("/login/mfa", &[("code", &code)]).await;
    assert_eq!(location(&res), "/");
    assert_eq!(br.get("/projects").await.status(), 200);

    // Replay of the same code in a new login: refused.
    br.submit("/account", "/logout", &[]).await;
    password_step(&br).await;
    assert_eq!(
        br.post_form("/login/mfa", &[("code", &code)])
            .await
            .status(),
        401
    );

    // A recovery code works once.
    let res = br
        .post_form("/login/mfa", &[("code", &codes[0].to_uppercase())])
        .await;
    assert_eq!(location(&res), "/account");
    br.submit("/account", "/logout", &[]).await;
    password_step(&br).await;
    assert_eq!(
        br.post_form("/login/mfa", &[("code", &codes[0])])
            .await
            .status(),
        401
    );
    assert_eq!(
        location(&br.post_form("/login/mfa", &[("code", &codes[1])]).await),
        "/account"
    );
    assert!(br
        .get_text("/account")
        .await
        .contains("8 recovery codes left"));
}

async fn mfa_policy_requires_enrolment_before_any_page(b: Backend) {
    let mut opts = Options::new(b);
    opts.mfa_policy = MfaPolicy::All;
    let t = TestApp::start_with(opts).await;
    t.user("ada@example.org", false).await;
    let br = t.browser();
    let res = br.login("ada@example.org", PASSWORD).await;
    assert_eq!(location(&res), "/account/mfa");
    assert_eq!(location(&br.get("/projects").await), "/account/mfa");
    assert_eq!(location(&br.get("/account").await), "/account/mfa");
    assert!(br
        .get_text("/account/mfa")
        .await
        .contains("policy requires"));
    let res = br.client.get(br.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "mfa_enrolment_required");
    enrol(&t, &br).await;
    assert_eq!(br.get("/projects").await.status(), 200);
}

async fn mfa_policy_for_admins_only(b: Backend) {
    let mut opts = Options::new(b);
    opts.mfa_policy = MfaPolicy::Admins;
    let t = TestApp::start_with(opts).await;
    t.user("root@example.org", true).await;
    t.user("ada@example.org", false).await;
    let admin = t.browser();
    assert_eq!(
        location(&admin.login("root@example.org", PASSWORD).await),
        "/account/mfa"
    );
    let user = t.browser();
    assert_eq!(
        location(&user.login("ada@example.org", PASSWORD).await),
        "/"
    );
    assert_eq!(user.get("/projects").await.status(), 200);
}

async fn admin_resets_a_lost_second_factor(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("root@example.org", true).await;
    t.user("ada@example.org", false).await;
    let ada = t.logged_in("ada@example.org").await;
    enrol(&t, &ada).await;
    let admin = t.logged_in("root@example.org").await;
    let page = admin.get_text("/admin/users").await;
    let end = page.find("/reset-mfa\"").unwrap();
    let id = page[end - 36..end].to_owned();
    let res = admin
        .submit("/admin/users", &format!("/admin/users/{id}/reset-mfa"), &[])
        .await;
    assert_eq!(location(&res), "/admin/users");
    // Her sessions ended, and she logs in with her password alone.
    assert_eq!(ada.get("/projects").await.status(), 303);
    assert_eq!(location(&ada.login("ada@example.org", PASSWORD).await), "/");
    // A non-admin cannot reset anyone.
    let res = ada
        .submit("/account", &format!("/admin/users/{id}/reset-mfa"), &[])
        .await;
    assert_eq!(res.status(), 403);
}

async fn sensitive_changes_need_reauthentication(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("ada@example.org", false).await;
    let br = t.logged_in("ada@example.org").await;
    let (secret, _) = enrol(&t, &br).await;
    t.clock.advance(chrono::Duration::seconds(30));
    let res = br
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("code", "123456"),
                ("new_password", "a-brand-new-passphrase"),
            ],
        )
        .await;
    assert!(res.text().await.unwrap().contains("code: is not a valid"));
    let code = totp_now(&t, &secret);
    let res = br
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "nope-nope-nope"),
                ("code", &code),
                ("new_password", "a-brand-new-passphrase"),
            ],
        )
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("current_password: is not your current password"));
    let res = br
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("code", &code),
                ("new_password", "password1234"),
            ],
        )
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("new_password: is too common"));
    t.clock.advance(chrono::Duration::seconds(30));
    let code = totp_now(&t, &secret);
    let res = br
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("code", &code),
                ("new_password", "a-brand-new-passphrase"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/account");
    assert_eq!(
        br.get("/account").await.status(),
        200,
        "the session that changed the password stays"
    );
}

both!(
    mfa_enrolment_login_replay_and_recovery_codes,
    mfa_policy_requires_enrolment_before_any_page,
    mfa_policy_for_admins_only,
    admin_resets_a_lost_second_factor,
    sensitive_changes_need_reauthentication,
);
