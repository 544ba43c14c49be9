//! Cases: the list (filters, paging) with the create form; a case's page (fields, steps,
//! status steps, edit, the requirements it verifies, results with the record form and
//! evidence upload, defects, sets, revisions); the revision comparison.

use super::{unpack, verdict_opts, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{
    layout, page_links, query_string, recoverable, render_status, Errs, Fields, Opt, PageLink,
};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use opensesa_app::ports::CaseQuery;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::CaseSetId;
use opensesa_domain::requirements::VerificationMethod;
use opensesa_domain::textdiff::DiffKind;
use opensesa_domain::vv::model::steps_text;
use opensesa_domain::vv::{CaseInput, CaseStatus, Verdict};

const PAGE: i64 = 100;

pub struct CaseRow {
    hid: String,
    title: String,
    method: &'static str,
    status: &'static str,
    verdict: &'static str,
    verdict_label: &'static str,
    executed: String,
}

#[derive(Template)]
#[template(path = "vv/cases.html")]
struct CasesPage {
    l: Layout,
    code: String,
    rows: Vec<CaseRow>,
    total: i64,
    pages: Vec<PageLink>,
    q: Fields,
    statuses: Vec<Opt>,
    verdicts: Vec<Opt>,
    methods: Vec<Opt>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

fn case_input(f: &Fields) -> CaseInput {
    CaseInput {
        title: f.get("title").map(str::to_owned),
        method: f.get("method").map(str::to_owned),
        preconditions: f.get("preconditions").map(str::to_owned),
        steps: None,
        steps_text: f.get("steps").map(str::to_owned),
        expected: f.get("expected").map(str::to_owned),
        automation_key: f.get("automation_key").map(str::to_owned),
    }
}

async fn cases_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    q: Fields,
    typed: Typed,
) -> PageResult {
    let page_no: i64 = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let plan = match q.non_empty("plan") {
        Some(h) => Some(st.app.plan(p, code, &h).await?.plan.id),
        None => None,
    };
    let set = match q.non_empty("set").map(|s| s.parse::<CaseSetId>()) {
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => return Err(AppError::field("set", "is not a set id").into()),
        None => None,
    };
    let verdict = q.non_empty("verdict");
    if let Some(v) = &verdict {
        Verdict::parse(v).map_err(|e| AppError::field("verdict", e))?;
    }
    let status_f = q.non_empty("status");
    if let Some(s) = &status_f {
        CaseStatus::parse(s).map_err(|e| AppError::field("status", e))?;
    }
    let (ctx, page) = st
        .app
        .list_cases(
            p,
            code,
            CaseQuery {
                text: q.non_empty("q"),
                status: status_f.clone(),
                plan_id: plan,
                set_id: set,
                verdict: verdict.clone(),
                limit: PAGE,
                offset: (page_no - 1) * PAGE,
                ..Default::default()
            },
        )
        .await?;
    let (f, errs, error, status) = unpack(typed);
    let keep: Vec<(String, String)> = q.0.iter().filter(|(k, _)| k != "page").cloned().collect();
    let base = format!("/p/{}/vv/cases?{}", ctx.project.code, query_string(&keep));
    let t = CasesPage {
        l: layout(st, p, c, &ctx, "Verification cases", "vv").with_error(error),
        code: ctx.project.code.clone(),
        rows: page
            .rows
            .iter()
            .map(|r| CaseRow {
                hid: r.case.human_id.clone(),
                title: r.case.title.clone(),
                method: r.case.method.as_str(),
                status: r.case.status.label(),
                verdict: r.latest.map_or("none", |l| l.verdict.as_str()),
                verdict_label: r.latest.map_or("No result", |l| l.verdict.label()),
                executed: r.latest.map(|l| when(&l.executed_at)).unwrap_or_default(),
            })
            .collect(),
        total: page.total,
        pages: page_links(page_no, page.total, PAGE, |n| format!("{base}&page={n}")),
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| {
                Opt::new(
                    s.as_str(),
                    s.label(),
                    status_f.as_deref() == Some(s.as_str()),
                )
            })
            .collect(),
        verdicts: verdict_opts(verdict.as_deref().unwrap_or("")),
        methods: VerificationMethod::ALL
            .iter()
            .map(|m| Opt::new(m.as_str(), m.as_str(), f.get("method") == Some(m.as_str())))
            .collect(),
        can_write: ctx.can(Permission::Write),
        q,
        f,
        errs,
    };
    render_status(&t, status)
}

