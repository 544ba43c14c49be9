//! `opensesa demo`'s requirements (modules, links, approvals, a review round, suspect links,
//! quality findings; idempotent) and the benchmark generator (`demo --size N`).

use opensesa::generate::{self, Options};
use opensesa_app::ports::ReqQuery;
use opensesa_app::Principal;
use opensesa_domain::accounts::Email;
use opensesa_domain::requirements::quality::RuleId;
use opensesa_testkit::{Backend, TestApp};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

async fn principal(t: &TestApp, email: &str) -> Principal {
    let user = t
        .app
        .store
        .find_user_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    Principal {
        user,
        session: None,
    }
}

/// (modules, requirements, links, suspect links, approved, rounds, comments on one req)
async fn counts(t: &TestApp, p: &Principal, code: &str) -> (usize, i64, i64, i64, i64, usize) {
    let (_, modules) = t.app.list_modules(p, code).await.unwrap();
    let (_, page) = t
        .app
        .list_requirements(
            p,
            code,
            ReqQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, _, links) = t.app.project_links(p, code, false, 1, 0).await.unwrap();
    let (_, _, suspect) = t.app.project_links(p, code, true, 1, 0).await.unwrap();
    let (_, approved) = t
        .app
        .list_requirements(
            p,
            code,
            ReqQuery {
                status: Some("approved".into()),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, rounds) = t.app.list_rounds(p, code).await.unwrap();
    (
        modules.len(),
        page.total,
        links,
        suspect,
        approved.total,
        rounds.len(),
    )
}

async fn demo_requirements_are_realistic_and_seeded_once(b: Backend) {
    let t = TestApp::start(b).await;
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let lead = principal(&t, "lead@opensesa.local").await;
    let first = counts(&t, &lead, "SAT").await;
    let (modules, reqs, links, suspect, approved, rounds) = first;
    assert_eq!(modules, 5);
    assert!((55..=70).contains(&reqs), "{reqs} requirements");
    assert!(links >= 40, "{links} links");
    assert!((1..=4).contains(&suspect), "{suspect} suspect links");
    assert!(approved >= 4, "{approved} approved");
    assert_eq!(rounds, 1);

    // The module tree: SYS on top with two subsystems, the software below SS-ADCS.
    let (_, tree) = t.app.list_modules(&lead, "SAT").await.unwrap();
    let depth: HashMap<&str, usize> = tree
        .iter()
        .map(|m| (m.module.prefix.as_str(), m.depth))
        .collect();
    assert_eq!(depth["STK"], 0);
    assert_eq!(depth["SYS"], 0);
    assert_eq!(depth["SS-ADCS"], 1);
    assert_eq!(depth["SS-EPS"], 1);
    assert_eq!(depth["SW-OBC"], 2);
    let sys = tree.iter().find(|m| m.module.prefix == "SYS").unwrap();
    assert!(sys.module.attribute("Criticality").is_some());

    // The quality page has the deliberate findings.
    let report = t.app.quality_report(&lead, "SAT", None).await.unwrap();
    let by_rule: HashMap<RuleId, usize> = report.by_rule.iter().copied().collect();
    for rule in [RuleId::WeakWord, RuleId::Tbd, RuleId::MultipleShall] {
        assert!(
            by_rule.get(&rule).copied().unwrap_or(0) >= 1,
            "no {rule} finding: {by_rule:?}"
        );
    }

    // The suspect links come from the edits, with their reasons.
    let (_, suspects, _) = t
        .app
        .project_links(&lead, "SAT", true, 50, 0)
        .await
        .unwrap();
    assert!(suspects.iter().all(|l| !l.link.suspect_reasons.is_empty()));
    assert!(suspects
        .iter()
        .any(|l| l.source_human_id.starts_with("SS-EPS-")));

    // The open round has decisions; an edited requirement has two revisions.
    let (_, round) = t.app.list_rounds(&lead, "SAT").await.unwrap();
    let (_, detail) = t.app.review_round(&lead, "SAT", round[0].id).await.unwrap();
    assert_eq!(detail.round.status, "open");
    assert_eq!(detail.decisions.len(), 3);
    let edited = suspects
        .iter()
        .find(|l| l.source_human_id.starts_with("SS-EPS-"))
        .unwrap();
    let d = t
        .app
        .requirement_detail(&lead, "SAT", &edited.source_human_id)
        .await
        .unwrap();
    assert_eq!(d.revisions.len(), 2);
    assert!(!d.audit.is_empty());

    // Running the demo again changes nothing.
    opensesa::demo::seed(&t.app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    assert_eq!(counts(&t, &lead, "SAT").await, first);
}

async fn generator_builds_an_acyclic_project_of_the_asked_size(b: Backend) {
    let t = TestApp::start(b).await;
    let admin = t.user("root@example.org", true).await;
    let admin = Principal {
        user: admin,
        session: None,
    };
    let opts = Options {
        project: "GEN".into(),
        requirements: 2_000,
        batch: 700,
        link_batch: 1_000,
        ..Default::default()
    };
    let mut lines = 0;
    let report = generate::generate(&t.app, &admin, &opts, |_| lines += 1)
        .await
        .unwrap();
    assert!(lines >= 5, "progress is reported per batch");
    assert_eq!(report.requirements, 2_000);
    assert_eq!(report.modules, 51);
    assert!((2_900..=3_100).contains(&report.links), "{}", report.links);
    assert_eq!(report.hub_descendants, generate::HUB_DESCENDANTS);

    let project = t
        .app
        .store
        .find_project_by_code("GEN")
        .await
        .unwrap()
        .unwrap();
    let facts = t.app.store.requirement_facts(project.id).await.unwrap();
    assert_eq!(facts.len(), 2_000);
    let human: HashSet<&str> = facts.iter().map(|f| f.human_id.as_str()).collect();
    assert_eq!(human.len(), 2_000, "human ids are distinct");
    let ids: HashSet<Uuid> = facts.iter().map(|f| f.id.0).collect();
    assert_eq!(ids.len(), 2_000);

    // The parent hierarchy is acyclic and stays within the project.
    let parent: HashMap<Uuid, Uuid> = facts
        .iter()
        .filter_map(|f| f.parent_id.map(|p| (f.id.0, p.0)))
        .collect();
    for f in &facts {
        let mut seen = HashSet::new();
        let mut cur = f.id.0;
        while let Some(p) = parent.get(&cur) {
            assert!(ids.contains(p));
            assert!(seen.insert(*p), "cycle through {}", f.human_id);
            cur = *p;
        }
    }

    // The links: about 1.5 per requirement, distinct, between requirements of the project,
    // and acyclic (Kahn's algorithm consumes every node).
    let links = t.app.store.link_facts(project.id).await.unwrap();
    assert_eq!(links.len(), report.links);
    let pairs: HashSet<(Uuid, Uuid)> = links.iter().map(|l| (l.source_id, l.target_id)).collect();
    assert_eq!(pairs.len(), links.len());
    let mut indegree: HashMap<Uuid, usize> = ids.iter().map(|i| (*i, 0)).collect();
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for l in &links {
        assert!(ids.contains(&l.source_id) && ids.contains(&l.target_id));
        assert_ne!(l.source_id, l.target_id);
        *indegree.get_mut(&l.target_id).unwrap() += 1;
        out.entry(l.source_id).or_default().push(l.target_id);
    }
    let mut ready: Vec<Uuid> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| *i)
        .collect();
    let mut done = 0;
    while let Some(n) = ready.pop() {
        done += 1;
        for m in out.get(&n).into_iter().flatten() {
            let d = indegree.get_mut(m).unwrap();
            *d -= 1;
            if *d == 0 {
                ready.push(*m);
            }
        }
    }
    assert_eq!(done, ids.len(), "the derives graph has a cycle");

    // The hub has exactly the reported descendants.
    let hub = facts.iter().find(|f| f.human_id == report.hub).unwrap();
    let mut incoming: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for l in &links {
        incoming.entry(l.target_id).or_default().push(l.source_id);
    }
    let mut seen = HashSet::new();
    let mut stack = vec![hub.id.0];
    while let Some(n) = stack.pop() {
        for s in incoming.get(&n).into_iter().flatten() {
            if seen.insert(*s) {
                stack.push(*s);
            }
        }
    }
    assert_eq!(seen.len(), report.hub_descendants);

    // A second run on the same project is refused and writes nothing.
    let err = generate::generate(&t.app, &admin, &opts, |_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("already has requirement modules"),
        "{err}"
    );
    assert_eq!(
        t.app
            .store
            .requirement_facts(project.id)
            .await
            .unwrap()
            .len(),
        2_000
    );
}

both!(
    demo_requirements_are_realistic_and_seeded_once,
    generator_builds_an_acyclic_project_of_the_asked_size,
);
