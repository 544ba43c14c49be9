//! Case sets: the list with the create form; a set's page (members with their latest
//! verdicts, the member edit form, a run form recording one result per case, reports).

use super::{unpack, verdict_opts, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::Layout;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use opensesa_app::jobs::VvReportPayload;
use opensesa_app::vv::results::ResultInput;
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::Principal;
use opensesa_domain::access::Permission;
use opensesa_domain::ids::CaseSetId;

pub struct SetRow {
    id: String,
    name: String,
    description: String,
    cases: i64,
}

#[derive(Template)]
#[template(path = "vv/sets.html")]
struct SetsPage {
    l: Layout,
    code: String,
    sets: Vec<SetRow>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

async fn sets_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, sets) = st.app.list_sets(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let t = SetsPage {
        l: layout(st, p, c, &ctx, "Case sets", "vv").with_error(error),
        code: ctx.project.code.clone(),
        sets: sets
            .iter()
            .map(|s| SetRow {
                id: s.set.id.to_string(),
                name: s.set.name.clone(),
                description: s.set.description.clone(),
                cases: s.cases,
            })
            .collect(),
        can_write: ctx.can(Permission::Write),
        f,
        errs,
    };
    render_status(&t, status)
}

pub async fn list(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    sets_page(&st, &p, &c, &code, None).await
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .save_set(
            &p,
            &code,
            None,
            &f.text("name"),
            &f.text("description"),
            &f.text("cases"),
        )
        .await;
    match recoverable(r, Some("name"))? {
        Ok(s) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/sets/{}", code.to_uppercase(), s.id),
            &format!("Set {} created.", s.name),
        )),
        Err(failure) => sets_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

pub struct MemberRow {
    hid: String,
    title: String,
    status: &'static str,
    retired: bool,
    verdict: &'static str,
    verdict_label: &'static str,
}

#[derive(Template)]
#[template(path = "vv/set.html")]
struct SetPage {
    l: Layout,
    code: String,
    id: String,
    name: String,
    description: String,
    members: Vec<MemberRow>,
    members_text: String,
    can_write: bool,
    verdicts: Vec<Opt>,
    f: Fields,
    errs: Errs,
    edit_open: bool,
}

async fn set_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    id: CaseSetId,
    typed: Typed,
) -> PageResult {
    let d = st.app.set_detail(p, code, id).await?;
    let edit_open = typed.as_ref().is_some_and(|(f, _)| f.get("name").is_some());
    let (f, errs, error, status) = unpack(typed);
    let t = SetPage {
        l: layout(st, p, c, &d.ctx, format!("Set {}", d.set.name), "vv").with_error(error),
        code: d.ctx.project.code.clone(),
        id: d.set.id.to_string(),
        name: d.set.name.clone(),
        description: d.set.description.clone(),
        members_text: d
            .cases
            .rows
            .iter()
            .map(|r| r.case.human_id.clone())
            .collect::<Vec<_>>()
            .join(", "),
        members: d
            .cases
            .rows
            .iter()
            .map(|r| MemberRow {
                hid: r.case.human_id.clone(),
                title: r.case.title.clone(),
                status: r.case.status.label(),
                retired: r.case.status == opensesa_domain::vv::CaseStatus::Retired,
                verdict: r.latest.map_or("none", |l| l.verdict.as_str()),
                verdict_label: r.latest.map_or("No result", |l| l.verdict.label()),
            })
            .collect(),
        can_write: d.ctx.can(Permission::Write),
        verdicts: verdict_opts(""),
        f,
        errs,
        edit_open,
    };
    render_status(&t, status)
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, id)): Path<(String, CaseSetId)>,
) -> PageResult {
    set_page(&st, &p, &c, &code, id, None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, CaseSetId)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .save_set(
            &p,
            &code,
            Some(id),
            &f.text("name"),
            &f.text("description"),
            &f.text("cases"),
        )
        .await;
    match recoverable(r, Some("name"))? {
        Ok(s) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/sets/{}", code.to_uppercase(), s.id),
            "Set saved.",
        )),
        Err(failure) => set_page(&st, &p, &c, &code, id, Some((f, failure))).await,
    }
}

/// A run of the set: `v_<case>` verdicts (empty ones skipped) and `n_<case>` notes, with
/// shared executor, time and configuration.
pub async fn run(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, CaseSetId)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let verdicts: Vec<(String, String, String)> =
        f.0.iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("v_")
                    .map(|hid| (hid.to_owned(), v.clone(), f.text(&format!("n_{hid}"))))
            })
            .collect();
    let common = ResultInput {
        executor: f.text("executor"),
        executed_at: f.text("executed_at"),
        configuration: f.text("configuration"),
        notes: f.text("notes"),
        ..Default::default()
    };
    let r = st.app.run_set(&p, &code, id, &verdicts, &common).await;
    match recoverable(r, None)? {
        Ok(results) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/sets/{id}", code.to_uppercase()),
            &format!("Run recorded: {} results.", results.len()),
        )),
        Err(failure) => set_page(&st, &p, &c, &code, id, Some((f, failure))).await,
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    format: String,
}

pub async fn report(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path((code, id)): Path<(String, CaseSetId)>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    super::report_response(&st, &p, &code, SnapshotScope::Set(id), &q.format).await
}

pub async fn report_job(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, CaseSetId)>,
    CsrfForm(PageUser(p, _), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let job = st
        .app
        .enqueue_vv_report(
            &p,
            &code,
            VvReportPayload {
                set: Some(id),
                format: f.text("format"),
                ..Default::default()
            },
        )
        .await?;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}
