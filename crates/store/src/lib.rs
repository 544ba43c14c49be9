//! The storage ports on SQLite and PostgreSQL. One code path serves both backends: each query
//! is written once with `$n` parameters (which SQLite accepts too) and the `read!`/`write!`
//! macros expand it for the concrete driver of the pool in use, so there are no `Any`-driver
//! conversions and no trait objects below the port.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod accounts;
mod audit;
mod baselines;
pub mod blobs;
pub mod dump;
mod health;
pub mod import_files;
pub mod jobs;
pub mod migrate;
mod old_files;
mod operations;
mod packed;
mod portfolio;
pub mod redis_bus;
pub mod redis_cache;
mod requirements;
mod rows;
mod stamp;
mod vv;

use opensesa_app::ports::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// A database: SQLite (a reader pool and a single writer connection, as SQLite allows one
/// writer at a time) or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// Wakes the in-process worker after a commit that enqueued jobs.
        wake: std::sync::Arc<tokio::sync::Notify>,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to a pool that may read.
macro_rules! read {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { read: $p, .. } => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$p` bound to the pool that writes (SQLite's single writer).
macro_rules! write {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite { write: $p, .. } => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}

/// Inserts the audit events and revisions of a journal on a transaction: multi-row inserts
/// in chunks (a 10,000-row import writes 20,000 journal rows in a few dozen statements).
macro_rules! write_journal {
    ($tx:expr, $journal:expr) => {{
        // 500 rows × 10 columns stays far below both backends' parameter limits.
        for chunk in $journal.events.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO audit_events (id, at, actor_id, actor, project_id, artefact_type, artefact_id, action, changes, reason) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(e.id.0)
                    .push_bind(e.at)
                    .push_bind(e.actor_id.map(|i| i.0))
                    .push_bind(&e.actor)
                    .push_bind(e.project_id.map(|i| i.0))
                    .push_bind(&e.artefact_type)
                    .push_bind(&e.artefact_id)
                    .push_bind(e.action.as_str())
                    .push_bind(sqlx::types::Json(&e.changes))
                    .push_bind(&e.reason);
            });
            qb.build()
                .execute(&mut *$tx)
                .await
                .map_err($crate::db_err)?;
        }
        for chunk in $journal.revisions.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO revisions (id, artefact_type, artefact_id, number, data, content_hash, author_id, at) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id.0)
                    .push_bind(&r.artefact_type)
                    .push_bind(&r.artefact_id)
                    .push_bind(r.number)
                    .push_bind(sqlx::types::Json(&r.data))
                    .push_bind(&r.content_hash)
                    .push_bind(r.author_id.map(|i| i.0))
                    .push_bind(r.at);
            });
            qb.build()
                .execute(&mut *$tx)
                .await
                .map_err($crate::db_err)?;
            // A requirement row carries its current revision's content hash, so that the
            // working state is read without joining the revisions table (migration 0007).
            // Rows that have it already (inserted with it) are not rewritten.
            let current: Vec<(uuid::Uuid, i64, &str)> = chunk
                .iter()
                .filter(|r| r.artefact_type == "requirement")
                .filter_map(|r| {
                    uuid::Uuid::parse_str(&r.artefact_id)
                        .ok()
                        .map(|id| (id, r.number, r.content_hash.as_str()))
                })
                .collect();
            if !current.is_empty() {
                let mut qb = sqlx::QueryBuilder::new("WITH v (id, n, h) AS (");
                qb.push_values(&current, |mut b, (id, n, h)| {
                    b.push_bind(*id).push_bind(*n).push_bind(*h);
                });
                // Not `UPDATE .. FROM v`: for that SQLite scans the whole requirements table
                // (45 ms per 500 rows in a 100,000-requirement project); `id IN (..)` goes
                // through the primary key on both backends.
                qb.push(
                    ") UPDATE requirements SET content_hash = \
                     (SELECT v.h FROM v WHERE v.id = requirements.id AND v.n = requirements.revision) \
                     WHERE requirements.id IN (SELECT v.id FROM v) \
                     AND EXISTS (SELECT 1 FROM v WHERE v.id = requirements.id \
                     AND v.n = requirements.revision AND v.h IS DISTINCT FROM requirements.content_hash)",
                );
                qb.build()
                    .execute(&mut *$tx)
                    .await
                    .map_err($crate::db_err)?;
            }
        }
        for j in &$journal.jobs {
            $crate::insert_job!($tx, j);
        }
    }};
}

/// Inserts a pending job unless a pending job has its deduplication key; evaluates to the
/// number of rows inserted.
macro_rules! insert_job {
    ($tx:expr, $j:expr) => {
        sqlx::query(
            "INSERT INTO jobs (id, queue, kind, payload, priority, state, attempts, max_attempts, run_after, dedup_key, \
             project_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT DO NOTHING",
        )
        .bind($j.id.0)
        .bind(&$j.queue)
        .bind(&$j.kind)
        .bind(sqlx::types::Json(&$j.payload))
        .bind($j.priority)
        .bind($j.max_attempts)
        .bind($j.run_after)
        .bind(&$j.dedup_key)
        .bind($j.project_id.map(|i| i.0))
        .bind($j.created_by.map(|i| i.0))
        .bind($j.created_at)
        .execute(&mut *$tx)
        .await
        .map_err($crate::db_err)?
        .rows_affected()
    };
}

/// Runs `$body` in one write transaction with `$tx` bound to it, writes the journal in the
/// same transaction and commits. An early `return Err(..)` in the body rolls everything back.
macro_rules! transaction {
    ($db:expr, $journal:expr, |$tx:ident| $body:block) => {
        $crate::write!($db, |p| {
            let mut $tx = p.begin().await.map_err($crate::db_err)?;
            #[allow(clippy::let_unit_value)]
            let out = $body;
            $crate::write_journal!($tx, $journal);
            $tx.commit().await.map_err($crate::db_err)?;
            $crate::jobs::after_commit($db, $journal);
            Ok(out)
        })
    };
}

pub(crate) use {insert_job, read, transaction, write, write_journal};

/// Maps a driver error to the port's error: uniqueness and foreign-key refusals become
/// `Conflict` naming the constraint; everything else is a backend failure.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() => {
            StoreError::Conflict(
                d.constraint()
                    .map_or_else(|| d.message().to_owned(), str::to_owned),
            )
        }
        _ => StoreError::Backend(Box::new(e)),
    }
}

/// How to reach the database.
#[derive(Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_connections: u32,
    /// PostgreSQL only: the schema to work in (tests use one schema per test).
    pub pg_schema: Option<String>,
}

impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("pg_schema", &self.pg_schema)
            .finish()
    }
}

/// The URL with any password replaced, for logs and messages.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("********"));
            u.to_string()
        }
        _ => raw.to_owned(),
    }
}

impl Db {
    pub async fn connect(opts: &DbOptions) -> anyhow::Result<Self> {
        let url = opts.url.trim();
        if url.starts_with("sqlite:") {
            let base = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("temp_store", "memory")
                .pragma("cache_size", "-32000");
            // The writer first: it creates the file and switches it to WAL.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(base.clone())
                .await?;
            // Readers get a smaller page cache than the writer: there are up to
            // `max_connections` of them (16 by default), the operating system caches the
            // file for all of them anyway, and 32 MB each let a busy server hold 0.5 GB.
            let read = SqlitePoolOptions::new()
                .max_connections(opts.max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(base.read_only(true).pragma("cache_size", "-8000"))
                .await?;
            Ok(Db::Sqlite {
                read,
                write,
                wake: Default::default(),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut o = PgConnectOptions::from_str(url)?.application_name("opensesa");
            if let Some(schema) = &opts.pg_schema {
                o = o.options([("search_path", schema.as_str())]);
            }
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(2))
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(o)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            anyhow::bail!("unsupported database URL scheme (expected sqlite: or postgres:)")
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite { .. })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}
