//! Migrations on both backends, and the binary's migrate / showmigrations / serve refusal /
//! createsuperuser / demo / healthcheck as separate processes.

use opensesa_store::migrate::{self, MigrateError, Migration};
use opensesa_store::Db;
use opensesa_testkit::{Backend, TestDb, SECRET_KEY};
use std::io::Write;
use std::process::{Command, Stdio};

async fn exec(db: &Db, sql: &str) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite { write, .. } => sqlx::raw_sql(sql).execute(write).await.map(|_| ()),
        Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
}

async fn migrations_apply_once_and_refuse_a_newer_database(b: Backend) {
    let t = TestDb::empty(b).await;
    let st = migrate::status(&t.db).await.unwrap();
    let all: Vec<i64> = migrate::MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(all, vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(st.pending, all);
    assert_eq!(migrate::run(&t.db).await.unwrap(), all);
    assert!(
        migrate::run(&t.db).await.unwrap().is_empty(),
        "a second run applies nothing"
    );
    assert!(migrate::status(&t.db).await.unwrap().is_current());
    assert!(migrate::checksum_mismatches(&t.db)
        .await
        .unwrap()
        .is_empty());

    exec(&t.db, "INSERT INTO opensesa_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 'now')").await.unwrap();
    match migrate::run(&t.db).await {
        Err(MigrateError::DatabaseNewer(v, _)) => assert_eq!(v, vec![9999]),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(migrate::status(&t.db).await.unwrap().unknown, vec![9999]);
}

async fn a_failing_migration_changes_nothing(b: Backend) {
    let t = TestDb::migrated(b).await;
    let broken = "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);";
    let mut list: Vec<Migration> = migrate::MIGRATIONS
        .iter()
        .map(|m| Migration {
            version: m.version,
            name: m.name,
            sqlite: m.sqlite,
            postgres: m.postgres,
        })
        .collect();
    let next = migrate::latest_version() + 1;
    list.push(Migration {
        version: next,
        name: "broken_on_purpose",
        sqlite: broken,
        postgres: broken,
    });
    match migrate::run_list(&t.db, &list).await {
        Err(MigrateError::Failed {
            version,
            name,
            cause,
        }) => {
            assert_eq!((version, name.as_str()), (next, "broken_on_purpose"));
            assert!(cause.contains("no_such_table"), "{cause}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let msg = migrate::run_list(&t.db, &list)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&format!(
            "migration {next} (broken_on_purpose) failed and was rolled back"
        )),
        "{msg}"
    );
    assert!(
        exec(&t.db, "SELECT * FROM half_done").await.is_err(),
        "the half-applied table must not exist"
    );
    assert_eq!(
        migrate::status(&t.db).await.unwrap().applied,
        migrate::MIGRATIONS
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>()
    );
}

fn bin(
    db_url: &str,
    data_dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opensesa"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("OPENSESA_SECRET_KEY", SECRET_KEY)
        .env("OPENSESA_DATA_DIR", data_dir)
        .current_dir(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn the_binary_migrates_and_refuses_a_stale_schema(b: Backend) {
    let t = TestDb::empty(b).await;
    let dir = std::env::temp_dir().join(format!("opensesa-proc-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    if b == Backend::Postgres {
        // PostgreSQL: migrations are an explicit step; serve refuses a schema that is behind.
        let out = bin(&t.url, &dir, &["serve", "--bind", "127.0.0.1:0"], None);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("run `opensesa migrate` first"),
            "{}",
            text(&out)
        );
    }
    let out = bin(&t.url, &dir, &["showmigrations"], None);
    assert!(
        text(&out).contains("[ ] 0001_foundation.sql"),
        "{}",
        text(&out)
    );
    let out = bin(&t.url, &dir, &["migrate", "--plan"], None);
    assert!(text(&out).contains("would apply 0001_foundation.sql"));
    assert!(
        !migrate::status(&t.db).await.unwrap().is_current(),
        "--plan changes nothing"
    );
    let out = bin(&t.url, &dir, &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("applied 0001_foundation.sql"));
    let out = bin(&t.url, &dir, &["showmigrations"], None);
    assert!(text(&out).contains("[X] 0001_foundation.sql"));

    // createsuperuser, non-interactive; a weak password is refused with the reason.
    let out = bin(
        &t.url,
        &dir,
        &[
            "createsuperuser",
            "--email",
            "root@example.org",
            "--password-stdin",
            "--no-input",
        ],
        Some("password1234\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("password: is too common"),
        "{}",
        text(&out)
    );
    let out = bin(
        &t.url,
        &dir,
        &[
            "createsuperuser",
            "--email",
            "root@example.org",
            "--password-stdin",
            "--no-input",
        ],
        Some("a-long-and-unusual-passphrase\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = bin(
        &t.url,
        &dir,
        &[
            "createsuperuser",
            "--email",
            "ROOT@example.org",
            "--password-stdin",
            "--no-input",
        ],
        Some("a-long-and-unusual-passphrase\n"),
    );
    assert!(text(&out).contains("email: is already registered"));

    // demo is idempotent.
    for _ in 0..2 {
        let out = bin(&t.url, &dir, &["demo", "--no-serve"], None);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("admin@opensesa.local"));
    }
    let projects = opensesa_app::ports::PortfolioStore::list_projects(&t.db)
        .await
        .unwrap();
    assert_eq!(
        projects.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        vec!["GSEG", "SAT"]
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn serve_answers_healthcheck_and_stops_on_sigterm(b: Backend) {
    let t = TestDb::migrated(b).await;
    let dir = std::env::temp_dir().join(format!("opensesa-proc-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_opensesa"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &t.url)
        .env("OPENSESA_SECRET_KEY", SECRET_KEY)
        .env("OPENSESA_DATA_DIR", &dir)
        .env("OPENSESA_LISTEN", &addr)
        .env("OPENSESA_LOG_FORMAT", "json")
        .current_dir(&dir)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut healthy = false;
    for _ in 0..100 {
        let out = Command::new(env!("CARGO_BIN_EXE_opensesa"))
            .env("OPENSESA_LISTEN", &addr)
            .arg("healthcheck")
            .output()
            .unwrap();
        if out.status.success() {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "serve did not become healthy");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "serve exits cleanly on SIGTERM");
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log
        .lines()
        .find(|l| l.contains("OpenSESA is serving"))
        .unwrap_or_else(|| panic!("{log}"));
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        json["backend"],
        if b == Backend::Sqlite {
            "sqlite"
        } else {
            "postgresql"
        }
    );
    assert!(
        !log.contains(SECRET_KEY),
        "the secret key leaked into the log"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Both migration folders hold the same versions, and the binary embeds exactly them.
#[test]
fn migration_folders_have_identical_versions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations");
    let list = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = list("sqlite");
    let postgres = list("postgres");
    assert_eq!(
        sqlite, postgres,
        "the SQLite and PostgreSQL migration folders differ"
    );
    let embedded: Vec<String> = migrate::MIGRATIONS
        .iter()
        .map(Migration::file_name)
        .collect();
    assert_eq!(
        sqlite, embedded,
        "a migration file is not listed in MIGRATIONS (or the reverse)"
    );
    let versions: Vec<i64> = migrate::MIGRATIONS.iter().map(|m| m.version).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "versions must increase"
    );
}

both!(
    migrations_apply_once_and_refuse_a_newer_database,
    a_failing_migration_changes_nothing,
    the_binary_migrates_and_refuses_a_stale_schema,
    serve_answers_healthcheck_and_stops_on_sigterm,
);
