//! `/api/v1/projects/{code}/…`: requirements management over JSON — modules, requirements
//! with their workflow, revisions and diffs, trace links and suspect clearing, comments,
//! review rounds, search, quality, coverage and the RVTM.
//!
//! The handlers call the same use cases as the pages (with the same access checks: 404 for
//! non-members and other projects' artefacts, 403 for a role that is too low) and turn the
//! results into the response types below; domain types carry no OpenAPI derives. Ids are
//! strings, times RFC 3339.

use super::ApiJson;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{FromRequestParts, Path, Query, RawQuery, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use opensesa_app::ports::{
    Comment, LinkView, ReqQuery, ReqRow, ReviewRound, RoundDetail, SearchHit, SortDir,
};
use opensesa_app::requirements::coverage::{CoverageFigures, RvtmRow, VerificationStatus};
use opensesa_app::requirements::ModuleSummary;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{CommentId, LinkId, ReviewRoundId, UserId};
use opensesa_domain::requirements::quality::{Finding, RuleId};
use opensesa_domain::requirements::{
    AttributeDef, AttributeKind, ModuleInput, Priority, ReqKind, ReqStatus, Requirement,
    RequirementInput, Transition,
};
use opensesa_domain::textdiff::{DiffKind, FieldDiff};
use opensesa_domain::FieldErrors;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

type ApiResult<T> = Result<Json<T>, ApiError>;
type Created<T> = Result<(StatusCode, Json<T>), ApiError>;

/// The most rows one page of a list returns.
pub(super) const MAX_LIMIT: i64 = 500;

/// Query parameters whose parse errors answer in the API's error shape (422).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

/// `limit` (1 to 500, `default` when absent) and `offset` (0 or more); errors by field.
pub(super) fn check_paging(
    limit: Option<i64>,
    offset: Option<i64>,
    default: i64,
    errors: &mut FieldErrors,
) -> (i64, i64) {
    let limit = limit.unwrap_or(default);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        errors.add("offset", "must not be negative");
    }
    (limit, offset)
}

