//! Release packs: the list with the create form, a pack's page (readiness checklist,
//! content, lock and unlock with reasons, adoption actions, governance decisions, history)
//! and its XLSX.

use super::{unpack, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::vv::download;
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use opensesa_app::vv::role_of;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::baselines::{
    documents_text, ActionInput, ActionStatus, BaselineStatus, DecisionInput, DecisionKind,
    PackInput, PackStatus,
};

pub struct PackRow {
    hid: String,
    name: String,
    baseline: String,
    status: &'static str,
    label: &'static str,
    open_actions: i64,
    decision: String,
}

#[derive(Template)]
#[template(path = "baselines/releases.html")]
struct ListPage {
    l: Layout,
    code: String,
    rows: Vec<PackRow>,
    baselines: Vec<Opt>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

async fn list_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    chosen: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, packs) = st.app.list_packs(p, code).await?;
    let (_, baselines) = st.app.list_baselines(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let chosen = f
        .get("baseline")
        .map_or_else(|| chosen.to_uppercase(), str::to_owned);
    let t = ListPage {
        l: layout(st, p, c, &ctx, "Release packs", "baselines").with_error(error),
        code: ctx.project.code.clone(),
        rows: packs
            .iter()
            .map(|s| PackRow {
                hid: s.pack.human_id.clone(),
                name: s.pack.name.clone(),
                baseline: s.baseline_human_id.clone(),
                status: s.pack.status.as_str(),
                label: s.pack.status.label(),
                open_actions: s.open_actions,
                decision: s
                    .last_decision
                    .as_deref()
                    .and_then(|d| DecisionKind::parse(d).ok())
                    .map(DecisionKind::label)
                    .unwrap_or("")
                    .to_owned(),
            })
            .collect(),
        baselines: baselines
            .iter()
            .filter(|b| b.status == BaselineStatus::Frozen)
            .map(|b| {
                Opt::new(
                    b.human_id.clone(),
                    format!("{} {}", b.human_id, b.name),
                    b.human_id == chosen,
                )
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
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    list_page(&st, &p, &c, &code, &q.text("baseline"), None).await
}

fn pack_input(f: &Fields) -> PackInput {
    PackInput {
        name: f.text("name"),
        notes: f.text("notes"),
        documents: f.text("documents"),
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
        .create_pack(&p, &code, &f.text("baseline"), &pack_input(&f))
        .await;
    match recoverable(r, None)? {
        Ok(r) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/releases/{}", code.to_uppercase(), r.human_id),
            &format!("Release pack {} created.", r.human_id),
        )),
        Err(failure) => list_page(&st, &p, &c, &code, "", Some((f, failure))).await,
    }
}

pub struct CheckRow {
    label: &'static str,
    passed: bool,
    detail: String,
}

pub struct ActionRow {
    hid: String,
    title: String,
    owner: String,
    due: String,
    status: &'static str,
    label: &'static str,
    next: Vec<(&'static str, &'static str)>,
}

pub struct DecisionRow {
    kind: &'static str,
    label: &'static str,
    rationale: String,
    conditions: String,
    by: String,
    at: String,
    checklist_passed: bool,
}

pub struct HistoryRow {
    at: String,
    actor: String,
    what: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "baselines/pack.html")]
struct PackPage {
    l: Layout,
    code: String,
    hid: String,
    name: String,
    notes: String,
    documents: Vec<(String, String, String)>,
    documents_text: String,
    status: &'static str,
    status_label: &'static str,
    locked: bool,
    lock_override: String,
    baseline: String,
    baseline_name: String,
    baseline_hash: String,
    passed: bool,
    checks: Vec<CheckRow>,
    notes_checklist: Vec<String>,
    actions: Vec<ActionRow>,
    decisions: Vec<DecisionRow>,
    history: Vec<HistoryRow>,
    can_write: bool,
    can_lead: bool,
    f: Fields,
    errs: Errs,
}

async fn pack_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.pack(p, code, hid).await?;
    let (f, errs, error, status) = unpack(typed);
    let role = role_of(&d.ctx);
    let t = PackPage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("Release pack {}", d.pack.human_id),
            "baselines",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        hid: d.pack.human_id.clone(),
        name: d.pack.name.clone(),
        notes: d.pack.notes.clone(),
        documents: d
            .pack
            .documents
            .iter()
            .map(|x| (x.title.clone(), x.reference.clone(), x.version.clone()))
            .collect(),
        documents_text: documents_text(&d.pack.documents),
        status: d.pack.status.as_str(),
        status_label: d.pack.status.label(),
        locked: d.pack.status == PackStatus::Locked,
        lock_override: d.pack.lock_override.clone().unwrap_or_default(),
        baseline: d.baseline.human_id.clone(),
        baseline_name: d.baseline.name.clone(),
        baseline_hash: d
            .baseline
            .frozen
            .as_ref()
            .map(|fz| fz.content_hash.clone())
            .unwrap_or_default(),
        passed: d.checklist.passed(),
        checks: d
            .checklist
            .items
            .iter()
            .map(|i| CheckRow {
                label: i.label,
                passed: i.passed,
                detail: i.detail.clone(),
            })
            .collect(),
        notes_checklist: d.checklist.notes.clone(),
        actions: d
            .actions
            .iter()
            .map(|a| ActionRow {
                hid: a.human_id.clone(),
                title: a.title.clone(),
                owner: a.owner.clone(),
                due: a.due.map(|x| x.to_string()).unwrap_or_default(),
                status: a.status.as_str(),
                label: a.status.label(),
                next: a
                    .status
                    .next(role)
                    .into_iter()
                    .map(|s| (s.as_str(), s.label()))
                    .collect(),
            })
            .collect(),
        decisions: d
            .decisions
            .iter()
            .map(|x| DecisionRow {
                kind: x.kind.as_str(),
                label: x.kind.label(),
                rationale: x.rationale.clone(),
                conditions: x.conditions.clone(),
                by: x.decided_by_name.clone(),
                at: when(&x.decided_at),
                checklist_passed: x.checklist_passed,
            })
            .collect(),
        history: d
            .history
            .iter()
            .map(|e| HistoryRow {
                at: when(&e.at),
                actor: e.actor.clone(),
                what: e
                    .changes
                    .iter()
                    .map(|ch| format!("{}: {} → {}", ch.field, short(&ch.before), short(&ch.after)))
                    .collect::<Vec<_>>()
                    .join("; "),
                reason: e.reason.clone().unwrap_or_default(),
            })
            .collect(),
        can_write: d.ctx.can(Permission::Write),
        can_lead: d.ctx.can(Permission::Lead),
        f,
        errs,
    };
    render_status(&t, status)
}

