//! The runbook as a test: the real binary as separate processes against PostgreSQL and Redis,
//! with Debian's nginx in front using the repository's `proxy/nginx.conf`:
//! migrate → collectstatic → check --deploy → serve + worker → verify passes. Then, each on a
//! fresh stack, the failure modes `verify` must diagnose. And the compose files' rules.

use opensesa_testkit::{Backend, TestDb, SECRET_KEY};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Stack {
    _db: TestDb,
    dir: PathBuf,
    statics: PathBuf,
    env: Vec<(String, String)>,
    app_port: u16,
    proxy_port: u16,
    redis: Option<Proc>,
    serve: Option<Proc>,
    worker: Option<Proc>,
    nginx: Option<Proc>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.nginx.take();
        self.worker.take();
        self.serve.take();
        self.redis.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

impl Stack {
    /// Runs the runbook up to a serving stack (app, worker, proxy).
    async fn up(mfa: bool) -> Self {
        let db = TestDb::empty(Backend::Postgres).await;
        let dir = std::env::temp_dir().join(format!(
            "opensesa-runbook-{}",
            uuid::Uuid::now_v7().simple()
        ));
        let (data, statics) = (dir.join("data"), dir.join("static"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&statics).unwrap();
        let redis_port = free_port();
        let redis = Proc(
            Command::new("redis-server")
                .args([
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &redis_port.to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server must be installed"),
        );
        let (app_port, proxy_port) = (free_port(), free_port());
        let env: Vec<(String, String)> = [
            ("DATABASE_URL", db.url.clone()),
            ("REDIS_URL", format!("redis://127.0.0.1:{redis_port}/0")),
            ("OPENSESA_SECRET_KEY", SECRET_KEY.into()),
            ("OPENSESA_ALLOWED_HOSTS", "127.0.0.1".into()),
            (
                "OPENSESA_PUBLIC_URL",
                format!("http://127.0.0.1:{proxy_port}"),
            ),
            ("OPENSESA_TRUST_PROXY_HEADERS", "true".into()),
            (
                "OPENSESA_MFA_REQUIRED",
                if mfa { "admins" } else { "off" }.into(),
            ),
            ("OPENSESA_DATA_DIR", data.display().to_string()),
            ("OPENSESA_STATIC_ROOT", statics.display().to_string()),
            ("OPENSESA_LISTEN", format!("127.0.0.1:{app_port}")),
            ("RUST_LOG", "warn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let mut s = Stack {
            _db: db,
            dir,
            statics,
            env,
            app_port,
            proxy_port,
            redis: Some(redis),
            serve: None,
            worker: None,
            nginx: None,
        };
        wait_until("redis", 10, || {
            std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_ok()
        })
        .await;

        let step = |s: &Stack, args: &[&str]| {
            let out = s.run(args, None);
            assert!(
                out.status.success(),
                "opensesa {args:?} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert!(step(&s, &["migrate"]).contains("applied 0001_foundation.sql"));
        assert!(step(&s, &["collectstatic", "--noinput"]).contains("manifest staticfiles.json"));
        // The verification account: the demo's site admin (with MFA when the policy asks for it).
        step(&s, &["demo", "--no-serve"]);
        let check = step(&s, &["check", "--deploy", "--format", "json"]);
        let check: serde_json::Value = serde_json::from_str(&check).unwrap();
        assert_eq!(check["ok"], true, "{check}");

        s.serve = Some(s.spawn(&["serve"]));
        let beat = s.dir.join("worker.beat");
        s.worker = Some(s.spawn(&[
            "worker",
            "--poll-ms",
            "500",
            "--heartbeat-ms",
            "500",
            "--heartbeat-file",
            beat.to_str().unwrap(),
        ]));
        s.nginx = Some(s.start_nginx());
        let health = format!("http://127.0.0.1:{proxy_port}/healthz");
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            assert!(
                Instant::now() < until,
                "the stack did not come up behind nginx"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_opensesa"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(&self.dir)
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], extra: Option<(&str, &str)>) -> Output {
        let mut cmd = self.command(args);
        if let Some((k, v)) = extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Proc {
        Proc(
            self.command(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    /// nginx with the repository's configuration, rewritten only for ports and paths.
    fn start_nginx(&self) -> Proc {
        let prefix = self.dir.join("nginx");
        std::fs::create_dir_all(prefix.join("logs")).unwrap();
        let conf = std::fs::read_to_string(repo().join("proxy/nginx.conf")).unwrap();
        let conf = conf
            .replace(
                "listen 8080;",
                &format!("listen 127.0.0.1:{};", self.proxy_port),
            )
            .replace(
                "server app:8000;",
                &format!("server 127.0.0.1:{};", self.app_port),
            )
            .replace(
                "/srv/opensesa/static/",
                &format!("{}/", self.statics.display()),
            )
            .replace("/tmp/nginx", &format!("{}/nginx", prefix.display()))
            .replace("worker_processes auto;", "worker_processes 1;\nuser root;");
        std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
        let nginx = std::env::var("NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
        Proc(
            Command::new(&nginx)
                .args([
                    "-p",
                    prefix.to_str().unwrap(),
                    "-c",
                    prefix.join("nginx.conf").to_str().unwrap(),
                    "-g",
                    "daemon off;",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {nginx}: {e}. Install Debian's nginx (.ci/run does).")
                }),
        )
    }

    fn verify(&self, url: &str, extra: &[&str]) -> (bool, serde_json::Value) {
        let secret = std::fs::read_to_string(self.dir.join("totp")).ok();
        let mut args = vec![
            "verify",
            "--url",
            url,
            "--format",
            "json",
            "--job-timeout-secs",
            "5",
        ];
        args.extend_from_slice(extra);
        let mut cmd = self.command(&args);
        cmd.env("OPENSESA_VERIFY_EMAIL", "admin@opensesa.local")
            .env("OPENSESA_VERIFY_PASSWORD", opensesa::demo::DEMO_PASSWORD);
        if let Some(s) = secret {
            cmd.env("OPENSESA_VERIFY_TOTP_SECRET", s.trim());
        }
        let out = cmd.output().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "verify printed no JSON: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.success(), json)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.proxy_port)
    }

    /// Enrols the demo admin's second factor through the pages (the MFA policy covers admins)
    /// and keeps the secret for `verify`.
    async fn enrol_admin(&self) {
        let b = opensesa_testkit::Browser::new(&self.url());
        assert_eq!(
            b.login("admin@opensesa.local", opensesa::demo::DEMO_PASSWORD)
                .await
                .status(),
            303
        );
        let page = b
            .submit("/account/mfa", "/account/mfa", &[])
            .await
            .text()
            .await
            .unwrap();
        let secret = opensesa_testkit::extract_between(&page, "id=\"totp-secret\">", "<").unwrap();
        let raw = data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = opensesa_app::crypto::totp_code(&raw, now);
        let res = b
            .submit("/account/mfa", "/account/mfa/confirm", &[("code", &code)])
            .await;
        assert!(res.text().await.unwrap().contains("recovery codes"));
        std::fs::write(self.dir.join("totp"), secret).unwrap();
        // A later code for verify must fall in a new time step.
        let wait = 31 - (now % 30);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

fn step<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {report}"))
}

#[tokio::test]
async fn runbook_rehearsal_and_failure_modes() {
    // The whole runbook, then verify passes end to end through nginx.
    let stack = Stack::up(true).await;
    stack.enrol_admin().await;
    let (ok, report) = stack.verify(&stack.url(), &[]);
    assert!(ok, "verify failed on a healthy stack: {report:#}");
    for name in [
        "requirements page",
        "coverage page",
        "V&V page",
        "operations page",
    ] {
        assert_eq!(step(&report, name)["status"], "pass", "{report:#}");
    }
    // The worker's container health check reads its heartbeat file.
    let out = stack.run(
        &[
            "healthcheck",
            "--worker-file",
            stack.dir.join("worker.beat").to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "healthz",
        "readyz",
        "login",
        "project dashboard",
        "static assets",
        "security headers",
        "job round trip",
    ] {
        assert_eq!(step(&report, name)["status"], "pass", "{name}: {report:#}");
    }

    // A public URL whose host is not allowed: login fails, naming the setting.
    let wrong = format!("http://localhost:{}", stack.proxy_port);
    let (ok, report) = stack.verify(&wrong, &[]);
    assert!(!ok);
    let d = step(&report, "login page")["diagnosis"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        d.contains("OPENSESA_ALLOWED_HOSTS") && d.contains("localhost"),
        "{d}"
    );
    drop(stack);

    // The static root emptied: static assets missing, with the command to run.
    let stack = Stack::up(false).await;
    for e in std::fs::read_dir(&stack.statics).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let (ok, report) = stack.verify(&stack.url(), &[]);
    assert!(!ok);
    let s = step(&report, "static assets");
    assert_eq!(s["status"], "fail");
    let d = s["diagnosis"].as_str().unwrap();
    assert!(
        d.contains("collectstatic was not applied")
            && d.contains("opensesa collectstatic --noinput"),
        "{d}"
    );
    drop(stack);

    // The worker stopped: no live worker.
    let mut stack = Stack::up(false).await;
    let mut worker = stack.worker.take().unwrap();
    assert!(Command::new("kill")
        .args(["-TERM", &worker.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(
        worker.0.wait().unwrap().success(),
        "the worker stops cleanly"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, report) = stack.verify(&stack.url(), &[]);
    assert!(!ok);
    let d = step(&report, "job round trip")["diagnosis"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(d.contains("no worker is alive"), "{d}");
    drop(stack);

    // Redis stopped: the app keeps serving; readiness and the status page say the broker is down.
    let mut stack = Stack::up(false).await;
    stack.redis.take();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (ok, report) = stack.verify(&stack.url(), &[]);
    assert!(!ok);
    assert_eq!(
        step(&report, "login")["status"],
        "pass",
        "the app keeps serving: {report:#}"
    );
    assert_eq!(
        step(&report, "job round trip")["status"],
        "pass",
        "jobs still run (polling): {report:#}"
    );
    let d = step(&report, "readyz")["diagnosis"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(d.contains("Redis is unreachable"), "{d}");
}

/// The deploy compose file follows the rules of the runbook; the local one runs embedded.
#[test]
fn compose_files_follow_the_rules() {
    use yaml_rust2::{Yaml, YamlLoader};
    let load = |name: &str| {
        YamlLoader::load_from_str(&std::fs::read_to_string(repo().join(name)).unwrap())
            .unwrap()
            .remove(0)
    };
    let deploy = load("docker-compose-deploy.yml");
    let services = deploy["services"].as_hash().unwrap();
    let names: Vec<&str> = services.keys().filter_map(Yaml::as_str).collect();
    for required in ["proxy", "app", "worker", "db", "redis"] {
        assert!(
            names.contains(&required),
            "the deploy stack lacks {required}"
        );
    }
    for (name, svc) in services {
        let name = name.as_str().unwrap();
        let image = svc["image"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no image"));
        let tag = image
            .rsplit_once(':')
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("{name}: {image} has no tag"));
        assert!(
            !tag.is_empty() && tag != "latest" && !tag.contains('/'),
            "{name}: {image} is not pinned"
        );
        assert!(
            svc["build"].is_badvalue(),
            "{name} builds; the deploy file must pull pinned images"
        );
        assert!(
            svc["healthcheck"]["test"].as_vec().is_some(),
            "{name} has no health check"
        );
        assert!(
            svc["healthcheck"]["interval"].as_str().is_some()
                && svc["healthcheck"]["start_period"].as_str().is_some(),
            "{name}: explicit interval and start_period"
        );
        assert_eq!(
            svc["restart"].as_str(),
            Some("unless-stopped"),
            "{name} has no restart policy"
        );
        assert!(
            svc["security_opt"].as_vec().is_some_and(|v| v
                .iter()
                .any(|o| o.as_str() == Some("no-new-privileges:true"))),
            "{name}"
        );
    }
    for name in ["app", "worker"] {
        let svc = &deploy["services"][name];
        for dep in ["db", "redis"] {
            assert_eq!(
                svc["depends_on"][dep]["condition"].as_str(),
                Some("service_healthy"),
                "{name} must wait for a healthy {dep}"
            );
        }
        assert_eq!(svc["init"].as_bool(), Some(true), "{name}");
        assert_eq!(svc["read_only"].as_bool(), Some(true), "{name}");
        assert!(
            svc["cap_drop"]
                .as_vec()
                .is_some_and(|v| v[0].as_str() == Some("ALL")),
            "{name}"
        );
        assert_eq!(
            svc["image"], deploy["services"]["app"]["image"],
            "app and worker run the same image"
        );
    }
    assert_eq!(
        deploy["services"]["proxy"]["depends_on"]["app"]["condition"].as_str(),
        Some("service_healthy")
    );
    let grace = deploy["services"]["worker"]["stop_grace_period"]
        .as_str()
        .unwrap();
    assert!(
        grace.trim_end_matches('s').parse::<u64>().unwrap() > 25,
        "stop_grace_period above the worker's 25 s grace"
    );
    let volumes = deploy["volumes"].as_hash().unwrap();
    for v in ["pgdata", "static", "data"] {
        assert!(
            volumes.contains_key(&Yaml::String(v.into())),
            "named volume {v}"
        );
    }
    let mounts = |svc: &str| {
        deploy["services"][svc]["volumes"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    assert!(mounts("db").iter().any(|m| m.starts_with("pgdata:")));
    assert!(
        mounts("app").iter().any(|m| m.starts_with("static:"))
            && mounts("app").iter().any(|m| m.starts_with("data:"))
    );
    assert!(mounts("proxy")
        .iter()
        .any(|m| m.starts_with("./proxy/") && m.ends_with(":ro")));
    assert!(repo().join("proxy/nginx.conf").exists());

    let local = load("docker-compose.yml");
    let app = &local["services"]["app"];
    assert!(
        app["environment"]["DATABASE_URL"].is_badvalue(),
        "the local file runs the embedded mode"
    );
    assert!(app["healthcheck"]["test"].as_vec().is_some());

    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains("\nUSER opensesa"),
        "the image runs as a non-root user"
    );
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("opensesa\", \"healthcheck"));
    assert!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM ")) >= 2,
        "multi-stage"
    );
    for line in dockerfile.lines().filter(|l| l.starts_with("FROM ")) {
        assert!(
            !line.contains(":latest")
                && line
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|i| i.contains(':')),
            "unpinned base image: {line}"
        );
    }
}
