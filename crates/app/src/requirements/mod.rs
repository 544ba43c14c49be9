//! Requirements management use cases: modules, requirements and their workflow, trace links
//! with suspect propagation, comments, review rounds, quality checks and coverage.
//!
//! Every mutation goes through `save` (one `ReqBatch`, one transaction, with its audit
//! events and revisions), so a single edit, a bulk edit and an import follow the same rules.

pub mod coverage;
pub mod exchange;
pub mod links;
pub mod quality;
pub mod review;

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{
    BatchOutcome, Journal, LinkView, ReqBatch, ReqPage, ReqQuery, ReqWrite, SearchHit, StoreError,
};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::{Action, AuditEvent};
use opensesa_domain::ids::ModuleId;
use opensesa_domain::requirements::quality::{Finding, RuleSet};
use opensesa_domain::requirements::{
    Module, ModuleInput, ReqStatus, Requirement, RequirementInput, Transition,
};
use opensesa_domain::revision::{Revision, Versioned};
use opensesa_domain::textdiff::{snapshot_diff, FieldDiff};
use opensesa_domain::FieldErrors;
use serde_json::json;

/// A module with its requirement count, for lists.
#[derive(Debug, Clone)]
pub struct ModuleSummary {
    pub module: Module,
    pub count: i64,
    pub depth: usize,
}

/// Everything the requirement page shows.
pub struct RequirementDetail {
    pub ctx: ProjectCtx,
    pub req: Requirement,
    pub module: Module,
    pub parent: Option<Requirement>,
    pub children: Vec<Requirement>,
    pub links: Vec<LinkView>,
    pub findings: Vec<Finding>,
    pub comments: Vec<crate::ports::Comment>,
    pub rounds: Vec<crate::ports::ReviewRound>,
    pub revisions: Vec<Revision>,
    pub audit: Vec<AuditEvent>,
    pub transitions: Vec<Transition>,
}

fn conflict_to_field(field: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::Conflict(why) => AppError::field(field, why),
        other => other.into(),
    }
}

