//! The storage port of baselines and release governance (re-exported from `ports`).

use crate::ports::{Journal, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opensesa_domain::baselines::{
    AdoptionAction, ArtefactKind, Baseline, BaselineScope, Decision, Frozen, Item, ReleasePack,
};
use opensesa_domain::ids::{BaselineId, PackId, ProjectId, UserId};
use serde::Serialize;
use uuid::Uuid;

/// One group of a frozen baseline: its key and the hash its body is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    pub kind: ArtefactKind,
    pub group: Uuid,
    pub items: i64,
    pub hash: String,
}

/// A stored group body.
#[derive(Debug, Clone)]
pub struct GroupBody {
    pub hash: String,
    pub kind: ArtefactKind,
    pub body: String,
}

/// One group of the working state: its key, hash and item count, and its items when the
/// caller asked for them (or when they were computed for this read anyway).
#[derive(Debug, Clone)]
pub struct WorkingGroup {
    pub kind: ArtefactKind,
    pub group: Uuid,
    pub hash: String,
    pub count: i64,
    pub items: Option<Vec<Item>>,
}

/// Which working groups' items a caller needs, by (kind, group, hash).
pub type WantItems<'a> = &'a (dyn Fn(ArtefactKind, Uuid, &str) -> bool + Sync);

/// The live facts a readiness checklist reads.
#[derive(Debug, Clone, Default)]
pub struct ReadinessFacts {
    /// Every requirement: id, kind, status and approved revision.
    pub requirements: Vec<(Uuid, String, String, Option<i64>)>,
    /// Every `verifies` link: (source, target).
    pub verifies: Vec<(Uuid, Uuid)>,
    /// The ids of the suspect links.
    pub suspect: Vec<Uuid>,
}

/// A release pack with its baseline's human id and status, for lists.
#[derive(Debug, Clone, Serialize)]
pub struct PackSummary {
    pub pack: ReleasePack,
    pub baseline_human_id: String,
    pub open_actions: i64,
    pub last_decision: Option<String>,
}

#[async_trait]
pub trait BaselineStore: Send + Sync {
    async fn list_baselines(&self, project: ProjectId) -> StoreResult<Vec<Baseline>>;
    async fn find_baseline(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Baseline>>;
    async fn find_baseline_by_id(
        &self,
        project: ProjectId,
        id: BaselineId,
    ) -> StoreResult<Option<Baseline>>;
    /// Creates a draft baseline (human id allocated) and returns its human id.
    async fn insert_baseline(&self, baseline: &Baseline, journal: &Journal) -> StoreResult<String>;
    /// Changes a draft's name, description and scope; a conflict once it is frozen.
    async fn update_draft_baseline(
        &self,
        baseline: &Baseline,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// Freezes a draft in one transaction from one consistent read of the working state:
    /// records every item of its scope in content-addressed groups and the content hash.
    /// A conflict when it is frozen already (nothing written). The journal's `content_hash`
    /// change is filled in with the hash.
    async fn freeze_baseline(
        &self,
        id: BaselineId,
        by: Option<UserId>,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<Frozen>;
    /// The working state's items of a scope (what a freeze would record now).
    async fn current_items(
        &self,
        project: ProjectId,
        scope: &BaselineScope,
    ) -> StoreResult<Vec<Item>>;
    /// The working state of a scope as groups, from one consistent read. Groups that did
    /// not change since they were last computed come from the working-group cache (their
    /// items only when `want` asks for them); the others are read from the rows.
    async fn working_groups(
        &self,
        project: ProjectId,
        scope: &BaselineScope,
        want: WantItems<'_>,
    ) -> StoreResult<Vec<WorkingGroup>>;
    /// Projects whose working-group cache has groups changed since last computed.
    async fn projects_with_stale_groups(&self) -> StoreResult<Vec<ProjectId>>;
    async fn baseline_groups(&self, baseline: BaselineId) -> StoreResult<Vec<GroupRef>>;
    async fn group_bodies(&self, hashes: &[String]) -> StoreResult<Vec<GroupBody>>;

    async fn list_packs(&self, project: ProjectId) -> StoreResult<Vec<PackSummary>>;
    async fn find_pack(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<ReleasePack>>;
    async fn insert_pack(&self, pack: &ReleasePack, journal: &Journal) -> StoreResult<String>;
    /// Optimistic: the stored revision must be `expected_revision`.
    async fn update_pack(
        &self,
        pack: &ReleasePack,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()>;
    /// What a release pack's readiness checklist needs of the live project, in compact rows.
    async fn readiness_facts(&self, project: ProjectId) -> StoreResult<ReadinessFacts>;

    async fn pack_actions(&self, pack: PackId) -> StoreResult<Vec<AdoptionAction>>;
    async fn find_action(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<AdoptionAction>>;
    async fn insert_action(
        &self,
        action: &AdoptionAction,
        journal: &Journal,
    ) -> StoreResult<String>;
    async fn update_action(
        &self,
        action: &AdoptionAction,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()>;

    async fn insert_decision(&self, decision: &Decision, journal: &Journal) -> StoreResult<()>;
    /// Decisions on a pack, newest first.
    async fn pack_decisions(&self, pack: PackId) -> StoreResult<Vec<Decision>>;
}
