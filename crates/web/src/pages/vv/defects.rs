//! Defects: the list (open first) with the create form; a defect's page (fields, links to
//! results, cases and requirements, status steps with the closing rule and a lead's override,
//! edit, revisions).

use super::{unpack, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::ResultId;
use opensesa_domain::vv::{DefectInput, DefectStatus, Severity};

pub struct DefectRow {
    hid: String,
    title: String,
    severity: &'static str,
    status: &'static str,
    open: bool,
    updated: String,
}

#[derive(Template)]
#[template(path = "vv/defects.html")]
struct DefectsPage {
    l: Layout,
    code: String,
    rows: Vec<DefectRow>,
    can_write: bool,
    severities: Vec<Opt>,
    f: Fields,
    errs: Errs,
}

fn input(f: &Fields) -> DefectInput {
    DefectInput {
        title: f.get("title").map(str::to_owned),
        description: f.get("description").map(str::to_owned),
        severity: f.get("severity").map(str::to_owned),
    }
}

async fn defects_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, mut defects) = st.app.list_defects(p, code).await?;
    defects.sort_by_key(|d| {
        (
            !d.status.is_open(),
            d.severity,
            std::cmp::Reverse(d.updated_at),
        )
    });
    let (f, errs, error, status) = unpack(typed);
    let t = DefectsPage {
        l: layout(st, p, c, &ctx, "Defects", "vv").with_error(error),
        code: ctx.project.code.clone(),
        rows: defects
            .iter()
            .map(|d| DefectRow {
                hid: d.human_id.clone(),
                title: d.title.clone(),
                severity: d.severity.as_str(),
                status: d.status.label(),
                open: d.status.is_open(),
                updated: when(&d.updated_at),
            })
            .collect(),
        can_write: ctx.can(Permission::Write),
        severities: Severity::ALL
            .iter()
            .map(|s| {
                Opt::new(
                    s.as_str(),
                    s.as_str(),
                    f.get("severity").unwrap_or("major") == s.as_str(),
                )
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
    defects_page(&st, &p, &c, &code, None).await
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let result = match f.non_empty("result").map(|r| r.parse::<ResultId>()) {
        Some(Ok(r)) => Some(r),
        Some(Err(_)) => return Err(AppError::field("result", "is not a result id").into()),
        None => None,
    };
    let r = st
        .app
        .create_defect(
            &p,
            &code,
            &input(&f),
            result,
            &f.text("cases"),
            &f.text("requirements"),
        )
        .await;
    match recoverable(r, None)? {
        Ok(d) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/defects/{}", code.to_uppercase(), d.human_id),
            &format!("Defect {} raised.", d.human_id),
        )),
        Err(failure) => defects_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

#[derive(Template)]
#[template(path = "vv/defect.html")]
struct DefectPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    description: Vec<String>,
    severity: &'static str,
    status: &'static str,
    status_name: &'static str,
    revision: i64,
    created: String,
    results: Vec<(String, String, &'static str, &'static str)>,
    cases: Vec<(String, String)>,
    requirements: Vec<(String, String)>,
    next: Vec<Opt>,
    blockers: Vec<String>,
    can_write: bool,
    can_lead: bool,
    severities: Vec<Opt>,
    revisions: Vec<(i64, String)>,
    f: Fields,
    errs: Errs,
    edit_open: bool,
}

async fn defect_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.defect_detail(p, code, hid).await?;
    let edit_open = typed
        .as_ref()
        .is_some_and(|(f, _)| f.get("title").is_some());
    let (f, errs, error, status) = unpack(typed);
    let def = &d.defect;
    let case_names: std::collections::HashMap<_, _> =
        d.cases.iter().map(|(id, h, _)| (*id, h.clone())).collect();
    let t = DefectPage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("{} {}", def.human_id, def.title),
            "vv",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        hid: def.human_id.clone(),
        title: def.title.clone(),
        description: def.description.lines().map(str::to_owned).collect(),
        severity: def.severity.as_str(),
        status: def.status.label(),
        status_name: def.status.as_str(),
        revision: def.revision,
        created: when(&def.created_at),
        results: d
            .results
            .iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    case_names.get(&r.case_id).cloned().unwrap_or_default(),
                    r.verdict.as_str(),
                    r.verdict.label(),
                )
            })
            .collect(),
        cases: d
            .cases
            .iter()
            .map(|(_, h, t)| (h.clone(), t.clone()))
            .collect(),
        requirements: d
            .requirements
            .iter()
            .map(|(_, h, t)| (h.clone(), t.clone()))
            .collect(),
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
        blockers: d.closing_blockers.clone(),
        can_write: d.ctx.can(Permission::Write),
        can_lead: d.ctx.can(Permission::Lead),
        severities: Severity::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), s.as_str(), *s == def.severity))
            .collect(),
        revisions: d
            .revisions
            .iter()
            .rev()
            .map(|r| (r.number, when(&r.at)))
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
    defect_page(&st, &p, &c, &code, &hid, None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .update_defect(
            &p,
            &code,
            &hid,
            &input(&f),
            &f.text("cases"),
            &f.text("requirements"),
        )
        .await;
    match recoverable(r, None)? {
        Ok(d) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/defects/{}", code.to_uppercase(), d.human_id),
            "Defect saved.",
        )),
        Err(failure) => defect_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn status(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = match DefectStatus::parse(&f.text("to")) {
        Ok(to) => {
            st.app
                .move_defect(&p, &code, &hid, to, f.non_empty("reason").as_deref())
                .await
        }
        Err(e) => Err(AppError::field("to", e)),
    };
    match recoverable(r, Some("to"))? {
        Ok(d) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/defects/{}", code.to_uppercase(), d.human_id),
            &format!(
                "Defect {} is {}.",
                d.human_id,
                d.status.label().to_lowercase()
            ),
        )),
        Err(failure) => defect_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}
