//! Project-wide full-text search over requirement ids, titles, statements and comments,
//! ranked, with the matches highlighted.

use super::{highlight, layout, Fields, PageResult};
use crate::auth::PageUser;
use crate::pages::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};

const LIMIT: i64 = 50;

pub struct Hit {
    hid: String,
    prefix: String,
    title: String,
    /// Escaped text with `<mark>` around the matches (see `highlight`).
    snippet_html: String,
}

#[derive(Template)]
#[template(path = "requirements/search.html")]
struct SearchPage {
    l: Layout,
    code: String,
    q: String,
    hits: Vec<Hit>,
    searched: bool,
    limit: i64,
}

/// `/p/{code}/requirements/search?q=`.
pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q).text("q").trim().to_owned();
    let (ctx, hits) = if q.is_empty() {
        (
            st.app
                .project_access(&p, &code, opensesa_domain::access::Permission::Read)
                .await?,
            Vec::new(),
        )
    } else {
        st.app.search_requirements(&p, &code, &q, LIMIT).await?
    };
    let t = SearchPage {
        l: layout(&st, &p, &c, &ctx, "Search requirements", "requirements"),
        code: ctx.project.code.clone(),
        searched: !q.is_empty(),
        q,
        hits: hits
            .into_iter()
            .map(|h| Hit {
                snippet_html: highlight(&h.snippet),
                hid: h.human_id,
                prefix: h.module_prefix,
                title: h.title,
            })
            .collect(),
        limit: LIMIT,
    };
    render(&t)
}
