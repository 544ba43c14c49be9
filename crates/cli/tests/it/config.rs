//! Configuration: aliases, clear errors naming the variable, redaction; and the binary
//! refusing to start on a bad value.

use opensesa::config::{Settings, Vars};
use std::process::Command;

const GOOD_KEY: &str = "k3y-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP";

fn load(pairs: &[(&str, &str)]) -> Result<Settings, opensesa::config::ConfigError> {
    let dir = std::env::temp_dir().join(format!("opensesa-cfg-{}", uuid::Uuid::now_v7().simple()));
    let mut all: Vec<(&str, String)> = vec![("OPENSESA_DATA_DIR", dir.display().to_string())];
    all.extend(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Settings::load(&Vars::from_pairs(all))
}

#[test]
fn a_bad_database_url_names_the_variable() {
    for bad in ["mysql://db/x", "not a url", "postgres://"] {
        let e = load(&[("DATABASE_URL", bad), ("OPENSESA_SECRET_KEY", GOOD_KEY)]).unwrap_err();
        assert_eq!(e.variable, "DATABASE_URL", "{bad}: {e}");
    }
    let e = load(&[
        ("DB_HOST", "db"),
        ("DB_PORT", "five"),
        ("OPENSESA_SECRET_KEY", GOOD_KEY),
    ])
    .unwrap_err();
    assert_eq!(e.variable, "DB_PORT");
}

#[test]
fn a_short_or_sample_secret_is_refused() {
    let e = load(&[("OPENSESA_SECRET_KEY", "too-short")]).unwrap_err();
    assert_eq!(e.variable, "OPENSESA_SECRET_KEY");
    assert!(e.reason.contains("at least 50"));
    let e = load(&[("DJANGO_SECRET_KEY", "django-insecure-abc")]).unwrap_err();
    assert_eq!(e.variable, "DJANGO_SECRET_KEY");
    let e = load(&[("OPENSESA_SECRET_KEY", opensesa::config::SAMPLE_SECRET_KEY)]).unwrap_err();
    assert!(e.reason.contains("sample"));
    let e = load(&[("OPENSESA_SECRET_KEY", &"ab".repeat(40))]).unwrap_err();
    assert!(e.reason.contains("distinct"));
    let e = load(&[("DATABASE_URL", "postgres://u@db:5432/x")]).unwrap_err();
    assert_eq!(
        e.variable, "OPENSESA_SECRET_KEY",
        "PostgreSQL mode needs an explicit key"
    );
}

#[test]
fn django_era_names_are_aliases() {
    let s = load(&[
        ("DJANGO_SECRET_KEY", GOOD_KEY),
        ("DJANGO_ALLOWED_HOSTS", "sesa.example.org, .corp.example"),
        ("DB_HOST", "db"),
        ("DB_NAME", "sesa"),
        ("DB_USER", "app"),
        ("DB_PASS", "p@ss:word"),
        ("CELERY_BROKER_URL", "redis://redis:6379/0"),
    ])
    .unwrap();
    assert_eq!(s.allowed_hosts, vec!["sesa.example.org", ".corp.example"]);
    assert_eq!(s.database_url, "postgres://app:p%40ss%3Aword@db:5432/sesa");
    assert_eq!(s.redis_url.as_deref(), Some("redis://redis:6379/0"));
    // The new names win over the old ones.
    let s = load(&[
        ("OPENSESA_ALLOWED_HOSTS", "new.example"),
        ("DJANGO_ALLOWED_HOSTS", "old.example"),
    ])
    .unwrap();
    assert_eq!(s.allowed_hosts, vec!["new.example"]);
}

#[test]
fn bad_values_name_their_variable() {
    for (var, value) in [
        ("OPENSESA_DEBUG", "maybe"),
        ("OPENSESA_HSTS_SECONDS", "a year"),
        ("OPENSESA_MFA_REQUIRED", "sometimes"),
        ("OPENSESA_LOG_FORMAT", "xml"),
        ("OPENSESA_PUBLIC_URL", "ftp://x"),
        ("OPENSESA_CSRF_TRUSTED_ORIGINS", "example.org"),
        ("REDIS_URL", "http://redis"),
        ("OPENSESA_LISTEN", "everywhere"),
        ("OPENSESA_SECURE_COOKIES", "yes please"),
    ] {
        let e = load(&[(var, value)]).unwrap_err();
        assert_eq!(e.variable, var, "{e}");
        assert!(e.to_string().starts_with(var));
    }
}

#[test]
fn the_evidence_size_limit_is_a_positive_number_of_bytes() {
    assert_eq!(load(&[]).unwrap().evidence_max_bytes, 26_214_400);
    let s = load(&[("OPENSESA_EVIDENCE_MAX_BYTES", "1048576")]).unwrap();
    assert_eq!(s.evidence_max_bytes, 1_048_576);
    for bad in ["0", "-1", "25MB", "1.5", "99999999999999999999"] {
        let e = load(&[("OPENSESA_EVIDENCE_MAX_BYTES", bad)]).unwrap_err();
        assert_eq!(e.variable, "OPENSESA_EVIDENCE_MAX_BYTES", "{bad}: {e}");
        assert!(e.reason.contains("positive whole number of bytes"), "{e}");
    }
}

#[test]
fn https_public_url_turns_on_secure_cookies_and_secrets_are_redacted() {
    let s = load(&[
        ("OPENSESA_PUBLIC_URL", "https://sesa.example.org"),
        ("OPENSESA_SECRET_KEY", GOOD_KEY),
        ("DATABASE_URL", "postgres://app:hunter2hunter2@db:5432/sesa"),
    ])
    .unwrap();
    assert!(s.secure_cookies);
    let debug = format!("{s:?}");
    assert!(
        !debug.contains(GOOD_KEY) && !debug.contains("hunter2hunter2"),
        "{debug}"
    );
    assert!(debug.contains("[redacted]"));
}

#[test]
fn the_embedded_mode_keeps_a_generated_key() {
    let dir = std::env::temp_dir().join(format!("opensesa-cfg-{}", uuid::Uuid::now_v7().simple()));
    let vars = Vars::from_pairs([("OPENSESA_DATA_DIR", dir.display().to_string())]);
    let first = Settings::load(&vars).unwrap();
    let second = Settings::load(&vars).unwrap();
    assert_eq!(first.secret_key, second.secret_key);
    assert!(first.secret_key.len() >= 50);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("secret_key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn opensesa(envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("opensesa-bin-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opensesa"));
    cmd.current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OPENSESA_DATA_DIR", dir.join("data"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    out
}

#[test]
fn the_binary_refuses_to_start_on_bad_configuration() {
    let out = opensesa(
        &[("DATABASE_URL", "mysql://db/x")],
        &["serve", "--bind", "127.0.0.1:0"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DATABASE_URL"), "{err}");
    let out = opensesa(
        &[("OPENSESA_SECRET_KEY", "short")],
        &["serve", "--bind", "127.0.0.1:0"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("OPENSESA_SECRET_KEY: is 5 characters"));
    let out = opensesa(&[], &["--version"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("opensesa "));
    let out = opensesa(
        &[],
        &[
            "healthcheck",
            "--url",
            "http://127.0.0.1:9/healthz",
            "--timeout-secs",
            "1",
        ],
    );
    assert!(!out.status.success());
}
