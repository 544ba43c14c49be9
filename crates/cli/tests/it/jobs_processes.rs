//! Worker processes: several on one database run each job once; a killed worker's job is
//! retried after its lease and finishes once; SIGTERM lets a running job finish; Redis going
//! away loses nothing.

use opensesa_app::ports::Journal;
use opensesa_domain::ids::JobId;
use opensesa_domain::jobs::{JobState, NewJob};
use opensesa_store::Db;
use opensesa_testkit::{Backend, TestDb, SECRET_KEY};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(t: &TestDb, dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opensesa"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &t.url)
        .env("OPENSESA_SECRET_KEY", SECRET_KEY)
        .env("OPENSESA_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .args(["worker", "--no-periodic", "--heartbeat-ms", "300"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc(cmd.spawn().unwrap())
}

fn signal(p: &Proc, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &p.0.id().to_string()])
        .status()
        .unwrap()
        .success());
}

fn ping(delay_ms: u64) -> NewJob {
    let now = chrono::Utc::now();
    NewJob {
        id: JobId::new(),
        queue: "default".into(),
        kind: "system.ping".into(),
        payload: serde_json::json!({ "delay_ms": delay_ms }),
        priority: 0,
        max_attempts: 3,
        run_after: now,
        dedup_key: None,
        project_id: None,
        created_by: None,
        created_at: now,
    }
}

