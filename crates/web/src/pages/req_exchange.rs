//! Import (with a dry-run report first) and export of requirement modules: CSV, XLSX, ReqIF;
//! and the RVTM as CSV or XLSX.
//!
//! Downloads: `/p/{code}/requirements/m/{prefix}/export.csv|.xlsx|.reqif`,
//! `/p/{code}/requirements/export.reqif` (the whole project), `/p/{code}/trace/rvtm.csv|.xlsx`
//! (`?show=uncovered|suspect|unverified`). Viewers may export.
//! Imports (editors): `/p/{code}/requirements/import` (upload form, multipart), then
//! `/p/{code}/requirements/import/{id}` (the dry-run report with Apply and Discard).

use super::{render, when, Layout};
use crate::auth::{constant_eq, redirect_with_flash, CsrfForm, PageUser};
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::extract::multipart::Multipart;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use opensesa_app::import_file_port::StagedUpload;
use opensesa_app::requirements::exchange::{
    ApplyOutcome, Download, ImportCounts, ImportReport, Outcome, RvtmFilter, SheetFormat,
    MAX_IMPORT_BYTES,
};
use opensesa_app::AppError;
use opensesa_domain::access::Permission;
use opensesa_domain::ids::ImportId;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

type PageResult = Result<Response, PageError>;

/// Report lines shown on the page (the stored report keeps more).
const SHOWN_ITEMS: usize = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/p/{code}/requirements/m/{prefix}/export.csv",
            get(export_csv),
        )
        .route(
            "/p/{code}/requirements/m/{prefix}/export.xlsx",
            get(export_xlsx),
        )
        .route(
            "/p/{code}/requirements/m/{prefix}/export.reqif",
            get(export_reqif),
        )
        .route("/p/{code}/requirements/export.reqif", get(export_project))
        .route("/p/{code}/trace/rvtm.csv", get(rvtm_csv))
        .route("/p/{code}/trace/rvtm.xlsx", get(rvtm_xlsx))
        .route(
            "/p/{code}/requirements/import",
            get(import_form).post(upload).layer(DefaultBodyLimit::max(
                // The file plus the form's other fields and the multipart framing.
                MAX_IMPORT_BYTES + 64 * 1024,
            )),
        )
        .route("/p/{code}/requirements/import/{id}", get(report))
        .route("/p/{code}/requirements/import/{id}/apply", post(apply))
        .route("/p/{code}/requirements/import/{id}/discard", post(discard))
}

/// A file download: its type, and `Content-Disposition: attachment` with its name.
fn download(d: Download) -> Response {
    let mut res = d.bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(d.content_type),
    );
    let safe: String = d
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn export_csv(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path((code, prefix)): Path<(String, String)>,
) -> PageResult {
    let d = st
        .app
        .export_module_sheet(&p, &code, &prefix, SheetFormat::Csv)
        .await?;
    Ok(download(d))
}

async fn export_xlsx(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path((code, prefix)): Path<(String, String)>,
) -> PageResult {
    let d = st
        .app
        .export_module_sheet(&p, &code, &prefix, SheetFormat::Xlsx)
        .await?;
    Ok(download(d))
}

async fn export_reqif(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path((code, prefix)): Path<(String, String)>,
) -> PageResult {
    Ok(download(
        st.app.export_module_reqif(&p, &code, &prefix).await?,
    ))
}

async fn export_project(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    Ok(download(st.app.export_project_reqif(&p, &code).await?))
}

#[derive(Deserialize, Default)]
struct RvtmQuery {
    #[serde(default)]
    show: String,
}

async fn rvtm_csv(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path(code): Path<String>,
    Query(q): Query<RvtmQuery>,
) -> PageResult {
    let d = st
        .app
        .export_rvtm(&p, &code, SheetFormat::Csv, RvtmFilter::parse(&q.show))
        .await?;
    Ok(download(d))
}

async fn rvtm_xlsx(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path(code): Path<String>,
    Query(q): Query<RvtmQuery>,
) -> PageResult {
    let d = st
        .app
        .export_rvtm(&p, &code, SheetFormat::Xlsx, RvtmFilter::parse(&q.show))
        .await?;
    Ok(download(d))
}

struct ModuleOption {
    prefix: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "req_exchange/import.html")]
struct ImportPage {
    l: Layout,
    code: String,
    modules: Vec<ModuleOption>,
    new_modules_selected: bool,
    max_mb: usize,
    can_lead: bool,
}

#[derive(Deserialize, Default)]
struct ImportQuery {
    #[serde(default)]
    module: String,
}

