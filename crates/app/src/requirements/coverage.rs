//! Coverage, the RVTM (requirements verification traceability matrix) and the gap analysis,
//! computed in one pass over compact facts: two queries, then memory, so that 100,000
//! requirements and their links cost one scan each.
//!
//! Definitions (for requirements proper; headings, information items and obsolete ones are
//! left out):
//! - upward covered: has a parent requirement or an outgoing trace link (it derives from,
//!   refines, satisfies... something upstream). Not asked of top-level modules.
//! - downward covered: has a child requirement or an incoming trace link.
//! - verification: incoming `verifies` links. From verification cases (retired ones left
//!   out), the status follows the latest effective result of each: verified (every case's
//!   latest result passes), failing (some case's latest result fails), not run (otherwise:
//!   a case without a result, or blocked, inconclusive, not run). "Linked" means verified
//!   only by other artefacts (a requirement), to which results do not apply; "no case" means
//!   nothing verifies it.

use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{LinkFacts, ReqFacts};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{ModuleId, ProjectId, RequirementId};
use opensesa_domain::requirements::{LinkKind, Module, ReqKind};
use opensesa_domain::vv::Verdict;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// No verification case or other artefact verifies it.
    NoCase,
    /// Verified only by artefacts that are not cases (no results apply).
    Linked,
    /// Some linked case has no passing or failing latest result.
    NotRun,
    /// Some linked case's latest result fails.
    Failing,
    /// Every linked case's latest result passes.
    Verified,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::NoCase => "no_case",
            VerificationStatus::Linked => "linked",
            VerificationStatus::NotRun => "not_run",
            VerificationStatus::Failing => "failing",
            VerificationStatus::Verified => "verified",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            VerificationStatus::NoCase => "no case",
            VerificationStatus::Linked => "linked",
            VerificationStatus::NotRun => "not run",
            VerificationStatus::Failing => "failing",
            VerificationStatus::Verified => "verified",
        }
    }
}

/// One row of the RVTM.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RvtmRow {
    pub id: RequirementId,
    pub human_id: String,
    pub title: String,
    pub module_id: ModuleId,
    pub module_prefix: String,
    pub status: String,
    pub kind: String,
    pub verification_methods: usize,
    /// Human ids upstream (parent and link targets) and downstream (children and link sources).
    pub upstream: Vec<String>,
    pub downstream: Vec<String>,
    pub verified_by: Vec<String>,
    pub suspect_links: usize,
    pub top_level: bool,
    pub verification: VerificationStatus,
}

