//! Results: recording one (multipart, with evidence), the project's recent results, a
//! result's page (steps, evidence with checksums, the correction form, raising a defect) and
//! evidence downloads.

use super::{read_multipart, unpack, verdict_opts, PageResult, Typed};
use crate::auth::{redirect_with_flash, Caller, PageUser};
use crate::pages::requirements::{layout, recoverable, render_status, Errs, Fields, Opt};
use crate::pages::{when, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::multipart::Multipart;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use opensesa_app::blob_port::{attachment_disposition, served_content_type};
use opensesa_app::vv::results::{ResultInput, StepInput};
use opensesa_app::Principal;
use opensesa_domain::access::Permission;
use opensesa_domain::ids::ResultId;

/// A result form's fields as the use case takes them; steps come as `step_N` and `step_N_note`.
fn result_input(f: &Fields) -> ResultInput {
    let mut steps = Vec::new();
    for (k, v) in &f.0 {
        if let Some(n) = k
            .strip_prefix("step_")
            .and_then(|n| n.parse::<usize>().ok())
        {
            steps.push(StepInput {
                step: n,
                verdict: v.clone(),
                note: f.text(&format!("step_{n}_note")),
            });
        }
    }
    ResultInput {
        verdict: f.text("verdict"),
        steps,
        executor: f.text("executor"),
        executed_at: f.text("executed_at"),
        configuration: f.text("configuration"),
        baseline: f.text("baseline"),
        notes: f.text("notes"),
        supersedes: None,
        reason: f.text("reason"),
    }
}

pub async fn record(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, hid)): Path<(String, String)>,
    form: Multipart,
) -> PageResult {
    let (f, files) = read_multipart(&p, form).await?;
    let r = st
        .app
        .record_result(&p, &code, &hid, &result_input(&f), &files)
        .await;
    match recoverable(r, Some("verdict"))? {
        Ok(r) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/results/{}", code.to_uppercase(), r.id),
            &format!("Result recorded: {}.", r.verdict.label()),
        )),
        Err(failure) => {
            super::cases::page_with_failure(&st, &p, &c, &code, &hid, Some((f, failure))).await
        }
    }
}

pub struct Row {
    id: String,
    case: String,
    verdict: &'static str,
    verdict_label: &'static str,
    executed: String,
    executor: String,
    configuration: String,
    superseded: bool,
    source: String,
}

#[derive(Template)]
#[template(path = "vv/results.html")]
struct ListPage {
    l: Layout,
    code: String,
    rows: Vec<Row>,
}

pub async fn list(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
) -> PageResult {
    let (ctx, rows) = st.app.recent_results(&p, &code, 200).await?;
    let t = ListPage {
        l: layout(&st, &p, &c, &ctx, "Results", "vv"),
        code: ctx.project.code.clone(),
        rows: rows
            .iter()
            .map(|r| Row {
                id: r.result.id.to_string(),
                case: r.case_human_id.clone(),
                verdict: r.result.verdict.as_str(),
                verdict_label: r.result.verdict.label(),
                executed: when(&r.result.executed_at),
                executor: r.result.executor.clone(),
                configuration: r.result.configuration.clone(),
                superseded: r.superseded_by.is_some(),
                source: r.result.source.clone(),
            })
            .collect(),
    };
    render_status(&t, StatusCode::OK)
}

pub struct EvidenceRow {
    sha256: String,
    name: String,
    size: u64,
    content_type: String,
}

