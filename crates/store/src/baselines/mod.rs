//! Baselines and release governance on both backends: draft baselines, the freeze (one
//! consistent read of the working state written as content-addressed groups in one
//! transaction), group reads for comparisons, release packs, adoption actions and decisions.

pub(crate) mod items;
mod rows;
mod working;

use crate::stamp::JournalIndex;
use crate::vv::{alloc_numbers, placeholders, CHUNK};
use crate::{db_err, read, transaction, Db};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use opensesa_app::ports::*;
use opensesa_domain::baselines::content::{content_hash, counts, Group};
use opensesa_domain::baselines::{
    AdoptionAction, ArtefactKind, Baseline, BaselineScope, Decision, Frozen, Item, ReleasePack,
    ACTION_PREFIX, BASELINE_PREFIX, PACK_PREFIX,
};
use opensesa_domain::ids::*;
use opensesa_domain::requirements::model::human_id;
use rows::*;
use sqlx::types::Json;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;
use working::{read_working, write_back};

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict(what.into())
}

/// Group bodies are written a few at a time: a module of 5,000 requirements is a body of
/// some 750 kB, and one statement should stay well below a few megabytes.
const BLOB_BYTES_PER_STATEMENT: usize = 4 << 20;

#[async_trait]
impl BaselineStore for Db {
    async fn list_baselines(&self, project: ProjectId) -> StoreResult<Vec<Baseline>> {
        let sql = format!(
            "SELECT {BASELINE_COLS} FROM baselines WHERE project_id = $1 ORDER BY number DESC"
        );
        let rows: Vec<BaselineRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(Baseline::try_from).collect()
    }

    async fn find_baseline(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Baseline>> {
        let sql = format!(
            "SELECT {BASELINE_COLS} FROM baselines WHERE project_id = $1 AND human_id = $2"
        );
        let row: Option<BaselineRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Baseline::try_from).transpose()
    }

