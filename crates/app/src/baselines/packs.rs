//! Release packs on frozen baselines: content (documents, notes), the live readiness
//! checklist, lock (checklist passes, or a lead's override with a reason) and unlock (with a
//! reason), adoption actions and governance decisions.

use super::store_err;
use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{AuditQuery, Journal, PackSummary};
use crate::vv::role_of;
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::{Action, AuditEvent};
use opensesa_domain::baselines::checklist::evaluate;
use opensesa_domain::baselines::{
    parse_reason, ActionInput, ActionStatus, AdoptionAction, ArtefactKind, Baseline,
    BaselineStatus, Checklist, ChecklistFacts, Decision, DecisionInput, PackInput, PackStatus,
    ReleasePack,
};
use opensesa_domain::ids::{ActionId, DecisionId, PackId};
use opensesa_domain::requirements::model::ReqKind;
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::vv::Verdict;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A pack with everything its page shows.
pub struct PackDetail {
    pub ctx: ProjectCtx,
    pub pack: ReleasePack,
    pub baseline: Baseline,
    pub checklist: Checklist,
    pub actions: Vec<AdoptionAction>,
    pub decisions: Vec<Decision>,
    /// The pack's audit trail (creation, edits, locks and unlocks with reasons), newest first.
    pub history: Vec<AuditEvent>,
}

impl App {
    pub async fn list_packs(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<PackSummary>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let packs = self.store.list_packs(ctx.project.id).await?;
        Ok((ctx, packs))
    }

