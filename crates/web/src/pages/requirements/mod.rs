//! Requirements pages: modules, table and document views, the requirement page, links,
//! review rounds, quality, coverage, RVTM, gap analysis and search.
//!
//! Handlers stay thin: read the form or query, call one use case of `App`, render. A form
//! that fails validation is shown again (status 422) with what was typed, each reason next
//! to its field and all of them in the error banner; success redirects with a message.

mod document;
mod forms;
mod modules;
mod requirement;
mod reviews;
mod search;
mod table;
mod trace;

use super::Layout;
use crate::auth::Caller;
use crate::error::PageError;
use crate::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use opensesa_app::portfolio::ProjectCtx;
use opensesa_app::{AppError, AppResult, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::FieldErrors;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{code}/requirements", get(modules::index))
        .route("/p/{code}/requirements/modules", post(modules::create))
        .route("/p/{code}/requirements/search", get(search::page))
        .route(
            "/p/{code}/requirements/m/{prefix}",
            get(table::page).post(table::create),
        )
        .route("/p/{code}/requirements/m/{prefix}/bulk", post(table::bulk))
        .route(
            "/p/{code}/requirements/m/{prefix}/document",
            get(document::page),
        )
        .route(
            "/p/{code}/requirements/m/{prefix}/settings",
            get(modules::settings).post(modules::update),
        )
        .route(
            "/p/{code}/requirements/m/{prefix}/attributes",
            post(modules::update_attributes),
        )
        .route(
            "/p/{code}/requirements/r/{hid}",
            get(requirement::page).post(requirement::edit),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/transition",
            post(requirement::transition),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/links",
            post(requirement::add_link),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/links/{id}/delete",
            post(requirement::delete_link),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/links/{id}/clear",
            post(requirement::clear_link),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/comments",
            post(requirement::comment),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/comments/{id}/resolve",
            post(requirement::resolve),
        )
        .route(
            "/p/{code}/requirements/r/{hid}/diff",
            get(requirement::diff),
        )
        .route("/p/{code}/trace", get(trace::coverage))
        .route("/p/{code}/trace/rvtm", get(trace::rvtm))
        .route("/p/{code}/trace/gaps", get(trace::gaps))
        .route("/p/{code}/trace/suspect", get(trace::suspect))
        .route("/p/{code}/trace/suspect/clear", post(trace::clear_suspect))
        .route("/p/{code}/trace/quality", get(trace::quality))
        .route("/p/{code}/trace/quality/rules", post(trace::set_rules))
        .route("/p/{code}/reviews", get(reviews::list).post(reviews::open))
        .route("/p/{code}/reviews/{id}", get(reviews::round))
        .route("/p/{code}/reviews/{id}/decisions", post(reviews::decide))
        .route("/p/{code}/reviews/{id}/close", post(reviews::close))
}

pub(super) type PageResult = Result<Response, PageError>;

/// The layout of a project page in one of the requirement areas.
pub(super) fn layout(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    ctx: &ProjectCtx,
    title: impl Into<String>,
    section: &'static str,
) -> Layout {
    Layout::for_user(st, p, c, title, section).in_project(&ctx.project, ctx.can(Permission::Lead))
}

/// Renders a template with a status other than 200 (a form shown again with its errors).
pub(super) fn render_status<T: askama::Template>(t: &T, status: StatusCode) -> PageResult {
    let mut res = super::render(t)?;
    *res.status_mut() = status;
    Ok(res)
}

/// Why a form was not accepted, when the page can show it again: invalid fields (422) or
/// a conflict with a concurrent change or a rule (409). Anything else becomes an error page.
pub(super) struct Failure {
    pub errors: FieldErrors,
    pub message: String,
    pub status: StatusCode,
}

impl Failure {
    pub fn fields(errors: FieldErrors) -> Self {
        Self {
            message: format!("Not saved. {}.", errors),
            errors,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        Self::fields(FieldErrors::single(field, reason))
    }

    /// A conflict shown in the banner and, when it concerns one field, next to it.
    pub fn conflict(why: String, field: Option<&str>) -> Self {
        let mut errors = FieldErrors::new();
        if let Some(f) = field {
            errors.add(f, why.clone());
        }
        Self {
            errors,
            message: format!("Not saved: {why}."),
            status: StatusCode::CONFLICT,
        }
    }
}

/// Splits a use case's result into success, a failure the page shows next to the form, and
/// errors that end the request (not found, forbidden, internal).
pub(super) fn recoverable<T>(
    r: AppResult<T>,
    conflict_field: Option<&str>,
) -> Result<Result<T, Failure>, PageError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(AppError::Validation(e)) => Ok(Err(Failure::fields(e))),
        Err(AppError::Conflict(why)) => Ok(Err(Failure::conflict(why, conflict_field))),
        Err(e) => Err(e.into()),
    }
}

