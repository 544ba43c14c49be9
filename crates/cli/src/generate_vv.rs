//! `opensesa demo --size N --cases C --results R`: verification data on the generated
//! project, for the V&V benchmarks. Two plans (VP-001 with 5,000 cases — the report
//! benchmark's plan — and VP-002 with the rest), C cases verifying one or two requirements
//! each (automation keys `bench::test_<n>`, so a generated JUnit report maps by key), R
//! results spread over the last 30 days (mostly passes), a regression set of 500 cases and
//! 200 defects. Written through the app's bulk entry points in batches, with audit events.

use crate::generate::Rng;
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::{App, AppError, Principal};
use opensesa_domain::ids::{LinkId, ResultId, RunId};
use opensesa_domain::requirements::{LinkKind, TraceLink, VerificationMethod};
use opensesa_domain::vv::{
    ActivityInput, Case, CaseStatus, DefectInput, PlanInput, Step, TestResult, Verdict,
};
use std::time::{Duration, Instant};

/// Cases in the report benchmark's plan.
pub const REPORT_PLAN_CASES: usize = 5_000;

#[derive(Debug, Clone)]
pub struct VvReport {
    pub cases: usize,
    pub results: usize,
    pub links: usize,
    pub defects: usize,
    pub cases_time: Duration,
    pub results_time: Duration,
}

impl std::fmt::Display for VvReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "V&V: {} cases ({} verifies links) in {:.1} s, {} results in {:.1} s, {} defects; \
             VP-001 has {} cases; cases have automation keys bench::test_<n>",
            self.cases,
            self.links,
            self.cases_time.as_secs_f64(),
            self.results,
            self.results_time.as_secs_f64(),
            self.defects,
            REPORT_PLAN_CASES.min(self.cases)
        )
    }
}

const WORDS: &[&str] = &[
    "attitude",
    "telemetry",
    "thermal",
    "power",
    "battery",
    "link",
    "budget",
    "mode",
    "safe",
    "boot",
    "command",
    "sensor",
    "wheel",
    "torque",
    "downlink",
    "storage",
    "clock",
    "fault",
];