    async fn pack_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, ReleasePack)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let pack = self
            .store
            .find_pack(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, pack))
    }

    async fn pack_baseline(&self, ctx: &ProjectCtx, pack: &ReleasePack) -> AppResult<Baseline> {
        self.store
            .find_baseline_by_id(ctx.project.id, pack.baseline_id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("{} has no baseline", pack.human_id)))
    }

    /// The readiness checklist of a frozen baseline, from the live state of its artefacts.
    pub async fn readiness(&self, ctx: &ProjectCtx, baseline: &Baseline) -> AppResult<Checklist> {
        let items = self.frozen_items(baseline).await?;
        let project = ctx.project.id;
        let live = self.store.readiness_facts(project).await?;
        let cases = self.store.case_facts(project).await?;
        let latest = self.store.latest_results(project).await?;
        let defects = self.store.list_defects(project).await?;

        let facts: HashMap<Uuid, (&str, &str, Option<i64>)> = live
            .requirements
            .iter()
            .map(|(id, kind, status, approved)| (*id, (kind.as_str(), status.as_str(), *approved)))
            .collect();
        let case_ids: HashMap<Uuid, &str> = cases
            .iter()
            .map(|c| (c.id.0, c.human_id.as_str()))
            .collect();
        let mut f = ChecklistFacts::default();
        let mut in_scope: HashSet<Uuid> = HashSet::new();
        for i in items.iter().filter(|i| i.kind == ArtefactKind::Requirement) {
            let Some(&(kind, status, approved)) = facts.get(&i.id) else {
                continue;
            };
            let proper =
                ReqKind::parse(kind).is_ok_and(ReqKind::is_requirement) && status != "obsolete";
            if !proper {
                continue;
            }
            in_scope.insert(i.id);
            f.requirements += 1;
            if approved != Some(i.revision) {
                f.not_approved.push(i.label.clone());
            }
        }
        let mut verified: HashSet<Uuid> = HashSet::new();
        let mut case_set: HashSet<Uuid> = items
            .iter()
            .filter(|i| i.kind == ArtefactKind::Case)
            .map(|i| i.id)
            .collect();
        for &(source, target) in &live.verifies {
            if case_ids.contains_key(&source) && in_scope.contains(&target) {
                verified.insert(target);
                case_set.insert(source);
            }
        }
        let mut without: Vec<&Item> = Vec::new();
        for i in items.iter().filter(|i| in_scope.contains(&i.id)) {
            if !verified.contains(&i.id) {
                without.push(i);
            }
        }
        f.without_case = without.into_iter().map(|i| i.label.clone()).collect();
        let latest: HashMap<Uuid, Verdict> =
            latest.iter().map(|l| (l.case_id.0, l.verdict)).collect();
        let mut case_list: Vec<(&str, Uuid)> = case_set
            .iter()
            .filter_map(|c| case_ids.get(c).map(|h| (*h, *c)))
            .collect();
        case_list.sort();
        f.cases = case_list.len();
        for (h, c) in case_list {
            match latest.get(&c) {
                Some(Verdict::Fail) => f.failing.push(h.to_owned()),
                Some(Verdict::Pass) => {}
                _ => f.not_passed.push(h.to_owned()),
            }
        }
        for d in defects.iter().filter(|d| d.status.is_open()) {
            let concerns = d.cases.iter().any(|c| case_set.contains(&c.0))
                || d.requirements.iter().any(|r| in_scope.contains(&r.0));
            if concerns {
                f.open_defects
                    .push((d.human_id.clone(), d.severity.as_str().to_owned()));
            }
        }
        let suspect: HashSet<Uuid> = live.suspect.iter().copied().collect();
        f.suspect_links = items
            .iter()
            .filter(|i| i.kind == ArtefactKind::Link && suspect.contains(&i.id))
            .map(|i| i.label.clone())
            .collect();
        Ok(evaluate(&f))
    }

    pub async fn pack(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<PackDetail> {
        let (ctx, pack) = self
            .pack_of(principal, code, human_id, Permission::Read)
            .await?;
        let baseline = self.pack_baseline(&ctx, &pack).await?;
        let checklist = self.readiness(&ctx, &baseline).await?;
        let actions = self.store.pack_actions(pack.id).await?;
        let decisions = self.store.pack_decisions(pack.id).await?;
        let history = self
            .store
            .list_audit(&AuditQuery {
                project_id: Some(ctx.project.id),
                artefact_type: Some(ReleasePack::ARTEFACT_TYPE.to_owned()),
                artefact_id: Some(pack.id.to_string()),
                limit: 200,
                ..Default::default()
            })
            .await?;
        Ok(PackDetail {
            ctx,
            pack,
            baseline,
            checklist,
            actions,
            decisions,
            history,
        })
    }

    /// Creates a draft pack on a frozen baseline.
    pub async fn create_pack(
        &self,
        principal: &Principal,
        code: &str,
        baseline: &str,
        input: &PackInput,
    ) -> AppResult<ReleasePack> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let (name, notes, documents) = input.parse().map_err(AppError::Validation)?;
        let b = self
            .store
            .find_baseline(ctx.project.id, &baseline.trim().to_uppercase())
            .await?
            .ok_or_else(|| AppError::field("baseline", format!("no baseline {baseline:?}")))?;
        if b.status != BaselineStatus::Frozen {
            return Err(AppError::field(
                "baseline",
                format!(
                    "{} is a draft: a release pack needs a frozen baseline",
                    b.human_id
                ),
            ));
        }
        let now = self.clock.now();
        let mut pack = ReleasePack {
            id: PackId::new(),
            project_id: ctx.project.id,
            human_id: String::new(),
            baseline_id: b.id,
            name,
            notes,
            documents,
            status: PackStatus::Draft,
            revision: 1,
            locked_by: None,
            locked_at: None,
            lock_override: None,
            created_by: Some(principal.user.id),
            created_at: now,
            updated_at: now,
        };
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Create,
                ReleasePack::ARTEFACT_TYPE,
                pack.id,
            )
            .project(ctx.project.id)
            .changes(&json!({}), &pack.snapshot())
            .change("human_id", json!(null), json!(""))
            .build(),
        )
        .with_revision(Revision::of(&pack, Some(principal.user.id), now));
        pack.human_id = self
            .store
            .insert_pack(&pack, &journal)
            .await
            .map_err(store_err)?;
        Ok(pack)
    }

    /// Changes a draft pack's name, notes and documents (a locked pack must be unlocked first).
    pub async fn edit_pack(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &PackInput,
    ) -> AppResult<ReleasePack> {
        let (ctx, before) = self
            .pack_of(principal, code, human_id, Permission::Write)
            .await?;
        if before.status == PackStatus::Locked {
            return Err(AppError::Conflict(format!(
                "release pack {} is locked; a lead unlocks it (with a reason) before it changes",
                before.human_id
            )));
        }
        let (name, notes, documents) = input.parse().map_err(AppError::Validation)?;
        let mut p = before.clone();
        p.name = name;
        p.notes = notes;
        p.documents = documents;
        if p.snapshot() == before.snapshot() {
            return Ok(before);
        }
        let now = self.clock.now();
        p.revision += 1;
        p.updated_at = now;
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Update,
                ReleasePack::ARTEFACT_TYPE,
                p.id,
            )
            .project(ctx.project.id)
            .changes(&before.snapshot(), &p.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&p, Some(principal.user.id), now));
        self.store
            .update_pack(&p, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(p)
    }

    /// Locks a pack: the checklist must pass, or a lead gives a reason to override it.
    pub async fn lock_pack(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        override_reason: Option<&str>,
    ) -> AppResult<ReleasePack> {
        let (ctx, before) = self
            .pack_of(principal, code, human_id, Permission::Lead)
            .await?;
        if before.status == PackStatus::Locked {
            return Err(AppError::Conflict(format!(
                "release pack {} is locked already",
                before.human_id
            )));
        }
        let baseline = self.pack_baseline(&ctx, &before).await?;
        let checklist = self.readiness(&ctx, &baseline).await?;
        let wants_override = override_reason.is_some_and(|r| !r.trim().is_empty());
        let reason = if checklist.passed() {
            None
        } else if wants_override {
            Some(
                parse_reason(override_reason.unwrap_or_default())
                    .map_err(|e| AppError::field("reason", e))?,
            )
        } else {
            let failing: Vec<String> = checklist
                .failing()
                .iter()
                .map(|i| format!("{} ({})", i.label, i.detail))
                .collect();
            return Err(AppError::Conflict(format!(
                "release pack {} cannot be locked: the readiness checklist fails: {}; a lead may lock it with a reason instead",
                before.human_id,
                failing.join("; ")
            )));
        };
        let now = self.clock.now();
        let mut p = before.clone();
        p.status = PackStatus::Locked;
        p.locked_by = Some(principal.user.id);
        p.locked_at = Some(now);
        p.lock_override = reason.clone();
        p.updated_at = now;
        let event = EventBuilder::by(
            self,
            principal,
            Action::Transition,
            ReleasePack::ARTEFACT_TYPE,
            p.id,
        )
        .project(ctx.project.id)
        .change("status", json!("draft"), json!("locked"))
        .change(
            "checklist",
            json!(null),
            json!(if checklist.passed() {
                "passed"
            } else {
                "overridden"
            }),
        )
        .change(
            "baseline_hash",
            json!(null),
            json!(baseline.frozen.as_ref().map(|f| f.content_hash.clone())),
        )
        .reason(reason);
        self.store
            .update_pack(&p, before.revision, &Journal::event(event.build()))
            .await
            .map_err(store_err)?;
        Ok(p)
    }

    /// Unlocks a locked pack (a lead's, with a reason).
    pub async fn unlock_pack(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        reason: &str,
    ) -> AppResult<ReleasePack> {
        let (ctx, before) = self
            .pack_of(principal, code, human_id, Permission::Lead)
            .await?;
        if before.status != PackStatus::Locked {
            return Err(AppError::Conflict(format!(
                "release pack {} is not locked",
                before.human_id
            )));
        }
        let reason = parse_reason(reason).map_err(|e| AppError::field("reason", e))?;
        let mut p = before.clone();
        p.status = PackStatus::Draft;
        p.locked_by = None;
        p.locked_at = None;
        p.lock_override = None;
        p.updated_at = self.clock.now();
        let event = EventBuilder::by(
            self,
            principal,
            Action::Transition,
            ReleasePack::ARTEFACT_TYPE,
            p.id,
        )
        .project(ctx.project.id)
        .change("status", json!("locked"), json!("draft"))
        .reason(Some(reason));
        self.store
            .update_pack(&p, before.revision, &Journal::event(event.build()))
            .await
            .map_err(store_err)?;
        Ok(p)
    }

    /// Records a governance decision (a lead's): go, no-go or conditional, with rationale.
    pub async fn decide_pack(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &DecisionInput,
    ) -> AppResult<Decision> {
        let (ctx, pack) = self
            .pack_of(principal, code, human_id, Permission::Lead)
            .await?;
        let (kind, rationale, conditions) = input.parse().map_err(AppError::Validation)?;
        let baseline = self.pack_baseline(&ctx, &pack).await?;
        let checklist = self.readiness(&ctx, &baseline).await?;
        let d = Decision {
            id: DecisionId::new(),
            project_id: ctx.project.id,
            pack_id: pack.id,
            kind,
            rationale,
            conditions,
            checklist_passed: checklist.passed(),
            decided_by: Some(principal.user.id),
            decided_by_name: principal.label(),
            decided_at: self.clock.now(),
        };
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Create,
                ReleasePack::ARTEFACT_TYPE,
                pack.id,
            )
            .project(ctx.project.id)
            .change("decision", json!(null), json!(d.kind))
            .change("conditions", json!(null), json!(d.conditions))
            .change("checklist_passed", json!(null), json!(d.checklist_passed))
            .reason(Some(d.rationale.clone()))
            .build(),
        );
        self.store
            .insert_decision(&d, &journal)
            .await
            .map_err(store_err)?;
        Ok(d)
    }

    pub async fn add_action(
        &self,
        principal: &Principal,
        code: &str,
        pack: &str,
        input: &ActionInput,
    ) -> AppResult<AdoptionAction> {
        let (ctx, pack) = self
            .pack_of(principal, code, pack, Permission::Write)
            .await?;
        let (title, owner, due) = input.parse().map_err(AppError::Validation)?;
        let now = self.clock.now();
        let mut a = AdoptionAction {
            id: ActionId::new(),
            project_id: ctx.project.id,
            pack_id: pack.id,
            human_id: String::new(),
            title,
            owner,
            due,
            status: ActionStatus::Open,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Create,
                AdoptionAction::ARTEFACT_TYPE,
                a.id,
            )
            .project(ctx.project.id)
            .changes(&json!({}), &a.snapshot())
            .change("human_id", json!(null), json!(""))
            .change("pack", json!(null), json!(pack.human_id))
            .build(),
        )
        .with_revision(Revision::of(&a, Some(principal.user.id), now));
        a.human_id = self
            .store
            .insert_action(&a, &journal)
            .await
            .map_err(store_err)?;
        Ok(a)
    }

    /// The human id of the pack an adoption action belongs to.
    pub async fn action_pack(
        &self,
        principal: &Principal,
        code: &str,
        action: &str,
    ) -> AppResult<String> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let a = self
            .store
            .find_action(ctx.project.id, &action.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        let packs = self.store.list_packs(ctx.project.id).await?;
        packs
            .into_iter()
            .find(|s| s.pack.id == a.pack_id)
            .map(|s| s.pack.human_id)
            .ok_or(AppError::NotFound)
    }

    async fn action_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<(ProjectCtx, AdoptionAction)> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let a = self
            .store
            .find_action(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, a))
    }

    pub async fn edit_action(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &ActionInput,
    ) -> AppResult<AdoptionAction> {
        let (ctx, before) = self.action_of(principal, code, human_id).await?;
        let (title, owner, due) = input.parse().map_err(AppError::Validation)?;
        let mut a = before.clone();
        a.title = title;
        a.owner = owner;
        a.due = due;
        if a.snapshot() == before.snapshot() {
            return Ok(before);
        }
        let now = self.clock.now();
        a.revision += 1;
        a.updated_at = now;
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Update,
                AdoptionAction::ARTEFACT_TYPE,
                a.id,
            )
            .project(ctx.project.id)
            .changes(&before.snapshot(), &a.snapshot())
            .build(),
        )
        .with_revision(Revision::of(&a, Some(principal.user.id), now));
        self.store
            .update_action(&a, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(a)
    }

    pub async fn move_action(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        to: ActionStatus,
    ) -> AppResult<AdoptionAction> {
        let (ctx, before) = self.action_of(principal, code, human_id).await?;
        before
            .status
            .check_move(to, role_of(&ctx))
            .map_err(AppError::forbidden_or_conflict)?;
        let mut a = before.clone();
        a.status = to;
        a.updated_at = self.clock.now();
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                Action::Transition,
                AdoptionAction::ARTEFACT_TYPE,
                a.id,
            )
            .project(ctx.project.id)
            .change("status", json!(before.status), json!(a.status))
            .build(),
        );
        self.store
            .update_action(&a, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(a)
    }
}

use opensesa_domain::baselines::Item;
