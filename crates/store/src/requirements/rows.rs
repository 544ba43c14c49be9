//! Row types of the requirements tables and their conversion to domain records.

use chrono::{DateTime, Utc};
use opensesa_app::ports::{Comment, ReviewRound, StoreError};
use opensesa_domain::ids::*;
use opensesa_domain::requirements::links::SuspectReason;
use opensesa_domain::requirements::{
    AttributeDef, LinkKind, Module, Priority, ReqKind, ReqStatus, Requirement, TraceLink,
    VerificationMethod,
};
use serde_json::Value;
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} {value:?} is not valid").into())
}

pub const MODULE_COLS: &str =
    "id, project_id, parent_id, prefix, name, description, ordinal, attributes, revision, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct ModuleRow {
    id: Uuid,
    project_id: Uuid,
    parent_id: Option<Uuid>,
    prefix: String,
    name: String,
    description: String,
    ordinal: i64,
    attributes: Json<Vec<AttributeDef>>,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ModuleRow> for Module {
    fn from(r: ModuleRow) -> Self {
        Module {
            id: ModuleId(r.id),
            project_id: ProjectId(r.project_id),
            parent_id: r.parent_id.map(ModuleId),
            prefix: r.prefix,
            name: r.name,
            description: r.description,
            ordinal: r.ordinal,
            attributes: r.attributes.0,
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub const REQ_COLS: &str = "id, project_id, module_id, human_id, title, statement, statement_xhtml, rationale, kind, priority, \
     verification_methods, source, owner, tags, attributes, parent_id, ordinal, status, revision, approved_revision, \
     external_id, created_at, updated_at";

/// `REQ_COLS` qualified with a table alias.
pub fn req_cols(alias: &str) -> String {
    REQ_COLS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
pub struct RequirementRow {
    id: Uuid,
    project_id: Uuid,
    module_id: Uuid,
    human_id: String,
    title: String,
    statement: String,
    statement_xhtml: Option<String>,
    rationale: String,
    kind: String,
    priority: String,
    verification_methods: Json<Vec<String>>,
    source: String,
    owner: String,
    tags: Json<Vec<String>>,
    attributes: Json<BTreeMap<String, Value>>,
    parent_id: Option<Uuid>,
    ordinal: i64,
    status: String,
    revision: i64,
    approved_revision: Option<i64>,
    external_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RequirementRow> for Requirement {
    type Error = StoreError;
    fn try_from(r: RequirementRow) -> Result<Self, StoreError> {
        let methods = r
            .verification_methods
            .0
            .iter()
            .map(|m| VerificationMethod::parse(m).map_err(|_| corrupt("verification method", m)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Requirement {
            id: RequirementId(r.id),
            project_id: ProjectId(r.project_id),
            module_id: ModuleId(r.module_id),
            kind: ReqKind::parse(&r.kind).map_err(|_| corrupt("requirement kind", &r.kind))?,
            priority: Priority::parse(&r.priority).map_err(|_| corrupt("priority", &r.priority))?,
            status: ReqStatus::parse(&r.status).map_err(|_| corrupt("status", &r.status))?,
            human_id: r.human_id,
            title: r.title,
            statement: r.statement,
            statement_xhtml: r.statement_xhtml,
            rationale: r.rationale,
            verification_methods: methods,
            source: r.source,
            owner: r.owner,
            tags: r.tags.0,
            attributes: r.attributes.0,
            parent_id: r.parent_id.map(RequirementId),
            ordinal: r.ordinal,
            revision: r.revision,
            approved_revision: r.approved_revision,
            external_id: r.external_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const LINK_COLS: &str = "id, project_id, kind, source_type, source_id, target_type, target_id, source_revision, \
     target_revision, suspect, suspect_reasons, created_by, created_at, confirmed_at, confirmed_by, external_id";

pub fn link_cols(alias: &str) -> String {
    LINK_COLS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(sqlx::FromRow)]
pub struct LinkRow {
    id: Uuid,
    project_id: Uuid,
    kind: String,
    source_type: String,
    source_id: Uuid,
    target_type: String,
    target_id: Uuid,
    source_revision: i64,
    target_revision: i64,
    suspect: bool,
    suspect_reasons: Json<Vec<SuspectReason>>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    confirmed_at: DateTime<Utc>,
    confirmed_by: Option<Uuid>,
    external_id: Option<String>,
}

impl TryFrom<LinkRow> for TraceLink {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> Result<Self, StoreError> {
        Ok(TraceLink {
            id: LinkId(r.id),
            project_id: ProjectId(r.project_id),
            kind: LinkKind::parse(&r.kind).map_err(|_| corrupt("link kind", &r.kind))?,
            source_type: r.source_type,
            source_id: r.source_id,
            target_type: r.target_type,
            target_id: r.target_id,
            source_revision: r.source_revision,
            target_revision: r.target_revision,
            suspect: r.suspect,
            suspect_reasons: r.suspect_reasons.0,
            created_by: r.created_by.map(UserId),
            created_at: r.created_at,
            confirmed_at: r.confirmed_at,
            confirmed_by: r.confirmed_by.map(UserId),
            external_id: r.external_id,
        })
    }
}

pub const COMMENT_COLS: &str =
    "id, requirement_id, thread_id, author_id, author, body, revision, resolved_at, resolved_by, created_at";

#[derive(sqlx::FromRow)]
pub struct CommentRow {
    id: Uuid,
    requirement_id: Uuid,
    thread_id: Option<Uuid>,
    author_id: Option<Uuid>,
    author: String,
    body: String,
    revision: i64,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<CommentRow> for Comment {
    fn from(r: CommentRow) -> Self {
        Comment {
            id: CommentId(r.id),
            requirement_id: RequirementId(r.requirement_id),
            thread_id: r.thread_id.map(CommentId),
            author_id: r.author_id.map(UserId),
            author: r.author,
            body: r.body,
            revision: r.revision,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
            created_at: r.created_at,
        }
    }
}

pub const ROUND_COLS: &str =
    "id, project_id, title, status, opened_by, opened_at, closed_by, closed_at, summary";

#[derive(sqlx::FromRow)]
pub struct RoundRow {
    id: Uuid,
    project_id: Uuid,
    title: String,
    status: String,
    opened_by: String,
    opened_at: DateTime<Utc>,
    closed_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    summary: String,
}

impl From<RoundRow> for ReviewRound {
    fn from(r: RoundRow) -> Self {
        ReviewRound {
            id: ReviewRoundId(r.id),
            project_id: ProjectId(r.project_id),
            title: r.title,
            status: r.status,
            opened_by: r.opened_by,
            opened_at: r.opened_at,
            closed_by: r.closed_by,
            closed_at: r.closed_at,
            summary: r.summary,
        }
    }
}
