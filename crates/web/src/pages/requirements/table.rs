//! The table view of a module: chosen columns, sort by header, filters, pagination, the
//! create form and bulk edit of selected rows. Everything the view shows is in the query
//! string, so a view can be bookmarked and every link keeps it.

use super::forms::{self, ReqForm};
use super::{
    label, layout, opts, page_links, query_string, recoverable, render_status, Errs, Failure,
    Fields, Opt, PageLink, PageResult,
};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use opensesa_app::ports::{ReqQuery, ReqRow, SortDir};
use opensesa_app::Principal;
use opensesa_domain::access::Permission;
use opensesa_domain::requirements::attributes::AttributeDef;
use opensesa_domain::requirements::{
    Module, Priority, ReqKind, ReqStatus, RequirementInput, VerificationMethod,
};
use opensesa_domain::FieldErrors;

const PER_PAGE: i64 = 50;

/// Built-in columns: key, header, sortable (the store's sort columns).
const COLUMNS: [(&str, &str, bool); 12] = [
    ("id", "ID", true),
    ("title", "Title", true),
    ("statement", "Statement", false),
    ("kind", "Kind", true),
    ("priority", "Priority", true),
    ("status", "Status", true),
    ("verification", "Verification", false),
    ("owner", "Owner", true),
    ("tags", "Tags", false),
    ("revision", "Revision", true),
    ("updated", "Updated", true),
    ("suspect", "Suspect links", false),
];

const DEFAULT_COLUMNS: [&str; 7] = [
    "id", "title", "status", "kind", "priority", "owner", "suspect",
];

/// The custom attribute column key of `name`.
fn attr_col(name: &str) -> String {
    format!("attr:{name}")
}

/// The table's state, as read from (and written back to) the query string.
#[derive(Clone, Default)]
struct View {
    cols: Vec<String>,
    sort: String,
    dir: SortDir,
    status: String,
    kind: String,
    priority: String,
    owner: String,
    tag: String,
    attr: String,
    attr_value: String,
    suspect: bool,
    q: String,
    page: i64,
}

