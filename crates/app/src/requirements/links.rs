//! Trace links between requirements (more artefact types join as their modules land):
//! creation with the no-self, no-duplicate and no-cycle rules, deletion, and confirming
//! suspect links with a reason.

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::ports::{Journal, LinkView, ReqBatch};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::LinkId;
use opensesa_domain::requirements::{LinkKind, Requirement, TraceLink};
use serde_json::json;

/// The artefact type name of requirements at a link's ends.
pub const REQUIREMENT: &str = "requirement";

impl App {
    /// A new link `source KIND target`, recording both ends' current revisions.
    pub fn new_link(
        &self,
        kind: LinkKind,
        source: &Requirement,
        target: &Requirement,
        by: Option<opensesa_domain::ids::UserId>,
    ) -> TraceLink {
        let now = self.clock.now();
        TraceLink {
            id: LinkId::new(),
            project_id: source.project_id,
            kind,
            source_type: REQUIREMENT.into(),
            source_id: source.id.0,
            target_type: REQUIREMENT.into(),
            target_id: target.id.0,
            source_revision: source.revision,
            target_revision: target.revision,
            suspect: false,
            suspect_reasons: Vec::new(),
            created_by: by,
            created_at: now,
            confirmed_at: now,
            confirmed_by: by,
            external_id: None,
        }
    }

    pub async fn create_link(
        &self,
        principal: &Principal,
        code: &str,
        source: &str,
        kind: &str,
        target: &str,
    ) -> AppResult<TraceLink> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let kind = LinkKind::parse(kind).map_err(|e| AppError::field("kind", e))?;
        let find = |field: &'static str, raw: &str| {
            let raw = raw.trim().to_uppercase();
            let store = self.store.clone();
            let project = ctx.project.id;
            async move {
                if raw.is_empty() {
                    return Err(AppError::field(field, "is required"));
                }
                store.find_requirement(project, &raw).await?.ok_or_else(|| {
                    AppError::field(field, format!("no requirement {raw} in this project"))
                })
            }
        };
        let s = find("source", source).await?;
        let t = find("target", target).await?;
        if s.id == t.id {
            return Err(AppError::field(
                "target",
                "a requirement cannot link to itself",
            ));
        }
        let link = self.new_link(kind, &s, &t, Some(principal.user.id));
        let batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            add_links: vec![link.clone()],
            ..Default::default()
        };
        self.save(principal, &ctx, batch, Vec::new()).await?;
        Ok(link)
    }

    pub async fn delete_link(
        &self,
        principal: &Principal,
        code: &str,
        id: LinkId,
    ) -> AppResult<()> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        self.store
            .find_link(ctx.project.id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let batch = ReqBatch {
            project_id: Some(ctx.project.id),
            by: Some(principal.user.id),
            remove_links: vec![id],
            ..Default::default()
        };
        self.save(principal, &ctx, batch, Vec::new()).await?;
        Ok(())
    }

    /// Confirms suspect links again (one or many, e.g. after reviewing a change): each is
    /// audited with the person's reason.
    pub async fn clear_suspect(
        &self,
        principal: &Principal,
        code: &str,
        ids: &[LinkId],
        reason: &str,
    ) -> AppResult<u64> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::field("reason", "say why the links still hold"));
        }
        if reason.chars().count() > 2000 {
            return Err(AppError::field("reason", "is longer than 2000 characters"));
        }
        if ids.is_empty() {
            return Err(AppError::field("links", "select at least one suspect link"));
        }
        let mut journal = Journal::default();
        let mut confirm = Vec::new();
        for id in ids {
            let link = self
                .store
                .find_link(ctx.project.id, *id)
                .await?
                .ok_or_else(|| AppError::field("links", format!("no link {id} in this project")))?;
            if !link.suspect {
                continue;
            }
            journal.events.push(
                EventBuilder::by(self, principal, Action::Clear, "trace_link", link.id)
                    .project(ctx.project.id)
                    .change("suspect", json!(true), json!(false))
                    .change("suspect_reasons", json!(link.suspect_reasons), json!([]))
                    .reason(Some(reason.to_owned()))
                    .build(),
            );
            confirm.push(link.id);
        }
        if confirm.is_empty() {
            return Ok(0);
        }
        let n = self
            .store
            .confirm_links(&confirm, principal.user.id, self.clock.now(), &journal)
            .await?;
        Ok(n)
    }

    /// A project's links (all or only the suspect ones), a page at a time.
    pub async fn project_links(
        &self,
        principal: &Principal,
        code: &str,
        only_suspect: bool,
        limit: i64,
        offset: i64,
    ) -> AppResult<(crate::portfolio::ProjectCtx, Vec<LinkView>, i64)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let (links, total) = self
            .store
            .project_links(ctx.project.id, only_suspect, limit, offset)
            .await?;
        Ok((ctx, links, total))
    }
}
