//! Baselines: drafts with a scope, the freeze (a lead's, atomic and idempotent), the items a
//! baseline holds, comparisons between two baselines or a baseline and the working state, and
//! the field-level drill-down of a changed artefact. Release packs are in `packs`.

pub mod export;
pub mod packs;

use crate::audit::EventBuilder;
use crate::error::{AppError, AppResult};
use crate::jobs::{JobKind, NoPayload, RefreshWorkingGroups};
use crate::portfolio::ProjectCtx;
use crate::ports::{GroupRef, Journal, StoreError};
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::baselines::content::decode;
use opensesa_domain::baselines::{
    compare, ArtefactKind, Baseline, BaselineInput, BaselineScope, BaselineStatus, Comparison, Item,
};
use opensesa_domain::ids::{BaselineId, ModuleId, ProjectId};
use opensesa_domain::jobs::NewJob;
use opensesa_domain::textdiff::{snapshot_diff, FieldDiff};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

pub(crate) use crate::vv::store_err;

/// A baseline with what its page shows.
pub struct BaselineDetail {
    pub ctx: ProjectCtx,
    pub baseline: Baseline,
    /// Module labels of the scope (empty scope = every module).
    pub scope: Vec<String>,
    /// The scope's module prefixes, comma separated (the edit form's value).
    pub scope_prefixes: String,
    /// Who froze it (email), when frozen.
    pub frozen_by: String,
    /// The groups of a frozen baseline.
    pub groups: Vec<GroupRef>,
}

/// The side a comparison ends at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareTo {
    Baseline(String),
    Working,
}

impl CompareTo {
    /// `working` (any case) or a baseline's human id.
    pub fn parse(raw: &str) -> Self {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("working") || t.is_empty() {
            CompareTo::Working
        } else {
            CompareTo::Baseline(t.to_uppercase())
        }
    }
}

/// A comparison and its two ends.
#[derive(Debug)]
pub struct ComparisonView {
    pub ctx: ProjectCtx,
    pub from: Baseline,
    /// `None` when compared with the working state.
    pub to: Option<Baseline>,
    pub comparison: Comparison,
}

impl ComparisonView {
    pub fn to_label(&self) -> String {
        self.to
            .as_ref()
            .map_or_else(|| "working state".to_owned(), |b| b.human_id.clone())
    }
}

/// The field-level drill-down of one artefact between two revisions.
#[derive(Debug)]
pub struct ArtefactDiff {
    pub ctx: ProjectCtx,
    pub kind: ArtefactKind,
    pub label: String,
    pub from_revision: i64,
    pub to_revision: i64,
    pub fields: Vec<FieldDiff>,
}