impl View {
    /// Reads the query; unknown values are dropped with a reason under their field name.
    fn parse(f: &Fields, module: &Module, errors: &mut FieldErrors) -> Self {
        let known = |c: &str| {
            COLUMNS.iter().any(|(k, ..)| *k == c)
                || module.attributes.iter().any(|a| attr_col(&a.name) == c)
        };
        let mut cols: Vec<String> = f.all("col").into_iter().filter(|c| known(c)).collect();
        cols.dedup();
        if cols.is_empty() {
            cols = DEFAULT_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        }
        let sort = f.text("sort");
        let sort = if sort.is_empty() || COLUMNS.iter().any(|(k, _, s)| *s && *k == sort) {
            sort
        } else {
            errors.add("sort", format!("the table cannot be sorted by {sort:?}"));
            String::new()
        };
        let dir = match f.text("dir").as_str() {
            "desc" => SortDir::Desc,
            "" | "asc" => SortDir::Asc,
            other => {
                errors.add("dir", format!("{other:?} is not asc or desc"));
                SortDir::Asc
            }
        };
        let mut checked = |field: &str, ok: Result<(), String>| {
            let v = f.text(field).trim().to_owned();
            if v.is_empty() {
                return v;
            }
            match ok {
                Ok(()) => v,
                Err(why) => {
                    errors.add(field, why);
                    String::new()
                }
            }
        };
        let status_raw = f.text("status");
        let status = checked(
            "status",
            if status_raw.trim().is_empty() {
                Ok(())
            } else {
                ReqStatus::parse(&status_raw).map(|_| ())
            },
        );
        let kind_raw = f.text("kind");
        let kind = checked(
            "kind",
            if kind_raw.trim().is_empty() {
                Ok(())
            } else {
                ReqKind::parse(&kind_raw).map(|_| ())
            },
        );
        let prio_raw = f.text("priority");
        let priority = checked(
            "priority",
            if prio_raw.trim().is_empty() {
                Ok(())
            } else {
                Priority::parse(&prio_raw).map(|_| ())
            },
        );
        let attr_raw = f.text("attr");
        let attr = checked(
            "attr",
            if attr_raw.trim().is_empty() || module.attribute(attr_raw.trim()).is_some() {
                Ok(())
            } else {
                Err(format!("{attr_raw:?} is not an attribute of this module"))
            },
        );
        let page = match f.get("page").map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => match p.parse::<i64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.add("page", format!("{p:?} is not a page number"));
                    1
                }
            },
        };
        Self {
            cols,
            sort,
            dir,
            status,
            kind,
            priority,
            owner: f.text("owner").trim().to_owned(),
            tag: f.text("tag").trim().to_owned(),
            attr,
            attr_value: f.text("attr_value").trim().to_owned(),
            suspect: f.flag("suspect"),
            q: f.text("q").trim().to_owned(),
            page,
        }
    }

    fn pairs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .cols
            .iter()
            .map(|c| ("col".to_owned(), c.clone()))
            .collect();
        let mut push = |k: &str, v: &str| {
            if !v.is_empty() {
                out.push((k.to_owned(), v.to_owned()));
            }
        };
        push("sort", &self.sort);
        if !self.sort.is_empty() && self.dir == SortDir::Desc {
            push("dir", "desc");
        }
        push("status", &self.status);
        push("kind", &self.kind);
        push("priority", &self.priority);
        push("owner", &self.owner);
        push("tag", &self.tag);
        push("attr", &self.attr);
        if !self.attr.is_empty() {
            push("attr_value", &self.attr_value);
        }
        if self.suspect {
            push("suspect", "1");
        }
        push("q", &self.q);
        if self.page > 1 {
            push("page", &self.page.to_string());
        }
        out
    }

    fn query(&self) -> String {
        query_string(&self.pairs())
    }

    fn with_page(&self, page: i64) -> String {
        let mut v = self.clone();
        v.page = page;
        v.query()
    }

    /// The query of a header link: sort by `col`, flipping the direction on the current one.
    fn sorted_by(&self, col: &str) -> String {
        let mut v = self.clone();
        v.dir = if self.sort == col && self.dir == SortDir::Asc {
            SortDir::Desc
        } else {
            SortDir::Asc
        };
        v.sort = col.to_owned();
        v.page = 1;
        v.query()
    }

    fn req_query(&self, module: &Module) -> ReqQuery {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        ReqQuery {
            module_id: Some(module.id),
            status: some(&self.status)
                .map(|s| ReqStatus::parse(&s).map_or(s, |st| st.as_str().to_owned())),
            kind: some(&self.kind).map(|s| ReqKind::parse(&s).map_or(s, |k| k.as_str().into())),
            priority: some(&self.priority)
                .map(|s| Priority::parse(&s).map_or(s, |k| k.as_str().into())),
            owner: some(&self.owner),
            tag: some(&self.tag),
            text: some(&self.q),
            attribute: some(&self.attr).map(|a| (a, self.attr_value.clone())),
            only_suspect: self.suspect,
            sort: some(&self.sort),
            dir: self.dir,
            limit: PER_PAGE,
            offset: (self.page - 1) * PER_PAGE,
            ..Default::default()
        }
    }
}

pub struct Header {
    label: String,
    href: Option<String>,
    arrow: &'static str,
}

pub struct Cell {
    text: String,
    href: Option<String>,
    badge: bool,
    class: String,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            href: None,
            badge: false,
            class: String::new(),
        }
    }
}

