//! Logical export and import of the durable tables, backend-neutral: each row becomes one
//! JSON object with canonical values (UUIDs as text, times as RFC 3339 with microseconds, JSON
//! with sorted keys), so a dump of SQLite and a dump of PostgreSQL holding the same data are
//! byte-identical, and a dump of one restores into the other. Sessions, authentication
//! failures and worker heartbeats are transient and not included.

use crate::{db_err, Db};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use opensesa_app::ports::{StoreError, StoreResult};
use serde_json::{Map, Value};
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Uuid,
    Text,
    Int,
    Bool,
    Time,
    Date,
    Json,
}

pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Col)],
    pub order_by: &'static str,
}

use Col::*;

/// The durable tables in an order that satisfies foreign keys on insert.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("email", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("is_admin", Bool),
            ("is_active", Bool),
            ("totp_secret", Text),
            ("totp_enabled_at", Time),
            ("totp_last_step", Int),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "programs",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("code", Text),
            ("name", Text),
            ("description", Text),
            ("created_at", Time),
        ],
    },
    Table {
        name: "organisations",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("code", Text),
            ("name", Text),
            ("created_at", Time),
        ],
    },
    Table {
        name: "projects",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("code", Text),
            ("name", Text),
            ("description", Text),
            ("program_id", Uuid),
            ("status", Text),
            ("revision", Int),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "phases",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("ordinal", Int),
            ("name", Text),
            ("starts_on", Date),
            ("ends_on", Date),
            ("revision", Int),
        ],
    },
    Table {
        name: "memberships",
        order_by: "project_id, user_id",
        columns: &[
            ("project_id", Uuid),
            ("user_id", Uuid),
            ("role", Text),
            ("organisation_id", Uuid),
            ("created_at", Time),
        ],
    },
    Table {
        name: "recovery_codes",
        order_by: "user_id, code_hash",
        columns: &[("user_id", Uuid), ("code_hash", Text), ("used_at", Time)],
    },
    Table {
        name: "api_tokens",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("user_id", Uuid),
            ("name", Text),
            ("prefix", Text),
            ("token_hash", Text),
            ("created_at", Time),
            ("last_used_at", Time),
            ("revoked_at", Time),
        ],
    },
    Table {
        name: "audit_events",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("at", Time),
            ("actor_id", Uuid),
            ("actor", Text),
            ("project_id", Uuid),
            ("artefact_type", Text),
            ("artefact_id", Text),
            ("action", Text),
            ("changes", Json),
            ("reason", Text),
        ],
    },
    Table {
        name: "revisions",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("artefact_type", Text),
            ("artefact_id", Text),
            ("number", Int),
            ("data", Json),
            ("content_hash", Text),
            ("author_id", Uuid),
            ("at", Time),
        ],
    },
    Table {
        name: "jobs",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("queue", Text),
            ("kind", Text),
            ("payload", Json),
            ("priority", Int),
            ("state", Text),
            ("attempts", Int),
            ("max_attempts", Int),
            ("run_after", Time),
            ("dedup_key", Text),
            ("locked_by", Text),
            ("lease_until", Time),
            ("progress", Int),
            ("progress_message", Text),
            ("result", Json),
            ("last_error", Text),
            ("project_id", Uuid),
            ("created_by", Uuid),
            ("created_at", Time),
            ("started_at", Time),
            ("finished_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "periodic_schedule",
        order_by: "kind",
        columns: &[("kind", Text), ("last_period", Int)],
    },
    Table {
        name: "req_modules",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("parent_id", Uuid),
            ("prefix", Text),
            ("name", Text),
            ("description", Text),
            ("ordinal", Int),
            ("attributes", Json),
            ("revision", Int),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "req_counters",
        order_by: "project_id, prefix",
        columns: &[("project_id", Uuid), ("prefix", Text), ("next_number", Int)],
    },
    Table {
        name: "requirements",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("module_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("statement", Text),
            ("statement_xhtml", Text),
            ("rationale", Text),
            ("kind", Text),
            ("priority", Text),
            ("verification_methods", Json),
            ("source", Text),
            ("owner", Text),
            ("tags", Json),
            ("attributes", Json),
            ("parent_id", Uuid),
            ("ordinal", Int),
            ("status", Text),
            ("revision", Int),
            ("approved_revision", Int),
            ("external_id", Text),
            ("findings", Json),
            ("statement_key", Text),
            ("comments_text", Text),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "trace_links",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("kind", Text),
            ("source_type", Text),
            ("source_id", Uuid),
            ("target_type", Text),
            ("target_id", Uuid),
            ("source_revision", Int),
            ("target_revision", Int),
            ("suspect", Bool),
            ("suspect_reasons", Json),
            ("created_by", Uuid),
            ("created_at", Time),
            ("confirmed_at", Time),
            ("confirmed_by", Uuid),
            ("external_id", Text),
        ],
    },
    Table {
        name: "req_comments",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("requirement_id", Uuid),
            ("thread_id", Uuid),
            ("author_id", Uuid),
            ("author", Text),
            ("body", Text),
            ("revision", Int),
            ("resolved_at", Time),
            ("resolved_by", Text),
            ("created_at", Time),
        ],
    },
    Table {
        name: "review_rounds",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("title", Text),
            ("status", Text),
            ("opened_by", Text),
            ("opened_at", Time),
            ("closed_by", Text),
            ("closed_at", Time),
            ("summary", Text),
        ],
    },
    Table {
        name: "review_items",
        order_by: "round_id, requirement_id",
        columns: &[
            ("round_id", Uuid),
            ("requirement_id", Uuid),
            ("revision", Int),
            ("outcome", Text),
        ],
    },
    Table {
        name: "review_reviewers",
        order_by: "round_id, user_id",
        columns: &[("round_id", Uuid), ("user_id", Uuid)],
    },
    Table {
        name: "review_decisions",
        order_by: "round_id, requirement_id, reviewer_id",
        columns: &[
            ("round_id", Uuid),
            ("requirement_id", Uuid),
            ("reviewer_id", Uuid),
            ("decision", Text),
            ("comment", Text),
            ("revision", Int),
            ("at", Time),
        ],
    },
    Table {
        name: "req_settings",
        order_by: "project_id",
        columns: &[("project_id", Uuid), ("disabled_rules", Json)],
    },
    Table {
        name: "vv_plans",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("description", Text),
            ("scope_modules", Json),
            ("status", Text),
            ("revision", Int),
            ("approved_by", Uuid),
            ("approved_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "vv_activities",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("plan_id", Uuid),
            ("title", Text),
            ("phase", Text),
            ("method", Text),
            ("planned_start", Date),
            ("planned_end", Date),
            ("organisation", Text),
            ("ordinal", Int),
        ],
    },
    Table {
        name: "vv_cases",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("method", Text),
            ("preconditions", Text),
            ("steps", Json),
            ("expected", Text),
            ("automation_key", Text),
            ("content_hash", Text),
            ("activity_id", Uuid),
            ("status", Text),
            ("revision", Int),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "vv_sets",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("name", Text),
            ("description", Text),
            ("created_at", Time),
        ],
    },
    Table {
        name: "vv_set_cases",
        order_by: "set_id, case_id",
        columns: &[("set_id", Uuid), ("case_id", Uuid), ("ordinal", Int)],
    },
    Table {
        name: "vv_results",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("case_id", Uuid),
            ("case_revision", Int),
            ("run_id", Uuid),
            ("set_id", Uuid),
            ("verdict", Text),
            ("steps", Json),
            ("executor", Text),
            ("executed_at", Time),
            ("configuration", Text),
            ("baseline_id", Uuid),
            ("notes", Text),
            ("evidence", Json),
            ("supersedes_id", Uuid),
            ("supersede_reason", Text),
            ("source", Text),
            ("recorded_by", Uuid),
            ("recorded_at", Time),
        ],
    },
    Table {
        name: "vv_latest",
        order_by: "case_id",
        columns: &[
            ("case_id", Uuid),
            ("project_id", Uuid),
            ("result_id", Uuid),
            ("verdict", Text),
            ("executed_at", Time),
        ],
    },
    Table {
        name: "vv_daily",
        order_by: "project_id, day, verdict",
        columns: &[
            ("project_id", Uuid),
            ("day", Date),
            ("verdict", Text),
            ("results", Int),
        ],
    },
    Table {
        name: "vv_defects",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("description", Text),
            ("severity", Text),
            ("status", Text),
            ("revision", Int),
            ("results", Json),
            ("cases", Json),
            ("requirements", Json),
            ("created_by", Uuid),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "vv_snapshots",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("scope_kind", Text),
            ("scope_id", Uuid),
            ("scope_label", Text),
            ("content", Json),
            ("content_hash", Text),
            ("created_by", Uuid),
            ("created_at", Time),
        ],
    },
    Table {
        name: "baselines",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("name", Text),
            ("description", Text),
            ("scope", Json),
            ("status", Text),
            ("content_hash", Text),
            ("items", Int),
            ("counts", Json),
            ("frozen_by", Uuid),
            ("frozen_at", Time),
            ("created_by", Uuid),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "baseline_blobs",
        order_by: "hash",
        columns: &[
            ("hash", Text),
            ("kind", Text),
            ("items", Int),
            ("body", Text),
        ],
    },
    Table {
        name: "baseline_groups",
        order_by: "baseline_id, kind, group_id",
        columns: &[
            ("baseline_id", Uuid),
            ("kind", Text),
            ("group_id", Uuid),
            ("items", Int),
            ("hash", Text),
        ],
    },
    Table {
        name: "release_packs",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("baseline_id", Uuid),
            ("name", Text),
            ("notes", Text),
            ("documents", Json),
            ("status", Text),
            ("revision", Int),
            ("locked_by", Uuid),
            ("locked_at", Time),
            ("lock_override", Text),
            ("created_by", Uuid),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "adoption_actions",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("pack_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("owner", Text),
            ("due", Date),
            ("status", Text),
            ("revision", Int),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "governance_decisions",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("pack_id", Uuid),
            ("decision", Text),
            ("rationale", Text),
            ("conditions", Text),
            ("checklist_passed", Bool),
            ("decided_by", Uuid),
            ("decided_by_name", Text),
            ("decided_at", Time),
        ],
    },
    Table {
        name: "ops_items",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("title", Text),
            ("description", Text),
            ("owner", Text),
            ("due_date", Date),
            ("status", Text),
            ("source", Text),
            ("duration_days", Int),
            ("revision", Int),
            ("done_at", Time),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "ops_milestones",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("human_id", Text),
            ("number", Int),
            ("name", Text),
            ("description", Text),
            ("target_date", Date),
            ("status", Text),
            ("revision", Int),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    },
    Table {
        name: "ops_gates",
        order_by: "milestone_id, item_id",
        columns: &[
            ("milestone_id", Uuid),
            ("item_id", Uuid),
            ("project_id", Uuid),
            ("ordinal", Int),
        ],
    },
    Table {
        name: "ops_dependencies",
        order_by: "id",
        columns: &[
            ("id", Uuid),
            ("project_id", Uuid),
            ("predecessor_kind", Text),
            ("predecessor_id", Uuid),
            ("successor_kind", Text),
            ("successor_id", Uuid),
            ("created_by", Uuid),
            ("created_at", Time),
        ],
    },
    Table {
        name: "ops_versions",
        order_by: "project_id",
        columns: &[("project_id", Uuid), ("version", Int)],
    },
];

