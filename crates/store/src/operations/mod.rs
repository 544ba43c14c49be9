//! Operations readiness on both backends: readiness items, milestones with their gating items
//! and finish-to-start dependencies. Writers that add edges (dependencies, gating items) read
//! the project's edges and check for a cycle in the same transaction; on PostgreSQL a
//! per-project advisory transaction lock serialises them, so two concurrent inserts cannot
//! close a cycle together (SQLite has one writer anyway).

use crate::stamp::JournalIndex;
use crate::vv::alloc_numbers;
use crate::{db_err, read, transaction, Db};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::ports::*;
use opensesa_domain::ids::*;
use opensesa_domain::operations::graph::cycle_if_added;
use opensesa_domain::operations::{
    Dependency, ItemStatus, Milestone, MilestoneStatus, NodeRef, ReadinessItem, ITEM_PREFIX,
    MILESTONE_PREFIX,
};
use opensesa_domain::requirements::model::human_id;
use opensesa_domain::revision::Revision;
use std::collections::HashMap;
use uuid::Uuid;

fn corrupt(what: &str, e: String) -> StoreError {
    StoreError::Backend(format!("stored {what} is not valid: {e}").into())
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict(what.into())
}

/// PostgreSQL: serialises the edge writers of one project until the transaction ends.
macro_rules! lock_plan {
    ($tx:expr, $postgres:expr, $project:expr) => {
        if $postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1::text))")
                .bind(format!("ops:{}", $project))
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
        }
    };
}

/// Every edge of a project's plan (dependencies, and gating item → milestone), read on the
/// transaction; `$skip_gates_of` leaves out one milestone's gating edges (being replaced).
macro_rules! plan_edges {
    ($tx:expr, $project:expr, $skip_gates_of:expr) => {{
        let deps: Vec<(String, Uuid, String, Uuid)> = sqlx::query_as(
            "SELECT predecessor_kind, predecessor_id, successor_kind, successor_id \
             FROM ops_dependencies WHERE project_id = $1",
        )
        .bind($project)
        .fetch_all(&mut *$tx)
        .await
        .map_err(db_err)?;
        let gates: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT item_id, milestone_id FROM ops_gates WHERE project_id = $1")
                .bind($project)
                .fetch_all(&mut *$tx)
                .await
                .map_err(db_err)?;
        let skip: Option<Uuid> = $skip_gates_of;
        let mut edges = Vec::with_capacity(deps.len() + gates.len());
        for (pk, p, sk, s) in deps {
            edges.push((node(&pk, p)?, node(&sk, s)?));
        }
        for (i, m) in gates {
            if Some(m) != skip {
                edges.push((
                    NodeRef::Item(OpsItemId(i)),
                    NodeRef::Milestone(MilestoneId(m)),
                ));
            }
        }
        edges
    }};
}

/// The human ids of a project's items and milestones, by id (for messages that name them).
macro_rules! plan_names {
    ($tx:expr, $project:expr) => {{
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, human_id FROM ops_items WHERE project_id = $1 \
             UNION ALL SELECT id, human_id FROM ops_milestones WHERE project_id = $1",
        )
        .bind($project)
        .fetch_all(&mut *$tx)
        .await
        .map_err(db_err)?;
        rows.into_iter().collect::<HashMap<Uuid, String>>()
    }};
}

/// Marks the project's plan as changed (readers' caches key on the version).
macro_rules! bump_version {
    ($tx:expr, $project:expr) => {
        sqlx::query(
            "INSERT INTO ops_versions (project_id, version) VALUES ($1, 1) \
             ON CONFLICT (project_id) DO UPDATE SET version = ops_versions.version + 1",
        )
        .bind($project)
        .execute(&mut *$tx)
        .await
        .map_err(db_err)?;
    };
}

fn node(kind: &str, id: Uuid) -> StoreResult<NodeRef> {
    NodeRef::from_parts(kind, id).map_err(|e| corrupt("dependency end", e))
}

