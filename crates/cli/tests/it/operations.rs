//! Operations readiness through the use cases and the pages, on both backends: the item and
//! milestone state machines with their refused steps, dependency cycles refused with nothing
//! written, the critical path and late items on hand-made plans, the gating rule and a lead's
//! override, what viewers and outsiders get, the dashboard and its SVG, the demo plan and the
//! generator.

use chrono::Duration;
use opensesa_app::{AppError, Principal};
use opensesa_domain::operations::{ItemInput, ItemStatus, MilestoneInput, MilestoneStatus};
use opensesa_testkit::{Backend, TestApp};

pub struct Ctx {
    pub t: TestApp,
    pub lead: Principal,
    pub editor: Principal,
    pub viewer: Principal,
    pub outsider: Principal,
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
    Ctx {
        t,
        lead,
        editor,
        viewer,
        outsider,
    }
}

pub fn item(title: &str, days: i64, due: &str) -> ItemInput {
    ItemInput {
        title: Some(title.into()),
        owner: Some("Ops team".into()),
        due_date: Some(due.into()),
        duration_days: Some(days.to_string()),
        ..Default::default()
    }
}

pub fn milestone(name: &str, target: &str) -> MilestoneInput {
    MilestoneInput {
        name: Some(name.into()),
        target_date: Some(target.into()),
        ..Default::default()
    }
}

async fn new_item(c: &Ctx, title: &str, days: i64, due: &str) -> String {
    c.t.app
        .create_ops_item(&c.editor, "ALPHA", &item(title, days, due))
        .await
        .unwrap()
        .human_id
}