async fn import_page(
    st: &AppState,
    p: &opensesa_app::Principal,
    c: &crate::auth::Caller,
    code: &str,
    chosen: &str,
    error: Option<String>,
) -> PageResult {
    let ctx = st.app.project_access(p, code, Permission::Write).await?;
    let (_, modules) = st.app.list_modules(p, code).await?;
    let chosen = chosen.trim().to_uppercase();
    let can_lead = ctx.can(Permission::Lead);
    let page = ImportPage {
        l: Layout::for_user(st, p, c, "Import requirements", "requirements")
            .in_project(&ctx.project, can_lead)
            .with_error(error),
        code: ctx.project.code.clone(),
        new_modules_selected: chosen.is_empty() && modules.is_empty(),
        modules: modules
            .into_iter()
            .map(|s| ModuleOption {
                selected: s.module.prefix == chosen,
                label: format!(
                    "{}{} · {} ({} requirement{})",
                    "– ".repeat(s.depth),
                    s.module.prefix,
                    s.module.name,
                    s.count,
                    if s.count == 1 { "" } else { "s" }
                ),
                prefix: s.module.prefix,
            })
            .collect(),
        max_mb: MAX_IMPORT_BYTES / (1024 * 1024),
        can_lead,
    };
    render(&page)
}

async fn import_form(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<ImportQuery>,
) -> PageResult {
    import_page(&st, &p, &c, &code, &q.module, None).await
}

