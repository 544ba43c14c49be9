//! Requirements management through the use cases, on both backends: ids, workflow,
//! revisions, trace links with suspect propagation, cycles, review rounds, quality,
//! search and access.

use opensesa_app::ports::ReqQuery;
use opensesa_app::{AppError, Principal};
use opensesa_domain::requirements::quality::RuleId;
use opensesa_domain::requirements::{ModuleInput, ReqStatus, RequirementInput, Transition};
use opensesa_testkit::{Backend, TestApp};

struct Ctx {
    t: TestApp,
    lead: Principal,
    editor: Principal,
    viewer: Principal,
    outsider: Principal,
}

async fn setup(b: Backend) -> Ctx {
    let t = TestApp::start(b).await;
    let p = |user| Principal {
        user,
        session: None,
    };
    let lead = p(t.user("lena@example.org", false).await);
    let editor = p(t.user("emil@example.org", false).await);
    let viewer = p(t.user("vera@example.org", false).await);
    let outsider = p(t.user("olga@example.org", false).await);
    t.project(
        "ALPHA",
        &[
            ("lena@example.org", "lead"),
            ("emil@example.org", "editor"),
            ("vera@example.org", "viewer"),
        ],
    )
    .await;
    t.project("BRAVO", &[("olga@example.org", "lead")]).await;
    for (code, who, prefix, parent) in [
        ("ALPHA", &lead, "SYS", None),
        ("ALPHA", &lead, "SW", Some("SYS")),
        ("BRAVO", &outsider, "SYS", None),
    ] {
        t.app
            .create_module(
                who,
                code,
                &ModuleInput {
                    prefix: Some(prefix.into()),
                    name: Some(format!("{prefix} requirements")),
                    parent: parent.map(str::to_owned),
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
        outsider,
    }
}

fn input(title: &str, statement: &str) -> RequirementInput {
    RequirementInput {
        title: Some(title.into()),
        statement: Some(statement.into()),
        rationale: Some("Mission need.".into()),
        verification_methods: Some("test".into()),
        ..Default::default()
    }
}

async fn req(c: &Ctx, prefix: &str, title: &str) -> String {
    c.t.app
        .create_requirement(
            &c.editor,
            "ALPHA",
            prefix,
            &input(title, &format!("The system shall {title}.")),
        )
        .await
        .unwrap()
        .human_id
}

async fn ids_are_sequential_and_distinct_under_concurrency(b: Backend) {
    let c = setup(b).await;
    assert_eq!(req(&c, "SYS", "boot").await, "SYS-001");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let app = c.t.app.clone();
        let who = c.editor.clone();
        tasks.push(tokio::spawn(async move {
            app.create_requirement(
                &who,
                "ALPHA",
                "SYS",
                &input(
                    &format!("task {i}"),
                    &format!("The system shall do task {i}."),
                ),
            )
            .await
            .map(|r| r.human_id)
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16, "every concurrent creation gets its own id");
    // No gaps: 001 then 002..=017.
    let expected: Vec<String> = (2..=17).map(|n| format!("SYS-{n:03}")).collect();
    assert_eq!(ids, expected);
    // A refused creation leaves no gap either.
    let bad =
        c.t.app
            .create_requirement(&c.editor, "ALPHA", "SYS", &RequirementInput::default())
            .await;
    assert!(matches!(bad, Err(AppError::Validation(_))));
    assert_eq!(req(&c, "SYS", "after").await, "SYS-018");
}

async fn workflow_and_only_leads_approve(b: Backend) {
    let c = setup(b).await;
    let id = req(&c, "SYS", "hold attitude").await;
    let app = &c.t.app;
    // Illegal steps are refused with a reason.
    let err = app
        .transition(&c.lead, "ALPHA", &id, Transition::Approve, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("draft")),
        "{err:?}"
    );
    app.transition(&c.editor, "ALPHA", &id, Transition::Submit, None)
        .await
        .unwrap();
    let err = app
        .transition(&c.editor, "ALPHA", &id, Transition::Approve, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    let err = app
        .transition(&c.viewer, "ALPHA", &id, Transition::Withdraw, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    let r = app
        .transition(
            &c.lead,
            "ALPHA",
            &id,
            Transition::Approve,
            Some("ok".into()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, ReqStatus::Approved);
    assert_eq!(r.approved_revision, Some(1));
    // Editing the approved requirement opens revision 2 in draft; revision 1 stays approved
    // and readable.
    let edited = app
        .update_requirement(
            &c.editor,
            "ALPHA",
            &id,
            &RequirementInput {
                statement: Some("The system shall hold attitude within 0.1 deg.".into()),
                ..Default::default()
            },
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(edited.revision, 2);
    assert_eq!(edited.status, ReqStatus::Draft);
    assert_eq!(edited.approved_revision, Some(1));
    let detail = app
        .requirement_detail(&c.viewer, "ALPHA", &id)
        .await
        .unwrap();
    assert_eq!(detail.revisions.len(), 2);
    assert!(detail.revisions[0].data["statement"]
        .as_str()
        .unwrap()
        .ends_with("hold attitude."));
    let (_, diff) = app
        .requirement_diff(&c.viewer, "ALPHA", &id, 1, 2)
        .await
        .unwrap();
    assert!(diff
        .iter()
        .any(|d| d.field == "statement" && d.new.contains("0.1 deg")));
    // A save over a stale revision is refused.
    let stale = app
        .update_requirement(&c.editor, "ALPHA", &id, &input("x", "y"), Some(1))
        .await;
    assert!(matches!(stale, Err(AppError::Conflict(_))));
    // Obsolete: leads only; then edits are refused until reinstated.
    assert!(matches!(
        app.transition(&c.editor, "ALPHA", &id, Transition::Obsolete, None)
            .await,
        Err(AppError::Forbidden(_))
    ));
    app.transition(&c.lead, "ALPHA", &id, Transition::Obsolete, None)
        .await
        .unwrap();
    assert!(matches!(
        app.update_requirement(&c.editor, "ALPHA", &id, &input("x", "y"), None)
            .await,
        Err(AppError::Conflict(_))
    ));
    // Every transition is in the audit trail of the requirement.
    let detail = app.requirement_detail(&c.lead, "ALPHA", &id).await.unwrap();
    let transitions = detail
        .audit
        .iter()
        .filter(|e| e.action.as_str() == "transition")
        .count();
    assert_eq!(transitions, 3);
}

async fn suspect_links_propagate_and_clear_with_audit(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let top = req(&c, "SYS", "top").await;
    let mid = req(&c, "SW", "mid").await;
    let leaf = req(&c, "SW", "leaf").await;
    let other = req(&c, "SW", "other").await;
    // mid derives from top; leaf derives from mid; other relates to top.
    app.create_link(&c.editor, "ALPHA", &mid, "derives", &top)
        .await
        .unwrap();
    app.create_link(&c.editor, "ALPHA", &leaf, "derives", &mid)
        .await
        .unwrap();
    app.create_link(&c.editor, "ALPHA", &other, "relates", &top)
        .await
        .unwrap();
    assert!(suspect_links(app, &c.lead).await.is_empty());
    // Editing the upstream end: its direct links and, along derives, the one below.
    app.update_requirement(
        &c.editor,
        "ALPHA",
        &top,
        &input("top", "The system shall change."),
        None,
    )
    .await
    .unwrap();
    let links = suspect_links(app, &c.lead).await;
    let mut pairs: Vec<(String, String, bool)> = links
        .iter()
        .map(|l| {
            (
                l.source_human_id.clone(),
                l.target_human_id.clone(),
                l.link.suspect_reasons[0].propagated,
            )
        })
        .collect();
    pairs.sort();
    let mut expected = vec![
        (leaf.clone(), mid.clone(), true),
        (mid.clone(), top.clone(), false),
        (other.clone(), top.clone(), false),
    ];
    expected.sort();
    assert_eq!(pairs, expected);
    let direct = links.iter().find(|l| l.source_human_id == mid).unwrap();
    let reason = &direct.link.suspect_reasons[0];
    assert_eq!(
        (
            reason.end.as_str(),
            reason.from_revision,
            reason.to_revision
        ),
        ("target", 1, 2)
    );
    // Clearing needs a reason and is audited.
    let ids: Vec<_> = links.iter().map(|l| l.link.id).collect();
    assert!(matches!(
        app.clear_suspect(&c.editor, "ALPHA", &ids, "  ").await,
        Err(AppError::Validation(_))
    ));
    assert!(matches!(
        app.clear_suspect(&c.viewer, "ALPHA", &ids, "fine").await,
        Err(AppError::Forbidden(_))
    ));
    assert_eq!(
        app.clear_suspect(&c.editor, "ALPHA", &ids, "checked: still holds")
            .await
            .unwrap(),
        3
    );
    assert!(suspect_links(app, &c.lead).await.is_empty());
    let page = app
        .project_audit(
            &c.lead,
            "ALPHA",
            &opensesa_app::audit::AuditFilter {
                action: Some(opensesa_domain::audit::Action::Clear),
                ..Default::default()
            },
            100,
            0,
        )
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.events[0].reason.as_deref(),
        Some("checked: still holds")
    );
    // Editing the downstream end makes only its own link suspect.
    app.update_requirement(
        &c.editor,
        "ALPHA",
        &leaf,
        &input("leaf", "The system shall leaf again."),
        None,
    )
    .await
    .unwrap();
    let links = suspect_links(app, &c.lead).await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].source_human_id, leaf);
    assert_eq!(links[0].link.suspect_reasons[0].end, "source");
    // Confirming records the ends' current revisions.
    app.clear_suspect(&c.editor, "ALPHA", &[links[0].link.id], "ok")
        .await
        .unwrap();
    let (_, all, _) = app
        .project_links(&c.lead, "ALPHA", false, 100, 0)
        .await
        .unwrap();
    let l = all.iter().find(|l| l.source_human_id == leaf).unwrap();
    assert_eq!((l.link.source_revision, l.link.target_revision), (2, 1));
}

async fn suspect_links(
    app: &opensesa_app::App,
    who: &Principal,
) -> Vec<opensesa_app::ports::LinkView> {
    let (_, links, _) = app.project_links(who, "ALPHA", true, 100, 0).await.unwrap();
    links
}

async fn link_rules_self_duplicate_cycle(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let a = req(&c, "SYS", "a").await;
    let b_ = req(&c, "SYS", "b").await;
    let d = req(&c, "SYS", "d").await;
    assert!(matches!(
        app.create_link(&c.editor, "ALPHA", &a, "derives", &a).await,
        Err(AppError::Validation(_))
    ));
    assert!(matches!(
        app.create_link(&c.editor, "ALPHA", &a, "blocks", &b_).await,
        Err(AppError::Validation(_))
    ));
    app.create_link(&c.editor, "ALPHA", &a, "derives", &b_)
        .await
        .unwrap();
    let dup = app
        .create_link(&c.editor, "ALPHA", &a, "derives", &b_)
        .await;
    assert!(
        matches!(dup, Err(AppError::Conflict(ref m)) if m.contains("exists")),
        "{dup:?}"
    );
    app.create_link(&c.editor, "ALPHA", &b_, "refines", &d)
        .await
        .unwrap();
    // d → a would close a → b → d → a through hierarchy kinds.
    let cycle = app.create_link(&c.editor, "ALPHA", &d, "derives", &a).await;
    assert!(
        matches!(cycle, Err(AppError::Conflict(ref m)) if m.contains("cycle")),
        "{cycle:?}"
    );
    // A non-hierarchical kind may point back.
    app.create_link(&c.editor, "ALPHA", &d, "relates", &a)
        .await
        .unwrap();
    // Parent cycles are refused as well.
    app.update_requirement(
        &c.editor,
        "ALPHA",
        &b_,
        &RequirementInput {
            parent: Some(a.clone()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    let err = app
        .update_requirement(
            &c.editor,
            "ALPHA",
            &a,
            &RequirementInput {
                parent: Some(b_.clone()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Validation(ref e) if e.get("parent").is_some()),
        "{err:?}"
    );
    // Cross-project: the other project's requirement is not found.
    let err = app
        .create_link(&c.editor, "ALPHA", &a, "derives", "SYS-999")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation(ref e) if e.get("target").is_some()));
}

async fn access_viewer_and_other_projects(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let id = req(&c, "SYS", "guarded").await;
    assert!(matches!(
        app.create_requirement(
            &c.viewer,
            "ALPHA",
            "SYS",
            &input("v", "The system shall v.")
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.update_requirement(&c.viewer, "ALPHA", &id, &input("v", "v"), None)
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.bulk_edit(
            &c.viewer,
            "ALPHA",
            std::slice::from_ref(&id),
            &input("v", "v")
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
    // A non-member sees nothing of the project.
    assert!(matches!(
        app.requirement_detail(&c.outsider, "ALPHA", &id).await,
        Err(AppError::NotFound)
    ));
    // BRAVO has its own SYS-001; ALPHA's id does not reach into it.
    app.create_requirement(
        &c.outsider,
        "BRAVO",
        "SYS",
        &input("b", "The system shall b."),
    )
    .await
    .unwrap();
    assert!(matches!(
        app.requirement_detail(&c.lead, "BRAVO", "SYS-001").await,
        Err(AppError::NotFound)
    ));
    let bravo = app
        .requirement_detail(&c.outsider, "BRAVO", "SYS-001")
        .await
        .unwrap();
    assert_eq!(bravo.req.title, "b");
    // Only leads create modules.
    assert!(matches!(
        app.create_module(
            &c.editor,
            "ALPHA",
            &ModuleInput {
                prefix: Some("X".into()),
                name: Some("X".into()),
                ..Default::default()
            }
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
}

async fn bulk_edit_is_all_or_nothing(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let a = req(&c, "SYS", "a").await;
    let b_ = req(&c, "SYS", "b").await;
    let n = app
        .bulk_edit(
            &c.editor,
            "ALPHA",
            &[a.clone(), b_.clone()],
            &RequirementInput {
                priority: Some("high".into()),
                owner: Some("AOCS team".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    let bad = app
        .bulk_edit(
            &c.editor,
            "ALPHA",
            &[a.clone(), "SYS-404".into()],
            &RequirementInput {
                priority: Some("low".into()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(bad, Err(AppError::Validation(_))));
    let bad = app
        .bulk_edit(
            &c.editor,
            "ALPHA",
            std::slice::from_ref(&a),
            &RequirementInput {
                priority: Some("urgent".into()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(bad, Err(AppError::Validation(ref e)) if e.get("priority").is_some()));
    let (_, page) = app
        .list_requirements(
            &c.viewer,
            "ALPHA",
            ReqQuery {
                priority: Some("high".into()),
                owner: Some("AOCS team".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert!(page.rows.iter().all(|r| r.req.revision == 2));
}

async fn review_round_decisions_survive_edits(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let a = req(&c, "SYS", "a").await;
    let b_ = req(&c, "SYS", "b").await;
    let round = app
        .open_round(
            &c.lead,
            "ALPHA",
            "PDR batch 1",
            &[a.clone(), b_.clone()],
            &[c.editor.user.id, c.lead.user.id],
        )
        .await
        .unwrap();
    // Only leads open rounds; reviewers must be members.
    assert!(matches!(
        app.open_round(
            &c.editor,
            "ALPHA",
            "x",
            std::slice::from_ref(&a),
            &[c.editor.user.id]
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
    for who in [&c.editor, &c.lead] {
        app.record_decision(who, "ALPHA", round, &a, "approve", "")
            .await
            .unwrap();
    }
    app.record_decision(&c.editor, "ALPHA", round, &b_, "reject", "ambiguous")
        .await
        .unwrap();
    assert!(matches!(
        app.record_decision(&c.viewer, "ALPHA", round, &a, "approve", "")
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.record_decision(&c.editor, "ALPHA", round, &b_, "reject", "")
            .await,
        Err(AppError::Validation(_))
    ));
    // A comment and a bulk edit during the round keep the decisions.
    app.add_comment(&c.viewer, "ALPHA", &b_, "Which mode?", None)
        .await
        .unwrap();
    app.bulk_edit(
        &c.editor,
        "ALPHA",
        std::slice::from_ref(&b_),
        &RequirementInput {
            owner: Some("Ops".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, detail) = app.review_round(&c.viewer, "ALPHA", round).await.unwrap();
    assert_eq!(detail.decisions.len(), 3);
    let item_b = detail.items.iter().find(|i| i.human_id == b_).unwrap();
    assert_eq!((item_b.revision, item_b.current_revision), (1, 2));
    assert!(matches!(
        app.close_round(&c.editor, "ALPHA", round, true, "").await,
        Err(AppError::Forbidden(_))
    ));
    app.close_round(&c.lead, "ALPHA", round, true, "done")
        .await
        .unwrap();
    let status = |h: String| {
        let app = app.clone();
        let lead = c.lead.clone();
        async move {
            app.requirement_detail(&lead, "ALPHA", &h)
                .await
                .unwrap()
                .req
                .status
        }
    };
    assert_eq!(status(a.clone()).await, ReqStatus::Approved);
    // b's rejection was made on revision 1; it was edited since, so the round leaves it
    // undecided (in review) rather than rejecting the new text.
    assert_eq!(status(b_.clone()).await, ReqStatus::InReview);
    let detail = app.requirement_detail(&c.lead, "ALPHA", &b_).await.unwrap();
    assert_eq!(detail.comments.len(), 1);
    assert_eq!(detail.rounds.len(), 1);
    assert!(matches!(
        app.close_round(&c.lead, "ALPHA", round, true, "").await,
        Err(AppError::Conflict(_))
    ));
}

async fn quality_findings_and_rule_switches(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let weak = app
        .create_requirement(
            &c.editor,
            "ALPHA",
            "SW",
            &RequirementInput {
                title: Some("Weak".into()),
                statement: Some("The software should respond quickly, TBD.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let detail = app
        .requirement_detail(&c.viewer, "ALPHA", &weak.human_id)
        .await
        .unwrap();
    let rules: Vec<RuleId> = detail.findings.iter().map(|f| f.rule).collect();
    for r in [
        RuleId::WeakWord,
        RuleId::Tbd,
        RuleId::MissingVerification,
        RuleId::MissingRationale,
        RuleId::Orphan,
        RuleId::Untraced,
    ] {
        assert!(rules.contains(&r), "{r:?} missing from {rules:?}");
    }
    // An exact duplicate is found on save.
    let first = req(&c, "SYS", "log events").await;
    let dup = app
        .create_requirement(
            &c.editor,
            "ALPHA",
            "SYS",
            &input("again", "The SYSTEM shall log events"),
        )
        .await
        .unwrap();
    let d = app
        .requirement_detail(&c.viewer, "ALPHA", &dup.human_id)
        .await
        .unwrap();
    let f = d
        .findings
        .iter()
        .find(|f| f.rule == RuleId::Duplicate)
        .unwrap();
    assert!(f.message.contains(&first), "{}", f.message);
    // The project report finds both ends of the duplicate and scores modules.
    let report = app.quality_report(&c.viewer, "ALPHA", None).await.unwrap();
    assert!(report
        .items
        .iter()
        .any(|i| i.human_id == first && i.findings.iter().any(|f| f.rule == RuleId::Duplicate)));
    let sw = report
        .modules
        .iter()
        .find(|m| m.module.prefix == "SW")
        .unwrap();
    assert!(sw.score < 100);
    // Switching rules off is a lead's decision and takes effect at once.
    assert!(matches!(
        app.set_quality_rules(&c.editor, "ALPHA", &["weak_word".into()])
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.set_quality_rules(&c.lead, "ALPHA", &["nonsense".into()])
            .await,
        Err(AppError::Validation(_))
    ));
    app.set_quality_rules(&c.lead, "ALPHA", &["weak_word".into(), "untraced".into()])
        .await
        .unwrap();
    let detail = app
        .requirement_detail(&c.viewer, "ALPHA", &weak.human_id)
        .await
        .unwrap();
    assert!(detail
        .findings
        .iter()
        .all(|f| f.rule != RuleId::WeakWord && f.rule != RuleId::Untraced));
}

async fn search_ranks_and_highlights(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let gyro = app
        .create_requirement(
            &c.editor,
            "ALPHA",
            "SYS",
            &input(
                "Gyroscope calibration",
                "The gyroscope bias shall be estimated on orbit.",
            ),
        )
        .await
        .unwrap();
    let other = app
        .create_requirement(
            &c.editor,
            "ALPHA",
            "SYS",
            &input("Power", "The battery shall supply the gyroscope heater."),
        )
        .await
        .unwrap();
    app.add_comment(
        &c.viewer,
        "ALPHA",
        &other.human_id,
        "Check the magnetorquer sizing",
        None,
    )
    .await
    .unwrap();
    let (_, hits) = app
        .search_requirements(&c.viewer, "ALPHA", "gyroscope", 20)
        .await
        .unwrap();
    assert_eq!(hits.len(), 2);
    // The title match ranks first.
    assert_eq!(hits[0].human_id, gyro.human_id);
    assert!(hits[0].snippet.contains("[[") && hits[0].snippet.to_lowercase().contains("gyroscope"));
    // Comments are searchable; ids too; prefixes match; operators are plain words.
    let (_, hits) = app
        .search_requirements(&c.viewer, "ALPHA", "magnetorq", 20)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].human_id, other.human_id);
    let (_, hits) = app
        .search_requirements(&c.viewer, "ALPHA", &gyro.human_id, 20)
        .await
        .unwrap();
    assert_eq!(
        hits.first().map(|h| h.human_id.clone()),
        Some(gyro.human_id.clone())
    );
    let (_, hits) = app
        .search_requirements(&c.viewer, "ALPHA", "\"NEAR( OR *", 20)
        .await
        .unwrap();
    assert!(hits.is_empty());
    // The table's full-text filter uses the same index; edits are re-indexed.
    app.update_requirement(
        &c.editor,
        "ALPHA",
        &gyro.human_id,
        &input("Star tracker", "The star tracker shall deliver attitude."),
        None,
    )
    .await
    .unwrap();
    let (_, page) = app
        .list_requirements(
            &c.viewer,
            "ALPHA",
            ReqQuery {
                text: Some("gyroscope".into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].req.human_id, other.human_id);
    // Another project's text is not found.
    let (_, hits) = app
        .search_requirements(&c.outsider, "BRAVO", "battery", 20)
        .await
        .unwrap();
    assert!(hits.is_empty());
}

async fn coverage_counts_links_and_parents(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let top = req(&c, "SYS", "top").await;
    let child = req(&c, "SW", "child").await;
    let orphan = req(&c, "SW", "orphan").await;
    app.create_link(&c.editor, "ALPHA", &child, "derives", &top)
        .await
        .unwrap();
    let cov = app.coverage(&c.viewer, "ALPHA").await.unwrap();
    let row = |h: &str| cov.rows.iter().find(|r| r.human_id == h).unwrap();
    assert!(row(&top).down_covered() && row(&top).up_covered());
    assert!(row(&child).up_covered() && !row(&child).down_covered());
    assert!(row(&orphan).orphan() && row(&orphan).untraced());
    assert_eq!(cov.project.requirements, 3);
    assert_eq!(cov.project.up_applicable, 2);
    assert_eq!(cov.project.up_covered, 1);
}

both!(
    ids_are_sequential_and_distinct_under_concurrency,
    workflow_and_only_leads_approve,
    suspect_links_propagate_and_clear_with_audit,
    link_rules_self_duplicate_cycle,
    access_viewer_and_other_projects,
    bulk_edit_is_all_or_nothing,
    review_round_decisions_survive_edits,
    quality_findings_and_rule_switches,
    search_ranks_and_highlights,
    coverage_counts_links_and_parents,
);
