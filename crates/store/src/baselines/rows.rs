//! Row types of the baseline tables and their conversion to domain records.

use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::ports::{StoreError, StoreResult};
use opensesa_domain::baselines::{
    ActionStatus, AdoptionAction, Baseline, BaselineScope, BaselineStatus, Decision, DecisionKind,
    Frozen, PackDocument, PackStatus, ReleasePack,
};
use opensesa_domain::ids::*;
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

fn corrupt(what: &str, e: String) -> StoreError {
    StoreError::Backend(format!("stored {what} is not valid: {e}").into())
}

pub const BASELINE_COLS: &str = "id, project_id, human_id, name, description, scope, status, \
     content_hash, items, counts, frozen_by, frozen_at, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct BaselineRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    name: String,
    description: String,
    scope: Json<BaselineScope>,
    status: String,
    content_hash: Option<String>,
    items: Option<i64>,
    counts: Option<Json<BTreeMap<String, i64>>>,
    frozen_by: Option<Uuid>,
    frozen_at: Option<DateTime<Utc>>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<BaselineRow> for Baseline {
    type Error = StoreError;
    fn try_from(r: BaselineRow) -> StoreResult<Self> {
        let status = BaselineStatus::parse(&r.status).map_err(|e| corrupt("baseline status", e))?;
        let frozen = match (status, r.content_hash, r.frozen_at) {
            (BaselineStatus::Frozen, Some(content_hash), Some(frozen_at)) => Some(Frozen {
                content_hash,
                items: r.items.unwrap_or(0),
                counts: r.counts.map(|c| c.0).unwrap_or_default(),
                frozen_by: r.frozen_by.map(UserId),
                frozen_at,
            }),
            (BaselineStatus::Frozen, _, _) => {
                return Err(corrupt(
                    "baseline",
                    format!("{} is frozen without a content hash", r.human_id),
                ))
            }
            _ => None,
        };
        Ok(Baseline {
            id: BaselineId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            name: r.name,
            description: r.description,
            scope: r.scope.0,
            status,
            frozen,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const PACK_COLS: &str = "id, project_id, human_id, baseline_id, name, notes, documents, \
     status, revision, locked_by, locked_at, lock_override, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct PackRow {
    id: Uuid,
    project_id: Uuid,
    human_id: String,
    baseline_id: Uuid,
    name: String,
    notes: String,
    documents: Json<Vec<PackDocument>>,
    status: String,
    revision: i64,
    locked_by: Option<Uuid>,
    locked_at: Option<DateTime<Utc>>,
    lock_override: Option<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PackRow> for ReleasePack {
    type Error = StoreError;
    fn try_from(r: PackRow) -> StoreResult<Self> {
        Ok(ReleasePack {
            id: PackId(r.id),
            project_id: ProjectId(r.project_id),
            human_id: r.human_id,
            baseline_id: BaselineId(r.baseline_id),
            name: r.name,
            notes: r.notes,
            documents: r.documents.0,
            status: PackStatus::parse(&r.status).map_err(|e| corrupt("pack status", e))?,
            revision: r.revision,
            locked_by: r.locked_by.map(UserId),
            locked_at: r.locked_at,
            lock_override: r.lock_override,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const ACTION_COLS: &str = "id, project_id, pack_id, human_id, title, owner, due, status, \
     revision, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct ActionRow {
    id: Uuid,
    project_id: Uuid,
    pack_id: Uuid,
    human_id: String,
    title: String,
    owner: String,
    due: Option<NaiveDate>,
    status: String,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ActionRow> for AdoptionAction {
    type Error = StoreError;
    fn try_from(r: ActionRow) -> StoreResult<Self> {
        Ok(AdoptionAction {
            id: ActionId(r.id),
            project_id: ProjectId(r.project_id),
            pack_id: PackId(r.pack_id),
            human_id: r.human_id,
            title: r.title,
            owner: r.owner,
            due: r.due,
            status: ActionStatus::parse(&r.status).map_err(|e| corrupt("action status", e))?,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const DECISION_COLS: &str = "id, project_id, pack_id, decision, rationale, conditions, \
     checklist_passed, decided_by, decided_by_name, decided_at";

#[derive(sqlx::FromRow)]
pub struct DecisionRow {
    id: Uuid,
    project_id: Uuid,
    pack_id: Uuid,
    decision: String,
    rationale: String,
    conditions: String,
    checklist_passed: bool,
    decided_by: Option<Uuid>,
    decided_by_name: String,
    decided_at: DateTime<Utc>,
}

impl TryFrom<DecisionRow> for Decision {
    type Error = StoreError;
    fn try_from(r: DecisionRow) -> StoreResult<Self> {
        Ok(Decision {
            id: DecisionId(r.id),
            project_id: ProjectId(r.project_id),
            pack_id: PackId(r.pack_id),
            kind: DecisionKind::parse(&r.decision).map_err(|e| corrupt("decision", e))?,
            rationale: r.rationale,
            conditions: r.conditions,
            checklist_passed: r.checklist_passed,
            decided_by: r.decided_by.map(UserId),
            decided_by_name: r.decided_by_name,
            decided_at: r.decided_at,
        })
    }
}
