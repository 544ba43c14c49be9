//! Audit events with field-level before/after, revisions, the audit page and its CSV export,
//! and the append-only rule enforced by the database.

use opensesa_domain::revision::content_hash;
use opensesa_testkit::{Backend, TestApp};
use reqwest::Method;
use serde_json::json;

async fn audit_events_record_before_and_after(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("lena@example.org", false).await;
    t.project("SAT", &[("lena@example.org", "lead")]).await;
    let token = t.token("lena@example.org").await;
    let br = t.browser();
    let (status, _) = br
        .api(
            Method::PATCH,
            "/api/v1/projects/SAT",
            &token,
            Some(json!({"name": "=HYPERLINK(\"http://evil\")", "description": "Optical"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, page) = br
        .api(
            Method::GET,
            "/api/v1/projects/SAT/audit?action=update",
            &token,
            None,
        )
        .await;
    assert_eq!(page["total"], 1);
    let e = &page["events"][0];
    assert_eq!(e["actor"], "lena@example.org");
    assert_eq!(e["artefact_type"], "project");
    let changes = e["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0],
        json!({"field": "description", "before": "", "after": "Optical"})
    );
    assert_eq!(changes[1]["before"], "Project SAT");

    // Every save is a revision; the current row points at the latest.
    let project = t
        .app
        .store
        .find_project_by_code("SAT")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(project.revision, 2);
    let revisions = t
        .app
        .store
        .list_revisions("project", &project.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        revisions.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(revisions[1].data["description"], "Optical");
    assert_eq!(revisions[1].content_hash, content_hash(&revisions[1].data));
    assert_ne!(revisions[0].content_hash, revisions[1].content_hash);

    // The page filters; the export is an attachment whose cells cannot run as formulas.
    let lena = t.logged_in("lena@example.org").await;
    let html = lena.get_text("/p/SAT/audit?action=update").await;
    assert!(html.contains("1 event.") && html.contains("Optical"));
    let html = lena.get_text("/p/SAT/audit?action=delete").await;
    assert!(html.contains("0 events."));
    assert!(lena
        .get_text("/p/SAT/audit?from=yesterday")
        .await
        .contains("is not a date"));
    let res = lena.get("/p/SAT/audit.csv?action=update").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"SAT-audit.csv\""));
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("at,actor,action,artefact_type,artefact_id,field,before,after,reason\n")
    );
    assert!(csv.contains("'=HYPERLINK"), "formula neutralised: {csv}");
    assert_eq!(csv.lines().count(), 3);
}

async fn audit_trail_is_append_only(b: Backend) {
    let t = TestApp::start(b).await;
    t.project("SAT", &[]).await;
    let result = match &t.tdb.db {
        opensesa_store::Db::Sqlite { write, .. } => {
            sqlx::query("UPDATE audit_events SET actor = 'mallory'")
                .execute(write)
                .await
                .map(|_| ())
        }
        opensesa_store::Db::Postgres(p) => sqlx::query("UPDATE audit_events SET actor = 'mallory'")
            .execute(p)
            .await
            .map(|_| ()),
    };
    assert!(result.unwrap_err().to_string().contains("append-only"));
    let result = match &t.tdb.db {
        opensesa_store::Db::Sqlite { write, .. } => sqlx::query("DELETE FROM revisions")
            .execute(write)
            .await
            .map(|_| ()),
        opensesa_store::Db::Postgres(p) => sqlx::query("DELETE FROM revisions")
            .execute(p)
            .await
            .map(|_| ()),
    };
    assert!(result.unwrap_err().to_string().contains("append-only"));
}

async fn a_failed_write_leaves_no_audit_event(b: Backend) {
    let t = TestApp::start(b).await;
    t.user("root@example.org", true).await;
    let token = t.token("root@example.org").await;
    let br = t.browser();
    let (status, _) = br
        .api(
            Method::POST,
            "/api/v1/organisations",
            &token,
            Some(json!({"code": "ACME", "name": "Acme"})),
        )
        .await;
    assert_eq!(status, 201);
    let before = t.app.store.count_audit(&Default::default()).await.unwrap();
    let (status, _) = br
        .api(
            Method::POST,
            "/api/v1/organisations",
            &token,
            Some(json!({"code": "acme", "name": "Acme again"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        t.app.store.count_audit(&Default::default()).await.unwrap(),
        before,
        "the rolled-back insert left an event"
    );
}

both!(
    audit_events_record_before_and_after,
    audit_trail_is_append_only,
    a_failed_write_leaves_no_audit_event
);
