//! SQL text built at run time: the requirement table query (filters, sort, paging) and
//! full-text queries, which differ between SQLite (FTS5, JSON1) and PostgreSQL (tsvector,
//! JSONB). Only fixed fragments and `$n` placeholders enter the text; values are bound.

use super::rows::req_cols;
use opensesa_app::ports::{ReqQuery, SortDir};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub enum Bind {
    Uuid(Uuid),
    Text(String),
    Int(i64),
}

pub struct Built {
    pub select: String,
    pub binds: Vec<Bind>,
    pub count: String,
    pub count_binds: Vec<Bind>,
}

/// The columns a table may be sorted by, and their SQL.
pub fn sort_expr(column: &str) -> Option<&'static str> {
    Some(match column {
        "id" | "human_id" => "m.prefix {dir}, r.number {dir}",
        "title" => "r.title {dir}",
        "status" => "r.status {dir}",
        "kind" | "type" => "r.kind {dir}",
        "priority" => {
            "CASE r.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END {dir}"
        }
        "owner" => "r.owner {dir}",
        "updated" | "updated_at" => "r.updated_at {dir}",
        "revision" => "r.revision {dir}",
        "order" | "ordinal" => "m.ordinal {dir}, m.prefix {dir}, r.ordinal {dir}",
        _ => return None,
    })
}

pub fn list_query(q: &ReqQuery, postgres: bool) -> Built {
    let next = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let mut binds = Vec::new();
    let mut cond = Vec::new();
    // A module belongs to one project (the caller checked which): filtering by the module
    // alone lets SQLite's planner pick the module index instead of scanning the project.
    match q.module_id {
        Some(m) => {
            let p = next(&mut binds, Bind::Uuid(m.0));
            cond.push(format!("r.module_id = {p}"));
        }
        None => {
            let p = next(
                &mut binds,
                Bind::Uuid(q.project_id.map(|p| p.0).unwrap_or_default()),
            );
            cond.push(format!("r.project_id = {p}"));
        }
    }
    for (col, value) in [
        ("r.status", &q.status),
        ("r.kind", &q.kind),
        ("r.priority", &q.priority),
        ("r.owner", &q.owner),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            let p = next(&mut binds, Bind::Text(v.clone()));
            cond.push(format!("{col} = {p}"));
        }
    }
    if let Some(tag) = q.tag.as_ref().filter(|t| !t.is_empty()) {
        let p = next(&mut binds, Bind::Text(tag.clone()));
        cond.push(if postgres {
            format!("r.tags @> jsonb_build_array({p}::text)")
        } else {
            format!("EXISTS (SELECT 1 FROM json_each(r.tags) WHERE json_each.value = {p})")
        });
    }
    if let Some((name, value)) = &q.attribute {
        let pn = next(
            &mut binds,
            Bind::Text(if postgres {
                name.clone()
            } else {
                format!("$.\"{}\"", name.replace('"', ""))
            }),
        );
        let pv = next(&mut binds, Bind::Text(value.clone()));
        cond.push(if postgres {
            format!("r.attributes ->> {pn} = {pv}")
        } else {
            format!("CAST(json_extract(r.attributes, {pn}) AS TEXT) = {pv}")
        });
    }
    if let Some(text) = q.text.as_deref().and_then(|t| fts_query(t, postgres)) {
        let p = next(&mut binds, Bind::Text(text));
        cond.push(if postgres {
            format!("r.search @@ to_tsquery('english', {p})")
        } else {
            format!(
                "r.seq IN (SELECT rowid FROM requirements_fts WHERE requirements_fts MATCH {p})"
            )
        });
    }
    if q.only_suspect {
        cond.push(
            "(EXISTS (SELECT 1 FROM trace_links l WHERE l.source_id = r.id AND l.suspect) \
             OR EXISTS (SELECT 1 FROM trace_links l WHERE l.target_id = r.id AND l.suspect))"
                .to_owned(),
        );
    }
    let dir = match q.dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    };
    let order = q
        .sort
        .as_deref()
        .and_then(sort_expr)
        .unwrap_or("m.ordinal {dir}, m.prefix {dir}, r.ordinal {dir}")
        .replace("{dir}", dir);
    let where_ = cond.join(" AND ");
    // The filters name only `r.` columns, so the count needs no join.
    let count = format!("SELECT COUNT(*) FROM requirements r WHERE {where_}");
    let count_binds = binds.clone();
    let limit = next(&mut binds, Bind::Int(q.limit.clamp(1, 1000)));
    let offset = next(&mut binds, Bind::Int(q.offset.max(0)));
    let select = format!(
        "SELECT {cols}, m.prefix AS module_prefix, \
         (SELECT COUNT(*) FROM trace_links l WHERE l.source_id = r.id AND l.suspect) \
         + (SELECT COUNT(*) FROM trace_links l WHERE l.target_id = r.id AND l.suspect) AS suspect_links \
         FROM requirements r JOIN req_modules m ON m.id = r.module_id WHERE {where_} \
         ORDER BY {order}, r.id LIMIT {limit} OFFSET {offset}",
        cols = req_cols("r"),
    );
    Built {
        select,
        binds,
        count,
        count_binds,
    }
}

/// Turns what a person typed into a safe full-text query: words (letters and digits) only,
/// each a prefix match, all required. `None` when nothing searchable remains.
pub fn fts_query(text: &str, postgres: bool) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(if postgres {
        words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    } else {
        words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// `SYS-012` → (`SYS`, 12).
pub fn split_human_id(id: &str) -> Option<(&str, i64)> {
    let (prefix, digits) = id.rsplit_once('-')?;
    if prefix.is_empty() || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((prefix, digits.parse().ok()?))
}

/// Writes the status changes of a batch (no content change) inside a transaction: the
/// stored revision must still be the one read, or the whole transaction is refused.
macro_rules! set_statuses {
    ($tx:expr, $batch:expr) => {
        for w in &$batch.requirements {
            let done = sqlx::query(
                "UPDATE requirements SET status = $2, approved_revision = $3, updated_at = $4 \
                 WHERE id = $1 AND revision = $5",
            )
            .bind(w.req.id.0)
            .bind(w.req.status.as_str())
            .bind(w.req.approved_revision)
            .bind(w.req.updated_at)
            .bind(w.req.revision)
            .execute(&mut *$tx)
            .await
            .map_err($crate::db_err)?;
            if done.rows_affected() == 0 {
                return Err(opensesa_app::ports::StoreError::Conflict(format!(
                    "requirement {} was changed by someone else; reload and retry",
                    w.req.human_id
                )));
            }
        }
    };
}
pub(crate) use set_statuses;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_are_sanitised() {
        assert_eq!(
            fts_query("attitude \"OR\" NEAR(", false).as_deref(),
            Some("\"attitude\"* \"or\"* \"near\"*")
        );
        assert_eq!(fts_query("SYS-001", true).as_deref(), Some("sys:* & 001:*"));
        assert_eq!(fts_query("  -- ", true), None);
    }

    #[test]
    fn human_ids_split() {
        assert_eq!(split_human_id("SW-NAV-012"), Some(("SW-NAV", 12)));
        assert_eq!(split_human_id("SYS"), None);
        assert_eq!(split_human_id("SYS-1a"), None);
    }
}
