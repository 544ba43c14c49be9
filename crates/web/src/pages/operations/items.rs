//! Readiness items: the list (filters by status and lateness) with the create form; an item's
//! page (fields, workflow steps, edit, dependencies in and out, milestones it gates,
//! revisions).

use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::error::PageError;
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Failure, Fields, Opt};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::operations::{ItemInput, ItemStatus};
use std::collections::HashSet;

type PageResult = Result<Response, PageError>;
type Typed = Option<(Fields, Failure)>;

/// Rows shown in the list at most (the API pages through everything).
const LIST_MAX: usize = 500;

pub(super) fn unpack(typed: Typed) -> (Fields, Errs, Option<String>, StatusCode) {
    match typed {
        Some((f, failure)) => (
            f,
            Errs::new(failure.errors),
            Some(failure.message),
            failure.status,
        ),
        None => (Fields::default(), Errs::default(), None, StatusCode::OK),
    }
}

pub struct ItemRow {
    hid: String,
    title: String,
    owner: String,
    due: String,
    status: &'static str,
    status_name: &'static str,
    duration: i64,
    late: bool,
}

#[derive(Template)]
#[template(path = "operations/items.html")]
struct ItemsPage {
    l: Layout,
    code: String,
    rows: Vec<ItemRow>,
    shown: usize,
    total: usize,
    statuses: Vec<Opt>,
    late_only: bool,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

fn input(f: &Fields) -> ItemInput {
    ItemInput {
        title: f.get("title").map(str::to_owned),
        description: f.get("description").map(str::to_owned),
        owner: f.get("owner").map(str::to_owned),
        due_date: f.get("due_date").map(str::to_owned),
        source: f.get("source").map(str::to_owned),
        duration_days: f.get("duration_days").map(str::to_owned),
    }
}

async fn items_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    query: &Fields,
    typed: Typed,
) -> PageResult {
    let d = st.app.operations_dashboard(p, code).await?;
    let plan = &d.plan;
    let status = query
        .non_empty("status")
        .map(|s| ItemStatus::parse(&s))
        .transpose()
        .map_err(|e| AppError::field("status", e))?;
    let late_only = query.non_empty("late").is_some();
    let late: HashSet<_> = plan
        .late
        .iter()
        .map(|l| plan.graph.nodes[l.item].node)
        .collect();
    let rows: Vec<ItemRow> = plan
        .items
        .iter()
        .filter(|i| status.is_none_or(|s| i.status == s))
        .map(|i| ItemRow {
            hid: i.human_id.clone(),
            title: i.title.clone(),
            owner: i.owner.clone(),
            due: i.due_date.map(|d| d.to_string()).unwrap_or_default(),
            status: i.status.label(),
            status_name: i.status.as_str(),
            duration: i.duration_days,
            late: late.contains(&opensesa_domain::operations::NodeRef::Item(i.id)),
        })
        .filter(|r| !late_only || r.late)
        .collect();
    let total = rows.len();
    let (f, errs, error, code_status) = unpack(typed);
    let selected = status.map_or("", ItemStatus::as_str);
    let t = ItemsPage {
        l: layout(st, p, c, &d.ctx, "Readiness items", "operations").with_error(error),
        code: d.ctx.project.code.clone(),
        shown: total.min(LIST_MAX),
        rows: rows.into_iter().take(LIST_MAX).collect(),
        total,
        statuses: ItemStatus::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), s.label(), s.as_str() == selected))
            .collect(),
        late_only,
        can_write: d.ctx.can(Permission::Write),
        f,
        errs,
    };
    render_status(&t, code_status)
}

pub async fn list(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let query = Fields::parse_query(q.as_deref().unwrap_or(""));
    items_page(&st, &p, &c, &code, &query, None).await
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st.app.create_ops_item(&p, &code, &input(&f)).await;
    match recoverable(r, None)? {
        Ok(i) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/operations/items/{}", code.to_uppercase(), i.human_id),
            &format!("Readiness item {} created.", i.human_id),
        )),
        Err(failure) => {
            items_page(&st, &p, &c, &code, &Fields::default(), Some((f, failure))).await
        }
    }
}

#[derive(Template)]
#[template(path = "operations/item.html")]
struct ItemPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    description: Vec<String>,
    description_raw: String,
    owner: String,
    due: String,
    source: String,
    duration: i64,
    status: &'static str,
    status_name: &'static str,
    revision: i64,
    created: String,
    done: String,
    late: Option<String>,
    gates: Vec<(String, String)>,
    predecessors: Vec<(String, String, String)>,
    successors: Vec<(String, String, String)>,
    next: Vec<Opt>,
    can_write: bool,
    revisions: Vec<(i64, String)>,
    f: Fields,
    errs: Errs,
    edit_open: bool,
}

async fn item_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.ops_item_detail(p, code, hid).await?;
    let edit_open = typed
        .as_ref()
        .is_some_and(|(f, _)| f.get("title").is_some());
    let (f, errs, error, status) = unpack(typed);
    let i = &d.item;
    let t = ItemPage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("{} {}", i.human_id, i.title),
            "operations",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        hid: i.human_id.clone(),
        title: i.title.clone(),
        description: i.description.lines().map(str::to_owned).collect(),
        description_raw: i.description.clone(),
        owner: i.owner.clone(),
        due: i.due_date.map(|d| d.to_string()).unwrap_or_default(),
        source: i.source.clone(),
        duration: i.duration_days,
        status: i.status.label(),
        status_name: i.status.as_str(),
        revision: i.revision,
        created: when(&i.created_at),
        done: i.done_at.as_ref().map(when).unwrap_or_default(),
        late: d.late.clone(),
        gates: d.gates.clone(),
        predecessors: d
            .predecessors
            .iter()
            .map(|(id, h, t)| (id.to_string(), h.clone(), t.clone()))
            .collect(),
        successors: d
            .successors
            .iter()
            .map(|(id, h, t)| (id.to_string(), h.clone(), t.clone()))
            .collect(),
        next: d
            .next
            .iter()
            .map(|s| {
                Opt::new(
                    s.as_str(),
                    format!("Move to {}", s.label().to_lowercase()),
                    false,
                )
            })
            .collect(),
        can_write: d.ctx.can(Permission::Write),
        revisions: d
            .revisions
            .iter()
            .rev()
            .map(|r| (r.number, when(&r.at)))
            .collect(),
        f,
        errs,
        edit_open,
    };
    render_status(&t, status)
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    item_page(&st, &p, &c, &code, &hid, None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let expected = f.non_empty("revision").and_then(|r| r.parse().ok());
    let r = st
        .app
        .update_ops_item(&p, &code, &hid, &input(&f), expected)
        .await;
    match recoverable(r, None)? {
        Ok(i) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/operations/items/{}", code.to_uppercase(), i.human_id),
            "Readiness item saved.",
        )),
        Err(failure) => item_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn status(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = match ItemStatus::parse(&f.text("to")) {
        Ok(to) => st.app.move_ops_item(&p, &code, &hid, to).await,
        Err(e) => Err(AppError::field("to", e)),
    };
    match recoverable(r, Some("to"))? {
        Ok(i) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/operations/items/{}", code.to_uppercase(), i.human_id),
            &format!(
                "Readiness item {} is {}.",
                i.human_id,
                i.status.label().to_lowercase()
            ),
        )),
        Err(failure) => item_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}