/// SQLite delete triggers that refuse row deletes; `wipe` lifts them for `restore --force`
/// and puts them back (name, table, message, condition).
const SQLITE_DELETE_GUARDS: &[(&str, &str, &str, &str)] = &[
    (
        "audit_events_no_delete",
        "audit_events",
        "audit_events is append-only",
        "",
    ),
    (
        "revisions_no_delete",
        "revisions",
        "revisions is append-only",
        "",
    ),
    (
        "vv_results_no_delete",
        "vv_results",
        "vv_results is immutable",
        "",
    ),
    (
        "vv_snapshots_no_delete",
        "vv_snapshots",
        "vv_snapshots is immutable",
        "",
    ),
    (
        "baselines_no_delete",
        "baselines",
        "a frozen baseline cannot change",
        " WHEN OLD.status = 'frozen'",
    ),
    (
        "baseline_groups_no_delete",
        "baseline_groups",
        "baseline_groups is immutable",
        "",
    ),
    (
        "baseline_blobs_no_delete",
        "baseline_blobs",
        "baseline_blobs is immutable",
        "",
    ),
    (
        "governance_decisions_no_delete",
        "governance_decisions",
        "governance_decisions is immutable",
        "",
    ),
];

fn bad(table: &str, col: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("{table}.{col}: {why}").into())
}