pub async fn list(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    cases_page(&st, &p, &c, &code, Fields(q), None).await
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .create_case(
            &p,
            &code,
            &case_input(&f),
            &f.text("verifies"),
            &f.text("activity"),
        )
        .await;
    match recoverable(r, None)? {
        Ok(case) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/cases/{}", code.to_uppercase(), case.human_id),
            &format!("Case {} created.", case.human_id),
        )),
        Err(failure) => cases_page(&st, &p, &c, &code, Fields::default(), Some((f, failure))).await,
    }
}

pub struct LinkRow {
    hid: String,
    title: String,
    suspect: bool,
    reasons: Vec<String>,
}

pub struct ResultRow {
    id: String,
    verdict: &'static str,
    verdict_label: &'static str,
    executed: String,
    executor: String,
    configuration: String,
    revision: i64,
    evidence: usize,
    superseded: bool,
    source: String,
}

pub struct StepView {
    n: usize,
    action: String,
    expected: String,
}

pub struct RevisionRow {
    number: i64,
    at: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "vv/case.html")]
struct CasePage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    method: &'static str,
    status: &'static str,
    status_name: &'static str,
    revision: i64,
    preconditions: Vec<String>,
    expected: Vec<String>,
    automation_key: String,
    activity: String,
    steps: Vec<StepView>,
    next: Vec<Opt>,
    can_write: bool,
    editable: bool,
    links: Vec<LinkRow>,
    verifies_text: String,
    results: Vec<ResultRow>,
    verdicts: Vec<Opt>,
    /// Frozen baselines a result may name.
    baselines: Vec<Opt>,
    defects: Vec<(String, String, &'static str)>,
    sets: Vec<(String, String)>,
    revisions: Vec<RevisionRow>,
    methods: Vec<Opt>,
    edit: CaseForm,
    f: Fields,
    errs: Errs,
    edit_open: bool,
}

/// The edit form's values: typed ones after a refusal, else the stored ones.
pub struct CaseForm {
    title: String,
    preconditions: String,
    steps: String,
    expected: String,
    automation_key: String,
    activity: String,
}

async fn case_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.case_detail(p, code, hid).await?;
    let edit_open = typed
        .as_ref()
        .is_some_and(|(f, _)| f.get("title").is_some());
    let (f, errs, error, status) = unpack(typed);
    let case = &d.case;
    let activity_ref = match (&d.activity, case.activity_id) {
        (Some((plan, _)), Some(a)) => {
            let acts = st.app.plan(p, code, plan).await?.activities;
            acts.iter()
                .position(|x| x.id == a)
                .map(|i| format!("{plan}/{}", i + 1))
                .unwrap_or_default()
        }
        _ => String::new(),
    };
    let verifies: Vec<&opensesa_app::ports::LinkView> = d
        .links
        .iter()
        .filter(|l| l.link.source_id == case.id.0)
        .collect();
    let edit = if edit_open {
        CaseForm {
            title: f.text("title"),
            preconditions: f.text("preconditions"),
            steps: f.text("steps"),
            expected: f.text("expected"),
            automation_key: f.text("automation_key"),
            activity: f.text("activity"),
        }
    } else {
        CaseForm {
            title: case.title.clone(),
            preconditions: case.preconditions.clone(),
            steps: steps_text(&case.steps),
            expected: case.expected.clone(),
            automation_key: case.automation_key.clone(),
            activity: activity_ref.clone(),
        }
    };
    let (_, all_baselines) = st.app.list_baselines(p, code).await?;
    let chosen_baseline = f.text("baseline");
    let baselines: Vec<Opt> = all_baselines
        .iter()
        .filter(|b| b.status == opensesa_domain::baselines::BaselineStatus::Frozen)
        .map(|b| {
            Opt::new(
                b.human_id.clone(),
                format!("{} {}", b.human_id, b.name),
                b.human_id == chosen_baseline,
            )
        })
        .collect();
    let t = CasePage {
        baselines,
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("{} {}", case.human_id, case.title),
            "vv",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        hid: case.human_id.clone(),
        title: case.title.clone(),
        method: case.method.as_str(),
        status: case.status.label(),
        status_name: case.status.as_str(),
        revision: case.revision,
        preconditions: case.preconditions.lines().map(str::to_owned).collect(),
        expected: case.expected.lines().map(str::to_owned).collect(),
        automation_key: case.automation_key.clone(),
        activity: d
            .activity
            .as_ref()
            .map(|(plan, a)| format!("{activity_ref} {a} ({plan})"))
            .unwrap_or_default(),
        steps: case
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepView {
                n: i + 1,
                action: s.action.clone(),
                expected: s.expected.clone(),
            })
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
        can_write: d.ctx.can(Permission::Write),
        editable: case.status != CaseStatus::Retired,
        verifies_text: verifies
            .iter()
            .map(|l| l.target_human_id.clone())
            .collect::<Vec<_>>()
            .join(", "),
        links: verifies
            .iter()
            .map(|l| LinkRow {
                hid: l.target_human_id.clone(),
                title: l.target_title.clone(),
                suspect: l.link.suspect,
                reasons: l
                    .link
                    .suspect_reasons
                    .iter()
                    .map(|r| {
                        format!(
                            "{} ({} end) changed from revision {} to {}",
                            r.changed, r.end, r.from_revision, r.to_revision
                        )
                    })
                    .collect(),
            })
            .collect(),
        results: d
            .results
            .iter()
            .map(|r| ResultRow {
                id: r.result.id.to_string(),
                verdict: r.result.verdict.as_str(),
                verdict_label: r.result.verdict.label(),
                executed: when(&r.result.executed_at),
                executor: r.result.executor.clone(),
                configuration: r.result.configuration.clone(),
                revision: r.result.case_revision,
                evidence: r.result.evidence.len(),
                superseded: r.superseded_by.is_some(),
                source: r.result.source.clone(),
            })
            .collect(),
        verdicts: verdict_opts(f.get("verdict").unwrap_or("")),
        defects: d
            .defects
            .iter()
            .map(|x| (x.human_id.clone(), x.title.clone(), x.status.label()))
            .collect(),
        sets: d
            .sets
            .iter()
            .map(|s| (s.set.id.to_string(), s.set.name.clone()))
            .collect(),
        revisions: d
            .revisions
            .iter()
            .rev()
            .map(|r| RevisionRow {
                number: r.number,
                at: when(&r.at),
                hash: r.content_hash.chars().take(12).collect(),
            })
            .collect(),
        methods: VerificationMethod::ALL
            .iter()
            .map(|m| Opt::new(m.as_str(), m.as_str(), *m == case.method))
            .collect(),
        edit,
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
    case_page(&st, &p, &c, &code, &hid, None).await
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
        .update_case(
            &p,
            &code,
            &hid,
            &case_input(&f),
            f.get("verifies"),
            f.get("activity"),
            rev,
        )
        .await;
    match recoverable(r, Some("revision"))? {
        Ok(case) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/cases/{}", code.to_uppercase(), case.human_id),
            "Case saved.",
        )),
        Err(failure) => case_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn status(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = match CaseStatus::parse(&f.text("to")) {
        Ok(to) => st.app.move_case(&p, &code, &hid, to).await,
        Err(e) => Err(AppError::field("to", e)),
    };
    match recoverable(r, Some("to"))? {
        Ok(case) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/cases/{}", code.to_uppercase(), case.human_id),
            &format!(
                "Case {} is {}.",
                case.human_id,
                case.status.label().to_lowercase()
            ),
        )),
        Err(failure) => case_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

