//! Verification and validation on both backends: plans and activities, cases written in
//! batches with their trace links (suspect marking on change), case sets, immutable results
//! with the derived latest-result and daily-count tables, defects and snapshots.

mod rows;

use crate::stamp::JournalIndex;
use crate::{db_err, read, transaction, Db};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::ports::*;
use opensesa_domain::ids::*;
use opensesa_domain::requirements::links::SuspectReason;
use opensesa_domain::requirements::model::human_id;
use opensesa_domain::revision::{content_hash, Versioned};
use opensesa_domain::vv::{
    Activity, Case, CaseSet, Defect, Plan, TestResult, CASE_PREFIX, DEFECT_PREFIX, PLAN_PREFIX,
    SNAPSHOT_PREFIX,
};
use rows::*;
use sqlx::types::Json;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Dynamic parameters of a built query.
enum Bind {
    Uuid(Uuid),
    Text(String),
}

macro_rules! bind_vals {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Uuid(u) => q.bind(*u),
                Bind::Text(t) => q.bind(t.clone()),
            };
        }
        q
    }};
}

/// Reserves `count` numbers under `prefix` in the project; evaluates to the first.
macro_rules! alloc_numbers {
    ($tx:expr, $project:expr, $prefix:expr, $count:expr) => {{
        sqlx::query(
            "INSERT INTO req_counters (project_id, prefix, next_number) VALUES ($1, $2, 1) \
             ON CONFLICT (project_id, prefix) DO NOTHING",
        )
        .bind($project)
        .bind($prefix)
        .execute(&mut *$tx)
        .await
        .map_err(db_err)?;
        let first: (i64,) = sqlx::query_as(
            "UPDATE req_counters SET next_number = next_number + $3 \
             WHERE project_id = $1 AND prefix = $2 RETURNING next_number - $3",
        )
        .bind($project)
        .bind($prefix)
        .bind($count as i64)
        .fetch_one(&mut *$tx)
        .await
        .map_err(db_err)?;
        first.0
    }};
}

pub(crate) use alloc_numbers;

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict(what.into())
}

/// Placeholders `$from..$from+n` for an IN list.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// IN lists are read in chunks well below both backends' parameter limits.
pub(crate) const CHUNK: usize = 900;

