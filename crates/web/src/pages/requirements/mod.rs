//! Requirements pages: modules, table and document views, the requirement page, links,
//! review rounds, quality, coverage, RVTM, gap analysis and search.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