/// The key under which exact duplicates meet: lower-case words joined by single spaces,
/// hashed. Built in one buffer: an import keys every statement of the project (100,000 and
/// more), so a string per word and a `format!` per digest byte added up.
pub fn statement_key(statement: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut text = String::with_capacity(statement.len());
    for word in statement
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !text.is_empty() {
            text.push(' ');
        }
        if word.is_ascii() {
            text.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        } else {
            text.push_str(&word.to_lowercase());
        }
    }
    if text.is_empty() {
        return String::new();
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The first 16 bytes of the digest, as 32 hex digits.
    let mut key = String::with_capacity(32);
    for b in Sha256::digest(text.as_bytes()).iter().take(16) {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    key
}

impl App {
    /// The project and the modules in tree order with their counts.
    pub async fn list_modules(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<ModuleSummary>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let modules = self.store.list_modules(ctx.project.id).await?;
        let counts: std::collections::HashMap<ModuleId, i64> = self
            .store
            .module_counts(ctx.project.id)
            .await?
            .into_iter()
            .collect();
        Ok((ctx, module_tree(modules, &counts)))
    }

    pub async fn module(
        &self,
        principal: &Principal,
        code: &str,
        prefix: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, Module)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let module = self
            .store
            .find_module_by_prefix(ctx.project.id, &prefix.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, module))
    }

    async fn parent_module(
        &self,
        ctx: &ProjectCtx,
        raw: Option<&str>,
        errors: &mut FieldErrors,
    ) -> AppResult<Option<Option<ModuleId>>> {
        let Some(raw) = raw else { return Ok(None) };
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Some(None));
        }
        match self
            .store
            .find_module_by_prefix(ctx.project.id, &raw.to_uppercase())
            .await?
        {
            Some(m) => Ok(Some(Some(m.id))),
            None => {
                errors.add("parent", format!("no module has the prefix {raw:?}"));
                Ok(None)
            }
        }
    }

    pub async fn create_module(
        &self,
        principal: &Principal,
        code: &str,
        input: &ModuleInput,
    ) -> AppResult<Module> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let now = self.clock.now();
        let existing = self.store.list_modules(ctx.project.id).await?;
        let mut m = Module {
            id: ModuleId::new(),
            project_id: ctx.project.id,
            parent_id: None,
            prefix: String::new(),
            name: String::new(),
            description: String::new(),
            ordinal: existing.iter().map(|m| m.ordinal).max().unwrap_or(0) + 1,
            attributes: Vec::new(),
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let mut errors = FieldErrors::new();
        input.apply(&mut m, &mut errors);
        if input.prefix.is_none() {
            errors.add("prefix", "is required");
        }
        if input.name.is_none() {
            errors.add("name", "is required");
        }
        if let Some(parent) = self
            .parent_module(&ctx, input.parent.as_deref(), &mut errors)
            .await?
        {
            m.parent_id = parent;
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let event = EventBuilder::by(self, principal, Action::Create, "module", m.id)
            .project(ctx.project.id)
            .changes(&json!({}), &m.snapshot())
            .build();
        let journal =
            Journal::event(event).with_revision(Revision::of(&m, Some(principal.user.id), now));
        self.store
            .insert_module(&m, &journal)
            .await
            .map_err(conflict_to_field("prefix"))?;
        Ok(m)
    }

    pub async fn update_module(
        &self,
        principal: &Principal,
        code: &str,
        prefix: &str,
        input: &ModuleInput,
    ) -> AppResult<Module> {
        let (ctx, before) = self
            .module(principal, code, prefix, Permission::Lead)
            .await?;
        let mut m = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut m, &mut errors);
        if let Some(parent) = self
            .parent_module(&ctx, input.parent.as_deref(), &mut errors)
            .await?
        {
            if parent == Some(m.id) {
                errors.add("parent", "a module cannot be its own parent");
            } else if let Some(p) = parent {
                // Refuse a parent below this module: the tree must stay a tree.
                let all = self.store.list_modules(ctx.project.id).await?;
                let mut cursor = Some(p);
                while let Some(c) = cursor {
                    if c == m.id {
                        errors.add("parent", "the parent is inside this module");
                        break;
                    }
                    cursor = all.iter().find(|x| x.id == c).and_then(|x| x.parent_id);
                }
            }
            m.parent_id = parent;
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if m.snapshot() == before.snapshot() {
            return Ok(before);
        }
        m.revision += 1;
        m.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Update, "module", m.id)
            .project(ctx.project.id)
            .changes(&before.snapshot(), &m.snapshot())
            .build();
        let journal = Journal::event(event).with_revision(Revision::of(
            &m,
            Some(principal.user.id),
            m.updated_at,
        ));
        self.store
            .update_module(&m, &journal)
            .await
            .map_err(conflict_to_field("prefix"))?;
        Ok(m)
    }

    /// Resolves the `parent` field of an input (a human id) for `req`.
    async fn resolve_parent(
        &self,
        ctx: &ProjectCtx,
        req: &mut Requirement,
        raw: Option<&str>,
        errors: &mut FieldErrors,
    ) -> AppResult<()> {
        let Some(raw) = raw else { return Ok(()) };
        let raw = raw.trim();
        if raw.is_empty() {
            req.parent_id = None;
            return Ok(());
        }
        let Some(parent) = self
            .store
            .find_requirement(ctx.project.id, &raw.to_uppercase())
            .await?
        else {
            errors.add("parent", format!("no requirement {raw:?} in this project"));
            return Ok(());
        };
        // Walk up from the new parent: meeting `req` means a cycle.
        let mut cursor = Some(parent.clone());
        let mut steps = 0;
        while let Some(c) = cursor {
            if c.id == req.id {
                errors.add("parent", format!("{raw} is below this requirement"));
                return Ok(());
            }
            steps += 1;
            if steps > 10_000 {
                break;
            }
            cursor = match c.parent_id {
                Some(p) => self.store.find_requirement_by_id(ctx.project.id, p).await?,
                None => None,
            };
        }
        req.parent_id = Some(parent.id);
        Ok(())
    }

    /// Quality findings of one requirement as it will be saved (text rules, structure,
    /// exact duplicates in the project).
    pub(crate) async fn findings_for(
        &self,
        req: &Requirement,
        module: &Module,
        rules: &RuleSet,
        check_duplicates: bool,
    ) -> AppResult<Vec<Finding>> {
        let links = if req.revision > 1 || !req.human_id.is_empty() {
            self.store.links_of(req.id.0).await?
        } else {
            Vec::new()
        };
        let mut findings = quality::text_findings(req, module, &links, rules);
        if check_duplicates
            && rules.is_enabled(opensesa_domain::requirements::quality::RuleId::Duplicate)
        {
            let key = statement_key(&req.statement);
            if !key.is_empty() && req.kind.is_requirement() {
                let same = self
                    .store
                    .same_statement(req.project_id, &key, req.id)
                    .await?;
                if !same.is_empty() {
                    findings.push(quality::duplicate_finding(&same));
                }
            }
        }
        Ok(findings)
    }

    pub(crate) async fn rules_of(&self, ctx: &ProjectCtx) -> AppResult<RuleSet> {
        let disabled = self.store.disabled_rules(ctx.project.id).await?;
        Ok(RuleSet::from_disabled(disabled.iter().filter_map(|r| {
            opensesa_domain::requirements::quality::RuleId::parse(r)
        })))
    }

    pub async fn create_requirement(
        &self,
        principal: &Principal,
        code: &str,
        prefix: &str,
        input: &RequirementInput,
    ) -> AppResult<Requirement> {
        let (ctx, module) = self
            .module(principal, code, prefix, Permission::Write)
            .await?;
        let now = self.clock.now();
        let mut req = Requirement::blank(ctx.project.id, module.id, now);
        req.revision = 1;
        let mut errors = FieldErrors::new();
        input.apply(&mut req, &module, &mut errors);
        self.resolve_parent(&ctx, &mut req, input.parent.as_deref(), &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        req.ordinal = self.next_ordinal(module.id).await?;
        let rules = self.rules_of(&ctx).await?;
        let findings = self.findings_for(&req, &module, &rules, true).await?;
        let mut batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            ..Default::default()
        };
        batch.requirements.push(ReqWrite {
            statement_key: statement_key(&req.statement),
            req: req.clone(),
            create: true,
            content_changed: true,
            findings,
        });
        let out = self.save(principal, &ctx, batch, Vec::new()).await?;
        req.human_id = out.human_ids.into_iter().next().unwrap_or_default();
        self.store
            .find_requirement(ctx.project.id, &req.human_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    async fn next_ordinal(&self, module: ModuleId) -> AppResult<i64> {
        // Document order leaves gaps so an insertion between two rows rarely renumbers.
        let last = self
            .store
            .module_requirements(module)
            .await?
            .last()
            .map_or(0, |r| r.ordinal);
        Ok(last + 1024)
    }

    /// Writes a batch with the audit events and revisions its requirements need: a create
    /// or update event per requirement (field-level before/after) and a revision per new
    /// content. `before` holds the stored state of the updated requirements.
    pub(crate) async fn save(
        &self,
        principal: &Principal,
        ctx: &ProjectCtx,
        batch: ReqBatch,
        before: Vec<Requirement>,
    ) -> AppResult<BatchOutcome> {
        let mut journal = Journal::default();
        let now = self.clock.now();
        for mw in &batch.modules {
            let (action, old) = match &mw.before {
                Some(b) => (Action::Update, b.snapshot()),
                None => (Action::Create, json!({})),
            };
            journal.events.push(
                EventBuilder::by(self, principal, action, "module", mw.module.id)
                    .project(ctx.project.id)
                    .changes(&old, &mw.module.snapshot())
                    .build(),
            );
            journal
                .revisions
                .push(Revision::of(&mw.module, Some(principal.user.id), now));
        }
        // Human ids of created requirements are allocated in the transaction; their events
        // and revisions carry the artefact's UUID, which is known now. The store asks for
        // them a chunk at a time: a 10,000-row import's journal whole took some 70 MB.
        let per_write = ReqJournal {
            app: self,
            principal,
            project: ctx.project.id,
            now,
            before: before.iter().map(|b| (b.id, b)).collect(),
        };
        for l in &batch.add_links {
            journal.events.push(
                EventBuilder::by(self, principal, Action::Create, "trace_link", l.id)
                    .project(ctx.project.id)
                    .changes(&json!({}), &l.snapshot())
                    .build(),
            );
        }
        for id in &batch.remove_links {
            journal.events.push(
                EventBuilder::by(self, principal, Action::Delete, "trace_link", id)
                    .project(ctx.project.id)
                    .build(),
            );
        }
        let out = self
            .store
            .save_batch_journaled(&batch, &journal, &per_write)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(why) => AppError::Conflict(why),
                other => other.into(),
            })?;
        Ok(out)
    }

    /// Writes a prepared batch of new requirements and new links in one transaction, through
    /// `save` (so every requirement and link gets its audit event and revision), for bulk
    /// loaders such as `opensesa demo --size N`. Needs write access to the project; only
    /// creations are accepted, all in this project and its modules. The caller builds the
    /// link ends from requirements of this project (they are not looked up one by one).
    pub async fn import_batch(
        &self,
        principal: &Principal,
        code: &str,
        mut batch: ReqBatch,
    ) -> AppResult<BatchOutcome> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let modules: std::collections::HashSet<ModuleId> = self
            .store
            .list_modules(ctx.project.id)
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect();
        if let Some(w) = batch.requirements.iter().find(|w| {
            !w.create || w.req.project_id != ctx.project.id || !modules.contains(&w.req.module_id)
        }) {
            return Err(AppError::field(
                "requirements",
                format!(
                    "{:?} is not a new requirement of a module of {}",
                    w.req.title, ctx.project.code
                ),
            ));
        }
        if batch
            .add_links
            .iter()
            .any(|l| l.project_id != ctx.project.id || l.source_id == l.target_id)
        {
            return Err(AppError::field(
                "links",
                format!(
                    "every link must join two different artefacts of {}",
                    ctx.project.code
                ),
            ));
        }
        if !batch.remove_links.is_empty() || !batch.modules.is_empty() {
            return Err(AppError::field(
                "batch",
                "a batch import only adds requirements and links",
            ));
        }
        batch.project_id = Some(ctx.project.id);
        batch.by = Some(principal.user.id);
        self.save(principal, &ctx, batch, Vec::new()).await
    }

    /// The stored requirement, for a caller with `needed` on its project.
    pub async fn requirement(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        needed: Permission,
    ) -> AppResult<(ProjectCtx, Requirement)> {
        let ctx = self.project_access(principal, code, needed).await?;
        let req = self
            .store
            .find_requirement(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, req))
    }

    /// Applies an edit. `expected_revision` (from the form) refuses a save over someone
    /// else's newer revision. A content change makes a new revision, sends an approved or
    /// rejected requirement back to draft and makes its links suspect.
    pub async fn update_requirement(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &RequirementInput,
        expected_revision: Option<i64>,
    ) -> AppResult<Requirement> {
        let (ctx, before) = self
            .requirement(principal, code, human_id, Permission::Write)
            .await?;
        if let Some(rev) = expected_revision {
            if rev != before.revision {
                return Err(AppError::Conflict(format!(
                    "{} was changed to revision {} since you opened it (revision {rev}); reload and retry",
                    before.human_id, before.revision
                )));
            }
        }
        let module = self
            .store
            .find_module(ctx.project.id, before.module_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let rules = self.rules_of(&ctx).await?;
        let write = self.edit_one(&ctx, &before, &module, input, &rules).await?;
        let Some(write) = write else {
            return Ok(before);
        };
        let batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            requirements: vec![write],
            ..Default::default()
        };
        self.save(principal, &ctx, batch, vec![before.clone()])
            .await?;
        self.store
            .find_requirement_by_id(ctx.project.id, before.id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The write for one edited requirement, or `None` when nothing changes.
    pub(crate) async fn edit_one(
        &self,
        ctx: &ProjectCtx,
        before: &Requirement,
        module: &Module,
        input: &RequirementInput,
        rules: &RuleSet,
    ) -> AppResult<Option<ReqWrite>> {
        let mut req = before.clone();
        let mut errors = FieldErrors::new();
        input.apply(&mut req, module, &mut errors);
        self.resolve_parent(ctx, &mut req, input.parent.as_deref(), &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if req.same_content(before) {
            return Ok(None);
        }
        req.status = before
            .status
            .after_edit()
            .map_err(|why| AppError::Conflict(format!("{}: {why}", before.human_id)))?;
        req.revision += 1;
        req.updated_at = self.clock.now();
        let findings = self.findings_for(&req, module, rules, true).await?;
        Ok(Some(ReqWrite {
            statement_key: statement_key(&req.statement),
            req,
            create: false,
            content_changed: true,
            findings,
        }))
    }

    /// Applies the same edit to several requirements in one transaction: all or none.
    pub async fn bulk_edit(
        &self,
        principal: &Principal,
        code: &str,
        human_ids: &[String],
        input: &RequirementInput,
    ) -> AppResult<usize> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        if human_ids.is_empty() {
            return Err(AppError::field(
                "selection",
                "select at least one requirement",
            ));
        }
        if human_ids.len() > 5_000 {
            return Err(AppError::field(
                "selection",
                "select at most 5000 requirements",
            ));
        }
        let ids: Vec<String> = human_ids.iter().map(|h| h.trim().to_uppercase()).collect();
        let found = self
            .store
            .find_requirements_by_human_ids(ctx.project.id, &ids)
            .await?;
        if let Some(missing) = ids
            .iter()
            .find(|h| !found.iter().any(|r| &r.human_id == *h))
        {
            return Err(AppError::field(
                "selection",
                format!("no requirement {missing} in this project"),
            ));
        }
        let modules = self.store.list_modules(ctx.project.id).await?;
        let rules = self.rules_of(&ctx).await?;
        let mut batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        for before in &found {
            let Some(module) = modules.iter().find(|m| m.id == before.module_id) else {
                continue;
            };
            match self.edit_one(&ctx, before, module, input, &rules).await {
                Ok(Some(w)) => batch.requirements.push(w),
                Ok(None) => {}
                Err(AppError::Validation(e)) => {
                    for (field, reasons) in e.iter() {
                        for r in reasons {
                            errors.add(field, format!("{}: {r}", before.human_id));
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let n = batch.requirements.len();
        if n > 0 {
            self.save(principal, &ctx, batch, found).await?;
        }
        Ok(n)
    }

    /// A workflow step. Only leads approve, reject, obsolete and reinstate.
    pub async fn transition(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        step: Transition,
        comment: Option<String>,
    ) -> AppResult<Requirement> {
        let needed = if step.required_role() >= opensesa_domain::access::Role::Lead {
            Permission::Lead
        } else {
            Permission::Write
        };
        let (ctx, before) = self.requirement(principal, code, human_id, needed).await?;
        let mut req = before.clone();
        req.status = step.apply(before.status).map_err(AppError::Conflict)?;
        if req.status == ReqStatus::Approved {
            req.approved_revision = Some(req.revision);
        }
        req.updated_at = self.clock.now();
        let event = EventBuilder::by(self, principal, Action::Transition, "requirement", req.id)
            .project(ctx.project.id)
            .change("status", json!(before.status), json!(req.status))
            .reason(comment)
            .build();
        let batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            requirements: vec![ReqWrite {
                statement_key: statement_key(&req.statement),
                findings: self.store.stored_findings(req.id).await?,
                req: req.clone(),
                create: false,
                content_changed: false,
            }],
            ..Default::default()
        };
        self.store
            .save_batch(&batch, &Journal::event(event))
            .await
            .map_err(|e| match e {
                StoreError::Conflict(why) => AppError::Conflict(why),
                other => other.into(),
            })?;
        Ok(req)
    }

    pub async fn requirement_detail(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<RequirementDetail> {
        let (ctx, req) = self
            .requirement(principal, code, human_id, Permission::Read)
            .await?;
        let module = self
            .store
            .find_module(ctx.project.id, req.module_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let parent = match req.parent_id {
            Some(p) => self.store.find_requirement_by_id(ctx.project.id, p).await?,
            None => None,
        };
        let children = self.store.children_of(req.id).await?;
        let links = self.store.links_of(req.id.0).await?;
        let rules = self.rules_of(&ctx).await?;
        // Structural rules depend on links that may have changed since the last save.
        let mut findings = quality::text_findings(&req, &module, &links, &rules);
        findings.extend(
            self.store
                .stored_findings(req.id)
                .await?
                .into_iter()
                .filter(|f| {
                    f.rule == opensesa_domain::requirements::quality::RuleId::Duplicate
                        && rules.is_enabled(f.rule)
                }),
        );
        let comments = self.store.list_comments(req.id).await?;
        let rounds = self.store.rounds_of(req.id).await?;
        let revisions = self
            .store
            .list_revisions("requirement", &req.id.to_string())
            .await?;
        let audit = self
            .store
            .list_audit(&crate::ports::AuditQuery {
                project_id: Some(ctx.project.id),
                artefact_type: Some("requirement".into()),
                artefact_id: Some(req.id.to_string()),
                limit: 100,
                ..Default::default()
            })
            .await?;
        let transitions = Transition::available(req.status, ctx.role);
        Ok(RequirementDetail {
            ctx,
            req,
            module,
            parent,
            children,
            links,
            findings,
            comments,
            rounds,
            revisions,
            audit,
            transitions,
        })
    }

    /// Field-level and word-level differences between two revisions of a requirement.
    pub async fn requirement_diff(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        from: i64,
        to: i64,
    ) -> AppResult<(Requirement, Vec<FieldDiff>)> {
        let (_, req) = self
            .requirement(principal, code, human_id, Permission::Read)
            .await?;
        let revisions = self
            .store
            .list_revisions("requirement", &req.id.to_string())
            .await?;
        let find = |n: i64, field: &str| {
            revisions.iter().find(|r| r.number == n).ok_or_else(|| {
                AppError::field(field, format!("{} has no revision {n}", req.human_id))
            })
        };
        let a = find(from, "from")?;
        let b = find(to, "to")?;
        Ok((req.clone(), snapshot_diff(&a.data, &b.data)))
    }

    pub async fn list_requirements(
        &self,
        principal: &Principal,
        code: &str,
        mut query: ReqQuery,
    ) -> AppResult<(ProjectCtx, ReqPage)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        query.project_id = Some(ctx.project.id);
        if let Some(m) = query.module_id {
            // The store filters by the module alone; it must be one of this project's.
            self.store
                .find_module(ctx.project.id, m)
                .await?
                .ok_or(AppError::NotFound)?;
        }
        if let Some(s) = &query.status {
            if !s.is_empty() {
                ReqStatus::parse(s).map_err(|e| AppError::field("status", e))?;
            }
        }
        let page = self.store.list_requirements(&query).await?;
        Ok((ctx, page))
    }

    pub async fn search_requirements(
        &self,
        principal: &Principal,
        code: &str,
        text: &str,
        limit: i64,
    ) -> AppResult<(ProjectCtx, Vec<SearchHit>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let hits = self
            .store
            .search_requirements(ctx.project.id, text, limit.clamp(1, 200))
            .await?;
        Ok((ctx, hits))
    }

    /// The requirements of a module in document order (document view, exports).
    pub async fn module_document(
        &self,
        principal: &Principal,
        code: &str,
        prefix: &str,
    ) -> AppResult<(ProjectCtx, Module, Vec<Requirement>)> {
        let (ctx, module) = self
            .module(principal, code, prefix, Permission::Read)
            .await?;
        let reqs = self.store.module_requirements(module.id).await?;
        Ok((ctx, module, reqs))
    }
}

/// Orders modules as a tree (parents before children, siblings by ordinal) with depths.
fn module_tree(
    modules: Vec<Module>,
    counts: &std::collections::HashMap<ModuleId, i64>,
) -> Vec<ModuleSummary> {
    fn walk(
        parent: Option<ModuleId>,
        depth: usize,
        all: &[Module],
        counts: &std::collections::HashMap<ModuleId, i64>,
        out: &mut Vec<ModuleSummary>,
    ) {
        for m in all.iter().filter(|m| m.parent_id == parent) {
            if out.iter().any(|s| s.module.id == m.id) {
                continue;
            }
            out.push(ModuleSummary {
                module: m.clone(),
                count: counts.get(&m.id).copied().unwrap_or(0),
                depth,
            });
            walk(Some(m.id), depth + 1, all, counts, out);
        }
    }
    let mut out = Vec::with_capacity(modules.len());
    walk(None, 0, &modules, counts, &mut out);
    // Modules whose parent is missing still show, at the top level.
    for m in &modules {
        if !out.iter().any(|s| s.module.id == m.id) {
            out.push(ModuleSummary {
                module: m.clone(),
                count: counts.get(&m.id).copied().unwrap_or(0),
                depth: 0,
            });
        }
    }
    out
}

/// The audit event (field-level before and after) and, for new content, the revision of
/// each requirement write of a batch; see [`App::save`].
struct ReqJournal<'a> {
    app: &'a App,
    principal: &'a Principal,
    project: opensesa_domain::ids::ProjectId,
    now: chrono::DateTime<chrono::Utc>,
    /// The stored state of the updated requirements.
    before: std::collections::HashMap<opensesa_domain::ids::RequirementId, &'a Requirement>,
}

impl crate::ports::WriteJournal for ReqJournal<'_> {
    fn journal_of(&self, writes: &[&ReqWrite]) -> Journal {
        let mut journal = Journal::default();
        for w in writes {
            let prior = self.before.get(&w.req.id).copied();
            let (action, mut old) = match prior {
                Some(b) => (Action::Update, b.snapshot()),
                None => (Action::Create, json!({})),
            };
            let mut after = w.req.snapshot();
            if let Some(b) = prior.filter(|b| b.status != w.req.status) {
                if let Some(obj) = after.as_object_mut() {
                    obj.insert("status".into(), json!(w.req.status));
                }
                if let Some(obj) = old.as_object_mut() {
                    obj.insert("status".into(), json!(b.status));
                }
            }
            journal.events.push(
                EventBuilder::by(self.app, self.principal, action, "requirement", w.req.id)
                    .project(self.project)
                    .changes(&old, &after)
                    .build(),
            );
            if w.content_changed {
                journal.revisions.push(Revision::of(
                    &w.req,
                    Some(self.principal.user.id),
                    self.now,
                ));
            }
        }
        journal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_keys_ignore_case_and_punctuation() {
        assert_eq!(
            statement_key("The system SHALL   work."),
            statement_key("the system shall work")
        );
        assert_ne!(statement_key("a b"), statement_key("a c"));
        assert_eq!(statement_key(" .. "), "");
        // The digest of the joined words, as before the key was built in one buffer.
        assert_eq!(
            statement_key("The system SHALL work."),
            "ce181930ffe68f71ddfdc6dcfd2d0d22"
        );
        assert_eq!(statement_key("Straße ÜBER"), statement_key("straße über"));
    }
}