/// The upload: the file, the target module and the CSRF token, as multipart/form-data.
async fn upload(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    mut form: Multipart,
) -> PageResult {
    let too_large = || {
        PageError::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The upload could not be read: files up to {} MB can be imported.",
                MAX_IMPORT_BYTES / (1024 * 1024)
            ),
        )
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            PageError::status(
                StatusCode::BAD_REQUEST,
                format!("The upload could not be read: {}.", e.body_text()),
            )
        }
    };
    let area = |e: std::io::Error| AppError::Internal(format!("import file area: {e}"));
    let mut csrf = String::new();
    let mut module = String::new();
    // The file goes straight to the import file area, chunk by chunk: a 50 MB upload is
    // never held in memory.
    let mut file: Option<(String, StagedUpload)> = None;
    let read = async {
        while let Some(mut field) = form.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            match name.as_str() {
                "csrf_token" | "module" => {
                    let text = field.text().await.map_err(bad)?;
                    if name == "csrf_token" {
                        csrf = text;
                    } else {
                        module = text;
                    }
                }
                "file" if file.is_none() => {
                    let files = st.app.import_files.as_ref().ok_or_else(|| {
                        PageError::from(AppError::Internal(
                            "no import file area is configured".into(),
                        ))
                    })?;
                    let staged = files.stage().await.map_err(area)?;
                    let file_name = field.file_name().unwrap_or_default().to_owned();
                    let path = staged.path().to_owned();
                    file = Some((file_name, staged));
                    let mut out = tokio::fs::File::create(&path).await.map_err(area)?;
                    let mut size = 0usize;
                    while let Some(chunk) = field.chunk().await.map_err(bad)? {
                        size += chunk.len();
                        if size > MAX_IMPORT_BYTES {
                            return Err(too_large());
                        }
                        out.write_all(&chunk).await.map_err(area)?;
                    }
                    out.flush().await.map_err(area)?;
                }
                _ => {}
            }
        }
        Ok::<(), PageError>(())
    };
    let read = read.await;
    let discard = |staged: StagedUpload| async {
        if let Some(files) = &st.app.import_files {
            let _ = files.discard(staged).await;
        }
    };
    if let Err(e) = read {
        if let Some((_, staged)) = file {
            discard(staged).await;
        }
        return Err(e);
    }
    let expected = p.session.as_ref().map_or("", |s| s.csrf_token.as_str());
    if expected.is_empty() || !constant_eq(&csrf, expected) {
        if let Some((_, staged)) = file {
            discard(staged).await;
        }
        return Err(PageError::status(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Reload the page and submit it again.".into(),
        ));
    }
    let result = match file {
        Some((name, staged)) if !name.is_empty() => {
            st.app
                .start_import_upload(&p, &code, &module, &name, staged)
                .await
        }
        Some((_, staged)) => {
            discard(staged).await;
            Err(AppError::field("file", "choose a file to import"))
        }
        None => Err(AppError::field("file", "choose a file to import")),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!(
            "/p/{}/requirements/import/{id}",
            code.trim().to_uppercase()
        ))
        .into_response()),
        Err(AppError::Validation(e)) => {
            let mut res = import_page(&st, &p, &c, &code, &module, Some(e.to_string())).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

struct ItemView {
    what: String,
    at: String,
    id: String,
    title: String,
    outcome: &'static str,
    details: Vec<String>,
}

#[derive(Template)]
#[template(path = "req_exchange/report.html")]
struct ReportPage {
    l: Layout,
    code: String,
    id: String,
    file_name: String,
    format: String,
    target: String,
    created: String,
    status: String,
    pending: bool,
    can_apply: bool,
    blocked: Option<String>,
    counts: ImportCounts,
    problems: Vec<String>,
    notes: Vec<String>,
    modules: Vec<opensesa_app::requirements::exchange::ModuleReport>,
    items: Vec<ItemView>,
    shown: usize,
    matching: usize,
    left_out: usize,
    filters: Vec<(&'static str, &'static str, bool)>,
    module_prefix: Option<String>,
    needs_lead: bool,
}

#[derive(Deserialize, Default)]
struct ReportQuery {
    #[serde(default)]
    show: String,
}

fn parse_import_id(raw: &str) -> Result<ImportId, PageError> {
    raw.parse().map_err(|_| PageError::from(AppError::NotFound))
}

fn summary(c: &ImportCounts) -> String {
    format!(
        "{} created, {} updated, {} unchanged; {} link{} added, {} replaced",
        c.created,
        c.updated,
        c.unchanged,
        c.links_added,
        if c.links_added == 1 { "" } else { "s" },
        c.links_replaced
    )
}

async fn report(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, id)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let id = parse_import_id(&id)?;
    let view = st.app.import_report(&p, &code, id).await?;
    let r: ImportReport = view.report;
    let show = q.show.trim().to_owned();
    let keep = |o: Outcome| -> bool {
        match show.as_str() {
            "created" => o == Outcome::Created,
            "updated" => o == Outcome::Updated,
            "unchanged" => o == Outcome::Unchanged,
            "rejected" => o == Outcome::Rejected,
            "changes" => o != Outcome::Unchanged,
            _ => true,
        }
    };
    let matching = r.items.iter().filter(|i| keep(i.outcome)).count();
    let items: Vec<ItemView> = r
        .items
        .iter()
        .filter(|i| keep(i.outcome))
        .take(SHOWN_ITEMS)
        .map(|i| ItemView {
            what: i.what.clone(),
            at: i.at.clone(),
            id: i.id.clone(),
            title: i.title.clone(),
            outcome: i.outcome.as_str(),
            details: i.details.clone(),
        })
        .collect();
    let pending = view.import.status == "pending";
    let can_lead = view.ctx.can(Permission::Lead);
    let blocked = r.blocked_because();
    let page = ReportPage {
        l: Layout::for_user(&st, &p, &c, "Import report", "requirements")
            .in_project(&view.ctx.project, can_lead),
        code: view.ctx.project.code.clone(),
        id: id.to_string(),
        file_name: view.import.file_name.clone(),
        format: view.import.format.to_uppercase(),
        target: r.target.clone(),
        created: when(&view.import.created_at),
        status: view.import.status.clone(),
        pending,
        can_apply: pending && blocked.is_none() && (!r.needs_lead || can_lead),
        blocked,
        counts: r.counts.clone(),
        problems: r.problems.clone(),
        notes: r.notes.clone(),
        modules: r.modules.clone(),
        shown: items.len(),
        items,
        matching,
        left_out: r.items_left_out,
        filters: [
            ("", "All"),
            ("changes", "Changes"),
            ("created", "Created"),
            ("updated", "Updated"),
            ("unchanged", "Unchanged"),
            ("rejected", "Rejected"),
        ]
        .into_iter()
        .map(|(k, label)| (k, label, k == show))
        .collect(),
        module_prefix: view.module.map(|m| m.prefix),
        needs_lead: r.needs_lead,
    };
    render(&page)
}

#[derive(Deserialize)]
struct Empty {}

async fn apply(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    let id = parse_import_id(&id)?;
    let code = code.trim().to_uppercase();
    match st.app.apply_import(&p, &code, id).await? {
        ApplyOutcome::Applied(counts) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{code}/requirements/import/{id}"),
            &format!("Import applied: {}.", summary(&counts)),
        )),
        ApplyOutcome::Replanned(new) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{code}/requirements/import/{new}"),
            "The project changed since this report was made, so nothing was applied. This is the report for the project as it is now; review it and apply again.",
        )),
    }
}

async fn discard(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(PageUser(p, _), _): CsrfForm<Empty>,
) -> PageResult {
    let id = parse_import_id(&id)?;
    let code = code.trim().to_uppercase();
    st.app.discard_import(&p, &code, id).await?;
    Ok(redirect_with_flash(
        &st,
        &format!("/p/{code}/requirements/import"),
        "Import discarded; nothing was changed.",
    ))
}
