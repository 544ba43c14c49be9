//! The storage port of operations readiness (re-exported from `ports`).

use crate::ports::{Journal, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_domain::ids::{DependencyId, OpsItemId, ProjectId};
use opensesa_domain::operations::{Dependency, ItemStatus, Milestone, ReadinessItem};
use serde::Serialize;

/// A readiness item without its description: what lists, the dashboard and the plan
/// analyses read for every item of a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemFact {
    pub id: OpsItemId,
    pub human_id: String,
    pub title: String,
    pub owner: String,
    pub due_date: Option<NaiveDate>,
    pub status: ItemStatus,
    pub duration_days: i64,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

impl From<&ReadinessItem> for ItemFact {
    fn from(i: &ReadinessItem) -> Self {
        Self {
            id: i.id,
            human_id: i.human_id.clone(),
            title: i.title.clone(),
            owner: i.owner.clone(),
            due_date: i.due_date,
            status: i.status,
            duration_days: i.duration_days,
            source: i.source.clone(),
            created_at: i.created_at,
            done_at: i.done_at,
        }
    }
}

/// A whole operations plan written at once (the generator): items and milestones get their
/// human ids in order, dependencies are inserted as given (the caller checked them acyclic).
#[derive(Debug, Clone, Default)]
pub struct OpsBulk {
    pub project_id: Option<ProjectId>,
    pub items: Vec<ReadinessItem>,
    pub milestones: Vec<Milestone>,
    pub dependencies: Vec<Dependency>,
    /// The author of the first revisions.
    pub author: Option<opensesa_domain::ids::UserId>,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    /// Every item of a project in human-id order, without descriptions.
    async fn item_facts(&self, project: ProjectId) -> StoreResult<Vec<ItemFact>>;
    async fn find_item(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<ReadinessItem>>;
    /// Creates an item (human id allocated) and returns its human id.
    async fn insert_item(&self, item: &ReadinessItem, journal: &Journal) -> StoreResult<String>;
    /// Optimistic: the stored revision must be `expected_revision`.
    async fn update_item(
        &self,
        item: &ReadinessItem,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()>;

    /// Every milestone of a project with its gating items, in human-id order.
    async fn list_milestones(&self, project: ProjectId) -> StoreResult<Vec<Milestone>>;
    async fn find_milestone(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Milestone>>;
    /// Creates a milestone with its gating items and returns its human id.
    async fn insert_milestone(
        &self,
        milestone: &Milestone,
        journal: &Journal,
    ) -> StoreResult<String>;
    /// Optimistic update; the gating items are replaced. A new gating item that already
    /// depends on the milestone would close a cycle: refused (conflict naming the cycle).
    async fn update_milestone(
        &self,
        milestone: &Milestone,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()>;

    async fn list_dependencies(&self, project: ProjectId) -> StoreResult<Vec<Dependency>>;
    /// The project's plan version: bumped by every write of items, milestones, gates or
    /// dependencies (0 before the first).
    async fn plan_version(&self, project: ProjectId) -> StoreResult<i64>;
    /// Inserts a dependency unless it repeats one or closes a cycle (with the gating edges
    /// counted): the check and the insert are one transaction, serialised per project.
    async fn insert_dependency(
        &self,
        dependency: &Dependency,
        journal: &Journal,
    ) -> StoreResult<()>;
    async fn delete_dependency(
        &self,
        project: ProjectId,
        id: DependencyId,
        journal: &Journal,
    ) -> StoreResult<()>;

    /// Writes a generated plan in one transaction; returns the number of rows written.
    async fn insert_ops_bulk(&self, bulk: &OpsBulk, journal: &Journal) -> StoreResult<u64>;
}
