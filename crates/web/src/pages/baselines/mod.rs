//! Baseline and release pages: baselines (list, draft, freeze, items, comparison with
//! drill-down) and release packs (checklist, lock and unlock, adoption actions, governance
//! decisions, XLSX). Handlers stay thin: read the form, call one use case, render.

mod baseline;
mod releases;

use crate::error::PageError;
use crate::pages::requirements::{Errs, Failure, Fields};
use crate::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

type PageResult = Result<Response, PageError>;

/// A form refused with what was typed, to show again.
type Typed = Option<(Fields, Failure)>;

fn unpack(typed: Typed) -> (Fields, Errs, Option<String>, StatusCode) {
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/p/{code}/baselines",
            get(baseline::list).post(baseline::create),
        )
        .route("/p/{code}/baselines/compare", get(baseline::compare))
        .route("/p/{code}/baselines/diff", get(baseline::diff))
        .route(
            "/p/{code}/baselines/{hid}",
            get(baseline::page).post(baseline::edit),
        )
        .route("/p/{code}/baselines/{hid}/freeze", post(baseline::freeze))
        .route(
            "/p/{code}/baselines/{hid}/items.csv",
            get(baseline::items_csv),
        )
        .route(
            "/p/{code}/releases",
            get(releases::list).post(releases::create),
        )
        .route(
            "/p/{code}/releases/{hid}",
            get(releases::page).post(releases::edit),
        )
        .route("/p/{code}/releases/{hid}/lock", post(releases::lock))
        .route("/p/{code}/releases/{hid}/unlock", post(releases::unlock))
        .route("/p/{code}/releases/{hid}/decisions", post(releases::decide))
        .route(
            "/p/{code}/releases/{hid}/actions",
            post(releases::add_action),
        )
        .route("/p/{code}/releases/{hid}/export.xlsx", get(releases::xlsx))
        .route("/p/{code}/actions/{hid}", post(releases::edit_action))
        .route(
            "/p/{code}/actions/{hid}/status",
            post(releases::move_action),
        )
}
