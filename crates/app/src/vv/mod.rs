//! Verification and validation use cases: plans and activities (here), cases and sets,
//! results with evidence, defects, snapshots, JUnit import, reports and the dashboard.

pub mod cases;
pub mod dashboard;
pub mod defects;
pub mod junit;
pub mod report;
pub mod results;
pub mod snapshots;

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{Journal, PlanSummary, StoreError};
use crate::{App, Principal};
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{ActivityId, ModuleId, PlanId};
use opensesa_domain::requirements::VerificationMethod;
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::vv::{Activity, ActivityInput, Plan, PlanInput, PlanStatus};
use opensesa_domain::FieldErrors;
use serde_json::json;

/// The role a member acts with; administrators without a membership act as leads.
pub fn role_of(ctx: &ProjectCtx) -> Role {
    ctx.role.unwrap_or(Role::Lead)
}

/// Store conflicts (optimistic revisions, uniqueness) are the caller's to resolve.
pub(crate) fn store_err(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(why) => AppError::Conflict(why),
        other => other.into(),
    }
}

/// A plan with its activities.
pub struct PlanDetail {
    pub ctx: ProjectCtx,
    pub plan: Plan,
    pub activities: Vec<Activity>,
    pub next: Vec<PlanStatus>,
    pub scope: Vec<(ModuleId, String)>,
}

impl App {
    pub async fn list_plans(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<PlanSummary>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let plans = self.store.list_plans(ctx.project.id).await?;
        Ok((ctx, plans))
    }