fn paging(limit: Option<i64>, offset: Option<i64>, default: i64) -> Result<(i64, i64), AppError> {
    let mut errors = FieldErrors::new();
    let page = check_paging(limit, offset, default, &mut errors);
    if errors.is_empty() {
        Ok(page)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A query value with its spaces trimmed; `None` when absent or blank.
pub(super) fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// An id in a path: malformed is "no such thing" (404), like an id of another project.
pub(super) fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, AppError> {
    raw.trim().parse().map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct AttributeDefOut {
    name: String,
    /// text, number, boolean, date or enumeration
    kind: String,
    /// The allowed values of an enumeration.
    options: Vec<String>,
    required: bool,
}

impl From<&AttributeDef> for AttributeDefOut {
    fn from(d: &AttributeDef) -> Self {
        Self {
            name: d.name.clone(),
            kind: d.kind.as_str().into(),
            options: d.options.clone(),
            required: d.required,
        }
    }
}

/// A custom attribute definition of a module.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefIn {
    /// Letters, digits, spaces, `_` and `-`; not a built-in field name.
    name: String,
    /// text, number, boolean, date or enumeration
    kind: String,
    /// The allowed values of an enumeration (required for one).
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ModuleOut {
    id: String,
    /// The prefix of its requirements' human ids (`SYS` → `SYS-001`).
    prefix: String,
    name: String,
    description: String,
    /// The parent module's prefix; absent for a top-level module.
    parent: Option<String>,
    /// Depth in the module tree (0 for top level).
    depth: usize,
    ordinal: i64,
    attributes: Vec<AttributeDefOut>,
    revision: i64,
    /// Requirements in the module (all statuses).
    requirements: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn module_out(s: &ModuleSummary, all: &[ModuleSummary]) -> ModuleOut {
    let m = &s.module;
    ModuleOut {
        id: m.id.to_string(),
        prefix: m.prefix.clone(),
        name: m.name.clone(),
        description: m.description.clone(),
        parent: m.parent_id.and_then(|p| {
            all.iter()
                .find(|o| o.module.id == p)
                .map(|o| o.module.prefix.clone())
        }),
        depth: s.depth,
        ordinal: m.ordinal,
        attributes: m.attributes.iter().map(AttributeDefOut::from).collect(),
        revision: m.revision,
        requirements: s.count,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Module fields; on update, absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleIn {
    /// Required on create: 1–12 letters, digits or `-`, starting with a letter.
    prefix: Option<String>,
    /// Required on create.
    name: Option<String>,
    description: Option<String>,
    /// The parent module's prefix; an empty string makes the module top level.
    parent: Option<String>,
    /// Replaces the whole list of custom attribute definitions.
    attributes: Option<Vec<AttributeDefIn>>,
}

impl ModuleIn {
    fn into_input(self) -> Result<ModuleInput, AppError> {
        let attributes = match self.attributes {
            None => None,
            Some(defs) => {
                let mut out = Vec::with_capacity(defs.len());
                for d in defs {
                    let kind = AttributeKind::parse(&d.kind).map_err(|e| {
                        AppError::field("attributes", format!("attribute {:?}: {e}", d.name))
                    })?;
                    out.push(AttributeDef {
                        name: d.name,
                        kind,
                        options: d.options,
                        required: d.required,
                    });
                }
                Some(out)
            }
        };
        Ok(ModuleInput {
            prefix: self.prefix,
            name: self.name,
            description: self.description,
            parent: self.parent,
            attributes,
        })
    }
}

/// The module with `prefix` as the list shows it (count, depth, parent prefix).
async fn find_module_out(
    st: &AppState,
    p: &Principal,
    code: &str,
    prefix: &str,
) -> ApiResult<ModuleOut> {
    let (_, all) = st.app.list_modules(p, code).await?;
    let s = all
        .iter()
        .find(|s| s.module.prefix.eq_ignore_ascii_case(prefix.trim()))
        .ok_or(AppError::NotFound)?;
    Ok(Json(module_out(s, &all)))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/modules", tag = "requirements",
    summary = "Requirement modules in tree order, with their requirement counts",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<ModuleOut>), (status = 404, body = ErrorBody)))]
pub async fn list_modules(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<ModuleOut>> {
    let (_, all) = st.app.list_modules(&p, &code).await?;
    Ok(Json(all.iter().map(|s| module_out(s, &all)).collect()))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/modules", tag = "requirements",
    summary = "Create a module (leads)",
    params(("code" = String, Path, description = "Project code")), request_body = ModuleIn,
    responses((status = 201, body = ModuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_module(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ModuleIn>,
) -> Created<ModuleOut> {
    let m = st.app.create_module(&p, &code, &b.into_input()?).await?;
    let out = find_module_out(&st, &p, &code, &m.prefix).await?;
    Ok((StatusCode::CREATED, out))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/modules/{prefix}", tag = "requirements",
    summary = "One module",
    params(("code" = String, Path, description = "Project code"), ("prefix" = String, Path, description = "Module prefix")),
    responses((status = 200, body = ModuleOut), (status = 404, body = ErrorBody)))]
pub async fn get_module(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, prefix)): Path<(String, String)>,
) -> ApiResult<ModuleOut> {
    find_module_out(&st, &p, &code, &prefix).await
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/modules/{prefix}", tag = "requirements",
    summary = "Change a module (leads); a new revision",
    params(("code" = String, Path, description = "Project code"), ("prefix" = String, Path, description = "Module prefix")),
    request_body = ModuleIn,
    responses((status = 200, body = ModuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_module(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, prefix)): Path<(String, String)>,
    ApiJson(b): ApiJson<ModuleIn>,
) -> ApiResult<ModuleOut> {
    let m = st
        .app
        .update_module(&p, &code, &prefix, &b.into_input()?)
        .await?;
    find_module_out(&st, &p, &code, &m.prefix).await
}

// ---------------------------------------------------------------------------------------------
// Requirements
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct RequirementOut {
    id: String,
    /// Stable, unique in the project: `SYS-001`.
    human_id: String,
    /// The module's prefix.
    module: String,
    module_id: String,
    title: String,
    /// Plain text: what search, quality rules and diffs read.
    statement: String,
    /// The statement as XHTML when it was imported with markup (ReqIF).
    statement_xhtml: Option<String>,
    rationale: String,
    /// functional, performance, interface, constraint, safety, security, non_functional,
    /// heading or information
    kind: String,
    /// critical, high, medium or low
    priority: String,
    /// test, analysis, inspection, demonstration
    verification_methods: Vec<String>,
    source: String,
    owner: String,
    tags: Vec<String>,
    /// Custom attribute values by name (string, number or boolean).
    #[schema(value_type = Object)]
    attributes: BTreeMap<String, Value>,
    /// The parent requirement's id.
    parent_id: Option<String>,
    /// Order within the module.
    ordinal: i64,
    /// draft, in_review, approved, rejected or obsolete
    status: String,
    /// The current revision; send it back as `revision` on update to refuse lost writes.
    revision: i64,
    /// The latest approved revision; stays when an approved requirement is edited back to draft.
    approved_revision: Option<i64>,
    /// The identifier in the file it was imported from.
    external_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn req_out(r: Requirement, module: String) -> RequirementOut {
    RequirementOut {
        id: r.id.to_string(),
        human_id: r.human_id,
        module,
        module_id: r.module_id.to_string(),
        title: r.title,
        statement: r.statement,
        statement_xhtml: r.statement_xhtml,
        rationale: r.rationale,
        kind: r.kind.as_str().into(),
        priority: r.priority.as_str().into(),
        verification_methods: r
            .verification_methods
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect(),
        source: r.source,
        owner: r.owner,
        tags: r.tags,
        attributes: r.attributes,
        parent_id: r.parent_id.map(|p| p.to_string()),
        ordinal: r.ordinal,
        status: r.status.as_str().into(),
        revision: r.revision,
        approved_revision: r.approved_revision,
        external_id: r.external_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The requirement with its module's prefix (read from the store's port).
async fn req_out_of(st: &AppState, r: Requirement) -> ApiResult<RequirementOut> {
    let prefix = st
        .app
        .store
        .find_module(r.project_id, r.module_id)
        .await
        .map_err(AppError::from)?
        .map(|m| m.prefix)
        .unwrap_or_default();
    Ok(Json(req_out(r, prefix)))
}

/// Requirement fields. On update and in bulk edits, absent (or null) fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RequirementIn {
    /// Required on create.
    title: Option<String>,
    statement: Option<String>,
    rationale: Option<String>,
    /// functional (default), performance, interface, constraint, safety, security,
    /// non_functional, heading or information
    #[serde(alias = "type")]
    kind: Option<String>,
    /// critical, high, medium (default) or low
    priority: Option<String>,
    /// Any of test, analysis, inspection, demonstration; replaces the list.
    verification_methods: Option<Vec<String>>,
    source: Option<String>,
    owner: Option<String>,
    /// Replaces the list; a tag may not contain `,`, `;` or a line break.
    tags: Option<Vec<String>>,
    /// The parent requirement's human id; an empty string removes the parent.
    parent: Option<String>,
    /// Custom attribute values by name: string, number or boolean; null or "" removes a
    /// value. Only the named attributes change.
    #[schema(value_type = Object)]
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
    /// Update only: the revision the change is based on; another revision is a conflict (409).
    revision: Option<i64>,
}

impl RequirementIn {
    /// The domain input and the expected revision; `prefix` names fields in nested bodies.
    fn into_input(self, prefix: &str) -> Result<(RequirementInput, Option<i64>), AppError> {
        let mut errors = FieldErrors::new();
        let name = |f: &str| format!("{prefix}{f}");
        let verification_methods = self.verification_methods.map(|v| v.join(", "));
        let tags = match self.tags {
            None => None,
            Some(tags) => {
                for t in &tags {
                    if t.contains([',', ';', '\n', '\r']) {
                        errors.add(
                            &name("tags"),
                            format!("tag {t:?} may not contain ',', ';' or a line break"),
                        );
                    }
                }
                Some(tags.join(", "))
            }
        };
        let mut attributes = BTreeMap::new();
        for (key, v) in self.attributes {
            let text = match v {
                Value::Null => String::new(),
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => {
                    errors.add(
                        &name(&format!("attributes.{key}")),
                        "must be a string, a number or a boolean",
                    );
                    continue;
                }
            };
            attributes.insert(key, text);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok((
            RequirementInput {
                title: self.title,
                statement: self.statement,
                rationale: self.rationale,
                kind: self.kind,
                priority: self.priority,
                verification_methods,
                source: self.source,
                owner: self.owner,
                tags,
                parent: self.parent,
                attributes,
            },
            self.revision,
        ))
    }
}

#[derive(Serialize, ToSchema)]
pub struct RequirementRowOut {
    #[serde(flatten)]
    requirement: RequirementOut,
    /// Suspect links touching the requirement.
    suspect_links: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RequirementPageOut {
    items: Vec<RequirementRowOut>,
    /// Matching requirements in all pages.
    total: i64,
}

/// Filters, sort and page of the requirement table. Filters combine with AND.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequirementParams {
    /// A module prefix.
    module: Option<String>,
    /// draft, in_review, approved, rejected or obsolete
    status: Option<String>,
    /// functional, performance, interface, constraint, safety, security, non_functional,
    /// heading or information
    kind: Option<String>,
    /// critical, high, medium or low
    priority: Option<String>,
    /// The owner, exactly.
    owner: Option<String>,
    /// Requirements carrying this tag.
    tag: Option<String>,
    /// Full text over ids, titles, statements and comments; every word must match (as a prefix).
    q: Option<String>,
    /// A custom attribute equal to a value, as `name=value` (`ASIL=B`). Also accepted: the
    /// parameter `attr.<name>=<value>` (`attr.ASIL=B`), or `attribute_name` with
    /// `attribute_value`. One attribute filter at a time.
    attribute: Option<String>,
    attribute_name: Option<String>,
    attribute_value: Option<String>,
    /// Only requirements with a suspect link.
    suspect: Option<bool>,
    /// id, title, status, kind, priority, owner, updated, revision or order (default: document order)
    sort: Option<String>,
    /// asc (default) or desc
    dir: Option<String>,
    /// 1 to 500 (default 50)
    limit: Option<i64>,
    offset: Option<i64>,
}

const SORTS: &[&str] = &[
    "id", "title", "status", "kind", "priority", "owner", "updated", "revision", "order",
];

/// The attribute filter from the three accepted spellings.
fn attribute_filter(
    q: &RequirementParams,
    raw: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<(String, String)> {
    let mut found = Vec::new();
    if let Some(a) = q.attribute.as_deref().filter(|a| !a.trim().is_empty()) {
        match a.split_once('=') {
            Some((n, v)) if !n.trim().is_empty() => found.push((n.trim().into(), v.trim().into())),
            _ => errors.add("attribute", "use the form name=value, e.g. ASIL=B"),
        }
    }
    match (&q.attribute_name, &q.attribute_value) {
        (Some(n), v) if !n.trim().is_empty() => found.push((
            n.trim().to_owned(),
            v.as_deref().unwrap_or("").trim().to_owned(),
        )),
        (_, Some(_)) => errors.add("attribute_name", "is required with attribute_value"),
        _ => {}
    }
    if let Some(raw) = raw {
        match serde_urlencoded::from_str::<Vec<(String, String)>>(raw) {
            Ok(pairs) => {
                for (k, v) in pairs {
                    if let Some(n) = k.strip_prefix("attr.") {
                        if n.trim().is_empty() {
                            errors.add("attribute", "attr. needs an attribute name: attr.ASIL=B");
                        } else {
                            found.push((n.trim().to_owned(), v.trim().to_owned()));
                        }
                    }
                }
            }
            Err(e) => errors.add("attribute", format!("the query could not be read: {e}")),
        }
    }
    if found.len() > 1 {
        errors.add("attribute", "filter on one custom attribute at a time");
    }
    found.into_iter().next()
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/requirements", tag = "requirements",
    summary = "The requirement table: filter, full-text search, sort and page",
    params(("code" = String, Path, description = "Project code"), RequirementParams),
    responses((status = 200, body = RequirementPageOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_requirements(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<RequirementParams>,
    RawQuery(raw): RawQuery,
) -> ApiResult<RequirementPageOut> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let mut errors = FieldErrors::new();
    let module_id = match text(&q.module) {
        None => None,
        Some(prefix) => {
            let (_, modules) = st.app.list_modules(&p, &code).await?;
            let m = modules
                .iter()
                .find(|s| s.module.prefix.eq_ignore_ascii_case(prefix))
                .map(|s| s.module.id);
            if m.is_none() {
                errors.add("module", format!("no module has the prefix {prefix:?}"));
            }
            m
        }
    };
    let status = text(&q.status)
        .and_then(|s| errors.check("status", ReqStatus::parse(s)))
        .map(|s| s.as_str().to_owned());
    let kind = text(&q.kind)
        .and_then(|s| errors.check("kind", ReqKind::parse(s)))
        .map(|s| s.as_str().to_owned());
    let priority = text(&q.priority)
        .and_then(|s| errors.check("priority", Priority::parse(s)))
        .map(|s| s.as_str().to_owned());
    let sort = match text(&q.sort) {
        None => None,
        Some(s) if SORTS.contains(&s) => Some(s.to_owned()),
        Some(s) => {
            errors.add("sort", format!("{s:?} is not one of {}", SORTS.join(", ")));
            None
        }
    };
    let dir = match text(&q.dir) {
        None | Some("asc") => SortDir::Asc,
        Some("desc") => SortDir::Desc,
        Some(d) => {
            errors.add("dir", format!("{d:?} is not asc or desc"));
            SortDir::Asc
        }
    };
    let attribute = attribute_filter(&q, raw.as_deref(), &mut errors);
    let (limit, offset) = check_paging(q.limit, q.offset, 50, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors).into());
    }
    let query = ReqQuery {
        project_id: Some(ctx.project.id),
        module_id,
        status,
        kind,
        priority,
        owner: text(&q.owner).map(str::to_owned),
        tag: text(&q.tag).map(str::to_owned),
        text: text(&q.q).map(str::to_owned),
        attribute,
        only_suspect: q.suspect.unwrap_or(false),
        sort,
        dir,
        limit,
        offset,
    };
    let (_, page) = st.app.list_requirements(&p, &code, query).await?;
    Ok(Json(RequirementPageOut {
        total: page.total,
        items: page
            .rows
            .into_iter()
            .map(
                |ReqRow {
                     req,
                     module_prefix,
                     suspect_links,
                 }| RequirementRowOut {
                    requirement: req_out(req, module_prefix),
                    suspect_links,
                },
            )
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/modules/{prefix}/requirements", tag = "requirements",
    summary = "Create a requirement in a module (editors); its human id is allocated from the prefix",
    params(("code" = String, Path, description = "Project code"), ("prefix" = String, Path, description = "Module prefix")),
    request_body = RequirementIn,
    responses((status = 201, body = RequirementOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_requirement(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, prefix)): Path<(String, String)>,
    ApiJson(b): ApiJson<RequirementIn>,
) -> Created<RequirementOut> {
    let (input, revision) = b.into_input("")?;
    if revision.is_some() {
        return Err(AppError::field("revision", "is only for updates").into());
    }
    let r = st
        .app
        .create_requirement(&p, &code, &prefix, &input)
        .await?;
    Ok((StatusCode::CREATED, req_out_of(&st, r).await?))
}

#[derive(Serialize, ToSchema)]
pub struct SuspectReasonOut {
    /// source or target: the end that changed, or through which the change arrived.
    end: String,
    /// The human id of the requirement whose edit caused it.
    changed: String,
    from_revision: i64,
    to_revision: i64,
    /// The change happened further upstream and arrived through other links.
    propagated: bool,
}

/// A trace link, read "source KIND target" (`SW-001 derives SYS-001`): the target is upstream.
#[derive(Serialize, ToSchema)]
pub struct LinkOut {
    id: String,
    /// derives, refines, satisfies, verifies, allocated_to, mitigates or relates
    kind: String,
    /// The source's human id.
    source: String,
    source_id: String,
    source_title: String,
    /// The target's human id.
    target: String,
    target_id: String,
    target_title: String,
    /// The revisions of the ends when the link was made or last confirmed.
    source_revision: i64,
    target_revision: i64,
    /// An end has a newer revision than the link confirmed; clear it with a reason.
    suspect: bool,
    suspect_reasons: Vec<SuspectReasonOut>,
    created_at: DateTime<Utc>,
    confirmed_at: DateTime<Utc>,
}

impl From<LinkView> for LinkOut {
    fn from(v: LinkView) -> Self {
        let l = v.link;
        Self {
            id: l.id.to_string(),
            kind: l.kind.as_str().into(),
            source: v.source_human_id,
            source_id: l.source_id.to_string(),
            source_title: v.source_title,
            target: v.target_human_id,
            target_id: l.target_id.to_string(),
            target_title: v.target_title,
            source_revision: l.source_revision,
            target_revision: l.target_revision,
            suspect: l.suspect,
            suspect_reasons: l
                .suspect_reasons
                .into_iter()
                .map(|r| SuspectReasonOut {
                    end: r.end,
                    changed: r.changed,
                    from_revision: r.from_revision,
                    to_revision: r.to_revision,
                    propagated: r.propagated,
                })
                .collect(),
            created_at: l.created_at,
            confirmed_at: l.confirmed_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FindingOut {
    /// weak_word, tbd, multiple_shall, passive_voice, missing_verification,
    /// missing_rationale, duplicate, near_duplicate, orphan or untraced
    rule: String,
    /// error, warning or info
    severity: String,
    message: String,
}

impl From<&Finding> for FindingOut {
    fn from(f: &Finding) -> Self {
        Self {
            rule: f.rule.as_str().into(),
            severity: f.severity.as_str().into(),
            message: f.message.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RequirementDetailOut {
    requirement: RequirementOut,
    /// The parent requirement's human id.
    parent: Option<String>,
    /// Human ids of the child requirements, in document order.
    children: Vec<String>,
    /// Links from this requirement (it is the source): what it traces to, upstream.
    outgoing: Vec<LinkOut>,
    /// Links to this requirement (it is the target): what traces to it, downstream.
    incoming: Vec<LinkOut>,
    /// Quality findings of the current revision.
    findings: Vec<FindingOut>,
    /// Revision numbers, oldest first.
    revisions: Vec<i64>,
    /// Workflow steps the caller may take now.
    transitions: Vec<String>,
    /// Comment threads not yet resolved.
    open_threads: usize,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/requirements/{human_id}", tag = "requirements",
    summary = "One requirement with its links (both directions), findings and revision numbers",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id, e.g. SYS-001")),
    responses((status = 200, body = RequirementDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_requirement(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<RequirementDetailOut> {
    let d = st.app.requirement_detail(&p, &code, &human_id).await?;
    let me = d.req.id.0;
    let (outgoing, incoming): (Vec<LinkView>, Vec<LinkView>) =
        d.links.into_iter().partition(|l| l.link.source_id == me);
    let mut revisions: Vec<i64> = d.revisions.iter().map(|r| r.number).collect();
    revisions.sort_unstable();
    Ok(Json(RequirementDetailOut {
        parent: d.parent.map(|r| r.human_id),
        children: d.children.into_iter().map(|r| r.human_id).collect(),
        outgoing: outgoing.into_iter().map(LinkOut::from).collect(),
        incoming: incoming.into_iter().map(LinkOut::from).collect(),
        findings: d.findings.iter().map(FindingOut::from).collect(),
        revisions,
        transitions: d
            .transitions
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
        open_threads: d
            .comments
            .iter()
            .filter(|c| c.thread_id.is_none() && c.resolved_at.is_none())
            .count(),
        requirement: req_out(d.req, d.module.prefix),
    }))
}

#[utoipa::path(patch, path = "/api/v1/projects/{code}/requirements/{human_id}", tag = "requirements",
    summary = "Edit a requirement (editors): a content change is a new revision, sends an approved one back to draft and makes its links suspect",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id")),
    request_body = RequirementIn,
    responses((status = 200, body = RequirementOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_requirement(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<RequirementIn>,
) -> ApiResult<RequirementOut> {
    let (input, revision) = b.into_input("")?;
    let r = st
        .app
        .update_requirement(&p, &code, &human_id, &input, revision)
        .await?;
    req_out_of(&st, r).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIn {
    /// Human ids of the requirements to change (at most 5000).
    ids: Vec<String>,
    /// The fields to set on every one of them (`revision` is not accepted here).
    changes: RequirementIn,
}

#[derive(Serialize, ToSchema)]
pub struct BulkOut {
    /// Requirements that changed (those already equal to the changes are left alone).
    updated: usize,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/requirements/bulk", tag = "requirements",
    summary = "The same edit on several requirements (editors), in one transaction: all or none",
    params(("code" = String, Path, description = "Project code")), request_body = BulkIn,
    responses((status = 200, body = BulkOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_edit(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<BulkIn>,
) -> ApiResult<BulkOut> {
    let (input, revision) = b.changes.into_input("changes.")?;
    if revision.is_some() {
        return Err(AppError::field("changes.revision", "is not accepted in a bulk edit").into());
    }
    let updated = st.app.bulk_edit(&p, &code, &b.ids, &input).await?;
    Ok(Json(BulkOut { updated }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// submit, withdraw, rework (editors); approve, reject, obsolete, reinstate (leads)
    step: String,
    /// Recorded in the audit trail.
    comment: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/requirements/{human_id}/transitions", tag = "requirements",
    summary = "A workflow step: draft → in_review → approved | rejected (→ draft); obsolete. Only leads approve",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id")),
    request_body = TransitionIn,
    responses((status = 200, body = RequirementOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<TransitionIn>,
) -> ApiResult<RequirementOut> {
    let step = Transition::parse(&b.step).map_err(|e| AppError::field("step", e))?;
    let comment = b
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let r = st
        .app
        .transition(&p, &code, &human_id, step, comment)
        .await?;
    req_out_of(&st, r).await
}

#[derive(Serialize, ToSchema)]
pub struct RevisionOut {
    number: i64,
    at: DateTime<Utc>,
    author_id: Option<String>,
    /// SHA-256 over the canonical JSON of `data`.
    content_hash: String,
    /// The requirement's content at this revision.
    #[schema(value_type = Object)]
    data: Value,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/requirements/{human_id}/revisions", tag = "requirements",
    summary = "Every revision of a requirement, oldest first",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id")),
    responses((status = 200, body = Vec<RevisionOut>), (status = 404, body = ErrorBody)))]
pub async fn list_revisions(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<Vec<RevisionOut>> {
    let (_, req) = st
        .app
        .requirement(&p, &code, &human_id, Permission::Read)
        .await?;
    let mut revisions = st
        .app
        .store
        .list_revisions("requirement", &req.id.to_string())
        .await
        .map_err(AppError::from)?;
    revisions.sort_by_key(|r| r.number);
    Ok(Json(
        revisions
            .into_iter()
            .map(|r| RevisionOut {
                number: r.number,
                at: r.at,
                author_id: r.author_id.map(|u| u.to_string()),
                content_hash: r.content_hash,
                data: r.data,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The older revision (default: the one before `to`).
    from: Option<i64>,
    /// The newer revision (default: the current one).
    to: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DiffSpanOut {
    /// equal, insert or delete
    kind: String,
    text: String,
}

/// One changed field. The `equal` and `delete` spans in order give `old`; the `equal` and
/// `insert` spans give `new`.
#[derive(Serialize, ToSchema)]
pub struct FieldDiffOut {
    /// The field; custom attributes appear as `attributes.<name>`.
    field: String,
    old: String,
    new: String,
    /// Word-level differences of `old` into `new`.
    spans: Vec<DiffSpanOut>,
}

impl From<FieldDiff> for FieldDiffOut {
    fn from(d: FieldDiff) -> Self {
        Self {
            field: d.field,
            old: d.old,
            new: d.new,
            spans: d
                .spans
                .into_iter()
                .map(|s| DiffSpanOut {
                    kind: match s.kind {
                        DiffKind::Equal => "equal",
                        DiffKind::Insert => "insert",
                        DiffKind::Delete => "delete",
                    }
                    .into(),
                    text: s.text,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DiffOut {
    human_id: String,
    from: i64,
    to: i64,
    /// Only the fields that differ, by name.
    fields: Vec<FieldDiffOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/requirements/{human_id}/diff", tag = "requirements",
    summary = "Field- and word-level differences between two revisions",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id"), DiffParams),
    responses((status = 200, body = DiffOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn diff(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DiffParams>,
) -> ApiResult<DiffOut> {
    let (to, from) = match (q.from, q.to) {
        (Some(f), Some(t)) => (t, f),
        (f, t) => {
            let (_, req) = st
                .app
                .requirement(&p, &code, &human_id, Permission::Read)
                .await?;
            let to = t.unwrap_or(req.revision);
            (to, f.unwrap_or((to - 1).max(1)))
        }
    };
    let (req, fields) = st
        .app
        .requirement_diff(&p, &code, &human_id, from, to)
        .await?;
    Ok(Json(DiffOut {
        human_id: req.human_id,
        from,
        to,
        fields: fields.into_iter().map(FieldDiffOut::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct LinkPageOut {
    items: Vec<LinkOut>,
    total: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkParams {
    /// Only suspect links.
    suspect: Option<bool>,
    /// 1 to 500 (default 100)
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/links", tag = "requirements",
    summary = "The project's trace links (all, or only the suspect ones)",
    params(("code" = String, Path, description = "Project code"), LinkParams),
    responses((status = 200, body = LinkPageOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_links(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<LinkParams>,
) -> ApiResult<LinkPageOut> {
    st.app.project_access(&p, &code, Permission::Read).await?;
    let (limit, offset) = paging(q.limit, q.offset, 100)?;
    let (_, links, total) = st
        .app
        .project_links(&p, &code, q.suspect.unwrap_or(false), limit, offset)
        .await?;
    Ok(Json(LinkPageOut {
        items: links.into_iter().map(LinkOut::from).collect(),
        total,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    /// The downstream requirement's human id.
    source: String,
    /// derives, refines, satisfies, verifies, allocated_to, mitigates or relates
    kind: String,
    /// The upstream requirement's human id.
    target: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/links", tag = "requirements",
    summary = "Create a trace link `source KIND target` (editors); no self links, no duplicates, no cycles of derives/refines",
    params(("code" = String, Path, description = "Project code")), request_body = LinkIn,
    responses((status = 201, body = LinkOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_link(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<LinkIn>,
) -> Created<LinkOut> {
    let link = st
        .app
        .create_link(&p, &code, &b.source, &b.kind, &b.target)
        .await?;
    let view = st
        .app
        .store
        .links_of(link.source_id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .find(|v| v.link.id == link.id)
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[utoipa::path(delete, path = "/api/v1/projects/{code}/links/{id}", tag = "requirements",
    summary = "Delete a trace link (editors)",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Link id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_link(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: LinkId = path_id(&id)?;
    st.app.delete_link(&p, &code, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearIn {
    /// Ids of suspect links; links that are not suspect are skipped.
    ids: Vec<String>,
    /// Why the links still hold; recorded in the audit trail with each link.
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClearOut {
    /// Links confirmed again.
    cleared: u64,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/links/clear", tag = "requirements",
    summary = "Confirm suspect links again with a reason (editors); audited per link",
    params(("code" = String, Path, description = "Project code")), request_body = ClearIn,
    responses((status = 200, body = ClearOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn clear_links(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<ClearIn>,
) -> ApiResult<ClearOut> {
    st.app.project_access(&p, &code, Permission::Write).await?;
    let mut ids = Vec::with_capacity(b.ids.len());
    for raw in &b.ids {
        let id: LinkId = raw
            .trim()
            .parse()
            .map_err(|_| AppError::field("ids", format!("{raw:?} is not a link id")))?;
        ids.push(id);
    }
    let cleared = st
        .app
        .clear_suspect(&p, &code, &ids, &b.reason)
        .await
        .map_err(|e| match e {
            // The use case names its field after the page's form; here it is `ids`.
            AppError::Validation(errors) => {
                let mut renamed = FieldErrors::new();
                for (field, reasons) in errors.iter() {
                    let field = if field == "links" { "ids" } else { field };
                    for r in reasons {
                        renamed.add(field, r.clone());
                    }
                }
                AppError::Validation(renamed)
            }
            other => other,
        })?;
    Ok(Json(ClearOut { cleared }))
}

// ---------------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct CommentOut {
    id: String,
    /// The first comment of the thread this one answers; absent for a thread's first comment.
    thread_id: Option<String>,
    author_id: Option<String>,
    author: String,
    body: String,
    /// The requirement's revision when the comment was made.
    revision: i64,
    /// Set on a thread's first comment when the thread is resolved.
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<Comment> for CommentOut {
    fn from(c: Comment) -> Self {
        Self {
            id: c.id.to_string(),
            thread_id: c.thread_id.map(|t| t.to_string()),
            author_id: c.author_id.map(|u| u.to_string()),
            author: c.author,
            body: c.body,
            revision: c.revision,
            resolved_at: c.resolved_at,
            resolved_by: c.resolved_by,
            created_at: c.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/requirements/{human_id}/comments", tag = "requirements",
    summary = "The comments on a requirement, oldest first; threads by `thread_id`",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id")),
    responses((status = 200, body = Vec<CommentOut>), (status = 404, body = ErrorBody)))]
pub async fn list_comments(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
) -> ApiResult<Vec<CommentOut>> {
    let (_, req) = st
        .app
        .requirement(&p, &code, &human_id, Permission::Read)
        .await?;
    let comments = st
        .app
        .store
        .list_comments(req.id)
        .await
        .map_err(AppError::from)?;
    Ok(Json(comments.into_iter().map(CommentOut::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    body: String,
    /// The id of a thread's first comment to answer it; absent to start a thread.
    thread: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/requirements/{human_id}/comments", tag = "requirements",
    summary = "Comment on a requirement (any member): a new thread or an answer",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id")),
    request_body = CommentIn,
    responses((status = 201, body = CommentOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_comment(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<CommentIn>,
) -> Created<CommentOut> {
    let thread = match b.thread.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            t.parse::<CommentId>()
                .map_err(|_| AppError::field("thread", format!("{t:?} is not a comment id")))?,
        ),
    };
    let c = st
        .app
        .add_comment(&p, &code, &human_id, &b.body, thread)
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/requirements/{human_id}/comments/{thread}/resolve", tag = "requirements",
    summary = "Resolve a comment thread (editors); answers the thread's first comment",
    params(("code" = String, Path, description = "Project code"), ("human_id" = String, Path, description = "Human id"), ("thread" = String, Path, description = "Id of the thread's first comment")),
    responses((status = 200, body = CommentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resolve_thread(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, human_id, thread)): Path<(String, String, String)>,
) -> ApiResult<CommentOut> {
    let (_, req) = st
        .app
        .requirement(&p, &code, &human_id, Permission::Write)
        .await?;
    let thread: CommentId = path_id(&thread)?;
    let known = |comments: &[Comment]| {
        comments
            .iter()
            .find(|c| c.id == thread && c.thread_id.is_none())
            .cloned()
    };
    let comments = st
        .app
        .store
        .list_comments(req.id)
        .await
        .map_err(AppError::from)?;
    // A thread of another requirement (or project) does not exist here.
    let head = known(&comments).ok_or(AppError::NotFound)?;
    if head.resolved_at.is_some() {
        return Err(AppError::Conflict("the thread is resolved already".into()).into());
    }
    st.app.resolve_thread(&p, &code, &human_id, thread).await?;
    let comments = st
        .app
        .store
        .list_comments(req.id)
        .await
        .map_err(AppError::from)?;
    Ok(Json(known(&comments).ok_or(AppError::NotFound)?.into()))
}

// ---------------------------------------------------------------------------------------------
// Review rounds
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct ReviewRoundOut {
    id: String,
    title: String,
    /// open or closed
    status: String,
    opened_by: String,
    opened_at: DateTime<Utc>,
    closed_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    summary: String,
}

impl From<ReviewRound> for ReviewRoundOut {
    fn from(r: ReviewRound) -> Self {
        Self {
            id: r.id.to_string(),
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

#[derive(Serialize, ToSchema)]
pub struct ReviewItemOut {
    /// Human id.
    requirement: String,
    requirement_id: String,
    title: String,
    /// The requirement's status now.
    status: String,
    /// The revision under review when the round opened.
    revision: i64,
    current_revision: i64,
    /// approved, rejected or undecided once the round is closed.
    outcome: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewerOut {
    id: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionOut {
    /// Human id.
    requirement: String,
    reviewer_id: String,
    reviewer: String,
    /// approve, reject or comment
    decision: String,
    comment: String,
    /// The revision the decision was made on.
    revision: i64,
    at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct RoundDetailOut {
    round: ReviewRoundOut,
    items: Vec<ReviewItemOut>,
    reviewers: Vec<ReviewerOut>,
    decisions: Vec<DecisionOut>,
}

impl From<RoundDetail> for RoundDetailOut {
    fn from(d: RoundDetail) -> Self {
        let human = |id| {
            d.items
                .iter()
                .find(|i| i.requirement_id == id)
                .map(|i| i.human_id.clone())
                .unwrap_or_default()
        };
        let decisions = d
            .decisions
            .iter()
            .map(|x| DecisionOut {
                requirement: human(x.requirement_id),
                reviewer_id: x.reviewer_id.to_string(),
                reviewer: x.reviewer.clone(),
                decision: x.decision.clone(),
                comment: x.comment.clone(),
                revision: x.revision,
                at: x.at,
            })
            .collect();
        Self {
            decisions,
            round: d.round.into(),
            items: d
                .items
                .into_iter()
                .map(|i| ReviewItemOut {
                    requirement: i.human_id,
                    requirement_id: i.requirement_id.to_string(),
                    title: i.title,
                    status: i.status,
                    revision: i.revision,
                    current_revision: i.current_revision,
                    outcome: i.outcome,
                })
                .collect(),
            reviewers: d
                .reviewers
                .into_iter()
                .map(|(id, name)| ReviewerOut {
                    id: id.to_string(),
                    name,
                })
                .collect(),
        }
    }
}

async fn round_out(
    st: &AppState,
    p: &Principal,
    code: &str,
    id: ReviewRoundId,
) -> ApiResult<RoundDetailOut> {
    let (_, d) = st.app.review_round(p, code, id).await?;
    Ok(Json(d.into()))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/reviews", tag = "requirements",
    summary = "Review rounds of a project",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = Vec<ReviewRoundOut>), (status = 404, body = ErrorBody)))]
pub async fn list_reviews(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<ReviewRoundOut>> {
    let (_, rounds) = st.app.list_rounds(&p, &code).await?;
    Ok(Json(rounds.into_iter().map(ReviewRoundOut::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRoundIn {
    title: String,
    /// Human ids of draft, rejected or in-review requirements; they enter review.
    requirements: Vec<String>,
    /// Project members, by user id or email.
    reviewers: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/reviews", tag = "requirements",
    summary = "Open a review round (leads) on requirements, with reviewers",
    params(("code" = String, Path, description = "Project code")), request_body = OpenRoundIn,
    responses((status = 201, body = RoundDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open_review(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<OpenRoundIn>,
) -> Created<RoundDetailOut> {
    st.app.project_access(&p, &code, Permission::Lead).await?;
    let (_, members) = st.app.list_members(&p, &code).await?;
    let mut reviewers: Vec<UserId> = Vec::new();
    for raw in &b.reviewers {
        let key = raw.trim();
        let m = members
            .iter()
            .find(|m| {
                m.user.id.to_string().eq_ignore_ascii_case(key)
                    || m.user.email.to_string().eq_ignore_ascii_case(key)
            })
            .ok_or_else(|| {
                AppError::field(
                    "reviewers",
                    format!("{key:?} is not a member of the project"),
                )
            })?;
        if !reviewers.contains(&m.user.id) {
            reviewers.push(m.user.id);
        }
    }
    let id = st
        .app
        .open_round(&p, &code, &b.title, &b.requirements, &reviewers)
        .await?;
    Ok((StatusCode::CREATED, round_out(&st, &p, &code, id).await?))
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/reviews/{id}", tag = "requirements",
    summary = "A review round with its items, reviewers and decisions",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Round id")),
    responses((status = 200, body = RoundDetailOut), (status = 404, body = ErrorBody)))]
pub async fn get_review(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<RoundDetailOut> {
    round_out(&st, &p, &code, path_id(&id)?).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// Human id of a requirement in the round.
    requirement: String,
    /// approve, reject or comment
    decision: String,
    /// Required for reject and comment.
    #[serde(default)]
    comment: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/reviews/{id}/decisions", tag = "requirements",
    summary = "A reviewer's decision on one requirement of an open round (replaces their earlier one)",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Round id")),
    request_body = DecisionIn,
    responses((status = 200, body = RoundDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_decision(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<DecisionIn>,
) -> ApiResult<RoundDetailOut> {
    let id: ReviewRoundId = path_id(&id)?;
    st.app
        .record_decision(&p, &code, id, &b.requirement, &b.decision, &b.comment)
        .await?;
    round_out(&st, &p, &code, id).await
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CloseIn {
    /// Apply the outcomes: approve the requirements every reviewer approved (on their
    /// current revision), reject those with a rejection. Default false: only close.
    #[serde(default)]
    apply: bool,
    #[serde(default)]
    summary: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{code}/reviews/{id}/close", tag = "requirements",
    summary = "Close a review round (leads), optionally applying its outcomes",
    params(("code" = String, Path, description = "Project code"), ("id" = String, Path, description = "Round id")),
    request_body = CloseIn,
    responses((status = 200, body = RoundDetailOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close_review(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path((code, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<CloseIn>,
) -> ApiResult<RoundDetailOut> {
    let id: ReviewRoundId = path_id(&id)?;
    st.app
        .close_round(&p, &code, id, b.apply, &b.summary)
        .await?;
    round_out(&st, &p, &code, id).await
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find (each as a prefix; all must match).
    q: Option<String>,
    /// 1 to 200 (default 50)
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitOut {
    id: String,
    human_id: String,
    /// The module's prefix.
    module: String,
    title: String,
    /// The matched text with `[[` before and `]]` after each hit (`… shall [[hold]] attitude …`);
    /// the text is not HTML-escaped: escape it, then turn the markers into highlights.
    snippet: String,
    /// Relevance: hits come best first, and a lower rank is a better match.
    rank: f64,
}

impl From<SearchHit> for SearchHitOut {
    fn from(h: SearchHit) -> Self {
        Self {
            id: h.id.to_string(),
            human_id: h.human_id,
            module: h.module_prefix,
            title: h.title,
            snippet: h.snippet,
            rank: h.rank,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    items: Vec<SearchHitOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/search", tag = "requirements",
    summary = "Ranked full-text search over requirement ids, titles, statements and comments",
    params(("code" = String, Path, description = "Project code"), SearchParams),
    responses((status = 200, body = SearchOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<SearchOut> {
    st.app.project_access(&p, &code, Permission::Read).await?;
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(AppError::field("q", "is required").into());
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::field("limit", "must be between 1 and 200").into());
    }
    let (_, hits) = st.app.search_requirements(&p, &code, text, limit).await?;
    Ok(Json(SearchOut {
        items: hits.into_iter().map(SearchHitOut::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Quality
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QualityParams {
    /// Only this module (prefix); default the whole project.
    module: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ModuleScoreOut {
    module: String,
    name: String,
    /// Requirements checked (obsolete ones are left out).
    requirements: usize,
    findings: usize,
    /// 0–100; 100 without findings.
    score: u8,
}

#[derive(Serialize, ToSchema)]
pub struct QualityItemOut {
    human_id: String,
    title: String,
    /// The module's prefix.
    module: String,
    findings: Vec<FindingOut>,
}

#[derive(Serialize, ToSchema)]
pub struct RuleCountOut {
    rule: String,
    title: String,
    severity: String,
    findings: usize,
}

#[derive(Serialize, ToSchema)]
pub struct QualityOut {
    /// Scores per module.
    modules: Vec<ModuleScoreOut>,
    /// Requirements with at least one finding, in document order.
    items: Vec<QualityItemOut>,
    /// Findings per rule (rules without findings are left out).
    by_rule: Vec<RuleCountOut>,
    /// Rules switched off for the project.
    disabled_rules: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/quality", tag = "requirements",
    summary = "The quality report of the project or one module: scores and findings",
    params(("code" = String, Path, description = "Project code"), QualityParams),
    responses((status = 200, body = QualityOut), (status = 404, body = ErrorBody)))]
pub async fn quality(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<QualityParams>,
) -> ApiResult<QualityOut> {
    let report = st
        .app
        .quality_report(&p, &code, q.module.as_deref())
        .await?;
    let prefix = |id| {
        report
            .modules
            .iter()
            .find(|m| m.module.id == id)
            .map(|m| m.module.prefix.clone())
            .unwrap_or_default()
    };
    Ok(Json(QualityOut {
        items: report
            .items
            .iter()
            .map(|i| QualityItemOut {
                human_id: i.human_id.clone(),
                title: i.title.clone(),
                module: prefix(i.module_id),
                findings: i.findings.iter().map(FindingOut::from).collect(),
            })
            .collect(),
        modules: report
            .modules
            .iter()
            .map(|m| ModuleScoreOut {
                module: m.module.prefix.clone(),
                name: m.module.name.clone(),
                requirements: m.requirements,
                findings: m.findings,
                score: m.score,
            })
            .collect(),
        by_rule: report
            .by_rule
            .iter()
            .map(|(r, n)| RuleCountOut {
                rule: r.as_str().into(),
                title: r.title().into(),
                severity: r.severity().as_str().into(),
                findings: *n,
            })
            .collect(),
        disabled_rules: report
            .rules
            .disabled()
            .map(|r| r.as_str().to_owned())
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesIn {
    /// The rules to switch off; every other rule is on.
    disabled: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RulesOut {
    disabled: Vec<String>,
    enabled: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/projects/{code}/quality/rules", tag = "requirements",
    summary = "Switch quality rules off (and the others on) for the project (leads); audited",
    params(("code" = String, Path, description = "Project code")), request_body = RulesIn,
    responses((status = 200, body = RulesOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_quality_rules(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<RulesIn>,
) -> ApiResult<RulesOut> {
    let rules = st.app.set_quality_rules(&p, &code, &b.disabled).await?;
    let name = |r: RuleId| r.as_str().to_owned();
    Ok(Json(RulesOut {
        disabled: rules.disabled().map(name).collect(),
        enabled: rules.enabled().map(name).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Coverage and RVTM
// ---------------------------------------------------------------------------------------------

/// Coverage of requirements proper (headings, information and obsolete ones are left out).
#[derive(Serialize, ToSchema)]
pub struct CoverageFiguresOut {
    requirements: usize,
    /// With a parent or an outgoing trace link, of those asked (not in a top-level module).
    up_covered: usize,
    up_applicable: usize,
    up_pct: u32,
    /// With a child or an incoming trace link.
    down_covered: usize,
    down_pct: u32,
    /// With an incoming `verifies` link.
    verified_linked: usize,
    verified_pct: u32,
    /// With at least one verification method.
    with_method: usize,
    with_method_pct: u32,
    suspect_links: usize,
    approved: usize,
}

impl From<&CoverageFigures> for CoverageFiguresOut {
    fn from(f: &CoverageFigures) -> Self {
        let pct = CoverageFigures::pct;
        Self {
            requirements: f.requirements,
            up_covered: f.up_covered,
            up_applicable: f.up_applicable,
            up_pct: pct(f.up_covered, f.up_applicable),
            down_covered: f.down_covered,
            down_pct: pct(f.down_covered, f.requirements),
            verified_linked: f.verified_linked,
            verified_pct: pct(f.verified_linked, f.requirements),
            with_method: f.with_method,
            with_method_pct: pct(f.with_method, f.requirements),
            suspect_links: f.suspect_links,
            approved: f.approved,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ModuleCoverageOut {
    module: String,
    name: String,
    figures: CoverageFiguresOut,
}

#[derive(Serialize, ToSchema)]
pub struct CoverageOut {
    project: CoverageFiguresOut,
    modules: Vec<ModuleCoverageOut>,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/coverage", tag = "requirements",
    summary = "Upward, downward and verification coverage per module and for the project",
    params(("code" = String, Path, description = "Project code")),
    responses((status = 200, body = CoverageOut), (status = 404, body = ErrorBody)))]
pub async fn coverage(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<CoverageOut> {
    let c = st.app.coverage(&p, &code).await?;
    Ok(Json(CoverageOut {
        project: (&c.project).into(),
        modules: c
            .modules
            .iter()
            .map(|(m, f)| ModuleCoverageOut {
                module: m.prefix.clone(),
                name: m.name.clone(),
                figures: f.into(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RvtmParams {
    /// Only this module (prefix).
    module: Option<String>,
    /// Only rows missing upward coverage (an orphan outside a top-level module) or downward
    /// coverage (no child, no incoming trace link).
    uncovered: Option<bool>,
    /// Only rows with a suspect link.
    suspect: Option<bool>,
    /// Only rows that nothing verifies.
    unverified: Option<bool>,
    /// 1 to 500 (default 100)
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RvtmRowOut {
    id: String,
    human_id: String,
    title: String,
    /// The module's prefix.
    module: String,
    status: String,
    kind: String,
    /// How many verification methods are set.
    verification_methods: usize,
    /// Human ids upstream (parent and link targets).
    upstream: Vec<String>,
    /// Human ids downstream (children and link sources).
    downstream: Vec<String>,
    /// Human ids of what verifies it.
    verified_by: Vec<String>,
    suspect_links: usize,
    /// In a top-level module (upward coverage is not asked).
    top_level: bool,
    up_covered: bool,
    down_covered: bool,
    /// no_case or linked (results arrive with verification cases)
    verification: String,
}

impl From<RvtmRow> for RvtmRowOut {
    fn from(r: RvtmRow) -> Self {
        Self {
            up_covered: r.up_covered(),
            down_covered: r.down_covered(),
            id: r.id.to_string(),
            human_id: r.human_id,
            title: r.title,
            module: r.module_prefix,
            status: r.status,
            kind: r.kind,
            verification_methods: r.verification_methods,
            upstream: r.upstream,
            downstream: r.downstream,
            verified_by: r.verified_by,
            suspect_links: r.suspect_links,
            top_level: r.top_level,
            verification: r.verification.as_str().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RvtmOut {
    items: Vec<RvtmRowOut>,
    total: usize,
}

#[utoipa::path(get, path = "/api/v1/projects/{code}/rvtm", tag = "requirements",
    summary = "The requirements verification traceability matrix, filtered (filters combine with AND) and paged",
    params(("code" = String, Path, description = "Project code"), RvtmParams),
    responses((status = 200, body = RvtmOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rvtm(
    State(st): State<AppState>,
    ApiUser(p): ApiUser,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<RvtmParams>,
) -> ApiResult<RvtmOut> {
    let c = st.app.coverage(&p, &code).await?;
    let (limit, offset) = paging(q.limit, q.offset, 100)?;
    let module = match q.module.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(prefix) => Some(
            c.modules
                .iter()
                .find(|(m, _)| m.prefix.eq_ignore_ascii_case(prefix))
                .map(|(m, _)| m.id)
                .ok_or_else(|| {
                    AppError::field("module", format!("no module has the prefix {prefix:?}"))
                })?,
        ),
    };
    let rows: Vec<&RvtmRow> = c
        .rows
        .iter()
        .filter(|r| module.is_none_or(|m| r.module_id == m))
        .filter(|r| !q.uncovered.unwrap_or(false) || !r.up_covered() || !r.down_covered())
        .filter(|r| !q.suspect.unwrap_or(false) || r.suspect_links > 0)
        .filter(|r| !q.unverified.unwrap_or(false) || r.verification == VerificationStatus::NoCase)
        .collect();
    let total = rows.len();
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(0);
    Ok(Json(RvtmOut {
        items: rows
            .into_iter()
            .skip(start)
            .take(take)
            .cloned()
            .map(RvtmRowOut::from)
            .collect(),
        total,
    }))
}
