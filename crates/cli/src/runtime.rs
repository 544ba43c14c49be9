//! Wiring: the database and the optional Redis cache behind the app's ports, the app, and the
//! web configuration, built from the settings.

use crate::config::{LogFormat, Settings};
use anyhow::Context;
use opensesa_app::clock::SystemClock;
use opensesa_app::ports::SessionCache;
use opensesa_app::{App, AppSettings};
use opensesa_store::redis_cache::RedisSessionCache;
use opensesa_store::{Db, DbOptions};
use opensesa_web::{AppState, WebConfig};
use std::sync::Arc;

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    if settings.is_embedded() {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let opts = DbOptions {
        url: settings.database_url.clone(),
        max_connections: settings.db_max_connections,
        pg_schema: None,
    };
    Db::connect(&opts).await.with_context(|| {
        format!(
            "cannot open the database at {}",
            opensesa_store::redact_url(&settings.database_url)
        )
    })
}

pub fn app_settings(settings: &Settings) -> AppSettings {
    let mut s = AppSettings::new(settings.secret_key.clone());
    s.mfa_policy = settings.mfa_policy;
    s
}

pub fn web_config(settings: &Settings) -> WebConfig {
    WebConfig {
        allowed_hosts: settings.allowed_hosts.clone(),
        trusted_origins: settings.csrf_trusted_origins.clone(),
        public_url: settings.public_url.clone(),
        secure_cookies: settings.secure_cookies,
        hsts_seconds: settings.hsts_seconds,
        trust_proxy_headers: settings.trust_proxy_headers,
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

pub fn build_app(settings: &Settings, db: Db) -> anyhow::Result<App> {
    let cache: Option<Arc<dyn SessionCache>> = match &settings.redis_url {
        Some(url) => Some(Arc::new(
            RedisSessionCache::new(url, "opensesa:").context("REDIS_URL is not usable")?,
        )),
        None => None,
    };
    let app = App::new(
        Arc::new(db),
        cache,
        Arc::new(SystemClock),
        app_settings(settings),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?
    // Evidence files live under data_dir/files, which backups include.
    .with_blobs(Arc::new(opensesa_store::blobs::FsBlobStore::new(
        settings.data_dir.join("files").join("evidence"),
        settings.evidence_max_bytes,
    )))
    // Import files wait a day at most for their confirmation: outside data_dir/files, so
    // backups leave them out.
    .with_import_files(Arc::new(opensesa_store::import_files::FsImportFiles::new(
        settings.data_dir.join("uploads").join("imports"),
    )));
    // With Redis, enqueueing also wakes workers in other processes.
    Ok(match &settings.redis_url {
        Some(url) => app.with_job_notifier(opensesa_store::redis_bus::RedisJobBus::new(
            url,
            "opensesa:",
        )?),
        None => app,
    })
}

pub fn build_state(settings: &Settings, db: Db) -> anyhow::Result<AppState> {
    Ok(AppState::new(
        build_app(settings, db)?,
        web_config(settings),
        settings.data_dir.clone(),
    ))
}

/// In the embedded mode the schema is brought up to date at start; with PostgreSQL it is an
/// explicit step and a schema that is behind or ahead is refused.
pub async fn ensure_schema(settings: &Settings, db: &Db) -> anyhow::Result<()> {
    if settings.is_embedded() {
        let applied = opensesa_store::migrate::run(db).await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "embedded mode: migrations applied at start");
        }
        return Ok(());
    }
    let status = opensesa_store::migrate::status(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !status.unknown.is_empty() {
        anyhow::bail!(
            "the database schema has migrations {:?} that this binary does not know: it was migrated by a newer OpenSESA. \
             Run that version, or restore the backup taken before it migrated.",
            status.unknown
        );
    }
    if !status.pending.is_empty() {
        anyhow::bail!(
            "{} migration(s) are pending ({:?}); run `opensesa migrate` first (in the deploy stack: \
             docker compose -f \"$DEPLOY_COMPOSE_FILE\" run --rm app opensesa migrate)",
            status.pending.len(),
            status.pending
        );
    }
    Ok(())
}

/// A worker on the settings' database, with wake-ups from the database (NOTIFY / in-process).
pub async fn build_worker(
    settings: &Settings,
    app: opensesa_app::App,
    db: &Db,
    opts: opensesa_worker::WorkerOptions,
) -> anyhow::Result<opensesa_worker::Worker> {
    let mut wakeups = opensesa_store::jobs::wakeups(db)
        .await
        .context("cannot listen for job notifications")?;
    if let Some(url) = &settings.redis_url {
        let bus = opensesa_store::redis_bus::RedisJobBus::new(url, "opensesa:")?;
        bus.start_listening();
        wakeups = Arc::new(opensesa_store::redis_bus::EitherWakeups(wakeups, bus));
    }
    let opts = opensesa_worker::WorkerOptions {
        data_dir: settings.data_dir.clone(),
        ..opts
    };
    Ok(opensesa_worker::Worker::new(
        app,
        opensesa_worker::Registry::standard(),
        opts,
        Some(wakeups),
    ))
}
