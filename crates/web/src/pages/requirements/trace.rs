//! Trace and coverage pages: coverage per module and project, the RVTM, the gap analysis,
//! suspect links with bulk clearing, and the quality report with the project's rule switches.

use super::{
    layout, page_links, query_string, recoverable, render_status, Errs, Failure, Fields, Opt,
    PageLink, PageResult,
};
use crate::auth::{redirect_with_flash, Caller, CsrfForm, PageUser};
use crate::pages::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use opensesa_app::requirements::coverage::{CoverageFigures, RvtmRow, VerificationStatus};
use opensesa_app::Principal;
use opensesa_domain::access::Permission;
use opensesa_domain::ids::LinkId;
use opensesa_domain::requirements::quality::RuleId;
use opensesa_domain::FieldErrors;

fn pct(n: usize, of: usize) -> u32 {
    CoverageFigures::pct(n, of)
}

pub struct FigureRow {
    prefix: String,
    name: String,
    requirements: usize,
    up: u32,
    up_of: String,
    down: u32,
    verified: u32,
    /// Verification results: requirements whose cases all pass, fail, are not all run.
    passed: usize,
    failing: usize,
    not_run: usize,
    with_method: u32,
    suspect: usize,
    approved: usize,
}

fn figure_row(prefix: &str, name: &str, f: &CoverageFigures) -> FigureRow {
    FigureRow {
        prefix: prefix.to_owned(),
        name: name.to_owned(),
        requirements: f.requirements,
        up: pct(f.up_covered, f.up_applicable),
        up_of: if f.up_applicable == 0 {
            "top level".into()
        } else {
            format!("{}/{}", f.up_covered, f.up_applicable)
        },
        down: pct(f.down_covered, f.requirements),
        verified: pct(f.verified_linked, f.requirements),
        passed: f.verified,
        failing: f.failing,
        not_run: f.not_run,
        with_method: pct(f.with_method, f.requirements),
        suspect: f.suspect_links,
        approved: f.approved,
    }
}

#[derive(Template)]
#[template(path = "requirements/coverage.html")]
struct CoveragePage {
    l: Layout,
    code: String,
    project: FigureRow,
    modules: Vec<FigureRow>,
}

/// `/p/{code}/trace`: coverage per module and for the project.
pub async fn coverage(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let cov = st.app.coverage(&p, &code).await?;
    let t = CoveragePage {
        l: layout(&st, &p, &c, &cov.ctx, "Trace & coverage", "trace"),
        code: cov.ctx.project.code.clone(),
        project: figure_row("", "Whole project", &cov.project),
        modules: cov
            .modules
            .iter()
            .map(|(m, f)| figure_row(&m.prefix, &m.name, f))
            .collect(),
    };
    render(&t)
}

const RVTM_PAGE: i64 = 100;

pub struct RvtmView {
    hid: String,
    title: String,
    module: String,
    status: String,
    upstream: String,
    downstream: String,
    verified_by: String,
    verification: &'static str,
    vstatus: &'static str,
    suspect: usize,
    uncovered: bool,
}

#[derive(Template)]
#[template(path = "requirements/rvtm.html")]
struct RvtmPage {
    l: Layout,
    code: String,
    rows: Vec<RvtmView>,
    total: usize,
    modules: Vec<Opt>,
    uncovered: bool,
    suspect: bool,
    unverified: bool,
    failing: bool,
    download_query: String,
    download_show: String,
    pages: Vec<PageLink>,
    errs: Errs,
}

/// Uncovered: missing the upward trace it needs or any downward trace.
fn uncovered(r: &RvtmRow) -> bool {
    !r.up_covered() || !r.down_covered()
}

