//! Snapshots: the list with the create form (scope: a plan or a set), a snapshot's page and
//! the comparison of two.

use super::{unpack, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use opensesa_app::vv::snapshots::SnapshotScope;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::vv::snapshot::CaseChange;
use opensesa_domain::vv::Verdict;

pub struct SnapRow {
    hid: String,
    title: String,
    scope: String,
    cases: usize,
    at: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "vv/snapshots.html")]
struct ListPage {
    l: Layout,
    code: String,
    rows: Vec<SnapRow>,
    scopes: Vec<Opt>,
    can_write: bool,
    f: Fields,
    errs: Errs,
}

async fn list_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    typed: Typed,
) -> PageResult {
    let (ctx, snaps) = st.app.list_snapshots(p, code).await?;
    let (_, plans) = st.app.list_plans(p, code).await?;
    let (_, sets) = st.app.list_sets(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let chosen = f.text("scope");
    let mut scopes: Vec<Opt> = plans
        .iter()
        .map(|s| {
            let v = format!("plan:{}", s.plan.human_id);
            Opt::new(
                v.clone(),
                format!("Plan {} {}", s.plan.human_id, s.plan.title),
                v == chosen,
            )
        })
        .collect();
    scopes.extend(sets.iter().map(|s| {
        let v = format!("set:{}", s.set.id);
        Opt::new(v.clone(), format!("Set {}", s.set.name), v == chosen)
    }));
    let t = ListPage {
        l: layout(st, p, c, &ctx, "Verification snapshots", "vv").with_error(error),
        code: ctx.project.code.clone(),
        rows: snaps
            .iter()
            .map(|s| SnapRow {
                hid: s.human_id.clone(),
                title: s.title.clone(),
                scope: s.scope_label.clone(),
                cases: s.content.cases.len(),
                at: when(&s.created_at),
                hash: s.content_hash.chars().take(16).collect(),
            })
            .collect(),
        scopes,
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
    list_page(&st, &p, &c, &code, None).await
}

fn parse_scope(raw: &str) -> Result<SnapshotScope, AppError> {
    match raw.split_once(':') {
        Some(("plan", h)) if !h.trim().is_empty() => Ok(SnapshotScope::Plan(h.trim().to_owned())),
        Some(("set", id)) => id
            .trim()
            .parse()
            .map(SnapshotScope::Set)
            .map_err(|_| AppError::field("scope", "is not a set")),
        _ => Err(AppError::field("scope", "choose a plan or a set")),
    }
}

pub async fn create(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = match parse_scope(&f.text("scope")) {
        Ok(scope) => {
            st.app
                .create_snapshot(&p, &code, &scope, &f.text("title"))
                .await
        }
        Err(e) => Err(e),
    };
    match recoverable(r, None)? {
        Ok(s) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/snapshots/{}", code.to_uppercase(), s.human_id),
            &format!(
                "Snapshot {} frozen: {} cases.",
                s.human_id,
                s.content.cases.len()
            ),
        )),
        Err(failure) => list_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

pub struct CaseRow {
    hid: String,
    title: String,
    revision: i64,
    hash: String,
    status: String,
    verdict: &'static str,
    verdict_label: &'static str,
    executed: String,
}

#[derive(Template)]
#[template(path = "vv/snapshot.html")]
struct SnapPage {
    l: Layout,
    code: String,
    hid: String,
    title: String,
    scope: String,
    at: String,
    hash: String,
    counts: Vec<(String, usize)>,
    cases: Vec<CaseRow>,
    others: Vec<Opt>,
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    let (ctx, s) = st.app.snapshot(&p, &code, &hid).await?;
    let (_, all) = st.app.list_snapshots(&p, &code).await?;
    let t = SnapPage {
        l: layout(&st, &p, &c, &ctx, format!("Snapshot {}", s.human_id), "vv"),
        code: ctx.project.code.clone(),
        hid: s.human_id.clone(),
        title: s.title.clone(),
        scope: s.scope_label.clone(),
        at: when(&s.created_at),
        hash: s.content_hash.clone(),
        counts: s
            .content
            .verdict_counts()
            .into_iter()
            .map(|(k, n)| (k.replace('_', " "), n))
            .collect(),
        cases: s
            .content
            .cases
            .iter()
            .map(|x| CaseRow {
                hid: x.human_id.clone(),
                title: x.title.clone(),
                revision: x.revision,
                hash: x.revision_hash.chars().take(12).collect(),
                status: x.status.clone(),
                verdict: x.latest.as_ref().map_or("none", |r| r.verdict.as_str()),
                verdict_label: x.latest.as_ref().map_or("No result", |r| r.verdict.label()),
                executed: x
                    .latest
                    .as_ref()
                    .map(|r| r.executed_at.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        others: all
            .iter()
            .filter(|o| o.human_id != s.human_id)
            .map(|o| {
                Opt::new(
                    o.human_id.clone(),
                    format!("{} {}", o.human_id, o.title),
                    false,
                )
            })
            .collect(),
    };
    render_status(&t, axum::http::StatusCode::OK)
}

pub struct ChangeRow {
    hid: String,
    title: String,
    revisions: String,
    verdicts: String,
}

fn change_row(ch: &CaseChange) -> ChangeRow {
    let v = |x: Option<Verdict>| x.map_or("no result", Verdict::label);
    ChangeRow {
        hid: ch.human_id.clone(),
        title: ch.title.clone(),
        revisions: format!("{} → {}", ch.from_revision, ch.to_revision),
        verdicts: format!("{} → {}", v(ch.from_verdict), v(ch.to_verdict)),
    }
}

#[derive(Template)]
#[template(path = "vv/compare.html")]
struct ComparePage {
    l: Layout,
    code: String,
    from: String,
    to: String,
    added: Vec<(String, String)>,
    removed: Vec<(String, String)>,
    changed: Vec<ChangeRow>,
    verdict_changed: Vec<ChangeRow>,
    unchanged: usize,
}

pub async fn compare(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    let (ctx, a, b, d) = st
        .app
        .compare_snapshots(&p, &code, &q.text("from"), &q.text("to"))
        .await?;
    let t = ComparePage {
        l: layout(
            &st,
            &p,
            &c,
            &ctx,
            format!("{} → {}", a.human_id, b.human_id),
            "vv",
        ),
        code: ctx.project.code.clone(),
        from: format!("{} {}", a.human_id, a.title),
        to: format!("{} {}", b.human_id, b.title),
        added: d
            .added
            .iter()
            .map(|x| (x.human_id.clone(), x.title.clone()))
            .collect(),
        removed: d
            .removed
            .iter()
            .map(|x| (x.human_id.clone(), x.title.clone()))
            .collect(),
        changed: d.changed.iter().map(change_row).collect(),
        verdict_changed: d.verdict_changed.iter().map(change_row).collect(),
        unchanged: d.unchanged,
    };
    render_status(&t, axum::http::StatusCode::OK)
}