pub struct RowView {
    hid: String,
    selected: bool,
    cells: Vec<Cell>,
    error: String,
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

fn cell(col: &str, r: &ReqRow, href: &str, module: &Module) -> Cell {
    let q = &r.req;
    match col {
        "id" => Cell {
            href: Some(href.to_owned()),
            ..Cell::text(q.human_id.clone())
        },
        "title" => Cell::text(q.title.clone()),
        "statement" => Cell {
            class: "statement".into(),
            ..Cell::text(clip(&q.statement, 300))
        },
        "kind" => Cell::text(label(q.kind.as_str())),
        "priority" => Cell::text(q.priority.as_str()),
        "status" => Cell {
            badge: true,
            class: format!("status-{}", q.status.as_str()),
            ..Cell::text(q.status.label())
        },
        "verification" => Cell::text(q.verification_text()),
        "owner" => Cell::text(q.owner.clone()),
        "tags" => Cell::text(q.tags_text()),
        "revision" => Cell::text(q.revision.to_string()),
        "updated" => Cell::text(crate::pages::when(&q.updated_at)),
        "suspect" => Cell {
            class: if r.suspect_links > 0 {
                "suspect".into()
            } else {
                String::new()
            },
            ..Cell::text(r.suspect_links.to_string())
        },
        other => {
            let name = other.strip_prefix("attr:").unwrap_or(other);
            let v = module
                .attribute(name)
                .and_then(|_| q.attributes.get(name))
                .map(AttributeDef::display)
                .unwrap_or_default();
            Cell::text(v)
        }
    }
}

/// What the bulk form shows (as typed after a refusal).
pub struct BulkForm {
    kinds: Vec<Opt>,
    priorities: Vec<Opt>,
    set_owner: bool,
    owner: String,
    set_tags: bool,
    tags: String,
    set_verification: bool,
    methods: Vec<Opt>,
    attrs: Vec<Opt>,
    attr_value: String,
}

impl BulkForm {
    fn of(f: &Fields, module: &Module) -> Self {
        let attr = f.text("attr_name");
        Self {
            kinds: opts(ReqKind::ALL.iter().map(|k| k.as_str()), &f.text("kind")),
            priorities: opts(
                Priority::ALL.iter().map(|k| k.as_str()),
                &f.text("priority"),
            ),
            set_owner: f.flag("set_owner"),
            owner: f.text("owner"),
            set_tags: f.flag("set_tags"),
            tags: f.text("tags"),
            set_verification: f.flag("set_verification"),
            methods: forms::method_opts(&f.all("verification")),
            attrs: module
                .attributes
                .iter()
                .map(|a| Opt::new(a.name.clone(), a.name.clone(), a.name == attr))
                .collect(),
            attr_value: f.text("attr_value"),
        }
    }
}

#[derive(Template)]
#[template(path = "requirements/table.html")]
struct TablePage {
    l: Layout,
    code: String,
    prefix: String,
    module_name: String,
    description: String,
    can_write: bool,
    can_lead: bool,
    base: String,
    query: String,
    headers: Vec<Header>,
    rows: Vec<RowView>,
    total: i64,
    first: i64,
    last: i64,
    pages: Vec<PageLink>,
    columns: Vec<Opt>,
    statuses: Vec<Opt>,
    kinds: Vec<Opt>,
    priorities: Vec<Opt>,
    attr_filters: Vec<Opt>,
    v_owner: String,
    v_tag: String,
    v_attr_value: String,
    v_suspect: bool,
    v_q: String,
    v_sort: String,
    v_dir: &'static str,
    filter_errs: Errs,
    form: ReqForm,
    errs: Errs,
    create_open: bool,
    bulk: BulkForm,
    bulk_errs: Errs,
}

/// A form that was refused, to show again.
enum Refused {
    None,
    Create(Fields, Failure),
    Bulk(Fields, Failure),
}

#[allow(clippy::too_many_arguments)]
async fn table_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    prefix: &str,
    query: Fields,
    refused: Refused,
) -> PageResult {
    let (ctx, module) = st.app.module(p, code, prefix, Permission::Read).await?;
    let mut filter_errors = FieldErrors::new();
    let view = View::parse(&query, &module, &mut filter_errors);
    let (_, page) = st
        .app
        .list_requirements(p, code, view.req_query(&module))
        .await?;
    let code = ctx.project.code.clone();
    let base = format!("/p/{code}/requirements/m/{}", module.prefix);
    let headers = view
        .cols
        .iter()
        .map(|col| {
            let (label, sortable) = COLUMNS
                .iter()
                .find(|(k, ..)| k == col)
                .map(|(_, l, s)| ((*l).to_owned(), *s))
                .unwrap_or_else(|| (col.strip_prefix("attr:").unwrap_or(col).to_owned(), false));
            let arrow = match (view.sort == *col, view.dir) {
                (true, SortDir::Asc) => " ▲",
                (true, SortDir::Desc) => " ▼",
                _ => "",
            };
            Header {
                label,
                href: sortable.then(|| format!("{base}?{}", view.sorted_by(col))),
                arrow,
            }
        })
        .collect();
    let (form, errs, create_open, bulk_fields, bulk_errs, mut error, status) = match refused {
        Refused::None => (
            ReqForm::blank(&module),
            Errs::default(),
            false,
            Fields::default(),
            FieldErrors::new(),
            None,
            StatusCode::OK,
        ),
        Refused::Create(f, failure) => (
            ReqForm::typed(&f, &module),
            Errs::new(failure.errors),
            true,
            Fields::default(),
            FieldErrors::new(),
            Some(failure.message),
            failure.status,
        ),
        Refused::Bulk(f, failure) => (
            ReqForm::blank(&module),
            Errs::default(),
            false,
            f,
            failure.errors,
            Some(failure.message),
            failure.status,
        ),
    };
    let selected = bulk_fields.all("sel");
    let rows: Vec<RowView> = page
        .rows
        .iter()
        .map(|r| {
            let href = format!("/p/{code}/requirements/r/{}", r.req.human_id);
            let mut cells: Vec<Cell> = view
                .cols
                .iter()
                .map(|col| cell(col, r, &href, &module))
                .collect();
            if !view.cols.iter().any(|c| c == "id") {
                if let Some(first) = cells.first_mut() {
                    first.href = Some(href.clone());
                }
            }
            let prefix = format!("{}: ", r.req.human_id);
            let mut row_errors = Vec::new();
            for (field, reasons) in bulk_errs.iter() {
                for reason in reasons {
                    if let Some(rest) = reason.strip_prefix(&prefix) {
                        row_errors.push(format!("{}: {rest}", forms::field_label(field)));
                    }
                }
            }
            RowView {
                selected: selected
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&r.req.human_id)),
                hid: r.req.human_id.clone(),
                cells,
                error: row_errors.join("; "),
            }
        })
        .collect();
    if !filter_errors.is_empty() && error.is_none() {
        error = Some(format!("Some filters were ignored. {filter_errors}."));
    }
    let columns = COLUMNS
        .iter()
        .map(|(k, l, _)| ((*k).to_owned(), (*l).to_owned()))
        .chain(
            module
                .attributes
                .iter()
                .map(|a| (attr_col(&a.name), a.name.clone())),
        )
        .map(|(k, l)| {
            let on = view.cols.contains(&k);
            Opt::new(k, l, on)
        })
        .collect();
    let first = if page.total == 0 {
        0
    } else {
        (view.page - 1) * PER_PAGE + 1
    };
    let last = ((view.page - 1) * PER_PAGE + page.rows.len() as i64).max(0);
    let pages = page_links(view.page, page.total, PER_PAGE, |n| {
        format!("{base}?{}", view.with_page(n))
    });
    let t = TablePage {
        l: layout(
            st,
            p,
            c,
            &ctx,
            format!("{} · {}", module.prefix, module.name),
            "requirements",
        )
        .with_error(error),
        can_write: ctx.can(Permission::Write),
        can_lead: ctx.can(Permission::Lead),
        prefix: module.prefix.clone(),
        module_name: module.name.clone(),
        description: module.description.clone(),
        query: view.query(),
        headers,
        rows,
        total: page.total,
        first,
        last,
        pages,
        columns,
        statuses: opts(ReqStatus::ALL.iter().map(|s| s.as_str()), &view.status),
        kinds: opts(ReqKind::ALL.iter().map(|k| k.as_str()), &view.kind),
        priorities: opts(Priority::ALL.iter().map(|k| k.as_str()), &view.priority),
        attr_filters: module
            .attributes
            .iter()
            .map(|a| Opt::new(a.name.clone(), a.name.clone(), a.name == view.attr))
            .collect(),
        v_owner: view.owner.clone(),
        v_tag: view.tag.clone(),
        v_attr_value: view.attr_value.clone(),
        v_suspect: view.suspect,
        v_q: view.q.clone(),
        v_sort: view.sort.clone(),
        v_dir: if view.dir == SortDir::Desc {
            "desc"
        } else {
            "asc"
        },
        filter_errs: Errs::new(filter_errors),
        form,
        errs,
        create_open,
        bulk: BulkForm::of(&bulk_fields, &module),
        bulk_errs: Errs::new(bulk_errs),
        base,
        code,
    };
    render_status(&t, status)
}

