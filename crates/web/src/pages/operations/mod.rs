//! Operations readiness pages: the dashboard (milestone timeline, burn-down, blocked and late
//! items, the dependency diagram as server-rendered SVG), items and milestones with their
//! forms, and dependencies. Handlers stay thin, as in the V&V pages: read the form, call one
//! use case, render; a refused form is shown again with what was typed.

mod dashboard;
mod items;
mod milestones;
pub(crate) mod svg;

use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{code}/operations", get(dashboard::page))
        .route("/p/{code}/operations/diagram.svg", get(dashboard::diagram))
        .route(
            "/p/{code}/operations/items",
            get(items::list).post(items::create),
        )
        .route(
            "/p/{code}/operations/items/{hid}",
            get(items::page).post(items::edit),
        )
        .route(
            "/p/{code}/operations/items/{hid}/status",
            post(items::status),
        )
        .route(
            "/p/{code}/operations/milestones",
            get(milestones::list).post(milestones::create),
        )
        .route(
            "/p/{code}/operations/milestones/{hid}",
            get(milestones::page).post(milestones::edit),
        )
        .route(
            "/p/{code}/operations/milestones/{hid}/status",
            post(milestones::status),
        )
        .route(
            "/p/{code}/operations/dependencies",
            get(milestones::dependencies).post(milestones::add_dependency),
        )
        .route(
            "/p/{code}/operations/dependencies/{id}/remove",
            post(milestones::remove_dependency),
        )
}

/// Most nodes drawn in a diagram embedded in a page; larger plans show the critical paths
/// (the full diagram is a separate SVG download).
pub const DIAGRAM_MAX: usize = 300;

/// The whole plan's diagram as an SVG response (the page's download and the API's).
pub(crate) fn dashboard_svg(
    plan: &opensesa_app::operations::plan::PlanView,
    code: &str,
) -> axum::response::Response {
    dashboard::svg_response(dashboard::full_diagram(plan, code))
}
