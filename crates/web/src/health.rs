//! Health endpoints: `/healthz` answers without I/O (a database blip must not restart the
//! app); `/readyz` checks what the next request needs and answers 503 when it is missing.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::time::Duration;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    let timeout = Duration::from_secs(2);
    let store = st.app.store.clone();
    let db = match tokio::time::timeout(timeout, store.ping()).await {
        Ok(Ok(())) => json!({ "ok": true, "backend": store.backend_name() }),
        Ok(Err(e)) => {
            json!({ "ok": false, "backend": store.backend_name(), "error": e.to_string() })
        }
        Err(_) => {
            json!({ "ok": false, "backend": store.backend_name(), "error": "no answer within 2 s" })
        }
    };
    let db_ok = db["ok"].as_bool().unwrap_or(false);
    let migrations = if db_ok {
        match tokio::time::timeout(timeout, store.schema_status()).await {
            Ok(Ok(s)) => {
                json!({ "ok": s.is_current(), "applied": s.applied, "pending": s.pending, "unknown": s.unknown })
            }
            Ok(Err(e)) => json!({ "ok": false, "error": e.to_string() }),
            Err(_) => json!({ "ok": false, "error": "no answer within 2 s" }),
        }
    } else {
        json!({ "ok": false, "error": "database unreachable" })
    };
    let redis = match &st.app.cache {
        None => json!({ "ok": true, "configured": false }),
        Some(c) => match c.ping().await {
            Ok(()) => json!({ "ok": true, "configured": true }),
            Err(e) => json!({ "ok": false, "configured": true, "error": e }),
        },
    };
    let ready = db_ok
        && migrations["ok"].as_bool().unwrap_or(false)
        && redis["ok"].as_bool().unwrap_or(false);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "version": st.web.version,
        "checks": { "database": db, "migrations": migrations, "redis": redis },
    });
    (status, Json(body))
}
