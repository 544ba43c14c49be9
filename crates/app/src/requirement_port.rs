//! The storage port of requirements management (re-exported from `ports`).

use crate::ports::{Journal, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opensesa_domain::ids::{
    CommentId, ImportId, LinkId, ModuleId, ProjectId, RequirementId, ReviewRoundId, UserId,
};
use opensesa_domain::requirements::links::SuspectReason;
use opensesa_domain::requirements::quality::Finding;
use opensesa_domain::requirements::{LinkKind, Module, Requirement, TraceLink};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One requirement to write in a batch.
#[derive(Debug, Clone)]
pub struct ReqWrite {
    pub req: Requirement,
    /// Create (human id allocated from the module's prefix when empty) or update (optimistic:
    /// the stored revision must be `req.revision - 1`, or equal when `content_changed` is false).
    pub create: bool,
    /// A new revision: links touching it turn suspect (and those downstream, transitively).
    pub content_changed: bool,
    pub findings: Vec<Finding>,
    /// The normalised-statement key used to find exact duplicates.
    pub statement_key: String,
}

/// Makes the audit events and revisions of requirement writes (see
/// [`RequirementStore::save_batch_journaled`]). A created requirement's events and revisions
/// carry an empty human id; the store writes the allocated one into them.
pub trait WriteJournal: Send + Sync {
    fn journal_of(&self, writes: &[&ReqWrite]) -> Journal;
}

/// No events or revisions per write: the batch's journal is given whole.
pub struct NoWriteJournal;

impl WriteJournal for NoWriteJournal {
    fn journal_of(&self, _: &[&ReqWrite]) -> Journal {
        Journal::default()
    }
}

/// A link to add in a batch; ends given by id.
#[derive(Debug, Clone)]
pub struct LinkWrite {
    pub link: TraceLink,
}

/// A module written with a batch (an import's new document, or attribute definitions it
/// adds): created when `before` is `None`, else updated optimistically (the stored revision
/// must be `module.revision - 1`).
#[derive(Debug, Clone)]
pub struct ModuleWrite {
    pub module: Module,
    pub before: Option<Module>,
}

/// Everything one save writes, in one transaction: modules, requirements, links added and
/// removed.
#[derive(Debug, Clone, Default)]
pub struct ReqBatch {
    pub project_id: Option<ProjectId>,
    /// Written first, so requirements of a new module can follow in the same batch.
    pub modules: Vec<ModuleWrite>,
    pub requirements: Vec<ReqWrite>,
    pub add_links: Vec<TraceLink>,
    pub remove_links: Vec<LinkId>,
    /// The person saving, for suspect reasons and confirmations.
    pub by: Option<UserId>,
}

/// What a batch did: the human ids given to created requirements (in batch order) and the
/// number of links that turned suspect.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub human_ids: Vec<String>,
    pub suspected_links: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// A table query over a project's requirements.
#[derive(Debug, Clone, Default)]
pub struct ReqQuery {
    pub project_id: Option<ProjectId>,
    pub module_id: Option<ModuleId>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub owner: Option<String>,
    pub tag: Option<String>,
    /// Full-text search (ids, titles, statements, comments).
    pub text: Option<String>,
    /// A custom attribute equal to a value (as text).
    pub attribute: Option<(String, String)>,
    pub only_suspect: bool,
    /// A built-in column name (validated by the caller against a fixed list).
    pub sort: Option<String>,
    pub dir: SortDir,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct ReqRow {
    pub req: Requirement,
    pub module_prefix: String,
    pub suspect_links: i64,
}

#[derive(Debug, Clone)]
pub struct ReqPage {
    pub rows: Vec<ReqRow>,
    pub total: i64,
}

/// A compact row for whole-project analyses (coverage, RVTM, gap analysis, quality).
#[derive(Debug, Clone)]
pub struct ReqFacts {
    pub id: RequirementId,
    pub human_id: String,
    pub module_id: ModuleId,
    pub parent_id: Option<RequirementId>,
    pub title: String,
    pub statement: String,
    pub kind: String,
    pub status: String,
    pub verification_methods: usize,
    pub rationale_empty: bool,
    pub revision: i64,
}

/// A compact link for analyses.
#[derive(Debug, Clone, Copy)]
pub struct LinkFacts {
    pub id: LinkId,
    pub kind: LinkKind,
    pub source_id: Uuid,
    pub target_id: Uuid,
    pub suspect: bool,
}

/// A link with the human ids and titles of its ends, for pages.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub link: TraceLink,
    pub source_human_id: String,
    pub source_title: String,
    pub target_human_id: String,
    pub target_title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: CommentId,
    pub requirement_id: RequirementId,
    pub thread_id: Option<CommentId>,
    pub author_id: Option<UserId>,
    pub author: String,
    pub body: String,
    pub revision: i64,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewRound {
    pub id: ReviewRoundId,
    pub project_id: ProjectId,
    pub title: String,
    /// open | closed
    pub status: String,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    pub requirement_id: RequirementId,
    pub human_id: String,
    pub title: String,
    pub status: String,
    /// The revision under review when the round opened, and the current one.
    pub revision: i64,
    pub current_revision: i64,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewDecision {
    pub requirement_id: RequirementId,
    pub reviewer_id: UserId,
    pub reviewer: String,
    /// approve | reject | comment
    pub decision: String,
    pub comment: String,
    pub revision: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundDetail {
    pub round: ReviewRound,
    pub items: Vec<ReviewItem>,
    pub reviewers: Vec<(UserId, String)>,
    pub decisions: Vec<ReviewDecision>,
}

/// A search hit: the requirement, its rank and the matched text with `[[`/`]]` around hits
/// (the page escapes the text, then turns the markers into `<mark>`).
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub id: RequirementId,
    pub human_id: String,
    pub module_prefix: String,
    pub title: String,
    pub snippet: String,
    pub rank: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingImport {
    pub id: ImportId,
    pub project_id: ProjectId,
    pub module_id: Option<ModuleId>,
    pub format: String,
    pub file_name: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    /// pending | applied | discarded
    pub status: String,
    pub report: serde_json::Value,
}

#[async_trait]
pub trait RequirementStore: Send + Sync {
    async fn list_modules(&self, project: ProjectId) -> StoreResult<Vec<Module>>;
    async fn find_module(&self, project: ProjectId, id: ModuleId) -> StoreResult<Option<Module>>;
    async fn find_module_by_prefix(
        &self,
        project: ProjectId,
        prefix: &str,
    ) -> StoreResult<Option<Module>>;
    async fn insert_module(&self, module: &Module, journal: &Journal) -> StoreResult<()>;
    /// Optimistic: the stored revision must be `module.revision - 1`.
    async fn update_module(&self, module: &Module, journal: &Journal) -> StoreResult<()>;
    /// Requirements per module (all statuses).
    async fn module_counts(&self, project: ProjectId) -> StoreResult<Vec<(ModuleId, i64)>>;

    async fn find_requirement(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Requirement>>;
    async fn find_requirement_by_id(
        &self,
        project: ProjectId,
        id: RequirementId,
    ) -> StoreResult<Option<Requirement>>;
    async fn find_requirements_by_human_ids(
        &self,
        project: ProjectId,
        human_ids: &[String],
    ) -> StoreResult<Vec<Requirement>>;
    async fn find_requirements_by_external_ids(
        &self,
        project: ProjectId,
        external_ids: &[String],
    ) -> StoreResult<Vec<Requirement>>;
    async fn stored_findings(&self, id: RequirementId) -> StoreResult<Vec<Finding>>;
    /// The requirements whose parent is `id`, in any module, in document order.
    async fn children_of(&self, id: RequirementId) -> StoreResult<Vec<Requirement>>;
    /// The requirements of a module in document order.
    async fn module_requirements(&self, module: ModuleId) -> StoreResult<Vec<Requirement>>;
    async fn list_requirements(&self, query: &ReqQuery) -> StoreResult<ReqPage>;
    async fn requirement_facts(&self, project: ProjectId) -> StoreResult<Vec<ReqFacts>>;
    /// The same facts with an empty `statement`: coverage and the RVTM need no text, and
    /// reading 100,000 statements is most of the query's cost.
    async fn requirement_facts_light(&self, project: ProjectId) -> StoreResult<Vec<ReqFacts>>;
    async fn link_facts(&self, project: ProjectId) -> StoreResult<Vec<LinkFacts>>;
    /// (external id, link) of the project's links that came from a file (ReqIF relations).
    async fn link_external_ids(&self, project: ProjectId) -> StoreResult<Vec<(String, LinkId)>>;
    /// The version of the project's requirement, trace and V&V facts, bumped by every write
    /// to the tables coverage, the RVTM and the V&V dashboard read (migration 0008).
    async fn fact_version(
        &self,
        project: ProjectId,
    ) -> StoreResult<crate::project_cache::FactVersion>;
    /// Requirements proper (not headings, information or obsolete) of the project whose
    /// statement key is one of `keys`: (id, human id, key).
    async fn statement_twins(
        &self,
        project: ProjectId,
        keys: &[String],
    ) -> StoreResult<Vec<(RequirementId, String, String)>>;
    /// Human ids of requirements in the project whose normalised statement key is `key`.
    async fn same_statement(
        &self,
        project: ProjectId,
        key: &str,
        except: RequirementId,
    ) -> StoreResult<Vec<String>>;
    async fn search_requirements(
        &self,
        project: ProjectId,
        text: &str,
        limit: i64,
    ) -> StoreResult<Vec<SearchHit>>;

    /// Writes a batch in one transaction; see `ReqBatch`. `journal` is written as given.
    async fn save_batch(&self, batch: &ReqBatch, journal: &Journal) -> StoreResult<BatchOutcome> {
        self.save_batch_journaled(batch, journal, &NoWriteJournal)
            .await
    }

    /// Writes a batch in one transaction, with `journal` and, for every requirement write,
    /// the events and revisions `per_write` makes for it. Those are asked for a chunk of
    /// writes at a time and written before the next chunk is asked for, so a large batch's
    /// journal is never in memory whole.
    async fn save_batch_journaled(
        &self,
        batch: &ReqBatch,
        journal: &Journal,
        per_write: &dyn WriteJournal,
    ) -> StoreResult<BatchOutcome>;

    /// Links touching an artefact, in both directions, with their ends' ids and titles.
    async fn links_of(&self, artefact: Uuid) -> StoreResult<Vec<LinkView>>;
    /// Every link of the project with its ends, in the order of `project_links` (exports).
    async fn all_project_links(&self, project: ProjectId) -> StoreResult<Vec<LinkView>>;
    async fn project_links(
        &self,
        project: ProjectId,
        only_suspect: bool,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<LinkView>, i64)>;
    async fn find_link(&self, project: ProjectId, id: LinkId) -> StoreResult<Option<TraceLink>>;
    /// Would a link `from → to` close a cycle through links of `kinds`? (Is `from` reachable
    /// from `to` going source → target?)
    async fn reaches(&self, from: Uuid, to: Uuid, kinds: &[LinkKind]) -> StoreResult<bool>;
    /// Confirms links again: not suspect, ends' current revisions recorded.
    async fn confirm_links(
        &self,
        ids: &[LinkId],
        by: UserId,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<u64>;

    async fn list_comments(&self, requirement: RequirementId) -> StoreResult<Vec<Comment>>;
    async fn insert_comment(&self, comment: &Comment, journal: &Journal) -> StoreResult<()>;
    /// Resolves a thread (its first comment); false when there was no such open thread.
    async fn resolve_thread(
        &self,
        requirement: RequirementId,
        thread: CommentId,
        by: &str,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool>;

    async fn list_rounds(&self, project: ProjectId) -> StoreResult<Vec<ReviewRound>>;
    async fn find_round(
        &self,
        project: ProjectId,
        id: ReviewRoundId,
    ) -> StoreResult<Option<RoundDetail>>;
    /// Opens a round: the round, its items (requirement, revision) and reviewers; the batch
    /// carries the status changes of the items entering review.
    async fn insert_round(
        &self,
        round: &ReviewRound,
        items: &[(RequirementId, i64)],
        reviewers: &[UserId],
        batch: &ReqBatch,
        journal: &Journal,
    ) -> StoreResult<()>;
    async fn record_decision(
        &self,
        round: ReviewRoundId,
        decision: &ReviewDecision,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Closes an open round with per-item outcomes and the resulting status changes; false
    /// when the round was not open.
    async fn close_round(
        &self,
        round: &ReviewRound,
        outcomes: &[(RequirementId, String)],
        batch: &ReqBatch,
        journal: &Journal,
    ) -> StoreResult<bool>;
    /// Open rounds and unresolved threads per requirement, to show on the requirement page.
    async fn rounds_of(&self, requirement: RequirementId) -> StoreResult<Vec<ReviewRound>>;

    async fn disabled_rules(&self, project: ProjectId) -> StoreResult<Vec<String>>;
    async fn set_disabled_rules(
        &self,
        project: ProjectId,
        rules: &[String],
        journal: &Journal,
    ) -> StoreResult<()>;

    async fn insert_import(&self, import: &PendingImport, content: &[u8]) -> StoreResult<()>;
    async fn find_import(
        &self,
        project: ProjectId,
        id: ImportId,
    ) -> StoreResult<Option<(PendingImport, Vec<u8>)>>;
    async fn set_import_status(&self, id: ImportId, status: &str) -> StoreResult<()>;
    async fn prune_imports(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// Reasons appended to a link's suspect list are capped so a link edited many times stays small.
pub const MAX_SUSPECT_REASONS: usize = 10;

pub fn push_reason(reasons: &mut Vec<SuspectReason>, r: SuspectReason) {
    reasons.push(r);
    if reasons.len() > MAX_SUSPECT_REASONS {
        let excess = reasons.len() - MAX_SUSPECT_REASONS;
        reasons.drain(..excess);
    }
}
