//! Review rounds: the list with the form to open one (leads), and a round's page with each
//! reviewer's decisions, the decision form for reviewers and the close form for leads.

use super::{layout, recoverable, render_status, Errs, Failure, Fields, Opt, PageResult};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use opensesa_app::ports::ReqQuery;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::{ReviewRoundId, UserId};
use opensesa_domain::requirements::ReqStatus;
use opensesa_domain::FieldErrors;

/// How many candidates of one module the open form lists.
const CANDIDATES: i64 = 1000;

pub struct RoundRow {
    id: String,
    title: String,
    status: String,
    opened: String,
    closed: String,
}

pub struct Candidate {
    hid: String,
    title: String,
    status: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "requirements/reviews.html")]
struct ReviewsPage {
    l: Layout,
    code: String,
    rounds: Vec<RoundRow>,
    can_lead: bool,
    modules: Vec<Opt>,
    module: String,
    candidates: Vec<Candidate>,
    more_candidates: bool,
    reviewers: Vec<Opt>,
    title: String,
    ids: String,
    errs: Errs,
}

async fn reviews_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    module: Option<String>,
    typed: Option<(Fields, Failure)>,
) -> PageResult {
    let (ctx, rounds) = st.app.list_rounds(p, code).await?;
    let can_lead = ctx.can(Permission::Lead);
    let (f, errs, error, status) = match typed {
        Some((f, failure)) => (
            f,
            Errs::new(failure.errors),
            Some(failure.message),
            failure.status,
        ),
        None => (Fields::default(), Errs::default(), None, StatusCode::OK),
    };
    let module = module
        .or_else(|| f.non_empty("module"))
        .unwrap_or_default()
        .to_uppercase();
    let (mut modules, mut candidates, mut reviewers, mut more_candidates) =
        (Vec::new(), Vec::new(), Vec::new(), false);
    if can_lead {
        let (_, all) = st.app.list_modules(p, code).await?;
        modules = all
            .iter()
            .map(|m| {
                Opt::new(
                    m.module.prefix.clone(),
                    format!("{} · {}", m.module.prefix, m.module.name),
                    m.module.prefix == module,
                )
            })
            .collect();
        let chosen = f.all("req");
        if let Some(m) = all.iter().find(|m| m.module.prefix == module) {
            let (_, page) = st
                .app
                .list_requirements(
                    p,
                    code,
                    ReqQuery {
                        module_id: Some(m.module.id),
                        limit: CANDIDATES,
                        ..Default::default()
                    },
                )
                .await?;
            more_candidates = page.total > CANDIDATES;
            candidates = page
                .rows
                .into_iter()
                .filter(|r| {
                    matches!(
                        r.req.status,
                        ReqStatus::Draft | ReqStatus::Rejected | ReqStatus::InReview
                    ) && r.req.kind.is_requirement()
                })
                .map(|r| Candidate {
                    selected: chosen.contains(&r.req.human_id),
                    hid: r.req.human_id,
                    title: r.req.title,
                    status: r.req.status.label(),
                })
                .collect();
        }
        let picked = f.all("reviewer");
        let (_, members) = st.app.list_members(p, code).await?;
        reviewers = members
            .into_iter()
            .map(|m| {
                let id = m.user.id.to_string();
                Opt::new(
                    id.clone(),
                    format!(
                        "{} ({}, {})",
                        m.user.display_name,
                        m.user.email,
                        m.membership.role.as_str()
                    ),
                    picked.contains(&id),
                )
            })
            .collect();
    }
    let t = ReviewsPage {
        l: layout(st, p, c, &ctx, "Review rounds", "reviews").with_error(error),
        code: ctx.project.code.clone(),
        rounds: rounds
            .iter()
            .map(|r| RoundRow {
                id: r.id.to_string(),
                title: r.title.clone(),
                status: r.status.clone(),
                opened: format!("{} by {}", when(&r.opened_at), r.opened_by),
                closed: match (&r.closed_at, &r.closed_by) {
                    (Some(at), Some(by)) => format!("{} by {by}", when(at)),
                    (Some(at), None) => when(at),
                    _ => String::new(),
                },
            })
            .collect(),
        can_lead,
        modules,
        module,
        candidates,
        more_candidates,
        reviewers,
        title: f.text("title"),
        ids: f.text("ids"),
        errs,
    };
    render_status(&t, status)
}

/// `/p/{code}/reviews?module=`: the rounds; `module` lists its candidates in the open form.
pub async fn list(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let module = Fields(q).non_empty("module");
    reviews_page(&st, &p, &c, &code, module, None).await
}

/// Ids typed in a text area: separated by commas, semicolons, spaces or new lines.
fn typed_ids(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_uppercase)
        .collect()
}

pub async fn open(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let mut ids: Vec<String> = f.all("req").iter().map(|s| s.to_uppercase()).collect();
    for id in typed_ids(&f.text("ids")) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut reviewers = Vec::new();
    let mut errors = FieldErrors::new();
    for raw in f.all("reviewer") {
        match raw.parse::<UserId>() {
            Ok(u) => reviewers.push(u),
            Err(_) => errors.add("reviewers", format!("{raw:?} is not a user id")),
        }
    }
    let r = if errors.is_empty() {
        st.app
            .open_round(&p, &code, &f.text("title"), &ids, &reviewers)
            .await
    } else {
        st.app.project_access(&p, &code, Permission::Lead).await?;
        Err(AppError::Validation(errors))
    };
    match recoverable(r, Some("requirements"))? {
        Ok(id) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/reviews/{id}", code.to_uppercase()),
            "Review round opened.",
        )),
        Err(failure) => reviews_page(&st, &p, &c, &code, None, Some((f, failure))).await,
    }
}

