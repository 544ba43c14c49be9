//! Operations readiness use cases: readiness items and their workflow, milestones with their
//! gating items and the gating rule, finish-to-start dependencies (refused when they would
//! close a cycle), and the plan analyses behind the dashboard (`plan`).

pub mod plan;

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{ItemFact, Journal};
use crate::vv::{role_of, store_err};
use crate::{App, Principal};
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{DependencyId, MilestoneId, OpsItemId};
use opensesa_domain::operations::{
    Dependency, ItemInput, ItemStatus, Milestone, MilestoneInput, MilestoneStatus, NodeRef,
    ReadinessItem, ITEM_PREFIX, MILESTONE_PREFIX,
};
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::vv::model::parse_reason;
use opensesa_domain::FieldErrors;
use serde_json::json;

pub struct ItemDetail {
    pub ctx: ProjectCtx,
    pub item: ReadinessItem,
    pub next: Vec<ItemStatus>,
    pub revisions: Vec<Revision>,
    /// Milestones the item gates: (human id, name).
    pub gates: Vec<(String, String)>,
    /// Dependencies into and out of the item: (dependency id, human id, title).
    pub predecessors: Vec<(DependencyId, String, String)>,
    pub successors: Vec<(DependencyId, String, String)>,
    /// Why the item is flagged late, when it is.
    pub late: Option<String>,
}

pub struct MilestoneDetail {
    pub ctx: ProjectCtx,
    pub milestone: Milestone,
    pub next: Vec<MilestoneStatus>,
    pub revisions: Vec<Revision>,
    /// The gating items in the milestone's order.
    pub gates: Vec<ItemFact>,
    /// Gating items not done yet (achieving is refused while any remain).
    pub open_gates: Vec<String>,
    pub predecessors: Vec<(DependencyId, String, String)>,
    pub successors: Vec<(DependencyId, String, String)>,
    pub plan: std::sync::Arc<plan::PlanView>,
    /// The index of the milestone in `plan.graph`.
    pub node: usize,
}

/// A dependency with both ends named.
#[derive(Debug, Clone)]
pub struct DependencyView {
    pub dependency: Dependency,
    pub predecessor: (String, String),
    pub successor: (String, String),
}

/// Splits a list of human ids typed or sent (commas, semicolons or spaces).
pub fn id_list(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect()
}

fn stale(what: &str, hid: &str, current: i64, yours: i64) -> AppError {
    AppError::Conflict(format!(
        "{what} {hid} has changed since you opened it (revision {current} is current, yours is {yours}); reload"
    ))
}

