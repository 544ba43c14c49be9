//! Verification and validation through the use cases, on both backends: the state machines
//! and their refused steps, immutable results and corrections, evidence files, the defect
//! closing rule, snapshots, JUnit imports of real pytest and cargo-nextest reports, and the
//! RVTM's verification status.

use crate::junit_fixtures::{nextest_junit, pytest_junit};
use chrono::Duration;
use opensesa_app::ports::CaseQuery;
use opensesa_app::requirements::coverage::VerificationStatus;
use opensesa_app::vv::junit::JunitApplied;
use opensesa_app::vv::results::{ResultInput, StepInput, Upload};
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::{AppError, Principal};
use opensesa_domain::requirements::{ModuleInput, RequirementInput};
use opensesa_domain::vv::{
    ActivityInput, CaseInput, CaseStatus, DefectInput, DefectStatus, PlanInput, PlanStatus, Step,
};
use opensesa_testkit::{Backend, TestApp};

pub struct Ctx {
    pub t: TestApp,
    pub lead: Principal,
    pub editor: Principal,
    pub viewer: Principal,
}

pub async fn setup(b: Backend) -> Ctx {
    let t = TestApp::start(b).await;
    let p = |user| Principal {
        user,
        session: None,
    };
    let lead = p(t.user("lena@example.org", false).await);
    let editor = p(t.user("emil@example.org", false).await);
    let viewer = p(t.user("vera@example.org", false).await);
    t.project(
        "ALPHA",
        &[
            ("lena@example.org", "lead"),
            ("emil@example.org", "editor"),
            ("vera@example.org", "viewer"),
        ],
    )
    .await;
    t.app
        .create_module(
            &lead,
            "ALPHA",
            &ModuleInput {
                prefix: Some("SYS".into()),
                name: Some("System".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for title in ["boot", "brake", "cool"] {
        t.app
            .create_requirement(
                &editor,
                "ALPHA",
                "SYS",
                &RequirementInput {
                    title: Some(title.into()),
                    statement: Some(format!("The system shall {title}.")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    Ctx {
        t,
        lead,
        editor,
        viewer,
    }
}

pub fn case_input(title: &str) -> CaseInput {
    CaseInput {
        title: Some(title.into()),
        method: Some("test".into()),
        steps: Some(vec![
            Step {
                action: "Power on".into(),
                expected: "LED green".into(),
            },
            Step {
                action: "Send TC-1".into(),
                expected: "Ack".into(),
            },
        ]),
        expected: Some("Works".into()),
        ..Default::default()
    }
}

pub async fn case(c: &Ctx, title: &str, verifies: &str) -> String {
    c.t.app
        .create_case(&c.editor, "ALPHA", &case_input(title), verifies, "")
        .await
        .unwrap()
        .human_id
}

pub fn verdict(v: &str) -> ResultInput {
    ResultInput {
        verdict: v.into(),
        configuration: "build 42".into(),
        ..Default::default()
    }
}

async fn plan_case_and_defect_machines(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let plan = app
        .create_plan(
            &c.editor,
            "ALPHA",
            &PlanInput {
                title: Some("Qualification".into()),
                description: Some("All of it".into()),
            },
            "SYS",
        )
        .await
        .unwrap();
    assert_eq!(plan.human_id, "VP-001");
    // Only a lead approves; draft cannot jump to active.
    let e = app
        .move_plan(&c.editor, "ALPHA", "VP-001", PlanStatus::Approved)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    let e = app
        .move_plan(&c.lead, "ALPHA", "VP-001", PlanStatus::Active)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(ref m) if m.contains("cannot go from draft to active")),
        "{e:?}"
    );
    app.move_plan(&c.lead, "ALPHA", "VP-001", PlanStatus::Approved)
        .await
        .unwrap();
    app.move_plan(&c.editor, "ALPHA", "VP-001", PlanStatus::Active)
        .await
        .unwrap();
    assert!(app
        .move_plan(&c.editor, "ALPHA", "VP-001", PlanStatus::Closed)
        .await
        .is_err());
    app.move_plan(&c.lead, "ALPHA", "VP-001", PlanStatus::Closed)
        .await
        .unwrap();
    let e = app
        .update_plan(
            &c.lead,
            "ALPHA",
            "VP-001",
            &PlanInput {
                title: Some("x".into()),
                ..Default::default()
            },
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(_)),
        "a closed plan is not edited: {e:?}"
    );

    // Cases: draft ⇄ ready → retired (lead) → draft (lead).
    let vc = case(&c, "Boot", "SYS-001").await;
    assert_eq!(vc, "VC-001");
    let e = app
        .move_case(&c.editor, "ALPHA", &vc, CaseStatus::Retired)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(_)),
        "draft cannot be retired: {e:?}"
    );
    app.move_case(&c.editor, "ALPHA", &vc, CaseStatus::Ready)
        .await
        .unwrap();
    let e = app
        .move_case(&c.editor, "ALPHA", &vc, CaseStatus::Retired)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    let e = app
        .move_case(&c.viewer, "ALPHA", &vc, CaseStatus::Draft)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    app.move_case(&c.lead, "ALPHA", &vc, CaseStatus::Retired)
        .await
        .unwrap();
    let e = app
        .update_case(
            &c.editor,
            "ALPHA",
            &vc,
            &case_input("Boot 2"),
            None,
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(_)),
        "a retired case is not edited: {e:?}"
    );

    // Defects: open → in progress → resolved; rejected only by a lead; closed → resolved never.
    let d = app
        .create_defect(
            &c.editor,
            "ALPHA",
            &DefectInput {
                title: Some("Boot slow".into()),
                severity: Some("minor".into()),
                ..Default::default()
            },
            None,
            "",
            "SYS-001",
        )
        .await
        .unwrap();
    assert_eq!(d.human_id, "DEF-001");
    let e = app
        .move_defect(&c.editor, "ALPHA", "DEF-001", DefectStatus::Closed, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(ref m) if m.contains("cannot go from open to closed")),
        "{e:?}"
    );
    let e = app
        .move_defect(&c.editor, "ALPHA", "DEF-001", DefectStatus::Rejected, None)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    app.move_defect(
        &c.editor,
        "ALPHA",
        "DEF-001",
        DefectStatus::InProgress,
        None,
    )
    .await
    .unwrap();
    app.move_defect(&c.editor, "ALPHA", "DEF-001", DefectStatus::Resolved, None)
        .await
        .unwrap();
    // Audited as transitions.
    let trail = app
        .project_audit(&c.lead, "ALPHA", &Default::default(), 200, 0)
        .await
        .unwrap();
    assert!(trail
        .events
        .iter()
        .any(|e| e.artefact_type == "vv_plan" && e.action.as_str() == "transition"));
    // The viewer may read but not write.
    assert!(matches!(
        app.create_plan(
            &c.viewer,
            "ALPHA",
            &PlanInput {
                title: Some("x".into()),
                ..Default::default()
            },
            ""
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
}

async fn results_are_immutable_and_superseded_with_reason(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let vc = case(&c, "Boot", "SYS-001").await;
    let first = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &ResultInput {
                steps: vec![
                    StepInput {
                        step: 1,
                        verdict: "pass".into(),
                        note: String::new(),
                    },
                    StepInput {
                        step: 2,
                        verdict: "fail".into(),
                        note: "no ack".into(),
                    },
                ],
                ..verdict("fail")
            },
            &[],
        )
        .await
        .unwrap();
    assert_eq!(first.steps.len(), 2);
    // Errors name their fields.
    let e = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &ResultInput {
                steps: vec![StepInput {
                    step: 3,
                    verdict: "pass".into(),
                    note: String::new(),
                }],
                ..verdict("passed")
            },
            &[],
        )
        .await
        .unwrap_err();
    let AppError::Validation(f) = e else {
        panic!("{e:?}")
    };
    assert!(
        f.get("verdict").is_some() && f.get("steps[3]").is_some(),
        "{f:?}"
    );
    // A viewer cannot record results.
    assert!(matches!(
        app.record_result(&c.viewer, "ALPHA", &vc, &verdict("pass"), &[])
            .await,
        Err(AppError::Forbidden(_))
    ));
    // The database itself refuses to change or delete a result.
    let db = &c.t.tdb.db;
    assert!(raw_exec(db, "UPDATE vv_results SET verdict = 'pass'")
        .await
        .is_err());
    assert!(raw_exec(db, "DELETE FROM vv_results").await.is_err());
    // A correction needs a reason, and supersedes.
    let e = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &ResultInput {
                supersedes: Some(first.id),
                ..verdict("pass")
            },
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("reason").is_some()),
        "{e:?}"
    );
    c.t.clock.advance(Duration::minutes(1));
    let fix = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &ResultInput {
                supersedes: Some(first.id),
                reason: "step 2 was misread".into(),
                ..verdict("pass")
            },
            &[],
        )
        .await
        .unwrap();
    let (_, old) = app.result(&c.viewer, "ALPHA", first.id).await.unwrap();
    assert_eq!(old.superseded_by, Some(fix.id));
    assert_eq!(
        old.result.verdict.as_str(),
        "fail",
        "the old result is unchanged"
    );
    // A result is superseded at most once.
    let e = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &ResultInput {
                supersedes: Some(first.id),
                reason: "again".into(),
                ..verdict("fail")
            },
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    // The latest effective result is the correction.
    let (_, page) = app
        .list_cases(&c.viewer, "ALPHA", CaseQuery::default())
        .await
        .unwrap();
    assert_eq!(page.rows[0].latest.unwrap().result_id, fix.id);
    // A retired case takes no results.
    app.move_case(&c.editor, "ALPHA", &vc, CaseStatus::Ready)
        .await
        .unwrap();
    app.move_case(&c.lead, "ALPHA", &vc, CaseStatus::Retired)
        .await
        .unwrap();
    let e = app
        .record_result(&c.editor, "ALPHA", &vc, &verdict("pass"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("case").is_some()),
        "{e:?}"
    );
}