    async fn find_baseline_by_id(
        &self,
        project: ProjectId,
        id: BaselineId,
    ) -> StoreResult<Option<Baseline>> {
        let sql =
            format!("SELECT {BASELINE_COLS} FROM baselines WHERE project_id = $1 AND id = $2");
        let row: Option<BaselineRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Baseline::try_from).transpose()
    }

    async fn insert_baseline(&self, b: &Baseline, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, "baseline");
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            let number = alloc_numbers!(tx, b.project_id.0, BASELINE_PREFIX, 1);
            let hid = human_id(BASELINE_PREFIX, number);
            index.stamp(journal, &b.id.to_string(), &hid);
            sqlx::query(
                "INSERT INTO baselines (id, project_id, human_id, number, name, description, scope, status, \
                 created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $9)",
            )
            .bind(b.id.0)
            .bind(b.project_id.0)
            .bind(&hid)
            .bind(number)
            .bind(&b.name)
            .bind(&b.description)
            .bind(Json(&b.scope))
            .bind(b.created_by.map(|u| u.0))
            .bind(b.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn update_draft_baseline(&self, b: &Baseline, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE baselines SET name = $2, description = $3, scope = $4, updated_at = $5 \
                 WHERE id = $1 AND status = 'draft'",
            )
            .bind(b.id.0)
            .bind(&b.name)
            .bind(&b.description)
            .bind(Json(&b.scope))
            .bind(b.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "baseline {} is frozen and cannot change",
                    b.human_id
                )));
            }
        })
    }

    async fn freeze_baseline(
        &self,
        id: BaselineId,
        by: Option<UserId>,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<Frozen> {
        let postgres = !self.is_sqlite();
        let mut journal = journal.clone();
        let journal = &mut journal;
        let result: StoreResult<_> = transaction!(self, journal, |tx| {
            if postgres {
                // Every read below sees one snapshot of the working state, so the baseline
                // cannot hold a link to a requirement version it does not hold.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let row: Option<(Uuid, String, String, Json<BaselineScope>)> = sqlx::query_as(
                "SELECT project_id, human_id, status, scope FROM baselines WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let (project, hid, status, scope) = row.ok_or(StoreError::NotFound)?;
            if status != "draft" {
                return Err(conflict(format!("baseline {hid} is frozen already")));
            }
            let started = std::time::Instant::now();
            let all = |_: ArtefactKind, _: Uuid, _: &str| true;
            let working = read_working!(&mut *tx, project, &scope.0, postgres, &all);
            let read_ms = started.elapsed().as_millis();
            let mut groups: Vec<Group> = Vec::with_capacity(working.groups.len());
            for g in working.groups {
                let items = g.items.ok_or_else(|| {
                    StoreError::Backend(format!("working group {} was not read", g.group).into())
                })?;
                groups.push(Group {
                    kind: g.kind,
                    group: g.group,
                    items,
                    hash: g.hash,
                });
            }
            groups.sort_by_key(|g| (g.kind, g.group));
            let hash = content_hash(groups.iter().flat_map(|g| &g.items));
            let per_kind: BTreeMap<String, i64> = counts(groups.iter().flat_map(|g| &g.items))
                .into_iter()
                .map(|(k, n)| (k.as_str().to_owned(), n))
                .collect();
            let total = groups.iter().map(|g| g.items.len() as i64).sum::<i64>();
            let grouped_ms = started.elapsed().as_millis();
            let computed = working.computed;

            // Bodies another baseline stored already are shared, not written again.
            let hashes: Vec<&str> = groups.iter().map(|g| g.hash.as_str()).collect();
            let mut stored: HashSet<String> = HashSet::new();
            for chunk in hashes.chunks(CHUNK) {
                let sql = format!(
                    "SELECT hash FROM baseline_blobs WHERE hash IN ({})",
                    placeholders(1, chunk.len())
                );
                let mut q = sqlx::query_as::<_, (String,)>(&sql);
                for h in chunk {
                    q = q.bind(*h);
                }
                for (h,) in q.fetch_all(&mut *tx).await.map_err(db_err)? {
                    stored.insert(h);
                }
            }
            let mut fresh: Vec<(&str, &str, i64, String)> = Vec::new();
            for g in &groups {
                if stored.insert(g.hash.clone()) {
                    fresh.push((&g.hash, g.kind.as_str(), g.items.len() as i64, g.body()));
                }
            }
            let mut start = 0;
            while start < fresh.len() {
                let mut end = start;
                let mut bytes = 0;
                while end < fresh.len()
                    && (end == start || bytes + fresh[end].3.len() < BLOB_BYTES_PER_STATEMENT)
                    && end - start < 200
                {
                    bytes += fresh[end].3.len();
                    end += 1;
                }
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO baseline_blobs (hash, kind, items, body) ",
                );
                qb.push_values(&fresh[start..end], |mut b, (h, k, n, body)| {
                    b.push_bind(*h)
                        .push_bind(*k)
                        .push_bind(*n)
                        .push_bind(body.as_str());
                });
                qb.build().execute(&mut *tx).await.map_err(db_err)?;
                start = end;
            }
            for chunk in groups.chunks(CHUNK / 5) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO baseline_groups (baseline_id, kind, group_id, items, hash) ",
                );
                qb.push_values(chunk, |mut b, g| {
                    b.push_bind(id.0)
                        .push_bind(g.kind.as_str())
                        .push_bind(g.group)
                        .push_bind(g.items.len() as i64)
                        .push_bind(g.hash.as_str());
                });
                qb.build().execute(&mut *tx).await.map_err(db_err)?;
            }
            tracing::debug!(
                baseline = %hid,
                items = total,
                groups = groups.len(),
                written = fresh.len(),
                computed = computed.len(),
                read_ms,
                grouped_ms,
                written_ms = started.elapsed().as_millis(),
                "baseline freeze phases"
            );
            let done = sqlx::query(
                "UPDATE baselines SET status = 'frozen', content_hash = $2, items = $3, counts = $4, \
                 frozen_by = $5, frozen_at = $6, updated_at = $6 WHERE id = $1 AND status = 'draft'",
            )
            .bind(id.0)
            .bind(&hash)
            .bind(total)
            .bind(Json(&per_kind))
            .bind(by.map(|u| u.0))
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!("baseline {hid} is frozen already")));
            }
            let artefact = id.to_string();
            for e in journal
                .events
                .iter_mut()
                .filter(|e| e.artefact_type == "baseline" && e.artefact_id == artefact)
            {
                for c in e.changes.iter_mut() {
                    match c.field.as_str() {
                        "content_hash" => c.after = serde_json::Value::from(hash.as_str()),
                        "items" => c.after = serde_json::Value::from(total),
                        _ => {}
                    }
                }
            }
            (
                Frozen {
                    content_hash: hash,
                    items: total,
                    counts: per_kind,
                    frozen_by: by,
                    frozen_at: at,
                },
                (project, computed),
            )
        });
        let (frozen, (project, computed)) = result?;
        // After the commit: a cache write inside the freeze could make a REPEATABLE READ
        // freeze fail on a concurrent edit.
        write_back(self, project, computed).await;
        Ok(frozen)
    }

    async fn current_items(
        &self,
        project: ProjectId,
        scope: &BaselineScope,
    ) -> StoreResult<Vec<Item>> {
        let all = |_: ArtefactKind, _: Uuid, _: &str| true;
        Ok(self
            .working_groups(project, scope, &all)
            .await?
            .into_iter()
            .flat_map(|g| g.items.unwrap_or_default())
            .collect())
    }

    async fn working_groups(
        &self,
        project: ProjectId,
        scope: &BaselineScope,
        want: WantItems<'_>,
    ) -> StoreResult<Vec<WorkingGroup>> {
        let postgres = !self.is_sqlite();
        let started = std::time::Instant::now();
        let working = read!(self, |p| {
            let mut tx = p.begin().await.map_err(db_err)?;
            if postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let working = read_working!(&mut *tx, project.0, scope, postgres, want);
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(working)
        })?;
        tracing::debug!(
            groups = working.groups.len(),
            computed = working.computed.len(),
            read_ms = started.elapsed().as_millis(),
            "working state read"
        );
        write_back(self, project.0, working.computed).await;
        Ok(working.groups)
    }

    async fn projects_with_stale_groups(&self) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<(Uuid,)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT DISTINCT w.project_id FROM working_groups w LEFT JOIN working_group_cache c \
             ON c.project_id = w.project_id AND c.kind = w.kind AND c.group_id = w.group_id \
             WHERE c.hashed_version IS NULL OR c.hashed_version <> w.version"
        )
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        Ok(rows.into_iter().map(|(p,)| ProjectId(p)).collect())
    }

    async fn baseline_groups(&self, baseline: BaselineId) -> StoreResult<Vec<GroupRef>> {
        let rows: Vec<(String, Uuid, i64, String)> = read!(self, |p| sqlx::query_as(
            "SELECT kind, group_id, items, hash FROM baseline_groups WHERE baseline_id = $1 \
             ORDER BY kind, group_id"
        )
        .bind(baseline.0)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        rows.into_iter()
            .map(|(kind, group, items, hash)| {
                Ok(GroupRef {
                    kind: ArtefactKind::parse(&kind).map_err(|e| {
                        StoreError::Backend(format!("stored baseline group: {e}").into())
                    })?,
                    group,
                    items,
                    hash,
                })
            })
            .collect()
    }

    async fn group_bodies(&self, hashes: &[String]) -> StoreResult<Vec<GroupBody>> {
        let mut out = Vec::with_capacity(hashes.len());
        for chunk in hashes.chunks(CHUNK) {
            let sql = format!(
                "SELECT hash, kind, body FROM baseline_blobs WHERE hash IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(String, String, String)> = read!(self, |p| {
                let mut q = sqlx::query_as(&sql);
                for h in chunk {
                    q = q.bind(h);
                }
                q.fetch_all(p).await.map_err(db_err)
            })?;
            for (hash, kind, body) in rows {
                out.push(GroupBody {
                    hash,
                    kind: ArtefactKind::parse(&kind).map_err(|e| {
                        StoreError::Backend(format!("stored baseline group: {e}").into())
                    })?,
                    body,
                });
            }
        }
        Ok(out)
    }

    async fn list_packs(&self, project: ProjectId) -> StoreResult<Vec<PackSummary>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            pack: PackRow,
            baseline_human_id: String,
            open_actions: i64,
            last_decision: Option<String>,
        }
        let sql = format!(
            "SELECT {}, b.human_id AS baseline_human_id, \
             (SELECT COUNT(*) FROM adoption_actions a WHERE a.pack_id = r.id AND a.status IN ('open', 'in_progress')) AS open_actions, \
             (SELECT d.decision FROM governance_decisions d WHERE d.pack_id = r.id ORDER BY d.decided_at DESC LIMIT 1) AS last_decision \
             FROM release_packs r JOIN baselines b ON b.id = r.baseline_id WHERE r.project_id = $1 ORDER BY r.number DESC",
            PACK_COLS.split(", ").map(|c| format!("r.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter()
            .map(|r| {
                Ok(PackSummary {
                    pack: ReleasePack::try_from(r.pack)?,
                    baseline_human_id: r.baseline_human_id,
                    open_actions: r.open_actions,
                    last_decision: r.last_decision,
                })
            })
            .collect()
    }

    async fn find_pack(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<ReleasePack>> {
        let sql = format!(
            "SELECT {PACK_COLS} FROM release_packs WHERE project_id = $1 AND human_id = $2"
        );
        let row: Option<PackRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(ReleasePack::try_from).transpose()
    }

    async fn insert_pack(&self, r: &ReleasePack, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, "release_pack");
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            let number = alloc_numbers!(tx, r.project_id.0, PACK_PREFIX, 1);
            let hid = human_id(PACK_PREFIX, number);
            index.stamp(journal, &r.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO release_packs ({PACK_COLS}, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ))
            .bind(r.id.0)
            .bind(r.project_id.0)
            .bind(&hid)
            .bind(r.baseline_id.0)
            .bind(&r.name)
            .bind(&r.notes)
            .bind(Json(&r.documents))
            .bind(r.status.as_str())
            .bind(r.revision)
            .bind(r.locked_by.map(|u| u.0))
            .bind(r.locked_at)
            .bind(&r.lock_override)
            .bind(r.created_by.map(|u| u.0))
            .bind(r.created_at)
            .bind(r.updated_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn update_pack(
        &self,
        r: &ReleasePack,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE release_packs SET name = $3, notes = $4, documents = $5, status = $6, revision = $7, \
                 locked_by = $8, locked_at = $9, lock_override = $10, updated_at = $11 \
                 WHERE id = $1 AND revision = $2",
            )
            .bind(r.id.0)
            .bind(expected_revision)
            .bind(&r.name)
            .bind(&r.notes)
            .bind(Json(&r.documents))
            .bind(r.status.as_str())
            .bind(r.revision)
            .bind(r.locked_by.map(|u| u.0))
            .bind(r.locked_at)
            .bind(&r.lock_override)
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "release pack {} was changed by someone else; reload and retry",
                    r.human_id
                )));
            }
        })
    }

    async fn readiness_facts(&self, project: ProjectId) -> StoreResult<ReadinessFacts> {
        read!(self, |p| {
            let mut tx = p.begin().await.map_err(db_err)?;
            let requirements = sqlx::query_as(
                "SELECT id, kind, status, approved_revision FROM requirements WHERE project_id = $1",
            )
            .bind(project.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            let verifies = sqlx::query_as(
                "SELECT source_id, target_id FROM trace_links WHERE project_id = $1 AND kind = 'verifies'",
            )
            .bind(project.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
            let suspect: Vec<(Uuid,)> =
                sqlx::query_as("SELECT id FROM trace_links WHERE project_id = $1 AND suspect = $2")
                    .bind(project.0)
                    .bind(true)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(ReadinessFacts {
                requirements,
                verifies,
                suspect: suspect.into_iter().map(|(id,)| id).collect(),
            })
        })
    }

    async fn pack_actions(&self, pack: PackId) -> StoreResult<Vec<AdoptionAction>> {
        let sql = format!(
            "SELECT {ACTION_COLS} FROM adoption_actions WHERE pack_id = $1 ORDER BY number"
        );
        let rows: Vec<ActionRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(pack.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(AdoptionAction::try_from).collect()
    }

    async fn find_action(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<AdoptionAction>> {
        let sql = format!(
            "SELECT {ACTION_COLS} FROM adoption_actions WHERE project_id = $1 AND human_id = $2"
        );
        let row: Option<ActionRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(AdoptionAction::try_from).transpose()
    }

    async fn insert_action(&self, a: &AdoptionAction, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, "adoption_action");
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            let number = alloc_numbers!(tx, a.project_id.0, ACTION_PREFIX, 1);
            let hid = human_id(ACTION_PREFIX, number);
            index.stamp(journal, &a.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO adoption_actions ({ACTION_COLS}, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(a.id.0)
            .bind(a.project_id.0)
            .bind(a.pack_id.0)
            .bind(&hid)
            .bind(&a.title)
            .bind(&a.owner)
            .bind(a.due)
            .bind(a.status.as_str())
            .bind(a.revision)
            .bind(a.created_at)
            .bind(a.updated_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn update_action(
        &self,
        a: &AdoptionAction,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE adoption_actions SET title = $3, owner = $4, due = $5, status = $6, revision = $7, \
                 updated_at = $8 WHERE id = $1 AND revision = $2",
            )
            .bind(a.id.0)
            .bind(expected_revision)
            .bind(&a.title)
            .bind(&a.owner)
            .bind(a.due)
            .bind(a.status.as_str())
            .bind(a.revision)
            .bind(a.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "action {} was changed by someone else; reload and retry",
                    a.human_id
                )));
            }
        })
    }

    async fn insert_decision(&self, d: &Decision, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO governance_decisions ({DECISION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(d.id.0)
            .bind(d.project_id.0)
            .bind(d.pack_id.0)
            .bind(d.kind.as_str())
            .bind(&d.rationale)
            .bind(&d.conditions)
            .bind(d.checklist_passed)
            .bind(d.decided_by.map(|u| u.0))
            .bind(&d.decided_by_name)
            .bind(d.decided_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn pack_decisions(&self, pack: PackId) -> StoreResult<Vec<Decision>> {
        let sql = format!(
            "SELECT {DECISION_COLS} FROM governance_decisions WHERE pack_id = $1 ORDER BY decided_at DESC, id DESC"
        );
        let rows: Vec<DecisionRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(pack.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(Decision::try_from).collect()
    }
}

/// Times inside revision hashes of results: RFC 3339 with microseconds, so the hash is the
/// same whichever backend read the time.
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}