impl App {
    pub(crate) async fn item_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, ReadinessItem)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let item = self
            .store
            .find_item(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, item))
    }

    pub(crate) async fn milestone_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, Milestone)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let m = self
            .store
            .find_milestone(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, m))
    }

    pub async fn list_ops_items(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<ItemFact>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let items = self.store.item_facts(ctx.project.id).await?;
        Ok((ctx, items))
    }

    pub async fn create_ops_item(
        &self,
        principal: &Principal,
        code: &str,
        input: &ItemInput,
    ) -> AppResult<ReadinessItem> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let now = self.clock.now();
        let mut item = ReadinessItem::blank(ctx.project.id, now);
        let mut errors = FieldErrors::new();
        if input.title.is_none() {
            errors.add("title", "is required");
        }
        input.apply(&mut item, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Create,
                ReadinessItem::ARTEFACT_TYPE,
                item.id,
            )
            .project(ctx.project.id)
            .changes(&json!({}), &item.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&item, Some(principal.user.id), now));
        item.human_id = self
            .store
            .insert_item(&item, &journal)
            .await
            .map_err(store_err)?;
        Ok(item)
    }

    pub async fn update_ops_item(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &ItemInput,
        expected_revision: Option<i64>,
    ) -> AppResult<ReadinessItem> {
        let (ctx, before) = self
            .item_of(principal, code, human_id, Permission::Write)
            .await?;
        if let Some(r) = expected_revision.filter(|r| *r != before.revision) {
            return Err(stale("item", &before.human_id, before.revision, r));
        }
        let mut item = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut item, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if item.snapshot() == before.snapshot() {
            return Ok(before);
        }
        let now = self.clock.now();
        item.revision += 1;
        item.updated_at = now;
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Update,
                ReadinessItem::ARTEFACT_TYPE,
                item.id,
            )
            .project(ctx.project.id)
            .changes(&before.snapshot(), &item.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&item, Some(principal.user.id), now));
        self.store
            .update_item(&item, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(item)
    }

    /// A workflow step of an item (audited; not a revision: the content is unchanged).
    pub async fn move_ops_item(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        to: ItemStatus,
    ) -> AppResult<ReadinessItem> {
        let (ctx, before) = self
            .item_of(principal, code, human_id, Permission::Write)
            .await?;
        before
            .status
            .check_move(to, role_of(&ctx))
            .map_err(AppError::forbidden_or_conflict)?;
        let mut item = before.clone();
        item.status = to;
        item.updated_at = self.clock.now();
        item.done_at = (to == ItemStatus::Done).then_some(item.updated_at);
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Transition,
                ReadinessItem::ARTEFACT_TYPE,
                item.id,
            )
            .project(ctx.project.id)
            .change("status", json!(before.status), json!(item.status))
            .build(),
        );
        self.store
            .update_item(&item, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(item)
    }

    /// Names a node by id for pages and messages: (human id, title).
    fn node_name(items: &[ItemFact], milestones: &[Milestone], node: NodeRef) -> (String, String) {
        match node {
            NodeRef::Item(id) => items
                .iter()
                .find(|i| i.id == id)
                .map(|i| (i.human_id.clone(), i.title.clone())),
            NodeRef::Milestone(id) => milestones
                .iter()
                .find(|m| m.id == id)
                .map(|m| (m.human_id.clone(), m.name.clone())),
        }
        .unwrap_or_else(|| (node.uuid().to_string(), String::new()))
    }

    pub async fn ops_item_detail(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<ItemDetail> {
        let (ctx, item) = self
            .item_of(principal, code, human_id, Permission::Read)
            .await?;
        let view = self.plan_view(&ctx).await?;
        let revisions = self
            .store
            .list_revisions(ReadinessItem::ARTEFACT_TYPE, &item.id.to_string())
            .await?;
        let node = NodeRef::Item(item.id);
        let gates = view
            .milestones
            .iter()
            .filter(|m| m.gates.contains(&item.id))
            .map(|m| (m.human_id.clone(), m.name.clone()))
            .collect();
        let (predecessors, successors) = view.neighbours(node);
        let late = view
            .graph
            .find(node)
            .and_then(|n| view.late.iter().find(|l| l.item == n))
            .map(|l| view.late_reason(l));
        let next = item.status.next(role_of(&ctx));
        Ok(ItemDetail {
            ctx,
            item,
            next,
            revisions,
            gates,
            predecessors,
            successors,
            late,
        })
    }

    pub async fn list_milestones(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<Milestone>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let m = self.store.list_milestones(ctx.project.id).await?;
        Ok((ctx, m))
    }

    /// Resolves gating items from human ids; every one must be an item of the project.
    async fn gate_ids(&self, ctx: &ProjectCtx, raw: &str) -> AppResult<Vec<OpsItemId>> {
        let wanted = id_list(raw);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let facts = self.store.item_facts(ctx.project.id).await?;
        let mut out = Vec::new();
        let mut errors = FieldErrors::new();
        for h in &wanted {
            match facts.iter().find(|f| &f.human_id == h) {
                Some(f) if !out.contains(&f.id) => out.push(f.id),
                Some(_) => {}
                None => errors.add("gates", format!("no readiness item {h} in this project")),
            }
        }
        errors.into_result()?;
        Ok(out)
    }

    pub async fn create_milestone(
        &self,
        principal: &Principal,
        code: &str,
        input: &MilestoneInput,
        gates: &str,
    ) -> AppResult<Milestone> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let now = self.clock.now();
        let mut m = Milestone {
            id: MilestoneId::new(),
            project_id: ctx.project.id,
            human_id: String::new(),
            name: String::new(),
            description: String::new(),
            target_date: now.date_naive(),
            status: MilestoneStatus::Planned,
            gates: Vec::new(),
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let mut errors = FieldErrors::new();
        if input.name.is_none() {
            errors.add("name", "is required");
        }
        if input.target_date.is_none() {
            errors.add("target_date", "is required");
        }
        input.apply(&mut m, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        m.gates = self.gate_ids(&ctx, gates).await?;
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Create,
                Milestone::ARTEFACT_TYPE,
                m.id,
            )
            .project(ctx.project.id)
            .changes(&json!({}), &m.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&m, Some(principal.user.id), now));
        m.human_id = self
            .store
            .insert_milestone(&m, &journal)
            .await
            .map_err(store_err)?;
        Ok(m)
    }

    /// Edits a milestone; `gates`, when given, replaces the gating items.
    pub async fn update_milestone(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &MilestoneInput,
        gates: Option<&str>,
        expected_revision: Option<i64>,
    ) -> AppResult<Milestone> {
        let (ctx, before) = self
            .milestone_of(principal, code, human_id, Permission::Write)
            .await?;
        if let Some(r) = expected_revision.filter(|r| *r != before.revision) {
            return Err(stale("milestone", &before.human_id, before.revision, r));
        }
        let mut m = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut m, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if let Some(g) = gates {
            m.gates = self.gate_ids(&ctx, g).await?;
        }
        if m.snapshot() == before.snapshot() {
            return Ok(before);
        }
        let now = self.clock.now();
        m.revision += 1;
        m.updated_at = now;
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Update,
                Milestone::ARTEFACT_TYPE,
                m.id,
            )
            .project(ctx.project.id)
            .changes(&before.snapshot(), &m.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&m, Some(principal.user.id), now));
        self.store
            .update_milestone(&m, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(m)
    }

    /// The gating items of a milestone that are not done: (human id, status).
    async fn open_gates(&self, m: &Milestone) -> AppResult<Vec<String>> {
        if m.gates.is_empty() {
            return Ok(Vec::new());
        }
        let facts = self.store.item_facts(m.project_id).await?;
        Ok(m.gates
            .iter()
            .filter_map(|g| facts.iter().find(|f| f.id == *g))
            .filter(|f| !f.status.is_done())
            .map(|f| format!("{} is {}", f.human_id, f.status.label().to_lowercase()))
            .collect())
    }

    /// A workflow step of a milestone. Achieving needs every gating item done, or a lead's
    /// `override_reason` (audited); missing needs the target date to have passed.
    pub async fn move_milestone(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        to: MilestoneStatus,
        override_reason: Option<&str>,
    ) -> AppResult<Milestone> {
        let (ctx, before) = self
            .milestone_of(principal, code, human_id, Permission::Write)
            .await?;
        let role = role_of(&ctx);
        before
            .status
            .check_move(to, role)
            .map_err(AppError::forbidden_or_conflict)?;
        let wants_override = override_reason.is_some_and(|r| !r.trim().is_empty());
        if wants_override && to != MilestoneStatus::Achieved {
            return Err(AppError::field(
                "reason",
                "is only for achieving a milestone against its gating rule",
            ));
        }
        let today = self.clock.now().date_naive();
        let mut reason = None;
        match to {
            MilestoneStatus::Achieved => {
                let open = self.open_gates(&before).await?;
                if wants_override {
                    if role != Role::Lead {
                        return Err(AppError::forbidden(
                            "only a project lead may override the gating rule",
                        ));
                    }
                    reason = Some(
                        parse_reason(override_reason.unwrap_or_default())
                            .map_err(|e| AppError::field("reason", e))?,
                    );
                } else if !open.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "milestone {} cannot be achieved: every gating item must be done ({}); \
                         a lead may record it achieved with a reason instead",
                        before.human_id,
                        open.join("; ")
                    )));
                }
            }
            MilestoneStatus::Missed if today <= before.target_date => {
                return Err(AppError::Conflict(format!(
                    "milestone {} cannot be missed before its target date {} has passed; mark it at risk instead",
                    before.human_id, before.target_date
                )));
            }
            _ => {}
        }
        let mut m = before.clone();
        m.status = to;
        m.updated_at = self.clock.now();
        let event = EventBuilder::by(
            self,
            principal,
            Action::Transition,
            Milestone::ARTEFACT_TYPE,
            m.id,
        )
        .project(ctx.project.id)
        .change("status", json!(before.status), json!(m.status));
        let event = match reason {
            Some(r) => event
                .change("gating_rule", json!(null), json!("overridden"))
                .reason(Some(r)),
            None => event,
        };
        self.store
            .update_milestone(&m, before.revision, &Journal::event(event.build()))
            .await
            .map_err(store_err)?;
        Ok(m)
    }

    pub async fn milestone_detail(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<MilestoneDetail> {
        let (ctx, milestone) = self
            .milestone_of(principal, code, human_id, Permission::Read)
            .await?;
        let plan = self.plan_view(&ctx).await?;
        let revisions = self
            .store
            .list_revisions(Milestone::ARTEFACT_TYPE, &milestone.id.to_string())
            .await?;
        let gates: Vec<ItemFact> = milestone
            .gates
            .iter()
            .filter_map(|g| plan.items.iter().find(|i| i.id == *g).cloned())
            .collect();
        let open_gates = gates
            .iter()
            .filter(|f| !f.status.is_done())
            .map(|f| format!("{} is {}", f.human_id, f.status.label().to_lowercase()))
            .collect();
        let node_ref = NodeRef::Milestone(milestone.id);
        let (predecessors, successors) = plan.neighbours(node_ref);
        let node = plan.graph.find(node_ref).ok_or(AppError::NotFound)?;
        let next = milestone.status.next(role_of(&ctx));
        Ok(MilestoneDetail {
            ctx,
            milestone,
            next,
            revisions,
            gates,
            open_gates,
            predecessors,
            successors,
            plan,
            node,
        })
    }

    /// Resolves `OPS-…` or `MS-…` to a node of the project.
    async fn node_of(&self, ctx: &ProjectCtx, field: &str, raw: &str) -> AppResult<NodeRef> {
        let hid = raw.trim().to_uppercase();
        let found = if hid.starts_with(&format!("{MILESTONE_PREFIX}-")) {
            self.store
                .find_milestone(ctx.project.id, &hid)
                .await?
                .map(|m| NodeRef::Milestone(m.id))
        } else if hid.starts_with(&format!("{ITEM_PREFIX}-")) {
            self.store
                .find_item(ctx.project.id, &hid)
                .await?
                .map(|i| NodeRef::Item(i.id))
        } else {
            return Err(AppError::field(
                field,
                format!("{raw:?} is not a readiness item (OPS-…) or a milestone (MS-…)"),
            ));
        };
        found.ok_or_else(|| {
            AppError::field(field, format!("no item or milestone {hid} in this project"))
        })
    }

    pub async fn list_ops_dependencies(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<DependencyView>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let deps = self.store.list_dependencies(ctx.project.id).await?;
        let items = self.store.item_facts(ctx.project.id).await?;
        let milestones = self.store.list_milestones(ctx.project.id).await?;
        let mut out: Vec<DependencyView> = deps
            .into_iter()
            .map(|d| DependencyView {
                predecessor: Self::node_name(&items, &milestones, d.predecessor),
                successor: Self::node_name(&items, &milestones, d.successor),
                dependency: d,
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.predecessor.0, &a.successor.0).cmp(&(&b.predecessor.0, &b.successor.0))
        });
        Ok((ctx, out))
    }

    /// Adds `predecessor → successor` (finish-to-start; human ids of items or milestones).
    /// Refused when it repeats a dependency or would close a cycle (the message names it).
    pub async fn add_ops_dependency(
        &self,
        principal: &Principal,
        code: &str,
        predecessor: &str,
        successor: &str,
    ) -> AppResult<Dependency> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let mut errors = FieldErrors::new();
        let p = match self.node_of(&ctx, "predecessor", predecessor).await {
            Ok(n) => Some(n),
            Err(AppError::Validation(e)) => {
                for (f, rs) in e.iter() {
                    for r in rs {
                        errors.add(f, r.clone());
                    }
                }
                None
            }
            Err(e) => return Err(e),
        };
        let s = match self.node_of(&ctx, "successor", successor).await {
            Ok(n) => Some(n),
            Err(AppError::Validation(e)) => {
                for (f, rs) in e.iter() {
                    for r in rs {
                        errors.add(f, r.clone());
                    }
                }
                None
            }
            Err(e) => return Err(e),
        };
        let (Some(p), Some(s)) = (p, s) else {
            return Err(AppError::Validation(errors));
        };
        if p == s {
            return Err(AppError::field(
                "successor",
                format!(
                    "{} cannot depend on itself",
                    successor.trim().to_uppercase()
                ),
            ));
        }
        let d = Dependency {
            id: DependencyId::new(),
            project_id: ctx.project.id,
            predecessor: p,
            successor: s,
            created_by: Some(principal.user.id),
            created_at: self.clock.now(),
        };
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Create, "ops_dependency", d.id)
                .project(ctx.project.id)
                .change(
                    "predecessor",
                    json!(null),
                    json!(predecessor.trim().to_uppercase()),
                )
                .change(
                    "successor",
                    json!(null),
                    json!(successor.trim().to_uppercase()),
                )
                .build(),
        );
        self.store
            .insert_dependency(&d, &journal)
            .await
            .map_err(store_err)?;
        Ok(d)
    }

    pub async fn remove_ops_dependency(
        &self,
        principal: &Principal,
        code: &str,
        id: DependencyId,
    ) -> AppResult<()> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let deps = self.store.list_dependencies(ctx.project.id).await?;
        let d = deps.iter().find(|d| d.id == id).ok_or(AppError::NotFound)?;
        let items = self.store.item_facts(ctx.project.id).await?;
        let milestones = self.store.list_milestones(ctx.project.id).await?;
        let (p, _) = Self::node_name(&items, &milestones, d.predecessor);
        let (s, _) = Self::node_name(&items, &milestones, d.successor);
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Delete, "ops_dependency", d.id)
                .project(ctx.project.id)
                .change("predecessor", json!(p), json!(null))
                .change("successor", json!(s), json!(null))
                .build(),
        );
        self.store
            .delete_dependency(ctx.project.id, id, &journal)
            .await
            .map_err(store_err)
    }
}

