//! Verification cases (with their `verifies` links to requirements) and case sets.

use super::{role_of, store_err};
use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{
    CaseBatch, CasePage, CaseQuery, CaseWrite, Journal, LinkView, ResultRecord, SetSummary,
};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{CaseId, CaseSetId, LinkId};
use opensesa_domain::portfolio::{parse_description, parse_name};
use opensesa_domain::requirements::{LinkKind, Requirement, TraceLink};
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::vv::{Case, CaseInput, CaseSet, CaseStatus, Defect, PlanStatus};
use opensesa_domain::FieldErrors;
use serde_json::json;

/// The artefact type of a case at a trace link's end.
pub const CASE_END: &str = "vv_case";

pub struct CaseDetail {
    pub ctx: ProjectCtx,
    pub case: Case,
    pub links: Vec<LinkView>,
    pub results: Vec<ResultRecord>,
    pub defects: Vec<Defect>,
    pub sets: Vec<SetSummary>,
    pub revisions: Vec<Revision>,
    pub next: Vec<CaseStatus>,
    pub activity: Option<(String, String)>,
}

pub struct SetDetail {
    pub ctx: ProjectCtx,
    pub set: CaseSet,
    pub cases: CasePage,
}

/// Parses requirement human ids typed as a list (commas, spaces or lines).
fn id_list(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in raw
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty())
    {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

impl App {
    pub(crate) async fn case_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, Case)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let case = self
            .store
            .find_case(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, case))
    }

    pub async fn list_cases(
        &self,
        principal: &Principal,
        code: &str,
        mut query: CaseQuery,
    ) -> AppResult<(ProjectCtx, CasePage)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        query.project_id = Some(ctx.project.id);
        if query.limit <= 0 {
            query.limit = 100;
        }
        let page = self.store.list_cases(&query).await?;
        Ok((ctx, page))
    }

    pub async fn case_detail(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<CaseDetail> {
        let (ctx, case) = self
            .case_of(principal, code, human_id, Permission::Read)
            .await?;
        let links = self.store.links_of(case.id.0).await?;
        let results = self.store.case_results(case.id, 200).await?;
        let defects = self
            .store
            .list_defects(ctx.project.id)
            .await?
            .into_iter()
            .filter(|d| d.cases.contains(&case.id))
            .collect();
        let mut sets = Vec::new();
        for s in self.store.list_sets(ctx.project.id).await? {
            if self.store.set_members(s.set.id).await?.contains(&case.id) {
                sets.push(s);
            }
        }
        let revisions = self
            .store
            .list_revisions(Case::ARTEFACT_TYPE, &case.id.to_string())
            .await?;
        let activity = match case.activity_id {
            None => None,
            Some(a) => {
                let mut found = None;
                for p in self.store.list_plans(ctx.project.id).await? {
                    if let Some(act) = self
                        .store
                        .plan_activities(p.plan.id)
                        .await?
                        .into_iter()
                        .find(|x| x.id == a)
                    {
                        found = Some((p.plan.human_id.clone(), act.title));
                        break;
                    }
                }
                found
            }
        };
        let next = case.status.next(role_of(&ctx));
        Ok(CaseDetail {
            ctx,
            case,
            links,
            results,
            defects,
            sets,
            revisions,
            next,
            activity,
        })
    }

    /// Resolves the requirements a case verifies.
    async fn verified_requirements(
        &self,
        ctx: &ProjectCtx,
        raw: &str,
    ) -> AppResult<Vec<Requirement>> {
        let ids = id_list(raw);
        let found = self
            .store
            .find_requirements_by_human_ids(ctx.project.id, &ids)
            .await?;
        let missing: Vec<&str> = ids
            .iter()
            .filter(|h| !found.iter().any(|r| &r.human_id == *h))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(AppError::field(
                "verifies",
                format!("no requirement {} in this project", missing.join(", ")),
            ));
        }
        Ok(found)
    }

    fn verifies_link(&self, case: &Case, req: &Requirement, by: &Principal) -> TraceLink {
        let now = self.clock.now();
        TraceLink {
            id: LinkId::new(),
            project_id: case.project_id,
            kind: LinkKind::Verifies,
            source_type: CASE_END.into(),
            source_id: case.id.0,
            target_type: "requirement".into(),
            target_id: req.id.0,
            source_revision: case.revision,
            target_revision: req.revision,
            suspect: false,
            suspect_reasons: Vec::new(),
            created_by: Some(by.user.id),
            created_at: now,
            confirmed_at: now,
            confirmed_by: Some(by.user.id),
            external_id: None,
        }
    }

    /// Resolves the plan activity a case is allocated to: `VP-001/2` (the plan and the
    /// activity's position) or empty for none.
    async fn activity_ref(
        &self,
        ctx: &ProjectCtx,
        raw: &str,
    ) -> AppResult<Option<opensesa_domain::ids::ActivityId>> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let bad = || {
            AppError::field(
                "activity",
                format!("{raw:?} is not a plan activity; write it as PLAN/N, e.g. VP-001/1"),
            )
        };
        let (plan, n) = raw.split_once('/').ok_or_else(bad)?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        let plan = self
            .store
            .find_plan(ctx.project.id, &plan.trim().to_uppercase())
            .await?
            .ok_or_else(bad)?;
        if plan.status == PlanStatus::Closed {
            return Err(AppError::field(
                "activity",
                format!("plan {} is closed", plan.human_id),
            ));
        }
        let acts = self.store.plan_activities(plan.id).await?;
        let a = n.checked_sub(1).and_then(|i| acts.get(i)).ok_or_else(bad)?;
        Ok(Some(a.id))
    }

    /// Creates a case; `verifies` lists requirement human ids, `activity` is `VP-001/1` or
    /// empty.
    pub async fn create_case(
        &self,
        principal: &Principal,
        code: &str,
        input: &CaseInput,
        verifies: &str,
        activity: &str,
    ) -> AppResult<Case> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let now = self.clock.now();
        let mut case = Case::blank(ctx.project.id, now);
        let mut errors = FieldErrors::new();
        if input.title.is_none() {
            errors.add("title", "is required");
        }
        input.apply(&mut case, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        case.activity_id = self.activity_ref(&ctx, activity).await?;
        let reqs = self.verified_requirements(&ctx, verifies).await?;
        let links: Vec<TraceLink> = reqs
            .iter()
            .map(|r| self.verifies_link(&case, r, principal))
            .collect();
        let hids = self
            .write_cases(
                principal,
                &ctx,
                vec![(case.clone(), None)],
                links,
                Vec::new(),
            )
            .await?;
        case.human_id = hids.into_iter().next().unwrap_or_default();
        Ok(case)
    }

    /// Writes cases with their events and revisions; `before` is the stored case of an update.
    pub(crate) async fn write_cases(
        &self,
        principal: &Principal,
        ctx: &ProjectCtx,
        cases: Vec<(Case, Option<Case>)>,
        add_links: Vec<TraceLink>,
        remove_links: Vec<LinkId>,
    ) -> AppResult<Vec<String>> {
        let now = self.clock.now();
        let mut journal = Journal::default();
        let mut batch = CaseBatch {
            project_id: Some(ctx.project.id),
            ..Default::default()
        };
        for (case, before) in cases {
            let content_changed = before
                .as_ref()
                .is_none_or(|b| b.snapshot() != case.snapshot());
            let (action, old) = match &before {
                Some(b) => (Action::Update, b.snapshot()),
                None => (Action::Create, json!({})),
            };
            let mut old = old;
            let mut after = case.snapshot();
            if let Some(b) = &before {
                if b.status != case.status {
                    if let (Some(o), Some(a)) = (old.as_object_mut(), after.as_object_mut()) {
                        o.insert("status".into(), json!(b.status));
                        a.insert("status".into(), json!(case.status));
                    }
                }
            }
            journal.events.push(
                EventBuilder::by(self, principal, action, Case::ARTEFACT_TYPE, case.id)
                    .project(ctx.project.id)
                    .changes(&old, &after)
                    .build(),
            );
            if content_changed {
                journal
                    .revisions
                    .push(Revision::of(&case, Some(principal.user.id), now));
            }
            batch.cases.push(CaseWrite {
                create: before.is_none(),
                content_changed,
                case,
            });
        }
        for l in &add_links {
            journal.events.push(
                EventBuilder::by(self, principal, Action::Create, "trace_link", l.id)
                    .project(ctx.project.id)
                    .changes(&json!({}), &l.snapshot())
                    .build(),
            );
        }
        for id in &remove_links {
            journal.events.push(
                EventBuilder::by(self, principal, Action::Delete, "trace_link", id)
                    .project(ctx.project.id)
                    .build(),
            );
        }
        batch.add_links = add_links;
        batch.remove_links = remove_links;
        self.store
            .save_cases(&batch, &journal)
            .await
            .map_err(store_err)
    }

    /// Writes prepared new cases and their links in one transaction (audit events and first
    /// revisions included), for bulk loaders such as `opensesa demo --size N`; returns the
    /// human ids given. Needs write access to the project.
    pub async fn import_cases(
        &self,
        principal: &Principal,
        code: &str,
        cases: Vec<Case>,
        links: Vec<TraceLink>,
    ) -> AppResult<Vec<String>> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        if cases.iter().any(|c| c.project_id != ctx.project.id)
            || links.iter().any(|l| l.project_id != ctx.project.id)
        {
            return Err(AppError::forbidden(
                "every case and link must belong to the project",
            ));
        }
        self.write_cases(
            principal,
            &ctx,
            cases.into_iter().map(|c| (c, None)).collect(),
            links,
            Vec::new(),
        )
        .await
    }

    /// Edits a case; `verifies` (when given) replaces the set of verified requirements.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_case(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &CaseInput,
        verifies: Option<&str>,
        activity: Option<&str>,
        expected_revision: Option<i64>,
    ) -> AppResult<Case> {
        let (ctx, before) = self
            .case_of(principal, code, human_id, Permission::Write)
            .await?;
        if before.status == CaseStatus::Retired {
            return Err(AppError::Conflict(format!(
                "case {} is retired; a lead reinstates it before it is edited",
                before.human_id
            )));
        }
        if let Some(r) = expected_revision {
            if r != before.revision {
                return Err(AppError::Conflict(format!(
                    "case {} has changed since you opened it (revision {} is current, yours is {r}); reload",
                    before.human_id, before.revision
                )));
            }
        }
        let mut case = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut case, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if let Some(a) = activity {
            case.activity_id = self.activity_ref(&ctx, a).await?;
        }
        let changed = case.snapshot() != before.snapshot();
        if changed {
            case.revision += 1;
            case.updated_at = self.clock.now();
        }
        let (mut add, mut remove) = (Vec::new(), Vec::new());
        if let Some(v) = verifies {
            let wanted = self.verified_requirements(&ctx, v).await?;
            let current: Vec<LinkView> = self
                .store
                .links_of(case.id.0)
                .await?
                .into_iter()
                .filter(|l| l.link.kind == LinkKind::Verifies && l.link.source_id == case.id.0)
                .collect();
            for l in &current {
                if !wanted.iter().any(|r| r.id.0 == l.link.target_id) {
                    remove.push(l.link.id);
                }
            }
            for r in &wanted {
                if !current.iter().any(|l| l.link.target_id == r.id.0) {
                    add.push(self.verifies_link(&case, r, principal));
                }
            }
        }
        if !changed && add.is_empty() && remove.is_empty() {
            return Ok(before);
        }
        self.write_cases(
            principal,
            &ctx,
            vec![(case.clone(), Some(before))],
            add,
            remove,
        )
        .await?;
        Ok(case)
    }

    pub async fn move_case(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        to: CaseStatus,
    ) -> AppResult<Case> {
        let (ctx, before) = self
            .case_of(principal, code, human_id, Permission::Write)
            .await?;
        before
            .status
            .check_move(to, role_of(&ctx))
            .map_err(AppError::forbidden_or_conflict)?;
        let mut case = before.clone();
        case.status = to;
        case.updated_at = self.clock.now();
        self.write_cases(
            principal,
            &ctx,
            vec![(case.clone(), Some(before))],
            Vec::new(),
            Vec::new(),
        )
        .await?;
        Ok(case)
    }

    /// Two revisions of a case compared field by field (word-level).
    pub async fn case_diff(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        from: i64,
        to: i64,
    ) -> AppResult<(
        Case,
        Vec<Revision>,
        Vec<opensesa_domain::textdiff::FieldDiff>,
    )> {
        let (_, case) = self
            .case_of(principal, code, human_id, Permission::Read)
            .await?;
        let revisions = self
            .store
            .list_revisions(Case::ARTEFACT_TYPE, &case.id.to_string())
            .await?;
        let find = |n: i64, field: &str| {
            revisions.iter().find(|r| r.number == n).ok_or_else(|| {
                AppError::field(field, format!("{} has no revision {n}", case.human_id))
            })
        };
        let diff = opensesa_domain::textdiff::snapshot_diff(
            &find(from, "from")?.data,
            &find(to, "to")?.data,
        );
        Ok((case, revisions, diff))
    }

    pub async fn list_sets(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<SetSummary>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let sets = self.store.list_sets(ctx.project.id).await?;
        Ok((ctx, sets))
    }

    pub async fn set_detail(
        &self,
        principal: &Principal,
        code: &str,
        id: CaseSetId,
    ) -> AppResult<SetDetail> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let set = self
            .store
            .find_set(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let cases = self
            .store
            .list_cases(&CaseQuery {
                project_id: Some(ctx.project.id),
                set_id: Some(set.id),
                limit: 10_000,
                ..Default::default()
            })
            .await?;
        Ok(SetDetail { ctx, set, cases })
    }

    /// Creates (id `None`) or updates a set; `members` lists case human ids in order and
    /// replaces the set's members.
    pub async fn save_set(
        &self,
        principal: &Principal,
        code: &str,
        id: Option<CaseSetId>,
        name: &str,
        description: &str,
        members: &str,
    ) -> AppResult<CaseSet> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let mut errors = FieldErrors::new();
        let name = errors.check("name", parse_name(name));
        let description = errors.check("description", parse_description(description));
        let wanted = id_list(members);
        let facts = self.store.case_facts(ctx.project.id).await?;
        let mut ids: Vec<CaseId> = Vec::new();
        let mut missing = Vec::new();
        for h in &wanted {
            match facts.iter().find(|f| &f.human_id == h) {
                Some(f) => ids.push(f.id),
                None => missing.push(h.as_str()),
            }
        }
        if !missing.is_empty() {
            errors.add(
                "cases",
                format!("no case {} in this project", missing.join(", ")),
            );
        }
        let (Some(name), Some(description)) = (name, description) else {
            return Err(AppError::Validation(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let (set, before) = match id {
            Some(id) => {
                let old = self
                    .store
                    .find_set(ctx.project.id, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let before_members = self.store.set_members(id).await?;
                (
                    CaseSet {
                        name,
                        description,
                        ..old.clone()
                    },
                    Some((old, before_members)),
                )
            }
            None => (
                CaseSet {
                    id: CaseSetId::new(),
                    project_id: ctx.project.id,
                    name,
                    description,
                    created_at: self.clock.now(),
                },
                None,
            ),
        };
        let snap = |s: &CaseSet, m: &[CaseId]| json!({"name": s.name, "description": s.description, "cases": m});
        let journal = Journal::event(
            EventBuilder::by(
                self,
                principal,
                if before.is_some() {
                    Action::Update
                } else {
                    Action::Create
                },
                "vv_set",
                set.id,
            )
            .project(ctx.project.id)
            .changes(
                &before.as_ref().map_or(json!({}), |(s, m)| snap(s, m)),
                &snap(&set, &ids),
            )
            .build(),
        );
        self.store
            .save_set(&set, before.is_none(), &ids, &journal)
            .await
            .map_err(store_err)?;
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_lists() {
        assert_eq!(
            super::id_list("sys-001, SYS-002\nSYS-001;  "),
            ["SYS-001", "SYS-002"]
        );
    }
}