fn time_text(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Micros, true))
}

macro_rules! read_rows {
    ($pool:expr, $table:expr, $offset:expr, $limit:expr) => {{
        // `*`: an older schema may lack columns; those are left out of the row.
        let sql = format!(
            "SELECT * FROM {} ORDER BY {} LIMIT $1 OFFSET $2",
            $table.name, $table.order_by
        );
        let rows = sqlx::query(&sql)
            .bind($limit)
            .bind($offset)
            .fetch_all($pool)
            .await
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut obj = Map::new();
            let present: Vec<String> = sqlx::Row::columns(&row)
                .iter()
                .map(|c| sqlx::Column::name(c).to_owned())
                .collect();
            for (col, ty) in $table
                .columns
                .iter()
                .filter(|(c, _)| present.iter().any(|p| p == c))
            {
                let v = match ty {
                    Col::Uuid => row
                        .try_get::<Option<Uuid>, _>(*col)
                        .map(|v| v.map_or(Value::Null, |u| Value::String(u.to_string()))),
                    Col::Text => row
                        .try_get::<Option<String>, _>(*col)
                        .map(|v| v.map_or(Value::Null, Value::String)),
                    Col::Int => row
                        .try_get::<Option<i64>, _>(*col)
                        .map(|v| v.map_or(Value::Null, Value::from)),
                    Col::Bool => row
                        .try_get::<Option<bool>, _>(*col)
                        .map(|v| v.map_or(Value::Null, Value::Bool)),
                    Col::Time => row
                        .try_get::<Option<DateTime<Utc>>, _>(*col)
                        .map(|v| v.map_or(Value::Null, time_text)),
                    Col::Date => row
                        .try_get::<Option<NaiveDate>, _>(*col)
                        .map(|v| v.map_or(Value::Null, |d| Value::String(d.to_string()))),
                    Col::Json => row
                        .try_get::<Option<sqlx::types::Json<Value>>, _>(*col)
                        .map(|v| v.map_or(Value::Null, |j| j.0)),
                }
                .map_err(|e| bad($table.name, col, e))?;
                obj.insert((*col).to_owned(), v);
            }
            out.push(Value::Object(obj));
        }
        out
    }};
}