impl RvtmRow {
    pub fn up_covered(&self) -> bool {
        self.top_level || !self.upstream.is_empty()
    }
    pub fn down_covered(&self) -> bool {
        !self.downstream.is_empty()
    }
    pub fn orphan(&self) -> bool {
        !self.up_covered()
    }
    pub fn untraced(&self) -> bool {
        self.upstream.is_empty() && self.downstream.is_empty() && self.verified_by.is_empty()
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CoverageFigures {
    pub requirements: usize,
    pub up_covered: usize,
    /// Requirements for which upward coverage is asked (not in a top-level module).
    pub up_applicable: usize,
    pub down_covered: usize,
    pub verified_linked: usize,
    /// Requirements whose cases all pass, whose cases fail, and whose cases are not all run.
    pub verified: usize,
    pub failing: usize,
    pub not_run: usize,
    pub with_method: usize,
    pub suspect_links: usize,
    pub approved: usize,
}

impl CoverageFigures {
    fn add(&mut self, r: &RvtmRow) {
        self.requirements += 1;
        if !r.top_level {
            self.up_applicable += 1;
            if r.up_covered() {
                self.up_covered += 1;
            }
        }
        if r.down_covered() {
            self.down_covered += 1;
        }
        if r.verification != VerificationStatus::NoCase {
            self.verified_linked += 1;
        }
        match r.verification {
            VerificationStatus::Verified => self.verified += 1,
            VerificationStatus::Failing => self.failing += 1,
            VerificationStatus::NotRun => self.not_run += 1,
            _ => {}
        }
        if r.verification_methods > 0 {
            self.with_method += 1;
        }
        self.suspect_links += r.suspect_links;
        if r.status == "approved" {
            self.approved += 1;
        }
    }

    /// A percentage for display; 100 when nothing is asked.
    pub fn pct(n: usize, of: usize) -> u32 {
        if of == 0 {
            100
        } else {
            ((n as f64 / of as f64) * 100.0).floor() as u32
        }
    }
}

pub struct Coverage {
    pub ctx: ProjectCtx,
    pub data: Arc<CoverageData>,
}

/// Coverage figures (per module and for the project) and the RVTM rows: the same for every
/// reader, so kept per project until the project's facts change.
pub struct CoverageData {
    pub modules: Vec<(Module, CoverageFigures)>,
    pub project: CoverageFigures,
    pub rows: Vec<RvtmRow>,
}

impl std::ops::Deref for Coverage {
    type Target = CoverageData;
    fn deref(&self) -> &CoverageData {
        &self.data
    }
}

/// The verification cases of a project as the RVTM needs them: human ids and the latest
/// verdict of each (cases without a result have none); retired cases are left out.
#[derive(Debug, Default)]
pub struct CaseIndex {
    pub names: HashMap<Uuid, String>,
    pub latest: HashMap<Uuid, Verdict>,
}

impl CaseIndex {
    pub fn status(&self, verifiers: &[Uuid]) -> VerificationStatus {
        // One pass, no allocation: this runs once per requirement of the project.
        let (mut cases, mut failing, mut all_pass) = (0usize, false, true);
        for v in verifiers.iter().filter(|v| self.names.contains_key(v)) {
            cases += 1;
            match self.latest.get(v) {
                Some(Verdict::Fail) => failing = true,
                Some(Verdict::Pass) => {}
                _ => all_pass = false,
            }
        }
        if cases == 0 {
            if verifiers.is_empty() {
                VerificationStatus::NoCase
            } else {
                VerificationStatus::Linked
            }
        } else if failing {
            VerificationStatus::Failing
        } else if all_pass {
            VerificationStatus::Verified
        } else {
            VerificationStatus::NotRun
        }
    }
}

/// Builds the RVTM rows from facts; pure, for tests and benchmarks. Everything is indexed by
/// the requirement's position in `facts` (one hash lookup per link end), since this runs over
/// every requirement and link of the project whenever its facts change.
pub fn rvtm(
    facts: &[ReqFacts],
    links: &[LinkFacts],
    modules: &[Module],
    cases: &CaseIndex,
) -> Vec<RvtmRow> {
    let index: HashMap<Uuid, usize> = facts.iter().enumerate().map(|(i, f)| (f.id.0, i)).collect();
    let prefix: HashMap<ModuleId, &str> =
        modules.iter().map(|m| (m.id, m.prefix.as_str())).collect();
    let top: HashMap<ModuleId, bool> = modules
        .iter()
        .map(|m| (m.id, m.parent_id.is_none()))
        .collect();
    let n = facts.len();
    let mut up: Vec<Vec<&str>> = vec![Vec::new(); n];
    let mut down: Vec<Vec<&str>> = vec![Vec::new(); n];
    let mut verified: Vec<Vec<&str>> = vec![Vec::new(); n];
    let mut verifier_ids: Vec<Vec<Uuid>> = vec![Vec::new(); n];
    let mut suspect: Vec<usize> = vec![0; n];
    let name = |end: Option<usize>, id: &Uuid| match end {
        Some(i) => facts[i].human_id.as_str(),
        None => cases.names.get(id).map_or("?", String::as_str),
    };
    for (i, f) in facts.iter().enumerate() {
        if let Some(p) = f.parent_id.and_then(|p| index.get(&p.0).copied()) {
            up[i].push(&facts[p].human_id);
            down[p].push(&f.human_id);
        }
    }
    for l in links {
        let source = index.get(&l.source_id).copied();
        let target = index.get(&l.target_id).copied();
        if l.suspect {
            for end in [source, target].into_iter().flatten() {
                suspect[end] += 1;
            }
        }
        match l.kind {
            LinkKind::Verifies => {
                // Links from retired cases no longer verify anything.
                if let Some(t) = target {
                    if source.is_some() || cases.names.contains_key(&l.source_id) {
                        verified[t].push(name(source, &l.source_id));
                        verifier_ids[t].push(l.source_id);
                    }
                }
            }
            LinkKind::Relates => {}
            _ => {
                if let Some(s) = source {
                    up[s].push(name(target, &l.target_id));
                }
                if let Some(t) = target {
                    down[t].push(name(source, &l.source_id));
                }
            }
        }
    }
    let owned = |v: &[&str]| -> Vec<String> { v.iter().map(|s| (*s).to_owned()).collect() };
    facts
        .iter()
        .enumerate()
        .filter(|(_, f)| f.status != "obsolete")
        .filter(|(_, f)| ReqKind::parse(&f.kind).map_or(true, |k| k.is_requirement()))
        .map(|(i, f)| RvtmRow {
            id: f.id,
            human_id: f.human_id.clone(),
            title: f.title.clone(),
            module_id: f.module_id,
            module_prefix: prefix.get(&f.module_id).copied().unwrap_or("").to_owned(),
            status: f.status.clone(),
            kind: f.kind.clone(),
            verification_methods: f.verification_methods,
            upstream: owned(&up[i]),
            downstream: owned(&down[i]),
            verification: cases.status(&verifier_ids[i]),
            verified_by: owned(&verified[i]),
            suspect_links: suspect[i],
            top_level: top.get(&f.module_id).copied().unwrap_or(true),
        })
        .collect()
}

impl App {
    /// The project's cases (not retired) and their latest verdicts.
    pub async fn case_index(&self, project: ProjectId) -> AppResult<CaseIndex> {
        let (facts, latest) = tokio::try_join!(
            self.store.case_facts(project),
            self.store.latest_results(project)
        )?;
        Ok(CaseIndex {
            names: facts
                .into_iter()
                .filter(|f| f.status != "retired")
                .map(|f| (f.id.0, f.human_id))
                .collect(),
            latest: latest
                .into_iter()
                .map(|l| (l.case_id.0, l.verdict))
                .collect(),
        })
    }

    pub async fn coverage(&self, principal: &Principal, code: &str) -> AppResult<Coverage> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let data = self.coverage_data(ctx.project.id).await?;
        Ok(Coverage { ctx, data })
    }

    /// The project's coverage, from the cache while its facts are unchanged. The version is
    /// read before the facts (see `project_cache`).
    async fn coverage_data(&self, project: ProjectId) -> AppResult<Arc<CoverageData>> {
        let version = self.store.fact_version(project).await?;
        if let Some(data) = self.coverage_cache.get(project, &version) {
            return Ok(data);
        }
        let started = std::time::Instant::now();
        // Four independent reads, run side by side (each takes a pool connection).
        let (modules, facts, links, cases) = tokio::try_join!(
            async { Ok::<_, AppError>(self.store.list_modules(project).await?) },
            async { Ok(self.store.requirement_facts_light(project).await?) },
            async { Ok(self.store.link_facts(project).await?) },
            self.case_index(project),
        )?;
        let read = started.elapsed();
        let rows = rvtm(&facts, &links, &modules, &cases);
        let mut per: HashMap<ModuleId, CoverageFigures> = HashMap::new();
        let mut figures = CoverageFigures::default();
        for r in &rows {
            per.entry(r.module_id).or_default().add(r);
            figures.add(r);
        }
        // Each suspect link was counted at both ends.
        figures.suspect_links = links.iter().filter(|l| l.suspect).count();
        let modules = modules
            .into_iter()
            .map(|m| {
                let f = per.remove(&m.id).unwrap_or_default();
                (m, f)
            })
            .collect();
        let data = Arc::new(CoverageData {
            modules,
            project: figures,
            rows,
        });
        tracing::debug!(
            requirements = facts.len(),
            links = links.len(),
            read_ms = read.as_millis() as u64,
            computed_ms = (started.elapsed() - read).as_millis() as u64,
            "coverage computed"
        );
        self.coverage_cache.put(project, version, data.clone());
        Ok(data)
    }
}