/// `/p/{code}/trace/rvtm`: the matrix, filterable, 100 rows a page.
pub async fn rvtm(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let q = Fields(q);
    let cov = st.app.coverage(&p, &code).await?;
    let mut errors = FieldErrors::new();
    let module = q.non_empty("module").map(|m| m.to_uppercase());
    if let Some(m) = &module {
        if !cov.modules.iter().any(|(x, _)| &x.prefix == m) {
            errors.add("module", format!("no module has the prefix {m:?}"));
        }
    }
    let (only_uncovered, only_suspect, only_unverified, only_failing) = (
        q.flag("uncovered"),
        q.flag("suspect"),
        q.flag("unverified"),
        q.flag("failing"),
    );
    let page = match q.non_empty("page") {
        None => 1,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .unwrap_or_else(|| {
                errors.add("page", format!("{s:?} is not a page number"));
                1
            }),
    };
    let module_ok = module.as_ref().filter(|_| errors.get("module").is_none());
    let rows: Vec<&RvtmRow> = cov
        .rows
        .iter()
        .filter(|r| module_ok.is_none_or(|m| &r.module_prefix == m))
        .filter(|r| !only_uncovered || uncovered(r))
        .filter(|r| !only_suspect || r.suspect_links > 0)
        .filter(|r| !only_unverified || r.verification == VerificationStatus::NoCase)
        .filter(|r| !only_failing || r.verification == VerificationStatus::Failing)
        .collect();
    let total = rows.len();
    let mut pairs = Vec::new();
    if let Some(m) = module_ok {
        pairs.push(("module".to_owned(), m.clone()));
    }
    for (k, on) in [
        ("uncovered", only_uncovered),
        ("suspect", only_suspect),
        ("unverified", only_unverified),
        ("failing", only_failing),
    ] {
        if on {
            pairs.push((k.to_owned(), "1".to_owned()));
        }
    }
    // The downloads take one filter (`show`) and cover every module.
    let show = [
        ("uncovered", only_uncovered),
        ("suspect", only_suspect),
        ("unverified", only_unverified),
        ("failing", only_failing),
    ]
    .into_iter()
    .find(|(_, on)| *on)
    .map(|(k, _)| k);
    let download_query = show.map_or_else(String::new, |k| format!("show={k}"));
    let code_up = cov.ctx.project.code.clone();
    let pages = page_links(page, total as i64, RVTM_PAGE, |n| {
        let mut pp = pairs.clone();
        pp.push(("page".into(), n.to_string()));
        format!("/p/{code_up}/trace/rvtm?{}", query_string(&pp))
    });
    let start = ((page - 1) * RVTM_PAGE) as usize;
    let view = rows
        .iter()
        .skip(start)
        .take(RVTM_PAGE as usize)
        .map(|r| RvtmView {
            hid: r.human_id.clone(),
            title: r.title.clone(),
            module: r.module_prefix.clone(),
            status: r.status.replace('_', " "),
            upstream: if r.top_level && r.upstream.is_empty() {
                "(top level)".into()
            } else {
                r.upstream.join(", ")
            },
            downstream: r.downstream.join(", "),
            verified_by: r.verified_by.join(", "),
            verification: r.verification.label(),
            vstatus: r.verification.as_str(),
            suspect: r.suspect_links,
            uncovered: uncovered(r),
        })
        .collect();
    // Bad filters are ignored (and named); the matrix still shows.
    let error = (!errors.is_empty()).then(|| format!("Some filters were ignored. {errors}."));
    let t = RvtmPage {
        l: layout(&st, &p, &c, &cov.ctx, "RVTM", "trace").with_error(error),
        code: cov.ctx.project.code.clone(),
        rows: view,
        total,
        modules: cov
            .modules
            .iter()
            .map(|(m, _)| {
                Opt::new(
                    m.prefix.clone(),
                    format!("{} · {}", m.prefix, m.name),
                    module_ok == Some(&m.prefix),
                )
            })
            .collect(),
        uncovered: only_uncovered,
        suspect: only_suspect,
        unverified: only_unverified,
        failing: only_failing,
        download_query,
        download_show: show.unwrap_or("").to_owned(),
        pages,
        errs: Errs::new(errors),
    };
    render(&t)
}

/// A gap list: its title, the RVTM filter that shows it whole, and its test.
type GapKind = (&'static str, &'static str, fn(&RvtmRow) -> bool);

/// How many items of one gap list a page shows per module.
const GAP_LIST: usize = 200;

pub struct GapItem {
    hid: String,
    title: String,
}

pub struct GapList {
    name: &'static str,
    filter: &'static str,
    count: usize,
    items: Vec<GapItem>,
}

pub struct GapModule {
    prefix: String,
    name: String,
    lists: Vec<GapList>,
}

#[derive(Template)]
#[template(path = "requirements/gaps.html")]
struct GapsPage {
    l: Layout,
    code: String,
    modules: Vec<GapModule>,
    limit: usize,
}