/// Exports every durable table from ONE consistent snapshot (PostgreSQL: a repeatable-read,
/// read-only transaction; SQLite: a read transaction), page by page, handing each row to
/// `sink`. Tables the schema does not have yet are skipped. Returns the rows per table.
pub async fn export_all<F>(db: &Db, mut sink: F) -> StoreResult<Vec<(&'static str, u64)>>
where
    F: FnMut(&Table, &Value) -> Result<(), String>,
{
    const PAGE: i64 = 1000;
    let mut counts = Vec::new();
    crate::read!(db, |p| {
        let mut tx = p.begin().await.map_err(db_err)?;
        if !db.is_sqlite() {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for table in TABLES {
            let exists: i64 = if db.is_sqlite() {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
                )
                .bind(table.name)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?
            } else {
                sqlx::query_scalar("SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1")
                    .bind(table.name)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?
            };
            if exists == 0 {
                continue;
            }
            let mut offset = 0i64;
            loop {
                let rows = read_rows!(&mut *tx, table, offset, PAGE);
                for row in &rows {
                    sink(table, row).map_err(|e| bad(table.name, "*", e))?;
                }
                offset += rows.len() as i64;
                if (rows.len() as i64) < PAGE {
                    break;
                }
            }
            counts.push((table.name, offset as u64));
        }
        tx.rollback().await.map_err(db_err)?;
        Ok::<_, StoreError>(())
    })?;
    Ok(counts)
}

pub async fn count(db: &Db, table: &Table) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM {}", table.name);
    crate::read!(db, |p| sqlx::query_scalar(&sql)
        .fetch_one(p)
        .await
        .map_err(db_err))
}

