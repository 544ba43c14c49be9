//! Use cases of OpenSESA: one module per product area, the authorization policy, audit, and
//! the ports that the storage adapters implement. Depends on `domain` only.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod accounts;
pub mod audit;
pub mod baseline_port;
pub mod baselines;
pub mod blob_port;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod import_file_port;
pub mod jobs;
pub mod operations;
pub mod operations_port;
pub mod portfolio;
pub mod ports;
pub mod principal;
pub mod project_cache;
pub mod requirement_port;
pub mod requirements;
pub mod vv;
pub mod vv_port;

pub use error::{AppError, AppResult};
pub use principal::Principal;

use chrono::Duration;
use ports::{Clock, SessionCache, Store};
use std::sync::Arc;

/// Who must use a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPolicy {
    Off,
    Admins,
    All,
}

impl MfaPolicy {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "off" | "false" | "0" | "no" => Ok(Self::Off),
            "admins" => Ok(Self::Admins),
            "all" | "on" | "true" | "1" | "yes" => Ok(Self::All),
            other => Err(format!("{other:?} is not one of off, admins, all")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MfaPolicy::Off => "off",
            MfaPolicy::Admins => "admins",
            MfaPolicy::All => "all",
        }
    }
}

/// Limits on authentication failures (ASVS 6.3.1): per account and per client address,
/// counted in the database so that every app replica sees the same count.
#[derive(Debug, Clone)]
pub struct LockoutPolicy {
    pub window: Duration,
    pub account_limit: i64,
    pub address_limit: i64,
    /// How long a locked account or address stays locked after its last failure.
    pub lock_for: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            window: Duration::minutes(15),
            account_limit: 5,
            address_limit: 30,
            lock_for: Duration::minutes(15),
        }
    }
}

/// The settings the use cases read. Built by the binary from its configuration.
#[derive(Clone)]
pub struct AppSettings {
    pub secret_key: String,
    pub mfa_policy: MfaPolicy,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub lockout: LockoutPolicy,
    pub totp_issuer: String,
}

impl std::fmt::Debug for AppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSettings")
            .field("secret_key", &"[redacted]")
            .field("mfa_policy", &self.mfa_policy)
            .field("session_idle", &self.session_idle)
            .field("session_absolute", &self.session_absolute)
            .field("lockout", &self.lockout)
            .finish()
    }
}

impl AppSettings {
    pub fn new(secret_key: String) -> Self {
        Self {
            secret_key,
            mfa_policy: MfaPolicy::Off,
            session_idle: Duration::hours(12),
            session_absolute: Duration::days(14),
            lockout: LockoutPolicy::default(),
            totp_issuer: "OpenSESA".into(),
        }
    }
}

/// The application: its ports and settings. Cheap to clone (everything is shared).
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub cache: Option<Arc<dyn SessionCache>>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<AppSettings>,
    /// Cross-process job wake-ups (Redis), when configured.
    pub job_notifier: Option<Arc<dyn ports::JobNotifier>>,
    /// Evidence files (verification results), when configured.
    pub blobs: Option<Arc<dyn blob_port::BlobStore>>,
    /// Files of requirement imports awaiting confirmation, when configured.
    pub import_files: Option<Arc<dyn import_file_port::ImportFileStore>>,
    /// Analysed operations plans by project, valid for one plan version and one day.
    ops_plans: operations::plan::PlanCache,
    /// Coverage and the RVTM by project, valid for one fact version.
    coverage_cache: project_cache::ProjectCache<
        project_cache::FactVersion,
        requirements::coverage::CoverageData,
    >,
    /// V&V dashboard facts by project, valid for one fact version and one day.
    vv_dashboards: project_cache::ProjectCache<
        (project_cache::FactVersion, chrono::NaiveDate),
        ports::DashboardFacts,
    >,
    secrets: Arc<crypto::SecretBox>,
    /// A real Argon2id hash verified when an email is unknown, so that the answer takes as
    /// long as for a wrong password (no account enumeration by timing).
    dummy_hash: Arc<String>,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        cache: Option<Arc<dyn SessionCache>>,
        clock: Arc<dyn Clock>,
        settings: AppSettings,
    ) -> AppResult<Self> {
        let dummy_hash =
            crypto::hash_password(&crypto::random_token(16)).map_err(AppError::Internal)?;
        Ok(Self {
            secrets: Arc::new(crypto::SecretBox::new(&settings.secret_key)),
            store,
            cache,
            clock,
            settings: Arc::new(settings),
            dummy_hash: Arc::new(dummy_hash),
            job_notifier: None,
            blobs: None,
            import_files: None,
            ops_plans: Default::default(),
            // A 100,000-requirement project's RVTM is some 50 MB: a few projects at most.
            coverage_cache: project_cache::ProjectCache::keeping(8),
            vv_dashboards: Default::default(),
        })
    }

    pub fn with_job_notifier(mut self, notifier: Arc<dyn ports::JobNotifier>) -> Self {
        self.job_notifier = Some(notifier);
        self
    }

    pub fn with_blobs(mut self, blobs: Arc<dyn blob_port::BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    pub fn with_import_files(mut self, files: Arc<dyn import_file_port::ImportFileStore>) -> Self {
        self.import_files = Some(files);
        self
    }

    /// After a commit that enqueued jobs of `queue`.
    pub async fn jobs_enqueued(&self, queue: &str) {
        if let Some(n) = &self.job_notifier {
            n.jobs_enqueued(queue).await;
        }
    }
}