/// Field errors as the templates read them: `errs.of("title")` is "" or the reasons.
#[derive(Default)]
pub(super) struct Errs(FieldErrors);

impl Errs {
    pub fn new(e: FieldErrors) -> Self {
        Self(e)
    }

    pub fn of(&self, field: &str) -> String {
        self.0.get(field).map(|r| r.join("; ")).unwrap_or_default()
    }
}

/// A submitted form or query string as name/value pairs, so repeated names (checkboxes)
/// keep all their values.
#[derive(Default, Clone)]
pub(super) struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse_query(q: &str) -> Self {
        Self(serde_urlencoded::from_str(q).unwrap_or_default())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, "" when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// The trimmed value of `name` when it is not empty.
    pub fn non_empty(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A checkbox or flag: present with any value but "", "0", "false" or "off".
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !matches!(v.trim(), "" | "0" | "false" | "off"))
    }
}

/// An option of a select, a checkbox or a radio button.
pub(super) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

/// Options from a list of stored names (`in_review`), labelled for people (`in review`).
pub(super) fn opts<'a>(values: impl IntoIterator<Item = &'a str>, selected: &str) -> Vec<Opt> {
    values
        .into_iter()
        .map(|v| Opt::new(v, label(v), v == selected))
        .collect()
}

/// A stored name as people read it: `non_functional` → `non functional`.
pub(super) fn label(v: &str) -> String {
    v.replace('_', " ")
}

/// Escapes text for HTML.
pub(super) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A search snippet with `[[`/`]]` around matches as HTML: the text is escaped first, then
/// the markers become `<mark>` elements (balanced even if the text itself holds brackets).
pub(super) fn highlight(snippet: &str) -> String {
    let escaped = escape_html(snippet);
    let mut out = String::with_capacity(escaped.len() + 16);
    let mut open = false;
    let mut rest = escaped.as_str();
    loop {
        let marker = if open { "]]" } else { "[[" };
        match rest.find(marker) {
            Some(i) => {
                out.push_str(&rest[..i]);
                out.push_str(if open { "</mark>" } else { "<mark>" });
                open = !open;
                rest = &rest[i + 2..];
            }
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// Text split into lines, for showing a statement with its line breaks (never as markup).
pub(super) fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::to_owned).collect()
}

/// A query string from pairs (values encoded).
pub(super) fn query_string(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Page links for `total` items: first, last, and the pages around the current one.
pub(super) struct PageLink {
    pub label: String,
    /// `None` for the current page and for gaps.
    pub href: Option<String>,
    pub current: bool,
}

pub(super) fn page_links(
    page: i64,
    total: i64,
    per_page: i64,
    href: impl Fn(i64) -> String,
) -> Vec<PageLink> {
    let pages = ((total + per_page - 1) / per_page).max(1);
    if pages <= 1 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut last_shown = 0;
    for n in 1..=pages {
        let near = (n - page).abs() <= 2;
        if n == 1 || n == pages || near {
            if n - last_shown > 1 {
                out.push(PageLink {
                    label: "…".into(),
                    href: None,
                    current: false,
                });
            }
            out.push(PageLink {
                label: n.to_string(),
                href: (n != page).then(|| href(n)),
                current: n == page,
            });
            last_shown = n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_before_marking() {
        assert_eq!(
            highlight("a <b>[[shall]]</b> & [[x"),
            "a &lt;b&gt;<mark>shall</mark>&lt;/b&gt; &amp; <mark>x</mark>"
        );
        assert_eq!(highlight("]] plain"), "]] plain");
    }

    #[test]
    fn page_links_skip_far_pages() {
        let links = page_links(10, 50 * 20, 50, |n| format!("?page={n}"));
        let labels: Vec<&str> = links.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["1", "…", "8", "9", "10", "11", "12", "…", "20"]);
        assert!(links.iter().any(|l| l.current && l.href.is_none()));
        assert!(page_links(1, 10, 50, |n| n.to_string()).is_empty());
    }
}
