//! Test helpers: the real application on a real port, over a database of its own (a SQLite
//! file, or a PostgreSQL schema), with a clock the test moves, and a client that reads like a
//! person using the site.
//!
//! PostgreSQL comes from `OPENSESA_TEST_DATABASE_URL` (default: the local server at
//! 127.0.0.1:5432 as `postgres`). When it cannot be reached the tests fail; they never skip.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use opensesa_app::clock::ManualClock;
use opensesa_app::ports::SessionCache;
use opensesa_app::{App, AppSettings, MfaPolicy};
use opensesa_domain::accounts::model::User;
use opensesa_domain::portfolio::ProjectInput;
use opensesa_store::redis_cache::RedisSessionCache;
use opensesa_store::{Db, DbOptions};
use opensesa_web::{AppState, Server, WebConfig};
use std::path::PathBuf;
use std::sync::Arc;

pub const PASSWORD: &str = "correct-horse-orbit-42";
pub const SECRET_KEY: &str = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn postgres_url() -> String {
    std::env::var("OPENSESA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("OPENSESA_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/15".into())
}

/// A database of the test's own, dropped (file removed / schema dropped) at the end.
/// The evidence size limit of test apps: small, so that refusing an oversize file is cheap.
pub const EVIDENCE_LIMIT: u64 = 256 * 1024;

pub struct TestDb {
    pub db: Db,
    pub backend: Backend,
    /// The URL a separate `opensesa` process would use to reach the same database.
    pub url: String,
    sqlite_dir: Option<PathBuf>,
    pg_schema: Option<String>,
}

impl TestDb {
    /// An empty database (no migrations applied).
    pub async fn empty(backend: Backend) -> Self {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("opensesa-test-{tag}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("test.sqlite3").display());
                let db = Db::connect(&DbOptions {
                    url: url.clone(),
                    max_connections: 4,
                    pg_schema: None,
                })
                .await
                .unwrap();
                Self {
                    db,
                    backend,
                    url,
                    sqlite_dir: Some(dir),
                    pg_schema: None,
                }
            }
            Backend::Postgres => {
                let admin = postgres_url();
                let schema = format!("t_{tag}");
                let conn = Db::connect(&DbOptions { url: admin.clone(), max_connections: 2, pg_schema: None })
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL tests cannot run: {e:#}. Start PostgreSQL or set OPENSESA_TEST_DATABASE_URL."));
                if let Db::Postgres(p) = &conn {
                    sqlx::query(&format!("CREATE SCHEMA {schema}"))
                        .execute(p)
                        .await
                        .unwrap();
                }
                conn.close().await;
                let db = Db::connect(&DbOptions {
                    url: admin.clone(),
                    max_connections: 8,
                    pg_schema: Some(schema.clone()),
                })
                .await
                .unwrap();
                let sep = if admin.contains('?') { '&' } else { '?' };
                let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
                Self {
                    db,
                    backend,
                    url,
                    sqlite_dir: None,
                    pg_schema: Some(schema),
                }
            }
        }
    }

    /// A database with every migration applied.
    pub async fn migrated(backend: Backend) -> Self {
        let t = Self::empty(backend).await;
        opensesa_store::migrate::run(&t.db).await.unwrap();
        t
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(schema) = self.pg_schema.take() {
            // Drop runs outside async: a short-lived runtime on its own thread does the cleanup.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let db = Db::connect(&DbOptions {
                        url: postgres_url(),
                        max_connections: 1,
                        pg_schema: None,
                    })
                    .await
                    .ok()?;
                    if let Db::Postgres(p) = &db {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(p)
                            .await;
                    }
                    db.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

/// Options for a test application.
#[derive(Clone)]
pub struct Options {
    pub backend: Backend,
    pub mfa_policy: MfaPolicy,
    pub redis_url: Option<String>,
    pub web: WebConfig,
}

impl Options {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            mfa_policy: MfaPolicy::Off,
            redis_url: None,
            web: WebConfig::local(),
        }
    }
}