pub async fn raw_exec(db: &opensesa_store::Db, sql: &str) -> Result<(), String> {
    match db {
        opensesa_store::Db::Sqlite { write, .. } => sqlx::query(sql)
            .execute(write)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        opensesa_store::Db::Postgres(p) => sqlx::query(sql)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

async fn evidence_limits_and_checksums(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let vc = case(&c, "Boot", "SYS-001").await;
    let limit = app.blobs.as_ref().unwrap().limit() as usize;
    let e = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &verdict("pass"),
            &[Upload {
                file_name: "big.bin".into(),
                bytes: vec![7u8; limit + 1],
            }],
        )
        .await
        .unwrap_err();
    let AppError::Validation(f) = e else {
        panic!("{e:?}")
    };
    assert!(
        f.get("evidence").unwrap()[0].contains("big.bin: the file is"),
        "{f:?}"
    );
    let (_, page) = app
        .list_cases(&c.viewer, "ALPHA", CaseQuery::default())
        .await
        .unwrap();
    assert!(page.rows[0].latest.is_none(), "nothing recorded");
    let log = b"boot ok in 1.2 s\n".to_vec();
    let png = {
        let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
        v.extend_from_slice(&[0u8; 64]);
        v
    };
    let r = app
        .record_result(
            &c.editor,
            "ALPHA",
            &vc,
            &verdict("pass"),
            &[
                Upload {
                    file_name: "../../run.log".into(),
                    bytes: log.clone(),
                },
                Upload {
                    file_name: "scope.html".into(),
                    bytes: png.clone(),
                },
            ],
        )
        .await
        .unwrap();
    use sha2::Digest;
    let hex = |b: &[u8]| {
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    assert_eq!(r.evidence[0].sha256, hex(&log));
    assert_eq!(r.evidence[0].file_name, "run.log");
    assert_eq!(r.evidence[0].content_type, "text/plain; charset=utf-8");
    assert_eq!(
        r.evidence[1].content_type, "image/png",
        "type from the content, not the name"
    );
    let (ev, bytes) = app
        .evidence(&c.viewer, "ALPHA", r.id, &r.evidence[0].sha256)
        .await
        .unwrap();
    assert_eq!(bytes, log);
    assert_eq!(ev.size, log.len() as u64);
    // A damaged file on disk is refused, not served.
    let path = find_file(&c.t.data_dir.join("files"), &r.evidence[0].sha256).unwrap();
    std::fs::write(&path, b"tampered").unwrap();
    let e = app
        .evidence(&c.viewer, "ALPHA", r.id, &r.evidence[0].sha256)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Internal(ref m) if m.contains("does not match")),
        "{e:?}"
    );
    // Unknown evidence of a result is not found.
    assert!(matches!(
        app.evidence(&c.viewer, "ALPHA", r.id, &"0".repeat(64))
            .await,
        Err(AppError::NotFound)
    ));
}

