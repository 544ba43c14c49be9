//! Import (with a dry-run report first) and export of requirement modules: CSV, XLSX, ReqIF.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
