//! Quality checks: the rules of `domain::requirements::quality` applied to stored
//! requirements, per save and on demand for a module or the whole project.

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::ports::{Journal, LinkFacts, LinkView, ReqFacts};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::ModuleId;
use opensesa_domain::requirements::quality::{
    check_text, score, DuplicateIndex, Finding, QualityInput, RuleId, RuleSet,
};
use opensesa_domain::requirements::{Module, Requirement};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Findings of the per-requirement rules (all but duplicates) for a requirement and the
/// links touching it.
pub fn text_findings(
    req: &Requirement,
    module: &Module,
    links: &[LinkView],
    rules: &RuleSet,
) -> Vec<Finding> {
    let up = links
        .iter()
        .any(|l| l.link.source_id == req.id.0 && l.link.kind.is_trace());
    check_text(
        &QualityInput {
            title: &req.title,
            statement: &req.statement,
            rationale: &req.rationale,
            kind: req.kind.as_str(),
            verification_methods: req.verification_methods.len(),
            has_parent: req.parent_id.is_some() || up,
            top_level: module.parent_id.is_none(),
            trace_links: links.len(),
        },
        rules,
    )
}

pub fn duplicate_finding(same: &[String]) -> Finding {
    let named: Vec<&str> = same.iter().take(5).map(String::as_str).collect();
    let more = same.len().saturating_sub(5);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Finding::new(
        RuleId::Duplicate,
        format!("the statement duplicates {}{tail}", named.join(", ")),
    )
}

/// One requirement's findings in a report.
#[derive(Debug, Clone)]
pub struct QualityItem {
    pub human_id: String,
    pub title: String,
    pub module_id: ModuleId,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct ModuleScore {
    pub module: Module,
    pub requirements: usize,
    pub findings: usize,
    pub score: u8,
}

#[derive(Debug, Clone)]
pub struct QualityReport {
    pub ctx: crate::portfolio::ProjectCtx,
    pub rules: RuleSet,
    pub modules: Vec<ModuleScore>,
    /// Requirements with at least one finding, in document order.
    pub items: Vec<QualityItem>,
    /// Findings per rule.
    pub by_rule: Vec<(RuleId, usize)>,
}

/// Runs every enabled rule over the project's requirements (duplicates across the whole
/// project), keeping the requirements of `only` when given.
pub fn evaluate(
    facts: &[ReqFacts],
    links: &[LinkFacts],
    modules: &[Module],
    rules: &RuleSet,
    only: Option<ModuleId>,
) -> Vec<QualityItem> {
    let mut touching: HashMap<Uuid, usize> = HashMap::new();
    let mut has_up: HashSet<Uuid> = HashSet::new();
    for l in links {
        *touching.entry(l.source_id).or_default() += 1;
        *touching.entry(l.target_id).or_default() += 1;
        if l.kind.is_trace() {
            has_up.insert(l.source_id);
        }
    }
    let live: Vec<&ReqFacts> = facts.iter().filter(|f| f.status != "obsolete").collect();
    let index = DuplicateIndex::build(
        live.iter()
            .map(|f| (f.human_id.as_str(), f.statement.as_str())),
    );
    let top: HashMap<ModuleId, bool> = modules
        .iter()
        .map(|m| (m.id, m.parent_id.is_none()))
        .collect();
    live.iter()
        .filter(|f| only.is_none_or(|m| f.module_id == m))
        .filter_map(|f| {
            let mut findings = check_text(
                &QualityInput {
                    title: &f.title,
                    statement: &f.statement,
                    rationale: if f.rationale_empty { "" } else { "x" },
                    kind: &f.kind,
                    verification_methods: f.verification_methods,
                    has_parent: f.parent_id.is_some() || has_up.contains(&f.id.0),
                    top_level: top.get(&f.module_id).copied().unwrap_or(true),
                    trace_links: touching.get(&f.id.0).copied().unwrap_or(0),
                },
                rules,
            );
            // The rationale's own words are not in the facts; its TBD check runs on save.
            let is_req = opensesa_domain::requirements::ReqKind::parse(&f.kind)
                .map_or(true, |k| k.is_requirement());
            if is_req {
                findings.extend(index.findings(&f.human_id, rules));
            }
            (!findings.is_empty()).then(|| QualityItem {
                human_id: f.human_id.clone(),
                title: f.title.clone(),
                module_id: f.module_id,
                findings,
            })
        })
        .collect()
}

impl App {
    /// The quality report of a project or of one module (`prefix`).
    pub async fn quality_report(
        &self,
        principal: &Principal,
        code: &str,
        prefix: Option<&str>,
    ) -> AppResult<QualityReport> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let modules = self.store.list_modules(ctx.project.id).await?;
        let only = match prefix.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(
                modules
                    .iter()
                    .find(|m| m.prefix.eq_ignore_ascii_case(p))
                    .ok_or(AppError::NotFound)?
                    .id,
            ),
            None => None,
        };
        let facts = self.store.requirement_facts(ctx.project.id).await?;
        let links = self.store.link_facts(ctx.project.id).await?;
        let rules = self.rules_of(&ctx).await?;
        let items = evaluate(&facts, &links, &modules, &rules, only);
        let mut per_module: HashMap<ModuleId, Vec<&Finding>> = HashMap::new();
        for i in &items {
            per_module
                .entry(i.module_id)
                .or_default()
                .extend(i.findings.iter());
        }
        let mut counts: HashMap<ModuleId, usize> = HashMap::new();
        for f in facts.iter().filter(|f| f.status != "obsolete") {
            *counts.entry(f.module_id).or_default() += 1;
        }
        let scores = modules
            .iter()
            .filter(|m| only.is_none_or(|o| o == m.id))
            .map(|m| {
                let fs = per_module.get(&m.id).cloned().unwrap_or_default();
                let n = counts.get(&m.id).copied().unwrap_or(0);
                ModuleScore {
                    module: m.clone(),
                    requirements: n,
                    findings: fs.len(),
                    score: score(fs, n),
                }
            })
            .collect();
        let mut by_rule: Vec<(RuleId, usize)> = RuleId::ALL
            .iter()
            .map(|r| {
                (
                    *r,
                    items
                        .iter()
                        .flat_map(|i| &i.findings)
                        .filter(|f| f.rule == *r)
                        .count(),
                )
            })
            .collect();
        by_rule.retain(|(_, n)| *n > 0);
        Ok(QualityReport {
            ctx,
            rules,
            modules: scores,
            items,
            by_rule,
        })
    }

    /// Switches rules off (and the others on) for a project; a lead's decision, audited.
    pub async fn set_quality_rules(
        &self,
        principal: &Principal,
        code: &str,
        disabled: &[String],
    ) -> AppResult<RuleSet> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let mut ids = Vec::new();
        for raw in disabled {
            let id = RuleId::parse(raw)
                .ok_or_else(|| AppError::field("disabled", format!("unknown rule {raw:?}")))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids.sort();
        let before = self.store.disabled_rules(ctx.project.id).await?;
        let after: Vec<String> = ids.iter().map(|r| r.as_str().to_owned()).collect();
        let event = EventBuilder::by(
            self,
            principal,
            Action::Update,
            "quality_rules",
            ctx.project.id,
        )
        .project(ctx.project.id)
        .change("disabled", json!(before), json!(after))
        .build();
        self.store
            .set_disabled_rules(ctx.project.id, &after, &Journal::event(event))
            .await?;
        Ok(RuleSet::from_disabled(ids))
    }
}