fn text<'a>(table: &str, col: &str, v: &'a Value) -> StoreResult<Option<&'a str>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(bad(table, col, format!("expected text, found {other}"))),
    }
}

macro_rules! insert_rows {
    ($tx:expr, $table:expr, $rows:expr) => {{
        for row in $rows {
            let obj = row
                .as_object()
                .ok_or_else(|| bad($table.name, "*", "a row is not a JSON object"))?;
            // Columns of the archive that this schema knows (an older archive may lack some).
            let cols: Vec<&(&str, Col)> = $table
                .columns
                .iter()
                .filter(|(c, _)| obj.contains_key(*c))
                .collect();
            let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                $table.name,
                cols.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", "),
                placeholders.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (col, ty) in &cols {
                let v = &obj[*col];
                q = match ty {
                    Col::Uuid => q.bind(
                        text($table.name, col, v)?
                            .map(Uuid::parse_str)
                            .transpose()
                            .map_err(|e| bad($table.name, col, e))?,
                    ),
                    Col::Text => q.bind(text($table.name, col, v)?.map(str::to_owned)),
                    Col::Int => q.bind(match v {
                        Value::Null => None,
                        other => Some(
                            other
                                .as_i64()
                                .ok_or_else(|| bad($table.name, col, "expected an integer"))?,
                        ),
                    }),
                    Col::Bool => q.bind(match v {
                        Value::Null => None,
                        other => Some(
                            other
                                .as_bool()
                                .ok_or_else(|| bad($table.name, col, "expected a boolean"))?,
                        ),
                    }),
                    Col::Time => q.bind(
                        text($table.name, col, v)?
                            .map(|s| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)))
                            .transpose()
                            .map_err(|e| bad($table.name, col, e))?,
                    ),
                    Col::Date => q.bind(
                        text($table.name, col, v)?
                            .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
                            .transpose()
                            .map_err(|e| bad($table.name, col, e))?,
                    ),
                    Col::Json => q.bind(if v.is_null() {
                        None
                    } else {
                        Some(sqlx::types::Json(v.clone()))
                    }),
                };
            }
            q.execute(&mut *$tx).await.map_err(db_err)?;
        }
    }};
}

