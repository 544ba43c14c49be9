//! Audit: building events for mutations and reading a project's trail.

use crate::error::AppResult;
use crate::ports::AuditQuery;
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::{diff, Action, AuditEvent, FieldChange};
use opensesa_domain::ids::{EventId, ProjectId, UserId};
use opensesa_domain::revision::Revision;
use serde_json::Value;

/// Builds one audit event; `changes` come from a before/after snapshot diff.
pub struct EventBuilder {
    event: AuditEvent,
}

impl EventBuilder {
    pub fn new(
        app: &App,
        actor: Option<(UserId, String)>,
        action: Action,
        artefact_type: &str,
        artefact_id: impl ToString,
    ) -> Self {
        let (actor_id, actor) =
            actor.map_or((None, "system".to_owned()), |(id, label)| (Some(id), label));
        Self {
            event: AuditEvent {
                id: EventId::new(),
                at: app.clock.now(),
                actor_id,
                actor,
                project_id: None,
                artefact_type: artefact_type.to_owned(),
                artefact_id: artefact_id.to_string(),
                action,
                changes: Vec::new(),
                reason: None,
            },
        }
    }

    pub fn by(
        app: &App,
        principal: &Principal,
        action: Action,
        artefact_type: &str,
        artefact_id: impl ToString,
    ) -> Self {
        Self::new(
            app,
            Some((principal.user.id, principal.label())),
            action,
            artefact_type,
            artefact_id,
        )
    }

    pub fn project(mut self, project: ProjectId) -> Self {
        self.event.project_id = Some(project);
        self
    }

    pub fn changes(mut self, before: &Value, after: &Value) -> Self {
        self.event.changes = diff(before, after);
        self
    }

    pub fn change(mut self, field: &str, before: Value, after: Value) -> Self {
        self.event.changes.push(FieldChange {
            field: field.into(),
            before,
            after,
        });
        self
    }

    pub fn reason(mut self, reason: Option<String>) -> Self {
        self.event.reason = reason.filter(|r| !r.trim().is_empty());
        self
    }

    pub fn build(self) -> AuditEvent {
        self.event
    }
}

/// Filters a person sets on the audit page (already parsed). Serializable: an export job
/// carries it as its payload.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<Action>,
    pub artefact_type: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub total: i64,
}

impl App {
    /// A page of a project's audit trail, newest first. Readable by every member.
    pub async fn project_audit(
        &self,
        principal: &Principal,
        code: &str,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> AppResult<AuditPage> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let query = AuditQuery {
            project_id: Some(ctx.project.id),
            actor: filter.actor.clone(),
            action: filter.action,
            artefact_type: filter.artefact_type.clone(),
            artefact_id: None,
            from: filter.from,
            to: filter.to,
            limit: limit.clamp(1, 100_000),
            offset: offset.max(0),
        };
        let events = self.store.list_audit(&query).await?;
        let total = self.store.count_audit(&query).await?;
        Ok(AuditPage { events, total })
    }

    /// The revisions of one project artefact, oldest first.
    pub async fn project_revisions(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<Vec<Revision>> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        Ok(self
            .store
            .list_revisions("project", &ctx.project.id.to_string())
            .await?)
    }
}