fn short(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    pack_page(&st, &p, &c, &code, &hid, None).await
}

/// Where a pack form was posted: the request's state, caller and pack.
struct On<'a> {
    st: &'a AppState,
    p: &'a Principal,
    c: &'a Caller,
    code: &'a str,
    hid: &'a str,
}

/// Runs a pack form's use case: back to the pack with a flash, or the pack again with the
/// refusal.
async fn after<T>(on: On<'_>, f: Fields, r: Result<T, AppError>, ok: &str) -> PageResult {
    match recoverable(r, None)? {
        Ok(_) => Ok(redirect_with_flash(
            on.st,
            &format!(
                "/p/{}/releases/{}",
                on.code.to_uppercase(),
                on.hid.to_uppercase()
            ),
            ok,
        )),
        Err(failure) => pack_page(on.st, on.p, on.c, on.code, on.hid, Some((f, failure))).await,
    }
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st.app.edit_pack(&p, &code, &hid, &pack_input(&f)).await;
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &hid,
        },
        f,
        r,
        "Release pack saved.",
    )
    .await
}

pub async fn lock(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let reason = f.non_empty("reason");
    let r = st.app.lock_pack(&p, &code, &hid, reason.as_deref()).await;
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &hid,
        },
        f,
        r,
        "Release pack locked.",
    )
    .await
}

pub async fn unlock(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st.app.unlock_pack(&p, &code, &hid, &f.text("reason")).await;
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &hid,
        },
        f,
        r,
        "Release pack unlocked.",
    )
    .await
}

pub async fn decide(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let input = DecisionInput {
        decision: f.text("decision"),
        rationale: f.text("rationale"),
        conditions: f.text("conditions"),
    };
    let r = st.app.decide_pack(&p, &code, &hid, &input).await;
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &hid,
        },
        f,
        r,
        "Decision recorded.",
    )
    .await
}

fn action_input(f: &Fields) -> ActionInput {
    ActionInput {
        title: f.text("title"),
        owner: f.text("owner"),
        due: f.text("due"),
    }
}

pub async fn add_action(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st.app.add_action(&p, &code, &hid, &action_input(&f)).await;
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &hid,
        },
        f,
        r,
        "Adoption action added.",
    )
    .await
}

pub async fn edit_action(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let pack = st.app.action_pack(&p, &code, &hid).await?;
    let r = st.app.edit_action(&p, &code, &hid, &action_input(&f)).await;
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &pack,
        },
        f,
        r,
        "Adoption action saved.",
    )
    .await
}

pub async fn move_action(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let pack = st.app.action_pack(&p, &code, &hid).await?;
    let r = match ActionStatus::parse(&f.text("to")) {
        Ok(to) => st.app.move_action(&p, &code, &hid, to).await,
        Err(e) => Err(AppError::field("to", e)),
    };
    after(
        On {
            st: &st,
            p: &p,
            c: &c,
            code: &code,
            hid: &pack,
        },
        f,
        r,
        "Adoption action updated.",
    )
    .await
}

pub async fn xlsx(
    State(st): State<AppState>,
    PageUser(p, _c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    Ok(download(st.app.pack_xlsx(&p, &code, &hid).await?))
}
