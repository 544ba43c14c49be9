//! Verification and validation pages: the dashboard, plans with activities, cases with their
//! results and evidence, sets and set runs, defects, snapshots and their comparison, JUnit
//! imports and reports. Handlers stay thin, as in the requirements pages: read the form,
//! call one use case, render; a refused form is shown again with what was typed.

mod cases;
mod defects;
mod home;
mod junit;
mod plans;
mod results;
mod sets;
mod snapshots;

use super::requirements::{Failure, Fields};
use crate::auth::constant_eq;
use crate::error::PageError;
use crate::AppState;
use axum::extract::multipart::Multipart;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use opensesa_app::requirements::exchange::Download;
use opensesa_app::vv::results::Upload;
use opensesa_app::Principal;

type PageResult = Result<Response, PageError>;

/// Uploads (evidence, JUnit reports) are read up to this many bytes per request; the blob
/// store applies its own configured limit per file and names it in the refusal.
const MAX_UPLOAD_BYTES: usize = 80 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    let upload_limit = DefaultBodyLimit::max(MAX_UPLOAD_BYTES);
    Router::new()
        .route("/p/{code}/vv", get(home::page))
        .route("/p/{code}/vv/plans", get(plans::list).post(plans::create))
        .route(
            "/p/{code}/vv/plans/{hid}",
            get(plans::page).post(plans::edit),
        )
        .route("/p/{code}/vv/plans/{hid}/status", post(plans::status))
        .route("/p/{code}/vv/plans/{hid}/activities", post(plans::activity))
        .route(
            "/p/{code}/vv/plans/{hid}/report",
            get(plans::report).post(plans::report_job),
        )
        .route("/p/{code}/vv/cases", get(cases::list).post(cases::create))
        .route(
            "/p/{code}/vv/cases/{hid}",
            get(cases::page).post(cases::edit),
        )
        .route("/p/{code}/vv/cases/{hid}/status", post(cases::status))
        .route("/p/{code}/vv/cases/{hid}/diff", get(cases::diff))
        .route(
            "/p/{code}/vv/cases/{hid}/results",
            post(results::record).layer(upload_limit),
        )
        .route("/p/{code}/vv/results", get(results::list))
        .route("/p/{code}/vv/results/{id}", get(results::page))
        .route(
            "/p/{code}/vv/results/{id}/supersede",
            post(results::supersede).layer(upload_limit),
        )
        .route(
            "/p/{code}/vv/results/{id}/evidence/{sha256}",
            get(results::evidence),
        )
        .route("/p/{code}/vv/sets", get(sets::list).post(sets::create))
        .route("/p/{code}/vv/sets/{id}", get(sets::page).post(sets::edit))
        .route("/p/{code}/vv/sets/{id}/run", post(sets::run))
        .route(
            "/p/{code}/vv/sets/{id}/report",
            get(sets::report).post(sets::report_job),
        )
        .route(
            "/p/{code}/vv/defects",
            get(defects::list).post(defects::create),
        )
        .route(
            "/p/{code}/vv/defects/{hid}",
            get(defects::page).post(defects::edit),
        )
        .route("/p/{code}/vv/defects/{hid}/status", post(defects::status))
        .route(
            "/p/{code}/vv/snapshots",
            get(snapshots::list).post(snapshots::create),
        )
        .route("/p/{code}/vv/snapshots/compare", get(snapshots::compare))
        .route("/p/{code}/vv/snapshots/{hid}", get(snapshots::page))
        .route(
            "/p/{code}/vv/junit",
            get(junit::form).post(junit::upload).layer(upload_limit),
        )
        .route("/p/{code}/vv/junit/{id}", get(junit::report))
        .route("/p/{code}/vv/junit/{id}/apply", post(junit::apply))
}

/// A multipart form: its text fields and its files (non-empty ones), after the CSRF check.
async fn read_multipart(
    p: &Principal,
    mut form: Multipart,
) -> Result<(Fields, Vec<Upload>), PageError> {
    let too_large = || {
        PageError::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The upload could not be read: at most {} MB per request.",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            ),
        )
    };
    let mut fields = Vec::new();
    let mut files = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(PageError::status(
                    StatusCode::BAD_REQUEST,
                    format!("The upload could not be read: {}.", e.body_text()),
                ))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(PageError::status(
                    StatusCode::BAD_REQUEST,
                    format!("The upload could not be read: {}.", e.body_text()),
                ))
            }
        };
        match file_name {
            Some(f) if !f.is_empty() || !bytes.is_empty() => {
                if !bytes.is_empty() {
                    files.push((
                        name,
                        Upload {
                            file_name: f,
                            bytes: bytes.to_vec(),
                        },
                    ));
                }
            }
            Some(_) => {}
            None => fields.push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    let f = Fields(fields);
    let expected = p.session.as_ref().map_or("", |s| s.csrf_token.as_str());
    if expected.is_empty() || !constant_eq(&f.text("csrf_token"), expected) {
        return Err(PageError::status(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Reload the page and submit it again.".into(),
        ));
    }
    Ok((f, files.into_iter().map(|(_, u)| u).collect()))
}

/// A file download with `Content-Disposition: attachment`.
pub(super) fn download(d: Download) -> Response {
    let mut res = d.bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(d.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&opensesa_app::blob_port::attachment_disposition(
        &d.file_name,
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A form error as page state: (typed fields, failure) or nothing.
type Typed = Option<(Fields, Failure)>;

/// Field errors and the banner from a failure, or empty ones.
fn unpack(
    typed: Typed,
) -> (
    Fields,
    super::requirements::Errs,
    Option<String>,
    StatusCode,
) {
    match typed {
        Some((f, failure)) => (
            f,
            super::requirements::Errs::new(failure.errors),
            Some(failure.message),
            failure.status,
        ),
        None => (
            Fields::default(),
            super::requirements::Errs::default(),
            None,
            StatusCode::OK,
        ),
    }
}

/// Verdict names for selects.
fn verdict_opts(selected: &str) -> Vec<super::requirements::Opt> {
    opensesa_domain::vv::Verdict::ALL
        .iter()
        .map(|v| super::requirements::Opt::new(v.as_str(), v.label(), v.as_str() == selected))
        .collect()
}

/// A report of a plan or set: HTML shown in the browser (our own escaped markup, no
/// scripts), XLSX as a download.
async fn report_response(
    st: &AppState,
    p: &Principal,
    code: &str,
    scope: opensesa_app::vv::snapshots::SnapshotScope,
    format: &str,
) -> PageResult {
    let format = if format.is_empty() { "html" } else { format };
    let d = st.app.vv_report_file(p, code, &scope, format).await?;
    if format == "html" {
        let mut res = d.bytes.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return Ok(res);
    }
    Ok(download(d))
}
