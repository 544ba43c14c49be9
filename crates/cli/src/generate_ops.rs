//! `opensesa demo --size N --ops-items I --milestones M`: an operations plan on the
//! generated project, for the dashboard benchmark. The items fall into M segments, one per
//! milestone; inside a segment each item waits for one or two of the ten items before it,
//! the segment's first item waits for the previous milestone, each milestone waits for the
//! one before and is gated by the last five items of its segment. Targets are a week apart
//! from today; about 40 % of the items are done, 15 % in progress and 5 % blocked, created
//! over the last 90 days. Written in one transaction through `App::import_ops_plan`.

use crate::generate::Rng;
use chrono::Duration;
use opensesa_app::ports::OpsBulk;
use opensesa_app::{App, AppError, Principal};
use opensesa_domain::ids::{DependencyId, MilestoneId, ProjectId};
use opensesa_domain::operations::{
    Dependency, ItemStatus, Milestone, MilestoneStatus, NodeRef, ReadinessItem,
};
use std::time::{Duration as StdDuration, Instant};

#[derive(Debug, Clone)]
pub struct OpsReport {
    pub items: usize,
    pub milestones: usize,
    pub dependencies: usize,
    pub time: StdDuration,
}

impl std::fmt::Display for OpsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Operations: {} readiness items, {} milestones, {} dependencies in {:.1} s",
            self.items,
            self.milestones,
            self.dependencies,
            self.time.as_secs_f64()
        )
    }
}

const VERBS: &[&str] = &[
    "Write", "Review", "Validate", "Train", "Contract", "Test", "Rehearse", "Sign", "Install",
];
const THINGS: &[&str] = &[
    "procedure",
    "ground station pass plan",
    "flight dynamics check",
    "controller certification",
    "anomaly playbook",
    "licence filing",
    "simulator scenario",
    "handover record",
    "network link",
];

pub async fn generate(
    app: &App,
    who: &Principal,
    code: &str,
    items: usize,
    milestones: usize,
    seed: u64,
) -> Result<OpsReport, AppError> {
    let started = Instant::now();
    let now = app.clock.now();
    let today = now.date_naive();
    let segments = milestones.max(1);
    let per = items.div_ceil(segments).max(1);
    let mut rng = Rng::new(seed ^ 0x0905);
    let project = ProjectId(uuid::Uuid::nil()); // set by the use case
    let mut bulk = OpsBulk::default();
    for k in 0..items {
        let mut i = ReadinessItem::blank(project, now);
        let created =
            now - Duration::days(rng.below(90) as i64) - Duration::minutes(k as i64 % 600);
        i.title = format!("{} {} {}", rng.pick(VERBS), rng.pick(THINGS), k + 1);
        i.description = "Generated for benchmarks.".into();
        i.owner = format!("Team {}", 1 + rng.below(12));
        i.source = "generated".into();
        i.duration_days = 1 + rng.below(10) as i64;
        i.due_date = Some(
            today
                + Duration::days(
                    ((k / per) as i64 + 1) * 7 - rng.below(3) as i64
                        + if rng.chance(0.02) { 10 } else { 0 },
                ),
        );
        let roll = rng.below(100);
        i.status = match roll {
            0..=39 => ItemStatus::Done,
            40..=54 => ItemStatus::InProgress,
            55..=59 => ItemStatus::Blocked,
            _ => ItemStatus::Open,
        };
        i.created_at = created.min(now);
        i.updated_at = i.created_at;
        if i.status == ItemStatus::Done {
            let span = (now - i.created_at).num_minutes().max(1);
            i.done_at = Some(i.created_at + Duration::minutes(rng.below(span as usize) as i64));
        }
        bulk.items.push(i);
    }
    for s in 0..milestones {
        let lo = s * per;
        let hi = ((s + 1) * per).min(items);
        let gates = if hi > lo {
            bulk.items[hi.saturating_sub(5).max(lo)..hi]
                .iter()
                .map(|i| i.id)
                .collect()
        } else {
            Vec::new()
        };
        bulk.milestones.push(Milestone {
            id: MilestoneId::new(),
            project_id: project,
            human_id: String::new(),
            name: format!("Readiness milestone {}", s + 1),
            description: "Generated for benchmarks.".into(),
            target_date: today + Duration::days((s as i64 + 1) * 7),
            status: if s < milestones / 20 {
                MilestoneStatus::Achieved
            } else {
                MilestoneStatus::Planned
            },
            gates,
            revision: 1,
            created_at: now,
            updated_at: now,
        });
    }
    let dep = |p: NodeRef, s: NodeRef| Dependency {
        id: DependencyId::new(),
        project_id: project,
        predecessor: p,
        successor: s,
        created_by: Some(who.user.id),
        created_at: now,
    };
    for k in 0..items {
        let seg = k / per;
        let lo = seg * per;
        let succ = NodeRef::Item(bulk.items[k].id);
        if k == lo {
            if seg > 0 && seg <= bulk.milestones.len() {
                bulk.dependencies
                    .push(dep(NodeRef::Milestone(bulk.milestones[seg - 1].id), succ));
            }
            continue;
        }
        let window = (k - lo).min(10);
        let a = k - 1 - rng.below(window);
        bulk.dependencies
            .push(dep(NodeRef::Item(bulk.items[a].id), succ));
        if window > 1 && rng.chance(0.5) {
            let b = k - 1 - rng.below(window);
            if b != a {
                bulk.dependencies
                    .push(dep(NodeRef::Item(bulk.items[b].id), succ));
            }
        }
    }
    for s in 1..bulk.milestones.len() {
        bulk.dependencies.push(dep(
            NodeRef::Milestone(bulk.milestones[s - 1].id),
            NodeRef::Milestone(bulk.milestones[s].id),
        ));
    }
    let report = OpsReport {
        items: bulk.items.len(),
        milestones: bulk.milestones.len(),
        dependencies: bulk.dependencies.len(),
        time: StdDuration::ZERO,
    };
    app.import_ops_plan(who, code, bulk).await?;
    Ok(OpsReport {
        time: started.elapsed(),
        ..report
    })
}