/// The application running on a real port.
pub struct TestApp {
    pub base: String,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub tdb: TestDb,
    /// The data directory (job output).
    pub data_dir: PathBuf,
    /// The key prefix of this app's Redis session cache entries.
    pub redis_prefix: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(Options::new(backend)).await
    }

    pub async fn start_with(opts: Options) -> Self {
        let tdb = TestDb::migrated(opts.backend).await;
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
        ));
        let mut settings = AppSettings::new(SECRET_KEY.into());
        settings.mfa_policy = opts.mfa_policy;
        let redis_prefix = format!("test:{}:", uuid::Uuid::now_v7().simple());
        let cache: Option<Arc<dyn SessionCache>> = match &opts.redis_url {
            Some(u) => Some(Arc::new(RedisSessionCache::new(u, &redis_prefix).unwrap())),
            None => None,
        };
        let data_dir =
            std::env::temp_dir().join(format!("opensesa-data-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let app = App::new(Arc::new(tdb.db.clone()), cache, clock.clone(), settings)
            .unwrap()
            .with_blobs(Arc::new(opensesa_store::blobs::FsBlobStore::new(
                data_dir.join("files").join("evidence"),
                EVIDENCE_LIMIT,
            )))
            .with_import_files(Arc::new(opensesa_store::import_files::FsImportFiles::new(
                data_dir.join("uploads").join("imports"),
            )));
        let server = Server::bind(
            "127.0.0.1:0",
            AppState::new(app.clone(), opts.web.clone(), data_dir.clone()),
        )
        .await
        .unwrap();
        let addr = server.local_addr().unwrap();
        let handle = tokio::spawn(async move {
            let _ = server.run(std::future::pending()).await;
        });
        Self {
            base: format!("http://{addr}"),
            app,
            clock,
            tdb,
            data_dir,
            redis_prefix,
            server: handle,
        }
    }

    /// A worker on this app's database that the test drives (`run_once`, `drain`), with the
    /// product's handlers plus `extra`.
    pub fn worker(&self, registry: opensesa_worker::Registry) -> opensesa_worker::Worker {
        let opts = opensesa_worker::WorkerOptions {
            data_dir: self.data_dir.clone(),
            periodic: false,
            retry_base: chrono::Duration::seconds(1),
            ..Default::default()
        };
        opensesa_worker::Worker::new(self.app.clone(), registry, opts, None)
    }

    /// A new browser with its own cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub async fn user(&self, email: &str, admin: bool) -> User {
        self.app
            .create_user(
                None,
                email,
                email.split('@').next().unwrap_or("user"),
                PASSWORD,
                admin,
            )
            .await
            .unwrap()
    }

    /// Creates a project (as the command line would) with the given members.
    pub async fn project(&self, code: &str, members: &[(&str, &str)]) {
        let input = ProjectInput {
            code: Some(code.into()),
            name: Some(format!("Project {code}")),
            ..Default::default()
        };
        self.app.create_project(None, &input).await.unwrap();
        let admin_email = format!("setup-{}@example.org", code.to_lowercase());
        let admin = match self
            .app
            .store
            .find_user_by_email(&opensesa_domain::accounts::Email::parse(&admin_email).unwrap())
            .await
            .unwrap()
        {
            Some(u) => u,
            None => self.user(&admin_email, true).await,
        };
        let admin = opensesa_app::Principal {
            user: admin,
            session: None,
        };
        for (email, role) in members {
            self.app
                .set_member(&admin, code, email, role, None)
                .await
                .unwrap();
        }
    }

    /// A personal API token for `email`.
    pub async fn token(&self, email: &str) -> String {
        let user = self
            .app
            .store
            .find_user_by_email(&opensesa_domain::accounts::Email::parse(email).unwrap())
            .await
            .unwrap()
            .unwrap();
        let p = opensesa_app::Principal {
            user,
            session: None,
        };
        self.app.create_api_token(&p, "test").await.unwrap().0
    }

    /// A browser logged in as `email` (password `PASSWORD`, no MFA).
    pub async fn logged_in(&self, email: &str) -> Browser {
        let b = self.browser();
        let res = b.login(email, PASSWORD).await;
        assert_eq!(res.status(), 303, "login of {email} failed");
        b
    }
}

/// An HTTP client that behaves like a browser on this site: it keeps cookies, sends the
/// site's own Origin on unsafe requests, and does not follow redirects (tests look at them).
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base: base.to_owned(),
            client,
            jar,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// A form post from this site's own pages.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("Origin", &self.base)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// A form post that carries the session's CSRF token, read from `page`.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf_token(page).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(action, &all).await
    }

    pub async fn csrf_token(&self, page: &str) -> String {
        let html = self.get_text(page).await;
        extract_between(&html, "name=\"csrf_token\" value=\"", "\"")
            .unwrap_or_else(|| panic!("no CSRF token on {page}"))
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    /// The session cookie's current value.
    pub fn session_cookie(&self) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = url::Url::parse(&self.base).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == opensesa_web::SESSION_COOKIE_PLAIN)
            .map(|(_, v)| v.to_owned())
    }

    /// A JSON API call with a bearer token.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }
}

/// The text between `start` and the next `end` in `haystack`.
pub fn extract_between(haystack: &str, start: &str, end: &str) -> Option<String> {
    let i = haystack.find(start)? + start.len();
    let j = haystack[i..].find(end)? + i;
    Some(haystack[i..j].to_owned())
}

/// The TOTP code of `secret_base32` at the app clock's current time.
pub fn totp_now(t: &TestApp, secret_base32: &str) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_base32.as_bytes())
        .unwrap();
    opensesa_app::crypto::totp_code(&secret, t.clock.now_secs())
}

trait NowSecs {
    fn now_secs(&self) -> u64;
}

impl NowSecs for ManualClock {
    fn now_secs(&self) -> u64 {
        use opensesa_app::ports::Clock;
        self.now().timestamp() as u64
    }
}
