//! `opensesa check [--deploy]`: configuration and environment checks, each with a stable id,
//! a level and a hint (after Django's deploy checks, plus what Django misses: the CSRF origin
//! of a TLS proxy, database, migrations, Redis and static files).

use crate::config::{SecretSource, Settings};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub level: Level,
    pub message: String,
    pub hint: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The production checks (security settings, static files), besides the basic ones.
    pub deploy: bool,
    /// Warnings count as errors.
    pub strict: bool,
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(
        &mut self,
        id: &'static str,
        level: Level,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0.push(Finding {
            id,
            level,
            message: message.into(),
            hint: hint.into(),
        });
    }
}

fn overlaps(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (a, b) = (norm(a), norm(b));
    a.starts_with(&b) || b.starts_with(&a)
}

/// Runs the checks; the caller decides the exit code with [`failed`].
pub async fn run(s: &Settings, opts: Options) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let public = s.public_url.as_ref();
    let https = public.is_some_and(|u| u.scheme() == "https");

    // --- configuration -------------------------------------------------------------------
    if opts.deploy {
        if let SecretSource::DataDir(path) = &s.secret_source {
            f.add("security.secret_key", Level::Warning,
                format!("the secret key is the one generated for the embedded mode in {}", path.display()),
                "set OPENSESA_SECRET_KEY from your secret store (openssl rand -base64 48) so it survives the data directory");
        }
        if s.debug {
            f.add(
                "security.debug",
                Level::Error,
                "OPENSESA_DEBUG is on",
                "set OPENSESA_DEBUG=false in production",
            );
        }
        if s.allowed_hosts.iter().any(|h| h == "*") {
            f.add(
                "security.allowed_hosts",
                Level::Error,
                "OPENSESA_ALLOWED_HOSTS contains *",
                "list the host names people use, e.g. OPENSESA_ALLOWED_HOSTS=sesa.example.org",
            );
        }
        match public {
            None => f.add("security.public_url", Level::Error, "OPENSESA_PUBLIC_URL is not set",
                "set it to the URL people use, e.g. OPENSESA_PUBLIC_URL=https://sesa.example.org (CSRF origins and cookie security follow from it)"),
            Some(u) => {
                let host = u.host_str().unwrap_or_default();
                if !opensesa_web::host_allowed(&s.allowed_hosts, host) {
                    f.add("security.allowed_hosts", Level::Error,
                        format!("the public URL's host {host} is not in OPENSESA_ALLOWED_HOSTS ({})", s.allowed_hosts.join(",")),
                        format!("add it: OPENSESA_ALLOWED_HOSTS={}", [s.allowed_hosts.clone(), vec![host.to_owned()]].concat().join(",")));
                }
                if !https {
                    f.add("security.https", Level::Warning, format!("the public URL {u} is not https"),
                        "serve OpenSESA over TLS (the proxy terminates it) and set an https OPENSESA_PUBLIC_URL");
                }
            }
        }
        if https && !s.secure_cookies {
            f.add(
                "security.cookies",
                Level::Error,
                "OPENSESA_SECURE_COOKIES is off while the public URL is https",
                "remove OPENSESA_SECURE_COOKIES=false: session cookies must be Secure over https",
            );
        }
        if !https && s.secure_cookies {
            f.add("security.cookies", Level::Error,
                "cookies are Secure but the public URL is not https: browsers will not send them back, and login will fail",
                "use an https OPENSESA_PUBLIC_URL, or set OPENSESA_SECURE_COOKIES=false for a plain-HTTP test site");
        }
        if https && s.hsts_seconds < 31_536_000 {
            f.add(
                "security.hsts",
                Level::Warning,
                format!(
                    "OPENSESA_HSTS_SECONDS is {} (less than a year)",
                    s.hsts_seconds
                ),
                "set OPENSESA_HSTS_SECONDS=31536000 once https works for every subdomain",
            );
        }
        if https && !s.trust_proxy_headers {
            f.add("security.proxy", Level::Warning,
                "OPENSESA_TRUST_PROXY_HEADERS is off behind an https URL: client addresses (rate limits, session list) will be the proxy's",
                "set OPENSESA_TRUST_PROXY_HEADERS=true when a reverse proxy you run sets X-Forwarded-For and X-Forwarded-Proto");
        }
        if s.mfa_policy == opensesa_app::MfaPolicy::Off {
            f.add(
                "security.mfa",
                Level::Warning,
                "OPENSESA_MFA_REQUIRED is off",
                "require it at least for site admins: OPENSESA_MFA_REQUIRED=admins",
            );
        }
        if overlaps(&s.static_root, &s.data_dir) {
            f.add("storage.paths", Level::Error,
                format!("OPENSESA_STATIC_ROOT ({}) and OPENSESA_DATA_DIR ({}) overlap: the proxy would publish private files", s.static_root.display(), s.data_dir.display()),
                "use separate directories (separate volumes in compose)");
        }
        // --- static files --------------------------------------------------------------
        match std::fs::metadata(&s.static_root) {
            Err(_) => f.add(
                "static.root",
                Level::Error,
                format!(
                    "OPENSESA_STATIC_ROOT {} does not exist",
                    s.static_root.display()
                ),
                "create it (or mount the static volume), then run opensesa collectstatic --noinput",
            ),
            Ok(_) => {
                let probe = s.static_root.join(".opensesa-check");
                if std::fs::write(&probe, b"").is_err() {
                    f.add(
                        "static.root",
                        Level::Warning,
                        format!(
                            "OPENSESA_STATIC_ROOT {} is not writable by this user",
                            s.static_root.display()
                        ),
                        "collectstatic needs to write there: fix the volume's owner or mode",
                    );
                } else {
                    let _ = std::fs::remove_file(probe);
                }
                for problem in crate::collectstatic::verify(&s.static_root) {
                    f.add(
                        "static.manifest",
                        Level::Error,
                        problem,
                        "opensesa collectstatic --noinput",
                    );
                }
            }
        }
    }

    // --- environment ---------------------------------------------------------------------
    let opts_db = opensesa_store::DbOptions {
        url: s.database_url.clone(),
        max_connections: 2,
        pg_schema: None,
    };
    match tokio::time::timeout(Duration::from_secs(5), opensesa_store::Db::connect(&opts_db)).await {
        Err(_) => f.add("database.reachable", Level::Error,
            format!("no answer from the database at {} within 5 s", opensesa_store::redact_url(&s.database_url)),
            "check DATABASE_URL and that the database service is up and reachable from here"),
        Ok(Err(e)) => f.add("database.reachable", Level::Error,
            format!("cannot connect to the database at {}: {e:#}", opensesa_store::redact_url(&s.database_url)),
            "check DATABASE_URL (host, port, user, password, database name) and the database service"),
        Ok(Ok(db)) => {
            match opensesa_store::migrate::status(&db).await {
                Ok(st) if !st.unknown.is_empty() => f.add("database.migrations", Level::Error,
                    format!("the database has migrations {:?} unknown to this binary: it was migrated by a newer release", st.unknown),
                    "deploy the newer release, or restore the backup taken before it migrated"),
                Ok(st) if !st.pending.is_empty() => {
                    f.add("database.migrations", Level::Error,
                        format!("{} migration(s) pending: {:?}", st.pending.len(), st.pending), "opensesa migrate");
                    let has_data = !st.applied.is_empty() && opensesa_store::dump::total_rows(&db).await.unwrap_or(0) > 0;
                    if has_data && !recent_backup(&s.data_dir.join("backups")) {
                        f.add("backup.recent", Level::Warning,
                            "migrations are pending and there is no backup from the last 24 hours in the data directory",
                            "opensesa backup --verify (opensesa migrate also takes one unless --no-backup)");
                    }
                }
                Ok(_) => {}
                Err(e) => f.add("database.migrations", Level::Error, format!("cannot read the schema level: {e}"), "check the database user's rights"),
            }
            if opts.deploy {
                if let Ok(users) = opensesa_app::ports::AccountStore::list_users(&db).await {
                    let demo: Vec<String> = users.iter().filter(|u| u.email.as_str().ends_with("@opensesa.local")).map(|u| u.email.to_string()).collect();
                    if !demo.is_empty() {
                        f.add("security.demo_accounts", Level::Warning, format!("demo accounts with a published password exist: {}", demo.join(", ")),
                            "disable them on the Users page, or do not run opensesa demo on a production database");
                    }
                }
            }
            db.close().await;
        }
    }
    if let Some(url) = &s.redis_url {
        let reachable = match opensesa_store::redis_cache::RedisSessionCache::new(url, "opensesa:")
        {
            Ok(c) => opensesa_app::ports::SessionCache::ping(&c).await,
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = reachable {
            f.add("redis.reachable", Level::Error, format!("Redis at {}: {e}", opensesa_store::redact_url(url)),
                "check REDIS_URL and the redis service; the app keeps working without it, but sessions lose their shared cache and workers their wake-ups");
        }
    }
    let mut out = f.0;
    if opts.strict {
        for x in &mut out {
            x.level = Level::Error;
        }
    }
    out
}

/// Whether `dir` holds a backup archive written in the last 24 hours.
fn recent_backup(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name().to_string_lossy().ends_with(".tar.gz")
                && e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age.as_secs() < 24 * 3600)
        })
    })
}

pub fn failed(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.level == Level::Error)
}

pub fn render_text(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "System check identified no issues.\n".into();
    }
    let mut out = String::new();
    for f in findings {
        let level = match f.level {
            Level::Error => "ERROR",
            Level::Warning => "WARNING",
        };
        out.push_str(&format!(
            "{level} {}: {}\n    hint: {}\n",
            f.id, f.message, f.hint
        ));
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    out.push_str(&format!(
        "System check identified {} issue(s) ({errors} error(s)).\n",
        findings.len()
    ));
    out
}