fn conflict(r: Result<impl std::fmt::Debug, AppError>) -> String {
    match r {
        Err(AppError::Conflict(why)) => why,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn item_and_milestone_machines(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let i = app
        .create_ops_item(
            &c.editor,
            "ALPHA",
            &item("Write procedures", 5, "2026-07-01"),
        )
        .await
        .unwrap();
    assert_eq!(
        (i.human_id.as_str(), i.status),
        ("OPS-001", ItemStatus::Open)
    );
    // Refused steps: open → done skips the work; a viewer moves nothing.
    let why = conflict(
        app.move_ops_item(&c.editor, "ALPHA", "OPS-001", ItemStatus::Done)
            .await,
    );
    assert!(why.contains("cannot go from open to done"), "{why}");
    assert!(matches!(
        app.move_ops_item(&c.viewer, "ALPHA", "OPS-001", ItemStatus::InProgress)
            .await,
        Err(AppError::Forbidden(_))
    ));
    for to in [
        ItemStatus::Blocked,
        ItemStatus::InProgress,
        ItemStatus::Blocked,
        ItemStatus::Open,
        ItemStatus::InProgress,
        ItemStatus::Done,
    ] {
        let i = app
            .move_ops_item(&c.editor, "ALPHA", "OPS-001", to)
            .await
            .unwrap();
        assert_eq!(i.status, to);
    }
    let done = app
        .ops_item_detail(&c.lead, "ALPHA", "OPS-001")
        .await
        .unwrap();
    assert!(done.item.done_at.is_some());
    assert_eq!(done.next, vec![ItemStatus::Open], "a lead may reopen");
    // Reopening a done item is a lead's step.
    assert!(matches!(
        app.move_ops_item(&c.editor, "ALPHA", "OPS-001", ItemStatus::Open)
            .await,
        Err(AppError::Forbidden(_))
    ));
    let why = conflict(
        app.move_ops_item(&c.lead, "ALPHA", "OPS-001", ItemStatus::Blocked)
            .await,
    );
    assert!(why.contains("from done the next states are: open"), "{why}");
    let i = app
        .move_ops_item(&c.lead, "ALPHA", "OPS-001", ItemStatus::Open)
        .await
        .unwrap();
    assert!(i.done_at.is_none());

    // Edits are revisions; a stale revision is a conflict; bad input names the field.
    let i = app
        .update_ops_item(
            &c.editor,
            "ALPHA",
            "OPS-001",
            &ItemInput {
                owner: Some("Flight control".into()),
                ..Default::default()
            },
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(i.revision, 2);
    conflict(
        app.update_ops_item(
            &c.editor,
            "ALPHA",
            "OPS-001",
            &ItemInput {
                owner: Some("x".into()),
                ..Default::default()
            },
            Some(1),
        )
        .await,
    );
    match app
        .create_ops_item(
            &c.editor,
            "ALPHA",
            &ItemInput {
                title: Some("T".into()),
                duration_days: Some("zero".into()),
                due_date: Some("31/12/2026".into()),
                ..Default::default()
            },
        )
        .await
    {
        Err(AppError::Validation(e)) => {
            assert!(
                e.get("duration_days").is_some() && e.get("due_date").is_some(),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    let d = app
        .ops_item_detail(&c.viewer, "ALPHA", "OPS-001")
        .await
        .unwrap();
    assert_eq!(d.revisions.len(), 2);
    assert!(d.next.is_empty(), "a viewer has no steps");
    // A viewer cannot write; another project's item is not found.
    assert!(matches!(
        app.create_ops_item(&c.viewer, "ALPHA", &item("x", 1, ""))
            .await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.ops_item_detail(&c.outsider, "ALPHA", "OPS-001").await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.ops_item_detail(&c.outsider, "BRAVO", "OPS-001").await,
        Err(AppError::NotFound)
    ));

    // Milestones: planned ⇄ at risk; missed only after the target date; a lead reopens.
    let m = app
        .create_milestone(&c.lead, "ALPHA", &milestone("ORR", "2026-06-10"), "")
        .await
        .unwrap();
    assert_eq!(
        (m.human_id.as_str(), m.status),
        ("MS-001", MilestoneStatus::Planned)
    );
    assert!(matches!(
        app.create_milestone(&c.viewer, "ALPHA", &milestone("x", "2026-06-10"), "")
            .await,
        Err(AppError::Forbidden(_))
    ));
    match app
        .create_milestone(&c.lead, "ALPHA", &milestone("x", ""), "OPS-404")
        .await
    {
        Err(AppError::Validation(e)) => assert!(e.get("target_date").is_some(), "{e}"),
        other => panic!("{other:?}"),
    }
    for to in [
        MilestoneStatus::AtRisk,
        MilestoneStatus::Planned,
        MilestoneStatus::AtRisk,
    ] {
        app.move_milestone(&c.editor, "ALPHA", "MS-001", to, None)
            .await
            .unwrap();
    }
    let why = conflict(
        app.move_milestone(&c.editor, "ALPHA", "MS-001", MilestoneStatus::Missed, None)
            .await,
    );
    assert!(why.contains("before its target date 2026-06-10"), "{why}");
    c.t.clock.advance(Duration::days(10));
    let m = app
        .move_milestone(&c.editor, "ALPHA", "MS-001", MilestoneStatus::Missed, None)
        .await
        .unwrap();
    assert_eq!(m.status, MilestoneStatus::Missed);
    conflict(
        app.move_milestone(&c.lead, "ALPHA", "MS-001", MilestoneStatus::Achieved, None)
            .await,
    );
    assert!(matches!(
        app.move_milestone(&c.editor, "ALPHA", "MS-001", MilestoneStatus::Planned, None)
            .await,
        Err(AppError::Forbidden(_))
    ));
    app.move_milestone(&c.lead, "ALPHA", "MS-001", MilestoneStatus::Planned, None)
        .await
        .unwrap();
    let m = app
        .update_milestone(
            &c.editor,
            "ALPHA",
            "MS-001",
            &milestone("ORR (replanned)", "2026-07-01"),
            Some("OPS-001"),
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!((m.revision, m.gates.len()), (2, 1));
    let m = app
        .milestone_detail(&c.viewer, "ALPHA", "MS-001")
        .await
        .unwrap();
    assert_eq!(m.revisions.len(), 2);
    assert_eq!(m.gates[0].human_id, "OPS-001");
    // Requirement modules may not take the operations prefixes.
    match app
        .create_module(
            &c.lead,
            "ALPHA",
            &opensesa_domain::requirements::ModuleInput {
                prefix: Some("OPS".into()),
                name: Some("Ops".into()),
                ..Default::default()
            },
        )
        .await
    {
        Err(AppError::Validation(e)) => assert!(e.to_string().contains("reserved"), "{e}"),
        other => panic!("{other:?}"),
    }
}

async fn dependency_cycles_are_refused_with_nothing_written(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    for t in ["A", "B", "C", "D"] {
        new_item(&c, t, 1, "").await;
    }
    app.create_milestone(&c.lead, "ALPHA", &milestone("Go", "2026-09-01"), "OPS-003")
        .await
        .unwrap();
    app.add_ops_dependency(&c.editor, "ALPHA", "OPS-001", "OPS-002")
        .await
        .unwrap();
    app.add_ops_dependency(&c.editor, "ALPHA", "ops-002", " OPS-003 ")
        .await
        .unwrap();
    let before = app
        .project_audit(&c.lead, "ALPHA", &Default::default(), 500, 0)
        .await
        .unwrap()
        .events
        .len();
    // Direct: B → A against A → B.
    let why = conflict(
        app.add_ops_dependency(&c.editor, "ALPHA", "OPS-002", "OPS-001")
            .await,
    );
    assert_eq!(
        why,
        "OPS-002 → OPS-001 would close a cycle: OPS-002 → OPS-001 → OPS-002"
    );
    // Longer: C → A closes A → B → C.
    let why = conflict(
        app.add_ops_dependency(&c.editor, "ALPHA", "OPS-003", "OPS-001")
            .await,
    );
    assert_eq!(
        why,
        "OPS-003 → OPS-001 would close a cycle: OPS-003 → OPS-001 → OPS-002 → OPS-003"
    );
    // Through a gating edge: OPS-003 gates MS-001, so MS-001 → OPS-001 closes a cycle.
    let why = conflict(
        app.add_ops_dependency(&c.editor, "ALPHA", "MS-001", "OPS-001")
            .await,
    );
    assert!(
        why.ends_with("MS-001 → OPS-001 → OPS-002 → OPS-003 → MS-001"),
        "{why}"
    );
    // Self and duplicate.
    match app
        .add_ops_dependency(&c.editor, "ALPHA", "OPS-004", "OPS-004")
        .await
    {
        Err(AppError::Validation(e)) => {
            assert!(e.to_string().contains("cannot depend on itself"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let why = conflict(
        app.add_ops_dependency(&c.editor, "ALPHA", "OPS-001", "OPS-002")
            .await,
    );
    assert_eq!(why, "OPS-002 already depends on OPS-001");
    // Unknown ends and another project's ids name the field.
    match app
        .add_ops_dependency(&c.editor, "ALPHA", "OPS-404", "REQ-1")
        .await
    {
        Err(AppError::Validation(e)) => {
            assert!(
                e.get("predecessor").is_some() && e.get("successor").is_some(),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    // A gate that would close a cycle is refused too: MS-002 → OPS-004, then OPS-004 gating it.
    app.create_milestone(&c.lead, "ALPHA", &milestone("Later", "2026-10-01"), "")
        .await
        .unwrap();
    app.add_ops_dependency(&c.editor, "ALPHA", "MS-002", "OPS-004")
        .await
        .unwrap();
    let why = conflict(
        app.update_milestone(
            &c.editor,
            "ALPHA",
            "MS-002",
            &MilestoneInput::default(),
            Some("OPS-004"),
            None,
        )
        .await,
    );
    assert!(why.ends_with("OPS-004 → MS-002 → OPS-004"), "{why}");
    // Nothing of the refused writes is stored: two dependencies and the later ones only.
    let (_, deps) = app.list_ops_dependencies(&c.viewer, "ALPHA").await.unwrap();
    let pairs: Vec<(String, String)> = deps
        .iter()
        .map(|d| (d.predecessor.0.clone(), d.successor.0.clone()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("MS-002".into(), "OPS-004".into()),
            ("OPS-001".into(), "OPS-002".into()),
            ("OPS-002".into(), "OPS-003".into()),
        ]
    );
    let m2 = app
        .milestone_detail(&c.lead, "ALPHA", "MS-002")
        .await
        .unwrap();
    assert!(m2.milestone.gates.is_empty() && m2.milestone.revision == 1);
    let after = app
        .project_audit(&c.lead, "ALPHA", &Default::default(), 500, 0)
        .await
        .unwrap()
        .events;
    assert_eq!(
        after.len(),
        before + 2,
        "only the milestone and the dependency"
    );
    // A viewer may not add or remove; removing is audited.
    assert!(matches!(
        app.add_ops_dependency(&c.viewer, "ALPHA", "OPS-003", "OPS-004")
            .await,
        Err(AppError::Forbidden(_))
    ));
    let id = deps[1].dependency.id;
    assert!(matches!(
        app.remove_ops_dependency(&c.viewer, "ALPHA", id).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(
        app.remove_ops_dependency(&c.outsider, "BRAVO", id).await,
        Err(AppError::NotFound)
    ));
    app.remove_ops_dependency(&c.editor, "ALPHA", id)
        .await
        .unwrap();
    // With A → B gone, B → A is fine.
    app.add_ops_dependency(&c.editor, "ALPHA", "OPS-002", "OPS-001")
        .await
        .unwrap();
}

/// The plan of the domain's unit test, built through the use cases: A 3 d, B 2 d, C 5 d
/// (done), D 4 d, E 1 d; A → B → M1, C → D → M1, A → D, E → M1 (gating); M1 on 2026-06-08.
async fn critical_path_and_late_items_on_a_hand_made_plan(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    for (t, d, due) in [
        ("A", 3, "2026-06-05"),
        ("B", 2, ""),
        ("C", 5, ""),
        ("D", 4, "2026-06-20"),
        ("E", 1, ""),
    ] {
        new_item(&c, t, d, due).await;
    }
    app.create_milestone(&c.lead, "ALPHA", &milestone("M1", "2026-06-08"), "OPS-005")
        .await
        .unwrap();
    for (p, s) in [
        ("OPS-001", "OPS-002"),
        ("OPS-002", "MS-001"),
        ("OPS-003", "OPS-004"),
        ("OPS-004", "MS-001"),
        ("OPS-001", "OPS-004"),
    ] {
        app.add_ops_dependency(&c.editor, "ALPHA", p, s)
            .await
            .unwrap();
    }
    for to in [ItemStatus::InProgress, ItemStatus::Done] {
        app.move_ops_item(&c.editor, "ALPHA", "OPS-003", to)
            .await
            .unwrap();
    }
    // Today is 2026-06-01 on the test clock.
    let d = app
        .milestone_detail(&c.viewer, "ALPHA", "MS-001")
        .await
        .unwrap();
    let cp = d.plan.critical_path(d.node).unwrap();
    let labels: Vec<&str> = cp
        .nodes
        .iter()
        .map(|n| d.plan.graph.nodes[*n].label.as_str())
        .collect();
    assert_eq!(labels, vec!["OPS-001", "OPS-004", "MS-001"]);
    assert_eq!(cp.days, 7);
    assert_eq!(
        d.plan.earliest[d.node].map(|x| x.to_string()).as_deref(),
        Some("2026-06-08")
    );
    let late: Vec<(String, String)> = d
        .plan
        .late
        .iter()
        .map(|l| {
            (
                d.plan.graph.nodes[l.item].label.clone(),
                d.plan.late_reason(l),
            )
        })
        .collect();
    assert_eq!(
        late,
        vec![(
            "OPS-004".to_owned(),
            "due 2026-06-20 after MS-001's target date 2026-06-08".to_owned()
        )]
    );
    // Five days on, the chain A → D no longer fits: B and D are forecast late.
    c.t.clock.advance(Duration::days(5));
    let dash = app.operations_dashboard(&c.viewer, "ALPHA").await.unwrap();
    let late: Vec<(String, String)> = dash
        .plan
        .late
        .iter()
        .map(|l| {
            (
                dash.plan.graph.nodes[l.item].label.clone(),
                dash.plan.late_reason(l),
            )
        })
        .collect();
    assert_eq!(
        late,
        vec![
            (
                "OPS-002".to_owned(),
                "earliest finish 2026-06-10 after MS-001's target date 2026-06-08".to_owned()
            ),
            (
                "OPS-004".to_owned(),
                "due 2026-06-20 and earliest finish 2026-06-12 after MS-001's target date 2026-06-08"
                    .to_owned()
            ),
        ]
    );
    let item = app
        .ops_item_detail(&c.viewer, "ALPHA", "OPS-002")
        .await
        .unwrap();
    assert!(item.late.is_some());
    // The burn-down: five items created on June 1, one done: 4 open since.
    assert_eq!(dash.burndown.last().map(|(_, n)| *n), Some(4));
}

async fn gating_rule_and_a_leads_override(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    new_item(&c, "Procedures", 2, "").await;
    new_item(&c, "Training", 2, "").await;
    app.create_milestone(
        &c.lead,
        "ALPHA",
        &milestone("ORR", "2026-07-01"),
        "OPS-001, OPS-002",
    )
    .await
    .unwrap();
    let why = conflict(
        app.move_milestone(
            &c.editor,
            "ALPHA",
            "MS-001",
            MilestoneStatus::Achieved,
            None,
        )
        .await,
    );
    assert!(
        why.contains("every gating item must be done (OPS-001 is open; OPS-002 is open)"),
        "{why}"
    );
    // An editor's reason is no override; an empty reason is none.
    assert!(matches!(
        app.move_milestone(
            &c.editor,
            "ALPHA",
            "MS-001",
            MilestoneStatus::Achieved,
            Some("we are ready")
        )
        .await,
        Err(AppError::Forbidden(_))
    ));
    conflict(
        app.move_milestone(
            &c.lead,
            "ALPHA",
            "MS-001",
            MilestoneStatus::Achieved,
            Some("  "),
        )
        .await,
    );
    // Done items count; the rest still block.
    for to in [ItemStatus::InProgress, ItemStatus::Done] {
        app.move_ops_item(&c.editor, "ALPHA", "OPS-001", to)
            .await
            .unwrap();
    }
    let why = conflict(
        app.move_milestone(
            &c.editor,
            "ALPHA",
            "MS-001",
            MilestoneStatus::Achieved,
            None,
        )
        .await,
    );
    assert!(why.contains("(OPS-002 is open)"), "{why}");
    let m = app
        .move_milestone(
            &c.lead,
            "ALPHA",
            "MS-001",
            MilestoneStatus::Achieved,
            Some("training waived by the board, minutes ORR-7"),
        )
        .await
        .unwrap();
    assert_eq!(m.status, MilestoneStatus::Achieved);
    let trail = app
        .project_audit(&c.lead, "ALPHA", &Default::default(), 200, 0)
        .await
        .unwrap();
    let e = trail
        .events
        .iter()
        .find(|e| e.artefact_type == "ops_milestone" && e.reason.is_some())
        .expect("the override is audited");
    assert_eq!(
        e.reason.as_deref(),
        Some("training waived by the board, minutes ORR-7")
    );
    assert!(e.changes.iter().any(|ch| ch.field == "gating_rule"));
    assert!(e.changes.iter().any(|ch| ch.field == "status"));
    // With every gate done, an editor achieves a milestone without a reason.
    app.create_milestone(&c.lead, "ALPHA", &milestone("Go", "2026-07-02"), "OPS-001")
        .await
        .unwrap();
    app.move_milestone(
        &c.editor,
        "ALPHA",
        "MS-002",
        MilestoneStatus::Achieved,
        None,
    )
    .await
    .unwrap();
}

/// Well-formed XML: every element closed, every entity known.
fn assert_well_formed(svg: &str) {
    let mut r = quick_xml::Reader::from_str(svg);
    let mut depth = 0i64;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                let name: &str = r.as_ref();
                let name = name.to_owned();
                assert!(
                    name.starts_with('#')
                        || ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str()),
                    "unknown entity &{name};"
                );
            }
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}\n{svg}", r.buffer_position()),
        }
        assert!(depth >= 0);
    }
    assert_eq!(depth, 0, "unclosed elements");
}

/// The `<svg …>…</svg>` elements of a page, in order.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg ") {
        let end = rest[start..].find("</svg>").unwrap() + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

async fn pages_dashboard_and_svg(b: Backend) {
    let c = setup(b).await;
    let app = &c.t.app;
    let nasty = "Sign <script>alert(1)</script> & \"quote\" 'n'";
    app.create_ops_item(&c.editor, "ALPHA", &item(nasty, 2, "2026-07-20"))
        .await
        .unwrap();
    new_item(&c, "Train controllers", 3, "").await;
    app.create_milestone(
        &c.lead,
        "ALPHA",
        &milestone("ORR <b>", "2026-07-01"),
        "OPS-001",
    )
    .await
    .unwrap();
    app.add_ops_dependency(&c.editor, "ALPHA", "OPS-002", "OPS-001")
        .await
        .unwrap();

    let lead = c.t.logged_in("lena@example.org").await;
    let res = lead.get("/p/ALPHA/operations").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Operations readiness"));
    assert!(
        html.contains("aria-current=\"page\">Operations</a>"),
        "subnav entry"
    );
    assert!(!html.contains("<script>alert"), "text is escaped");
    assert!(!html.contains("<b>"), "names are escaped");
    let pics = svgs(&html);
    assert_eq!(pics.len(), 3, "timeline, burn-down, diagram");
    for s in &pics {
        assert_well_formed(s);
    }
    let diagram = pics[2];
    assert!(diagram.contains(">OPS-001</text>") && diagram.contains(">MS-001</text>"));
    assert!(diagram.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quote&quot;"));
    assert!(diagram.contains("marker-end=\"url(#ops-arrow)\""));
    assert!(
        diagram.contains("class=\"node item state-open critical late\""),
        "{diagram}"
    );
    assert!(
        html.contains("due 2026-07-20 after MS-001"),
        "late item listed"
    );
    // The full diagram is an SVG document.
    let res = lead.get("/p/ALPHA/operations/diagram.svg").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    let doc = res.text().await.unwrap();
    assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_well_formed(&doc);
    // Item, milestone, list and dependency pages render.
    for path in [
        "/p/ALPHA/operations/items",
        "/p/ALPHA/operations/items?status=open&late=1",
        "/p/ALPHA/operations/items/OPS-001",
        "/p/ALPHA/operations/milestones",
        "/p/ALPHA/operations/milestones/MS-001",
        "/p/ALPHA/operations/dependencies",
    ] {
        let res = lead.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(!html.contains("<script>alert"), "{path}");
        for s in svgs(&html) {
            assert_well_formed(s);
        }
    }
    let ms = lead.get_text("/p/ALPHA/operations/milestones/MS-001").await;
    assert!(
        ms.contains("Critical path: 5 days"),
        "OPS-002 (3) → OPS-001 (2)"
    );

    // Forms: create an item, move it, add a dependency refused as a cycle (409, shown).
    let page = "/p/ALPHA/operations/items";
    let res = lead
        .submit(
            page,
            page,
            &[("title", "Rehearse LEOP"), ("duration_days", "2")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(crate::location(&res), "/p/ALPHA/operations/items/OPS-003");
    let res = lead
        .submit(
            page,
            "/p/ALPHA/operations/items/OPS-003/status",
            &[("to", "in_progress")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = lead
        .submit(
            page,
            "/p/ALPHA/operations/dependencies",
            &[("predecessor", "OPS-001"), ("successor", "OPS-002")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("would close a cycle"));
    let res = lead
        .submit(
            page,
            "/p/ALPHA/operations/dependencies",
            &[
                ("predecessor", "OPS-003"),
                ("successor", "MS-001"),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(crate::location(&res), "/p/ALPHA/operations/dependencies");
    let res = lead
        .submit(
            page,
            "/p/ALPHA/operations/milestones/MS-001/status",
            &[("to", "achieved")],
        )
        .await;
    assert_eq!(res.status(), 409, "gating items are open");

    // A viewer reads but cannot write (403); an outsider gets 404.
    let viewer = c.t.logged_in("vera@example.org").await;
    assert_eq!(viewer.get("/p/ALPHA/operations").await.status(), 200);
    let html = viewer.get_text("/p/ALPHA/operations/items").await;
    assert!(!html.contains("New readiness item"));
    for (action, fields) in [
        ("/p/ALPHA/operations/items", vec![("title", "x")]),
        (
            "/p/ALPHA/operations/items/OPS-001/status",
            vec![("to", "in_progress")],
        ),
        (
            "/p/ALPHA/operations/milestones",
            vec![("name", "x"), ("target_date", "2026-08-01")],
        ),
        (
            "/p/ALPHA/operations/dependencies",
            vec![("predecessor", "OPS-003"), ("successor", "OPS-002")],
        ),
    ] {
        let res = viewer.submit(page, action, &fields).await;
        assert_eq!(res.status(), 403, "{action}");
    }
    let outsider = c.t.logged_in("olga@example.org").await;
    for path in [
        "/p/ALPHA/operations",
        "/p/ALPHA/operations/items/OPS-001",
        "/p/BRAVO/operations/items/OPS-001",
        "/p/BRAVO/operations/milestones/MS-001",
    ] {
        assert_eq!(outsider.get(path).await.status(), 404, "{path}");
    }
    assert_eq!(outsider.get("/p/BRAVO/operations").await.status(), 200);
}

async fn demo_and_generator_make_an_operations_plan(b: Backend) {
    let t = TestApp::start(b).await;
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let email = opensesa_domain::accounts::Email::parse("lead@opensesa.local").unwrap();
    let lead = Principal {
        user: t
            .app
            .store
            .find_user_by_email(&email)
            .await
            .unwrap()
            .unwrap(),
        session: None,
    };
    let d = t.app.operations_dashboard(&lead, "SAT").await.unwrap();
    assert_eq!((d.plan.items.len(), d.plan.milestones.len()), (12, 3));
    assert_eq!(d.plan.dependencies.len(), 11);
    assert_eq!(d.plan.blocked().count(), 1);
    let late: Vec<&str> = d
        .plan
        .late
        .iter()
        .map(|l| d.plan.graph.nodes[l.item].label.as_str())
        .collect();
    assert_eq!(late, vec!["OPS-009"], "the licence is due after the review");
    for m in &d.plan.milestones {
        let n = d.plan.milestone_node(m).unwrap();
        assert!(d.plan.critical_path(n).unwrap().days > 0, "{}", m.human_id);
    }
    // Seeding again changes nothing.
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let d = t.app.operations_dashboard(&lead, "SAT").await.unwrap();
    assert_eq!(d.plan.items.len(), 12);

    // The generator: a plan on a generated project.
    let opts = opensesa::generate::Options {
        project: "GEN".into(),
        requirements: 100,
        ..Default::default()
    };
    opensesa::demo::generate(&t.app, &opts, |_| {})
        .await
        .unwrap();
    let r = opensesa::demo::generate_ops(&t.app, "GEN", 500, 20, 7)
        .await
        .unwrap();
    assert_eq!((r.items, r.milestones), (500, 20));
    let d = t.app.operations_dashboard(&lead, "GEN").await.unwrap();
    assert_eq!((d.plan.items.len(), d.plan.milestones.len()), (500, 20));
    assert_eq!(d.plan.dependencies.len(), r.dependencies);
    assert_eq!(d.plan.items[499].human_id, "OPS-500");
    assert_eq!(d.plan.graph.topo_order().len(), 520);
    let last = d.plan.milestones.last().unwrap();
    assert!(d
        .plan
        .critical_path(d.plan.milestone_node(last).unwrap())
        .is_some());
    let item = t
        .app
        .ops_item_detail(&lead, "GEN", "OPS-250")
        .await
        .unwrap();
    assert_eq!(
        item.revisions.len(),
        1,
        "generated items have their first revision"
    );
}

both!(
    item_and_milestone_machines,
    dependency_cycles_are_refused_with_nothing_written,
    critical_path_and_late_items_on_a_hand_made_plan,
    gating_rule_and_a_leads_override,
    pages_dashboard_and_svg,
    demo_and_generator_make_an_operations_plan,
);
