//! Baselines and release governance through the use cases and pages, on both backends:
//! freeze (atomic, idempotent, lead only), the content hash recomputed independently, a
//! frozen baseline unchanged by later edits (and by the database's own refusal), exact
//! comparisons of hand-made changes, the lock rules, decisions, adoption actions and roles.

use crate::vv::{case, case_input, raw_exec, setup, verdict, Ctx};
use opensesa_app::baselines::CompareTo;
use opensesa_app::AppError;
use opensesa_domain::baselines::{
    ActionInput, ActionStatus, ArtefactKind, BaselineInput, BaselineStatus, DecisionInput, Item,
    PackInput, PackStatus,
};
use opensesa_domain::requirements::RequirementInput;
use opensesa_domain::vv::{ActivityInput, CaseInput, PlanInput};
use opensesa_testkit::Backend;
use sha2::{Digest, Sha256};

fn named(name: &str) -> BaselineInput {
    BaselineInput {
        name: name.into(),
        description: String::new(),
    }
}

/// The documented recipe, written again here: SHA-256 over "<id> <revision hash>\n" lines
/// sorted by id.
fn recompute(items: &[Item]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .map(|i| format!("{} {}\n", i.id, i.hash))
        .collect();
    lines.sort();
    let digest = Sha256::digest(lines.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

async fn frozen(c: &Ctx, name: &str) -> String {
    let b =
        c.t.app
            .create_baseline(&c.editor, "ALPHA", &named(name), "", true)
            .await
            .unwrap();
    c.t.app
        .freeze_baseline(&c.lead, "ALPHA", &b.human_id)
        .await
        .unwrap()
        .human_id
}

async fn freeze_is_for_leads_atomic_idempotent_and_recomputable(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    case(&c, "Boot test", "SYS-001").await;
    let e = app
        .create_baseline(&c.viewer, "ALPHA", &named("v"), "", true)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    let e = app
        .create_baseline(&c.editor, "ALPHA", &named(" "), "NOPE", true)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("name").is_some()),
        "{e:?}"
    );
    let e = app
        .create_baseline(&c.editor, "ALPHA", &named("x"), "NOPE", true)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("modules").is_some()),
        "{e:?}"
    );
    let draft = app
        .create_baseline(&c.editor, "ALPHA", &named("CDR"), "SYS", true)
        .await
        .unwrap();
    assert_eq!(draft.human_id, "BL-001");
    assert_eq!(draft.status, BaselineStatus::Draft);
    for who in [&c.viewer, &c.editor] {
        let e = app
            .freeze_baseline(who, "ALPHA", "BL-001")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    }
    // Two leads' clicks at once: one freeze, the same answer twice.
    let (x, y) = tokio::join!(
        app.freeze_baseline(&c.lead, "ALPHA", "BL-001"),
        app.freeze_baseline(&c.lead, "ALPHA", "bl-001")
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    let fx = x.frozen.clone().unwrap();
    assert_eq!(fx, y.frozen.clone().unwrap());
    // Module, three requirements, the case, its link (no result yet).
    assert_eq!(fx.items, 6, "{:?}", fx.counts);
    assert_eq!(fx.counts["requirement"], 3);
    assert_eq!(fx.counts["trace_link"], 1);
    let again = app
        .freeze_baseline(&c.lead, "ALPHA", "BL-001")
        .await
        .unwrap();
    assert_eq!(again.frozen.unwrap().content_hash, fx.content_hash);

    let (_, _, items) = app
        .baseline_items(&c.viewer, "ALPHA", "BL-001")
        .await
        .unwrap();
    assert_eq!(recompute(&items), fx.content_hash);
    // Each requirement's revision hash is its revision's content hash.
    for i in items.iter().filter(|i| i.kind == ArtefactKind::Requirement) {
        let revs = app
            .store
            .list_revisions("requirement", &i.id.to_string())
            .await
            .unwrap();
        let r = revs.iter().find(|r| r.number == i.revision).unwrap();
        assert_eq!(r.content_hash, i.hash);
    }
    let groups = app.store.baseline_groups(x.id).await.unwrap();
    assert_eq!(groups.iter().map(|g| g.items).sum::<i64>(), 6);

    // Frozen means frozen: the use case refuses, and so does the database.
    let e = app
        .edit_baseline(&c.editor, "ALPHA", "BL-001", &named("renamed"), "", true)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    let db = &c.t.tdb.db;
    assert!(raw_exec(db, "UPDATE baselines SET name = 'x'")
        .await
        .is_err());
    assert!(raw_exec(db, "DELETE FROM baseline_groups").await.is_err());
    assert!(raw_exec(db, "UPDATE baseline_blobs SET body = ''")
        .await
        .is_err());

    // The freeze is audited with the hash it recorded.
    let events = app
        .store
        .list_audit(&opensesa_app::ports::AuditQuery {
            artefact_type: Some("baseline".into()),
            artefact_id: Some(x.id.to_string()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.changes.iter().any(
            |ch| ch.field == "content_hash" && ch.after == serde_json::json!(fx.content_hash)
        )));
}

async fn edits_leave_a_baseline_unchanged_and_compare_exactly(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let vc = case(&c, "Boot test", "SYS-001").await;
    app.create_link(&c.editor, "ALPHA", "SYS-002", "refines", "SYS-001")
        .await
        .unwrap();
    let bl1 = frozen(&c, "PDR").await;
    let (_, _, before) = app.baseline_items(&c.viewer, "ALPHA", &bl1).await.unwrap();
    let hash1 = recompute(&before);

    // Add, change a field, move, relink, a new result.
    let added = app
        .create_requirement(
            &c.editor,
            "ALPHA",
            "SYS",
            &RequirementInput {
                title: Some("dock".into()),
                statement: Some("The system shall dock.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.update_requirement(
        &c.editor,
        "ALPHA",
        "SYS-002",
        &RequirementInput {
            title: Some("brake hard".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    app.update_requirement(
        &c.editor,
        "ALPHA",
        "SYS-003",
        &RequirementInput {
            parent: Some("SYS-001".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let links = app
        .store
        .link_facts(
            c.t.app
                .store
                .find_project_by_code("ALPHA")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    let refines = links
        .iter()
        .find(|l| l.kind == opensesa_domain::requirements::LinkKind::Refines)
        .unwrap();
    app.delete_link(&c.editor, "ALPHA", refines.id)
        .await
        .unwrap();
    app.create_link(&c.editor, "ALPHA", "SYS-003", "refines", "SYS-002")
        .await
        .unwrap();
    app.record_result(&c.editor, "ALPHA", &vc, &verdict("pass"), &[])
        .await
        .unwrap();

    // The frozen baseline holds exactly what it held.
    let (_, _, after) = app.baseline_items(&c.viewer, "ALPHA", &bl1).await.unwrap();
    assert_eq!(before, after);
    assert_eq!(recompute(&after), hash1);

    let check = |v: &opensesa_app::baselines::ComparisonView| {
        let req = v.comparison.kind(ArtefactKind::Requirement).unwrap();
        let labels = |xs: Vec<&Item>| xs.iter().map(|i| i.label.clone()).collect::<Vec<_>>();
        assert_eq!(
            labels(req.added.iter().collect()),
            vec![added.human_id.clone()]
        );
        assert!(req.removed.is_empty());
        let mut changed = labels(req.changed.iter().map(|p| &p.to).collect());
        changed.sort();
        assert_eq!(changed, vec!["SYS-002", "SYS-003"]);
        assert_eq!(
            labels(req.moved.iter().map(|p| &p.to).collect()),
            vec!["SYS-003"]
        );
        let link = v.comparison.kind(ArtefactKind::Link).unwrap();
        assert_eq!(
            labels(link.added.iter().collect()),
            vec!["SYS-003 refines SYS-002"]
        );
        assert_eq!(
            labels(link.removed.iter().collect()),
            vec!["SYS-002 refines SYS-001"]
        );
        assert!(link.changed.is_empty() && link.moved.is_empty());
        let res = v.comparison.kind(ArtefactKind::Result).unwrap();
        assert_eq!(
            res.added.len(),
            1,
            "a first result is an added latest result"
        );
        assert!(v.comparison.kind(ArtefactKind::Case).is_none());
        assert!(v.comparison.kind(ArtefactKind::Module).is_none());
    };
    let working = app
        .compare_baselines(&c.viewer, "ALPHA", &bl1, &CompareTo::Working)
        .await
        .unwrap();
    check(&working);
    let bl2 = frozen(&c, "CDR").await;
    let v = app
        .compare_baselines(&c.viewer, "ALPHA", &bl1, &CompareTo::Baseline(bl2.clone()))
        .await
        .unwrap();
    check(&v);
    // Only the groups that changed were compared: the module's requirements and its links,
    // and the new latest result; the module list, the cases and the case's link were equal.
    assert_eq!(
        (v.comparison.groups_compared, v.comparison.groups_equal),
        (3, 3)
    );
    let same = app
        .compare_baselines(&c.viewer, "ALPHA", &bl2, &CompareTo::Working)
        .await
        .unwrap();
    assert!(same.comparison.is_empty());
    assert_eq!(same.comparison.groups_compared, 0);

    // Drill-down to the fields of a changed requirement, word by word.
    let ch = &v
        .comparison
        .kind(ArtefactKind::Requirement)
        .unwrap()
        .changed;
    let sys2 = ch.iter().find(|p| p.to.label == "SYS-002").unwrap();
    let d = app
        .artefact_diff(
            &c.viewer,
            "ALPHA",
            "requirement",
            sys2.to.id,
            sys2.from.revision,
            sys2.to.revision,
        )
        .await
        .unwrap();
    assert_eq!(d.fields.len(), 1);
    assert_eq!(d.fields[0].field, "title");
    assert_eq!(
        (d.fields[0].old.as_str(), d.fields[0].new.as_str()),
        ("brake", "brake hard")
    );

    // The comparison as XLSX.
    let x = opensesa_app::baselines::export::comparison_xlsx(&v).unwrap();
    assert!(x.bytes.starts_with(b"PK"));

    // Another project's eyes see nothing.
    c.t.project("BETA", &[("vera@example.org", "lead")]).await;
    let e = app
        .compare_baselines(&c.viewer, "BETA", &bl1, &CompareTo::Working)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound), "{e:?}");
    let e = app
        .artefact_diff(&c.viewer, "BETA", "requirement", sys2.to.id, 1, 2)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::NotFound), "{e:?}");
}

async fn packs_lock_unlock_decide_and_act(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let vc = case(&c, "Boot test", "SYS-001").await;
    app.record_result(&c.editor, "ALPHA", &vc, &verdict("fail"), &[])
        .await
        .unwrap();
    let bl = frozen(&c, "QR").await;
    let draft = app
        .create_baseline(&c.editor, "ALPHA", &named("later"), "", true)
        .await
        .unwrap();
    let e = app
        .create_pack(
            &c.editor,
            "ALPHA",
            &draft.human_id,
            &PackInput {
                name: "x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("baseline").is_some()),
        "{e:?}"
    );
    let pack = app
        .create_pack(
            &c.editor,
            "ALPHA",
            &bl,
            &PackInput {
                name: "Release 1.0".into(),
                notes: "First flight software.".into(),
                documents: "SDD | DOC-12 | 2.1\nUser manual | DOC-20 | 1.0".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(pack.human_id, "RP-001");
    let d = app.pack(&c.viewer, "ALPHA", "RP-001").await.unwrap();
    assert!(!d.checklist.passed());
    let failing: Vec<&str> = d.checklist.failing().iter().map(|i| i.id).collect();
    assert_eq!(failing, vec!["approved", "coverage", "failing"]);

    // Lock: refused with a failing checklist, refused to non-leads, allowed with a reason.
    let e = app
        .lock_pack(&c.lead, "ALPHA", "RP-001", None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(ref m) if m.contains("checklist")),
        "{e:?}"
    );
    let e = app
        .lock_pack(&c.editor, "ALPHA", "RP-001", Some("because"))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    let locked = app
        .lock_pack(
            &c.lead,
            "ALPHA",
            "RP-001",
            Some("Accepted by the customer board"),
        )
        .await
        .unwrap();
    assert_eq!(locked.status, PackStatus::Locked);
    assert_eq!(
        locked.lock_override.as_deref(),
        Some("Accepted by the customer board")
    );
    let e = app
        .edit_pack(
            &c.editor,
            "ALPHA",
            "RP-001",
            &PackInput {
                name: "y".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    let e = app
        .unlock_pack(&c.lead, "ALPHA", "RP-001", "  ")
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("reason").is_some()),
        "{e:?}"
    );
    let e = app
        .unlock_pack(&c.editor, "ALPHA", "RP-001", "x")
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    app.unlock_pack(&c.lead, "ALPHA", "RP-001", "Defect DEF-9 found")
        .await
        .unwrap();

    // Decisions: a lead's, with rationale (and conditions when conditional).
    for who in [&c.viewer, &c.editor] {
        let e = app
            .decide_pack(
                who,
                "ALPHA",
                "RP-001",
                &DecisionInput {
                    decision: "go".into(),
                    rationale: "ok".into(),
                    conditions: String::new(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    }
    let e = app
        .decide_pack(
            &c.lead,
            "ALPHA",
            "RP-001",
            &DecisionInput {
                decision: "conditional".into(),
                rationale: "mostly".into(),
                conditions: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("conditions").is_some()),
        "{e:?}"
    );
    app.decide_pack(
        &c.lead,
        "ALPHA",
        "RP-001",
        &DecisionInput {
            decision: "no_go".into(),
            rationale: "VC-001 fails".into(),
            conditions: String::new(),
        },
    )
    .await
    .unwrap();
    app.decide_pack(
        &c.lead,
        "ALPHA",
        "RP-001",
        &DecisionInput {
            decision: "conditional".into(),
            rationale: "Fix accepted".into(),
            conditions: "Rerun VC-001 before launch".into(),
        },
    )
    .await
    .unwrap();

    // Adoption actions.
    let a = app
        .add_action(
            &c.editor,
            "ALPHA",
            "RP-001",
            &ActionInput {
                title: "Train operators".into(),
                owner: "Ops".into(),
                due: "2027-01-31".into(),
            },
        )
        .await
        .unwrap();
    let e = app
        .add_action(
            &c.editor,
            "ALPHA",
            "RP-001",
            &ActionInput {
                title: "x".into(),
                owner: String::new(),
                due: "31/01/2027".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("due").is_some()),
        "{e:?}"
    );
    let e = app
        .add_action(
            &c.viewer,
            "ALPHA",
            "RP-001",
            &ActionInput {
                title: "x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    app.move_action(&c.editor, "ALPHA", &a.human_id, ActionStatus::InProgress)
        .await
        .unwrap();
    app.move_action(&c.editor, "ALPHA", &a.human_id, ActionStatus::Done)
        .await
        .unwrap();
    let e = app
        .move_action(&c.editor, "ALPHA", &a.human_id, ActionStatus::Open)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    let e = app
        .move_action(&c.lead, "ALPHA", &a.human_id, ActionStatus::Cancelled)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    app.move_action(&c.lead, "ALPHA", &a.human_id, ActionStatus::Open)
        .await
        .unwrap();

    let d = app.pack(&c.viewer, "ALPHA", "RP-001").await.unwrap();
    assert_eq!(d.pack.status, PackStatus::Draft);
    assert_eq!(d.decisions.len(), 2);
    assert_eq!(d.decisions[0].conditions, "Rerun VC-001 before launch");
    assert!(!d.decisions[0].checklist_passed);
    assert_eq!(d.actions.len(), 1);
    // Lock and unlock are in the pack's history with their reasons; so are decisions.
    let reasons: Vec<String> = d.history.iter().filter_map(|e| e.reason.clone()).collect();
    for r in [
        "Accepted by the customer board",
        "Defect DEF-9 found",
        "VC-001 fails",
        "Fix accepted",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "{r} missing from {reasons:?}"
        );
    }
    let x = app.pack_xlsx(&c.viewer, "ALPHA", "RP-001").await.unwrap();
    assert!(x.bytes.starts_with(b"PK"));
}

async fn a_clean_baseline_locks_without_override(b: Backend) {
    use opensesa_domain::requirements::workflow::Transition;
    let c = setup(b).await;
    let app = &c.t.app;
    for r in ["SYS-001", "SYS-002", "SYS-003"] {
        let vc = case(&c, &format!("Test {r}"), r).await;
        app.record_result(&c.editor, "ALPHA", &vc, &verdict("pass"), &[])
            .await
            .unwrap();
        app.transition(&c.editor, "ALPHA", r, Transition::Submit, None)
            .await
            .unwrap();
        app.transition(&c.lead, "ALPHA", r, Transition::Approve, None)
            .await
            .unwrap();
    }
    let bl = frozen(&c, "FRR").await;
    let p = app
        .create_pack(
            &c.editor,
            "ALPHA",
            &bl,
            &PackInput {
                name: "R2".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let d = app.pack(&c.viewer, "ALPHA", &p.human_id).await.unwrap();
    assert!(d.checklist.passed(), "{:?}", d.checklist);
    let locked = app
        .lock_pack(&c.lead, "ALPHA", &p.human_id, None)
        .await
        .unwrap();
    assert_eq!(locked.status, PackStatus::Locked);
    assert!(locked.lock_override.is_none());
}

async fn baseline_and_release_pages(b: Backend) {
    let c = setup(b).await;
    let lead = c.t.logged_in("lena@example.org").await;
    let viewer = c.t.logged_in("vera@example.org").await;
    let page = lead.get_text("/p/ALPHA/baselines").await;
    assert!(page.contains("New baseline"), "{page}");
    let res = lead
        .submit(
            "/p/ALPHA/baselines",
            "/p/ALPHA/baselines",
            &[("name", "PDR <b>"), ("modules", ""), ("include_vv", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = lead.get_text("/p/ALPHA/baselines/BL-001").await;
    assert!(page.contains("What a freeze would record now"));
    assert!(
        page.contains("PDR &") && !page.contains("PDR <b>"),
        "names are escaped"
    );
    // A refused form says why and keeps the page.
    let res = lead
        .submit(
            "/p/ALPHA/baselines",
            "/p/ALPHA/baselines",
            &[("name", "x"), ("modules", "ZZZ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("no requirement module has the prefix ZZZ"));
    let res = viewer
        .post_form(
            "/p/ALPHA/baselines/BL-001/freeze",
            &[(
                "csrf_token",
                &viewer.csrf_token("/p/ALPHA/baselines/BL-001").await,
            )],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = lead
        .submit(
            "/p/ALPHA/baselines/BL-001",
            "/p/ALPHA/baselines/BL-001/freeze",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = lead.get_text("/p/ALPHA/baselines/BL-001").await;
    assert!(page.contains("Content hash (SHA-256)"), "{page}");
    let csv = lead.get_text("/p/ALPHA/baselines/BL-001/items.csv").await;
    assert!(
        csv.starts_with("kind,id,revision,revision_hash,label"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    let page = viewer
        .get_text("/p/ALPHA/baselines/compare?from=BL-001&to=working")
        .await;
    assert!(page.contains("No differences"), "{page}");
    let res = viewer
        .get("/p/ALPHA/baselines/compare?from=BL-001&to=working&format=xlsx")
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    let res = lead
        .submit(
            "/p/ALPHA/releases",
            "/p/ALPHA/releases",
            &[
                ("baseline", "BL-001"),
                ("name", "R1"),
                ("documents", "SDD | D-1 | 1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = lead.get_text("/p/ALPHA/releases/RP-001").await;
    assert!(page.contains("Readiness checklist"));
    assert!(page.contains("Every requirement in scope approved"));
    let res = lead
        .submit(
            "/p/ALPHA/releases/RP-001",
            "/p/ALPHA/releases/RP-001/lock",
            &[],
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = lead
        .submit(
            "/p/ALPHA/releases/RP-001",
            "/p/ALPHA/releases/RP-001/lock",
            &[("reason", "Board waiver W-7")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = viewer.get_text("/p/ALPHA/releases/RP-001").await;
    assert!(page.contains("Board waiver W-7"));
    assert!(
        !page.contains("Record decision"),
        "viewers see no decision form"
    );
    let res = lead
        .submit(
            "/p/ALPHA/releases/RP-001",
            "/p/ALPHA/releases/RP-001/decisions",
            &[("decision", "go"), ("rationale", "Ready")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = lead
        .submit(
            "/p/ALPHA/releases/RP-001",
            "/p/ALPHA/releases/RP-001/actions",
            &[
                ("title", "Brief ops"),
                ("owner", "Ops"),
                ("due", "2027-02-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = lead
        .submit(
            "/p/ALPHA/releases/RP-001",
            "/p/ALPHA/actions/AA-001/status",
            &[("to", "done")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = lead.get_text("/p/ALPHA/releases/RP-001").await;
    assert!(page.contains("Brief ops") && page.contains("Done") && page.contains("Ready"));
    let res = lead.get("/p/ALPHA/releases/RP-001/export.xlsx").await;
    assert_eq!(res.status(), 200);
}

async fn demo_has_two_baselines_and_a_release_pack(b: Backend) {
    let t = opensesa_testkit::TestApp::start(b).await;
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    // Seeding again adds nothing.
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let lead = opensesa_app::Principal {
        user: t
            .app
            .store
            .find_user_by_email(
                &opensesa_domain::accounts::Email::parse("lead@opensesa.local").unwrap(),
            )
            .await
            .unwrap()
            .unwrap(),
        session: None,
    };
    let (_, list) = t.app.list_baselines(&lead, "SAT").await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|b| b.status == BaselineStatus::Frozen));
    let v = t
        .app
        .compare_baselines(
            &lead,
            "SAT",
            "BL-001",
            &CompareTo::Baseline("BL-002".into()),
        )
        .await
        .unwrap();
    assert_eq!(
        v.comparison
            .kind(ArtefactKind::Requirement)
            .unwrap()
            .added
            .len(),
        1
    );
    assert_eq!(
        v.comparison.kind(ArtefactKind::Link).unwrap().added.len(),
        1
    );
    let d = t.app.pack(&lead, "SAT", "RP-001").await.unwrap();
    assert_eq!(d.actions.len(), 2);
    assert_eq!(d.decisions.len(), 1);
    assert!(!d.pack.documents.is_empty());
}

async fn results_name_a_frozen_baseline(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let vc = case(&c, "Boot test", "SYS-001").await;
    let bl = frozen(&c, "QM").await;
    let draft = app
        .create_baseline(&c.editor, "ALPHA", &named("next"), "", true)
        .await
        .unwrap();
    let with = |b: &str| opensesa_app::vv::results::ResultInput {
        baseline: b.into(),
        ..verdict("pass")
    };
    for bad in [draft.human_id.as_str(), "BL-999"] {
        let e = app
            .record_result(&c.editor, "ALPHA", &vc, &with(bad), &[])
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Validation(ref f) if f.get("baseline").is_some()),
            "{e:?}"
        );
    }
    let r = app
        .record_result(&c.editor, "ALPHA", &vc, &with(&bl.to_lowercase()), &[])
        .await
        .unwrap();
    let (_, frozen) = app.list_baselines(&c.viewer, "ALPHA").await.unwrap();
    let id = frozen.iter().find(|b| b.human_id == bl).unwrap().id;
    assert_eq!(r.baseline_id, Some(id.0));
    let page =
        c.t.logged_in("vera@example.org")
            .await
            .get_text(&format!("/p/ALPHA/vv/results/{}", r.id))
            .await;
    assert!(page.contains(&format!("{bl} QM")), "{page}");
}

/// The working-group cache's groups whose version moved past their stored hash, as
/// (kind, group) sorted.
async fn dirty_groups(db: &opensesa_store::Db) -> Vec<(String, uuid::Uuid)> {
    let sql = "SELECT w.kind, w.group_id FROM working_groups w LEFT JOIN working_group_cache c \
               ON c.project_id = w.project_id AND c.kind = w.kind AND c.group_id = w.group_id \
               WHERE c.hashed_version IS NULL OR c.hashed_version <> w.version \
               ORDER BY w.kind, w.group_id";
    match db {
        opensesa_store::Db::Sqlite { read, .. } => sqlx::query_as(sql).fetch_all(read).await,
        opensesa_store::Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
    }
    .unwrap()
}

/// The working state read through the cache equals the working state read from the rows
/// alone (every cached hash dropped first), and the read leaves nothing dirty.
async fn cache_agrees(c: &Ctx) {
    let store = &c.t.app.store;
    let project = store
        .find_project_by_code("ALPHA")
        .await
        .unwrap()
        .unwrap()
        .id;
    let scope = opensesa_domain::baselines::BaselineScope::all();
    let sorted = |mut v: Vec<Item>| {
        v.sort_by_key(|i| (i.kind, i.id));
        v
    };
    let cached = sorted(store.current_items(project, &scope).await.unwrap());
    assert!(dirty_groups(&c.t.tdb.db).await.is_empty());
    raw_exec(&c.t.tdb.db, "DELETE FROM working_group_cache")
        .await
        .unwrap();
    let fresh = sorted(store.current_items(project, &scope).await.unwrap());
    assert_eq!(cached, fresh);
    assert!(dirty_groups(&c.t.tdb.db).await.is_empty());
}

async fn working_groups_follow_every_edit(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let db = &c.t.tdb.db;
    let a = case(&c, "Boot", "SYS-001").await;
    let plan = app
        .create_plan(
            &c.editor,
            "ALPHA",
            &PlanInput {
                title: Some("Q".into()),
                ..Default::default()
            },
            "SYS",
        )
        .await
        .unwrap();
    app.save_activity(
        &c.editor,
        "ALPHA",
        &plan.human_id,
        None,
        &ActivityInput {
            title: Some("Bench".into()),
            method: Some("test".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let planned = app
        .create_case(
            &c.editor,
            "ALPHA",
            &case_input("Brake"),
            "SYS-002",
            "VP-001/1",
        )
        .await
        .unwrap();
    app.create_link(&c.editor, "ALPHA", "SYS-002", "refines", "SYS-001")
        .await
        .unwrap();
    app.record_result(&c.editor, "ALPHA", &a, &verdict("pass"), &[])
        .await
        .unwrap();
    // Existing data: every group dirty, then all computed by one read.
    assert!(!dirty_groups(db).await.is_empty());
    cache_agrees(&c).await;

    let sys = app
        .store
        .find_project_by_code("ALPHA")
        .await
        .unwrap()
        .map(|p| p.id)
        .unwrap();
    let module = app.store.list_modules(sys).await.unwrap()[0].id.0;
    let plan_id = plan.id.0;
    let key = |k: &str, g: uuid::Uuid| (k.to_owned(), g);

    // A requirement edit: its module's requirement group only (its links turn suspect,
    // which no baseline records).
    app.update_requirement(
        &c.editor,
        "ALPHA",
        "SYS-002",
        &RequirementInput {
            title: Some("brake hard".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(dirty_groups(db).await, vec![key("requirement", module)]);
    cache_agrees(&c).await;

    // A new requirement.
    app.create_requirement(
        &c.editor,
        "ALPHA",
        "SYS",
        &RequirementInput {
            title: Some("dock".into()),
            statement: Some("The system shall dock.".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(dirty_groups(db).await, vec![key("requirement", module)]);
    cache_agrees(&c).await;

    // A link added and one removed: the link group of the source's module.
    app.create_link(&c.editor, "ALPHA", "SYS-003", "refines", "SYS-001")
        .await
        .unwrap();
    assert_eq!(dirty_groups(db).await, vec![key("trace_link", module)]);
    cache_agrees(&c).await;
    let link = app
        .store
        .link_facts(sys)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.kind == opensesa_domain::requirements::LinkKind::Refines)
        .unwrap();
    app.delete_link(&c.editor, "ALPHA", link.id).await.unwrap();
    assert_eq!(dirty_groups(db).await, vec![key("trace_link", module)]);
    cache_agrees(&c).await;

    // A result of a planned case: that plan's result group.
    app.record_result(&c.editor, "ALPHA", &planned.human_id, &verdict("fail"), &[])
        .await
        .unwrap();
    assert_eq!(dirty_groups(db).await, vec![key("vv_result", plan_id)]);
    cache_agrees(&c).await;

    // A case edit: its plan's case, result and link groups.
    app.update_case(
        &c.editor,
        "ALPHA",
        &planned.human_id,
        &CaseInput {
            title: Some("Brake on ice".into()),
            ..case_input("Brake")
        },
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let mut want = vec![
        key("trace_link", plan_id),
        key("vv_case", plan_id),
        key("vv_result", plan_id),
    ];
    want.sort();
    assert_eq!(dirty_groups(db).await, want);
    cache_agrees(&c).await;

    // A case moved out of its plan: both plans' groups.
    app.update_case(
        &c.editor,
        "ALPHA",
        &planned.human_id,
        &case_input("Brake on ice"),
        None,
        Some(""),
        None,
    )
    .await
    .unwrap();
    let nil = uuid::Uuid::nil();
    let mut want = vec![
        key("trace_link", plan_id),
        key("vv_case", plan_id),
        key("vv_result", plan_id),
        key("trace_link", nil),
        key("vv_case", nil),
        key("vv_result", nil),
    ];
    want.sort();
    assert_eq!(dirty_groups(db).await, want);
    cache_agrees(&c).await;

    // The periodic refresh computes what changed, and then has nothing to do.
    app.create_link(&c.editor, "ALPHA", "SYS-003", "derives", "SYS-001")
        .await
        .unwrap();
    assert_eq!(app.refresh_working_groups().await.unwrap(), 1);
    assert!(dirty_groups(db).await.is_empty());
    assert_eq!(app.refresh_working_groups().await.unwrap(), 0);

    // A freeze reads the cache (and leaves it clean); with nothing changed since, the
    // comparison with the working state finds every group equal by its hash.
    let bl = frozen(&c, "now").await;
    assert!(dirty_groups(db).await.is_empty());
    let v = app
        .compare_baselines(&c.viewer, "ALPHA", &bl, &CompareTo::Working)
        .await
        .unwrap();
    assert!(v.comparison.is_empty());
    assert_eq!(v.comparison.groups_compared, 0);
    // Modules, plans, SYS requirements and links; cases, results and links outside a plan.
    assert_eq!(v.comparison.groups_equal, 7);
    let link = v.comparison.kind(ArtefactKind::Link);
    assert!(link.is_none(), "{link:?}");
}

both!(
    working_groups_follow_every_edit,
    freeze_is_for_leads_atomic_idempotent_and_recomputable,
    edits_leave_a_baseline_unchanged_and_compare_exactly,
    packs_lock_unlock_decide_and_act,
    a_clean_baseline_locks_without_override,
    baseline_and_release_pages,
    demo_has_two_baselines_and_a_release_pack,
    results_name_a_frozen_baseline,
);
