//! Reading the working state as baseline items: compact rows of modules, requirements (with
//! their current revision's content hash), links, plans, cases and latest results, turned
//! into items by a pure function; all of a project's, or only those of some groups.

use super::time_text;
use chrono::{DateTime, Utc};
use opensesa_domain::baselines::content::fields_hash;
use opensesa_domain::baselines::{ArtefactKind, BaselineScope, Item};
use opensesa_domain::ids::ModuleId;
use std::collections::{HashMap, HashSet};
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

/// A link end read only for its label and container: (id, human id, group).
pub type EndRow = (Uuid, String, Uuid);

/// The rows `build_items` needs, read in one consistent transaction or snapshot.
#[derive(Default)]
pub struct RawItems {
    pub modules: Vec<ModuleRow>,
    pub requirements: Vec<ReqRow>,
    pub links: Vec<LinkRow>,
    pub plans: Vec<PlanRow>,
    pub cases: Vec<CaseRow>,
    pub latest: Vec<LatestRow>,
    /// Ends of the links read that are not among the requirements and cases read.
    pub ends: Vec<EndRow>,
}

/// The groups of the working state to read again (group ids: a module for requirements, a
/// plan or the nil id for cases and results, either for links).
#[derive(Debug, Default, Clone)]
pub struct DirtyGroups(HashSet<(ArtefactKind, Uuid)>);

impl DirtyGroups {
    pub fn insert(&mut self, kind: ArtefactKind, group: Uuid) {
        self.0.insert((kind, group));
    }

    /// Whether an item of this group is to be computed (module and plan groups always are).
    pub fn contains(&self, kind: ArtefactKind, group: Uuid) -> bool {
        matches!(kind, ArtefactKind::Module | ArtefactKind::Plan) || self.0.contains(&(kind, group))
    }

