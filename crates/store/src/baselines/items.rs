//! Reading the working state as baseline items: compact rows of modules, requirements (with
//! their current revision's content hash from the revisions table), links, plans, cases and
//! latest results, turned into items by a pure function.

use super::time_text;
use chrono::{DateTime, Utc};
use opensesa_domain::baselines::content::fields_hash;
use opensesa_domain::baselines::{ArtefactKind, BaselineScope, Item};
use opensesa_domain::ids::ModuleId;
use std::collections::HashMap;
use uuid::Uuid;

/// A UUID column as the lower-case hyphenated text the revisions table keys artefacts by.
pub fn uuid_text(col: &str, postgres: bool) -> String {
    if postgres {
        format!("{col}::text")
    } else {
        format!(
            "lower(substr(hex({col}), 1, 8) || '-' || substr(hex({col}), 9, 4) || '-' || \
             substr(hex({col}), 13, 4) || '-' || substr(hex({col}), 17, 4) || '-' || substr(hex({col}), 21))"
        )
    }
}

/// The content hash of each row's current revision, joined from the revisions table.
pub fn revised_sql(select: &str, table: &str, artefact_type: &str, postgres: bool) -> String {
    format!(
        "SELECT {select}, r.content_hash FROM {table} t LEFT JOIN revisions r ON \
         r.artefact_type = '{artefact_type}' AND r.artefact_id = {} AND r.number = t.revision \
         WHERE t.project_id = $1",
        uuid_text("t.id", postgres)
    )
}

pub type ModuleRow = (Uuid, Option<Uuid>, String, i64, Option<String>);
pub type ReqRow = (Uuid, String, Uuid, Option<Uuid>, i64, Option<String>);
pub type LinkRow = (Uuid, String, String, Uuid, String, Uuid);
pub type PlanRow = (Uuid, String, i64, Option<String>);
pub type CaseRow = (Uuid, String, i64, String, Option<Uuid>);
pub type LatestRow = (Uuid, Uuid, String, DateTime<Utc>);

/// The rows `build_items` needs, read in one consistent transaction or snapshot.
#[derive(Default)]
pub struct RawItems {
    pub modules: Vec<ModuleRow>,
    pub requirements: Vec<ReqRow>,
    pub links: Vec<LinkRow>,
    pub plans: Vec<PlanRow>,
    pub cases: Vec<CaseRow>,
    pub latest: Vec<LatestRow>,
}

/// Reads `RawItems` of a project on a connection expression (`&mut *tx` or a pool), which
/// is evaluated once per query.
macro_rules! load_items {
    ($conn:expr, $project:expr, $scope:expr, $postgres:expr) => {{
        let project: uuid::Uuid = $project;
        let scope: &opensesa_domain::baselines::BaselineScope = $scope;
        let postgres: bool = $postgres;
        let mut raw = $crate::baselines::items::RawItems::default();
        raw.modules = sqlx::query_as(&$crate::baselines::items::revised_sql(
            "t.id, t.parent_id, t.prefix, t.revision",
            "req_modules",
            "module",
            postgres,
        ))
        .bind(project)
        .fetch_all($conn)
        .await
        .map_err($crate::db_err)?;
        raw.requirements = sqlx::query_as(&$crate::baselines::items::revised_sql(
            "t.id, t.human_id, t.module_id, t.parent_id, t.revision",
            "requirements",
            "requirement",
            postgres,
        ))
        .bind(project)
        .fetch_all($conn)
        .await
        .map_err($crate::db_err)?;
        raw.links = sqlx::query_as(
            "SELECT id, kind, source_type, source_id, target_type, target_id FROM trace_links WHERE project_id = $1",
        )
        .bind(project)
        .fetch_all($conn)
        .await
        .map_err($crate::db_err)?;
        if scope.include_vv {
            raw.plans = sqlx::query_as(&$crate::baselines::items::revised_sql(
                "t.id, t.human_id, t.revision",
                "vv_plans",
                "vv_plan",
                postgres,
            ))
            .bind(project)
            .fetch_all($conn)
            .await
            .map_err($crate::db_err)?;
            raw.cases = sqlx::query_as(
                "SELECT c.id, c.human_id, c.revision, c.content_hash, a.plan_id FROM vv_cases c \
                 LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.project_id = $1",
            )
            .bind(project)
            .fetch_all($conn)
            .await
            .map_err($crate::db_err)?;
            raw.latest = sqlx::query_as(
                "SELECT case_id, result_id, verdict, executed_at FROM vv_latest WHERE project_id = $1",
            )
            .bind(project)
            .fetch_all($conn)
            .await
            .map_err($crate::db_err)?;
        }
        raw
    }};
}
pub(crate) use load_items;

