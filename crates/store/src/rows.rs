//! Row types as both drivers decode them, and their conversion to domain records.

use chrono::{DateTime, NaiveDate, Utc};
use opensesa_app::ports::StoreError;
use opensesa_domain::access::Role;
use opensesa_domain::accounts::model::{ApiToken, Session, SessionStage, User};
use opensesa_domain::accounts::Email;
use opensesa_domain::audit::{Action, AuditEvent, FieldChange};
use opensesa_domain::ids::*;
use opensesa_domain::portfolio::{
    Membership, Organisation, Phase, Program, Project, ProjectStatus,
};
use opensesa_domain::revision::Revision;
use sqlx::types::Json;
use uuid::Uuid;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} {value:?} is not valid").into())
}

pub const USER_COLS: &str = "id, email, display_name, password_hash, is_admin, is_active, totp_secret, totp_enabled_at, totp_last_step, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    password_hash: String,
    is_admin: bool,
    is_active: bool,
    totp_secret: Option<String>,
    totp_enabled_at: Option<DateTime<Utc>>,
    totp_last_step: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            email: Email::from_stored(r.email),
            display_name: r.display_name,
            password_hash: r.password_hash,
            is_admin: r.is_admin,
            is_active: r.is_active,
            totp_secret: r.totp_secret,
            totp_enabled_at: r.totp_enabled_at,
            totp_last_step: r.totp_last_step,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub const SESSION_COLS: &str = "id_hash, user_id, stage, csrf_token, project_id, ip, user_agent, created_at, last_seen_at, expires_at";

#[derive(sqlx::FromRow)]
pub struct SessionRow {
    id_hash: String,
    user_id: Uuid,
    stage: String,
    csrf_token: String,
    project_id: Option<Uuid>,
    ip: String,
    user_agent: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            stage: SessionStage::parse(&r.stage)
                .ok_or_else(|| corrupt("session stage", &r.stage))?,
            id_hash: r.id_hash,
            user_id: UserId(r.user_id),
            csrf_token: r.csrf_token,
            project_id: r.project_id.map(ProjectId),
            ip: r.ip,
            user_agent: r.user_agent,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        })
    }
}

pub const TOKEN_COLS: &str =
    "id, user_id, name, prefix, token_hash, created_at, last_used_at, revoked_at";

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    prefix: String,
    token_hash: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: TokenId(r.id),
            user_id: UserId(r.user_id),
            name: r.name,
            prefix: r.prefix,
            token_hash: r.token_hash,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

pub const PROGRAM_COLS: &str = "id, code, name, description, created_at";

