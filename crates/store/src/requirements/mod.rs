//! Requirements management on both backends: modules, requirements written in batches (one
//! transaction per save, bulk edit or import), trace links with suspect propagation,
//! comments, review rounds, quality settings, pending imports and full-text search.

mod hierarchy;
mod rows;
mod sql;

use crate::rows::convert;
use crate::{db_err, read, transaction, write_journal, Db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use opensesa_app::ports::*;
use opensesa_domain::audit::AuditEvent;
use opensesa_domain::ids::*;
use opensesa_domain::requirements::links::SuspectReason;
use opensesa_domain::requirements::quality::Finding;
use opensesa_domain::requirements::{LinkKind, Module, Requirement, TraceLink};
use opensesa_domain::revision::Revision;
use rows::*;
use sqlx::types::Json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Binds a list of dynamic parameters to a query (the same code for both drivers).
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                sql::Bind::Uuid(u) => q.bind(*u),
                sql::Bind::Text(t) => q.bind(t.clone()),
                sql::Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

fn conflict(what: String) -> StoreError {
    StoreError::Conflict(what)
}

/// Rows per multi-row insert: 500 requirements × 26 parameters and 1,000 links × 16 stay
/// below both backends' parameter limits (SQLite 32,766; PostgreSQL 65,535).
const CREATE_CHUNK: usize = 500;
const LINK_CHUNK: usize = 1000;
/// Requirement ids per query when reading the stored hierarchy above a batch's links.
const EDGE_CHUNK: usize = 1000;
/// Journal entries copied (to receive allocated ids) and written at a time.
const JOURNAL_CHUNK: usize = 500;

/// Inserts created requirements, each with its allocated human id and number, in one
/// multi-row statement per `CREATE_CHUNK`; a row refused by a uniqueness constraint is
/// skipped by the statement and named in the error.
macro_rules! insert_requirements {
    ($tx:expr, $rows:expr, $hashes:expr) => {{
        let hashes: &HashMap<(Uuid, i64), String> = $hashes;
        let rows: &[(&ReqWrite, String, i64)] = $rows;
        for chunk in rows.chunks(CREATE_CHUNK) {
            let used = |human_id: &str| {
                conflict(format!(
                    "requirement id {human_id} is already used in this project"
                ))
            };
            let mut qb = sqlx::QueryBuilder::new(format!(
                "INSERT INTO requirements ({REQ_COLS}, number, findings, statement_key, comments_text, content_hash) "
            ));
            qb.push_values(chunk, |mut b, (w, human_id, number)| {
                let r = &w.req;
                b.push_bind(r.id.0)
                    .push_bind(r.project_id.0)
                    .push_bind(r.module_id.0)
                    .push_bind(human_id.as_str())
                    .push_bind(&r.title)
                    .push_bind(&r.statement)
                    .push_bind(&r.statement_xhtml)
                    .push_bind(&r.rationale)
                    .push_bind(r.kind.as_str())
                    .push_bind(r.priority.as_str())
                    .push_bind(Json(
                        r.verification_methods
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>(),
                    ))
                    .push_bind(&r.source)
                    .push_bind(&r.owner)
                    .push_bind(Json(&r.tags))
                    .push_bind(Json(&r.attributes))
                    .push_bind(r.parent_id.map(|i| i.0))
                    .push_bind(r.ordinal)
                    .push_bind(r.status.as_str())
                    .push_bind(r.revision)
                    .push_bind(r.approved_revision)
                    .push_bind(&r.external_id)
                    .push_bind(r.created_at)
                    .push_bind(r.updated_at)
                    .push_bind(*number)
                    .push_bind(Json(&w.findings))
                    .push_bind(&w.statement_key)
                    .push("''")
                    .push_bind(hashes.get(&(r.id.0, r.revision)).map(String::as_str));
            });
            qb.push(" ON CONFLICT DO NOTHING RETURNING id");
            let written: Vec<(Uuid,)> = qb
                .build_query_as()
                .fetch_all(&mut *$tx)
                .await
                .map_err(|e| match db_err(e) {
                    StoreError::Conflict(_) => {
                        used(chunk.first().map_or("", |(_, h, _)| h.as_str()))
                    }
                    other => other,
                })?;
            if written.len() < chunk.len() {
                let written: HashSet<Uuid> = written.into_iter().map(|(id,)| id).collect();
                if let Some((_, human_id, _)) =
                    chunk.iter().find(|(w, _, _)| !written.contains(&w.req.id.0))
                {
                    return Err(used(human_id));
                }
            }
        }
    }};
}

#[async_trait]
impl RequirementStore for Db {
    async fn list_modules(&self, project: ProjectId) -> StoreResult<Vec<Module>> {
        let sql = format!(
            "SELECT {MODULE_COLS} FROM req_modules WHERE project_id = $1 ORDER BY ordinal, prefix"
        );
        let rows: Vec<ModuleRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Module::from).collect())
    }

    async fn find_module(&self, project: ProjectId, id: ModuleId) -> StoreResult<Option<Module>> {
        let sql =
            format!("SELECT {MODULE_COLS} FROM req_modules WHERE project_id = $1 AND id = $2");
        let row: Option<ModuleRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Module::from))
    }

    async fn find_module_by_prefix(
        &self,
        project: ProjectId,
        prefix: &str,
    ) -> StoreResult<Option<Module>> {
        let sql =
            format!("SELECT {MODULE_COLS} FROM req_modules WHERE project_id = $1 AND prefix = $2");
        let row: Option<ModuleRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(prefix)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Module::from))
    }

    // A module alone is a batch of one module: one SQL text for modules, whoever writes them.
    async fn insert_module(&self, m: &Module, journal: &Journal) -> StoreResult<()> {
        let batch = ReqBatch {
            project_id: Some(m.project_id),
            modules: vec![ModuleWrite {
                module: m.clone(),
                before: None,
            }],
            ..Default::default()
        };
        self.save_batch(&batch, journal).await.map(|_| ())
    }

    async fn update_module(&self, m: &Module, journal: &Journal) -> StoreResult<()> {
        let batch = ReqBatch {
            project_id: Some(m.project_id),
            modules: vec![ModuleWrite {
                module: m.clone(),
                before: Some(m.clone()),
            }],
            ..Default::default()
        };
        self.save_batch(&batch, journal).await.map(|_| ())
    }

    async fn module_counts(&self, project: ProjectId) -> StoreResult<Vec<(ModuleId, i64)>> {
        let rows: Vec<(Uuid, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT module_id, COUNT(*) FROM requirements WHERE project_id = $1 GROUP BY module_id"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        Ok(rows.into_iter().map(|(m, n)| (ModuleId(m), n)).collect())
    }

    async fn find_requirement(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Requirement>> {
        let sql =
            format!("SELECT {REQ_COLS} FROM requirements WHERE project_id = $1 AND human_id = $2");
        let row: Option<RequirementRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Requirement::try_from).transpose()
    }

    async fn find_requirement_by_id(
        &self,
        project: ProjectId,
        id: RequirementId,
    ) -> StoreResult<Option<Requirement>> {
        let sql = format!("SELECT {REQ_COLS} FROM requirements WHERE project_id = $1 AND id = $2");
        let row: Option<RequirementRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Requirement::try_from).transpose()
    }

    async fn find_requirements_by_human_ids(
        &self,
        project: ProjectId,
        human_ids: &[String],
    ) -> StoreResult<Vec<Requirement>> {
        self.requirements_where(project, "human_id", human_ids)
            .await
    }

    async fn find_requirements_by_external_ids(
        &self,
        project: ProjectId,
        external_ids: &[String],
    ) -> StoreResult<Vec<Requirement>> {
        self.requirements_where(project, "external_id", external_ids)
            .await
    }

    async fn stored_findings(&self, id: RequirementId) -> StoreResult<Vec<Finding>> {
        let row: Option<(Json<Vec<Finding>>,)> = read!(self, |p| sqlx::query_as(
            "SELECT findings FROM requirements WHERE id = $1"
        )
        .bind(id.0)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(|r| r.0 .0).unwrap_or_default())
    }

    async fn children_of(&self, id: RequirementId) -> StoreResult<Vec<Requirement>> {
        let sql = format!(
            "SELECT {REQ_COLS} FROM requirements WHERE parent_id = $1 ORDER BY ordinal, number"
        );
        let rows: Vec<RequirementRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(id.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        convert(rows)
    }

    async fn module_requirements(&self, module: ModuleId) -> StoreResult<Vec<Requirement>> {
        let sql = format!(
            "SELECT {REQ_COLS} FROM requirements WHERE module_id = $1 ORDER BY ordinal, number"
        );
        let rows: Vec<RequirementRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(module.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        convert(rows)
    }

    async fn list_requirements(&self, query: &ReqQuery) -> StoreResult<ReqPage> {
        let built = sql::list_query(query, !self.is_sqlite());
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            req: RequirementRow,
            module_prefix: String,
            suspect_links: i64,
        }
        let rows: Vec<Row> = read!(self, |p| bind_all!(
            sqlx::query_as(&built.select),
            &built.binds
        )
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        let total: (i64,) = read!(self, |p| bind_all!(
            sqlx::query_as(&built.count),
            &built.count_binds
        )
        .fetch_one(p)
        .await
        .map_err(db_err))?;
        let rows = rows
            .into_iter()
            .map(|r| {
                Ok(opensesa_app::ports::ReqRow {
                    req: Requirement::try_from(r.req)?,
                    module_prefix: r.module_prefix,
                    suspect_links: r.suspect_links,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ReqPage {
            rows,
            total: total.0,
        })
    }

    async fn requirement_facts(&self, project: ProjectId) -> StoreResult<Vec<ReqFacts>> {
        self.facts(project, "r.statement").await
    }

    async fn requirement_facts_light(&self, project: ProjectId) -> StoreResult<Vec<ReqFacts>> {
        self.facts(project, "''").await
    }

    async fn link_external_ids(&self, project: ProjectId) -> StoreResult<Vec<(String, LinkId)>> {
        let rows: Vec<(String, Uuid)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT external_id, id FROM trace_links WHERE project_id = $1 AND external_id IS NOT NULL"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        Ok(rows.into_iter().map(|(e, id)| (e, LinkId(id))).collect())
    }

    async fn link_facts(&self, project: ProjectId) -> StoreResult<Vec<LinkFacts>> {
        let rows: Vec<(Uuid, String, Uuid, Uuid, bool)> = match self {
            Db::Sqlite { read, .. } => {
                let packed: Vec<(Uuid, String, Uuid, Uuid, i64)> = crate::packed::json_rows(
                    read,
                    "hex(id), kind, hex(source_id), hex(target_id), suspect",
                    "trace_links WHERE project_id = $1",
                    "rowid",
                    project.0,
                )
                .await?;
                packed
                    .into_iter()
                    .map(|(i, k, s, t, x)| (i, k, s, t, x != 0))
                    .collect()
            }
            Db::Postgres(p) => sqlx::query_as(
                "SELECT id, kind, source_id, target_id, suspect FROM trace_links WHERE project_id = $1",
            )
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err)?,
        };
        rows.into_iter()
            .map(|(id, kind, source_id, target_id, suspect)| {
                Ok(LinkFacts {
                    id: LinkId(id),
                    kind: LinkKind::parse(&kind).map_err(|e| StoreError::Backend(e.into()))?,
                    source_id,
                    target_id,
                    suspect,
                })
            })
            .collect()
    }

    async fn fact_version(&self, project: ProjectId) -> StoreResult<Option<(Uuid, i64)>> {
        read!(self, |p| sqlx::query_as(
            "SELECT epoch, version FROM fact_versions WHERE project_id = $1"
        )
        .bind(project.0)
        .fetch_optional(p)
        .await
        .map_err(db_err))
    }

    async fn statement_twins(
        &self,
        project: ProjectId,
        keys: &[String],
    ) -> StoreResult<Vec<(RequirementId, String, String)>> {
        let mut out = Vec::new();
        // Through the (project_id, statement_key) index, in chunks under SQLite's parameter
        // limit.
        for chunk in keys.chunks(500) {
            let sql = format!(
                "SELECT id, human_id, statement_key FROM requirements WHERE project_id = $1 \
                 AND statement_key IN ({}) AND status <> 'obsolete' AND kind NOT IN ('heading', 'information')",
                crate::vv::placeholders(2, chunk.len())
            );
            let rows: Vec<(Uuid, String, String)> = read!(self, |p| {
                let mut q = sqlx::query_as(&sql).bind(project.0);
                for k in chunk {
                    q = q.bind(k);
                }
                q.fetch_all(p).await.map_err(db_err)
            })?;
            out.extend(rows.into_iter().map(|(id, h, k)| (RequirementId(id), h, k)));
        }
        Ok(out)
    }

    async fn same_statement(
        &self,
        project: ProjectId,
        key: &str,
        except: RequirementId,
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT human_id FROM requirements WHERE project_id = $1 AND statement_key = $2 AND id <> $3 \
             AND status <> 'obsolete' ORDER BY number LIMIT 20"
        )
        .bind(project.0)
        .bind(key)
        .bind(except.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn search_requirements(
        &self,
        project: ProjectId,
        text: &str,
        limit: i64,
    ) -> StoreResult<Vec<SearchHit>> {
        let Some(q) = sql::fts_query(text, !self.is_sqlite()) else {
            return Ok(Vec::new());
        };
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
            human_id: String,
            prefix: String,
            title: String,
            snippet: String,
            rank: f64,
        }
        let rows: Vec<Row> = match self {
            Db::Sqlite { read, .. } => sqlx::query_as(
                "SELECT r.id, r.human_id, m.prefix, r.title, \
                 snippet(requirements_fts, -1, '[[', ']]', '…', 16) AS snippet, \
                 bm25(requirements_fts, 10.0, 6.0, 2.0, 1.0) AS rank \
                 FROM requirements_fts JOIN requirements r ON r.seq = requirements_fts.rowid \
                 JOIN req_modules m ON m.id = r.module_id \
                 WHERE requirements_fts MATCH $1 AND r.project_id = $2 ORDER BY rank LIMIT $3",
            )
            .bind(&q)
            .bind(project.0)
            .bind(limit)
            .fetch_all(read)
            .await
            .map_err(db_err)?,
            Db::Postgres(p) => sqlx::query_as(
                "SELECT r.id, r.human_id, m.prefix, r.title, \
                 ts_headline('english', r.title || ' — ' || r.statement || ' ' || r.comments_text, q, \
                   'StartSel=[[, StopSel=]], MaxWords=24, MinWords=10, ShortWord=2') AS snippet, \
                 (-ts_rank(r.search, q))::float8 AS rank \
                 FROM requirements r JOIN req_modules m ON m.id = r.module_id, to_tsquery('english', $1) q \
                 WHERE r.project_id = $2 AND r.search @@ q ORDER BY rank, r.human_id LIMIT $3",
            )
            .bind(&q)
            .bind(project.0)
            .bind(limit)
            .fetch_all(p)
            .await
            .map_err(db_err)?,
        };
        Ok(rows
            .into_iter()
            .map(|r| SearchHit {
                id: RequirementId(r.id),
                human_id: r.human_id,
                module_prefix: r.prefix,
                title: r.title,
                snippet: r.snippet,
                rank: r.rank,
            })
            .collect())
    }

    async fn save_batch_journaled(
        &self,
        batch: &ReqBatch,
        journal: &Journal,
        per_write: &dyn WriteJournal,
    ) -> StoreResult<BatchOutcome> {
        let postgres = !self.is_sqlite();
        // Human ids of new requirements are allocated inside the transaction; their first
        // revision and create event get the id as the journal is written, at the end of the
        // body (the jobs follow, written by `transaction!`).
        let jobs = Journal {
            jobs: journal.jobs.clone(),
            ..Default::default()
        };
        let mut allocated: HashMap<String, String> = HashMap::new();
        let rows = batch.requirements.len() + batch.add_links.len();
        let started = std::time::Instant::now();
        let result: StoreResult<BatchOutcome> = transaction!(self, &jobs, |tx| {
            let mut outcome = BatchOutcome::default();
            if postgres {
                if let Some(project) = batch.project_id {
                    // Serialises link writers of one project, so two concurrent saves cannot
                    // each pass the cycle check and together close a cycle.
                    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1::text))")
                        .bind(project.0.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
            }
            for mw in &batch.modules {
                let m = &mw.module;
                if mw.before.is_none() {
                    sqlx::query(&format!(
                        "INSERT INTO req_modules ({MODULE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    ))
                    .bind(m.id.0)
                    .bind(m.project_id.0)
                    .bind(m.parent_id.map(|i| i.0))
                    .bind(&m.prefix)
                    .bind(&m.name)
                    .bind(&m.description)
                    .bind(m.ordinal)
                    .bind(Json(&m.attributes))
                    .bind(m.revision)
                    .bind(m.created_at)
                    .bind(m.updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match db_err(e) {
                        StoreError::Conflict(_) => conflict(format!(
                            "a module with the prefix {} exists already",
                            m.prefix
                        )),
                        other => other,
                    })?;
                } else {
                    let done = sqlx::query(
                        "UPDATE req_modules SET parent_id = $2, prefix = $3, name = $4, description = $5, ordinal = $6, \
                         attributes = $7, revision = $8, updated_at = $9 WHERE id = $1 AND revision = $8 - 1",
                    )
                    .bind(m.id.0)
                    .bind(m.parent_id.map(|i| i.0))
                    .bind(&m.prefix)
                    .bind(&m.name)
                    .bind(&m.description)
                    .bind(m.ordinal)
                    .bind(Json(&m.attributes))
                    .bind(m.revision)
                    .bind(m.updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        return Err(conflict(format!(
                            "module {} was changed by someone else; reload and retry",
                            m.prefix
                        )));
                    }
                }
            }
            // Explicit ids first: they move their prefix's counter past themselves, so the
            // numbers reserved below for the others cannot collide with them. One statement
            // per prefix, with the largest number the batch gives it.
            let mut explicit: Vec<(ProjectId, &str, i64)> = Vec::new();
            for w in batch
                .requirements
                .iter()
                .filter(|w| w.create && !w.req.human_id.is_empty())
            {
                let r = &w.req;
                let (prefix, number) = sql::split_human_id(&r.human_id).ok_or_else(|| {
                    conflict(format!(
                        "{:?} is not an id of the form PREFIX-123",
                        r.human_id
                    ))
                })?;
                match explicit
                    .iter_mut()
                    .find(|(p, x, _)| *p == r.project_id && *x == prefix)
                {
                    Some(entry) => entry.2 = entry.2.max(number),
                    None => explicit.push((r.project_id, prefix, number)),
                }
            }
            for (project, prefix, number) in explicit {
                sqlx::query(
                    "INSERT INTO req_counters (project_id, prefix, next_number) VALUES ($1, $2, $3 + 1) \
                     ON CONFLICT (project_id, prefix) DO UPDATE SET next_number = \
                     CASE WHEN req_counters.next_number > $3 THEN req_counters.next_number ELSE $3 + 1 END",
                )
                .bind(project.0)
                .bind(prefix)
                .bind(number)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            // Then one block of numbers per module for the requirements without an id: two
            // statements per module instead of three per requirement.
            let mut blocks: std::collections::HashMap<ModuleId, (String, i64)> =
                std::collections::HashMap::new();
            let mut wanted: Vec<(ModuleId, ProjectId, i64)> = Vec::new();
            for w in batch
                .requirements
                .iter()
                .filter(|w| w.create && w.req.human_id.is_empty())
            {
                match wanted.iter_mut().find(|(m, _, _)| *m == w.req.module_id) {
                    Some(entry) => entry.2 += 1,
                    None => wanted.push((w.req.module_id, w.req.project_id, 1)),
                }
            }
            for (module, project, count) in wanted {
                let prefix: (String,) =
                    sqlx::query_as("SELECT prefix FROM req_modules WHERE id = $1")
                        .bind(module.0)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO req_counters (project_id, prefix, next_number) VALUES ($1, $2, 1) \
                     ON CONFLICT (project_id, prefix) DO NOTHING",
                )
                .bind(project.0)
                .bind(&prefix.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let first: (i64,) = sqlx::query_as(
                    "UPDATE req_counters SET next_number = next_number + $3 \
                     WHERE project_id = $1 AND prefix = $2 RETURNING next_number - $3",
                )
                .bind(project.0)
                .bind(&prefix.0)
                .bind(count)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                blocks.insert(module, (prefix.0, first.0));
            }
            // A created requirement is inserted with its first revision's content hash, so
            // the journal's hash update below leaves its row alone. The revision's snapshot
            // gets the allocated human id, which changes its hash: that hash is computed
            // here, once, and the journal takes it from `hashes` (`stamp_revisions`).
            let revisions: HashMap<(Uuid, i64), &Revision> = journal
                .revisions
                .iter()
                .filter(|r| r.artefact_type == "requirement")
                .filter_map(|r| {
                    Uuid::parse_str(&r.artefact_id)
                        .ok()
                        .map(|id| ((id, r.number), r))
                })
                .collect();
            let mut hashes: HashMap<(Uuid, i64), String> = HashMap::new();
            // Created requirements go in multi-row statements; an update flushes the ones
            // before it, so the rows are written (and refused) in batch order.
            let mut created: Vec<(&ReqWrite, String, i64)> = Vec::new();
            // Inserts the created rows collected so far, with their revisions' hashes: the
            // events and revisions `per_write` makes for them get the allocated ids (which
            // change those revisions' hashes) and are written right after, one chunk at a
            // time.
            macro_rules! flush_created {
                () => {{
                    let writes: Vec<&ReqWrite> = created.iter().map(|(w, _, _)| *w).collect();
                    let mut part = per_write.journal_of(&writes);
                    stamp_events(&mut part.events, &allocated);
                    stamp_revisions(&mut part.revisions, &allocated, &hashes);
                    for r in part
                        .revisions
                        .iter()
                        .filter(|r| r.artefact_type == "requirement")
                    {
                        if let Ok(id) = Uuid::parse_str(&r.artefact_id) {
                            hashes.insert((id, r.number), r.content_hash.clone());
                        }
                    }
                    insert_requirements!(tx, &created, &hashes);
                    write_journal!(tx, &part);
                    created.clear();
                }};
            }
            for w in &batch.requirements {
                let r = &w.req;
                if w.create {
                    let (human_id, number) = if r.human_id.is_empty() {
                        let (prefix, next) = blocks.get_mut(&r.module_id).ok_or_else(|| {
                            conflict("no number was reserved for a new requirement".into())
                        })?;
                        let n = *next;
                        *next += 1;
                        (opensesa_domain::requirements::model::human_id(prefix, n), n)
                    } else {
                        let (_, number) = sql::split_human_id(&r.human_id).ok_or_else(|| {
                            conflict(format!(
                                "{:?} is not an id of the form PREFIX-123",
                                r.human_id
                            ))
                        })?;
                        (r.human_id.clone(), number)
                    };
                    if let Some(rev) = revisions.get(&(r.id.0, r.revision)) {
                        let hash = if r.human_id.is_empty() {
                            stamped_hash(rev, &human_id)
                        } else {
                            rev.content_hash.clone()
                        };
                        hashes.insert((r.id.0, r.revision), hash);
                    }
                    allocated.insert(r.id.to_string(), human_id.clone());
                    outcome.human_ids.push(human_id.clone());
                    created.push((w, human_id, number));
                    if created.len() == CREATE_CHUNK {
                        flush_created!();
                    }
                } else {
                    flush_created!();
                    let expected = if w.content_changed {
                        r.revision - 1
                    } else {
                        r.revision
                    };
                    let done = sqlx::query(
                        "UPDATE requirements SET module_id = $2, title = $3, statement = $4, statement_xhtml = $5, \
                         rationale = $6, kind = $7, priority = $8, verification_methods = $9, source = $10, owner = $11, \
                         tags = $12, attributes = $13, parent_id = $14, ordinal = $15, status = $16, revision = $17, \
                         approved_revision = $18, external_id = $19, updated_at = $20, findings = $21, statement_key = $22 \
                         WHERE id = $1 AND revision = $23",
                    )
                    .bind(r.id.0)
                    .bind(r.module_id.0)
                    .bind(&r.title)
                    .bind(&r.statement)
                    .bind(&r.statement_xhtml)
                    .bind(&r.rationale)
                    .bind(r.kind.as_str())
                    .bind(r.priority.as_str())
                    .bind(Json(r.verification_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>()))
                    .bind(&r.source)
                    .bind(&r.owner)
                    .bind(Json(&r.tags))
                    .bind(Json(&r.attributes))
                    .bind(r.parent_id.map(|i| i.0))
                    .bind(r.ordinal)
                    .bind(r.status.as_str())
                    .bind(r.revision)
                    .bind(r.approved_revision)
                    .bind(&r.external_id)
                    .bind(r.updated_at)
                    .bind(Json(&w.findings))
                    .bind(&w.statement_key)
                    .bind(expected)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        return Err(conflict(format!(
                            "requirement {} was changed by someone else; reload and retry",
                            r.human_id
                        )));
                    }
                    if w.content_changed {
                        // Links touching the requirement, in either direction.
                        let direct: Vec<(Uuid, Uuid, Uuid, Json<Vec<SuspectReason>>)> = sqlx::query_as(
                            "SELECT id, source_id, target_id, suspect_reasons FROM trace_links \
                             WHERE source_id = $1 OR target_id = $1",
                        )
                        .bind(r.id.0)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                        // Links further downstream along the propagating kinds.
                        let kinds = LinkKind::sql_list(
                            LinkKind::ALL.into_iter().filter(|k| k.propagates()),
                        );
                        let downstream: Vec<(Uuid, Uuid, Uuid, Json<Vec<SuspectReason>>)> = sqlx::query_as(&format!(
                            "WITH RECURSIVE down(id) AS ( \
                               SELECT source_id FROM trace_links WHERE target_id = $1 AND kind IN ({kinds}) \
                               UNION SELECT l.source_id FROM trace_links l JOIN down d ON l.target_id = d.id \
                               WHERE l.kind IN ({kinds})) \
                             SELECT id, source_id, target_id, suspect_reasons FROM trace_links \
                             WHERE target_id IN (SELECT id FROM down) AND kind IN ({kinds}) \
                             AND source_id <> $1 AND target_id <> $1"
                        ))
                        .bind(r.id.0)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                        let n_direct = direct.len();
                        for (i, (id, source, _target, reasons)) in
                            direct.into_iter().chain(downstream).enumerate()
                        {
                            let mut reasons = reasons.0;
                            push_reason(
                                &mut reasons,
                                SuspectReason {
                                    end: if i < n_direct && source == r.id.0 {
                                        "source"
                                    } else {
                                        "target"
                                    }
                                    .to_owned(),
                                    changed: r.human_id.clone(),
                                    changed_id: r.id.0,
                                    from_revision: r.revision - 1,
                                    to_revision: r.revision,
                                    propagated: i >= n_direct,
                                },
                            );
                            sqlx::query(
                                "UPDATE trace_links SET suspect = TRUE, suspect_reasons = $2 WHERE id = $1",
                            )
                            .bind(id)
                            .bind(Json(&reasons))
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                            outcome.suspected_links += 1;
                        }
                    }
                }
            }
            flush_created!();
            // The updated requirements' events and revisions (their rows are written: the
            // journal sets their content hashes).
            let updates: Vec<&ReqWrite> = batch.requirements.iter().filter(|w| !w.create).collect();
            for chunk in updates.chunks(JOURNAL_CHUNK) {
                write_journal!(tx, &per_write.journal_of(chunk));
            }
            let requirements_ms = started.elapsed().as_millis() as u64;
            for id in &batch.remove_links {
                sqlx::query("DELETE FROM trace_links WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            // Hierarchical links may not close a cycle: the stored hierarchy above the new
            // links' targets is read once (under the advisory lock taken above) and checked
            // in memory with the batch's own links, in batch order.
            let hierarchical: Vec<(usize, (Uuid, Uuid))> = batch
                .add_links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.kind.hierarchical())
                .map(|(i, l)| (i, (l.source_id, l.target_id)))
                .collect();
            let mut cycle_at = None;
            if !hierarchical.is_empty() {
                // Requirements created by this batch have no stored links yet.
                let new: HashSet<Uuid> = batch
                    .requirements
                    .iter()
                    .filter(|w| w.create)
                    .map(|w| w.req.id.0)
                    .collect();
                let kinds =
                    LinkKind::sql_list(LinkKind::ALL.into_iter().filter(|k| k.hierarchical()));
                let mut seen: HashSet<Uuid> = HashSet::new();
                let mut frontier: Vec<Uuid> = hierarchical
                    .iter()
                    .map(|(_, (_, t))| *t)
                    .filter(|t| !new.contains(t) && seen.insert(*t))
                    .collect();
                let mut stored: Vec<(Uuid, Uuid)> = Vec::new();
                while !frontier.is_empty() {
                    let mut next = Vec::new();
                    for chunk in frontier.chunks(EDGE_CHUNK) {
                        let mut qb = sqlx::QueryBuilder::new(format!(
                            "SELECT source_id, target_id FROM trace_links WHERE kind IN ({kinds}) AND source_id IN ("
                        ));
                        let mut ids = qb.separated(", ");
                        for id in chunk {
                            ids.push_bind(*id);
                        }
                        ids.push_unseparated(")");
                        let edges: Vec<(Uuid, Uuid)> = qb
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        for (s, t) in edges {
                            if seen.insert(t) {
                                next.push(t);
                            }
                            stored.push((s, t));
                        }
                    }
                    frontier = next;
                }
                let added: Vec<(Uuid, Uuid)> = hierarchical.iter().map(|(_, e)| *e).collect();
                cycle_at = hierarchy::first_cycle(&stored, &added).map(|k| hierarchical[k].0);
            }
            // The links before the one closing a cycle are written first, so a duplicate
            // among them is reported as it would be link by link.
            let writable = &batch.add_links[..cycle_at.unwrap_or(batch.add_links.len())];
            for chunk in writable.chunks(LINK_CHUNK) {
                let mut qb =
                    sqlx::QueryBuilder::new(format!("INSERT INTO trace_links ({LINK_COLS}) "));
                qb.push_values(chunk, |mut b, l| {
                    b.push_bind(l.id.0)
                        .push_bind(l.project_id.0)
                        .push_bind(l.kind.as_str())
                        .push_bind(&l.source_type)
                        .push_bind(l.source_id)
                        .push_bind(&l.target_type)
                        .push_bind(l.target_id)
                        .push_bind(l.source_revision)
                        .push_bind(l.target_revision)
                        .push_bind(l.suspect)
                        .push_bind(Json(&l.suspect_reasons))
                        .push_bind(l.created_by.map(|i| i.0))
                        .push_bind(l.created_at)
                        .push_bind(l.confirmed_at)
                        .push_bind(l.confirmed_by.map(|i| i.0))
                        .push_bind(&l.external_id);
                });
                // A refused row is skipped rather than failing the statement, so the error
                // can name its kind.
                qb.push(" ON CONFLICT DO NOTHING RETURNING id");
                let exists = |l: &TraceLink| {
                    conflict(format!("this {} link exists already", l.kind.as_str()))
                };
                let written: Vec<(Uuid,)> =
                    qb.build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(|e| match db_err(e) {
                            StoreError::Conflict(_) => chunk
                                .first()
                                .map_or_else(|| conflict(String::new()), exists),
                            other => other,
                        })?;
                if written.len() < chunk.len() {
                    let written: HashSet<Uuid> = written.into_iter().map(|(id,)| id).collect();
                    if let Some(l) = chunk.iter().find(|l| !written.contains(&l.id.0)) {
                        return Err(exists(l));
                    }
                }
            }
            if let Some(l) = cycle_at.and_then(|i| batch.add_links.get(i)) {
                return Err(conflict(format!(
                    "a {} link here would close a cycle in the hierarchy",
                    l.kind.as_str()
                )));
            }
            let links_ms = started.elapsed().as_millis() as u64 - requirements_ms;
            // A copy of one chunk at a time gets the allocated ids: a copy of the whole
            // journal of a 10,000-row import took some 70 MB.
            for chunk in journal.events.chunks(JOURNAL_CHUNK) {
                let mut part = Journal {
                    events: chunk.to_vec(),
                    ..Default::default()
                };
                stamp_events(&mut part.events, &allocated);
                write_journal!(tx, &part);
            }
            for chunk in journal.revisions.chunks(JOURNAL_CHUNK) {
                let mut part = Journal {
                    revisions: chunk.to_vec(),
                    ..Default::default()
                };
                stamp_revisions(&mut part.revisions, &allocated, &hashes);
                write_journal!(tx, &part);
            }
            tracing::debug!(
                requirements = batch.requirements.len(),
                links = batch.add_links.len(),
                requirements_ms,
                links_ms,
                journal_ms = started.elapsed().as_millis() as u64 - requirements_ms - links_ms,
                "requirement batch phases"
            );
            outcome
        });
        let outcome = result?;
        if postgres && rows >= 5_000 {
            // A bulk load leaves the planner's statistics describing the tables before it;
            // refresh them now rather than whenever autovacuum gets round to it, so the next
            // page does not pick a plan made for an empty table. Only when the batch is a
            // fair part (a fifth or more) of what the statistics know: sampling two large
            // tables takes seconds, and statistics of a table that grew by a tenth still
            // describe it (autovacuum refreshes them at that point anyway).
            if let Db::Postgres(p) = self {
                let (known,): (f64,) = sqlx::query_as(
                    "SELECT COALESCE(SUM(GREATEST(reltuples, 0)), 0)::float8 FROM pg_class \
                     WHERE oid IN ('requirements'::regclass, 'trace_links'::regclass)",
                )
                .fetch_one(p)
                .await
                .map_err(db_err)?;
                if f64::from(u32::try_from(rows).unwrap_or(u32::MAX)) * 5.0 >= known {
                    sqlx::query("ANALYZE requirements, trace_links")
                        .execute(p)
                        .await
                        .map_err(db_err)?;
                }
            }
        }
        Ok(outcome)
    }

    async fn links_of(&self, artefact: Uuid) -> StoreResult<Vec<LinkView>> {
        self.link_views(
            "l.source_id = $1 OR l.target_id = $1",
            &[sql::Bind::Uuid(artefact)],
            None,
        )
        .await
        .map(|(v, _)| v)
    }

    async fn all_project_links(&self, project: ProjectId) -> StoreResult<Vec<LinkView>> {
        let (links, _) = self
            .link_views("l.project_id = $1", &[sql::Bind::Uuid(project.0)], None)
            .await?;
        Ok(links)
    }

    async fn project_links(
        &self,
        project: ProjectId,
        only_suspect: bool,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<LinkView>, i64)> {
        let cond = if only_suspect {
            "l.project_id = $1 AND l.suspect"
        } else {
            "l.project_id = $1"
        };
        self.link_views(cond, &[sql::Bind::Uuid(project.0)], Some((limit, offset)))
            .await
    }

    async fn find_link(&self, project: ProjectId, id: LinkId) -> StoreResult<Option<TraceLink>> {
        let sql = format!("SELECT {LINK_COLS} FROM trace_links WHERE project_id = $1 AND id = $2");
        let row: Option<LinkRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(TraceLink::try_from).transpose()
    }

    async fn reaches(&self, from: Uuid, to: Uuid, kinds: &[LinkKind]) -> StoreResult<bool> {
        let kinds = LinkKind::sql_list(kinds.iter().copied());
        let n: (i64,) = read!(self, |p| sqlx::query_as(&format!(
            "WITH RECURSIVE up(id) AS ( \
               SELECT target_id FROM trace_links WHERE source_id = $1 AND kind IN ({kinds}) \
               UNION SELECT l.target_id FROM trace_links l JOIN up u ON l.source_id = u.id \
               WHERE l.kind IN ({kinds})) \
             SELECT COUNT(*) FROM up WHERE id = $2"
        ))
        .bind(to)
        .bind(from)
        .fetch_one(p)
        .await
        .map_err(db_err))?;
        Ok(n.0 > 0)
    }

    async fn confirm_links(
        &self,
        ids: &[LinkId],
        by: UserId,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<u64> {
        transaction!(self, journal, |tx| {
            let mut n = 0;
            for id in ids {
                // The revisions of requirement and case ends; other artefact types join here as
                // they land.
                n += sqlx::query(
                    "UPDATE trace_links SET suspect = FALSE, suspect_reasons = '[]', \
                     source_revision = COALESCE((SELECT revision FROM requirements WHERE id = trace_links.source_id), \
                       (SELECT revision FROM vv_cases WHERE id = trace_links.source_id), source_revision), \
                     target_revision = COALESCE((SELECT revision FROM requirements WHERE id = trace_links.target_id), target_revision), \
                     confirmed_at = $2, confirmed_by = $3 WHERE id = $1",
                )
                .bind(id.0)
                .bind(at)
                .bind(by.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            }
            n
        })
    }

    async fn list_comments(&self, requirement: RequirementId) -> StoreResult<Vec<Comment>> {
        let sql = format!(
            "SELECT {COMMENT_COLS} FROM req_comments WHERE requirement_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<CommentRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(requirement.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Comment::from).collect())
    }

    async fn insert_comment(&self, c: &Comment, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let project: (Uuid,) =
                sqlx::query_as("SELECT project_id FROM requirements WHERE id = $1")
                    .bind(c.requirement_id.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            sqlx::query(&format!(
                "INSERT INTO req_comments (project_id, {COMMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ))
            .bind(project.0)
            .bind(c.id.0)
            .bind(c.requirement_id.0)
            .bind(c.thread_id.map(|i| i.0))
            .bind(c.author_id.map(|i| i.0))
            .bind(&c.author)
            .bind(&c.body)
            .bind(c.revision)
            .bind(c.resolved_at)
            .bind(&c.resolved_by)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            // Comments are searchable with the requirement (the FTS index reads this column).
            sqlx::query(
                "UPDATE requirements SET comments_text = comments_text || ' ' || $2 WHERE id = $1",
            )
            .bind(c.requirement_id.0)
            .bind(&c.body)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn resolve_thread(
        &self,
        requirement: RequirementId,
        thread: CommentId,
        by: &str,
        at: DateTime<Utc>,
        journal: &Journal,
    ) -> StoreResult<bool> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE req_comments SET resolved_at = $3, resolved_by = $4 \
                 WHERE id = $1 AND requirement_id = $2 AND thread_id IS NULL AND resolved_at IS NULL",
            )
            .bind(thread.0)
            .bind(requirement.0)
            .bind(at)
            .bind(by)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                // Returning here drops the transaction: nothing, not even the journal, is written.
                return Ok(false);
            }
            true
        })
    }

    async fn list_rounds(&self, project: ProjectId) -> StoreResult<Vec<ReviewRound>> {
        let sql = format!(
            "SELECT {ROUND_COLS} FROM review_rounds WHERE project_id = $1 ORDER BY opened_at DESC, id DESC"
        );
        let rows: Vec<RoundRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(ReviewRound::from).collect())
    }

    async fn find_round(
        &self,
        project: ProjectId,
        id: ReviewRoundId,
    ) -> StoreResult<Option<RoundDetail>> {
        let sql =
            format!("SELECT {ROUND_COLS} FROM review_rounds WHERE project_id = $1 AND id = $2");
        let round: Option<RoundRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(id.0)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        let Some(round) = round else { return Ok(None) };
        let items: Vec<(Uuid, String, String, String, i64, i64, Option<String>)> =
            read!(self, |p| sqlx::query_as(
                "SELECT r.id, r.human_id, r.title, r.status, i.revision, r.revision, i.outcome \
                 FROM review_items i JOIN requirements r ON r.id = i.requirement_id \
                 WHERE i.round_id = $1 ORDER BY r.human_id"
            )
            .bind(id.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        let reviewers: Vec<(Uuid, String)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT u.id, u.display_name FROM review_reviewers v JOIN users u ON u.id = v.user_id \
             WHERE v.round_id = $1 ORDER BY u.display_name"
        )
        .bind(id.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        let decisions: Vec<(Uuid, Uuid, String, String, String, i64, DateTime<Utc>)> = read!(
            self,
            |p| {
                sqlx::query_as(
                "SELECT d.requirement_id, d.reviewer_id, u.display_name, d.decision, d.comment, d.revision, d.at \
                 FROM review_decisions d JOIN users u ON u.id = d.reviewer_id WHERE d.round_id = $1 ORDER BY d.at"
            )
            .bind(id.0)
            .fetch_all(p)
            .await
            .map_err(db_err)
            }
        )?;
        Ok(Some(RoundDetail {
            round: round.into(),
            items: items
                .into_iter()
                .map(
                    |(rid, human_id, title, status, revision, current, outcome)| ReviewItem {
                        requirement_id: RequirementId(rid),
                        human_id,
                        title,
                        status,
                        revision,
                        current_revision: current,
                        outcome,
                    },
                )
                .collect(),
            reviewers: reviewers.into_iter().map(|(u, n)| (UserId(u), n)).collect(),
            decisions: decisions
                .into_iter()
                .map(
                    |(rid, uid, name, decision, comment, revision, at)| ReviewDecision {
                        requirement_id: RequirementId(rid),
                        reviewer_id: UserId(uid),
                        reviewer: name,
                        decision,
                        comment,
                        revision,
                        at,
                    },
                )
                .collect(),
        }))
    }

    async fn insert_round(
        &self,
        round: &ReviewRound,
        items: &[(RequirementId, i64)],
        reviewers: &[UserId],
        batch: &ReqBatch,
        journal: &Journal,
    ) -> StoreResult<()> {
        // The status changes first (their own transaction would split the round), so the
        // round and the requirements' states are written together.
        transaction!(self, journal, |tx| {
            sqlx::query(&format!(
                "INSERT INTO review_rounds ({ROUND_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(round.id.0)
            .bind(round.project_id.0)
            .bind(&round.title)
            .bind(&round.status)
            .bind(&round.opened_by)
            .bind(round.opened_at)
            .bind(&round.closed_by)
            .bind(round.closed_at)
            .bind(&round.summary)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            for (rid, rev) in items {
                sqlx::query("INSERT INTO review_items (round_id, requirement_id, revision) VALUES ($1, $2, $3)")
                    .bind(round.id.0)
                    .bind(rid.0)
                    .bind(*rev)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            for u in reviewers {
                sqlx::query("INSERT INTO review_reviewers (round_id, user_id) VALUES ($1, $2)")
                    .bind(round.id.0)
                    .bind(u.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            sql::set_statuses!(tx, batch);
        })
    }

    async fn record_decision(
        &self,
        round: ReviewRoundId,
        d: &ReviewDecision,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(
                "INSERT INTO review_decisions (round_id, requirement_id, reviewer_id, decision, comment, revision, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (round_id, requirement_id, reviewer_id) \
                 DO UPDATE SET decision = $4, comment = $5, revision = $6, at = $7",
            )
            .bind(round.0)
            .bind(d.requirement_id.0)
            .bind(d.reviewer_id.0)
            .bind(&d.decision)
            .bind(&d.comment)
            .bind(d.revision)
            .bind(d.at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn close_round(
        &self,
        round: &ReviewRound,
        outcomes: &[(RequirementId, String)],
        batch: &ReqBatch,
        journal: &Journal,
    ) -> StoreResult<bool> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE review_rounds SET status = 'closed', closed_by = $2, closed_at = $3, summary = $4 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(round.id.0)
            .bind(&round.closed_by)
            .bind(round.closed_at)
            .bind(&round.summary)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            for (rid, outcome) in outcomes {
                sqlx::query("UPDATE review_items SET outcome = $3 WHERE round_id = $1 AND requirement_id = $2")
                    .bind(round.id.0)
                    .bind(rid.0)
                    .bind(outcome)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            sql::set_statuses!(tx, batch);
            true
        })
    }

    async fn rounds_of(&self, requirement: RequirementId) -> StoreResult<Vec<ReviewRound>> {
        let sql = format!(
            "SELECT {} FROM review_rounds r JOIN review_items i ON i.round_id = r.id \
             WHERE i.requirement_id = $1 ORDER BY r.opened_at DESC",
            ROUND_COLS
                .split(", ")
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<RoundRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(requirement.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(ReviewRound::from).collect())
    }

    async fn disabled_rules(&self, project: ProjectId) -> StoreResult<Vec<String>> {
        let row: Option<(Json<Vec<String>>,)> = read!(self, |p| sqlx::query_as(
            "SELECT disabled_rules FROM req_settings WHERE project_id = $1"
        )
        .bind(project.0)
        .fetch_optional(p)
        .await
        .map_err(db_err))?;
        Ok(row.map(|r| r.0 .0).unwrap_or_default())
    }

    async fn set_disabled_rules(
        &self,
        project: ProjectId,
        rules: &[String],
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            sqlx::query(
                "INSERT INTO req_settings (project_id, disabled_rules) VALUES ($1, $2) \
                 ON CONFLICT (project_id) DO UPDATE SET disabled_rules = $2",
            )
            .bind(project.0)
            .bind(Json(rules))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn insert_import(&self, i: &PendingImport, content: &[u8]) -> StoreResult<()> {
        transaction!(self, &Journal::default(), |tx| {
            // Not a cached statement: SQLite keeps a prepared statement's bound values and
            // result buffers for reuse, and this one binds a file of up to 50 MB that would
            // stay in memory until the statement is next used (see also `find_import`).
            sqlx::query(
                "INSERT INTO req_imports (id, project_id, module_id, format, file_name, content, created_by, created_at, status, report) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .persistent(false)
            .bind(i.id.0)
            .bind(i.project_id.0)
            .bind(i.module_id.map(|m| m.0))
            .bind(&i.format)
            .bind(&i.file_name)
            .bind(content)
            .bind(i.created_by.0)
            .bind(i.created_at)
            .bind(&i.status)
            .bind(Json(&i.report))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        })
    }

    async fn find_import(
        &self,
        project: ProjectId,
        id: ImportId,
    ) -> StoreResult<Option<(PendingImport, Vec<u8>)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
            project_id: Uuid,
            module_id: Option<Uuid>,
            format: String,
            file_name: String,
            content: Vec<u8>,
            created_by: Uuid,
            created_at: DateTime<Utc>,
            status: String,
            report: Json<serde_json::Value>,
        }
        let row: Option<Row> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, project_id, module_id, format, file_name, content, created_by, created_at, status, report \
             FROM req_imports WHERE project_id = $1 AND id = $2"
        )
        .persistent(false)
        .bind(project.0)
        .bind(id.0)
        .fetch_optional(p)
        .await
        .map_err(db_err)
        })?;
        Ok(row.map(|r| {
            (
                PendingImport {
                    id: ImportId(r.id),
                    project_id: ProjectId(r.project_id),
                    module_id: r.module_id.map(ModuleId),
                    format: r.format,
                    file_name: r.file_name,
                    created_by: UserId(r.created_by),
                    created_at: r.created_at,
                    status: r.status,
                    report: r.report.0,
                },
                r.content,
            )
        }))
    }

    async fn set_import_status(&self, id: ImportId, status: &str) -> StoreResult<()> {
        transaction!(self, &Journal::default(), |tx| {
            sqlx::query("UPDATE req_imports SET status = $2 WHERE id = $1")
                .bind(id.0)
                .bind(status)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        })
    }

    async fn prune_imports(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        transaction!(self, &Journal::default(), |tx| {
            sqlx::query("DELETE FROM req_imports WHERE created_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected()
        })
    }
}

/// Writes allocated human ids into the create events of new requirements (`allocated`
/// maps a requirement's UUID to its human id).
fn stamp_events(events: &mut [AuditEvent], allocated: &HashMap<String, String>) {
    for e in events
        .iter_mut()
        .filter(|e| e.artefact_type == "requirement")
    {
        if let Some(human_id) = allocated.get(&e.artefact_id) {
            for c in e.changes.iter_mut().filter(|c| c.field == "human_id") {
                c.after = serde_json::Value::from(human_id.as_str());
            }
        }
    }
}

/// Writes allocated human ids into the snapshots of new requirements' first revisions (and
/// those revisions' content hashes).
/// `hashes` holds the stamped hashes computed when the rows were inserted.
fn stamp_revisions(
    revisions: &mut [Revision],
    allocated: &HashMap<String, String>,
    hashes: &HashMap<(Uuid, i64), String>,
) {
    for r in revisions
        .iter_mut()
        .filter(|r| r.artefact_type == "requirement")
    {
        if let Some(human_id) = allocated.get(&r.artefact_id) {
            if let Some(obj) = r.data.as_object_mut() {
                obj.insert(
                    "human_id".into(),
                    serde_json::Value::from(human_id.as_str()),
                );
            }
            let known = Uuid::parse_str(&r.artefact_id)
                .ok()
                .and_then(|id| hashes.get(&(id, r.number)));
            r.content_hash = match known {
                Some(h) => h.clone(),
                None => opensesa_domain::revision::content_hash(&r.data),
            };
        }
    }
}

/// The content hash of a new requirement's first revision once its allocated human id is
/// written into the snapshot (as `stamp_revisions` does).
fn stamped_hash(revision: &Revision, human_id: &str) -> String {
    let mut data = revision.data.clone();
    if let Some(obj) = data.as_object_mut() {
        obj.insert("human_id".into(), serde_json::Value::from(human_id));
    }
    opensesa_domain::revision::content_hash(&data)
}

impl Db {
    async fn facts(&self, project: ProjectId, statement: &str) -> StoreResult<Vec<ReqFacts>> {
        /// id, human id, module, parent, title, statement, kind, status, number of
        /// verification methods, rationale empty (0/1), revision.
        type Fact = (
            Uuid,
            String,
            Uuid,
            Option<Uuid>,
            String,
            String,
            String,
            String,
            i64,
            i64,
            i64,
        );
        // `statement` is a fixed column expression chosen by the caller, never input.
        let from =
            "requirements r JOIN req_modules m ON m.id = r.module_id WHERE r.project_id = $1";
        let order = "m.ordinal, m.prefix, r.ordinal, r.number";
        let rows: Vec<Fact> = match self {
            Db::Sqlite { read, .. } => {
                // With the sort keys, sorted here: the documents come in rowid order.
                type Keyed = (Fact, (i64, String, i64, i64));
                let mut keyed: Vec<Keyed> = crate::packed::json_rows(
                    read,
                    &format!(
                        "json_array(hex(r.id), r.human_id, hex(r.module_id), nullif(hex(r.parent_id), ''), r.title, \
                         {statement}, r.kind, r.status, json_array_length(r.verification_methods), \
                         r.rationale = '', r.revision), json_array(m.ordinal, m.prefix, r.ordinal, r.number)"
                    ),
                    from,
                    "r.rowid",
                    project.0,
                )
                .await?;
                keyed.sort_unstable_by(|a, b| a.1.cmp(&b.1));
                keyed.into_iter().map(|(fact, _)| fact).collect()
            }
            Db::Postgres(p) => sqlx::query_as(&format!(
                "SELECT r.id, r.human_id, r.module_id, r.parent_id, r.title, {statement}, r.kind, r.status, \
                 jsonb_array_length(r.verification_methods)::BIGINT, \
                 CAST(CASE WHEN r.rationale = '' THEN 1 ELSE 0 END AS BIGINT), r.revision \
                 FROM {from} ORDER BY {order}"
            ))
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err)?,
        };
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    human_id,
                    module,
                    parent,
                    title,
                    statement,
                    kind,
                    status,
                    methods,
                    no_rationale,
                    revision,
                )| {
                    ReqFacts {
                        id: RequirementId(id),
                        human_id,
                        module_id: ModuleId(module),
                        parent_id: parent.map(RequirementId),
                        title,
                        statement,
                        kind,
                        status,
                        verification_methods: usize::try_from(methods).unwrap_or(0),
                        rationale_empty: no_rationale != 0,
                        revision,
                    }
                },
            )
            .collect())
    }

    async fn requirements_where(
        &self,
        project: ProjectId,
        column: &str,
        values: &[String],
    ) -> StoreResult<Vec<Requirement>> {
        let mut out = Vec::new();
        // Chunks keep the parameter count under SQLite's limit.
        for chunk in values.chunks(500) {
            let params = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {REQ_COLS} FROM requirements WHERE project_id = $1 AND {column} IN ({params})"
            );
            let rows: Vec<RequirementRow> = read!(self, |p| {
                let mut q = sqlx::query_as(&sql).bind(project.0);
                for v in chunk {
                    q = q.bind(v);
                }
                q.fetch_all(p).await.map_err(db_err)
            })?;
            out.extend(convert::<_, Requirement>(rows)?);
        }
        Ok(out)
    }

    async fn link_views(
        &self,
        cond: &str,
        binds: &[sql::Bind],
        page: Option<(i64, i64)>,
    ) -> StoreResult<(Vec<LinkView>, i64)> {
        let limit = page
            .map(|(l, o)| format!(" LIMIT {} OFFSET {}", l.clamp(1, 1000), o.max(0)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {}, COALESCE(s.human_id, sc.human_id, '') AS s_human_id, COALESCE(s.title, sc.title, '') AS s_title, \
             COALESCE(t.human_id, '') AS t_human_id, COALESCE(t.title, '') AS t_title \
             FROM trace_links l LEFT JOIN requirements s ON s.id = l.source_id \
             LEFT JOIN vv_cases sc ON sc.id = l.source_id \
             LEFT JOIN requirements t ON t.id = l.target_id WHERE {cond} \
             ORDER BY COALESCE(s.human_id, sc.human_id), l.kind, t.human_id{limit}",
            link_cols("l")
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            link: LinkRow,
            s_human_id: String,
            s_title: String,
            t_human_id: String,
            t_title: String,
        }
        let rows: Vec<Row> = read!(self, |p| bind_all!(sqlx::query_as(&sql), binds)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        let total = match page {
            None => rows.len() as i64,
            Some(_) => {
                let count_sql = format!("SELECT COUNT(*) FROM trace_links l WHERE {cond}");
                let n: (i64,) = read!(self, |p| bind_all!(sqlx::query_as(&count_sql), binds)
                    .fetch_one(p)
                    .await
                    .map_err(db_err))?;
                n.0
            }
        };
        let views = rows
            .into_iter()
            .map(|r| {
                Ok(LinkView {
                    link: TraceLink::try_from(r.link)?,
                    source_human_id: r.s_human_id,
                    source_title: r.s_title,
                    target_human_id: r.t_human_id,
                    target_title: r.t_title,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((views, total))
    }
}
