//! Pure types and rules of OpenSESA. No I/O, no async, no web, no SQL: everything here is
//! deterministic and unit-tested in isolation.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
pub mod accounts;
pub mod audit;
pub mod baselines;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod operations;
pub mod portfolio;
pub mod requirements;
pub mod revision;
pub mod textdiff;
pub mod vv;

pub use error::{FieldErrors, ValidationError};