#[async_trait]
impl VvStore for Db {
    async fn list_plans(&self, project: ProjectId) -> StoreResult<Vec<PlanSummary>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            plan: PlanRow,
            activities: i64,
            cases: i64,
        }
        let sql = format!(
            "SELECT {}, (SELECT COUNT(*) FROM vv_activities a WHERE a.plan_id = p.id) AS activities, \
             (SELECT COUNT(*) FROM vv_cases c JOIN vv_activities a ON a.id = c.activity_id WHERE a.plan_id = p.id) AS cases \
             FROM vv_plans p WHERE p.project_id = $1 ORDER BY p.number",
            PLAN_COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter()
            .map(|r| {
                Ok(PlanSummary {
                    plan: Plan::try_from(r.plan)?,
                    activities: r.activities,
                    cases: r.cases,
                })
            })
            .collect()
    }

    async fn find_plan(&self, project: ProjectId, human_id: &str) -> StoreResult<Option<Plan>> {
        let sql =
            format!("SELECT {PLAN_COLS} FROM vv_plans WHERE project_id = $1 AND human_id = $2");
        let row: Option<PlanRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Plan::try_from).transpose()
    }

    async fn insert_plan(&self, plan: &Plan, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, Plan::ARTEFACT_TYPE);
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            let number = alloc_numbers!(tx, plan.project_id.0, PLAN_PREFIX, 1);
            let hid = human_id(PLAN_PREFIX, number);
            index.stamp(journal, &plan.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO vv_plans ({PLAN_COLS}, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ))
            .bind(plan.id.0)
            .bind(plan.project_id.0)
            .bind(&hid)
            .bind(&plan.title)
            .bind(&plan.description)
            .bind(Json(&plan.scope_modules))
            .bind(plan.status.as_str())
            .bind(plan.revision)
            .bind(plan.approved_by.map(|u| u.0))
            .bind(plan.approved_at)
            .bind(plan.created_at)
            .bind(plan.updated_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn update_plan(
        &self,
        plan: &Plan,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE vv_plans SET title = $2, description = $3, scope_modules = $4, status = $5, revision = $6, \
                 approved_by = $7, approved_at = $8, updated_at = $9 WHERE id = $1 AND revision = $10",
            )
            .bind(plan.id.0)
            .bind(&plan.title)
            .bind(&plan.description)
            .bind(Json(&plan.scope_modules))
            .bind(plan.status.as_str())
            .bind(plan.revision)
            .bind(plan.approved_by.map(|u| u.0))
            .bind(plan.approved_at)
            .bind(plan.updated_at)
            .bind(expected_revision)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "plan {} was changed by someone else; reload and retry",
                    plan.human_id
                )));
            }
        })
    }

    async fn plan_activities(&self, plan: PlanId) -> StoreResult<Vec<Activity>> {
        let sql = format!(
            "SELECT {ACTIVITY_COLS} FROM vv_activities WHERE plan_id = $1 ORDER BY ordinal, id"
        );
        let rows: Vec<ActivityRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(plan.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(Activity::try_from).collect()
    }

    async fn save_activity(
        &self,
        a: &Activity,
        create: bool,
        journal: &Journal,
    ) -> StoreResult<()> {
        let sql = if create {
            format!("INSERT INTO vv_activities ({ACTIVITY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        } else {
            "UPDATE vv_activities SET plan_id = $2, title = $3, phase = $4, method = $5, planned_start = $6, \
             planned_end = $7, organisation = $8, ordinal = $9 WHERE id = $1"
                .to_owned()
        };
        transaction!(self, journal, |tx| {
            let done = sqlx::query(&sql)
                .bind(a.id.0)
                .bind(a.plan_id.0)
                .bind(&a.title)
                .bind(&a.phase)
                .bind(a.method.as_str())
                .bind(a.planned_start)
                .bind(a.planned_end)
                .bind(&a.organisation)
                .bind(a.ordinal)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        })
    }

    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        let mut cond = vec!["c.project_id = $1".to_owned()];
        let mut binds = vec![Bind::Uuid(q.project_id.map(|p| p.0).unwrap_or_default())];
        let mut join = String::new();
        if let Some(t) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            binds.push(Bind::Text(format!(
                "%{}%",
                t.to_lowercase().replace(['%', '_'], "")
            )));
            let n = binds.len();
            cond.push(format!(
                "(LOWER(c.human_id) LIKE ${n} OR LOWER(c.title) LIKE ${n} OR LOWER(c.automation_key) LIKE ${n})"
            ));
        }
        if let Some(s) = &q.status {
            binds.push(Bind::Text(s.clone()));
            cond.push(format!("c.status = ${}", binds.len()));
        }
        if let Some(a) = q.activity_id {
            binds.push(Bind::Uuid(a.0));
            cond.push(format!("c.activity_id = ${}", binds.len()));
        }
        if let Some(p) = q.plan_id {
            binds.push(Bind::Uuid(p.0));
            cond.push(format!(
                "c.activity_id IN (SELECT id FROM vv_activities WHERE plan_id = ${})",
                binds.len()
            ));
        }
        if let Some(s) = q.set_id {
            binds.push(Bind::Uuid(s.0));
            join.push_str(&format!(
                " JOIN vv_set_cases sc ON sc.case_id = c.id AND sc.set_id = ${}",
                binds.len()
            ));
        }
        match q.verdict.as_deref() {
            Some("not_run") => cond.push("l.case_id IS NULL".into()),
            Some(v) => {
                binds.push(Bind::Text(v.to_owned()));
                cond.push(format!("l.verdict = ${}", binds.len()));
            }
            None => {}
        }
        let order = if q.set_id.is_some() {
            "sc.ordinal, c.number"
        } else {
            "c.number"
        };
        let from = format!(
            "FROM vv_cases c{join} LEFT JOIN vv_latest l ON l.case_id = c.id WHERE {}",
            cond.join(" AND ")
        );
        let sql = format!(
            "SELECT {}, l.result_id AS l_result_id, l.verdict AS l_verdict, l.executed_at AS l_executed_at \
             {from} ORDER BY {order} LIMIT {} OFFSET {}",
            case_cols("c"),
            q.limit.clamp(1, 10_000),
            q.offset.max(0)
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            case: rows::CaseRow,
            l_result_id: Option<Uuid>,
            l_verdict: Option<String>,
            l_executed_at: Option<DateTime<Utc>>,
        }
        let rows: Vec<Row> = read!(self, |p| bind_vals!(sqlx::query_as(&sql), &binds)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        // The count needs the latest results only to filter by verdict.
        let count_sql = if q.verdict.is_some() {
            format!("SELECT COUNT(*) {from}")
        } else {
            format!(
                "SELECT COUNT(*) FROM vv_cases c{join} WHERE {}",
                cond.join(" AND ")
            )
        };
        let total: (i64,) = read!(self, |p| bind_vals!(sqlx::query_as(&count_sql), &binds)
            .fetch_one(p)
            .await
            .map_err(db_err))?;
        let rows = rows
            .into_iter()
            .map(|r| {
                let case = Case::try_from(r.case)?;
                let latest = match (r.l_result_id, r.l_verdict, r.l_executed_at) {
                    (Some(result_id), Some(verdict), Some(executed_at)) => {
                        Some(LatestResult::try_from(LatestRow {
                            case_id: case.id.0,
                            result_id,
                            verdict,
                            executed_at,
                        })?)
                    }
                    _ => None,
                };
                Ok(opensesa_app::ports::CaseRow { case, latest })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(CasePage {
            rows,
            total: total.0,
        })
    }

    async fn find_case(&self, project: ProjectId, human_id: &str) -> StoreResult<Option<Case>> {
        let sql =
            format!("SELECT {CASE_COLS} FROM vv_cases WHERE project_id = $1 AND human_id = $2");
        let row: Option<rows::CaseRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Case::try_from).transpose()
    }

    async fn find_cases(&self, project: ProjectId, ids: &[CaseId]) -> StoreResult<Vec<Case>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT {CASE_COLS} FROM vv_cases WHERE project_id = $1 AND id IN ({}) ORDER BY number",
                placeholders(2, chunk.len())
            );
            let binds: Vec<Bind> = chunk.iter().map(|c| Bind::Uuid(c.0)).collect();
            let rows: Vec<rows::CaseRow> = read!(self, |p| bind_vals!(
                sqlx::query_as(&sql).bind(project.0),
                &binds
            )
            .fetch_all(p)
            .await
            .map_err(db_err))?;
            for r in rows {
                out.push(Case::try_from(r)?);
            }
        }
        Ok(out)
    }

    async fn case_facts(&self, project: ProjectId) -> StoreResult<Vec<CaseFact>> {
        /// id, human id, title, status, revision, content hash, automation key, activity.
        type Fact = (
            Uuid,
            String,
            String,
            String,
            i64,
            String,
            String,
            Option<Uuid>,
        );
        let rows: Vec<Fact> = match self {
            // JSON documents instead of 50,000 rows through the driver (see `packed`), with
            // the case number to sort by.
            Db::Sqlite { read, .. } => {
                let mut numbered: Vec<(Fact, i64)> = crate::packed::json_rows(
                    read,
                    "json_array(hex(id), human_id, title, status, revision, content_hash, automation_key, \
                     nullif(hex(activity_id), '')), number",
                    "vv_cases WHERE project_id = $1",
                    "rowid",
                    project.0,
                )
                .await?;
                numbered.sort_unstable_by_key(|(_, number)| *number);
                numbered.into_iter().map(|(fact, _)| fact).collect()
            }
            Db::Postgres(p) => sqlx::query_as(
                "SELECT id, human_id, title, status, revision, content_hash, automation_key, activity_id \
                 FROM vv_cases WHERE project_id = $1 ORDER BY number",
            )
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
                    title,
                    status,
                    revision,
                    content_hash,
                    automation_key,
                    activity,
                )| {
                    CaseFact {
                        id: CaseId(id),
                        human_id,
                        title,
                        status,
                        revision,
                        content_hash,
                        automation_key,
                        activity_id: activity.map(ActivityId),
                    }
                },
            )
            .collect())
    }

    async fn save_cases(&self, batch: &CaseBatch, journal: &Journal) -> StoreResult<Vec<String>> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, Case::ARTEFACT_TYPE);
        let journal = &mut journal;
        let project = batch.project_id.map(|p| p.0).unwrap_or_default();
        transaction!(self, journal, |tx| {
            let wanted = batch
                .cases
                .iter()
                .filter(|w| w.create && w.case.human_id.is_empty())
                .count();
            let mut next = if wanted > 0 {
                alloc_numbers!(tx, project, CASE_PREFIX, wanted)
            } else {
                0
            };
            let mut created = Vec::new();
            for w in &batch.cases {
                let mut c = w.case.clone();
                if w.create {
                    let number = if c.human_id.is_empty() {
                        let n = next;
                        next += 1;
                        c.human_id = human_id(CASE_PREFIX, n);
                        index.stamp(journal, &c.id.to_string(), &c.human_id);
                        n
                    } else {
                        c.human_id
                            .rsplit('-')
                            .next()
                            .and_then(|n| n.parse::<i64>().ok())
                            .unwrap_or(0)
                    };
                    let hash = content_hash(&c.snapshot());
                    sqlx::query(&format!(
                        "INSERT INTO vv_cases ({CASE_COLS}, number, content_hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                    ))
                    .bind(c.id.0)
                    .bind(c.project_id.0)
                    .bind(&c.human_id)
                    .bind(&c.title)
                    .bind(c.method.as_str())
                    .bind(&c.preconditions)
                    .bind(Json(&c.steps))
                    .bind(&c.expected)
                    .bind(&c.automation_key)
                    .bind(c.activity_id.map(|a| a.0))
                    .bind(c.status.as_str())
                    .bind(c.revision)
                    .bind(c.created_at)
                    .bind(c.updated_at)
                    .bind(number)
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match db_err(e) {
                        StoreError::Conflict(_) => {
                            conflict(format!("a case {} exists already", c.human_id))
                        }
                        other => other,
                    })?;
                    created.push(c.human_id.clone());
                } else {
                    let expected = if w.content_changed {
                        c.revision - 1
                    } else {
                        c.revision
                    };
                    let hash = content_hash(&c.snapshot());
                    let done = sqlx::query(
                        "UPDATE vv_cases SET title = $2, method = $3, preconditions = $4, steps = $5, expected = $6, \
                         automation_key = $7, activity_id = $8, status = $9, revision = $10, updated_at = $11, \
                         content_hash = $12 WHERE id = $1 AND revision = $13",
                    )
                    .bind(c.id.0)
                    .bind(&c.title)
                    .bind(c.method.as_str())
                    .bind(&c.preconditions)
                    .bind(Json(&c.steps))
                    .bind(&c.expected)
                    .bind(&c.automation_key)
                    .bind(c.activity_id.map(|a| a.0))
                    .bind(c.status.as_str())
                    .bind(c.revision)
                    .bind(c.updated_at)
                    .bind(&hash)
                    .bind(expected)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if done.rows_affected() == 0 {
                        return Err(conflict(format!(
                            "case {} was changed by someone else; reload and retry",
                            c.human_id
                        )));
                    }
                    if w.content_changed {
                        // Verification links are not propagating kinds: only the case's own
                        // links turn suspect.
                        let direct: Vec<(Uuid, Uuid, Json<Vec<SuspectReason>>)> = sqlx::query_as(
                            "SELECT id, source_id, suspect_reasons FROM trace_links WHERE source_id = $1 OR target_id = $1",
                        )
                        .bind(c.id.0)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                        for (id, source, reasons) in direct {
                            let mut reasons = reasons.0;
                            push_reason(
                                &mut reasons,
                                SuspectReason {
                                    end: if source == c.id.0 { "source" } else { "target" }
                                        .to_owned(),
                                    changed: c.human_id.clone(),
                                    changed_id: c.id.0,
                                    from_revision: c.revision - 1,
                                    to_revision: c.revision,
                                    propagated: false,
                                },
                            );
                            sqlx::query("UPDATE trace_links SET suspect = TRUE, suspect_reasons = $2 WHERE id = $1")
                                .bind(id)
                                .bind(Json(&reasons))
                                .execute(&mut *tx)
                                .await
                                .map_err(db_err)?;
                        }
                    }
                }
            }
            for id in &batch.remove_links {
                sqlx::query("DELETE FROM trace_links WHERE id = $1 AND project_id = $2")
                    .bind(id.0)
                    .bind(project)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            for l in &batch.add_links {
                sqlx::query(
                    "INSERT INTO trace_links (id, project_id, kind, source_type, source_id, target_type, target_id, \
                     source_revision, target_revision, suspect, suspect_reasons, created_by, created_at, confirmed_at, \
                     confirmed_by, external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                )
                .bind(l.id.0)
                .bind(l.project_id.0)
                .bind(l.kind.as_str())
                .bind(&l.source_type)
                .bind(l.source_id)
                .bind(&l.target_type)
                .bind(l.target_id)
                .bind(l.source_revision)
                .bind(l.target_revision)
                .bind(l.suspect)
                .bind(Json(&l.suspect_reasons))
                .bind(l.created_by.map(|i| i.0))
                .bind(l.created_at)
                .bind(l.confirmed_at)
                .bind(l.confirmed_by.map(|i| i.0))
                .bind(&l.external_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| match db_err(e) {
                    StoreError::Conflict(_) => {
                        conflict(format!("this {} link exists already", l.kind.as_str()))
                    }
                    other => other,
                })?;
            }
            created
        })
    }

    async fn list_sets(&self, project: ProjectId) -> StoreResult<Vec<SetSummary>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            set: SetRow,
            cases: i64,
        }
        let rows: Vec<Row> = read!(self, |p| sqlx::query_as(
            "SELECT s.id, s.project_id, s.name, s.description, s.created_at, \
             (SELECT COUNT(*) FROM vv_set_cases m WHERE m.set_id = s.id) AS cases \
             FROM vv_sets s WHERE s.project_id = $1 ORDER BY s.name"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows
            .into_iter()
            .map(|r| SetSummary {
                set: CaseSet::from(r.set),
                cases: r.cases,
            })
            .collect())
    }

    async fn find_set(&self, project: ProjectId, id: CaseSetId) -> StoreResult<Option<CaseSet>> {
        let row: Option<SetRow> = read!(self, |p| {
            sqlx::query_as(
            "SELECT id, project_id, name, description, created_at FROM vv_sets WHERE project_id = $1 AND id = $2"
        )
        .bind(project.0)
        .bind(id.0)
        .fetch_optional(p)
        .await
        .map_err(db_err)
        })?;
        Ok(row.map(CaseSet::from))
    }

    async fn set_members(&self, set: CaseSetId) -> StoreResult<Vec<CaseId>> {
        let rows: Vec<(Uuid,)> = read!(self, |p| sqlx::query_as(
            "SELECT case_id FROM vv_set_cases WHERE set_id = $1 ORDER BY ordinal"
        )
        .bind(set.0)
        .fetch_all(p)
        .await
        .map_err(db_err))?;
        Ok(rows.into_iter().map(|r| CaseId(r.0)).collect())
    }

    async fn save_set(
        &self,
        set: &CaseSet,
        create: bool,
        members: &[CaseId],
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = if create {
                sqlx::query(
                    "INSERT INTO vv_sets (id, project_id, name, description, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(set.id.0)
                .bind(set.project_id.0)
                .bind(&set.name)
                .bind(&set.description)
                .bind(set.created_at)
                .execute(&mut *tx)
                .await
            } else {
                sqlx::query("UPDATE vv_sets SET name = $2, description = $3 WHERE id = $1")
                    .bind(set.id.0)
                    .bind(&set.name)
                    .bind(&set.description)
                    .execute(&mut *tx)
                    .await
            }
            .map_err(|e| match db_err(e) {
                StoreError::Conflict(_) => conflict(format!("a set named {:?} exists already", set.name)),
                other => other,
            })?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM vv_set_cases WHERE set_id = $1")
                .bind(set.id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let ordered: Vec<(usize, &CaseId)> = members.iter().enumerate().collect();
            for chunk in ordered.chunks(300) {
                let mut qb =
                    sqlx::QueryBuilder::new("INSERT INTO vv_set_cases (set_id, case_id, ordinal) ");
                qb.push_values(chunk, |mut b, (i, c)| {
                    b.push_bind(set.id.0).push_bind(c.0).push_bind(*i as i64);
                });
                qb.build().execute(&mut *tx).await.map_err(db_err)?;
            }
        })
    }

    async fn record_results(&self, results: &[TestResult], journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let case_ids: BTreeSet<Uuid> = results.iter().map(|r| r.case_id.0).collect();
            let case_list: Vec<Uuid> = case_ids.iter().copied().collect();
            // A retired case takes no results: checked in the transaction, so a case retired
            // concurrently is seen.
            for chunk in case_list.chunks(CHUNK) {
                let sql = format!(
                    "SELECT human_id FROM vv_cases WHERE status = 'retired' AND id IN ({})",
                    placeholders(1, chunk.len())
                );
                let binds: Vec<Bind> = chunk.iter().map(|c| Bind::Uuid(*c)).collect();
                let retired: Vec<(String,)> = bind_vals!(sqlx::query_as(&sql), &binds)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if let Some((h,)) = retired.first() {
                    return Err(conflict(format!(
                        "case {h} is retired: results cannot be recorded for it"
                    )));
                }
            }
            for r in results.iter().filter(|r| r.supersedes.is_some()) {
                let Some(old) = r.supersedes else { continue };
                let found: Option<(Uuid,)> = sqlx::query_as(
                    "SELECT case_id FROM vv_results WHERE id = $1 AND project_id = $2",
                )
                .bind(old.0)
                .bind(r.project_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                match found {
                    None => return Err(conflict("the result to supersede does not exist")),
                    Some((case,)) if case != r.case_id.0 => {
                        return Err(conflict(
                            "a correction must be for the same case as the result it supersedes",
                        ))
                    }
                    Some(_) => {}
                }
            }
            for chunk in results.chunks(200) {
                let mut qb =
                    sqlx::QueryBuilder::new(format!("INSERT INTO vv_results ({RESULT_COLS}) "));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id.0)
                        .push_bind(r.project_id.0)
                        .push_bind(r.case_id.0)
                        .push_bind(r.case_revision)
                        .push_bind(r.run_id.map(|x| x.0))
                        .push_bind(r.set_id.map(|x| x.0))
                        .push_bind(r.verdict.as_str())
                        .push_bind(Json(&r.steps))
                        .push_bind(&r.executor)
                        .push_bind(r.executed_at)
                        .push_bind(&r.configuration)
                        .push_bind(r.baseline_id)
                        .push_bind(&r.notes)
                        .push_bind(Json(&r.evidence))
                        .push_bind(r.supersedes.map(|x| x.0))
                        .push_bind(&r.supersede_reason)
                        .push_bind(&r.source)
                        .push_bind(r.recorded_by.map(|x| x.0))
                        .push_bind(r.recorded_at);
                });
                qb.build().execute(&mut *tx).await.map_err(|e| match db_err(e) {
                    StoreError::Conflict(_) => conflict(
                        "that result has been superseded already; supersede the newest correction instead",
                    ),
                    other => other,
                })?;
            }
            // The latest effective result per case. A plain new result replaces the stored
            // latest when it was executed no earlier (one multi-row upsert with the newest
            // result of each case in the batch); a correction can demote the result it
            // replaces, so its case is recomputed from the results.
            let corrected: BTreeSet<Uuid> = results
                .iter()
                .filter(|r| r.supersedes.is_some())
                .map(|r| r.case_id.0)
                .collect();
            let mut newest: BTreeMap<Uuid, &TestResult> = BTreeMap::new();
            for r in results.iter().filter(|r| !corrected.contains(&r.case_id.0)) {
                let e = newest.entry(r.case_id.0).or_insert(r);
                if (r.executed_at, r.recorded_at) >= (e.executed_at, e.recorded_at) {
                    *e = r;
                }
            }
            let newest: Vec<&TestResult> = newest.into_values().collect();
            for chunk in newest.chunks(300) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO vv_latest (case_id, project_id, result_id, verdict, executed_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.case_id.0)
                        .push_bind(r.project_id.0)
                        .push_bind(r.id.0)
                        .push_bind(r.verdict.as_str())
                        .push_bind(r.executed_at);
                });
                qb.push(
                    " ON CONFLICT (case_id) DO UPDATE SET result_id = excluded.result_id, verdict = excluded.verdict, \
                     executed_at = excluded.executed_at WHERE excluded.executed_at >= vv_latest.executed_at",
                );
                qb.build().execute(&mut *tx).await.map_err(db_err)?;
            }
            for case in &corrected {
                let latest: Option<(Uuid, String, DateTime<Utc>, Uuid)> = sqlx::query_as(
                    "SELECT r.id, r.verdict, r.executed_at, r.project_id FROM vv_results r WHERE r.case_id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM vv_results n WHERE n.supersedes_id = r.id) \
                     ORDER BY r.executed_at DESC, r.recorded_at DESC, r.id DESC LIMIT 1",
                )
                .bind(*case)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
                if let Some((rid, verdict, at, project)) = latest {
                    sqlx::query(
                        "INSERT INTO vv_latest (case_id, project_id, result_id, verdict, executed_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (case_id) DO UPDATE SET result_id = excluded.result_id, verdict = excluded.verdict, \
                         executed_at = excluded.executed_at",
                    )
                    .bind(*case)
                    .bind(project)
                    .bind(rid)
                    .bind(verdict)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
            }
            let mut daily: BTreeMap<(Uuid, NaiveDate, &str), i64> = BTreeMap::new();
            for r in results {
                *daily
                    .entry((
                        r.project_id.0,
                        r.recorded_at.date_naive(),
                        r.verdict.as_str(),
                    ))
                    .or_insert(0) += 1;
            }
            for ((project, day, verdict), n) in daily {
                sqlx::query(
                    "INSERT INTO vv_daily (project_id, day, verdict, results) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (project_id, day, verdict) DO UPDATE SET results = vv_daily.results + excluded.results",
                )
                .bind(project)
                .bind(day)
                .bind(verdict)
                .bind(n)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
        })
    }

    async fn find_result(
        &self,
        project: ProjectId,
        id: ResultId,
    ) -> StoreResult<Option<ResultRecord>> {
        let v = self
            .result_records(
                "r.project_id = $1 AND r.id = $2",
                &[Bind::Uuid(project.0), Bind::Uuid(id.0)],
                "",
                1,
            )
            .await?;
        Ok(v.into_iter().next())
    }

    async fn case_results(&self, case: CaseId, limit: i64) -> StoreResult<Vec<ResultRecord>> {
        self.result_records(
            "r.case_id = $1",
            &[Bind::Uuid(case.0)],
            "r.executed_at DESC, r.recorded_at DESC",
            limit,
        )
        .await
    }

    async fn recent_results(
        &self,
        project: ProjectId,
        limit: i64,
    ) -> StoreResult<Vec<ResultRecord>> {
        self.result_records(
            "r.project_id = $1",
            &[Bind::Uuid(project.0)],
            "r.recorded_at DESC, r.id DESC",
            limit,
        )
        .await
    }

    async fn latest_results(&self, project: ProjectId) -> StoreResult<Vec<LatestResult>> {
        let rows: Vec<LatestRow> = match self {
            Db::Sqlite { read, .. } => {
                let packed: Vec<(Uuid, Uuid, String, DateTime<Utc>)> = crate::packed::json_rows(
                    read,
                    "hex(case_id), hex(result_id), verdict, executed_at",
                    "vv_latest WHERE project_id = $1",
                    "rowid",
                    project.0,
                )
                .await?;
                packed
                    .into_iter()
                    .map(|(case_id, result_id, verdict, executed_at)| LatestRow {
                        case_id,
                        result_id,
                        verdict,
                        executed_at,
                    })
                    .collect()
            }
            Db::Postgres(p) => sqlx::query_as(
                "SELECT case_id, result_id, verdict, executed_at FROM vv_latest WHERE project_id = $1",
            )
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err)?,
        };
        rows.into_iter().map(LatestResult::try_from).collect()
    }

    async fn latest_of(&self, cases: &[CaseId]) -> StoreResult<Vec<LatestResult>> {
        let mut out = Vec::new();
        for chunk in cases.chunks(CHUNK) {
            let sql = format!(
                "SELECT case_id, result_id, verdict, executed_at FROM vv_latest WHERE case_id IN ({})",
                placeholders(1, chunk.len())
            );
            let binds: Vec<Bind> = chunk.iter().map(|c| Bind::Uuid(c.0)).collect();
            let rows: Vec<LatestRow> = read!(self, |p| bind_vals!(sqlx::query_as(&sql), &binds)
                .fetch_all(p)
                .await
                .map_err(db_err))?;
            for r in rows {
                out.push(LatestResult::try_from(r)?);
            }
        }
        Ok(out)
    }

    async fn results_by_ids(&self, ids: &[ResultId]) -> StoreResult<Vec<TestResult>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT {RESULT_COLS} FROM vv_results WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let binds: Vec<Bind> = chunk.iter().map(|c| Bind::Uuid(c.0)).collect();
            let rows: Vec<ResultRow> = read!(self, |p| bind_vals!(sqlx::query_as(&sql), &binds)
                .fetch_all(p)
                .await
                .map_err(db_err))?;
            for r in rows {
                out.push(TestResult::try_from(r)?);
            }
        }
        Ok(out)
    }

    async fn list_defects(&self, project: ProjectId) -> StoreResult<Vec<Defect>> {
        let sql =
            format!("SELECT {DEFECT_COLS} FROM vv_defects WHERE project_id = $1 ORDER BY number");
        let rows: Vec<DefectRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(Defect::try_from).collect()
    }

    async fn find_defect(&self, project: ProjectId, human_id: &str) -> StoreResult<Option<Defect>> {
        let sql =
            format!("SELECT {DEFECT_COLS} FROM vv_defects WHERE project_id = $1 AND human_id = $2");
        let row: Option<DefectRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        row.map(Defect::try_from).transpose()
    }

    async fn insert_defect(&self, d: &Defect, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, Defect::ARTEFACT_TYPE);
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            let number = alloc_numbers!(tx, d.project_id.0, DEFECT_PREFIX, 1);
            let hid = human_id(DEFECT_PREFIX, number);
            index.stamp(journal, &d.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO vv_defects ({DEFECT_COLS}, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ))
            .bind(d.id.0)
            .bind(d.project_id.0)
            .bind(&hid)
            .bind(&d.title)
            .bind(&d.description)
            .bind(d.severity.as_str())
            .bind(d.status.as_str())
            .bind(d.revision)
            .bind(Json(&d.results))
            .bind(Json(&d.cases))
            .bind(Json(&d.requirements))
            .bind(d.created_by.map(|u| u.0))
            .bind(d.created_at)
            .bind(d.updated_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn update_defect(
        &self,
        d: &Defect,
        expected_revision: i64,
        journal: &Journal,
    ) -> StoreResult<()> {
        transaction!(self, journal, |tx| {
            let done = sqlx::query(
                "UPDATE vv_defects SET title = $2, description = $3, severity = $4, status = $5, revision = $6, \
                 results = $7, cases = $8, requirements = $9, updated_at = $10 WHERE id = $1 AND revision = $11",
            )
            .bind(d.id.0)
            .bind(&d.title)
            .bind(&d.description)
            .bind(d.severity.as_str())
            .bind(d.status.as_str())
            .bind(d.revision)
            .bind(Json(&d.results))
            .bind(Json(&d.cases))
            .bind(Json(&d.requirements))
            .bind(d.updated_at)
            .bind(expected_revision)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(conflict(format!(
                    "defect {} was changed by someone else; reload and retry",
                    d.human_id
                )));
            }
        })
    }

    async fn insert_snapshot(&self, s: &Snapshot, journal: &Journal) -> StoreResult<String> {
        let mut journal = journal.clone();
        let index = JournalIndex::new(&journal, "vv_snapshot");
        let journal = &mut journal;
        transaction!(self, journal, |tx| {
            let number = alloc_numbers!(tx, s.project_id.0, SNAPSHOT_PREFIX, 1);
            let hid = human_id(SNAPSHOT_PREFIX, number);
            index.stamp(journal, &s.id.to_string(), &hid);
            sqlx::query(&format!(
                "INSERT INTO vv_snapshots ({SNAPSHOT_COLS}, number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(s.id.0)
            .bind(s.project_id.0)
            .bind(&hid)
            .bind(&s.title)
            .bind(&s.scope_kind)
            .bind(s.scope_id)
            .bind(&s.scope_label)
            .bind(Json(&s.content))
            .bind(&s.content_hash)
            .bind(s.created_by.map(|u| u.0))
            .bind(s.created_at)
            .bind(number)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            hid
        })
    }

    async fn list_snapshots(&self, project: ProjectId) -> StoreResult<Vec<Snapshot>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLS} FROM vv_snapshots WHERE project_id = $1 ORDER BY number DESC"
        );
        let rows: Vec<SnapshotRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Snapshot::from).collect())
    }

    async fn find_snapshot(
        &self,
        project: ProjectId,
        human_id: &str,
    ) -> StoreResult<Option<Snapshot>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLS} FROM vv_snapshots WHERE project_id = $1 AND human_id = $2"
        );
        let row: Option<SnapshotRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(project.0)
            .bind(human_id)
            .fetch_optional(p)
            .await
            .map_err(db_err))?;
        Ok(row.map(Snapshot::from))
    }

    async fn dashboard(&self, project: ProjectId, since: NaiveDate) -> StoreResult<DashboardFacts> {
        let verdicts: Vec<(String, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT verdict, COUNT(*) FROM vv_latest WHERE project_id = $1 GROUP BY verdict ORDER BY verdict"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        let cases: (i64,) = read!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM vv_cases WHERE project_id = $1 AND status <> 'retired'"
        )
        .bind(project.0)
        .fetch_one(p)
        .await
        .map_err(db_err))?;
        let daily: Vec<(NaiveDate, String, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT day, verdict, results FROM vv_daily WHERE project_id = $1 AND day >= $2 ORDER BY day, verdict"
        )
        .bind(project.0)
        .bind(since)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        let open_defects: Vec<(String, i64)> = read!(self, |p| {
            sqlx::query_as(
            "SELECT severity, COUNT(*) FROM vv_defects WHERE project_id = $1 AND status NOT IN ('closed', 'rejected') \
             GROUP BY severity ORDER BY severity"
        )
        .bind(project.0)
        .fetch_all(p)
        .await
        .map_err(db_err)
        })?;
        let without: (i64,) = read!(self, |p| {
            sqlx::query_as(
            "SELECT COUNT(*) FROM requirements r WHERE r.project_id = $1 AND r.status <> 'obsolete' \
             AND r.kind NOT IN ('heading', 'information') \
             AND NOT EXISTS (SELECT 1 FROM trace_links l WHERE l.target_id = r.id AND l.kind = 'verifies')"
        )
        .bind(project.0)
        .fetch_one(p)
        .await
        .map_err(db_err)
        })?;
        Ok(DashboardFacts {
            verdicts,
            cases: cases.0,
            daily,
            open_defects,
            requirements_without_case: without.0,
        })
    }

    async fn claim_import(&self, id: ImportId) -> StoreResult<bool> {
        let done: u64 = crate::write!(self, |p| sqlx::query(
            "UPDATE req_imports SET status = 'applying' WHERE id = $1 AND status = 'pending'"
        )
        .bind(id.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        .map_err(db_err))?;
        Ok(done == 1)
    }
}

impl Db {
    async fn result_records(
        &self,
        cond: &str,
        binds: &[Bind],
        order: &str,
        limit: i64,
    ) -> StoreResult<Vec<ResultRecord>> {
        let order = if order.is_empty() { "r.id" } else { order };
        let sql = format!(
            "SELECT {}, c.human_id AS case_human_id, \
             (SELECT n.id FROM vv_results n WHERE n.supersedes_id = r.id) AS superseded_by \
             FROM vv_results r JOIN vv_cases c ON c.id = r.case_id WHERE {cond} ORDER BY {order} LIMIT {}",
            result_cols("r"),
            limit.clamp(1, 100_000)
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            result: ResultRow,
            case_human_id: String,
            superseded_by: Option<Uuid>,
        }
        let rows: Vec<Row> = read!(self, |p| bind_vals!(sqlx::query_as(&sql), binds)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        rows.into_iter()
            .map(|r| {
                Ok(ResultRecord {
                    result: TestResult::try_from(r.result)?,
                    superseded_by: r.superseded_by.map(ResultId),
                    case_human_id: r.case_human_id,
                })
            })
            .collect()
    }
}
