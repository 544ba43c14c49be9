//! The typed errors of the use cases. `web` maps each kind once, to an HTML page or the JSON
//! error shape; internal errors keep their cause for the log and show the user an id only.

use crate::ports::StoreError;
use opensesa_domain::{FieldErrors, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid input: {0}")]
    Validation(FieldErrors),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        AppError::Validation(FieldErrors::single(field, reason))
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        AppError::Forbidden(why.into())
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError::Validation(e.0)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(what),
            StoreError::Backend(source) => {
                // Keep the whole chain for the log; the user sees only the event id.
                let mut chain = source.to_string();
                let mut cur = source.source();
                while let Some(c) = cur {
                    chain.push_str(": ");
                    chain.push_str(&c.to_string());
                    cur = c.source();
                }
                AppError::Internal(chain)
            }
        }
    }
}
