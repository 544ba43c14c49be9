//! Errors map once: to an HTML error page for pages, to the JSON error shape for the API.
//! Internal errors are logged with their cause and an id; the user sees the id only.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use opensesa_app::AppError;
use opensesa_domain::FieldErrors;
use serde::Serialize;
use utoipa::ToSchema;

fn internal_id(cause: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let short = id[id.len() - 12..].to_owned();
    tracing::error!(error_id = %short, cause, "internal error");
    short
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
}

/// An error shown as a page.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    retry_after: Option<i64>,
    to_login: bool,
}

impl PageError {
    pub fn status(status: StatusCode, message: String) -> Self {
        Self {
            status,
            message,
            retry_after: None,
            to_login: false,
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let (status, message) = match e {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "There is nothing here, or you do not have access to it.".to_owned(),
            ),
            AppError::Unauthenticated => {
                return Self {
                    to_login: true,
                    ..Self::status(StatusCode::UNAUTHORIZED, String::new())
                }
            }
            AppError::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                format!("You may not do this: {why}."),
            ),
            AppError::Conflict(why) => (StatusCode::CONFLICT, why),
            AppError::Validation(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors.to_string()),
            AppError::RateLimited { retry_after_secs } => {
                return Self {
                    retry_after: Some(retry_after_secs),
                    ..Self::status(
                        StatusCode::TOO_MANY_REQUESTS,
                        rate_limited_message(retry_after_secs),
                    )
                }
            }
            AppError::Internal(cause) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "Something went wrong on our side (error id {}).",
                    internal_id(&cause)
                ),
            ),
        };
        Self::status(status, message)
    }
}

pub fn rate_limited_message(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    format!(
        "Too many failed attempts. Try again in {minutes} minute{}.",
        if minutes == 1 { "" } else { "s" }
    )
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.to_login {
            return Redirect::to("/login").into_response();
        }
        let page = ErrorPage {
            status: self.status.as_u16(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.message,
        };
        let body = page.render().unwrap_or_else(|_| "error".to_owned());
        let mut res = (self.status, Html(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The one JSON error shape: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_error`, `not_found`, `forbidden`.
    pub code: String,
    pub message: String,
    /// Per field, the reasons it was refused.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    details: serde_json::Value,
    retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: String) -> Self {
        Self {
            status,
            code: code.into(),
            message,
            details: serde_json::json!({}),
            retry_after: None,
        }
    }

    pub fn validation(errors: FieldErrors) -> Self {
        let details = serde_json::to_value(&errors).unwrap_or_default();
        Self {
            details,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                format!("invalid input: {errors}"),
            )
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", "not found".into()),
            AppError::Unauthenticated => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "authentication required".into(),
            ),
            AppError::Forbidden(why) => Self::new(StatusCode::FORBIDDEN, "forbidden", why),
            AppError::Conflict(why) => Self::new(StatusCode::CONFLICT, "conflict", why),
            AppError::Validation(errors) => Self::validation(errors),
            AppError::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    rate_limited_message(retry_after_secs),
                )
            },
            AppError::Internal(cause) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                format!("internal error (error id {})", internal_id(&cause)),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}