/// Imports JSON-lines files (one per table, in `TABLES` order) in ONE transaction: a failure
/// anywhere leaves the target as it was. Reads in batches, so memory stays bounded.
pub async fn import_files(db: &Db, files: &[(&Table, std::path::PathBuf)]) -> StoreResult<u64> {
    use std::io::BufRead;
    const BATCH: usize = 500;
    // A restore into an older schema (an archive's own version) has no derived data yet.
    let derive = table_exists(db, "working_groups").await?;
    crate::write!(db, |p| {
        let mut tx = p.begin().await.map_err(db_err)?;
        let mut total = 0u64;
        for (table, path) in files {
            let file = std::fs::File::open(path).map_err(|e| {
                bad(
                    table.name,
                    "*",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let mut lines = std::io::BufReader::new(file).lines();
            loop {
                let mut batch = Vec::with_capacity(BATCH);
                for line in lines.by_ref().take(BATCH) {
                    let line = line.map_err(|e| bad(table.name, "*", e))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    batch.push(
                        serde_json::from_str::<Value>(&line).map_err(|e| {
                            bad(table.name, "*", format!("line {}: {e}", total + 1))
                        })?,
                    );
                }
                if batch.is_empty() {
                    break;
                }
                total += batch.len() as u64;
                insert_rows!(tx, table, &batch);
            }
        }
        if derive {
            sqlx::query(&derived_sql(db.is_sqlite()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(total)
    })
}

/// Data derived from other tables and therefore not in an archive, rebuilt after a restore:
/// each requirement's current content hash, from its revision (the working-group cache
/// rebuilds itself: the restore's inserts left every group dirty).
fn derived_sql(sqlite: bool) -> String {
    format!(
        "UPDATE requirements SET content_hash = (SELECT r.content_hash FROM revisions r \
         WHERE r.artefact_type = 'requirement' AND r.artefact_id = {} \
         AND r.number = requirements.revision)",
        crate::baselines::items::uuid_text("requirements.id", !sqlite)
    )
}

/// Rows in the durable tables (zero means an empty target).
pub async fn total_rows(db: &Db) -> StoreResult<i64> {
    let mut n = 0;
    for t in TABLES {
        if table_exists(db, t.name).await? {
            n += count(db, t).await?;
        }
    }
    Ok(n)
}

/// Whether the schema has `name` yet (an older schema may not).
pub async fn table_exists(db: &Db, name: &str) -> StoreResult<bool> {
    let n: i64 = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1")
            .bind(name)
            .fetch_one(read)
            .await
            .map_err(db_err)?,
        Db::Postgres(p) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1",
        )
        .bind(name)
        .fetch_one(p)
        .await
        .map_err(db_err)?,
    };
    Ok(n > 0)
}

/// Empties every durable table (and sessions) for `restore --force`. The append-only
/// triggers refuse row deletes, so PostgreSQL truncates (which they do not cover) and SQLite
/// lifts its delete triggers for the length of the transaction.
pub async fn wipe(db: &Db) -> StoreResult<()> {
    match db {
        Db::Postgres(p) => {
            let names: Vec<&str> = TABLES
                .iter()
                .map(|t| t.name)
                .chain([
                    "sessions",
                    "auth_failures",
                    "worker_heartbeats",
                    "req_imports",
                    "working_groups",
                    "working_group_cache",
                ])
                .collect();
            sqlx::query(&format!("TRUNCATE {} CASCADE", names.join(", ")))
                .execute(p)
                .await
                .map_err(db_err)?;
        }
        Db::Sqlite { write, .. } => {
            let mut tx = write.begin().await.map_err(db_err)?;
            let drop: String = SQLITE_DELETE_GUARDS
                .iter()
                .map(|(name, ..)| format!("DROP TRIGGER IF EXISTS {name}; "))
                .collect();
            sqlx::raw_sql(&drop)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            for name in [
                "sessions",
                "auth_failures",
                "worker_heartbeats",
                "req_imports",
            ]
            .into_iter()
            .chain(TABLES.iter().rev().map(|t| t.name))
            {
                if name == "projects" {
                    // The cache of working groups (not dumped) refers to projects, and the
                    // deletions above re-create its rows through its triggers.
                    sqlx::raw_sql("DELETE FROM working_group_cache; DELETE FROM working_groups")
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                sqlx::query(&format!("DELETE FROM {name}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let create: String = SQLITE_DELETE_GUARDS
                .iter()
                .map(|(name, table, message, when)| {
                    format!(
                        "CREATE TRIGGER {name} BEFORE DELETE ON {table}{when} \
                         BEGIN SELECT RAISE(ABORT, '{message}'); END; "
                    )
                })
                .collect();
            sqlx::raw_sql(&create)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
        }
    }
    Ok(())
}