impl App {
    pub async fn list_baselines(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<(ProjectCtx, Vec<Baseline>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let list = self.store.list_baselines(ctx.project.id).await?;
        Ok((ctx, list))
    }

    pub(crate) async fn baseline_of(
        &self,
        ctx: &ProjectCtx,
        human_id: &str,
    ) -> AppResult<Baseline> {
        self.store
            .find_baseline(ctx.project.id, &human_id.trim().to_uppercase())
            .await?
            .ok_or(AppError::NotFound)
    }

    pub async fn baseline(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<BaselineDetail> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let baseline = self.baseline_of(&ctx, human_id).await?;
        let modules = self.store.list_modules(ctx.project.id).await?;
        let scope = if baseline.scope.modules.is_empty() {
            vec!["every module".to_owned()]
        } else {
            baseline
                .scope
                .modules
                .iter()
                .map(|id| {
                    modules.iter().find(|m| m.id == *id).map_or_else(
                        || "(removed module)".to_owned(),
                        |m| format!("{} {}", m.prefix, m.name),
                    )
                })
                .collect()
        };
        let scope_prefixes = baseline
            .scope
            .modules
            .iter()
            .filter_map(|id| {
                modules
                    .iter()
                    .find(|m| m.id == *id)
                    .map(|m| m.prefix.clone())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let frozen_by = match baseline.frozen.as_ref().and_then(|f| f.frozen_by) {
            Some(u) => self
                .store
                .find_user(u)
                .await?
                .map(|u| u.email.to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        let groups = if baseline.status == BaselineStatus::Frozen {
            self.store.baseline_groups(baseline.id).await?
        } else {
            Vec::new()
        };
        Ok(BaselineDetail {
            ctx,
            baseline,
            scope,
            scope_prefixes,
            frozen_by,
            groups,
        })
    }

    /// "BL-001 name" of a baseline of the project (a result's baseline under test), or "".
    pub async fn baseline_label(&self, ctx: &ProjectCtx, id: BaselineId) -> AppResult<String> {
        Ok(self
            .store
            .find_baseline_by_id(ctx.project.id, id)
            .await?
            .map(|b| format!("{} {}", b.human_id, b.name))
            .unwrap_or_default())
    }

    /// Module prefixes (comma or space separated; empty = every module) to ids.
    async fn baseline_scope(
        &self,
        ctx: &ProjectCtx,
        modules: &str,
        include_vv: bool,
    ) -> AppResult<BaselineScope> {
        let known = self.store.list_modules(ctx.project.id).await?;
        let mut ids: Vec<ModuleId> = Vec::new();
        for p in modules
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let m = known
                .iter()
                .find(|m| m.prefix.eq_ignore_ascii_case(p))
                .ok_or_else(|| {
                    AppError::field(
                        "modules",
                        format!("no requirement module has the prefix {p}"),
                    )
                })?;
            if !ids.contains(&m.id) {
                ids.push(m.id);
            }
        }
        Ok(BaselineScope {
            modules: ids,
            include_vv,
        })
    }

    /// Creates a draft baseline; `modules` lists module prefixes (empty = every module).
    pub async fn create_baseline(
        &self,
        principal: &Principal,
        code: &str,
        input: &BaselineInput,
        modules: &str,
        include_vv: bool,
    ) -> AppResult<Baseline> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let (name, description) = input.parse().map_err(AppError::Validation)?;
        let scope = self.baseline_scope(&ctx, modules, include_vv).await?;
        let now = self.clock.now();
        let mut b = Baseline {
            id: BaselineId::new(),
            project_id: ctx.project.id,
            human_id: String::new(),
            name,
            description,
            scope,
            status: BaselineStatus::Draft,
            frozen: None,
            created_by: Some(principal.user.id),
            created_at: now,
            updated_at: now,
        };
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Create, "baseline", b.id)
                .project(ctx.project.id)
                .change("human_id", json!(null), json!(""))
                .change("name", json!(null), json!(b.name))
                .change("scope", json!(null), json!(b.scope))
                .build(),
        );
        b.human_id = self
            .store
            .insert_baseline(&b, &journal)
            .await
            .map_err(store_err)?;
        Ok(b)
    }

    /// Changes a draft's name, description and scope.
    pub async fn edit_baseline(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
        input: &BaselineInput,
        modules: &str,
        include_vv: bool,
    ) -> AppResult<Baseline> {
        let ctx = self
            .project_access(principal, code, Permission::Write)
            .await?;
        let before = self.baseline_of(&ctx, human_id).await?;
        if before.status == BaselineStatus::Frozen {
            return Err(AppError::Conflict(format!(
                "baseline {} is frozen and cannot change",
                before.human_id
            )));
        }
        let (name, description) = input.parse().map_err(AppError::Validation)?;
        let scope = self.baseline_scope(&ctx, modules, include_vv).await?;
        let mut b = before.clone();
        b.name = name;
        b.description = description;
        b.scope = scope;
        b.updated_at = self.clock.now();
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Update, "baseline", b.id)
                .project(ctx.project.id)
                .changes(
                    &json!({"name": before.name, "description": before.description, "scope": before.scope}),
                    &json!({"name": b.name, "description": b.description, "scope": b.scope}),
                )
                .build(),
        );
        self.store
            .update_draft_baseline(&b, &journal)
            .await
            .map_err(store_err)?;
        Ok(b)
    }

    /// Freezes a draft (a lead's action). Idempotent: freezing a frozen baseline returns it
    /// unchanged.
    pub async fn freeze_baseline(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<Baseline> {
        let ctx = self
            .project_access(principal, code, Permission::Lead)
            .await?;
        let before = self.baseline_of(&ctx, human_id).await?;
        if before.status == BaselineStatus::Frozen {
            return Ok(before);
        }
        let journal = Journal::event(
            EventBuilder::by(self, principal, Action::Transition, "baseline", before.id)
                .project(ctx.project.id)
                .change("status", json!("draft"), json!("frozen"))
                .change("content_hash", json!(null), json!(""))
                .change("items", json!(null), json!(0))
                .build(),
        );
        match self
            .store
            .freeze_baseline(
                before.id,
                Some(principal.user.id),
                self.clock.now(),
                &journal,
            )
            .await
        {
            // Someone froze it between our read and our write: the result is the same.
            Ok(_) | Err(StoreError::Conflict(_)) => self.baseline_of(&ctx, human_id).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Periodic maintenance: computes the changed groups of every project's working-group
    /// cache (reading no cached body); returns how many projects had any.
    pub async fn refresh_working_groups(&self) -> AppResult<usize> {
        let projects = self.store.projects_with_stale_groups().await?;
        let none = |_: ArtefactKind, _: Uuid, _: &str| false;
        for p in &projects {
            self.store
                .working_groups(*p, &BaselineScope::all(), &none)
                .await?;
        }
        Ok(projects.len())
    }

    /// After a bulk write (an import): asks the worker to bring the working-group cache up
    /// to date now rather than at its next minute (one pending request at a time). Best
    /// effort: the write is done, and the periodic refresh follows anyway.
    pub async fn refresh_working_groups_soon(&self, project: ProjectId) {
        let job = self
            .new_job::<RefreshWorkingGroups>(&NoPayload {}, None, Some(project))
            .map(|j| NewJob {
                dedup_key: Some(format!("{}:soon", RefreshWorkingGroups::KIND)),
                ..j
            });
        if let Err(e) = match job {
            Ok(j) => self.enqueue(&j).await.map(|_| ()),
            Err(e) => Err(e),
        } {
            tracing::warn!(error = %e, "working-group refresh not enqueued");
        }
    }

    /// Items of a frozen baseline from its groups.
    pub(crate) async fn frozen_items(&self, baseline: &Baseline) -> AppResult<Vec<Item>> {
        let groups = self.store.baseline_groups(baseline.id).await?;
        self.items_of_groups(&groups).await
    }

    async fn items_of_groups(&self, groups: &[GroupRef]) -> AppResult<Vec<Item>> {
        let mut hashes: Vec<String> = groups.iter().map(|g| g.hash.clone()).collect();
        hashes.sort();
        hashes.dedup();
        let bodies: HashMap<String, String> = self
            .store
            .group_bodies(&hashes)
            .await?
            .into_iter()
            .map(|b| (b.hash, b.body))
            .collect();
        let mut items = Vec::new();
        for g in groups {
            let body = bodies.get(&g.hash).ok_or_else(|| {
                AppError::Internal(format!("baseline group body {} is missing", g.hash))
            })?;
            items.extend(decode(g.kind, g.group, body).map_err(AppError::Internal)?);
        }
        Ok(items)
    }

    /// What a baseline holds: a frozen one's recorded items, or what a draft would freeze now.
    pub async fn baseline_items(
        &self,
        principal: &Principal,
        code: &str,
        human_id: &str,
    ) -> AppResult<(ProjectCtx, Baseline, Vec<Item>)> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let b = self.baseline_of(&ctx, human_id).await?;
        let mut items = if b.status == BaselineStatus::Frozen {
            self.frozen_items(&b).await?
        } else {
            self.store.current_items(ctx.project.id, &b.scope).await?
        };
        items.sort_by(|x, y| (x.kind, &x.label, x.id).cmp(&(y.kind, &y.label, y.id)));
        Ok((ctx, b, items))
    }

    /// Compares a frozen baseline with another or with the working state. Only the groups
    /// whose hashes differ are read and compared item by item.
    pub async fn compare_baselines(
        &self,
        principal: &Principal,
        code: &str,
        from: &str,
        to: &CompareTo,
    ) -> AppResult<ComparisonView> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let a = self.baseline_of(&ctx, from).await?;
        if a.status != BaselineStatus::Frozen {
            return Err(AppError::field(
                "from",
                format!("{} is a draft; compare frozen baselines", a.human_id),
            ));
        }
        let a_groups = self.store.baseline_groups(a.id).await?;
        let (b, b_groups, b_items) = match to {
            CompareTo::Baseline(h) => {
                let b = self.baseline_of(&ctx, h).await?;
                if b.status != BaselineStatus::Frozen {
                    return Err(AppError::field(
                        "to",
                        format!("{} is a draft; compare frozen baselines", b.human_id),
                    ));
                }
                let g = self.store.baseline_groups(b.id).await?;
                (Some(b), g, None)
            }
            CompareTo::Working => {
                // Only the working groups that differ from the baseline's are read item by
                // item; the others are known by their hashes.
                let recorded: HashMap<(ArtefactKind, Uuid), &str> = a_groups
                    .iter()
                    .map(|g| ((g.kind, g.group), g.hash.as_str()))
                    .collect();
                let want = |kind: ArtefactKind, group: Uuid, hash: &str| {
                    recorded.get(&(kind, group)) != Some(&hash)
                };
                let working = self
                    .store
                    .working_groups(ctx.project.id, &a.scope, &want)
                    .await?;
                let refs: Vec<GroupRef> = working
                    .iter()
                    .map(|g| GroupRef {
                        kind: g.kind,
                        group: g.group,
                        items: g.count,
                        hash: g.hash.clone(),
                    })
                    .collect();
                (None, refs, Some(working))
            }
        };
        let key = |g: &GroupRef| (g.kind, g.group);
        let a_map: HashMap<(ArtefactKind, Uuid), &GroupRef> =
            a_groups.iter().map(|g| (key(g), g)).collect();
        let b_map: HashMap<(ArtefactKind, Uuid), &GroupRef> =
            b_groups.iter().map(|g| (key(g), g)).collect();
        let mut differing: HashSet<(ArtefactKind, Uuid)> = HashSet::new();
        let mut equal = 0;
        for (k, g) in &a_map {
            match b_map.get(k) {
                Some(o) if o.hash == g.hash => equal += 1,
                _ => {
                    differing.insert(*k);
                }
            }
        }
        differing.extend(b_map.keys().filter(|k| !a_map.contains_key(*k)).copied());
        let a_diff: Vec<GroupRef> = a_groups
            .iter()
            .filter(|g| differing.contains(&key(g)))
            .cloned()
            .collect();
        let from_items = self.items_of_groups(&a_diff).await?;
        let to_items = match b_items {
            Some(groups) => {
                let mut items = Vec::new();
                for g in groups
                    .into_iter()
                    .filter(|g| differing.contains(&(g.kind, g.group)))
                {
                    items.extend(g.items.ok_or_else(|| {
                        AppError::Internal(format!("working group {} was not read", g.group))
                    })?);
                }
                items
            }
            None => {
                let b_diff: Vec<GroupRef> = b_groups
                    .iter()
                    .filter(|g| differing.contains(&key(g)))
                    .cloned()
                    .collect();
                self.items_of_groups(&b_diff).await?
            }
        };
        let mut comparison = compare(from_items, to_items);
        comparison.groups_compared = differing.len();
        comparison.groups_equal = equal;
        Ok(ComparisonView {
            ctx,
            from: a,
            to: b,
            comparison,
        })
    }

    /// The field-level and word-level differences of one artefact between two revisions.
    pub async fn artefact_diff(
        &self,
        principal: &Principal,
        code: &str,
        kind: &str,
        id: Uuid,
        from_revision: i64,
        to_revision: i64,
    ) -> AppResult<ArtefactDiff> {
        let ctx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let kind = ArtefactKind::parse(kind).map_err(|e| AppError::field("kind", e))?;
        if !kind.has_revisions() {
            return Err(AppError::field(
                "kind",
                format!("{} have no revisions to compare", kind.label()),
            ));
        }
        // The artefact must belong to the project: another project's answers "not found".
        let label = match kind {
            ArtefactKind::Requirement => self
                .store
                .find_requirement_by_id(ctx.project.id, opensesa_domain::ids::RequirementId(id))
                .await?
                .map(|r| r.human_id),
            ArtefactKind::Module => self
                .store
                .find_module(ctx.project.id, ModuleId(id))
                .await?
                .map(|m| m.prefix),
            ArtefactKind::Case => self
                .store
                .find_cases(ctx.project.id, &[opensesa_domain::ids::CaseId(id)])
                .await?
                .into_iter()
                .next()
                .map(|c| c.human_id),
            ArtefactKind::Plan => self
                .store
                .list_plans(ctx.project.id)
                .await?
                .into_iter()
                .find(|p| p.plan.id.0 == id)
                .map(|p| p.plan.human_id),
            ArtefactKind::Link | ArtefactKind::Result => None,
        }
        .ok_or(AppError::NotFound)?;
        let revisions = self
            .store
            .list_revisions(kind.as_str(), &id.to_string())
            .await?;
        let find = |n: i64, field: &str| {
            revisions
                .iter()
                .find(|r| r.number == n)
                .ok_or_else(|| AppError::field(field, format!("{label} has no revision {n}")))
        };
        let old = find(from_revision, "from")?;
        let new = find(to_revision, "to")?;
        Ok(ArtefactDiff {
            ctx,
            kind,
            label,
            from_revision,
            to_revision,
            fields: snapshot_diff(&old.data, &new.data),
        })
    }
}