pub fn find_file(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

async fn defect_closing_rule(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let vc = case(&c, "Boot", "SYS-001").await;
    let failed = app
        .record_result(&c.editor, "ALPHA", &vc, &verdict("fail"), &[])
        .await
        .unwrap();
    let d = app
        .create_defect(
            &c.editor,
            "ALPHA",
            &DefectInput {
                title: Some("Boot fails".into()),
                ..Default::default()
            },
            Some(failed.id),
            "",
            "",
        )
        .await
        .unwrap();
    assert_eq!(d.cases.len(), 1);
    // Raising a defect from a passing result is refused.
    let ok = app
        .record_result(&c.editor, "ALPHA", &vc, &verdict("pass"), &[])
        .await
        .unwrap();
    assert!(app
        .create_defect(
            &c.editor,
            "ALPHA",
            &DefectInput {
                title: Some("x".into()),
                ..Default::default()
            },
            Some(ok.id),
            "",
            ""
        )
        .await
        .is_err());
    let h = d.human_id.as_str();
    app.move_defect(&c.editor, "ALPHA", h, DefectStatus::Resolved, None)
        .await
        .unwrap();
    // The pass above was recorded at the same instant as the defect: not later.
    let e = app
        .move_defect(&c.editor, "ALPHA", h, DefectStatus::Closed, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Conflict(ref m) if m.contains("VC-001")),
        "{e:?}"
    );
    // An editor cannot override; a lead needs a reason.
    let e = app
        .move_defect(
            &c.editor,
            "ALPHA",
            h,
            DefectStatus::Closed,
            Some("trust me"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    // A later passing result satisfies the rule.
    c.t.clock.advance(Duration::hours(1));
    app.record_result(&c.editor, "ALPHA", &vc, &verdict("fail"), &[])
        .await
        .unwrap();
    assert!(
        app.move_defect(&c.editor, "ALPHA", h, DefectStatus::Closed, None)
            .await
            .is_err(),
        "latest fails"
    );
    c.t.clock.advance(Duration::hours(1));
    app.record_result(&c.editor, "ALPHA", &vc, &verdict("pass"), &[])
        .await
        .unwrap();
    app.move_defect(&c.editor, "ALPHA", h, DefectStatus::Closed, None)
        .await
        .unwrap();
    // A lead's override with a reason closes a defect without results, and is audited.
    let d2 = app
        .create_defect(
            &c.editor,
            "ALPHA",
            &DefectInput {
                title: Some("Doc typo".into()),
                ..Default::default()
            },
            None,
            "",
            "SYS-002",
        )
        .await
        .unwrap();
    app.move_defect(
        &c.editor,
        "ALPHA",
        &d2.human_id,
        DefectStatus::Resolved,
        None,
    )
    .await
    .unwrap();
    assert!(app
        .move_defect(&c.lead, "ALPHA", &d2.human_id, DefectStatus::Closed, None)
        .await
        .is_err());
    app.move_defect(
        &c.lead,
        "ALPHA",
        &d2.human_id,
        DefectStatus::Closed,
        Some("fixed in the manual, no test applies"),
    )
    .await
    .unwrap();
    let trail = app
        .project_audit(&c.lead, "ALPHA", &Default::default(), 200, 0)
        .await
        .unwrap();
    assert!(trail.events.iter().any(|e| e.artefact_type == "vv_defect"
        && e.reason.as_deref() == Some("fixed in the manual, no test applies")));
}

async fn snapshots_freeze_and_compare(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
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
    let mk = |t: &'static str| {
        let app = app.clone();
        let who = c.editor.clone();
        async move {
            app.create_case(&who, "ALPHA", &case_input(t), "SYS-001", "VP-001/1")
                .await
                .unwrap()
                .human_id
        }
    };
    let a = mk("A").await;
    let bb = mk("B").await;
    let cc = mk("C").await;
    app.record_result(&c.editor, "ALPHA", &a, &verdict("pass"), &[])
        .await
        .unwrap();
    app.record_result(&c.editor, "ALPHA", &bb, &verdict("fail"), &[])
        .await
        .unwrap();
    let s1 = app
        .create_snapshot(
            &c.editor,
            "ALPHA",
            &SnapshotScope::Plan("VP-001".into()),
            "Before fixes",
        )
        .await
        .unwrap();
    assert_eq!(s1.human_id, "VS-001");
    assert_eq!(s1.content.cases.len(), 3);
    // Later edits, results and a new case leave the snapshot unchanged.
    c.t.clock.advance(Duration::minutes(5));
    app.update_case(
        &c.editor,
        "ALPHA",
        &a,
        &CaseInput {
            title: Some("A renamed".into()),
            ..Default::default()
        },
        None,
        None,
        None,
    )
    .await
    .unwrap();
    app.record_result(&c.editor, "ALPHA", &bb, &verdict("pass"), &[])
        .await
        .unwrap();
    let d = mk("D").await;
    app.update_case(
        &c.editor,
        "ALPHA",
        &cc,
        &CaseInput::default(),
        None,
        Some(""),
        None,
    )
    .await
    .unwrap();
    let (_, again) = app.snapshot(&c.viewer, "ALPHA", "VS-001").await.unwrap();
    assert_eq!(again.content, s1.content);
    assert_eq!(again.content_hash, s1.content_hash);
    // The hash is recomputable from the content.
    let recomputed =
        opensesa_domain::revision::content_hash(&serde_json::to_value(&again.content).unwrap());
    assert_eq!(recomputed, again.content_hash);
    let s2 = app
        .create_snapshot(
            &c.editor,
            "ALPHA",
            &SnapshotScope::Plan("VP-001".into()),
            "After fixes",
        )
        .await
        .unwrap();
    let (_, _, _, diff) = app
        .compare_snapshots(&c.viewer, "ALPHA", &s1.human_id, &s2.human_id)
        .await
        .unwrap();
    let names = |v: &Vec<opensesa_domain::vv::snapshot::SnapCase>| {
        v.iter().map(|x| x.human_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&diff.added), [d]);
    assert_eq!(names(&diff.removed), [cc], "moved out of the plan");
    assert_eq!(
        diff.changed
            .iter()
            .map(|x| x.human_id.clone())
            .collect::<Vec<_>>(),
        [a]
    );
    assert_eq!(diff.verdict_changed.len(), 1);
    assert_eq!(diff.verdict_changed[0].human_id, bb);
    assert_eq!(diff.unchanged, 0);
    // Snapshots cannot be changed in the database either.
    assert!(raw_exec(&c.t.tdb.db, "UPDATE vv_snapshots SET title = 'x'")
        .await
        .is_err());
}

async fn junit_imports_real_reports(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    for t in ["boot", "brake", "overheat", "flash", "can"] {
        case(&c, t, "SYS-001").await;
    }
    let dir =
        std::env::temp_dir().join(format!("opensesa-junit-{}", uuid::Uuid::now_v7().simple()));
    let xml = std::fs::read(pytest_junit(&dir.join("py"))).unwrap();
    let up = Upload {
        file_name: "report.xml".into(),
        bytes: xml.clone(),
    };
    // A viewer cannot import.
    assert!(matches!(
        app.junit_dry_run(&c.viewer, "ALPHA", &up, "", "", "").await,
        Err(AppError::Forbidden(_))
    ));
    let (_, pending) = app
        .junit_dry_run(&c.editor, "ALPHA", &up, "rig 3, build 42", "CI", "")
        .await
        .unwrap();
    let (_, _, report) = app
        .junit_import(&c.viewer, "ALPHA", pending.id)
        .await
        .unwrap();
    assert_eq!(report.tests, 6);
    let mapped: Vec<(&str, &str)> = report
        .mapped
        .iter()
        .map(|m| (m.case.as_str(), m.verdict.as_str()))
        .collect();
    assert_eq!(
        mapped,
        [
            ("VC-001", "pass"),
            ("VC-002", "pass"),
            ("VC-003", "fail"),
            ("VC-004", "not_run"),
            ("VC-005", "blocked")
        ]
    );
    assert_eq!(report.unknown.len(), 1);
    assert!(
        report.unknown[0]
            .test
            .contains("test_vc_999_not_in_the_plan"),
        "{:?}",
        report.unknown
    );
    // Nothing is recorded by the dry run.
    let (_, page) = app
        .list_cases(&c.viewer, "ALPHA", CaseQuery::default())
        .await
        .unwrap();
    assert!(page.rows.iter().all(|r| r.latest.is_none()));
    let JunitApplied::Recorded(n) = app
        .junit_apply(&c.editor, "ALPHA", pending.id)
        .await
        .unwrap()
    else {
        panic!("replanned")
    };
    assert_eq!(n, 5);
    // Applying twice is refused.
    assert!(matches!(
        app.junit_apply(&c.editor, "ALPHA", pending.id).await,
        Err(AppError::Conflict(_))
    ));
    let (_, page) = app
        .list_cases(&c.viewer, "ALPHA", CaseQuery::default())
        .await
        .unwrap();
    let latest = page.rows[2].latest.unwrap();
    assert_eq!(latest.verdict.as_str(), "fail");
    let (_, rec) = app
        .result(&c.viewer, "ALPHA", latest.result_id)
        .await
        .unwrap();
    assert_eq!(rec.result.source, "junit");
    assert_eq!(rec.result.configuration, "rig 3, build 42");
    assert_eq!(rec.result.evidence[0].file_name, "report.xml");
    let (_, bytes) = app
        .evidence(
            &c.viewer,
            "ALPHA",
            rec.result.id,
            &rec.result.evidence[0].sha256,
        )
        .await
        .unwrap();
    assert_eq!(bytes, xml, "the report is kept as evidence");

    // cargo-nextest: mapped by automation keys (a trailing part of the full name).
    for (title, key) in [
        ("self test", "tests::vc_010_startup_self_test"),
        ("watchdog", "tests::vc_011_watchdog_resets"),
        ("limp home", "tests::vc_012_limp_home_speed"),
    ] {
        app.create_case(
            &c.editor,
            "ALPHA",
            &CaseInput {
                automation_key: Some(key.into()),
                ..case_input(title)
            },
            "SYS-002",
            "",
        )
        .await
        .unwrap();
    }
    let xml = std::fs::read(nextest_junit(&dir.join("nextest"))).unwrap();
    let (_, pending) = app
        .junit_dry_run(
            &c.editor,
            "ALPHA",
            &Upload {
                file_name: "junit.xml".into(),
                bytes: xml,
            },
            "",
            "",
            "",
        )
        .await
        .unwrap();
    let (_, _, report) = app
        .junit_import(&c.viewer, "ALPHA", pending.id)
        .await
        .unwrap();
    let mapped: Vec<(&str, &str)> = report
        .mapped
        .iter()
        .map(|m| (m.case.as_str(), m.verdict.as_str()))
        .collect();
    assert_eq!(
        mapped,
        [("VC-006", "pass"), ("VC-007", "pass"), ("VC-008", "fail")]
    );
    assert_eq!(
        report
            .unknown
            .iter()
            .map(|u| u.test.as_str())
            .collect::<Vec<_>>(),
        ["vc_fixture::tests::vc_014_sensor_warm_up"]
    );
    // A malformed file is refused at upload with where, and nothing is stored.
    let e = app
        .junit_dry_run(
            &c.editor,
            "ALPHA",
            &Upload {
                file_name: "bad.xml".into(),
                bytes: b"<testsuites><testcase>".to_vec(),
            },
            "",
            "",
            "",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Validation(ref f) if f.get("file").unwrap()[0].contains("line")),
        "{e:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

async fn rvtm_verification_status_follows_latest_results(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    // SYS-001: two cases; SYS-002: one case; SYS-003: none.
    let a = case(&c, "A", "SYS-001").await;
    let bb = case(&c, "B", "SYS-001, SYS-002").await;
    let status = |h: &'static str| {
        let app = app.clone();
        let who = c.viewer.clone();
        async move {
            let cov = app.coverage(&who, "ALPHA").await.unwrap();
            cov.rows
                .iter()
                .find(|r| r.human_id == h)
                .unwrap()
                .verification
        }
    };
    assert_eq!(status("SYS-001").await, VerificationStatus::NotRun);
    assert_eq!(status("SYS-003").await, VerificationStatus::NoCase);
    app.record_result(&c.editor, "ALPHA", &a, &verdict("pass"), &[])
        .await
        .unwrap();
    assert_eq!(
        status("SYS-001").await,
        VerificationStatus::NotRun,
        "B has not run"
    );
    app.record_result(&c.editor, "ALPHA", &bb, &verdict("blocked"), &[])
        .await
        .unwrap();
    assert_eq!(
        status("SYS-001").await,
        VerificationStatus::NotRun,
        "blocked is not a pass"
    );
    c.t.clock.advance(Duration::minutes(1));
    let f = app
        .record_result(&c.editor, "ALPHA", &bb, &verdict("fail"), &[])
        .await
        .unwrap();
    assert_eq!(status("SYS-001").await, VerificationStatus::Failing);
    assert_eq!(status("SYS-002").await, VerificationStatus::Failing);
    // An older execution recorded later does not displace the latest.
    let older = ResultInput {
        executed_at: "2026-01-01T00:00".into(),
        ..verdict("pass")
    };
    app.record_result(&c.editor, "ALPHA", &bb, &older, &[])
        .await
        .unwrap();
    assert_eq!(status("SYS-002").await, VerificationStatus::Failing);
    // A correction of the failing result makes it pass.
    app.record_result(
        &c.editor,
        "ALPHA",
        &bb,
        &ResultInput {
            supersedes: Some(f.id),
            reason: "wrong rig".into(),
            ..verdict("pass")
        },
        &[],
    )
    .await
    .unwrap();
    assert_eq!(status("SYS-001").await, VerificationStatus::Verified);
    assert_eq!(status("SYS-002").await, VerificationStatus::Verified);
    let cov = app.coverage(&c.viewer, "ALPHA").await.unwrap();
    assert_eq!(
        (
            cov.project.verified,
            cov.project.failing,
            cov.project.not_run
        ),
        (2, 0, 0)
    );
    // Retiring A leaves B's verdict for SYS-001; a case edit makes its links suspect.
    app.update_case(
        &c.editor,
        "ALPHA",
        &bb,
        &CaseInput {
            expected: Some("Works well".into()),
            ..Default::default()
        },
        None,
        None,
        None,
    )
    .await
    .unwrap();
    let cov = app.coverage(&c.viewer, "ALPHA").await.unwrap();
    assert!(
        cov.rows
            .iter()
            .find(|r| r.human_id == "SYS-002")
            .unwrap()
            .suspect_links
            > 0
    );
    // So does an edit of the requirement.
    let d = app.case_detail(&c.viewer, "ALPHA", &a).await.unwrap();
    assert!(d.links.iter().all(|l| !l.link.suspect));
    app.update_requirement(
        &c.editor,
        "ALPHA",
        "SYS-001",
        &RequirementInput {
            statement: Some("The system shall boot fast.".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let d = app.case_detail(&c.viewer, "ALPHA", &a).await.unwrap();
    assert!(
        d.links.iter().all(|l| l.link.suspect),
        "the requirement changed"
    );
    assert_eq!(d.links[0].target_human_id, "SYS-001");
    assert_eq!(d.links[0].source_human_id, a);
}

async fn demo_and_generator_make_consistent_vv_data(b: Backend) {
    let t = TestApp::start(b).await;
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let lead = Principal {
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
    let d = t.app.vv_dashboard(&lead, "SAT").await.unwrap();
    assert_eq!(d.plans.len(), 1);
    assert_eq!(d.plans[0].plan.status, PlanStatus::Active);
    assert_eq!(d.facts.cases, 7);
    let count = |v: &str| d.verdicts.iter().find(|(x, _)| x.as_str() == v).unwrap().1;
    assert_eq!(
        (
            count("pass"),
            count("fail"),
            count("blocked"),
            count("not_run")
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(d.open_defects.iter().map(|(_, n)| n).sum::<i64>(), 1);
    // Every case verifies a requirement that exists, and the coverage shows each status.
    let cov = t.app.coverage(&lead, "SAT").await.unwrap();
    let vs: Vec<VerificationStatus> = cov.rows.iter().map(|r| r.verification).collect();
    for s in [
        VerificationStatus::Verified,
        VerificationStatus::Failing,
        VerificationStatus::NotRun,
    ] {
        assert!(vs.contains(&s), "{s:?} in the demo");
    }
    let (_, page) = t
        .app
        .list_cases(&lead, "SAT", CaseQuery::default())
        .await
        .unwrap();
    for r in &page.rows {
        let detail = t
            .app
            .case_detail(&lead, "SAT", &r.case.human_id)
            .await
            .unwrap();
        assert!(
            !detail.links.is_empty(),
            "{} verifies something",
            r.case.human_id
        );
    }
    assert_eq!(t.app.list_snapshots(&lead, "SAT").await.unwrap().1.len(), 1);
    // Seeding again changes nothing.
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        t.app.vv_dashboard(&lead, "SAT").await.unwrap().facts.cases,
        7
    );

    // The generator: cases with links and results on a generated project.
    let opts = opensesa::generate::Options {
        project: "GEN".into(),
        requirements: 500,
        ..Default::default()
    };
    opensesa::demo::generate(&t.app, &opts, |_| {})
        .await
        .unwrap();
    let r = opensesa::demo::generate_vv(&t.app, "GEN", 300, 3_000, 7, |_| {})
        .await
        .unwrap();
    assert_eq!((r.cases, r.results), (300, 3_000));
    let d = t.app.vv_dashboard(&lead, "GEN").await.unwrap();
    assert_eq!(d.facts.cases, 300);
    assert_eq!(
        d.verdicts.iter().map(|(_, n)| n).sum::<i64>(),
        300,
        "every case counted once"
    );
    assert_eq!(d.facts.daily.iter().map(|(_, _, n)| n).sum::<i64>(), 3_000);
    let (_, plan_cases) = t
        .app
        .list_cases(
            &lead,
            "GEN",
            CaseQuery {
                plan_id: Some(t.app.plan(&lead, "GEN", "VP-001").await.unwrap().plan.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(plan_cases.total, 300);
}

/// The V&V dashboard and coverage are kept per project under the project's fact version:
/// every kind of write bumps it, and what is served afterwards is what a fresh computation
/// gives; without a write the kept result is served again.
async fn dashboard_and_coverage_follow_every_write(b: Backend) {
    use opensesa_app::requirements::coverage::rvtm;
    use opensesa_domain::requirements::Transition;
    let c = setup(b).await;
    let app = &c.t.app;
    let project = app
        .store
        .find_project_by_code("ALPHA")
        .await
        .unwrap()
        .unwrap()
        .id;
    // Serves both pages, checks them against a fresh computation and returns the version.
    let agrees = |step: &'static str| {
        let app = app.clone();
        let who = c.viewer.clone();
        async move {
            let version = app.store.fact_version(project).await.unwrap();
            let d = app.vv_dashboard(&who, "ALPHA").await.unwrap();
            let since = app.clock.now().date_naive()
                - Duration::days(opensesa_app::vv::dashboard::TREND_DAYS - 1);
            let fresh = app.store.dashboard(project, since).await.unwrap();
            assert_eq!(
                serde_json::to_value(&*d.facts).unwrap(),
                serde_json::to_value(&fresh).unwrap(),
                "dashboard after {step}"
            );
            let cov = app.coverage(&who, "ALPHA").await.unwrap();
            let rows = rvtm(
                &app.store.requirement_facts_light(project).await.unwrap(),
                &app.store.link_facts(project).await.unwrap(),
                &app.store.list_modules(project).await.unwrap(),
                &app.case_index(project).await.unwrap(),
            );
            assert_eq!(
                serde_json::to_value(&cov.rows).unwrap(),
                serde_json::to_value(&rows).unwrap(),
                "coverage after {step}"
            );
            // Unchanged facts: the same result, not a recomputation.
            let again = app.coverage(&who, "ALPHA").await.unwrap();
            assert!(std::sync::Arc::ptr_eq(&cov.data, &again.data), "{step}");
            let d2 = app.vv_dashboard(&who, "ALPHA").await.unwrap();
            assert!(std::sync::Arc::ptr_eq(&d.facts, &d2.facts), "{step}");
            assert_eq!(app.store.fact_version(project).await.unwrap(), version);
            version
        }
    };
    let mut version = agrees("setup").await;
    assert!(version.is_some());
    let postgres = matches!(b, Backend::Postgres);
    let mut step = |name: &'static str, v: opensesa_app::project_cache::FactVersion| {
        assert_ne!(v, version, "{name} did not change the fact version");
        if postgres {
            // One bump per transaction however many statements wrote (migration 0008).
            assert_eq!(
                v.map(|(_, n)| n),
                version.map(|(_, n)| n + 1),
                "{name}: one transaction, one bump"
            );
        }
        assert_eq!(
            v.map(|(e, _)| e),
            version.map(|(e, _)| e),
            "the epoch stays"
        );
        version = v;
    };

    app.create_requirement(
        &c.editor,
        "ALPHA",
        "SYS",
        &RequirementInput {
            title: Some("dim".into()),
            statement: Some("The system shall dim.".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    step("a new requirement", agrees("a new requirement").await);
    app.update_requirement(
        &c.editor,
        "ALPHA",
        "SYS-004",
        &RequirementInput {
            title: Some("dim lights".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    step("a requirement edit", agrees("a requirement edit").await);
    app.transition(&c.lead, "ALPHA", "SYS-003", Transition::Obsolete, None)
        .await
        .unwrap();
    step("a status change", agrees("a status change").await);
    let vc = case(&c, "Boot", "SYS-001").await;
    step("a new case", agrees("a new case").await);
    let link = app
        .create_link(&c.editor, "ALPHA", "SYS-002", "refines", "SYS-001")
        .await
        .unwrap();
    step("a new link", agrees("a new link").await);
    app.delete_link(&c.editor, "ALPHA", link.id).await.unwrap();
    step("a deleted link", agrees("a deleted link").await);
    let r = app
        .record_result(&c.editor, "ALPHA", &vc, &verdict("fail"), &[])
        .await
        .unwrap();
    step("a result", agrees("a result").await);
    let defect = app
        .create_defect(
            &c.editor,
            "ALPHA",
            &DefectInput {
                title: Some("No boot".into()),
                severity: Some("major".into()),
                ..Default::default()
            },
            Some(r.id),
            "",
            "",
        )
        .await
        .unwrap();
    step("a defect", agrees("a defect").await);
    app.move_defect(
        &c.editor,
        "ALPHA",
        &defect.human_id,
        DefectStatus::InProgress,
        None,
    )
    .await
    .unwrap();
    step("a defect status", agrees("a defect status").await);
    app.move_case(&c.editor, "ALPHA", &vc, CaseStatus::Ready)
        .await
        .unwrap();
    step("a case status", agrees("a case status").await);
    app.move_case(&c.lead, "ALPHA", &vc, CaseStatus::Retired)
        .await
        .unwrap();
    step("a retired case", agrees("a retired case").await);
    app.update_module(
        &c.lead,
        "ALPHA",
        "SYS",
        &ModuleInput {
            name: Some("System level".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    step("a module edit", agrees("a module edit").await);
    let cov = app.coverage(&c.viewer, "ALPHA").await.unwrap();
    assert_eq!(cov.modules[0].0.name, "System level");
}

both!(
    dashboard_and_coverage_follow_every_write,
    demo_and_generator_make_consistent_vv_data,
    plan_case_and_defect_machines,
    results_are_immutable_and_superseded_with_reason,
    evidence_limits_and_checksums,
    defect_closing_rule,
    snapshots_freeze_and_compare,
    junit_imports_real_reports,
    rvtm_verification_status_follows_latest_results,
);
