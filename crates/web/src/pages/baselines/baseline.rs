//! Baselines: the list with the create form, a baseline's page (scope, freeze, what it
//! holds), its items as CSV, the comparison page (and its XLSX) and the drill-down.

use super::{unpack, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::vv::download;
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use opensesa_app::baselines::export::comparison_xlsx;
use opensesa_app::baselines::CompareTo;
use opensesa_app::{AppError, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::baselines::{ArtefactKind, Baseline, BaselineInput, BaselineStatus, Item};
use opensesa_domain::textdiff::DiffKind;

pub struct Row {
    hid: String,
    name: String,
    status: &'static str,
    label: &'static str,
    items: String,
    at: String,
    hash: String,
}

fn row(b: &Baseline) -> Row {
    Row {
        hid: b.human_id.clone(),
        name: b.name.clone(),
        status: b.status.as_str(),
        label: b.status.label(),
        items: b
            .frozen
            .as_ref()
            .map(|f| f.items.to_string())
            .unwrap_or_default(),
        at: b
            .frozen
            .as_ref()
            .map_or_else(|| when(&b.created_at), |f| when(&f.frozen_at)),
        hash: b
            .frozen
            .as_ref()
            .map(|f| f.content_hash.chars().take(16).collect())
            .unwrap_or_default(),
    }
}

fn frozen_opts(list: &[Baseline], except: &str) -> Vec<Opt> {
    list.iter()
        .filter(|b| b.status == BaselineStatus::Frozen && b.human_id != except)
        .map(|b| {
            Opt::new(
                b.human_id.clone(),
                format!("{} {}", b.human_id, b.name),
                false,
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "baselines/list.html")]
struct ListPage {
    l: Layout,
    code: String,
    rows: Vec<Row>,
    frozen: Vec<Opt>,
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
    let (ctx, list) = st.app.list_baselines(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let t = ListPage {
        l: layout(st, p, c, &ctx, "Baselines", "baselines").with_error(error),
        code: ctx.project.code.clone(),
        rows: list.iter().map(row).collect(),
        frozen: frozen_opts(&list, ""),
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

fn input(f: &Fields) -> BaselineInput {
    BaselineInput {
        name: f.text("name"),
        description: f.text("description"),
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
        .create_baseline(
            &p,
            &code,
            &input(&f),
            &f.text("modules"),
            f.flag("include_vv"),
        )
        .await;
    match recoverable(r, None)? {
        Ok(b) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/baselines/{}", code.to_uppercase(), b.human_id),
            &format!(
                "Baseline {} created as a draft. A lead freezes it.",
                b.human_id
            ),
        )),
        Err(failure) => list_page(&st, &p, &c, &code, Some((f, failure))).await,
    }
}

pub struct GroupCount {
    kind: &'static str,
    items: i64,
}

#[derive(Template)]
#[template(path = "baselines/baseline.html")]
struct BaselinePage {
    l: Layout,
    code: String,
    b: Row,
    description: String,
    scope: Vec<String>,
    draft: bool,
    include_vv: bool,
    modules_text: String,
    full_hash: String,
    frozen_by: String,
    counts: Vec<GroupCount>,
    groups: usize,
    others: Vec<Opt>,
    can_write: bool,
    can_lead: bool,
    preview: Vec<GroupCount>,
    f: Fields,
    errs: Errs,
}

async fn baseline_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    hid: &str,
    typed: Typed,
) -> PageResult {
    let d = st.app.baseline(p, code, hid).await?;
    let (_, all) = st.app.list_baselines(p, code).await?;
    let (f, errs, error, status) = unpack(typed);
    let b = &d.baseline;
    let draft = b.status == BaselineStatus::Draft;
    // A draft shows what a freeze would record now.
    let preview = if draft {
        let (_, _, items) = st.app.baseline_items(p, code, hid).await?;
        count_kinds(&items)
    } else {
        Vec::new()
    };
    let counts = b
        .frozen
        .as_ref()
        .map(|fz| {
            fz.counts
                .iter()
                .map(|(k, n)| GroupCount {
                    kind: ArtefactKind::parse(k).map_or("other", ArtefactKind::label),
                    items: *n,
                })
                .collect()
        })
        .unwrap_or_default();
    let t = BaselinePage {
        l: layout(
            st,
            p,
            c,
            &d.ctx,
            format!("Baseline {}", b.human_id),
            "baselines",
        )
        .with_error(error),
        code: d.ctx.project.code.clone(),
        b: row(b),
        description: b.description.clone(),
        scope: d.scope.clone(),
        draft,
        include_vv: b.scope.include_vv,
        modules_text: d.scope_prefixes.clone(),
        full_hash: b
            .frozen
            .as_ref()
            .map(|fz| fz.content_hash.clone())
            .unwrap_or_default(),
        frozen_by: d.frozen_by.clone(),
        counts,
        groups: d.groups.len(),
        others: frozen_opts(&all, &b.human_id),
        can_write: d.ctx.can(Permission::Write),
        can_lead: d.ctx.can(Permission::Lead),
        preview,
        f,
        errs,
    };
    render_status(&t, status)
}

fn count_kinds(items: &[Item]) -> Vec<GroupCount> {
    ArtefactKind::ALL
        .iter()
        .map(|k| GroupCount {
            kind: k.label(),
            items: items.iter().filter(|i| i.kind == *k).count() as i64,
        })
        .filter(|g| g.items > 0)
        .collect()
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    baseline_page(&st, &p, &c, &code, &hid, None).await
}

pub async fn edit(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st
        .app
        .edit_baseline(
            &p,
            &code,
            &hid,
            &input(&f),
            &f.text("modules"),
            f.flag("include_vv"),
        )
        .await;
    match recoverable(r, None)? {
        Ok(b) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/baselines/{}", code.to_uppercase(), b.human_id),
            "Draft saved.",
        )),
        Err(failure) => baseline_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn freeze(
    State(st): State<AppState>,
    Path((code, hid)): Path<(String, String)>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let r = st.app.freeze_baseline(&p, &code, &hid).await;
    match recoverable(r, None)? {
        Ok(b) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/baselines/{}", code.to_uppercase(), b.human_id),
            &format!(
                "Baseline {} frozen: {} items, SHA-256 {}.",
                b.human_id,
                b.frozen.as_ref().map_or(0, |fz| fz.items),
                b.frozen
                    .as_ref()
                    .map(|fz| fz.content_hash.as_str())
                    .unwrap_or("")
            ),
        )),
        Err(failure) => baseline_page(&st, &p, &c, &code, &hid, Some((f, failure))).await,
    }
}

pub async fn items_csv(
    State(st): State<AppState>,
    PageUser(p, _c): PageUser,
    Path((code, hid)): Path<(String, String)>,
) -> PageResult {
    let d = st.app.baseline_items_csv(&p, &code, &hid).await?;
    Ok(download(d))
}

pub struct ChangeRow {
    kind: &'static str,
    kind_label: &'static str,
    label: String,
    what: &'static str,
    detail: String,
    /// Drill-down link for artefacts with revisions.
    diff: Option<String>,
}

pub struct KindRow {
    label: &'static str,
    added: usize,
    removed: usize,
    changed: usize,
    moved: usize,
}

#[derive(Template)]
#[template(path = "baselines/compare.html")]
struct ComparePage {
    l: Layout,
    code: String,
    from: String,
    to: String,
    to_param: String,
    from_param: String,
    kinds: Vec<KindRow>,
    rows: Vec<ChangeRow>,
    shown: usize,
    total: usize,
    groups_compared: usize,
    groups_equal: usize,
}

/// At most this many changes are listed on the page; the XLSX has them all.
const PAGE_CHANGES: usize = 2_000;

pub async fn compare(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    let to = CompareTo::parse(&q.text("to"));
    let v = st
        .app
        .compare_baselines(&p, &code, &q.text("from"), &to)
        .await?;
    if q.text("format") == "xlsx" {
        return Ok(download(comparison_xlsx(&v)?));
    }
    let code_up = v.ctx.project.code.clone();
    let diff_link = |kind: ArtefactKind, id: uuid::Uuid, a: i64, b: i64| {
        kind.has_revisions().then(|| {
            format!(
                "/p/{code_up}/baselines/diff?kind={}&id={id}&from={a}&to={b}",
                kind.as_str()
            )
        })
    };
    let mut rows = Vec::new();
    let mut kinds = Vec::new();
    let mut total = 0;
    for (kind, d) in &v.comparison.kinds {
        total += d.total();
        kinds.push(KindRow {
            label: kind.label(),
            added: d.added.len(),
            removed: d.removed.len(),
            changed: d.changed.len(),
            moved: d.moved.len(),
        });
        for i in &d.added {
            rows.push(ChangeRow {
                kind: kind.as_str(),
                kind_label: kind.label(),
                label: i.label.clone(),
                what: "added",
                detail: format!("revision {}", i.revision),
                diff: None,
            });
        }
        for i in &d.removed {
            rows.push(ChangeRow {
                kind: kind.as_str(),
                kind_label: kind.label(),
                label: i.label.clone(),
                what: "removed",
                detail: format!("was revision {}", i.revision),
                diff: None,
            });
        }
        for x in &d.changed {
            rows.push(ChangeRow {
                kind: kind.as_str(),
                kind_label: kind.label(),
                label: x.to.label.clone(),
                what: "changed",
                detail: if *kind == ArtefactKind::Result {
                    format!("{} → {}", x.from.label, x.to.label)
                } else {
                    format!("revision {} → {}", x.from.revision, x.to.revision)
                },
                diff: diff_link(*kind, x.to.id, x.from.revision, x.to.revision),
            });
        }
        for x in &d.moved {
            rows.push(ChangeRow {
                kind: kind.as_str(),
                kind_label: kind.label(),
                label: x.to.label.clone(),
                what: "moved",
                detail: if x.from.group != x.to.group {
                    "to another module or plan".into()
                } else {
                    "to another parent".into()
                },
                diff: diff_link(*kind, x.to.id, x.from.revision, x.to.revision),
            });
        }
    }
    let shown = rows.len().min(PAGE_CHANGES);
    rows.truncate(PAGE_CHANGES);
    let t = ComparePage {
        l: layout(
            &st,
            &p,
            &c,
            &v.ctx,
            format!("{} → {}", v.from.human_id, v.to_label()),
            "baselines",
        ),
        code: v.ctx.project.code.clone(),
        from: format!("{} {}", v.from.human_id, v.from.name),
        to: v.to.as_ref().map_or_else(
            || "the working state".to_owned(),
            |b| format!("{} {}", b.human_id, b.name),
        ),
        from_param: v.from.human_id.clone(),
        to_param: v
            .to
            .as_ref()
            .map_or_else(|| "working".to_owned(), |b| b.human_id.clone()),
        kinds,
        rows,
        shown,
        total,
        groups_compared: v.comparison.groups_compared,
        groups_equal: v.comparison.groups_equal,
    };
    render_status(&t, StatusCode::OK)
}

pub struct FieldRow {
    field: String,
    spans: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "baselines/diff.html")]
struct DiffPage {
    l: Layout,
    code: String,
    kind: &'static str,
    label: String,
    from: i64,
    to: i64,
    fields: Vec<FieldRow>,
}

pub async fn diff(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    let id: uuid::Uuid = q
        .text("id")
        .trim()
        .parse()
        .map_err(|_| AppError::field("id", "is not an artefact id"))?;
    let rev = |name: &str| {
        q.text(name)
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::field(name, "is not a revision number"))
    };
    let d = st
        .app
        .artefact_diff(&p, &code, &q.text("kind"), id, rev("from")?, rev("to")?)
        .await?;
    let t = DiffPage {
        l: layout(
            &st,
            &p,
            &c,
            &d.ctx,
            format!(
                "{} revisions {} → {}",
                d.label, d.from_revision, d.to_revision
            ),
            "baselines",
        ),
        code: d.ctx.project.code.clone(),
        kind: d.kind.label(),
        label: d.label.clone(),
        from: d.from_revision,
        to: d.to_revision,
        fields: d
            .fields
            .iter()
            .map(|f| FieldRow {
                field: f.field.replace('_', " "),
                spans: f
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
    render_status(&t, StatusCode::OK)
}
