//! Whole-project reads on SQLite as one JSON document.
//!
//! sqlx hands SQLite rows to the async side one at a time from the connection's worker
//! thread, some 4–5 µs a row: reading a project's 215,000 links took 1.0 s where SQLite
//! itself needs a fifth of that (docs/benchmarks.md, "V&V at scale"). The reads that take
//! every row of a large project (coverage and the RVTM, the case index) therefore ask SQLite
//! for one JSON array of row arrays, built in C by `json_array` and an ordered
//! `group_concat`, and decode it with serde. PostgreSQL's driver reads rows without that cost
//! and keeps plain queries.

use crate::db_err;
use opensesa_app::ports::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use sqlx::SqlitePool;
use uuid::Uuid;

/// The rows of `SELECT {cols} FROM {from} ORDER BY {order}`, `from` taking one bound
/// parameter `$1` (the project). `cols` are SQL expressions giving JSON-ready values: UUID
/// columns as `hex(c)` (serde reads the 32 hex digits), nullable ones as
/// `nullif(hex(c), '')`; `T` is a tuple in the same order. All three are fixed SQL of the
/// caller, never input.
pub(crate) async fn json_rows<T: DeserializeOwned>(
    pool: &SqlitePool,
    cols: &str,
    from: &str,
    order: &str,
    project: Uuid,
) -> StoreResult<Vec<T>> {
    let sql = format!(
        "SELECT '[' || COALESCE(group_concat(json_array({cols}), ',' ORDER BY {order}), '') || ']' FROM {from}"
    );
    let (text,): (String,) = sqlx::query_as(&sql)
        .bind(project)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Backend(format!("packed rows of {from}: {e}").into()))
}