    pub(crate) async fn plan_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, Plan)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let plan = self
            .store
            .find_plan(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, plan))
    }

    pub async fn plan(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<PlanDetail> {
        let (ctx, plan) = self
            .plan_of(principal, code, human_id, Permission::Read)
            .await?;
        let activities = self.store.plan_activities(plan.id).await?;
        let modules = self.store.list_modules(ctx.project.id).await?;
        let scope = plan
            .scope_modules
            .iter()
            .map(|id| {
                let label = modules.iter().find(|m| m.id == *id).map_or_else(
                    || "(removed module)".to_owned(),
                    |m| format!("{} {}", m.prefix, m.name),
                );
                (*id, label)
            })
            .collect();
        let next = plan.status.next(role_of(&ctx));
        Ok(PlanDetail {
            ctx,
            plan,
            activities,
            next,
            scope,
        })
    }

    /// Resolves module prefixes (comma or space separated) of the plan's scope.
    async fn scope_modules(&self, ctx: &ProjectCtx, raw: &str) -> AppResult<Vec<ModuleId>> {
        let modules = self.store.list_modules(ctx.project.id).await?;
        let mut out = Vec::new();
        for p in raw
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let m = modules
                .iter()
                .find(|m| m.prefix.eq_ignore_ascii_case(p))
                .ok_or_else(|| {
                    AppError::field("scope", format!("no module has the prefix {p:?}"))
                })?;
            if !out.contains(&m.id) {
                out.push(m.id);
            }
        }
        Ok(out)
    }

    pub async fn create_plan(
        &self,
        principal: &Principal,
        code: &str,
        input: &PlanInput,
        scope: &str,
    ) -> AppResult<Plan> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let now = self.clock.now();
        let mut plan = Plan {
            id: PlanId::new(),
            project_id: ctx.project.id,
            human_id: String::new(),
            title: String::new(),
            description: String::new(),
            scope_modules: Vec::new(),
            status: PlanStatus::Draft,
            revision: 1,
            approved_by: None,
            approved_at: None,
            created_at: now,
            updated_at: now,
        };
        let mut errors = FieldErrors::new();
        if input.title.is_none() {
            errors.add("title", "is required");
        }
        input.apply(&mut plan, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        plan.scope_modules = self.scope_modules(&ctx, scope).await?;
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Create,
                Plan::ARTEFACT_TYPE,
                plan.id,
            )
            .project(ctx.project.id)
            .changes(&json!({}), &plan.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&plan, Some(principal.user.id), now));
        plan.human_id = self
            .store
            .insert_plan(&plan, &journal)
            .await
            .map_err(store_err)?;
        Ok(plan)
    }

    pub async fn update_plan(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &PlanInput,
        scope: Option<&str>,
        expected_revision: Option<i64>,
    ) -> AppResult<Plan> {
        let (ctx, before) = self
            .plan_of(principal, code, human_id, Permission::Write)
            .await?;
        if before.status == PlanStatus::Closed {
            return Err(AppError::Conflict(format!(
                "plan {} is closed; a lead reopens it before it is edited",
                before.human_id
            )));
        }
        if let Some(r) = expected_revision {
            if r != before.revision {
                return Err(AppError::Conflict(format!(
                    "plan {} has changed since you opened it (revision {} is current, yours is {r}); reload",
                    before.human_id, before.revision
                )));
            }
        }
        let mut plan = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut plan, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if let Some(s) = scope {
            plan.scope_modules = self.scope_modules(&ctx, s).await?;
        }
        if plan.snapshot() == before.snapshot() {
            return Ok(before);
        }
        let now = self.clock.now();
        plan.revision += 1;
        plan.updated_at = now;
        // An approved plan whose content changes needs approving again.
        if plan.status == PlanStatus::Approved {
            plan.status = PlanStatus::Draft;
            plan.approved_by = None;
            plan.approved_at = None;
        }
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Update,
                Plan::ARTEFACT_TYPE,
                plan.id,
            )
            .project(ctx.project.id)
            .changes(&before.snapshot(), &plan.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&plan, Some(principal.user.id), now));
        self.store
            .update_plan(&plan, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(plan)
    }

    pub async fn move_plan(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        to: PlanStatus,
    ) -> AppResult<Plan> {
        let (ctx, before) = self
            .plan_of(principal, code, human_id, Permission::Write)
            .await?;
        before
            .status
            .check_move(to, role_of(&ctx))
            .map_err(AppError::forbidden_or_conflict)?;
        let mut plan = before.clone();
        plan.status = to;
        plan.updated_at = self.clock.now();
        if to == PlanStatus::Approved {
            plan.approved_by = Some(principal.user.id);
            plan.approved_at = Some(plan.updated_at);
        }
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Transition,
                Plan::ARTEFACT_TYPE,
                plan.id,
            )
            .project(ctx.project.id)
            .change("status", json!(before.status), json!(plan.status))
            .build(),
        );
        self.store
            .update_plan(&plan, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(plan)
    }

    pub async fn save_activity(
        &self,
        principal: &Principal,
        code: &str,
        plan_human_id: &str,
        id: Option<ActivityId>,
        input: &ActivityInput,
    ) -> AppResult<Activity> {
        let (ctx, plan) = self
            .plan_of(principal, code, plan_human_id, Permission::Write)
            .await?;
        if plan.status == PlanStatus::Closed {
            return Err(AppError::Conflict(format!(
                "plan {} is closed",
                plan.human_id
            )));
        }
        let existing = self.store.plan_activities(plan.id).await?;
        let (mut a, before) = match id {
            Some(id) => {
                let a = existing
                    .iter()
                    .find(|a| a.id == id)
                    .cloned()
                    .ok_or(AppError::NotFound)?;
                (a.clone(), Some(a))
            }
            None => (
                Activity {
                    id: ActivityId::new(),
                    plan_id: plan.id,
                    title: String::new(),
                    phase: String::new(),
                    method: VerificationMethod::Test,
                    planned_start: None,
                    planned_end: None,
                    organisation: String::new(),
                    ordinal: existing.last().map_or(0, |a| a.ordinal) + 1,
                },
                None,
            ),
        };
        let mut errors = FieldErrors::new();
        if before.is_none() && input.title.is_none() {
            errors.add("title", "is required");
        }
        input.apply(&mut a, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let snap = |a: &Activity| serde_json::to_value(a).unwrap_or_default();
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                if before.is_some() {
                    Action::Update
                } else {
                    Action::Create
                },
                "vv_activity",
                a.id,
            )
            .project(ctx.project.id)
            .changes(&before.as_ref().map_or(json!({}), snap), &snap(&a))
            .build(),
        );
        self.store
            .save_activity(&a, before.is_none(), &journal)
            .await
            .map_err(store_err)?;
        Ok(a)
    }
}

impl AppError {
    /// A refused workflow step: a role problem is forbidden, an impossible step a conflict.
    pub fn forbidden_or_conflict(why: String) -> AppError {
        if why.starts_with("only a project") {
            AppError::Forbidden(why)
        } else {
            AppError::Conflict(why)
        }
    }
}