#[derive(sqlx::FromRow)]
pub struct ProgramRow {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl From<ProgramRow> for Program {
    fn from(r: ProgramRow) -> Self {
        Program {
            id: ProgramId(r.id),
            code: r.code,
            name: r.name,
            description: r.description,
            created_at: r.created_at,
        }
    }
}

pub const PROJECT_COLS: &str =
    "id, code, name, description, program_id, status, revision, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct ProjectRow {
    id: Uuid,
    code: String,
    name: String,
    description: String,
    program_id: Option<Uuid>,
    status: String,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            status: ProjectStatus::parse(&r.status)
                .map_err(|_| corrupt("project status", &r.status))?,
            id: ProjectId(r.id),
            code: r.code,
            name: r.name,
            description: r.description,
            program_id: r.program_id.map(ProgramId),
            revision: r.revision,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub const PHASE_COLS: &str = "id, project_id, ordinal, name, starts_on, ends_on, revision";

#[derive(sqlx::FromRow)]
pub struct PhaseRow {
    id: Uuid,
    project_id: Uuid,
    ordinal: i64,
    name: String,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    revision: i64,
}

impl From<PhaseRow> for Phase {
    fn from(r: PhaseRow) -> Self {
        Phase {
            id: PhaseId(r.id),
            project_id: ProjectId(r.project_id),
            ordinal: r.ordinal,
            name: r.name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            revision: r.revision,
        }
    }
}

pub const ORG_COLS: &str = "id, code, name, created_at";

#[derive(sqlx::FromRow)]
pub struct OrgRow {
    id: Uuid,
    code: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<OrgRow> for Organisation {
    fn from(r: OrgRow) -> Self {
        Organisation {
            id: OrganisationId(r.id),
            code: r.code,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

pub const MEMBERSHIP_COLS: &str = "project_id, user_id, role, organisation_id, created_at";

#[derive(sqlx::FromRow)]
pub struct MembershipRow {
    project_id: Uuid,
    user_id: Uuid,
    role: String,
    organisation_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership {
            role: Role::parse(&r.role).map_err(|_| corrupt("role", &r.role))?,
            project_id: ProjectId(r.project_id),
            user_id: UserId(r.user_id),
            organisation_id: r.organisation_id.map(OrganisationId),
            created_at: r.created_at,
        })
    }
}

pub const EVENT_COLS: &str =
    "id, at, actor_id, actor, project_id, artefact_type, artefact_id, action, changes, reason";

#[derive(sqlx::FromRow)]
pub struct EventRow {
    id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor: String,
    project_id: Option<Uuid>,
    artefact_type: String,
    artefact_id: String,
    action: String,
    changes: Json<Vec<FieldChange>>,
    reason: Option<String>,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(AuditEvent {
            action: Action::parse(&r.action).ok_or_else(|| corrupt("audit action", &r.action))?,
            id: EventId(r.id),
            at: r.at,
            actor_id: r.actor_id.map(UserId),
            actor: r.actor,
            project_id: r.project_id.map(ProjectId),
            artefact_type: r.artefact_type,
            artefact_id: r.artefact_id,
            changes: r.changes.0,
            reason: r.reason,
        })
    }
}

pub const REVISION_COLS: &str =
    "id, artefact_type, artefact_id, number, data, content_hash, author_id, at";

#[derive(sqlx::FromRow)]
pub struct RevisionRow {
    id: Uuid,
    artefact_type: String,
    artefact_id: String,
    number: i64,
    data: Json<serde_json::Value>,
    content_hash: String,
    author_id: Option<Uuid>,
    at: DateTime<Utc>,
}

impl From<RevisionRow> for Revision {
    fn from(r: RevisionRow) -> Self {
        Revision {
            id: RevisionId(r.id),
            artefact_type: r.artefact_type,
            artefact_id: r.artefact_id,
            number: r.number,
            data: r.data.0,
            content_hash: r.content_hash,
            author_id: r.author_id.map(UserId),
            at: r.at,
        }
    }
}

/// Converts a list of rows that may fail to convert.
pub fn convert<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

/// A session joined with its user; session columns carry an `s_` prefix.
#[derive(sqlx::FromRow)]
pub struct SessionUserRow {
    s_id_hash: String,
    s_stage: String,
    s_csrf_token: String,
    s_project_id: Option<Uuid>,
    s_ip: String,
    s_user_agent: String,
    s_created_at: DateTime<Utc>,
    s_last_seen_at: DateTime<Utc>,
    s_expires_at: DateTime<Utc>,
    #[sqlx(flatten)]
    user: UserRow,
}

impl SessionUserRow {
    pub fn split(self) -> Result<(Session, User), StoreError> {
        let user = User::from(self.user);
        let session = Session {
            stage: SessionStage::parse(&self.s_stage)
                .ok_or_else(|| corrupt("session stage", &self.s_stage))?,
            id_hash: self.s_id_hash,
            user_id: user.id,
            csrf_token: self.s_csrf_token,
            project_id: self.s_project_id.map(ProjectId),
            ip: self.s_ip,
            user_agent: self.s_user_agent,
            created_at: self.s_created_at,
            last_seen_at: self.s_last_seen_at,
            expires_at: self.s_expires_at,
        };
        Ok((session, user))
    }
}

/// A membership joined with its user and organisation.
#[derive(sqlx::FromRow)]
pub struct MemberJoinRow {
    #[sqlx(flatten)]
    user: UserRow,
    m_project_id: Uuid,
    m_role: String,
    m_organisation_id: Option<Uuid>,
    m_created_at: DateTime<Utc>,
    o_code: Option<String>,
    o_name: Option<String>,
    o_created_at: Option<DateTime<Utc>>,
}

impl TryFrom<MemberJoinRow> for opensesa_app::ports::MemberRow {
    type Error = StoreError;
    fn try_from(r: MemberJoinRow) -> Result<Self, StoreError> {
        let user = User::from(r.user);
        let organisation = match (r.m_organisation_id, r.o_code, r.o_name, r.o_created_at) {
            (Some(id), Some(code), Some(name), Some(created_at)) => Some(Organisation {
                id: OrganisationId(id),
                code,
                name,
                created_at,
            }),
            _ => None,
        };
        Ok(Self {
            membership: Membership {
                role: Role::parse(&r.m_role).map_err(|_| corrupt("role", &r.m_role))?,
                project_id: ProjectId(r.m_project_id),
                user_id: user.id,
                organisation_id: r.m_organisation_id.map(OrganisationId),
                created_at: r.m_created_at,
            },
            user,
            organisation,
        })
    }
}
