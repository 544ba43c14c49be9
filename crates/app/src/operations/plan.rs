//! The operations plan of a project read once and analysed in memory: four compact queries
//! (items without descriptions, milestones with their gates, dependencies), then linear passes
//! over the graph for the critical paths, the earliest-finish forecast, lateness and the
//! burn-down. The dashboard, the milestone page and the API all read this view.

use crate::error::AppResult;
use crate::portfolio::ProjectCtx;
use crate::ports::ItemFact;
use crate::{App, Principal};
use chrono::{Duration, NaiveDate};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::DependencyId;
use opensesa_domain::operations::graph::{burndown, CriticalPath, Late, Node};
use opensesa_domain::operations::{Dependency, Milestone, NodeRef, OpsGraph};

use std::sync::Arc;

/// Days of burn-down shown.
pub const BURNDOWN_DAYS: i64 = 60;

pub struct PlanView {
    pub today: NaiveDate,
    pub items: Vec<ItemFact>,
    pub milestones: Vec<Milestone>,
    pub dependencies: Vec<Dependency>,
    /// Items first (in human-id order), then milestones; edges are the dependencies and each
    /// gating item before its milestone.
    pub graph: OpsGraph,
    chains: Vec<Option<(i64, Option<usize>)>>,
    /// The earliest finish of every unfinished node (forward pass from today).
    pub earliest: Vec<Option<NaiveDate>>,
    pub late: Vec<Late>,
}

impl PlanView {
    pub fn build(
        today: NaiveDate,
        items: Vec<ItemFact>,
        milestones: Vec<Milestone>,
        dependencies: Vec<Dependency>,
    ) -> Self {
        let mut nodes = Vec::with_capacity(items.len() + milestones.len());
        nodes.extend(items.iter().map(|i| Node {
            node: NodeRef::Item(i.id),
            label: i.human_id.clone(),
            title: i.title.clone(),
            state: i.status.as_str(),
            duration: i.duration_days,
            finished: i.status.is_done(),
            due: i.due_date,
            target: None,
        }));
        nodes.extend(milestones.iter().map(|m| Node {
            node: NodeRef::Milestone(m.id),
            label: m.human_id.clone(),
            title: m.name.clone(),
            state: m.status.as_str(),
            duration: 0,
            finished: m.status.is_settled(),
            due: None,
            target: Some(m.target_date),
        }));
        let edges = dependencies
            .iter()
            .map(|d| (d.predecessor, d.successor))
            .chain(milestones.iter().flat_map(|m| {
                m.gates
                    .iter()
                    .map(move |g| (NodeRef::Item(*g), NodeRef::Milestone(m.id)))
            }));
        let graph = OpsGraph::new(nodes, edges);
        let chains = graph.longest_chains();
        let earliest = graph.earliest_finish(today);
        let late = graph.late_items(today);
        Self {
            today,
            items,
            milestones,
            dependencies,
            graph,
            chains,
            earliest,
            late,
        }
    }

    /// The longest chain of unfinished work ending at `node` (a graph index).
    pub fn critical_path(&self, node: usize) -> Option<CriticalPath> {
        self.graph.critical_path(&self.chains, node)
    }

    /// Explicit dependencies into and out of a node: (dependency, human id, title).
    #[allow(clippy::type_complexity)]
    pub fn neighbours(
        &self,
        node: NodeRef,
    ) -> (
        Vec<(DependencyId, String, String)>,
        Vec<(DependencyId, String, String)>,
    ) {
        let name = |n: NodeRef| {
            self.graph.find(n).map_or_else(
                || (n.uuid().to_string(), String::new()),
                |i| {
                    (
                        self.graph.nodes[i].label.clone(),
                        self.graph.nodes[i].title.clone(),
                    )
                },
            )
        };
        let mut preds: Vec<_> = self
            .dependencies
            .iter()
            .filter(|d| d.successor == node)
            .map(|d| {
                let (h, t) = name(d.predecessor);
                (d.id, h, t)
            })
            .collect();
        let mut succs: Vec<_> = self
            .dependencies
            .iter()
            .filter(|d| d.predecessor == node)
            .map(|d| {
                let (h, t) = name(d.successor);
                (d.id, h, t)
            })
            .collect();
        preds.sort_by(|a, b| a.1.cmp(&b.1));
        succs.sort_by(|a, b| a.1.cmp(&b.1));
        (preds, succs)
    }

    /// Why an item is late, in words.
    pub fn late_reason(&self, l: &Late) -> String {
        let m = &self.graph.nodes[l.milestone].label;
        let mut why = Vec::new();
        if l.due_late {
            if let Some(d) = l.due {
                why.push(format!("due {d}"));
            }
        }
        if l.forecast_late {
            why.push(format!("earliest finish {}", l.earliest_finish));
        }
        format!("{} after {m}'s target date {}", why.join(" and "), l.target)
    }

    pub fn blocked(&self) -> impl Iterator<Item = &ItemFact> {
        self.items
            .iter()
            .filter(|i| i.status == opensesa_domain::operations::ItemStatus::Blocked)
    }

    /// Open (not done) items at the end of each of the last `days` days.
    pub fn burndown(&self, days: i64) -> Vec<(NaiveDate, i64)> {
        let facts: Vec<(NaiveDate, Option<NaiveDate>)> = self
            .items
            .iter()
            .map(|i| {
                (
                    i.created_at.date_naive(),
                    i.done_at
                        .filter(|_| i.status.is_done())
                        .map(|d| d.date_naive()),
                )
            })
            .collect();
        burndown(
            &facts,
            self.today - Duration::days(days.max(1) - 1),
            self.today,
        )
    }

    /// The graph index of a milestone.
    pub fn milestone_node(&self, m: &Milestone) -> Option<usize> {
        self.graph.find(NodeRef::Milestone(m.id))
    }
}

/// Analysed plans kept per project with the plan version and the day they were computed for:
/// a write bumps the version (in its transaction), so a reader that sees the same version and
/// day reuses the analysis instead of reading and analysing thousands of rows again.
pub type PlanCache = crate::project_cache::ProjectCache<(i64, NaiveDate), PlanView>;

pub struct OpsDashboard {
    pub ctx: ProjectCtx,
    pub plan: Arc<PlanView>,
    pub burndown: Vec<(NaiveDate, i64)>,
}

impl App {
    /// The analysed plan: from the cache when the plan version and the day are unchanged,
    /// else read (three compact queries) and analysed. The version is read first, so a plan
    /// changed meanwhile is at worst cached under the older version and read again next time.
    pub(crate) async fn plan_view(&self, ctx: &ProjectCtx) -> AppResult<Arc<PlanView>> {
        let project = ctx.project.id;
        let today = self.clock.now().date_naive();
        let version = self.store.plan_version(project).await?;
        if let Some(plan) = self.ops_plans.get(project, &(version, today)) {
            return Ok(plan);
        }
        let items = self.store.item_facts(project).await?;
        let milestones = self.store.list_milestones(project).await?;
        let dependencies = self.store.list_dependencies(project).await?;
        let plan = Arc::new(PlanView::build(today, items, milestones, dependencies));
        self.ops_plans.put(project, (version, today), plan.clone());
        Ok(plan)
    }

    pub async fn operations_dashboard(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<OpsDashboard> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let plan = self.plan_view(&ctx).await?;
        let burndown = plan.burndown(BURNDOWN_DAYS);
        Ok(OpsDashboard {
            ctx,
            plan,
            burndown,
        })
    }
}