    /// The containers of the dirty groups of these kinds, sorted, each once.
    pub fn of(&self, kinds: &[ArtefactKind]) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = self
            .0
            .iter()
            .filter(|(k, _)| kinds.contains(k))
            .map(|(_, g)| *g)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The modules of a project with their current revision's content hash.
pub fn modules_sql(postgres: bool) -> String {
    revised_sql(
        "t.id, t.parent_id, t.prefix, t.revision",
        "req_modules",
        "module",
        postgres,
    )
}

/// The verification plans of a project with their current revision's content hash.
pub fn plans_sql(postgres: bool) -> String {
    revised_sql(
        "t.id, t.human_id, t.revision",
        "vv_plans",
        "vv_plan",
        postgres,
    )
}

/// `$from, $from+1, …` for an IN list of `n` values (at least one, so that an empty list
/// still parses: a bound nil id matches no module or plan).
pub fn in_list(from: usize, n: usize) -> String {
    crate::vv::placeholders(from, n.max(1))
}

/// The links whose source is in one of the link groups bound from `$3` (modules) or one of
/// the plans bound after them (`$2` is the nil id, the group of cases outside any plan).
pub fn link_filter(modules: usize, plans: usize) -> String {
    format!(
        "l.project_id = $1 AND (l.source_id IN (SELECT id FROM requirements WHERE project_id = $1 \
         AND module_id IN ({})) OR l.source_id IN (SELECT c.id FROM vv_cases c LEFT JOIN \
         vv_activities a ON a.id = c.activity_id WHERE c.project_id = $1 AND \
         COALESCE(a.plan_id, $2) IN ({})))",
        in_list(3, modules),
        in_list(3 + modules.max(1), plans)
    )
}

/// Binds a list of ids for `in_list` (the nil id for an empty list).
macro_rules! bind_list {
    ($q:expr, $ids:expr) => {{
        let mut q = $q;
        let ids: &[uuid::Uuid] = $ids;
        if ids.is_empty() {
            q = q.bind(uuid::Uuid::nil());
        }
        for id in ids {
            q = q.bind(*id);
        }
        q
    }};
}
pub(crate) use bind_list;

/// Reads `RawItems` of a project on a connection expression (`&mut *tx` or a pool), which
/// is evaluated once per query.
macro_rules! load_items {
    ($conn:expr, $project:expr, $scope:expr, $postgres:expr) => {{
        let project: uuid::Uuid = $project;
        let scope: &opensesa_domain::baselines::BaselineScope = $scope;
        let postgres: bool = $postgres;
        let mut raw = $crate::baselines::items::RawItems::default();
        raw.modules = sqlx::query_as(&$crate::baselines::items::modules_sql(postgres))
        .bind(project)
        .fetch_all($conn)
        .await
        .map_err($crate::db_err)?;
        raw.requirements = sqlx::query_as(
            "SELECT id, human_id, module_id, parent_id, revision, content_hash FROM requirements \
             WHERE project_id = $1",
        )
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
            raw.plans = sqlx::query_as(&$crate::baselines::items::plans_sql(postgres))
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

/// Reads `RawItems` of only the dirty groups of a project's whole scope (modules and plans
/// are always read whole: they are few and not cached), with the other ends of their links.
macro_rules! load_dirty {
    ($conn:expr, $project:expr, $dirty:expr, $postgres:expr) => {{
        use $crate::baselines::items::{bind_list, in_list, link_filter};
        let project: uuid::Uuid = $project;
        let dirty: &$crate::baselines::items::DirtyGroups = $dirty;
        let postgres: bool = $postgres;
        let nil = uuid::Uuid::nil();
        let mut raw = $crate::baselines::items::RawItems::default();
        raw.modules = sqlx::query_as(&$crate::baselines::items::modules_sql(postgres))
        .bind(project)
        .fetch_all($conn)
        .await
        .map_err($crate::db_err)?;
        raw.plans = sqlx::query_as(&$crate::baselines::items::plans_sql(postgres))
        .bind(project)
        .fetch_all($conn)
        .await
        .map_err($crate::db_err)?;
        use opensesa_domain::baselines::ArtefactKind as K;
        let modules = dirty.of(&[K::Requirement, K::Link]);
        let plans = dirty.of(&[K::Case, K::Result, K::Link]);
        let results = dirty.of(&[K::Result]);
        let links = dirty.of(&[K::Link]);
        if !modules.is_empty() {
            let sql = format!(
                "SELECT id, human_id, module_id, parent_id, revision, content_hash FROM requirements \
                 WHERE project_id = $1 AND module_id IN ({})",
                in_list(2, modules.len())
            );
            raw.requirements = bind_list!(sqlx::query_as(&sql).bind(project), &modules)
                .fetch_all($conn)
                .await
                .map_err($crate::db_err)?;
        }
        if !plans.is_empty() {
            let sql = format!(
                "SELECT c.id, c.human_id, c.revision, c.content_hash, a.plan_id FROM vv_cases c \
                 LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.project_id = $1 \
                 AND COALESCE(a.plan_id, $2) IN ({})",
                in_list(3, plans.len())
            );
            raw.cases = bind_list!(sqlx::query_as(&sql).bind(project).bind(nil), &plans)
                .fetch_all($conn)
                .await
                .map_err($crate::db_err)?;
        }
        if !results.is_empty() {
            let sql = format!(
                "SELECT l.case_id, l.result_id, l.verdict, l.executed_at FROM vv_latest l \
                 JOIN vv_cases c ON c.id = l.case_id LEFT JOIN vv_activities a ON a.id = c.activity_id \
                 WHERE l.project_id = $1 AND COALESCE(a.plan_id, $2) IN ({})",
                in_list(3, results.len())
            );
            raw.latest = bind_list!(sqlx::query_as(&sql).bind(project).bind(nil), &results)
                .fetch_all($conn)
                .await
                .map_err($crate::db_err)?;
        }
        if !links.is_empty() {
            let filter = link_filter(links.len(), links.len());
            let sql = format!(
                "SELECT l.id, l.kind, l.source_type, l.source_id, l.target_type, l.target_id \
                 FROM trace_links l WHERE {filter}"
            );
            raw.links = bind_list!(
                bind_list!(sqlx::query_as(&sql).bind(project).bind(nil), &links),
                &links
            )
            .fetch_all($conn)
            .await
            .map_err($crate::db_err)?;
            let sql = format!(
                "SELECT r.id, r.human_id, r.module_id FROM requirements r WHERE r.id IN \
                 (SELECT l.target_id FROM trace_links l WHERE {filter}) \
                 UNION ALL SELECT c.id, c.human_id, COALESCE(a.plan_id, $2) FROM vv_cases c \
                 LEFT JOIN vv_activities a ON a.id = c.activity_id WHERE c.id IN \
                 (SELECT l.target_id FROM trace_links l WHERE {filter})"
            );
            raw.ends = bind_list!(
                bind_list!(sqlx::query_as(&sql).bind(project).bind(nil), &links),
                &links
            )
            .fetch_all($conn)
            .await
            .map_err($crate::db_err)?;
        }
        raw
    }};
}
pub(crate) use load_dirty;

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
        HashMap::with_capacity(raw.requirements.len() + raw.cases.len() + raw.ends.len());
    for (id, label, group) in raw.ends {
        ends.insert(id, (label, group));
    }
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
