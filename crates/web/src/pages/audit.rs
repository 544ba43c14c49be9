//! The project audit trail page with filters, and its CSV export.

use super::{render, Layout};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone, Utc};
use opensesa_app::audit::AuditFilter;
use opensesa_app::AppError;
use opensesa_domain::access::Permission;
use opensesa_domain::audit::Action;
use opensesa_domain::FieldErrors;
use opensesa_interchange::audit_csv;
use opensesa_interchange::csv_export::CsvWriter;
use serde::{Deserialize, Serialize};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct FilterForm {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    artefact_type: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<i64>,
}

impl FilterForm {
    pub(super) fn parse(&self) -> Result<AuditFilter, AppError> {
        let mut errors = FieldErrors::new();
        let day =
            |field: &str, s: &str, errors: &mut FieldErrors| -> Option<chrono::DateTime<Utc>> {
                let s = s.trim();
                if s.is_empty() {
                    return None;
                }
                match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) => d.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t)),
                    Err(_) => {
                        errors.add(field, format!("{s:?} is not a date in the form YYYY-MM-DD"));
                        None
                    }
                }
            };
        let from = day("from", &self.from, &mut errors);
        // "To" includes the whole day.
        let to = day("to", &self.to, &mut errors).map(|t| t + chrono::Duration::days(1));
        let action = match self.action.trim() {
            "" => None,
            a => {
                let parsed = Action::parse(a);
                if parsed.is_none() {
                    errors.add("action", format!("{a:?} is not a recorded action"));
                }
                parsed
            }
        };
        errors.into_result()?;
        let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Ok(AuditFilter {
            actor: non_empty(&self.actor),
            action,
            artefact_type: non_empty(&self.artefact_type),
            from,
            to,
        })
    }

    fn query(&self, page: Option<i64>) -> String {
        let mut f = self.clone();
        f.page = page;
        serde_urlencoded::to_string(&f).unwrap_or_default()
    }
}

pub struct ChangeView {
    field: String,
    before: String,
    after: String,
}

pub struct EventView {
    at: String,
    actor: String,
    action: &'static str,
    artefact_type: String,
    artefact_id: String,
    changes: Vec<ChangeView>,
    reason: String,
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "∅".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPageT {
    l: Layout,
    code: String,
    f: FilterForm,
    actions: Vec<(&'static str, bool)>,
    events: Vec<EventView>,
    total: i64,
    page: i64,
    query: String,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    PageUser(p, c): PageUser,
    Path(code): Path<String>,
    Query(f): Query<FilterForm>,
) -> Result<Response, PageError> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let mut error = None;
    let filter = match f.parse() {
        Ok(filter) => filter,
        Err(AppError::Validation(e)) => {
            error = Some(e.to_string());
            AuditFilter::default()
        }
        Err(e) => return Err(e.into()),
    };
    let page = f.page.unwrap_or(1).max(1);
    let result = st
        .app
        .project_audit(&p, &code, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
    let events = result
        .events
        .iter()
        .map(|e| EventView {
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor.clone(),
            action: e.action.as_str(),
            artefact_type: e.artefact_type.clone(),
            artefact_id: e.artefact_id.clone(),
            changes: e
                .changes
                .iter()
                .map(|ch| ChangeView {
                    field: ch.field.clone(),
                    before: show(&ch.before),
                    after: show(&ch.after),
                })
                .collect(),
            reason: e.reason.clone().unwrap_or_default(),
        })
        .collect();
    let code = ctx.project.code.clone();
    let can_lead = ctx.can(Permission::Lead);
    let t = AuditPageT {
        l: Layout::for_user(&st, &p, &c, "Audit trail", "audit")
            .in_project(&ctx.project, can_lead)
            .with_error(error),
        actions: Action::ALL
            .iter()
            .map(|a| (a.as_str(), a.as_str() == f.action))
            .collect(),
        total: result.total,
        query: f.query(None),
        prev: (page > 1).then(|| f.query(Some(page - 1))),
        next: (page * PAGE_SIZE < result.total).then(|| f.query(Some(page + 1))),
        page,
        code,
        f,
        events,
    };
    render(&t)
}

/// The filtered trail as CSV, written in slices so memory stays bounded however long it is.
pub async fn csv(
    State(st): State<AppState>,
    PageUser(p, _): PageUser,
    Path(code): Path<String>,
    Query(f): Query<FilterForm>,
) -> Result<Response, PageError> {
    let ctx = st.app.project_access(&p, &code, Permission::Read).await?;
    let filter = f.parse()?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let app = st.app.clone();
    let code_owned = ctx.project.code.clone();
    tokio::spawn(async move {
        const SLICE: i64 = 1000;
        let mut offset = 0;
        let mut first = true;
        loop {
            let page = match app
                .project_audit(&p, &code_owned, &filter, SLICE, offset)
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            let writer =
                CsvWriter::new(Vec::new(), if first { &audit_csv::HEADER[..] } else { &[] });
            let Ok(mut w) = writer else { return };
            for e in &page.events {
                if audit_csv::write_event(&mut w, e).is_err() {
                    return;
                }
            }
            let Ok(buf) = w.finish() else { return };
            first = false;
            if tx.send(Ok(buf)).await.is_err() {
                return;
            }
            if (page.events.len() as i64) < SLICE {
                return;
            }
            offset += SLICE;
        }
    });
    let stream = futures_stream(rx);
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!("attachment; filename=\"{}-audit.csv\"", ctx.project.code);
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res.into_response())
}

fn futures_stream(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    ReceiverStream(rx)
}

pub struct ReceiverStream(pub tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>);

impl futures_core::Stream for ReceiverStream {
    type Item = Result<Vec<u8>, std::io::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
