//! Configuration: defaults, then an optional `.env` file, then the environment. The names of
//! a Django-era OpenSESA `.env` are accepted as aliases. A bad value stops start-up with a
//! message naming the variable; secrets never appear in `Debug` output or logs.

use opensesa_app::MfaPolicy;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The value shipped in `.env.example`; refused as a real secret.
pub const SAMPLE_SECRET_KEY: &str =
    "change-me-to-at-least-50-random-characters-from-a-password-generator";

/// 25 MiB: a report or a set of screenshots, yet small enough to hold in memory while it is
/// hashed and checked.
pub const DEFAULT_EVIDENCE_MAX_BYTES: u64 = 26_214_400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: String,
    pub reason: String,
}

fn err(variable: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the secret key came from (reported by `check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    /// Generated for the embedded mode and kept in the data directory.
    DataDir(PathBuf),
}

#[derive(Clone)]
pub struct Settings {
    pub secret_key: String,
    pub secret_source: SecretSource,
    pub allowed_hosts: Vec<String>,
    pub csrf_trusted_origins: Vec<String>,
    pub public_url: Option<url::Url>,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub static_root: PathBuf,
    pub debug: bool,
    pub secure_cookies: bool,
    pub hsts_seconds: u64,
    pub mfa_policy: MfaPolicy,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub listen: String,
    pub trust_proxy_headers: bool,
    pub db_max_connections: u32,
    /// The largest evidence file accepted, in bytes.
    pub evidence_max_bytes: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("secret_key", &"[redacted]")
            .field("secret_source", &self.secret_source)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("csrf_trusted_origins", &self.csrf_trusted_origins)
            .field(
                "public_url",
                &self.public_url.as_ref().map(url::Url::as_str),
            )
            .field(
                "database_url",
                &opensesa_store::redact_url(&self.database_url),
            )
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(opensesa_store::redact_url),
            )
            .field("static_root", &self.static_root)
            .field("debug", &self.debug)
            .field("secure_cookies", &self.secure_cookies)
            .field("hsts_seconds", &self.hsts_seconds)
            .field("mfa_policy", &self.mfa_policy)
            .field("data_dir", &self.data_dir)
            .field("log_format", &self.log_format)
            .field("listen", &self.listen)
            .field("trust_proxy_headers", &self.trust_proxy_headers)
            .field("evidence_max_bytes", &self.evidence_max_bytes)
            .finish()
    }
}

/// The merged variables: `.env` first, the environment over it.
pub struct Vars(HashMap<String, String>);

impl Vars {
    /// Reads `.env` (from `OPENSESA_ENV_FILE`, else `./.env` when present) and the process
    /// environment.
    pub fn from_process() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let file = env.get("OPENSESA_ENV_FILE").map(PathBuf::from).or_else(|| {
            let p = PathBuf::from(".env");
            p.exists().then_some(p)
        });
        let mut map = HashMap::new();
        if let Some(path) = file {
            let iter = dotenvy::from_path_iter(&path).map_err(|e| {
                err(
                    "OPENSESA_ENV_FILE",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            for item in iter {
                let (k, v) = item.map_err(|e| {
                    err(
                        "OPENSESA_ENV_FILE",
                        format!("{} is not a valid .env file: {e}", path.display()),
                    )
                })?;
                map.insert(k, v);
            }
        }
        map.extend(env);
        Ok(Self(map))
    }

    pub fn from_pairs<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
        pairs: I,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The first of `names` that is set and not blank, with the name it was found under.
    fn get(&self, names: &[&'static str]) -> Option<(&'static str, String)> {
        names.iter().find_map(|n| {
            self.0
                .get(*n)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (*n, v))
        })
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(err(
            name,
            format!("{v:?} is not a boolean (use true or false)"),
        )),
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a configured secret key: long, varied, not the sample (Django's W009, stricter).
pub fn check_secret_key(name: &str, key: &str) -> Result<(), ConfigError> {
    if key == SAMPLE_SECRET_KEY
        || key.starts_with("change-me")
        || key.starts_with("django-insecure")
    {
        return Err(err(
            name,
            "is the sample value; generate one, e.g. `openssl rand -base64 48`",
        ));
    }
    let chars = key.chars().count();
    if chars < 50 {
        return Err(err(name, format!("is {chars} characters; use at least 50 random characters (e.g. `openssl rand -base64 48`)")));
    }
    if key.chars().collect::<std::collections::BTreeSet<_>>().len() < 5 {
        return Err(err(
            name,
            "has fewer than 5 distinct characters; generate a random one",
        ));
    }
    Ok(())
}

fn database_url(vars: &Vars, data_dir: &Path) -> Result<String, ConfigError> {
    if let Some((name, raw)) = vars.get(&["DATABASE_URL"]) {
        let parsed = url::Url::parse(&raw).map_err(|e| {
            err(
                name,
                format!("{:?} is not a URL: {e}", opensesa_store::redact_url(&raw)),
            )
        })?;
        return match parsed.scheme() {
            "postgres" | "postgresql" => {
                if parsed.host_str().is_none_or(str::is_empty) {
                    Err(err(
                        name,
                        "has no host; expected postgres://user:password@host:5432/database",
                    ))
                } else {
                    Ok(raw)
                }
            }
            "sqlite" => Ok(raw),
            other => Err(err(
                name,
                format!("the scheme {other:?} is not supported; use postgres://… or sqlite:…"),
            )),
        };
    }
    if let Some((_, host)) = vars.get(&["DB_HOST"]) {
        let port = match vars.get(&["DB_PORT"]) {
            Some((n, p)) => p
                .parse::<u16>()
                .map_err(|_| err(n, format!("{p:?} is not a port number")))?,
            None => 5432,
        };
        let name = vars
            .get(&["DB_NAME"])
            .map_or_else(|| "opensesa".to_owned(), |(_, v)| v);
        let user = vars
            .get(&["DB_USER"])
            .map_or_else(|| "opensesa".to_owned(), |(_, v)| v);
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let auth = match vars.get(&["DB_PASS", "DB_PASSWORD"]) {
            Some((_, pass)) => format!("{}:{}", enc(&user), enc(&pass)),
            None => enc(&user),
        };
        return Ok(format!("postgres://{auth}@{host}:{port}/{}", enc(&name)));
    }
    Ok(format!(
        "sqlite://{}",
        data_dir.join("opensesa.sqlite3").display()
    ))
}

impl Settings {
    pub fn is_embedded(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Builds the settings. In the embedded mode, a missing secret key is generated once and
    /// kept in the data directory (`secret_key`, mode 0600).
    pub fn load(vars: &Vars) -> Result<Self, ConfigError> {
        let data_dir = vars
            .get(&["OPENSESA_DATA_DIR"])
            .map_or_else(|| PathBuf::from("data"), |(_, v)| PathBuf::from(v));
        let database_url = database_url(vars, &data_dir)?;
        let embedded = database_url.starts_with("sqlite:");

        let public_url = match vars.get(&["OPENSESA_PUBLIC_URL"]) {
            Some((n, v)) => {
                let u =
                    url::Url::parse(&v).map_err(|e| err(n, format!("{v:?} is not a URL: {e}")))?;
                if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                    return Err(err(
                        n,
                        format!("{v:?} must be an http:// or https:// URL with a host"),
                    ));
                }
                Some(u)
            }
            None => None,
        };
        let allowed_hosts = vars
            .get(&["OPENSESA_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS"])
            .map_or_else(
                || vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
                |(_, v)| list(&v),
            );
        let mut csrf_trusted_origins = Vec::new();
        if let Some((n, v)) = vars.get(&[
            "OPENSESA_CSRF_TRUSTED_ORIGINS",
            "DJANGO_CSRF_TRUSTED_ORIGINS",
            "CSRF_TRUSTED_ORIGINS",
        ]) {
            for o in list(&v) {
                let u = url::Url::parse(&o).map_err(|_| {
                    err(
                        n,
                        format!("{o:?} is not an origin like https://example.org"),
                    )
                })?;
                if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                    return Err(err(
                        n,
                        format!("{o:?} is not an origin like https://example.org"),
                    ));
                }
                csrf_trusted_origins.push(u.origin().ascii_serialization());
            }
        }
        let debug = match vars.get(&["OPENSESA_DEBUG", "DJANGO_DEBUG"]) {
            Some((n, v)) => parse_bool(n, &v)?,
            None => false,
        };
        let https = public_url.as_ref().is_some_and(|u| u.scheme() == "https");
        let secure_cookies = match vars.get(&["OPENSESA_SECURE_COOKIES"]) {
            Some((n, v)) => parse_bool(n, &v)?,
            None => https,
        };
        let hsts_seconds = match vars.get(&["OPENSESA_HSTS_SECONDS"]) {
            Some((n, v)) => v
                .parse::<u64>()
                .map_err(|_| err(n, format!("{v:?} is not a whole number of seconds")))?,
            None => 31_536_000,
        };
        let mfa_policy = match vars.get(&["OPENSESA_MFA_REQUIRED"]) {
            Some((n, v)) => MfaPolicy::parse(&v).map_err(|r| err(n, r))?,
            None => MfaPolicy::Off,
        };
        let log_format = match vars
            .get(&["OPENSESA_LOG_FORMAT"])
            .map(|(n, v)| (n, v.to_ascii_lowercase()))
        {
            None => LogFormat::Text,
            Some((_, v)) if v == "text" => LogFormat::Text,
            Some((_, v)) if v == "json" => LogFormat::Json,
            Some((n, v)) => return Err(err(n, format!("{v:?} is not text or json"))),
        };
        let listen = vars
            .get(&["OPENSESA_LISTEN"])
            .map_or_else(|| "127.0.0.1:8000".to_owned(), |(_, v)| v);
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                "OPENSESA_LISTEN",
                format!("{listen:?} is not an address like 0.0.0.0:8000"),
            ));
        }
        let redis_url = match vars.get(&["REDIS_URL", "CELERY_BROKER_URL"]) {
            Some((n, v)) => {
                let u = url::Url::parse(&v).map_err(|e| {
                    err(
                        n,
                        format!("{:?} is not a URL: {e}", opensesa_store::redact_url(&v)),
                    )
                })?;
                if !matches!(u.scheme(), "redis" | "rediss") {
                    return Err(err(
                        n,
                        format!(
                            "the scheme {:?} is not supported; use redis://host:6379/0",
                            u.scheme()
                        ),
                    ));
                }
                Some(v)
            }
            None => None,
        };
        let trust_proxy_headers = match vars.get(&["OPENSESA_TRUST_PROXY_HEADERS"]) {
            Some((n, v)) => parse_bool(n, &v)?,
            None => false,
        };
        let db_max_connections = match vars.get(&["OPENSESA_DB_MAX_CONNECTIONS"]) {
            Some((n, v)) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| err(n, format!("{v:?} is not a number from 1 to 1000")))?,
            None => 16,
        };
        let evidence_max_bytes = match vars.get(&["OPENSESA_EVIDENCE_MAX_BYTES"]) {
            Some((n, v)) => v.parse::<u64>().ok().filter(|b| *b > 0).ok_or_else(|| {
                err(
                    n,
                    format!(
                        "{v:?} is not a positive whole number of bytes (e.g. 26214400 for 25 MiB)"
                    ),
                )
            })?,
            None => DEFAULT_EVIDENCE_MAX_BYTES,
        };
        let static_root = vars
            .get(&["OPENSESA_STATIC_ROOT"])
            .map_or_else(|| PathBuf::from("staticfiles"), |(_, v)| PathBuf::from(v));

        let (secret_key, secret_source) = match vars.get(&["OPENSESA_SECRET_KEY", "DJANGO_SECRET_KEY"]) {
            Some((n, key)) => {
                check_secret_key(n, &key)?;
                (key, SecretSource::Environment)
            }
            None if embedded => {
                let path = data_dir.join("secret_key");
                (embedded_secret(&path)?, SecretSource::DataDir(path))
            }
            None => {
                return Err(err("OPENSESA_SECRET_KEY", "is required when DATABASE_URL points at PostgreSQL (generate one with `openssl rand -base64 48`)"))
            }
        };

        Ok(Self {
            secret_key,
            secret_source,
            allowed_hosts,
            csrf_trusted_origins,
            public_url,
            database_url,
            redis_url,
            static_root,
            debug,
            secure_cookies,
            hsts_seconds,
            mfa_policy,
            data_dir,
            log_format,
            listen,
            trust_proxy_headers,
            db_max_connections,
            evidence_max_bytes,
        })
    }
}

/// Reads the embedded mode's generated secret key, creating it (0600) on first use.
fn embedded_secret(path: &Path) -> Result<String, ConfigError> {
    let var = "OPENSESA_DATA_DIR";
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = existing.trim().to_owned();
        check_secret_key(
            &format!("{} (generated secret key file)", path.display()),
            &key,
        )?;
        return Ok(key);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| err(var, format!("cannot create {}: {e}", dir.display())))?;
    }
    let key = opensesa_app::crypto::random_token(40);
    write_private(path, &key)
        .map_err(|e| err(var, format!("cannot write {}: {e}", path.display())))?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}
