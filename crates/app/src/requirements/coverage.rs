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
        let cases: Vec<&Uuid> = verifiers
            .iter()
            .filter(|v| self.names.contains_key(v))
            .collect();
        if cases.is_empty() {
            return if verifiers.is_empty() {
                VerificationStatus::NoCase
            } else {
                VerificationStatus::Linked
            };
        }
        let verdicts: Vec<Option<Verdict>> =
            cases.iter().map(|c| self.latest.get(c).copied()).collect();
        if verdicts.contains(&Some(Verdict::Fail)) {
            VerificationStatus::Failing
        } else if verdicts.iter().all(|v| *v == Some(Verdict::Pass)) {
            VerificationStatus::Verified
        } else {
            VerificationStatus::NotRun
        }
    }
}

/// Builds the RVTM rows from facts; pure, for tests and benchmarks.
pub fn rvtm(
    facts: &[ReqFacts],
    links: &[LinkFacts],
    modules: &[Module],
    cases: &CaseIndex,
) -> Vec<RvtmRow> {
    let by_id: HashMap<Uuid, &ReqFacts> = facts.iter().map(|f| (f.id.0, f)).collect();
    let prefix: HashMap<ModuleId, &str> =
        modules.iter().map(|m| (m.id, m.prefix.as_str())).collect();
    let top: HashMap<ModuleId, bool> = modules
        .iter()
        .map(|m| (m.id, m.parent_id.is_none()))
        .collect();
    let mut up: HashMap<Uuid, Vec<&str>> = HashMap::new();
    let mut down: HashMap<Uuid, Vec<&str>> = HashMap::new();
    let mut verified: HashMap<Uuid, Vec<&str>> = HashMap::new();
    let mut verifier_ids: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut suspect: HashMap<Uuid, usize> = HashMap::new();
    let name = |id: &Uuid| {
        by_id
            .get(id)
            .map(|f| f.human_id.as_str())
            .or_else(|| cases.names.get(id).map(String::as_str))
            .unwrap_or("?")
    };
    for f in facts {
        if let Some(p) = f.parent_id {
            if let Some(parent) = by_id.get(&p.0) {
                up.entry(f.id.0).or_default().push(&parent.human_id);
                down.entry(p.0).or_default().push(&f.human_id);
            }
        }
    }
    for l in links {
        if l.suspect {
            *suspect.entry(l.source_id).or_default() += 1;
            *suspect.entry(l.target_id).or_default() += 1;
        }
        match l.kind {
            LinkKind::Verifies => {
                // Links from retired cases no longer verify anything.
                if by_id.contains_key(&l.source_id) || cases.names.contains_key(&l.source_id) {
                    verified
                        .entry(l.target_id)
                        .or_default()
                        .push(name(&l.source_id));
                    verifier_ids
                        .entry(l.target_id)
                        .or_default()
                        .push(l.source_id);
                }
            }
            LinkKind::Relates => {}
            _ => {
                up.entry(l.source_id).or_default().push(name(&l.target_id));
                down.entry(l.target_id)
                    .or_default()
                    .push(name(&l.source_id));
            }
        }
    }
    facts
        .iter()
        .filter(|f| f.status != "obsolete")
        .filter(|f| ReqKind::parse(&f.kind).map_or(true, |k| k.is_requirement()))
        .map(|f| {
            let owned = |m: &HashMap<Uuid, Vec<&str>>| -> Vec<String> {
                m.get(&f.id.0)
                    .map(|v| v.iter().map(|s| (*s).to_owned()).collect())
                    .unwrap_or_default()
            };
            let verified_by = owned(&verified);
            RvtmRow {
                id: f.id,
                human_id: f.human_id.clone(),
                title: f.title.clone(),
                module_id: f.module_id,
                module_prefix: prefix.get(&f.module_id).copied().unwrap_or("").to_owned(),
                status: f.status.clone(),
                kind: f.kind.clone(),
                verification_methods: f.verification_methods,
                upstream: owned(&up),
                downstream: owned(&down),
                verification: cases
                    .status(verifier_ids.get(&f.id.0).map_or(&[][..], Vec::as_slice)),
                verified_by,
                suspect_links: suspect.get(&f.id.0).copied().unwrap_or(0),
                top_level: top.get(&f.module_id).copied().unwrap_or(true),
            }
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