/// `/p/{code}/trace/gaps`: orphans, untraced, unverified and suspect items per module.
pub async fn gaps(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let cov = st.app.coverage(&p, &code).await?;
    let kinds: [GapKind; 4] = [
        ("Orphans (no parent or upstream trace)", "uncovered", |r| {
            r.orphan()
        }),
        ("Untraced (no link in any direction)", "uncovered", |r| {
            r.untraced()
        }),
        ("Unverified (nothing verifies them)", "unverified", |r| {
            r.verification == VerificationStatus::NoCase
        }),
        ("With suspect links", "suspect", |r| r.suspect_links > 0),
    ];
    let modules = cov
        .modules
        .iter()
        .map(|(m, _)| {
            let mine: Vec<&RvtmRow> = cov.rows.iter().filter(|r| r.module_id == m.id).collect();
            GapModule {
                prefix: m.prefix.clone(),
                name: m.name.clone(),
                lists: kinds
                    .iter()
                    .map(|(name, filter, test)| {
                        let hits: Vec<&&RvtmRow> = mine.iter().filter(|r| test(r)).collect();
                        GapList {
                            name,
                            filter,
                            count: hits.len(),
                            items: hits
                                .iter()
                                .take(GAP_LIST)
                                .map(|r| GapItem {
                                    hid: r.human_id.clone(),
                                    title: r.title.clone(),
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let t = GapsPage {
        l: layout(&st, &p, &c, &cov.ctx, "Gap analysis", "trace"),
        code: cov.ctx.project.code.clone(),
        modules,
        limit: GAP_LIST,
    };
    render(&t)
}

const SUSPECT_PAGE: i64 = 100;

pub struct SuspectRow {
    id: String,
    source_hid: String,
    source_title: String,
    kind: &'static str,
    target_hid: String,
    target_title: String,
    reasons: Vec<String>,
    selected: bool,
}

#[derive(Template)]
#[template(path = "requirements/suspect.html")]
struct SuspectPage {
    l: Layout,
    code: String,
    rows: Vec<SuspectRow>,
    total: i64,
    pages: Vec<PageLink>,
    can_write: bool,
    reason: String,
    errs: Errs,
    page: i64,
}

async fn suspect_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    page: i64,
    typed: Option<(Fields, Failure)>,
) -> PageResult {
    let page = page.max(1);
    let (ctx, links, total) = st
        .app
        .project_links(p, code, true, SUSPECT_PAGE, (page - 1) * SUSPECT_PAGE)
        .await?;
    let (selected, reason, errs, error, status) = match typed {
        Some((f, failure)) => (
            f.all("link"),
            f.text("reason"),
            Errs::new(failure.errors),
            Some(failure.message),
            failure.status,
        ),
        None => (
            Vec::new(),
            String::new(),
            Errs::default(),
            None,
            StatusCode::OK,
        ),
    };
    let code = ctx.project.code.clone();
    let rows = links
        .iter()
        .map(|lv| SuspectRow {
            id: lv.link.id.to_string(),
            selected: selected.contains(&lv.link.id.to_string()),
            source_hid: lv.source_human_id.clone(),
            source_title: lv.source_title.clone(),
            kind: lv.link.kind.label(),
            target_hid: lv.target_human_id.clone(),
            target_title: lv.target_title.clone(),
            reasons: lv
                .link
                .suspect_reasons
                .iter()
                .map(|r| {
                    format!(
                        "{} changed (revision {} → {}){}",
                        r.changed,
                        r.from_revision,
                        r.to_revision,
                        if r.propagated { ", propagated" } else { "" }
                    )
                })
                .collect(),
        })
        .collect();
    let t = SuspectPage {
        l: layout(st, p, c, &ctx, "Suspect links", "trace").with_error(error),
        pages: page_links(page, total, SUSPECT_PAGE, |n| {
            format!("/p/{code}/trace/suspect?page={n}")
        }),
        can_write: ctx.can(Permission::Write),
        rows,
        total,
        reason,
        errs,
        page,
        code,
    };
    render_status(&t, status)
}

/// `/p/{code}/trace/suspect`: every suspect link, with bulk clearing.
pub async fn suspect(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let page = Fields(q)
        .get("page")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(1);
    suspect_page(&st, &p, &c, &code, page, None).await
}

pub async fn clear_suspect(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let page = f
        .get("page")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    for raw in f.all("link") {
        match raw.parse::<LinkId>() {
            Ok(id) => ids.push(id),
            Err(_) => bad.push(raw),
        }
    }
    let r = if bad.is_empty() {
        st.app
            .clear_suspect(&p, &code, &ids, &f.text("reason"))
            .await
    } else {
        // Rights first, then the form.
        st.app.project_access(&p, &code, Permission::Write).await?;
        Err(opensesa_app::AppError::field(
            "links",
            format!("{} is not a link id", bad.join(", ")),
        ))
    };
    match recoverable(r, Some("links"))? {
        Ok(n) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/trace/suspect", code.to_uppercase()),
            &format!("Cleared {n} suspect link{}.", if n == 1 { "" } else { "s" }),
        )),
        Err(failure) => suspect_page(&st, &p, &c, &code, page, Some((f, failure))).await,
    }
}

pub struct ScoreRow {
    prefix: String,
    name: String,
    requirements: usize,
    findings: usize,
    score: u8,
}

pub struct RuleCount {
    title: &'static str,
    severity: &'static str,
    count: usize,
}

pub struct QualityItemView {
    hid: String,
    title: String,
    findings: Vec<(&'static str, &'static str, String)>,
}

pub struct RuleSwitch {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    severity: &'static str,
    enabled: bool,
}

/// How many requirements with findings the report lists.
const QUALITY_LIST: usize = 500;

#[derive(Template)]
#[template(path = "requirements/quality.html")]
struct QualityPage {
    l: Layout,
    code: String,
    module: String,
    modules: Vec<Opt>,
    scores: Vec<ScoreRow>,
    by_rule: Vec<RuleCount>,
    items: Vec<QualityItemView>,
    total_items: usize,
    limit: usize,
    can_lead: bool,
    rules: Vec<RuleSwitch>,
    errs: Errs,
}

async fn quality_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    module: Option<String>,
    failure: Option<Failure>,
) -> PageResult {
    let report = st.app.quality_report(p, code, module.as_deref()).await?;
    let (_, all) = st.app.list_modules(p, code).await?;
    let module = module.unwrap_or_default().trim().to_uppercase();
    let (errs, error, status) = match failure {
        Some(f) => (Errs::new(f.errors), Some(f.message), f.status),
        None => (Errs::default(), None, StatusCode::OK),
    };
    let t = QualityPage {
        l: layout(st, p, c, &report.ctx, "Quality report", "trace").with_error(error),
        code: report.ctx.project.code.clone(),
        modules: all
            .iter()
            .map(|m| {
                Opt::new(
                    m.module.prefix.clone(),
                    format!("{} · {}", m.module.prefix, m.module.name),
                    m.module.prefix == module,
                )
            })
            .collect(),
        module,
        scores: report
            .modules
            .iter()
            .map(|s| ScoreRow {
                prefix: s.module.prefix.clone(),
                name: s.module.name.clone(),
                requirements: s.requirements,
                findings: s.findings,
                score: s.score,
            })
            .collect(),
        by_rule: report
            .by_rule
            .iter()
            .map(|(r, n)| RuleCount {
                title: r.title(),
                severity: r.severity().as_str(),
                count: *n,
            })
            .collect(),
        total_items: report.items.len(),
        items: report
            .items
            .iter()
            .take(QUALITY_LIST)
            .map(|i| QualityItemView {
                hid: i.human_id.clone(),
                title: i.title.clone(),
                findings: i
                    .findings
                    .iter()
                    .map(|f| (f.severity.as_str(), f.rule.title(), f.message.clone()))
                    .collect(),
            })
            .collect(),
        limit: QUALITY_LIST,
        can_lead: report.ctx.can(Permission::Lead),
        rules: RuleId::ALL
            .iter()
            .map(|r| RuleSwitch {
                id: r.as_str(),
                title: r.title(),
                description: r.description(),
                severity: r.severity().as_str(),
                enabled: report.rules.is_enabled(*r),
            })
            .collect(),
        errs,
    };
    render_status(&t, status)
}

/// `/p/{code}/trace/quality?module=`: the quality report.
pub async fn quality(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let module = Fields(q).non_empty("module");
    quality_page(&st, &p, &c, &code, module, None).await
}

/// The rule switches (leads): ticked rules stay on, the others are switched off.
pub async fn set_rules(
    State(st): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(PageUser(p, c), f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields(f);
    let enabled = f.all("enabled");
    let mut errors = FieldErrors::new();
    for e in &enabled {
        if RuleId::parse(e).is_none() {
            errors.add("enabled", format!("unknown rule {e:?}"));
        }
    }
    let disabled: Vec<String> = RuleId::ALL
        .iter()
        .filter(|r| !enabled.iter().any(|e| RuleId::parse(e) == Some(**r)))
        .map(|r| r.as_str().to_owned())
        .collect();
    let r = if errors.is_empty() {
        st.app.set_quality_rules(&p, &code, &disabled).await
    } else {
        st.app.project_access(&p, &code, Permission::Lead).await?;
        Err(opensesa_app::AppError::Validation(errors))
    };
    match recoverable(r, Some("enabled"))? {
        Ok(_) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/trace/quality", code.to_uppercase()),
            "Quality rules saved.",
        )),
        Err(failure) => quality_page(&st, &p, &c, &code, None, Some(failure)).await,
    }
}
