//! Schema migrations: forward-only, one folder per backend with the same versions, each
//! applied in its own transaction and recorded with a checksum. A database that has applied
//! a version this binary does not know is refused (it was migrated by a newer binary).

use crate::{db_err, read, write, Db};
use chrono::Utc;
use opensesa_app::ports::{SchemaStatus, StoreError, StoreResult};
use sha2::{Digest, Sha256};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    pub fn sql(&self, db: &Db) -> &'static str {
        if db.is_sqlite() {
            self.sqlite
        } else {
            self.postgres
        }
    }

    pub fn checksum(&self, db: &Db) -> String {
        Sha256::digest(self.sql(db).as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The file name both folders use for this migration.
    pub fn file_name(&self) -> String {
        format!("{:04}_{}.sql", self.version, self.name)
    }
}

/// `migration!(1, "0001", "foundation")` embeds `migrations/{sqlite,postgres}/0001_foundation.sql`.
macro_rules! migration {
    ($version:expr, $prefix:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!(
                "../migrations/sqlite/",
                $prefix,
                "_",
                $name,
                ".sql"
            )),
            postgres: include_str!(concat!(
                "../migrations/postgres/",
                $prefix,
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

/// Every migration this binary knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001", "foundation"),
    migration!(2, "0002", "jobs"),
    migration!(3, "0003", "requirements"),
    migration!(4, "0004", "vv"),
    migration!(5, "0005", "baselines"),
    migration!(6, "0006", "operations"),
    migration!(7, "0007", "working_groups"),
    migration!(8, "0008", "fact_versions"),
];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS opensesa_migrations (\
    version BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

async fn table_exists(db: &Db) -> StoreResult<bool> {
    let n: i64 = match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'opensesa_migrations'",
        )
        .fetch_one(read)
        .await
        .map_err(db_err)?,
        Db::Postgres(p) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'opensesa_migrations' AND schemaname = current_schema()",
        )
        .fetch_one(p)
        .await
        .map_err(db_err)?,
    };
    Ok(n > 0)
}

/// An applied migration as recorded in the database.
#[derive(Debug, Clone)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: String,
}

pub async fn applied(db: &Db) -> StoreResult<Vec<Applied>> {
    if !table_exists(db).await? {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, String, String, String)> = read!(db, |p| sqlx::query_as(
        "SELECT version, name, checksum, applied_at FROM opensesa_migrations ORDER BY version"
    )
    .fetch_all(p)
    .await
    .map_err(db_err))?;
    Ok(rows
        .into_iter()
        .map(|(version, name, checksum, applied_at)| Applied {
            version,
            name,
            checksum,
            applied_at,
        })
        .collect())
}

pub async fn status(db: &Db) -> StoreResult<SchemaStatus> {
    let applied: Vec<i64> = applied(db).await?.into_iter().map(|a| a.version).collect();
    let pending = MIGRATIONS
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    let unknown = applied
        .iter()
        .copied()
        .filter(|v| !MIGRATIONS.iter().any(|m| m.version == *v))
        .collect();
    Ok(SchemaStatus {
        applied,
        pending,
        unknown,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database schema has migrations {0:?} that this binary (up to {1}) does not know: it was migrated by a newer \
         OpenSESA. Run that version, or restore the backup taken before it migrated."
    )]
    DatabaseNewer(Vec<i64>, i64),
    #[error("migration {version} ({name}) failed and was rolled back; the schema is as it was. Cause: {cause}")]
    Failed {
        version: i64,
        name: String,
        cause: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies every pending migration in order; returns the versions applied.
pub async fn run(db: &Db) -> Result<Vec<i64>, MigrateError> {
    run_list(db, MIGRATIONS).await
}

/// Applies `list` (tests pass a list with a deliberately broken migration).
pub async fn run_list(db: &Db, list: &[Migration]) -> Result<Vec<i64>, MigrateError> {
    write!(db, |p| sqlx::query(CREATE_TABLE)
        .execute(p)
        .await
        .map(|_| ())
        .map_err(db_err))?;
    let st = status(db).await?;
    let known_max = list.last().map_or(0, |m| m.version);
    let unknown: Vec<i64> = st
        .applied
        .iter()
        .copied()
        .filter(|v| !list.iter().any(|m| m.version == *v))
        .collect();
    if !unknown.is_empty() {
        return Err(MigrateError::DatabaseNewer(unknown, known_max));
    }
    let mut done = Vec::new();
    for m in list.iter().filter(|m| !st.applied.contains(&m.version)) {
        let failed = |e: sqlx::Error| MigrateError::Failed {
            version: m.version,
            name: m.name.to_owned(),
            cause: e.to_string(),
        };
        let applied_at = Utc::now().to_rfc3339();
        let checksum = m.checksum(db);
        let sql = m.sql(db);
        let newly = write!(db, |p| {
            let mut tx = p.begin().await.map_err(failed)?;
            if !db.is_sqlite() {
                // Serialise concurrent `migrate` runs, and do not wait forever on a busy table.
                sqlx::query("SELECT pg_advisory_xact_lock(7305420001)")
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
                sqlx::query("SET LOCAL lock_timeout = '10s'")
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
            }
            let already: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM opensesa_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(failed)?;
            if already > 0 {
                false
            } else {
                sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(failed)?;
                sqlx::query("INSERT INTO opensesa_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(&checksum)
                    .bind(&applied_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
                tx.commit().await.map_err(failed)?;
                true
            }
        });
        if newly {
            tracing::info!(version = m.version, name = m.name, "migration applied");
            done.push(m.version);
        }
    }
    Ok(done)
}

/// Applied migrations whose recorded checksum differs from the binary's SQL (edited after
/// release, which forward-only migrations forbid).
pub async fn checksum_mismatches(db: &Db) -> StoreResult<Vec<i64>> {
    let applied = applied(db).await?;
    Ok(MIGRATIONS
        .iter()
        .filter(|m| {
            applied
                .iter()
                .any(|a| a.version == m.version && a.checksum != m.checksum(db))
        })
        .map(|m| m.version)
        .collect())
}