async fn wait_for(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn count(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite { read, .. } => sqlx::query_scalar(sql).fetch_one(read).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

fn tmpdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("opensesa-w-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn two_worker_processes_run_each_of_1000_jobs_exactly_once_on_postgres() {
    let t = TestDb::migrated(Backend::Postgres).await;
    let jobs: Vec<NewJob> = (0..1000).map(|_| ping(0)).collect();
    // One transaction for the lot.
    let journal = Journal {
        jobs,
        ..Journal::default()
    };
    opensesa_app::ports::AuditStore::append_journal(&t.db, &journal)
        .await
        .unwrap();
    let dir = tmpdir();
    let a = worker(&t, &dir, &["--concurrency", "4"], &[]);
    let b = worker(&t, &dir, &["--concurrency", "4"], &[]);
    wait_for("1000 jobs to finish", 120, async || {
        count(&t.db, "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'").await == 1000
    })
    .await;
    signal(&a, "-TERM");
    signal(&b, "-TERM");
    assert_eq!(
        count(&t.db, "SELECT COUNT(*) FROM jobs WHERE attempts <> 1").await,
        0,
        "a job ran more than once"
    );
    let by_worker = count(&t.db, "SELECT COUNT(DISTINCT result->>'worker') FROM jobs").await;
    assert_eq!(by_worker, 2, "both workers took jobs");
    let _ = std::fs::remove_dir_all(dir);
}

async fn a_killed_workers_job_is_retried_after_its_lease_and_finishes_once(b: Backend) {
    let t = TestDb::migrated(b).await;
    let dir = tmpdir();
    let job = ping(1500);
    opensesa_app::ports::JobStore::enqueue(&t.db, &job, &Journal::default())
        .await
        .unwrap();
    let first = worker(&t, &dir, &["--lease-secs", "1"], &[]);
    let find = async || {
        opensesa_app::ports::JobStore::find_job(&t.db, job.id)
            .await
            .unwrap()
            .unwrap()
    };
    wait_for("the job to start", 30, async || {
        find().await.state == JobState::Running
    })
    .await;
    let victim = find().await.locked_by.unwrap();
    signal(&first, "-KILL");
    drop(first);
    let second = worker(&t, &dir, &["--lease-secs", "1"], &[]);
    wait_for("the job to finish on the second worker", 30, async || {
        find().await.state == JobState::Succeeded
    })
    .await;
    let done = find().await;
    assert_eq!(done.attempts, 2);
    assert_ne!(done.result.unwrap()["worker"].as_str().unwrap(), victim);
    signal(&second, "-TERM");
    let _ = std::fs::remove_dir_all(dir);
}

async fn sigterm_lets_a_running_job_finish(b: Backend) {
    let t = TestDb::migrated(b).await;
    let dir = tmpdir();
    let job = ping(1200);
    opensesa_app::ports::JobStore::enqueue(&t.db, &job, &Journal::default())
        .await
        .unwrap();
    let mut w = worker(&t, &dir, &[], &[]);
    let find = async || {
        opensesa_app::ports::JobStore::find_job(&t.db, job.id)
            .await
            .unwrap()
            .unwrap()
    };
    wait_for("the job to start", 30, async || {
        find().await.state == JobState::Running
    })
    .await;
    signal(&w, "-TERM");
    let status = w.0.wait().unwrap();
    assert!(status.success(), "the worker exits cleanly");
    assert_eq!(
        find().await.state,
        JobState::Succeeded,
        "the running job finished before exit"
    );
    let beats = opensesa_app::ports::JobStore::list_heartbeats(&t.db)
        .await
        .unwrap();
    assert!(beats[0].stopped_at.is_some(), "the worker says it stopped");
    let _ = std::fs::remove_dir_all(dir);
}

async fn a_short_grace_period_releases_the_job_to_the_queue(b: Backend) {
    let t = TestDb::migrated(b).await;
    let dir = tmpdir();
    let job = ping(5000);
    opensesa_app::ports::JobStore::enqueue(&t.db, &job, &Journal::default())
        .await
        .unwrap();
    let mut w = worker(&t, &dir, &["--grace-secs", "0"], &[]);
    let find = async || {
        opensesa_app::ports::JobStore::find_job(&t.db, job.id)
            .await
            .unwrap()
            .unwrap()
    };
    wait_for("the job to start", 30, async || {
        find().await.state == JobState::Running
    })
    .await;
    signal(&w, "-TERM");
    assert!(w.0.wait().unwrap().success());
    let released = find().await;
    assert_eq!(
        (released.state, released.attempts, released.locked_by),
        (JobState::Pending, 0, None)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A Redis of the test's own, so stopping it disturbs no other test.
struct OwnRedis(Child, u16);

impl OwnRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the Redis tests");
        let r = Self(child, port);
        wait_for("Redis to start", 10, async || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
        r
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn redis_stopped_mid_run_loses_no_job(b: Backend) {
    use opensesa_app::ports::JobNotifier;
    let t = TestDb::migrated(b).await;
    let dir = tmpdir();
    let redis = OwnRedis::start().await;
    let url = format!("redis://127.0.0.1:{}/0", redis.1);
    let bus = opensesa_store::redis_bus::RedisJobBus::new(&url, "opensesa:").unwrap();
    // A long poll interval: a quick start proves the Redis wake-up (on SQLite nothing else
    // crosses processes).
    let w = worker(&t, &dir, &["--poll-ms", "8000"], &[("REDIS_URL", &url)]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let first = ping(0);
    opensesa_app::ports::JobStore::enqueue(&t.db, &first, &Journal::default())
        .await
        .unwrap();
    bus.jobs_enqueued("default").await;
    wait_for("the job woken through Redis", 5, async || {
        count(&t.db, "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'").await == 1
    })
    .await;

    drop(redis);
    for _ in 0..20 {
        opensesa_app::ports::JobStore::enqueue(&t.db, &ping(0), &Journal::default())
            .await
            .unwrap();
        bus.jobs_enqueued("default").await;
    }
    wait_for(
        "the jobs enqueued after Redis stopped (polling)",
        40,
        async || count(&t.db, "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'").await == 21,
    )
    .await;
    signal(&w, "-TERM");
    let _ = std::fs::remove_dir_all(dir);
}

both!(
    a_killed_workers_job_is_retried_after_its_lease_and_finishes_once,
    sigterm_lets_a_running_job_finish,
    a_short_grace_period_releases_the_job_to_the_queue,
    redis_stopped_mid_run_loses_no_job,
);