/// A revision without its row in the revisions table (data written before revisions were
/// kept) still gets a stable hash, marked so it cannot equal a real content hash.
fn hash_or_marker(hash: Option<String>, kind: ArtefactKind, id: Uuid, revision: i64) -> String {
    hash.unwrap_or_else(|| {
        fields_hash(&[
            "no revision row",
            kind.as_str(),
            &id.to_string(),
            &revision.to_string(),
        ])
    })
}

/// Turns rows into the items of a scope: modules and requirements of the chosen modules,
/// plans, cases and latest results when verification is included, and every link whose two
/// ends are both in the baseline.
pub fn build_items(scope: &BaselineScope, raw: RawItems) -> Vec<Item> {
    let mut items = Vec::with_capacity(
        raw.modules.len() + raw.requirements.len() + raw.links.len() + raw.cases.len() * 2,
    );
    // Each end's label and group, for links.
    let mut ends: HashMap<Uuid, (String, Uuid)> =
        HashMap::with_capacity(raw.requirements.len() + raw.cases.len());
    for (id, parent, prefix, revision, hash) in raw.modules {
        if !scope.covers_module(ModuleId(id)) {
            continue;
        }
        items.push(Item {
            kind: ArtefactKind::Module,
            id,
            revision,
            hash: hash_or_marker(hash, ArtefactKind::Module, id, revision),
            group: Uuid::nil(),
            parent,
            label: prefix,
        });
    }
    for (id, human_id, module, parent, revision, hash) in raw.requirements {
        if !scope.covers_module(ModuleId(module)) {
            continue;
        }
        ends.insert(id, (human_id.clone(), module));
        items.push(Item {
            kind: ArtefactKind::Requirement,
            id,
            revision,
            hash: hash_or_marker(hash, ArtefactKind::Requirement, id, revision),
            group: module,
            parent,
            label: human_id,
        });
    }
    for (id, human_id, revision, hash) in raw.plans {
        items.push(Item {
            kind: ArtefactKind::Plan,
            id,
            revision,
            hash: hash_or_marker(hash, ArtefactKind::Plan, id, revision),
            group: Uuid::nil(),
            parent: None,
            label: human_id,
        });
    }
    for (id, human_id, revision, hash, plan) in raw.cases {
        let group = plan.unwrap_or_else(Uuid::nil);
        ends.insert(id, (human_id.clone(), group));
        items.push(Item {
            kind: ArtefactKind::Case,
            id,
            revision,
            hash,
            group,
            parent: None,
            label: human_id,
        });
    }
    for (case, result, verdict, executed_at) in raw.latest {
        let Some((case_label, group)) = ends.get(&case) else {
            continue;
        };
        let at = time_text(executed_at);
        items.push(Item {
            kind: ArtefactKind::Result,
            id: result,
            revision: 1,
            hash: fields_hash(&[&result.to_string(), &case.to_string(), &verdict, &at]),
            group: *group,
            parent: Some(case),
            label: format!("{case_label} {verdict}"),
        });
    }
    for (id, kind, source_type, source, target_type, target) in raw.links {
        let (Some((s, group)), Some((t, _))) = (ends.get(&source), ends.get(&target)) else {
            continue;
        };
        items.push(Item {
            kind: ArtefactKind::Link,
            id,
            revision: 1,
            hash: fields_hash(&[
                &kind,
                &source_type,
                &source.to_string(),
                &target_type,
                &target.to_string(),
            ]),
            group: *group,
            parent: None,
            label: format!("{s} {kind} {t}"),
        });
    }
    items
}