#[derive(Template)]
#[template(path = "vv/result.html")]
struct ResultPage {
    l: Layout,
    code: String,
    id: String,
    case: String,
    verdict: &'static str,
    verdict_label: &'static str,
    fields: Vec<(&'static str, String)>,
    notes: Vec<String>,
    steps: Vec<(usize, &'static str, &'static str, String)>,
    evidence: Vec<EvidenceRow>,
    supersedes: String,
    reason: String,
    superseded_by: String,
    can_write: bool,
    can_fail: bool,
    verdicts: Vec<Opt>,
    f: Fields,
    errs: Errs,
}

async fn result_page(
    st: &AppState,
    p: &Principal,
    c: &Caller,
    code: &str,
    id: ResultId,
    typed: Typed,
) -> PageResult {
    let (ctx, rec) = st.app.result(p, code, id).await?;
    let (f, errs, error, status) = unpack(typed);
    let r = &rec.result;
    let baseline = match r.baseline_id {
        Some(id) => {
            st.app
                .baseline_label(&ctx, opensesa_domain::ids::BaselineId(id))
                .await?
        }
        None => String::new(),
    };
    let t = ResultPage {
        l: layout(
            st,
            p,
            c,
            &ctx,
            format!("Result of {}", rec.case_human_id),
            "vv",
        )
        .with_error(error),
        code: ctx.project.code.clone(),
        id: r.id.to_string(),
        case: rec.case_human_id.clone(),
        verdict: r.verdict.as_str(),
        verdict_label: r.verdict.label(),
        fields: vec![
            ("Executed", when(&r.executed_at)),
            ("Executed by", r.executor.clone()),
            ("Configuration", r.configuration.clone()),
            ("Baseline", baseline),
            ("Case revision", r.case_revision.to_string()),
            ("Recorded", when(&r.recorded_at)),
            ("Source", r.source.clone()),
            ("Run", r.run_id.map(|x| x.to_string()).unwrap_or_default()),
        ],
        notes: r.notes.lines().map(str::to_owned).collect(),
        steps: r
            .steps
            .iter()
            .map(|s| {
                (
                    s.step,
                    s.verdict.as_str(),
                    s.verdict.label(),
                    s.note.clone(),
                )
            })
            .collect(),
        evidence: r
            .evidence
            .iter()
            .map(|e| EvidenceRow {
                sha256: e.sha256.clone(),
                name: e.file_name.clone(),
                size: e.size,
                content_type: e.content_type.clone(),
            })
            .collect(),
        supersedes: r.supersedes.map(|x| x.to_string()).unwrap_or_default(),
        reason: r.supersede_reason.clone(),
        superseded_by: rec.superseded_by.map(|x| x.to_string()).unwrap_or_default(),
        can_write: ctx.can(Permission::Write),
        can_fail: r.verdict != opensesa_domain::vv::Verdict::Pass,
        verdicts: verdict_opts(f.get("verdict").unwrap_or("")),
        f,
        errs,
    };
    render_status(&t, status)
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, id)): Path<(String, ResultId)>,
) -> PageResult {
    result_page(&st, &p, &c, &code, id, None).await
}

/// A correction: a new result of the same case that supersedes this one, with a reason.
pub async fn supersede(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path((code, id)): Path<(String, ResultId)>,
    form: Multipart,
) -> PageResult {
    let (f, files) = read_multipart(&p, form).await?;
    let (_, rec) = st.app.result(&p, &code, id).await?;
    let input = ResultInput {
        supersedes: Some(id),
        ..result_input(&f)
    };
    let r = st
        .app
        .record_result(&p, &code, &rec.case_human_id, &input, &files)
        .await;
    match recoverable(r, Some("reason"))? {
        Ok(r) => Ok(redirect_with_flash(
            &st,
            &format!("/p/{}/vv/results/{}", code.to_uppercase(), r.id),
            "Correction recorded; the earlier result is superseded.",
        )),
        Err(failure) => result_page(&st, &p, &c, &code, id, Some((f, failure))).await,
    }
}

/// An evidence file: checksum verified, served as an attachment with a safe type.
pub async fn evidence(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path((code, id, sha256)): Path<(String, ResultId, String)>,
) -> PageResult {
    let (ev, bytes) = st.app.evidence(&p, &code, id, &sha256).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(served_content_type(&ev.content_type)),
    );
    if let Ok(v) = HeaderValue::from_str(&attachment_disposition(&ev.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256={}", ev.sha256)) {
        // The checksum as recorded, for a client to check what it received.
        h.insert("x-evidence-checksum", v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}
