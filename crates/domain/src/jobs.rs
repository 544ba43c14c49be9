//! Background jobs as data: states, the job record, retry back-off and heartbeat health.

use crate::ids::{JobId, ProjectId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting to run (first time, or again after a failure once `run_after` has passed).
    Pending,
    Running,
    Succeeded,
    /// Failed on every allowed attempt; kept with its last error until retried or discarded.
    Dead,
    /// Dropped by an admin.
    Discarded,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Dead,
        Self::Discarded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
            Self::Discarded => "discarded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Dead | Self::Discarded)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    /// Higher runs first.
    pub priority: i64,
    pub max_attempts: i64,
    pub run_after: DateTime<Utc>,
    /// While a pending job has this key, enqueueing another with it does nothing.
    pub dedup_key: Option<String>,
    pub project_id: Option<ProjectId>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub payload: Value,
    pub priority: i64,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: DateTime<Utc>,
    pub dedup_key: Option<String>,
    pub locked_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub progress: Option<i64>,
    pub progress_message: Option<String>,
    pub result: Option<Value>,
    pub last_error: Option<String>,
    pub project_id: Option<ProjectId>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The wait before attempt `attempt + 1` after `attempt` failed: exponential from `base`,
/// capped, with up to 25 % jitter (`jitter` in [0, 1)) so failed jobs do not retry in step.
pub fn backoff(attempt: i64, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = attempt.clamp(1, 30) - 1;
    let ms = base
        .num_milliseconds()
        .saturating_mul(1i64 << exp.min(20))
        .min(cap.num_milliseconds());
    let extra = (ms as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    Duration::milliseconds(ms + extra)
}

/// A worker's last report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub queues: Vec<String>,
    pub concurrency: i64,
    pub in_flight: i64,
    pub started_at: DateTime<Utc>,
    pub last_beat_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerHealth {
    Up,
    /// No beat within the threshold: crashed, hung or cut off.
    Down,
    /// Shut down cleanly.
    Stopped,
}

impl Heartbeat {
    pub fn health(&self, now: DateTime<Utc>, threshold: Duration) -> WorkerHealth {
        if self.stopped_at.is_some() {
            WorkerHealth::Stopped
        } else if now - self.last_beat_at > threshold {
            WorkerHealth::Down
        } else {
            WorkerHealth::Up
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::seconds(1);
        let cap = Duration::minutes(10);
        assert_eq!(backoff(1, base, cap, 0.0), Duration::seconds(1));
        assert_eq!(backoff(2, base, cap, 0.0), Duration::seconds(2));
        assert_eq!(backoff(3, base, cap, 0.0), Duration::seconds(4));
        assert_eq!(backoff(30, base, cap, 0.0), cap);
        assert_eq!(backoff(2, base, cap, 0.999), Duration::milliseconds(2499));
    }

    #[test]
    fn heartbeat_health() {
        let now = Utc::now();
        let mut hb = Heartbeat {
            id: "w".into(),
            host: "h".into(),
            pid: 1,
            version: "0".into(),
            queues: vec!["default".into()],
            concurrency: 1,
            in_flight: 0,
            started_at: now,
            last_beat_at: now - Duration::seconds(5),
            stopped_at: None,
        };
        assert_eq!(hb.health(now, Duration::seconds(30)), WorkerHealth::Up);
        hb.last_beat_at = now - Duration::seconds(31);
        assert_eq!(hb.health(now, Duration::seconds(30)), WorkerHealth::Down);
        hb.stopped_at = Some(now);
        assert_eq!(hb.health(now, Duration::seconds(30)), WorkerHealth::Stopped);
        assert_eq!(JobState::parse("dead"), Some(JobState::Dead));
    }
}