impl App {
    /// Writes a whole generated plan in one transaction (the benchmark generator). Refused
    /// when its edges hold a cycle; audited as one import event.
    pub async fn import_ops_plan(
        &self,
        principal: &Principal,
        code: &str,
        mut bulk: crate::ports::OpsBulk,
    ) -> AppResult<u64> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        bulk.project_id = Some(ctx.project.id);
        bulk.author = Some(principal.user.id);
        let view = plan::PlanView::build(
            self.clock.now().date_naive(),
            bulk.items.iter().map(ItemFact::from).collect(),
            bulk.milestones.clone(),
            bulk.dependencies.clone(),
        );
        let g = &view.graph;
        let order = g.topo_order();
        let mut placed = vec![false; g.len()];
        for n in order {
            if g.preds(n).iter().any(|p| !placed[*p]) {
                return Err(AppError::field(
                    "dependencies",
                    format!("the plan has a cycle through {}", g.nodes[n].label),
                ));
            }
            placed[n] = true;
        }
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Import, "ops_plan", ctx.project.id)
                .project(ctx.project.id)
                .change("items", json!(null), json!(bulk.items.len()))
                .change("milestones", json!(null), json!(bulk.milestones.len()))
                .change("dependencies", json!(null), json!(bulk.dependencies.len()))
                .build(),
        );
        self.store
            .insert_ops_bulk(&bulk, &journal)
            .await
            .map_err(store_err)
    }
}