pub struct DecisionCell {
    decision: String,
    comment: String,
    revision: i64,
    stale: bool,
}

pub struct ItemView {
    hid: String,
    title: String,
    status: &'static str,
    status_label: String,
    revision: i64,
    current_revision: i64,
    changed: bool,
    outcome: String,
    decisions: Vec<Option<DecisionCell>>,
    mine: String,
    error: String,
    comment: String,
}

#[derive(Template)]
#[template(path = "requirements/round.html")]
struct RoundPage {
    l: Layout,
    code: String,
    id: String,
    title: String,
    open: bool,
    opened: String,
    closed: String,
    summary: String,
    reviewers: Vec<String>,
    items: Vec<ItemView>,
    is_reviewer: bool,
    can_lead: bool,
    close_errs: Errs,
}

/// A refused form of the round page.
enum Refused {
    None,
    Decision(Fields, Failure),
    Close(Failure),
}

fn round_id(raw: &str) -> Result<ReviewRoundId, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn round_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    id: ReviewRoundId,
    refused: Refused,
) -> PageResult {
    let (ctx, d) = st.app.review_round(p, code, id).await?;
    let mut status = StatusCode::OK;
    let mut error = None;
    let mut close_errs = Errs::default();
    let mut decision_form: Option<(Fields, String)> = None;
    match refused {
        Refused::None => {}
        Refused::Decision(f, failure) => {
            status = failure.status;
            error = Some(failure.message);
            let msg = failure
                .errors
                .iter()
                .flat_map(|(field, r)| r.iter().map(move |x| format!("{field}: {x}")))
                .collect::<Vec<_>>()
                .join("; ");
            decision_form = Some((f, msg));
        }
        Refused::Close(failure) => {
            status = failure.status;
            error = Some(failure.message);
            close_errs = Errs::new(failure.errors);
        }
    }
    let me = p.user.id;
    let items = d
        .items
        .iter()
        .map(|it| {
            let (error, comment, typed_decision) = match &decision_form {
                Some((f, msg)) if f.text("requirement").eq_ignore_ascii_case(&it.human_id) => {
                    (msg.clone(), f.text("comment"), f.text("decision"))
                }
                _ => (String::new(), String::new(), String::new()),
            };
            let decisions: Vec<Option<DecisionCell>> = d
                .reviewers
                .iter()
                .map(|(u, _)| {
                    d.decisions
                        .iter()
                        .find(|x| x.requirement_id == it.requirement_id && x.reviewer_id == *u)
                        .map(|x| DecisionCell {
                            decision: x.decision.clone(),
                            comment: x.comment.clone(),
                            revision: x.revision,
                            stale: x.revision != it.current_revision,
                        })
                })
                .collect();
            let mine = d
                .decisions
                .iter()
                .find(|x| x.requirement_id == it.requirement_id && x.reviewer_id == me)
                .map(|x| x.decision.clone())
                .unwrap_or_default();
            let status = ReqStatus::parse(&it.status).ok();
            ItemView {
                hid: it.human_id.clone(),
                title: it.title.clone(),
                status: status.map_or("draft", |s| s.as_str()),
                status_label: status.map_or_else(|| it.status.clone(), |s| s.label().to_owned()),
                revision: it.revision,
                current_revision: it.current_revision,
                changed: it.current_revision != it.revision,
                outcome: it.outcome.clone().unwrap_or_default(),
                decisions,
                mine: if typed_decision.is_empty() {
                    mine
                } else {
                    typed_decision
                },
                error,
                comment,
            }
        })
        .collect();
    let r = &d.round;
    let t = RoundPage {
        l: layout(st, p, c, &ctx, format!("Review: {}", r.title), "reviews").with_error(error),
        code: ctx.project.code.clone(),
        id: r.id.to_string(),
        title: r.title.clone(),
        open: r.status == "open",
        opened: format!("{} by {}", when(&r.opened_at), r.opened_by),
        closed: match (&r.closed_at, &r.closed_by) {
            (Some(at), Some(by)) => format!("{} by {by}", when(at)),
            (Some(at), None) => when(at),
            _ => String::new(),
        },
        summary: r.summary.clone(),
        reviewers: d.reviewers.iter().map(|(_, n)| n.clone()).collect(),
        is_reviewer: d.reviewers.iter().any(|(u, _)| *u == me),
        can_lead: ctx.can(Permission::Lead),
        items,
        close_errs,
    };
    render_status(&t, status)
}

/// `/p/{code}/reviews/{id}`.
pub async fn round(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, id)): Path<(String, String)>,
) -> PageResult {
    let id = round_id(&id)?;
    round_page(&st, &p, &c, &code, id, Refused::None).await
}

pub async fn decide(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let id = round_id(&id)?;
    let r = st
        .app
        .record_decision(
            &p,
            &code,
            id,
            &f.text("requirement"),
            &f.text("decision"),
            &f.text("comment"),
        )
        .await;
    match recoverable(r, Some("decision"))? {
        Ok(()) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/reviews/{id}", code.to_uppercase()),
            &format!(
                "Decision on {} recorded.",
                f.text("requirement").to_uppercase()
            ),
        )),
        Err(failure) => round_page(&st, &p, &c, &code, id, Refused::Decision(f, failure)).await,
    }
}

pub async fn close(
    State(st): State<AppState>,
    Path((code, id)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let id = round_id(&id)?;
    let r = st
        .app
        .close_round(&p, &code, id, f.flag("apply"), &f.text("summary"))
        .await;
    match recoverable(r, Some("round"))? {
        Ok(()) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/reviews/{id}", code.to_uppercase()),
            "Review round closed.",
        )),
        Err(failure) => round_page(&st, &p, &c, &code, id, Refused::Close(failure)).await,
    }
}
