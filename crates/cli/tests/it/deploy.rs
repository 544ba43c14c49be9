//! `collectstatic` and `check --deploy`: each check fires on a bad configuration and stays
//! quiet on a good one (as Django tests its deploy checks).

use opensesa::checks::{self, Finding, Level, Options};
use opensesa::config::{Settings, Vars};
use opensesa_testkit::{Backend, TestDb, SECRET_KEY};
use std::path::PathBuf;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("opensesa-{tag}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Env {
    db: TestDb,
    data: PathBuf,
    statics: PathBuf,
}

impl Env {
    async fn new(b: Backend) -> Self {
        let env = Self {
            db: TestDb::migrated(b).await,
            data: tmpdir("data"),
            statics: tmpdir("static"),
        };
        opensesa::collectstatic::collect(&env.statics, false).unwrap();
        env
    }

    /// A production configuration that passes every check, with `changes` applied (an empty
    /// value removes the variable).
    fn settings(&self, changes: &[(&str, &str)]) -> Settings {
        let mut vars: Vec<(String, String)> = [
            ("OPENSESA_SECRET_KEY", SECRET_KEY),
            ("DATABASE_URL", self.db.url.as_str()),
            ("OPENSESA_ALLOWED_HOSTS", "sesa.example.org"),
            ("OPENSESA_PUBLIC_URL", "https://sesa.example.org"),
            ("OPENSESA_TRUST_PROXY_HEADERS", "true"),
            ("OPENSESA_MFA_REQUIRED", "admins"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        vars.push(("OPENSESA_DATA_DIR".into(), self.data.display().to_string()));
        vars.push((
            "OPENSESA_STATIC_ROOT".into(),
            self.statics.display().to_string(),
        ));
        for (k, v) in changes {
            vars.retain(|(name, _)| name != k);
            if !v.is_empty() {
                vars.push(((*k).to_owned(), (*v).to_owned()));
            }
        }
        Settings::load(&Vars::from_pairs(vars)).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
        let _ = std::fs::remove_dir_all(&self.statics);
    }
}

/// Changed variables, the check that must fire, its level.
type Case = (&'static [(&'static str, &'static str)], &'static str, Level);

async fn deploy(s: &Settings) -> Vec<Finding> {
    checks::run(
        s,
        Options {
            deploy: true,
            strict: false,
        },
    )
    .await
}

fn ids(f: &[Finding]) -> Vec<(&'static str, Level)> {
    f.iter().map(|x| (x.id, x.level)).collect()
}

async fn each_deploy_check_fires_on_a_bad_configuration_only(b: Backend) {
    let env = Env::new(b).await;
    let good = deploy(&env.settings(&[])).await;
    assert!(
        good.is_empty(),
        "a good configuration has findings: {good:?}"
    );

    let cases: &[Case] = &[
        (
            &[("OPENSESA_DEBUG", "true")],
            "security.debug",
            Level::Error,
        ),
        (
            &[("OPENSESA_ALLOWED_HOSTS", "*")],
            "security.allowed_hosts",
            Level::Error,
        ),
        (
            &[("OPENSESA_ALLOWED_HOSTS", "other.example.org")],
            "security.allowed_hosts",
            Level::Error,
        ),
        (
            &[("OPENSESA_PUBLIC_URL", "")],
            "security.public_url",
            Level::Error,
        ),
        (
            &[("OPENSESA_PUBLIC_URL", "http://sesa.example.org")],
            "security.https",
            Level::Warning,
        ),
        (
            &[("OPENSESA_SECURE_COOKIES", "false")],
            "security.cookies",
            Level::Error,
        ),
        (
            &[
                ("OPENSESA_PUBLIC_URL", "http://sesa.example.org"),
                ("OPENSESA_SECURE_COOKIES", "true"),
            ],
            "security.cookies",
            Level::Error,
        ),
        (
            &[("OPENSESA_HSTS_SECONDS", "3600")],
            "security.hsts",
            Level::Warning,
        ),
        (
            &[("OPENSESA_TRUST_PROXY_HEADERS", "false")],
            "security.proxy",
            Level::Warning,
        ),
        (
            &[("OPENSESA_MFA_REQUIRED", "off")],
            "security.mfa",
            Level::Warning,
        ),
        (
            &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing")],
            "database.reachable",
            Level::Error,
        ),
        (
            &[("REDIS_URL", "redis://127.0.0.1:9/0")],
            "redis.reachable",
            Level::Error,
        ),
    ];
    for (changes, id, level) in cases {
        let found = deploy(&env.settings(changes)).await;
        assert!(
            found.iter().any(|f| f.id == *id && f.level == *level),
            "{changes:?} should raise {id}: {:?}",
            ids(&found)
        );
        for f in &found {
            assert!(!f.message.is_empty() && !f.hint.is_empty(), "{f:?}");
        }
    }
    // The host hint gives the exact value that would match.
    let found = deploy(&env.settings(&[("OPENSESA_ALLOWED_HOSTS", "other.example.org")])).await;
    assert!(
        found[0]
            .hint
            .contains("OPENSESA_ALLOWED_HOSTS=other.example.org,sesa.example.org"),
        "{}",
        found[0].hint
    );

    // Paths: the static root inside the data directory.
    let inner = env.data.join("static");
    std::fs::create_dir_all(&inner).unwrap();
    opensesa::collectstatic::collect(&inner, false).unwrap();
    let found = deploy(&env.settings(&[("OPENSESA_STATIC_ROOT", inner.to_str().unwrap())])).await;
    assert_eq!(ids(&found), vec![("storage.paths", Level::Error)]);

    // Static files missing, stale or absent directory.
    let empty = tmpdir("static-empty");
    let found = deploy(&env.settings(&[("OPENSESA_STATIC_ROOT", empty.to_str().unwrap())])).await;
    assert!(found.iter().all(|f| f.id == "static.manifest") && !found.is_empty());
    assert!(found[0]
        .message
        .contains("opensesa collectstatic --noinput"));
    let found =
        deploy(&env.settings(&[("OPENSESA_STATIC_ROOT", "/nonexistent/opensesa-static")])).await;
    assert_eq!(ids(&found), vec![("static.root", Level::Error)]);
    let _ = std::fs::remove_dir_all(empty);

    // --strict turns warnings into errors; without --deploy only the basic checks run.
    let s = env.settings(&[("OPENSESA_MFA_REQUIRED", "off")]);
    assert!(!checks::failed(&deploy(&s).await));
    assert!(checks::failed(
        &checks::run(
            &s,
            Options {
                deploy: true,
                strict: true
            }
        )
        .await
    ));
    assert!(checks::run(
        &env.settings(&[("OPENSESA_DEBUG", "true")]),
        Options::default()
    )
    .await
    .is_empty());
}

async fn pending_migrations_and_demo_accounts_are_reported(b: Backend) {
    let env = Env::new(b).await;
    let fresh = TestDb::empty(b).await;
    let found = deploy(&env.settings(&[("DATABASE_URL", fresh.url.as_str())])).await;
    assert_eq!(ids(&found), vec![("database.migrations", Level::Error)]);
    assert_eq!(found[0].hint, "opensesa migrate");

    let s = env.settings(&[]);
    let app = opensesa::runtime::build_app(&s, env.db.db.clone()).unwrap();
    opensesa::demo::seed(&app, opensesa::demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let found = deploy(&s).await;
    assert_eq!(
        ids(&found),
        vec![("security.demo_accounts", Level::Warning)]
    );
}

async fn pending_migrations_on_data_without_a_recent_backup_warn(b: Backend) {
    let env = Env::new(b).await;
    let old = TestDb::empty(b).await;
    let first = [opensesa_store::migrate::Migration {
        version: 1,
        name: "foundation",
        sqlite: opensesa_store::migrate::MIGRATIONS[0].sqlite,
        postgres: opensesa_store::migrate::MIGRATIONS[0].postgres,
    }];
    opensesa_store::migrate::run_list(&old.db, &first)
        .await
        .unwrap();
    let s = env.settings(&[("DATABASE_URL", old.url.as_str())]);
    let app = opensesa_app::App::new(
        std::sync::Arc::new(old.db.clone()),
        None,
        std::sync::Arc::new(opensesa_app::clock::SystemClock),
        opensesa_app::AppSettings::new(SECRET_KEY.into()),
    )
    .unwrap();
    app.create_organisation(None, "ACME", "Acme").await.unwrap();
    let found = deploy(&s).await;
    assert!(
        found
            .iter()
            .any(|f| f.id == "backup.recent" && f.level == Level::Warning),
        "{:?}",
        ids(&found)
    );
    std::fs::create_dir_all(env.data.join("backups")).unwrap();
    std::fs::write(env.data.join("backups/opensesa-now.tar.gz"), b"").unwrap();
    let found = deploy(&s).await;
    assert!(
        !found.iter().any(|f| f.id == "backup.recent"),
        "{:?}",
        ids(&found)
    );
}

async fn the_binary_exits_non_zero_on_errors_and_prints_json(b: Backend) {
    let env = Env::new(b).await;
    let run = |extra: &[(&str, &str)], args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opensesa"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("OPENSESA_SECRET_KEY", SECRET_KEY)
            .env("DATABASE_URL", &env.db.url)
            .env("OPENSESA_ALLOWED_HOSTS", "sesa.example.org")
            .env("OPENSESA_PUBLIC_URL", "https://sesa.example.org")
            .env("OPENSESA_TRUST_PROXY_HEADERS", "true")
            .env("OPENSESA_MFA_REQUIRED", "admins")
            .env("OPENSESA_DATA_DIR", &env.data)
            .env("OPENSESA_STATIC_ROOT", &env.statics)
            .current_dir(&env.data);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.args(args).output().unwrap()
    };
    let ok = run(&[], &["check", "--deploy"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("no issues"));
    let bad = run(
        &[("OPENSESA_DEBUG", "true")],
        &["check", "--deploy", "--format", "json"],
    );
    assert_eq!(bad.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["findings"][0]["id"], "security.debug");
    assert_eq!(json["findings"][0]["level"], "error");
    let warn = run(&[("OPENSESA_MFA_REQUIRED", "off")], &["check", "--deploy"]);
    assert!(warn.status.success(), "warnings alone pass");
    assert!(!run(
        &[("OPENSESA_MFA_REQUIRED", "off")],
        &["check", "--deploy", "--strict"]
    )
    .status
    .success());
}

both!(
    each_deploy_check_fires_on_a_bad_configuration_only,
    pending_migrations_and_demo_accounts_are_reported,
    pending_migrations_on_data_without_a_recent_backup_warn,
    the_binary_exits_non_zero_on_errors_and_prints_json,
);

#[test]
fn collectstatic_writes_hashed_files_and_a_manifest_repeatably() {
    let root = tmpdir("collect");
    let first = opensesa::collectstatic::collect(&root, false).unwrap();
    assert!(first.written >= 6, "{first:?}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("staticfiles.json")).unwrap()).unwrap();
    let css = manifest["files"]["app.css"]["hashed"].as_str().unwrap();
    assert!(css.starts_with("app.") && css.ends_with(".css"));
    assert_eq!(
        std::fs::read(root.join(css)).unwrap(),
        std::fs::read(root.join("app.css")).unwrap()
    );
    assert!(opensesa::collectstatic::verify(&root).is_empty());
    let again = opensesa::collectstatic::collect(&root, false).unwrap();
    assert_eq!(
        (again.written, again.unchanged),
        (0, first.written),
        "a second run changes nothing"
    );

    // A file of an older release is kept, unless --clear.
    std::fs::write(root.join("app.0123456789ab.css"), b"old").unwrap();
    assert_eq!(
        opensesa::collectstatic::collect(&root, false)
            .unwrap()
            .removed,
        0
    );
    assert!(root.join("app.0123456789ab.css").exists());
    assert_eq!(
        opensesa::collectstatic::collect(&root, true)
            .unwrap()
            .removed,
        1
    );
    assert!(!root.join("app.0123456789ab.css").exists());

    // A tampered file is reported.
    std::fs::write(root.join(css), b"tampered").unwrap();
    assert!(opensesa::collectstatic::verify(&root)
        .iter()
        .any(|p| p.contains(css)));
    let _ = std::fs::remove_dir_all(root);

    let err =
        opensesa::collectstatic::collect(std::path::Path::new("/nonexistent/opensesa"), false)
            .unwrap_err();
    assert!(
        format!("{err:#}").contains("OPENSESA_STATIC_ROOT /nonexistent/opensesa does not exist")
    );
    let file =
        std::env::temp_dir().join(format!("opensesa-file-{}", uuid::Uuid::now_v7().simple()));
    std::fs::write(&file, b"").unwrap();
    assert!(format!(
        "{:#}",
        opensesa::collectstatic::collect(&file, false).unwrap_err()
    )
    .contains("is not a directory"));
    let _ = std::fs::remove_file(file);
}
