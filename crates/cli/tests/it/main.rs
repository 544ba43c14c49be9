//! The integration suite: the real application over HTTP, on SQLite and on PostgreSQL.
//! One test binary (each file under `tests/` would link its own).
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Declares each listed `async fn name(Backend)` as two tests: `sqlite::name` and
/// `postgres::name`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(opensesa_testkit::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(opensesa_testkit::Backend::Postgres).await })*
        }
    };
}

mod access;
mod api;
mod audit;
mod auth;
mod backup;
mod baselines;
mod baselines_api;
mod browser;
mod config;
mod deploy;
mod health;
mod jobs;
mod jobs_processes;
mod junit_fixtures;
mod mfa;
mod migrations;
mod operations;
mod operations_api;
mod redis_sessions;
mod requirements;
mod requirements_api;
mod requirements_demo;
mod requirements_exchange;
mod requirements_pages;
mod runbook;
mod security;
mod vv;
mod vv_api;
mod vv_pages;

/// The `Location` header of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
