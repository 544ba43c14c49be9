//! Job wake-ups across processes through Redis pub/sub: the app publishes after enqueueing,
//! workers subscribe. Everything here is best effort with short time-outs: jobs live in the
//! database, and workers poll, so Redis going away only slows wake-ups to the poll interval.

use async_trait::async_trait;
use futures_util::StreamExt;
use opensesa_app::ports::{JobNotifier, JobWakeups};
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

const TIMEOUT: Duration = Duration::from_millis(300);

pub struct RedisJobBus {
    client: redis::Client,
    channel: String,
    conn: Mutex<Option<ConnectionManager>>,
    notify: Arc<Notify>,
}

impl RedisJobBus {
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            client: redis::Client::open(url)?,
            channel: format!("{prefix}jobs"),
            conn: Mutex::new(None),
            notify: Arc::new(Notify::new()),
        }))
    }

    /// Subscribes in the background, reconnecting every two seconds while Redis is away.
    pub fn start_listening(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let connected =
                    tokio::time::timeout(Duration::from_secs(2), me.client.get_async_pubsub())
                        .await;
                if let Ok(Err(e)) = &connected {
                    tracing::debug!(error = %e, "Redis wake-ups unavailable");
                }
                if let Ok(Ok(mut pubsub)) = connected {
                    if pubsub.subscribe(&me.channel).await.is_ok() {
                        tracing::info!(channel = me.channel, "listening for job wake-ups on Redis");
                        let mut messages = pubsub.on_message();
                        while messages.next().await.is_some() {
                            me.notify.notify_one();
                        }
                        tracing::warn!("Redis wake-ups interrupted; polling until Redis is back");
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        })
    }
}

#[async_trait]
impl JobNotifier for RedisJobBus {
    async fn jobs_enqueued(&self, queue: &str) {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            if let Ok(Ok(c)) =
                tokio::time::timeout(TIMEOUT, ConnectionManager::new(self.client.clone())).await
            {
                *guard = Some(c);
            }
        }
        let Some(conn) = guard.as_mut() else { return };
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(queue);
        let publish = cmd.query_async::<i64>(conn);
        if !matches!(tokio::time::timeout(TIMEOUT, publish).await, Ok(Ok(_))) {
            tracing::debug!("job wake-up not published: Redis unavailable");
        }
    }
}

#[async_trait]
impl JobWakeups for RedisJobBus {
    async fn wait(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.notify.notified()).await;
    }
}

/// Wakes on whichever source speaks first.
pub struct EitherWakeups(pub Arc<dyn JobWakeups>, pub Arc<dyn JobWakeups>);

#[async_trait]
impl JobWakeups for EitherWakeups {
    async fn wait(&self, max: Duration) {
        tokio::select! {
            _ = self.0.wait(max) => {}
            _ = self.1.wait(max) => {}
        }
    }
}
