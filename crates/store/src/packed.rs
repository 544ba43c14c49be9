//! Whole-project reads on SQLite as one JSON document.
//!
//! sqlx hands SQLite rows to the async side one at a time from the connection's worker
//! thread, some 4–5 µs a row: reading a project's 215,000 links took 1.0 s where SQLite
//! itself needs a fifth of that (docs/benchmarks.md, "V&V at scale"). The reads that take
//! every row of a large project (coverage and the RVTM, the case index) therefore ask SQLite
//! for JSON arrays of row arrays (a few thousand rows each), built in C by `json_array` and an
//! ordered `group_concat`, and decode them with serde. PostgreSQL's driver reads rows without that cost
//! and keeps plain queries.

use crate::db_err;
use opensesa_app::ports::{StoreError, StoreResult};
use serde::de::DeserializeOwned;
use sqlx::SqlitePool;
use uuid::Uuid;

/// Rows per JSON document at most (rowids per bucket, 2^11): small enough that no buffer on
/// either side grows past a few hundred kilobytes (one document of a whole project's 215,000
/// links was 25 MB, and the C allocator of SQLite's reader threads kept such buffers, so each
/// whole-project read grew the server by tens of megabytes), large enough that the per-row
/// cost is paid some 50 times rather than 100,000.
const BUCKET_BITS: u32 = 11;

/// The rows of `SELECT {cols} FROM {from}` in no particular order (the caller sorts when it
/// matters), `from` taking one bound parameter `$1` (the project) and `rowid` naming the
/// rowid of its main table (rows are grouped into documents by rowid ranges, which costs no
/// sort in SQLite). `cols` are SQL expressions giving JSON-ready values: UUID columns as
/// `hex(c)` (serde reads the 32 hex digits), nullable ones as `nullif(hex(c), '')`; `T` is a
/// tuple in the same order. All are fixed SQL of the caller, never input.
pub(crate) async fn json_rows<T: DeserializeOwned>(
    pool: &SqlitePool,
    cols: &str,
    from: &str,
    rowid: &str,
    project: Uuid,
) -> StoreResult<Vec<T>> {
    let sql = format!(
        "SELECT '[' || group_concat(json_array({cols}), ',') || ']' FROM {from} \
         GROUP BY {rowid} >> {BUCKET_BITS}"
    );
    let documents: Vec<(String,)> = sqlx::query_as(&sql)
        .bind(project)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let mut rows = Vec::with_capacity(documents.len() << BUCKET_BITS);
    for (text,) in documents {
        let part: Vec<T> = serde_json::from_str(&text)
            .map_err(|e| StoreError::Backend(format!("packed rows of {from}: {e}").into()))?;
        rows.extend(part);
    }
    Ok(rows)
}
