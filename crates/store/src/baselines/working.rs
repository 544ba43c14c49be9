//! The working state as baseline groups, through the working-group cache (migration 0007).
//!
//! Every write that can change a group's items bumps that group's `version` (database
//! triggers). A reader takes one snapshot, reads the cache rows, reads from the data tables
//! only the groups whose cached hash is older than their version, and afterwards stores what
//! it computed, each group only if its version has not moved since the snapshot. The cost of
//! a freeze or a comparison with the working state thus follows what changed since the last
//! read, not the size of the project.
//!
//! The cache serves the whole-project scope (every module, verification included), the
//! scope of nearly every baseline: a link group's content depends on which link ends a scope
//! holds, so narrower scopes are read from the rows.

use super::items::{build_items, DirtyGroups};
use crate::{db_err, write, Db};
use opensesa_app::ports::{StoreError, StoreResult, WorkingGroup};
use opensesa_domain::baselines::content::{body_hash, decode, group_items, Group};
use opensesa_domain::baselines::{ArtefactKind, BaselineScope};
use std::collections::HashMap;
use uuid::Uuid;

/// A group computed from the rows, to be stored in the cache with the version it was
/// computed at (an empty group is stored with an empty hash).
pub struct Computed {
    pub kind: ArtefactKind,
    pub group: Uuid,
    pub version: i64,
    pub hash: String,
    pub items: i64,
    pub body: String,
}

/// One read of the working state.
#[derive(Default)]
pub struct Working {
    pub groups: Vec<WorkingGroup>,
    pub computed: Vec<Computed>,
}

/// A row of the cache: kind, group, version, hashed version, hash, items.
pub type CacheRow = (String, Uuid, i64, Option<i64>, Option<String>, Option<i64>);

/// Whether a scope is served by the cache.
pub fn cached_scope(scope: &BaselineScope) -> bool {
    scope.modules.is_empty() && scope.include_vv
}

/// Splits the cache rows into clean groups (kind, group, hash, items; empty ones left out)
/// and the dirty ones with the versions seen.
pub fn split(
    rows: Vec<CacheRow>,
) -> (
    Vec<WorkingGroup>,
    DirtyGroups,
    HashMap<(ArtefactKind, Uuid), i64>,
) {
    let mut clean = Vec::new();
    let mut dirty = DirtyGroups::default();
    let mut versions = HashMap::new();
    for (kind, group, version, hashed, hash, items) in rows {
        // A kind this build does not know (a newer schema) cannot be read; skip it.
        let Ok(kind) = ArtefactKind::parse(&kind) else {
            continue;
        };
        match (hashed, hash, items) {
            (Some(h), Some(hash), Some(count)) if h == version => {
                if count > 0 {
                    clean.push(WorkingGroup {
                        kind,
                        group,
                        hash,
                        count,
                        items: None,
                    });
                }
            }
            _ => {
                dirty.insert(kind, group);
                versions.insert((kind, group), version);
            }
        }
    }
    (clean, dirty, versions)
}

/// Turns the rows read for the dirty groups into working groups and cache entries; module
/// and plan groups (never cached) are returned as computed groups without an entry.
pub fn computed(
    scope: &BaselineScope,
    raw: super::items::RawItems,
    dirty: &DirtyGroups,
    versions: HashMap<(ArtefactKind, Uuid), i64>,
) -> Working {
    let items = build_items(scope, raw)
        .into_iter()
        .filter(|i| dirty.contains(i.kind, i.group))
        .collect();
    let by_key: HashMap<(ArtefactKind, Uuid), Group> = group_items(items)
        .into_iter()
        .map(|g| ((g.kind, g.group), g))
        .collect();
    let mut out = Working::default();
    for ((kind, group), version) in versions {
        let (hash, count, body) = match by_key.get(&(kind, group)) {
            Some(g) => (g.hash.clone(), g.items.len() as i64, g.body()),
            None => (String::new(), 0, String::new()),
        };
        out.computed.push(Computed {
            kind,
            group,
            version,
            hash,
            items: count,
            body,
        });
    }
    out.groups = by_key.into_values().map(whole).collect();
    out
}

/// A computed group as a working group with its items.
pub fn whole(g: Group) -> WorkingGroup {
    WorkingGroup {
        kind: g.kind,
        group: g.group,
        count: g.items.len() as i64,
        hash: g.hash,
        items: Some(g.items),
    }
}

/// Items of a cached body, checked against the hash it is stored under: a cache that does
/// not match its hash is an error, never a silent difference.
pub fn cached_items(
    g: &WorkingGroup,
    body: &str,
) -> StoreResult<Vec<opensesa_domain::baselines::Item>> {
    if body_hash(body) != g.hash {
        return Err(StoreError::Backend(
            format!(
                "the working-group cache of {} {} does not match its hash",
                g.kind.as_str(),
                g.group
            )
            .into(),
        ));
    }
    decode(g.kind, g.group, body).map_err(|e| StoreError::Backend(e.into()))
}