/// `/p/{code}/requirements/m/{prefix}`: the table view.
pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, prefix)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    table_page(&st, &p, &c, &code, &prefix, Fields(q), Refused::None).await
}

/// The table query a form came from (hidden `back`), re-encoded so only its pairs return.
fn back(f: &Fields) -> Fields {
    Fields::parse_query(&f.text("back"))
}

fn table_url(code: &str, prefix: &str, back: &Fields) -> String {
    let q = query_string(&back.0);
    let base = format!(
        "/p/{}/requirements/m/{}",
        code.to_uppercase(),
        prefix.to_uppercase()
    );
    if q.is_empty() {
        base
    } else {
        format!("{base}?{q}")
    }
}

pub async fn create(
    State(st): State<AppState>,
    Path((code, prefix)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let (_, module) = st.app.module(&p, &code, &prefix, Permission::Write).await?;
    let input = forms::input(&f, &module);
    let r = st.app.create_requirement(&p, &code, &prefix, &input).await;
    match recoverable(r, None)? {
        Ok(req) => Ok(redirect_with_flash(
            &st,
            &table_url(&code, &prefix, &back(&f)),
            &format!("Created {} · {}.", req.human_id, req.title),
        )),
        Err(failure) => {
            let q = back(&f);
            table_page(&st, &p, &c, &code, &prefix, q, Refused::Create(f, failure)).await
        }
    }
}

/// The edit a bulk form asks for: only the fields it marks change.
fn bulk_input(f: &Fields, module: &Module) -> Result<RequirementInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut input = RequirementInput {
        kind: f.non_empty("kind"),
        priority: f.non_empty("priority"),
        ..Default::default()
    };
    if f.flag("set_owner") {
        input.owner = Some(f.text("owner"));
    }
    if f.flag("set_tags") {
        input.tags = Some(f.text("tags"));
    }
    if f.flag("set_verification") {
        let methods = f.all("verification");
        for m in &methods {
            if let Err(why) = VerificationMethod::parse(m) {
                errors.add("verification_methods", why);
            }
        }
        input.verification_methods = Some(methods.join(", "));
    }
    if let Some(name) = f.non_empty("attr_name") {
        if module.attribute(&name).is_none() {
            errors.add(
                "attr_name",
                format!("{name:?} is not an attribute of this module"),
            );
        } else {
            input.attributes.insert(name, f.text("attr_value"));
        }
    }
    let nothing = input.kind.is_none()
        && input.priority.is_none()
        && input.owner.is_none()
        && input.tags.is_none()
        && input.verification_methods.is_none()
        && input.attributes.is_empty();
    if nothing && errors.is_empty() {
        errors.add("bulk", "choose at least one field to change");
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

pub async fn bulk(
    State(st): State<AppState>,
    Path((code, prefix)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let (_, module) = st.app.module(&p, &code, &prefix, Permission::Write).await?;
    let selected = f.all("sel");
    let result = match bulk_input(&f, &module) {
        Ok(input) => recoverable(
            st.app.bulk_edit(&p, &code, &selected, &input).await,
            Some("bulk"),
        )?,
        Err(errors) => {
            let mut errors = errors;
            if selected.is_empty() {
                errors.add("selection", "select at least one requirement");
            }
            Err(Failure::fields(errors))
        }
    };
    match result {
        Ok(n) => {
            let msg = if n == 0 {
                "Nothing changed: the selected requirements already had these values.".to_owned()
            } else {
                format!("Changed {n} requirement{}.", if n == 1 { "" } else { "s" })
            };
            Ok(redirect_with_flash(
                &st,
                &table_url(&code, &prefix, &back(&f)),
                &msg,
            ))
        }
        Err(failure) => {
            let q = back(&f);
            table_page(&st, &p, &c, &code, &prefix, q, Refused::Bulk(f, failure)).await
        }
    }
}
