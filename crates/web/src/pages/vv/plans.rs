//! Plans: the list with the create form, a plan's page (fields, status steps, activities, its
//! cases with their latest verdicts, report downloads and snapshots).

use super::{unpack, PageResult, Typed};
use crate::auth::{redirect_with_flash, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use opensesa_app::jobs::VvReportPayload;
use opensesa_app::ports::CaseQuery;
use opensesa_app::vv::report::INLINE_REPORT_CASES;
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::ActivityId;
use opensesa_domain::requirements::VerificationMethod;
use opensesa_domain::vv::{ActivityInput, PlanInput, PlanStatus};
use serde::Deserialize;

pub struct PlanRow {
    hid: String,
    title: String,
    status: &'static str,
    activities: i64,
    cases: i64,
}

#[derive(Template)]
#[template(path = "vv/plans.html")]
struct PlansPage {
    l: Layout,
    code: String,
    plans: Vec<PlanRow>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

async fn plans_page(
    st: &AppState,
    p: &Principal,
    c: &crate::auth::Caller,
    code: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, plans) = st.app.list_plans(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let t = PlansPage {
        l: layout(st, p, c, &ctx, "Verification plans", "vv").with_error(error),
        code: ctx.project.code.clone(),
        can_write: ctx.can(Permission::Write),
        plans: plans
            .iter()
            .map(|s| PlanRow {
                hid: s.plan.human_id.clone(),
                title: s.plan.title.clone(),
                status: s.plan.status.label(),
                activities: s.activities,
                cases: s.cases,
            })
            .collect(),
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
    plans_page(&st, &p, &c, &code, None).await
}

fn plan_input(f: &Fields) -> PlanInput {
    PlanInput {
        title: f.get("title").map(str::to_owned),
        description: f.get("description").map(str::to_owned),
    }
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .create_plan(&p, &code, &plan_input(&f), &f.text("scope"))
        .await;
    match recoverable(r, None)? {
        Ok(plan) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/plans/{}", code.to_uppercase(), plan.human_id),
            &format!("Plan {} created.", plan.human_id),
        )),
        Err(failure) => plans_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

pub struct ActivityRow {
    n: usize,
    title: String,
    phase: String,
    method: String,
    start: String,
    end: String,
    organisation: String,
}

pub struct CaseRow {
    hid: String,
    title: String,
    status: &'static str,
    verdict: &'static str,
    verdict_label: &'static str,
}

#[derive(Template)]
#[template(path = "vv/plan.html")]
struct PlanPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    description: Vec<String>,
    status: &'static str,
    status_name: &'static str,
    revision: i64,
    approved: String,
    scope: Vec<String>,
    scope_text: String,
    next: Vec<Opt>,
    can_write: bool,
    activities: Vec<ActivityRow>,
    methods: Vec<Opt>,
    cases: Vec<CaseRow>,
    total_cases: i64,
    large: bool,
    f: Fields,
    errs: Errs,
    edit_open: bool,
}

async fn plan_page(
    st: &AppState,
    p: &Principal,
    c: &crate::auth::Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.plan(p, code, hid).await?;
    let edit_open = typed.is_some();
    let (f, errs, error, status) = unpack(typed);
    let (_, page) = st
        .app
        .list_cases(
            p,
            code,
            CaseQuery {
                plan_id: Some(d.plan.id),
                limit: 200,
                ..Default::default()
            },
        )
        .await?;
    // The scope's labels start with the module prefix.
    let scope_text = d
        .scope
        .iter()
        .filter_map(|(_, label)| label.split_whitespace().next())
        .filter(|p| !p.starts_with('('))
        .collect::<Vec<_>>()
        .join(", ");
    let t = PlanPage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("{} {}", d.plan.human_id, d.plan.title),
            "vv",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        hid: d.plan.human_id.clone(),
        title: d.plan.title.clone(),
        description: d.plan.description.lines().map(str::to_owned).collect(),
        status: d.plan.status.label(),
        status_name: d.plan.status.as_str(),
        revision: d.plan.revision,
        approved: d.plan.approved_at.map(|t| when(&t)).unwrap_or_default(),
        scope: d.scope.iter().map(|(_, l)| l.clone()).collect(),
        scope_text,
        next: d
            .next
            .iter()
            .map(|s| {
                Opt::new(
                    s.as_str(),
                    format!("Move to {}", s.label().to_lowercase()),
                    false,
                )
            })
            .collect(),
        can_write: d.ctx.can(Permission::Write),
        activities: d
            .activities
            .iter()
            .enumerate()
            .map(|(i, a)| ActivityRow {
                n: i + 1,
                title: a.title.clone(),
                phase: a.phase.clone(),
                method: a.method.as_str().to_owned(),
                start: a.planned_start.map(|d| d.to_string()).unwrap_or_default(),
                end: a.planned_end.map(|d| d.to_string()).unwrap_or_default(),
                organisation: a.organisation.clone(),
            })
            .collect(),
        methods: VerificationMethod::ALL
            .iter()
            .map(|m| Opt::new(m.as_str(), m.as_str(), false))
            .collect(),
        total_cases: page.total,
        large: page.total as usize > INLINE_REPORT_CASES,
        cases: page
            .rows
            .iter()
            .map(|r| CaseRow {
                hid: r.case.human_id.clone(),
                title: r.case.title.clone(),
                status: r.case.status.label(),
                verdict: r.latest.map_or("none", |l| l.verdict.as_str()),
                verdict_label: r.latest.map_or("No result", |l| l.verdict.label()),
            })
            .collect(),
        f,
        errs,
        edit_open,
    };
    render_status(&t, status)
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    plan_page(&st, &p, &c, &code, &hid, None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let rev = f.get("revision").and_then(|r| r.parse().ok());
    let r = st
        .app
        .update_plan(&p, &code, &hid, &plan_input(&f), f.get("scope"), rev)
        .await;
    match recoverable(r, Some("revision"))? {
        Ok(plan) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/plans/{}", code.to_uppercase(), plan.human_id),
            "Plan saved.",
        )),
        Err(failure) => plan_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn status(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = match PlanStatus::parse(&f.text("to")) {
        Ok(to) => st.app.move_plan(&p, &code, &hid, to).await,
        Err(e) => Err(AppError::field("to", e)),
    };
    match recoverable(r, Some("to"))? {
        Ok(plan) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/plans/{}", code.to_uppercase(), plan.human_id),
            &format!(
                "Plan {} is {}.",
                plan.human_id,
                plan.status.label().to_lowercase()
            ),
        )),
        Err(failure) => plan_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn activity(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let id = match f.non_empty("id").map(|s| s.parse::<ActivityId>()) {
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Err(AppError::NotFound.into()),
        None => None,
    };
    let input = ActivityInput {
        title: f.get("a_title").map(str::to_owned),
        phase: f.get("phase").map(str::to_owned),
        method: f.get("method").map(str::to_owned),
        planned_start: f.get("planned_start").map(str::to_owned),
        planned_end: f.get("planned_end").map(str::to_owned),
        organisation: f.get("organisation").map(str::to_owned),
    };
    let r = st.app.save_activity(&p, &code, &hid, id, &input).await;
    match recoverable(r, None)? {
        Ok(_) => Ok(redirect_with_flash(
            &st,
            &format!(
                "/p/{}/vv/plans/{}#activities",
                code.to_uppercase(),
                hid.to_uppercase()
            ),
            "Activity saved.",
        )),
        Err(failure) => plan_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(default)]
    format: String,
}

/// `/p/{code}/vv/plans/{hid}/report?format=html|xlsx`: the report.
pub async fn report(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path((code, hid)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    super::report_response(&st, &p, &code, SnapshotScope::Plan(hid), &q.format).await
}

/// POST: the report generated by a job (large plans); goes to the job's page.
pub async fn report_job(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, _), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let id = st
        .app
        .enqueue_vv_report(
            &p,
            &code,
            VvReportPayload {
                plan: hid.trim().to_uppercase(),
                format: f.text("format"),
                ..Default::default()
            },
        )
        .await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}