/// Reads the working state of a scope on a connection expression (in a transaction, so
/// that every statement sees one snapshot).
macro_rules! read_working {
    ($conn:expr, $project:expr, $scope:expr, $postgres:expr, $want:expr) => {{
        use $crate::baselines::working::*;
        let project: uuid::Uuid = $project;
        let scope: &opensesa_domain::baselines::BaselineScope = $scope;
        let postgres: bool = $postgres;
        let want: opensesa_app::ports::WantItems<'_> = $want;
        if cached_scope(scope) {
            let rows: Vec<CacheRow> = sqlx::query_as(
                "SELECT w.kind, w.group_id, w.version, c.hashed_version, c.hash, c.items \
                 FROM working_groups w LEFT JOIN working_group_cache c ON c.project_id = w.project_id \
                 AND c.kind = w.kind AND c.group_id = w.group_id WHERE w.project_id = $1",
            )
            .bind(project)
            .fetch_all($conn)
            .await
            .map_err($crate::db_err)?;
            let (mut clean, dirty, versions) = split(rows);
            // With nothing cached (a new or bulk-loaded project), one plain read of every
            // row is cheaper than reading group by group.
            let raw = if clean.is_empty() {
                $crate::baselines::items::load_items!($conn, project, scope, postgres)
            } else {
                $crate::baselines::items::load_dirty!($conn, project, &dirty, postgres)
            };
            let mut working = computed(scope, raw, &dirty, versions);
            let mut wanted: HashMap<(opensesa_domain::baselines::ArtefactKind, uuid::Uuid), usize> =
                HashMap::new();
            for (n, g) in clean.iter().enumerate() {
                if want(g.kind, g.group, &g.hash) {
                    wanted.insert((g.kind, g.group), n);
                }
            }
            let keys: Vec<(opensesa_domain::baselines::ArtefactKind, uuid::Uuid)> =
                wanted.keys().copied().collect();
            for chunk in keys.chunks(200) {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT kind, group_id, body FROM working_group_cache WHERE project_id = ",
                );
                qb.push_bind(project);
                qb.push(" AND (");
                let mut sep = qb.separated(" OR ");
                for (kind, group) in chunk {
                    sep.push("(kind = ");
                    sep.push_bind_unseparated(kind.as_str());
                    sep.push_unseparated(" AND group_id = ");
                    sep.push_bind_unseparated(*group);
                    sep.push_unseparated(")");
                }
                qb.push(")");
                let bodies: Vec<(String, uuid::Uuid, Option<String>)> = qb
                    .build_query_as()
                    .fetch_all($conn)
                    .await
                    .map_err($crate::db_err)?;
                for (kind, group, body) in bodies {
                    let Ok(kind) = opensesa_domain::baselines::ArtefactKind::parse(&kind) else {
                        continue;
                    };
                    if let Some(&n) = wanted.get(&(kind, group)) {
                        let g = &clean[n];
                        let items = cached_items(g, body.as_deref().unwrap_or_default())?;
                        clean[n].items = Some(items);
                    }
                }
            }
            working.groups.append(&mut clean);
            working
        } else {
            let raw = $crate::baselines::items::load_items!($conn, project, scope, postgres);
            let items = $crate::baselines::items::build_items(scope, raw);
            Working {
                groups: opensesa_domain::baselines::content::group_items(items)
                    .into_iter()
                    .map(whole)
                    .collect(),
                computed: Vec::new(),
            }
        }
    }};
}
pub(crate) use read_working;

/// Stores computed groups in the cache with the versions they were computed at (a write
/// since then leaves them dirty). Best effort: the cache is only ever
/// read through its versions, so a failure here costs a later read time, not correctness.
pub async fn write_back(db: &Db, project: Uuid, computed: Vec<Computed>) {
    if computed.is_empty() {
        return;
    }
    if let Err(e) = store(db, project, &computed).await {
        tracing::warn!(error = %e, "working-group cache not stored");
    }
}

async fn store(db: &Db, project: Uuid, computed: &[Computed]) -> StoreResult<()> {
    write!(db, |p| {
        let mut tx = p.begin().await.map_err(db_err)?;
        for c in computed {
            // Stored with the version it was computed at: if a write bumped the group since
            // the snapshot, the entry is simply not clean (the versions differ).
            sqlx::query(
                "INSERT INTO working_group_cache (project_id, kind, group_id, hashed_version, hash, items, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, kind, group_id) DO UPDATE \
                 SET hashed_version = excluded.hashed_version, hash = excluded.hash, \
                 items = excluded.items, body = excluded.body",
            )
            .bind(project)
            .bind(c.kind.as_str())
            .bind(c.group)
            .bind(c.version)
            .bind(&c.hash)
            .bind(c.items)
            .bind(&c.body)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    })
}
