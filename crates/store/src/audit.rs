//! The audit trail and revisions (append-only; triggers refuse updates and deletes).

use crate::rows::*;
use crate::{db_err, read, transaction, Db};
use async_trait::async_trait;
use opensesa_app::ports::{AuditQuery, AuditStore, Journal, StoreResult};
use opensesa_domain::audit::AuditEvent;
use opensesa_domain::revision::Revision;

/// One WHERE clause for listing and counting, so both always agree.
const FILTER: &str = "($1 IS NULL OR project_id = $1) \
    AND ($2 IS NULL OR LOWER(actor) LIKE $2) \
    AND ($3 IS NULL OR action = $3) \
    AND ($4 IS NULL OR artefact_type = $4) \
    AND ($5 IS NULL OR at >= $5) \
    AND ($6 IS NULL OR at < $6) \
    AND ($7 IS NULL OR artefact_id = $7)";

fn actor_pattern(q: &AuditQuery) -> Option<String> {
    q.actor.as_ref().map(|a| {
        let escaped: String = a
            .to_lowercase()
            .chars()
            .filter(|c| *c != '%' && *c != '_')
            .collect();
        format!("%{escaped}%")
    })
}

#[async_trait]
impl AuditStore for Db {
    async fn append_journal(&self, journal: &Journal) -> StoreResult<()> {
        transaction!(self, journal, |tx| {})
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        if let (Some(kind), Some(id)) = (&q.artefact_type, &q.artefact_id) {
            // One artefact's trail: a plain query the (artefact_type, artefact_id) index
            // answers; the generic filter's "IS NULL OR" terms would scan the whole table.
            let sql = format!(
                "SELECT {EVENT_COLS} FROM audit_events WHERE artefact_type = $1 AND artefact_id = $2 \
                 ORDER BY at DESC, id DESC LIMIT $3 OFFSET $4"
            );
            let rows: Vec<EventRow> = read!(self, |p| sqlx::query_as(&sql)
                .bind(kind)
                .bind(id)
                .bind(q.limit)
                .bind(q.offset)
                .fetch_all(p)
                .await
                .map_err(db_err))?;
            return convert(rows);
        }
        let sql = format!("SELECT {EVENT_COLS} FROM audit_events WHERE {FILTER} ORDER BY at DESC, id DESC LIMIT $8 OFFSET $9");
        let actor = actor_pattern(q);
        let rows: Vec<EventRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(q.project_id.map(|i| i.0))
            .bind(&actor)
            .bind(q.action.map(|a| a.as_str()))
            .bind(&q.artefact_type)
            .bind(q.from)
            .bind(q.to)
            .bind(&q.artefact_id)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        convert(rows)
    }

    async fn count_audit(&self, q: &AuditQuery) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM audit_events WHERE {FILTER}");
        let actor = actor_pattern(q);
        read!(self, |p| sqlx::query_scalar(&sql)
            .bind(q.project_id.map(|i| i.0))
            .bind(&actor)
            .bind(q.action.map(|a| a.as_str()))
            .bind(&q.artefact_type)
            .bind(q.from)
            .bind(q.to)
            .bind(&q.artefact_id)
            .fetch_one(p)
            .await
            .map_err(db_err))
    }

    async fn list_revisions(
        &self,
        artefact_type: &str,
        artefact_id: &str,
    ) -> StoreResult<Vec<Revision>> {
        let sql = format!("SELECT {REVISION_COLS} FROM revisions WHERE artefact_type = $1 AND artefact_id = $2 ORDER BY number");
        let rows: Vec<RevisionRow> = read!(self, |p| sqlx::query_as(&sql)
            .bind(artefact_type)
            .bind(artefact_id)
            .fetch_all(p)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Revision::from).collect())
    }
}
