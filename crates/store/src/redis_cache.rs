//! Sessions cached in Redis, shared by app replicas. The database stays the source of truth:
//! every Redis call has a short time-out and a failure only costs a database read, so a Redis
//! restart loses nothing.

use async_trait::async_trait;
use opensesa_app::ports::SessionCache;
use opensesa_domain::accounts::model::Session;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::Mutex;

const TTL_SECS: u64 = 300;
const TIMEOUT: Duration = Duration::from_millis(300);

pub struct RedisSessionCache {
    client: redis::Client,
    conn: Mutex<Option<ConnectionManager>>,
    prefix: String,
}

impl RedisSessionCache {
    /// Parses the URL; connects lazily, so the app starts (and stays up) while Redis is down.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            conn: Mutex::new(None),
            prefix: prefix.to_owned(),
        })
    }

    async fn conn(&self) -> Option<ConnectionManager> {
        let mut guard = self.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Some(c.clone());
        }
        match tokio::time::timeout(TIMEOUT, ConnectionManager::new(self.client.clone())).await {
            Ok(Ok(c)) => {
                *guard = Some(c.clone());
                Some(c)
            }
            _ => None,
        }
    }

    fn key(&self, id_hash: &str) -> String {
        format!("{}session:{id_hash}", self.prefix)
    }
}

#[async_trait]
impl SessionCache for RedisSessionCache {
    async fn get(&self, id_hash: &str) -> Option<Session> {
        let mut c = self.conn().await?;
        let raw: Option<String> = tokio::time::timeout(TIMEOUT, c.get(self.key(id_hash)))
            .await
            .ok()?
            .ok()?;
        serde_json::from_str(&raw?).ok()
    }

    async fn put(&self, session: &Session) {
        let Some(mut c) = self.conn().await else {
            return;
        };
        let Ok(raw) = serde_json::to_string(session) else {
            return;
        };
        let r: Result<Result<(), _>, _> =
            tokio::time::timeout(TIMEOUT, c.set_ex(self.key(&session.id_hash), raw, TTL_SECS))
                .await;
        if !matches!(r, Ok(Ok(()))) {
            tracing::debug!("session cache write skipped: Redis unavailable");
        }
    }

    async fn remove(&self, id_hashes: &[String]) {
        if id_hashes.is_empty() {
            return;
        }
        let Some(mut c) = self.conn().await else {
            return;
        };
        let keys: Vec<String> = id_hashes.iter().map(|h| self.key(h)).collect();
        let r: Result<Result<i64, _>, _> = tokio::time::timeout(TIMEOUT, c.del(keys)).await;
        if !matches!(r, Ok(Ok(_))) {
            // A stale cached session could outlive its logout for up to the TTL; say so loudly.
            tracing::warn!("could not remove ended sessions from Redis; they expire from the cache within {TTL_SECS} s");
        }
    }

    async fn ping(&self) -> Result<(), String> {
        let mut c = self
            .conn()
            .await
            .ok_or_else(|| "Redis is unreachable".to_owned())?;
        let r: Result<Result<String, redis::RedisError>, _> =
            tokio::time::timeout(TIMEOUT, redis::cmd("PING").query_async(&mut c)).await;
        match r {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("Redis error: {e}")),
            Err(_) => Err("Redis did not answer within 300 ms".into()),
        }
    }
}
