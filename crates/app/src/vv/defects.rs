//! Defects: raised from a failed result or by hand, worked through open → in progress →
//! resolved → closed | rejected. Closing needs evidence: a passing result of every linked
//! case executed after the defect was raised, or a lead's override with a reason.

use super::{role_of, store_err};
use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::Journal;
use crate::{App, Principal};
use opensesa_domain::access::{Permission, Role};
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{CaseId, DefectId, RequirementId, ResultId};
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::vv::model::parse_reason;
use opensesa_domain::vv::{Defect, DefectInput, DefectStatus, Severity, TestResult, Verdict};
use opensesa_domain::FieldErrors;
use serde_json::json;

pub struct DefectDetail {
    pub ctx: ProjectCtx,
    pub defect: Defect,
    pub results: Vec<TestResult>,
    /// (id, human id, title) of linked cases and requirements.
    pub cases: Vec<(CaseId, String, String)>,
    pub requirements: Vec<(RequirementId, String, String)>,
    pub next: Vec<DefectStatus>,
    pub revisions: Vec<Revision>,
    /// Why closing would be refused now (empty when the rule is met).
    pub closing_blockers: Vec<String>,
}

impl App {
    pub(crate) async fn defect_of(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, Defect)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let d = self
            .store
            .find_defect(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, d))
    }

    pub async fn list_defects(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<Defect>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let d = self.store.list_defects(ctx.project.id).await?;
        Ok((ctx, d))
    }

    /// Raises a defect. `from_result` links the failed result and its case; `cases` and
    /// `requirements` list human ids to link as well.
    pub async fn create_defect(
        &self,
        principal: &Principal,
        code: &str,
        input: &DefectInput,
        from_result: Option<ResultId>,
        cases: &str,
        requirements: &str,
    ) -> AppResult<Defect> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let now = self.clock.now();
        let mut d = Defect {
            id: DefectId::new(),
            project_id: ctx.project.id,
            human_id: String::new(),
            title: String::new(),
            description: String::new(),
            severity: Severity::Major,
            status: DefectStatus::Open,
            revision: 1,
            results: Vec::new(),
            cases: Vec::new(),
            requirements: Vec::new(),
            created_by: Some(principal.user.id),
            created_at: now,
            updated_at: now,
        };
        let mut errors = FieldErrors::new();
        if input.title.is_none() {
            errors.add("title", "is required");
        }
        input.apply(&mut d, &mut errors);
        if let Some(rid) = from_result {
            match self.store.find_result(ctx.project.id, rid).await? {
                None => errors.add("result", "no such result in this project"),
                Some(rec) => {
                    if rec.result.verdict == Verdict::Pass {
                        errors.add(
                            "result",
                            "a defect is raised from a result that did not pass",
                        );
                    }
                    d.results.push(rec.result.id);
                    d.cases.push(rec.result.case_id);
                }
            }
        }
        self.link_defect_targets(&ctx, &mut d, cases, requirements, &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Create, Defect::ARTEFACT_TYPE, d.id)
                .project(ctx.project.id)
                .changes(&json!({}), &d.snapshot())
                .build(),
        )
        .with_revision(Revision::of(&d, Some(principal.user.id), now));
        d.human_id = self
            .store
            .insert_defect(&d, &journal)
            .await
            .map_err(store_err)?;
        Ok(d)
    }

    async fn link_defect_targets(
        &self,
        ctx: &ProjectCtx,
        d: &mut Defect,
        cases: &str,
        requirements: &str,
        errors: &mut FieldErrors,
    ) -> AppResult<()> {
        let list = |raw: &str| -> Vec<String> {
            raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .map(|t| t.trim().to_uppercase())
                .filter(|t| !t.is_empty())
                .collect()
        };
        let wanted = list(cases);
        if !wanted.is_empty() {
            let facts = self.store.case_facts(ctx.project.id).await?;
            for h in &wanted {
                match facts.iter().find(|f| &f.human_id == h) {
                    Some(f) if !d.cases.contains(&f.id) => d.cases.push(f.id),
                    Some(_) => {}
                    None => errors.add("cases", format!("no case {h} in this project")),
                }
            }
        }
        let wanted = list(requirements);
        if !wanted.is_empty() {
            let found = self
                .store
                .find_requirements_by_human_ids(ctx.project.id, &wanted)
                .await?;
            for h in &wanted {
                match found.iter().find(|r| &r.human_id == h) {
                    Some(r) if !d.requirements.contains(&r.id) => d.requirements.push(r.id),
                    Some(_) => {}
                    None => errors.add(
                        "requirements",
                        format!("no requirement {h} in this project"),
                    ),
                }
            }
        }
        Ok(())
    }

    /// Why the closing rule is not met: per linked case, the lack of a passing result
    /// executed after the defect was raised.
    pub(crate) async fn closing_blockers(&self, d: &Defect) -> AppResult<Vec<String>> {
        if d.cases.is_empty() {
            return Ok(vec![
                "no case is linked, so no result can show the fix; a lead may close it with a reason".into(),
            ]);
        }
        let latest = self.store.latest_of(&d.cases).await?;
        let facts = self.store.find_cases(d.project_id, &d.cases).await?;
        let mut out = Vec::new();
        for c in &d.cases {
            let name = facts
                .iter()
                .find(|f| f.id == *c)
                .map_or_else(|| c.to_string(), |f| f.human_id.clone());
            match latest.iter().find(|l| l.case_id == *c) {
                Some(l) if l.verdict == Verdict::Pass && l.executed_at > d.created_at => {}
                Some(l) if l.verdict == Verdict::Pass => out.push(format!(
                    "{name}: its latest pass ({}) is older than the defect",
                    l.executed_at.format("%Y-%m-%d %H:%M")
                )),
                Some(l) => out.push(format!(
                    "{name}: its latest result is {}",
                    l.verdict.as_str()
                )),
                None => out.push(format!("{name}: no result yet")),
            }
        }
        Ok(out)
    }

    pub async fn defect_detail(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<DefectDetail> {
        let (ctx, defect) = self
            .defect_of(principal, code, human_id, Permission::Read)
            .await?;
        let results = self.store.results_by_ids(&defect.results).await?;
        let cases = self
            .store
            .find_cases(ctx.project.id, &defect.cases)
            .await?
            .into_iter()
            .map(|c| (c.id, c.human_id, c.title))
            .collect();
        let mut requirements = Vec::new();
        for r in &defect.requirements {
            if let Some(req) = self
                .store
                .find_requirement_by_id(ctx.project.id, *r)
                .await?
            {
                requirements.push((req.id, req.human_id, req.title));
            }
        }
        let revisions = self
            .store
            .list_revisions(Defect::ARTEFACT_TYPE, &defect.id.to_string())
            .await?;
        let closing_blockers = if defect.status == DefectStatus::Resolved {
            self.closing_blockers(&defect).await?
        } else {
            Vec::new()
        };
        let next = defect.status.next(role_of(&ctx));
        Ok(DefectDetail {
            ctx,
            defect,
            results,
            cases,
            requirements,
            next,
            revisions,
            closing_blockers,
        })
    }

    pub async fn update_defect(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &DefectInput,
        add_cases: &str,
        add_requirements: &str,
    ) -> AppResult<Defect> {
        let (ctx, before) = self
            .defect_of(principal, code, human_id, Permission::Write)
            .await?;
        let mut d = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut d, &mut errors);
        self.link_defect_targets(&ctx, &mut d, add_cases, add_requirements, &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if d.snapshot() == before.snapshot() {
            return Ok(before);
        }
        let now = self.clock.now();
        d.revision += 1;
        d.updated_at = now;
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Update, Defect::ARTEFACT_TYPE, d.id)
                .project(ctx.project.id)
                .changes(&before.snapshot(), &d.snapshot())
                .build(),
        )
        .with_revision(Revision::of(&d, Some(principal.user.id), now));
        self.store
            .update_defect(&d, before.revision, &journal)
            .await
            .map_err(store_err)?;
        Ok(d)
    }

    /// A workflow step. Closing checks the closing rule; `override_reason` (a lead's) closes
    /// regardless and is audited.
    pub async fn move_defect(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        to: DefectStatus,
        override_reason: Option<&str>,
    ) -> AppResult<Defect> {
        let (ctx, before) = self
            .defect_of(principal, code, human_id, Permission::Write)
            .await?;
        let role = role_of(&ctx);
        before
            .status
            .check_move(to, role)
            .map_err(AppError::forbidden_or_conflict)?;
        let mut reason = None;
        if to == DefectStatus::Closed {
            let blockers = self.closing_blockers(&before).await?;
            let wants_override = override_reason.is_some_and(|r| !r.trim().is_empty());
            if wants_override {
                if role != Role::Lead {
                    return Err(AppError::forbidden(
                        "only a project lead may override the closing rule",
                    ));
                }
                reason = Some(
                    parse_reason(override_reason.unwrap_or_default())
                        .map_err(|e| AppError::field("reason", e))?,
                );
            } else if !blockers.is_empty() {
                return Err(AppError::Conflict(format!(
                    "defect {} cannot be closed: a later passing result of each linked case is needed ({}); \
                     a lead may close it with a reason instead",
                    before.human_id,
                    blockers.join("; ")
                )));
            }
        }
        let mut d = before.clone();
        d.status = to;
        d.updated_at = self.clock.now();
        let event = EventBuilder::by(
            self,
            principal,
            Action::Transition,
            Defect::ARTEFACT_TYPE,
            d.id,
        )
        .project(ctx.project.id)
        .change("status", json!(before.status), json!(d.status));
        let event = match reason {
            Some(r) => event
                .change("closing_rule", json!(null), json!("overridden"))
                .reason(Some(r)),
            None => event,
        };
        self.store
            .update_defect(&d, before.revision, &Journal::event(event.build()))
            .await
            .map_err(store_err)?;
        Ok(d)
    }
}