fn chain(cycle: &[NodeRef], names: &HashMap<Uuid, String>) -> String {
    cycle
        .iter()
        .map(|n| {
            names
                .get(&n.uuid())
                .cloned()
                .unwrap_or_else(|| n.uuid().to_string())
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

const ITEM_COLS: &str = "id, project_id, human_id, title, description, owner, due_date, status, \
     source, duration_days, revision, done_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    title: String,
    description: String,
    owner: String,
    due_date: Option<NaiveDate>,
    status: String,
    source: String,
    duration_days: i64,
    revision: i64,
    done_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ItemRow> for ReadinessItem {
    type Error = StoreError;
    fn try_from(r: ItemRow) -> StoreResult<Self> {
        Ok(ReadinessItem {
            id: OpsItemId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            title: r.title,
            description: r.description,
            owner: r.owner,
            due_date: r.due_date,
            status: ItemStatus::parse(&r.status).map_err(|e| corrupt("item status", e))?,
            source: r.source,
            duration_days: r.duration_days,
            revision: r.revision,
            done_at: r.done_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const FACT_COLS: &str =
    "id, human_id, title, owner, due_date, status, duration_days, source, created_at, done_at";

#[derive(sqlx::FromRow)]
struct FactRow {
    id: Uuid,
    human_id: String,
    title: String,
    owner: String,
    due_date: Option<NaiveDate>,
    status: String,
    duration_days: i64,
    source: String,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

const MILESTONE_COLS: &str = "id, project_id, human_id, name, description, target_date, status, \
     revision, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct MilestoneRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    name: String,
    description: String,
    target_date: NaiveDate,
    status: String,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl MilestoneRow {
    fn into_milestone(self, gates: Vec<OpsItemId>) -> StoreResult<Milestone> {
        Ok(Milestone {
            id: MilestoneId(self.id),
            project_id: ProjectId(self.project_id),
            human_id: self.human_id,
            name: self.name,
            description: self.description,
            target_date: self.target_date,
            status: MilestoneStatus::parse(&self.status)
                .map_err(|e| corrupt("milestone status", e))?,
            gates,
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DependencyRow {
    id: Uuid,
    project_id: Uuid,
    predecessor_kind: String,
    predecessor_id: Uuid,
    successor_kind: String,
    successor_id: Uuid,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<DependencyRow> for Dependency {
    type Error = StoreError;
    fn try_from(r: DependencyRow) -> StoreResult<Self> {
        Ok(Dependency {
            id: DependencyId(r.id),
            project_id: ProjectId(r.project_id),
            predecessor: node(&r.predecessor_kind, r.predecessor_id)?,
            successor: node(&r.successor_kind, r.successor_id)?,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
        })
    }
}

/// Inserts gating rows of one milestone.
macro_rules! insert_gates {
    ($tx:expr, $m:expr) => {
        for (k, g) in $m.gates.iter().enumerate() {
            sqlx::query(
                "INSERT INTO ops_gates (milestone_id, item_id, project_id, ordinal) VALUES ($1, $2, $3, $4)",
            )
            .bind($m.id.0)
            .bind(g.0)
            .bind($m.project_id.0)
            .bind(k as i64)
            .execute(&mut *$tx)
            .await
            .map_err(db_err)?;
        }
    };
}

#[async_trait]
impl OpsStore for Db {
    async fn item_facts(&self, project: ProjectId) -> StoreResult<Vec<ItemFact>> {
        let sql =
            format!("SELECT {FACT_COLS} FROM ops_items WHERE project_id = $1 ORDER BY number");
        let rows: Vec<FactRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter()
            .map(|r| {
                Ok(ItemFact {
                    id: OpsItemId(r.id),
                    human_id: r.human_id,
                    title: r.title,
                    owner: r.owner,
                    due_date: r.due_date,
                    status: ItemStatus::parse(&r.status).map_err(|e| corrupt("item status", e))?,
                    duration_days: r.duration_days,
                    source: r.source,
                    created_at: r.created_at,
                    done_at: r.done_at,
                })
            })
            .collect()
    }

    async fn find_item(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<ReadinessItem>> {
        let sql =
            format!("SELECT {ITEM_COLS} FROM ops_items WHERE project_id = $1 AND human_id = $2");
        let row: Option<ItemRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(ReadinessItem::try_from).transpose()
    }

    async fn insert_item(&self, i: &ReadinessItem, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, "ops_item");
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            bump_version!(tx, i.project_id.0);
            let number = alloc_numbers!(tx, i.project_id.0, ITEM_PREFIX, 1);
            let hid = human_id(ITEM_PREFIX, number);
            index.stamp(journal, &i.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO ops_items ({ITEM_COLS}, number) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ))
            .bind(i.id.0)
            .bind(i.project_id.0)
            .bind(&hid)
            .bind(&i.title)
            .bind(&i.description)
            .bind(&i.owner)
            .bind(i.due_date)
            .bind(i.status.as_str())
            .bind(&i.source)
            .bind(i.duration_days)
            .bind(i.revision)
            .bind(i.done_at)
            .bind(i.created_at)
            .bind(i.updated_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn update_item(
        &self,
        i: &ReadinessItem,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE ops_items SET title = $2, description = $3, owner = $4, due_date = $5, status = $6, \
                 source = $7, duration_days = $8, revision = $9, done_at = $10, updated_at = $11 \
                 WHERE id = $1 AND revision = $12",
            )
            .bind(i.id.0)
            .bind(&i.title)
            .bind(&i.description)
            .bind(&i.owner)
            .bind(i.due_date)
            .bind(i.status.as_str())
            .bind(&i.source)
            .bind(i.duration_days)
            .bind(i.revision)
            .bind(i.done_at)
            .bind(i.updated_at)
            .bind(expected_revision)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "item {} was changed by someone else; reload and retry",
                    i.human_id
                )));
            }
            bump_version!(tx, i.project_id.0);
        })
    }

    async fn list_milestones(&self, project: ProjectId) -> StoreResult<Vec<Milestone>> {
        let sql = format!(
            "SELECT {MILESTONE_COLS} FROM ops_milestones WHERE project_id = $1 ORDER BY number"
        );
        let rows: Vec<MilestoneRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        let gates: Vec<(Uuid, Uuid)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT milestone_id, item_id FROM ops_gates WHERE project_id = $1 ORDER BY milestone_id, ordinal"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        let mut by_milestone: HashMap<Uuid, Vec<OpsItemId>> = HashMap::new();
        for (m, i) in gates {
            by_milestone.entry(m).or_default().push(OpsItemId(i));
        }
        rows.into_iter()
            .map(|r| {
                let g = by_milestone.remove(&r.id).unwrap_or_default();
                r.into_milestone(g)
            })
            .collect()
    }

    async fn find_milestone(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Milestone>> {
        let sql = format!(
            "SELECT {MILESTONE_COLS} FROM ops_milestones WHERE project_id = $1 AND human_id = $2"
        );
        let row: Option<MilestoneRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let gates: Vec<(Uuid,)> = read!(self, |p| sqlx::query_as(
            "SELECT item_id FROM ops_gates WHERE milestone_id = $1 ORDER BY ordinal"
        )
        .bind(row.id)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        row.into_milestone(gates.into_iter().map(|(g,)| OpsItemId(g)).collect())
            .map(Some)
    }

    async fn insert_milestone(&self, m: &Milestone, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, "ops_milestone");
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            bump_version!(tx, m.project_id.0);
            let number = alloc_numbers!(tx, m.project_id.0, MILESTONE_PREFIX, 1);
            let hid = human_id(MILESTONE_PREFIX, number);
            index.stamp(journal, &m.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO ops_milestones ({MILESTONE_COLS}, number) VALUES \
                 ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ))
            .bind(m.id.0)
            .bind(m.project_id.0)
            .bind(&hid)
            .bind(&m.name)
            .bind(&m.description)
            .bind(m.target_date)
            .bind(m.status.as_str())
            .bind(m.revision)
            .bind(m.created_at)
            .bind(m.updated_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // A new milestone has no successors yet, so its gating edges cannot close a cycle.
            insert_gates!(tx, m);
            hid
        })
    }

    async fn update_milestone(
        &self,
        m: &Milestone,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()> {
        let postgres = !self.is_sqlite();
        transaction!(self, journal, |tx| {
            lock_plan!(tx, postgres, m.project_id.0);
            let done = sqlx::query(
                "UPDATE ops_milestones SET name = $2, description = $3, target_date = $4, status = $5, \
                 revision = $6, updated_at = $7 WHERE id = $1 AND revision = $8",
            )
            .bind(m.id.0)
            .bind(&m.name)
            .bind(&m.description)
            .bind(m.target_date)
            .bind(m.status.as_str())
            .bind(m.revision)
            .bind(m.updated_at)
            .bind(expected_revision)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "milestone {} was changed by someone else; reload and retry",
                    m.human_id
                )));
            }
            bump_version!(tx, m.project_id.0);
            let current: Vec<(Uuid,)> = sqlx::query_as(
                "SELECT item_id FROM ops_gates WHERE milestone_id = $1 ORDER BY ordinal",
            )
            .bind(m.id.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            let current: Vec<OpsItemId> = current.into_iter().map(|(g,)| OpsItemId(g)).collect();
            if current != m.gates {
                let mut edges = plan_edges!(tx, m.project_id.0, Some(m.id.0));
                let target = NodeRef::Milestone(m.id);
                for g in &m.gates {
                    let from = NodeRef::Item(*g);
                    if let Some(cycle) = cycle_if_added(&edges, from, target) {
                        let names = plan_names!(tx, m.project_id.0);
                        return Err(conflict(format!(
                            "{} cannot gate {}: it depends on the milestone already, so the gate would close a cycle: {}",
                            chain(&[from], &names),
                            m.human_id,
                            chain(&cycle, &names)
                        )));
                    }
                    edges.push((from, target));
                }
                sqlx::query("DELETE FROM ops_gates WHERE milestone_id = $1")
                    .bind(m.id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                insert_gates!(tx, m);
            }
        })
    }

    async fn plan_version(&self, project: ProjectId) -> StoreResult<i64> {
        let v: Option<(i64,)> = read!(self, |p| sqlx::query_as(
            "SELECT version FROM ops_versions WHERE project_id = $1"
        )
        .bind(project.0)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(v.map_or(0, |(v,)| v))
    }

    async fn list_dependencies(&self, project: ProjectId) -> StoreResult<Vec<Dependency>> {
        let rows: Vec<DependencyRow> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, project_id, predecessor_kind, predecessor_id, successor_kind, successor_id, \
             created_by, created_at FROM ops_dependencies WHERE project_id = $1 ORDER BY id"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        rows.into_iter().map(Dependency::try_from).collect()
    }

    async fn insert_dependency(&self, d: &Dependency, journal: &Journal) -> StoreResult<()> {
        let postgres = !self.is_sqlite();
        transaction!(self, journal, |tx| {
            lock_plan!(tx, postgres, d.project_id.0);
            bump_version!(tx, d.project_id.0);
            let edges = plan_edges!(tx, d.project_id.0, None::<Uuid>);
            let (p, s) = (d.predecessor, d.successor);
            let exists = edges.contains(&(p, s));
            let explicit: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM ops_dependencies WHERE predecessor_id = $1 AND successor_id = $2",
            )
            .bind(p.uuid())
            .bind(s.uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if explicit.0 > 0 {
                let names = plan_names!(tx, d.project_id.0);
                return Err(conflict(format!(
                    "{} already depends on {}",
                    chain(&[s], &names),
                    chain(&[p], &names)
                )));
            }
            if !exists {
                if let Some(cycle) = cycle_if_added(&edges, p, s) {
                    let names = plan_names!(tx, d.project_id.0);
                    return Err(conflict(format!(
                        "{} → {} would close a cycle: {}",
                        chain(&[p], &names),
                        chain(&[s], &names),
                        chain(&cycle, &names)
                    )));
                }
            }
            sqlx::query(
                "INSERT INTO ops_dependencies (id, project_id, predecessor_kind, predecessor_id, \
                 successor_kind, successor_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(d.id.0)
            .bind(d.project_id.0)
            .bind(p.kind())
            .bind(p.uuid())
            .bind(s.kind())
            .bind(s.uuid())
            .bind(d.created_by.map(|u| u.0))
            .bind(d.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn delete_dependency(
        &self,
        project: ProjectId,
        id: DependencyId,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done =
                sqlx::query("DELETE FROM ops_dependencies WHERE id = $1 AND project_id = $2")
                    .bind(id.0)
                    .bind(project.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            bump_version!(tx, project.0);
        })
    }

    async fn insert_ops_bulk(&self, bulk: &OpsBulk, journal: &Journal) -> StoreResult<u64> {
        let Some(project) = bulk.project_id else {
            return Ok(0);
        };
        let postgres = !self.is_sqlite();
        let mut journal = journal.clone();
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            lock_plan!(tx, postgres, project.0);
            bump_version!(tx, project.0);
            let mut rows = 0u64;
            let first = alloc_numbers!(tx, project.0, ITEM_PREFIX, bulk.items.len());
            let items: Vec<(i64, ReadinessItem)> = bulk
                .items
                .iter()
                .enumerate()
                .map(|(k, i)| {
                    let n = first + k as i64;
                    let mut i = i.clone();
                    i.human_id = human_id(ITEM_PREFIX, n);
                    (n, i)
                })
                .collect();
            for chunk in items.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO ops_items ({ITEM_COLS}, number) "
                ));
                qb.push_values(chunk, |mut b, (n, i)| {
                    b.push_bind(i.id.0)
                        .push_bind(project.0)
                        .push_bind(&i.human_id)
                        .push_bind(&i.title)
                        .push_bind(&i.description)
                        .push_bind(&i.owner)
                        .push_bind(i.due_date)
                        .push_bind(i.status.as_str())
                        .push_bind(&i.source)
                        .push_bind(i.duration_days)
                        .push_bind(i.revision)
                        .push_bind(i.done_at)
                        .push_bind(i.created_at)
                        .push_bind(i.updated_at)
                        .push_bind(*n);
                });
                rows += qb
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
            }
            let first = alloc_numbers!(tx, project.0, MILESTONE_PREFIX, bulk.milestones.len());
            let milestones: Vec<(i64, Milestone)> = bulk
                .milestones
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    let n = first + k as i64;
                    let mut m = m.clone();
                    m.human_id = human_id(MILESTONE_PREFIX, n);
                    (n, m)
                })
                .collect();
            for chunk in milestones.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO ops_milestones ({MILESTONE_COLS}, number) "
                ));
                qb.push_values(chunk, |mut b, (n, m)| {
                    b.push_bind(m.id.0)
                        .push_bind(project.0)
                        .push_bind(&m.human_id)
                        .push_bind(&m.name)
                        .push_bind(&m.description)
                        .push_bind(m.target_date)
                        .push_bind(m.status.as_str())
                        .push_bind(m.revision)
                        .push_bind(m.created_at)
                        .push_bind(m.updated_at)
                        .push_bind(*n);
                });
                rows += qb
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
            }
            let gates: Vec<(Uuid, Uuid, i64)> = bulk
                .milestones
                .iter()
                .flat_map(|m| {
                    m.gates
                        .iter()
                        .enumerate()
                        .map(move |(k, g)| (m.id.0, g.0, k as i64))
                })
                .collect();
            for chunk in gates.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO ops_gates (milestone_id, item_id, project_id, ordinal) ",
                );
                qb.push_values(chunk, |mut b, (m, i, k)| {
                    b.push_bind(*m)
                        .push_bind(*i)
                        .push_bind(project.0)
                        .push_bind(*k);
                });
                rows += qb
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
            }
            for chunk in bulk.dependencies.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO ops_dependencies (id, project_id, predecessor_kind, predecessor_id, \
                     successor_kind, successor_id, created_by, created_at) ",
                );
                qb.push_values(chunk, |mut b, d| {
                    b.push_bind(d.id.0)
                        .push_bind(project.0)
                        .push_bind(d.predecessor.kind())
                        .push_bind(d.predecessor.uuid())
                        .push_bind(d.successor.kind())
                        .push_bind(d.successor.uuid())
                        .push_bind(d.created_by.map(|u| u.0))
                        .push_bind(d.created_at);
                });
                rows += qb
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
            }
            // The first revision of every artefact, with the human ids just allocated.
            for (_, i) in &items {
                journal
                    .revisions
                    .push(Revision::of(i, bulk.author, i.created_at));
            }
            for (_, m) in &milestones {
                journal
                    .revisions
                    .push(Revision::of(m, bulk.author, m.created_at));
            }
            rows
        })
    }
}
