//! The HTTP surface of OpenSESA: server-rendered pages, the JSON API under `/api/v1`,
//! authentication and sessions, CSRF and host checks, security headers, health endpoints
//! and the embedded static assets. Handlers stay thin: extract, call one use case, render.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod assets;
mod auth;
mod error;
mod health;
mod pages;
mod security;

use axum::Router;
use opensesa_app::App;
use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::SESSION_COOKIE_PLAIN;
pub use security::host_allowed;

/// What the HTTP layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Host names accepted in the `Host` header (`.example.org` matches subdomains, `*` any).
    pub allowed_hosts: Vec<String>,
    /// Origins (`scheme://host[:port]`) accepted for unsafe requests besides the request's own.
    pub trusted_origins: Vec<String>,
    pub public_url: Option<url::Url>,
    pub secure_cookies: bool,
    pub hsts_seconds: u64,
    /// Take the client address and scheme from the reverse proxy's `X-Forwarded-*` headers.
    pub trust_proxy_headers: bool,
    pub version: String,
}

impl WebConfig {
    /// A configuration for local use and tests: localhost only, no TLS.
    pub fn local() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            trusted_origins: Vec::new(),
            public_url: None,
            secure_cookies: false,
            hsts_seconds: 0,
            trust_proxy_headers: false,
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebConfig>,
    pub assets: Arc<assets::Assets>,
    /// Where job output (exports) is read from.
    pub data_dir: Arc<std::path::PathBuf>,
}

impl AppState {
    pub fn new(app: App, web: WebConfig, data_dir: std::path::PathBuf) -> Self {
        Self {
            app,
            web: Arc::new(web),
            assets: Arc::new(assets::Assets::embedded()),
            data_dir: Arc::new(data_dir),
        }
    }
}

/// The whole application router with its middleware.
pub fn router(state: AppState) -> Router {
    let (api_router, _) = api::router().split_for_parts();
    Router::new()
        .merge(pages::router())
        .merge(api_router)
        .merge(health::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::host_check,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(axum::middleware::from_fn(security::access_log))
        .with_state(state)
}

/// A bound server: tests start it on port 0 and read the port.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl Server {
    pub async fn bind(addr: &str, state: AppState) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        Ok(())
    }
}
