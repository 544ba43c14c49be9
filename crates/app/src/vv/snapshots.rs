//! Verification snapshots: a plan's or set's cases at their revisions with their latest
//! results, frozen once (the store refuses changes) and hashed so anyone can check them.

use super::store_err;
use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::ports::{CaseQuery, Journal, Snapshot};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::ids::{CaseId, CaseSetId, SnapshotId};
use opensesa_domain::portfolio::parse_name;
use opensesa_domain::revision::content_hash;
use opensesa_domain::vv::snapshot::{compare, SnapCase, SnapResult, SnapshotContent, SnapshotDiff};
use serde_json::json;

/// What a snapshot freezes.
#[derive(Debug, Clone)]
pub enum SnapshotScope {
    Plan(String),
    Set(CaseSetId),
}

impl App {
    /// The cases in a scope, in order, as (kind, id, label, case ids).
    pub(crate) async fn scope_cases(
        &self,
        ctx: &ProjectCtx,
        scope: &SnapshotScope,
    ) -> AppResult<(&'static str, uuid::Uuid, String, Vec<CaseId>)> {
        match scope {
            SnapshotScope::Plan(h) => {
                let plan = self
                    .store
                    .find_plan(ctx.project.id, &h.trim().to_uppercase())
                    .await?
                    .ok_or(AppError::NotFound)?;
                let page = self
                    .store
                    .list_cases(&CaseQuery {
                        project_id: Some(ctx.project.id),
                        plan_id: Some(plan.id),
                        limit: 100_000,
                        ..Default::default()
                    })
                    .await?;
                Ok((
                    "plan",
                    plan.id.0,
                    format!("{} {}", plan.human_id, plan.title),
                    page.rows.into_iter().map(|r| r.case.id).collect(),
                ))
            }
            SnapshotScope::Set(id) => {
                let set = self
                    .store
                    .find_set(ctx.project.id, *id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let members = self.store.set_members(set.id).await?;
                Ok(("set", set.id.0, set.name, members))
            }
        }
    }

    /// The content a snapshot of `cases` would freeze now.
    pub(crate) async fn snapshot_content(
        &self,
        ctx: &ProjectCtx,
        cases: &[CaseId],
    ) -> AppResult<SnapshotContent> {
        let facts = self.store.case_facts(ctx.project.id).await?;
        let latest = self.store.latest_of(cases).await?;
        let latest: std::collections::HashMap<CaseId, _> =
            latest.into_iter().map(|l| (l.case_id, l)).collect();
        let wanted: std::collections::HashSet<CaseId> = cases.iter().copied().collect();
        let snap = facts
            .into_iter()
            .filter(|f| wanted.contains(&f.id))
            .map(|f| SnapCase {
                case_id: f.id,
                latest: latest.get(&f.id).map(|l| SnapResult {
                    result_id: l.result_id,
                    verdict: l.verdict,
                    executed_at: l.executed_at.to_rfc3339(),
                }),
                human_id: f.human_id,
                title: f.title,
                revision: f.revision,
                revision_hash: f.content_hash,
                status: f.status,
            })
            .collect();
        Ok(SnapshotContent::new(snap))
    }

    pub async fn create_snapshot(
        &self,
        principal: &Principal,
        code: &str,
        scope: &SnapshotScope,
        title: &str,
    ) -> AppResult<Snapshot> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let title = parse_name(title).map_err(|e| AppError::field("title", e))?;
        let (kind, scope_id, label, cases) = self.scope_cases(&ctx, scope).await?;
        let content = self.snapshot_content(&ctx, &cases).await?;
        let hash = content_hash(
            &serde_json::to_value(&content).map_err(|e| AppError::Internal(e.to_string()))?,
        );
        let mut snap = Snapshot {
            id: SnapshotId::new(),
            project_id: ctx.project.id,
            human_id: String::new(),
            title,
            scope_kind: kind.to_owned(),
            scope_id,
            scope_label: label,
            content,
            content_hash: hash,
            created_by: Some(principal.user.id),
            created_at: self.clock.now(),
        };
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Create, "vv_snapshot", snap.id)
                .project(ctx.project.id)
                .change("human_id", json!(null), json!(""))
                .change("scope", json!(null), json!(snap.scope_label))
                .change("cases", json!(null), json!(snap.content.cases.len()))
                .change("content_hash", json!(null), json!(snap.content_hash))
                .build(),
        );
        snap.human_id = self
            .store
            .insert_snapshot(&snap, &journal)
            .await
            .map_err(store_err)?;
        Ok(snap)
    }

    pub async fn list_snapshots(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<Snapshot>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let s = self.store.list_snapshots(ctx.project.id).await?;
        Ok((ctx, s))
    }

    pub async fn snapshot(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<(ProjectCtx, Snapshot)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let s = self
            .store
            .find_snapshot(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((ctx, s))
    }

    pub async fn compare_snapshots(
        &self,
        principal: &Principal,
        code: &str,
        from: &str,
        to: &str,
    ) -> AppResult<(ProjectCtx, Snapshot, Snapshot, SnapshotDiff)> {
        let (ctx, a) = self.snapshot(principal, code, from).await?;
        let (_, b) = self.snapshot(principal, code, to).await?;
        let diff = compare(&a.content, &b.content);
        Ok((ctx, a, b, diff))
    }
}