/// Shows the case again after a refused result (422 or 409) with what was typed.
pub async fn page_with_failure(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    case_page(st, p, c, code, hid, typed).await
}

pub struct DiffRow {
    label: String,
    spans: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "vv/case_diff.html")]
struct DiffPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    from: i64,
    to: i64,
    froms: Vec<Opt>,
    tos: Vec<Opt>,
    diffs: Vec<DiffRow>,
}

pub async fn diff(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let (case, _, _) = st.app.case_diff(&p, &code, &hid, 1, 1).await?;
    let to: i64 = q
        .get("to")
        .and_then(|v| v.parse().ok())
        .unwrap_or(case.revision);
    let from: i64 = q
        .get("from")
        .and_then(|v| v.parse().ok())
        .unwrap_or((to - 1).max(1));
    let (case, revisions, diffs) = st.app.case_diff(&p, &code, &hid, from, to).await?;
    let opts = |sel: i64| {
        revisions
            .iter()
            .map(|r| {
                Opt::new(
                    r.number.to_string(),
                    format!("revision {} ({})", r.number, when(&r.at)),
                    r.number == sel,
                )
            })
            .collect()
    };
    let t = DiffPage {
        l: layout(
            &st,
            &p,
            &c,
            &ctx,
            format!("{} revisions", case.human_id),
            "vv",
        ),
        code: ctx.project.code.clone(),
        hid: case.human_id.clone(),
        title: case.title.clone(),
        from,
        to,
        froms: opts(from),
        tos: opts(to),
        diffs: diffs
            .iter()
            .map(|d| DiffRow {
                label: d.field.replace('_', " "),
                spans: d
                    .spans
                    .iter()
                    .map(|s| {
                        (
                            match s.kind {
                                DiffKind::Equal => "span",
                                DiffKind::Insert => "ins",
                                DiffKind::Delete => "del",
                            },
                            s.text.clone(),
                        )
                    })
                    .collect(),
            })
            .collect(),
    };
    render_status(&t, axum::http::StatusCode::OK)
}
