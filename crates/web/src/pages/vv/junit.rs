//! JUnit import: the upload form (multipart), the dry-run report (mapped cases with their
//! verdicts, unknown tests, refused cases) and Apply.

use super::{read_multipart, PageResult};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Fields};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::multipart::Multipart;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use opensesa_app::vv::junit::{JunitApplied, JunitMapped, JunitUnknown, MAX_JUNIT_BYTES};
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::ImportId;

/// Report lines shown on the page.
const SHOWN: usize = 2000;

#[derive(Template)]
#[template(path = "vv/junit.html")]
struct FormPage {
    l: Layout,
    code: String,
    max_mb: usize,
    f: Fields,
}

async fn form_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    f: Fields,
    error: Option<String>,
) -> PageResult {
    let ctx = st.app.project_access(p, code, Permission::Write).await?;
    let t = FormPage {
        l: layout(st, p, c, &ctx, "Import JUnit results", "vv").with_error(error.clone()),
        code: ctx.project.code.clone(),
        max_mb: MAX_JUNIT_BYTES / (1024 * 1024),
        f,
    };
    render_status(
        &t,
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
    )
}

pub async fn form(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    form_page(&st, &p, &c, &code, Fields::default(), None).await
}

pub async fn upload(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    form: Multipart,
) -> PageResult {
    let (f, mut files) = read_multipart(&p, form).await?;
    let Some(file) = files.pop() else {
        return form_page(
            &st,
            &p,
            &c,
            &code,
            f,
            Some("Choose a JUnit XML file to import.".into()),
        )
        .await;
    };
    let r = st
        .app
        .junit_dry_run(
            &p,
            &code,
            &file,
            &f.text("configuration"),
            &f.text("executor"),
            &f.text("executed_at"),
        )
        .await;
    match r {
        Ok((ctx, import)) => Ok(Redirect::to(&format!(
            "/p/{}/vv/junit/{}",
            ctx.project.code, import.id
        ))
        .into_response()),
        Err(AppError::Validation(e)) => {
            form_page(&st, &p, &c, &code, f, Some(format!("Not imported. {e}."))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "vv/junit_report.html")]
struct ReportPage {
    l: Layout,
    code: String,
    id: String,
    file_name: String,
    status: String,
    uploaded: String,
    tests: usize,
    suites: usize,
    counts: Vec<(String, usize)>,
    mapped: Vec<JunitMapped>,
    unknown: Vec<JunitUnknown>,
    refused: Vec<(String, String)>,
    more: usize,
    configuration: String,
    executor: String,
    can_apply: bool,
}

async fn report_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    id: ImportId,
    error: Option<String>,
) -> PageResult {
    let (ctx, import, mut r) = st.app.junit_import(p, code, id).await?;
    let more = r.mapped.len().saturating_sub(SHOWN) + r.unknown.len().saturating_sub(SHOWN);
    r.mapped.truncate(SHOWN);
    r.unknown.truncate(SHOWN);
    let t = ReportPage {
        l: layout(
            st,
            p,
            c,
            &ctx,
            format!("JUnit import of {}", import.file_name),
            "vv",
        )
        .with_error(error.clone()),
        code: ctx.project.code.clone(),
        id: import.id.to_string(),
        file_name: import.file_name.clone(),
        status: import.status.clone(),
        uploaded: when(&import.created_at),
        tests: r.tests,
        suites: r.suites,
        counts: r
            .counts
            .iter()
            .map(|(k, v)| (k.replace('_', " "), *v))
            .collect(),
        can_apply: import.status == "pending"
            && ctx.can(Permission::Write)
            && r.refused.is_empty()
            && !r.mapped.is_empty(),
        mapped: r.mapped,
        unknown: r.unknown,
        refused: r.refused,
        more,
        configuration: r.configuration,
        executor: r.executor,
    };
    render_status(
        &t,
        if error.is_some() {
            StatusCode::CONFLICT
        } else {
            StatusCode::OK
        },
    )
}

pub async fn report(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, id)): Path<(String, ImportId)>,
) -> PageResult {
    report_page(&st, &p, &c, &code, id, None).await
}

pub async fn apply(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, ImportId)>,
    CsrfForm(PageUser(p, c), _f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let r = st.app.junit_apply(&p, &code, id).await;
    match recoverable(r, None)? {
        Ok(JunitApplied::Recorded(n)) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/results", code.to_uppercase()),
            &format!("{n} results recorded from the JUnit report."),
        )),
        Ok(JunitApplied::Replanned(fresh)) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/junit/{fresh}", code.to_uppercase()),
            "The cases changed since this report was made: check the new report and apply again.",
        )),
        Err(failure) => report_page(&st, &p, &c, &code, id, Some(failure.message)).await,
    }
}