pub async fn generate(
    app: &App,
    who: &Principal,
    code: &str,
    cases: usize,
    results: usize,
    seed: u64,
    mut progress: impl FnMut(&str),
) -> Result<VvReport, AppError> {
    let ctx = app
        .project_access(who, code, opensesa_domain::access::Permission::Write)
        .await?;
    let now = app.clock.now();
    for (title, n) in [
        ("Generated qualification plan", REPORT_PLAN_CASES.min(cases)),
        (
            "Generated regression plan",
            cases.saturating_sub(REPORT_PLAN_CASES),
        ),
    ] {
        let plan = app
            .create_plan(
                who,
                code,
                &PlanInput {
                    title: Some(format!("{title} ({n} cases)")),
                    description: Some("Generated for benchmarks.".into()),
                },
                "",
            )
            .await?;
        app.save_activity(
            who,
            code,
            &plan.human_id,
            None,
            &ActivityInput {
                title: Some("Bench tests".into()),
                method: Some("test".into()),
                ..Default::default()
            },
        )
        .await?;
    }
    let plans = app.list_plans(who, code).await?.1;
    let mut activities = Vec::new();
    for p in &plans {
        if let Some(a) = app.store.plan_activities(p.plan.id).await?.first() {
            activities.push(a.id);
        }
    }
    let reqs: Vec<_> = app
        .store
        .requirement_facts_light(ctx.project.id)
        .await?
        .into_iter()
        .filter(|f| !matches!(f.kind.as_str(), "heading" | "information"))
        .collect();
    let started = Instant::now();
    let mut case_ids = Vec::with_capacity(cases);
    let mut links_total = 0;
    const CASE_BATCH: usize = 2_000;
    for start in (0..cases).step_by(CASE_BATCH) {
        let mut batch = Vec::new();
        let mut links = Vec::new();
        for i in start..(start + CASE_BATCH).min(cases) {
            let mut r = Rng::for_item(seed ^ 0x5EED_CA5E, i);
            let mut c = Case::blank(ctx.project.id, now);
            c.title = format!("Verify {} {} {}", r.pick(WORDS), r.pick(WORDS), i + 1);
            c.method = VerificationMethod::Test;
            c.steps = (0..3)
                .map(|s| Step {
                    action: format!("Step {} on the {} {}", s + 1, r.pick(WORDS), r.pick(WORDS)),
                    expected: format!("The {} is nominal", r.pick(WORDS)),
                })
                .collect();
            c.expected = "All steps nominal.".into();
            c.automation_key = format!("bench::test_{}", i + 1);
            c.activity_id = activities.get(usize::from(i >= REPORT_PLAN_CASES)).copied();
            c.status = CaseStatus::Ready;
            if !reqs.is_empty() {
                for _ in 0..(1 + usize::from(r.chance(0.3))) {
                    let q = &reqs[r.below(reqs.len())];
                    if links
                        .iter()
                        .any(|l: &TraceLink| l.source_id == c.id.0 && l.target_id == q.id.0)
                    {
                        continue;
                    }
                    links.push(TraceLink {
                        id: LinkId::new(),
                        project_id: ctx.project.id,
                        kind: LinkKind::Verifies,
                        source_type: "vv_case".into(),
                        source_id: c.id.0,
                        target_type: "requirement".into(),
                        target_id: q.id.0,
                        source_revision: 1,
                        target_revision: q.revision,
                        suspect: false,
                        suspect_reasons: Vec::new(),
                        created_by: Some(who.user.id),
                        created_at: now,
                        confirmed_at: now,
                        confirmed_by: Some(who.user.id),
                        external_id: None,
                    });
                }
            }
            case_ids.push(c.id);
            batch.push(c);
        }
        links_total += links.len();
        app.import_cases(who, code, batch, links).await?;
        progress(&format!("cases: {} of {cases}", case_ids.len()));
    }
    let cases_time = started.elapsed();
    let started = Instant::now();
    const RESULT_BATCH: usize = 5_000;
    let mut written = 0;
    let mut buf = Vec::with_capacity(RESULT_BATCH);
    let run = RunId::new();
    for i in 0..results {
        if case_ids.is_empty() {
            break;
        }
        let mut r = Rng::for_item(seed ^ 0x0BE5_7AB1E, i);
        let v = match r.below(100) {
            0..=84 => Verdict::Pass,
            85..=92 => Verdict::Fail,
            93..=96 => Verdict::Blocked,
            _ => Verdict::Inconclusive,
        };
        let at = now - chrono::Duration::minutes(r.below(29 * 24 * 60) as i64 + 1);
        buf.push(TestResult {
            id: ResultId::new(),
            project_id: ctx.project.id,
            case_id: case_ids[i % case_ids.len()],
            case_revision: 1,
            run_id: Some(run),
            set_id: None,
            verdict: v,
            steps: Vec::new(),
            executor: "CI".into(),
            executed_at: at,
            configuration: format!("build {}", 1000 + r.below(50)),
            baseline_id: None,
            notes: String::new(),
            evidence: Vec::new(),
            supersedes: None,
            supersede_reason: String::new(),
            source: "junit".into(),
            recorded_by: Some(who.user.id),
            recorded_at: at,
        });
        if buf.len() == RESULT_BATCH {
            written += app
                .import_results(who, code, std::mem::take(&mut buf))
                .await?;
            progress(&format!("results: {written} of {results}"));
        }
    }
    if !buf.is_empty() {
        written += app.import_results(who, code, buf).await?;
    }
    let results_time = started.elapsed();
    // A regression set and defects, for the pages that list them.
    let members: Vec<String> = (1..=500.min(cases)).map(|n| format!("VC-{n:03}")).collect();
    if !members.is_empty() {
        app.save_set(
            who,
            code,
            None,
            "Regression",
            "Generated.",
            &members.join(" "),
        )
        .await?;
    }
    let mut defects = 0;
    for i in 0..200.min(cases) {
        let mut r = Rng::for_item(seed ^ 0xDEF, i);
        app.create_defect(
            who,
            code,
            &DefectInput {
                title: Some(format!(
                    "Generated defect {} on the {}",
                    i + 1,
                    r.pick(WORDS)
                )),
                severity: Some(["critical", "major", "minor"][r.below(3)].into()),
                description: None,
            },
            None,
            &format!("VC-{:03}", i + 1),
            "",
        )
        .await?;
        defects += 1;
    }
    if cases > 0 {
        app.create_snapshot(
            who,
            code,
            &SnapshotScope::Plan("VP-001".into()),
            "Generated snapshot",
        )
        .await?;
    }
    Ok(VvReport {
        cases: case_ids.len(),
        results: written,
        links: links_total,
        defects,
        cases_time,
        results_time,
    })
}
