//! JUnit XML reports written by the real tools, for the tests of the verification import: a
//! pytest run and a cargo-nextest run over small projects these helpers write. Both tools must
//! be installed (CI installs pytest into its venv, see `.ci/run`); a missing one fails the test
//! that needs it, it does not skip it.

use std::path::{Path, PathBuf};
use std::process::Command;

use opensesa_interchange::junit::{self, Outcome};

/// The pytest file the report comes from, and what each test does.
const PYTEST_FILE: &str = r#"import pytest


@pytest.fixture
def bench():
    raise ConnectionError("test bench 10.0.0.7 not reachable")


def test_vc_001_boot_time_within_limit():
    boot_ms = 820
    assert boot_ms < 1000


def test_vc_002_brake_pressure_nominal():
    print("pressure 15.2 bar")
    assert 15.2 >= 15.0


def test_vc_999_not_in_the_plan():
    assert True


def test_vc_003_overheat_shutdown():
    shutdown_at_celsius = 95
    assert shutdown_at_celsius <= 90, "shutdown too late"


@pytest.mark.skip(reason="needs the HIL rig")
def test_vc_004_flash_update():
    pass


def test_vc_005_can_bus_load(bench):
    pass
"#;

/// Writes `test_verification.py` into `dir` and runs `pytest --junitxml` on it; returns the
/// report. Its cases (`classname` `test_verification`):
///
/// | test                                   | outcome                            |
/// |----------------------------------------|------------------------------------|
/// | `test_vc_001_boot_time_within_limit`   | passed                             |
/// | `test_vc_002_brake_pressure_nominal`   | passed (prints to stdout)          |
/// | `test_vc_999_not_in_the_plan`          | passed (a case id no plan has)     |
/// | `test_vc_003_overheat_shutdown`        | failed: `AssertionError: shutdown too late` |
/// | `test_vc_004_flash_update`             | skipped: `needs the HIL rig`       |
/// | `test_vc_005_can_bus_load`             | error: its fixture raises          |
pub fn pytest_junit(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("test_verification.py"), PYTEST_FILE).unwrap();
    let report = dir.join("pytest-junit.xml");
    let out = Command::new(pytest())
        .current_dir(dir)
        .args(["-q", "-p", "no:cacheprovider", "--rootdir"])
        .arg(dir)
        .arg(format!("--junitxml={}", report.display()))
        // The captured output goes into the report too, as CI setups often configure.
        .args(["-o", "junit_logging=all", "test_verification.py"])
        // Plugins installed next to pytest must not change the run.
        .env("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        .env_remove("PYTEST_ADDOPTS")
        .output()
        .unwrap();
    // Exit code 1: tests ran and some failed, which is the point.
    assert_eq!(
        out.status.code(),
        Some(1),
        "pytest: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.is_file(), "pytest wrote no report");
    report
}

/// pytest: `OPENSESA_PYTEST`, else `pytest` on the `PATH`, else the venv `.ci/run` installs it
/// into.
fn pytest() -> PathBuf {
    let from_env = std::env::var_os("OPENSESA_PYTEST").map(PathBuf::from);
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("pytest"))
                .collect()
        })
        .unwrap_or_default();
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")));
    let venv = cache.map(|cache| cache.join("opensesa/venv-reqif/bin/pytest"));
    let found = from_env
        .into_iter()
        .chain(on_path)
        .chain(venv)
        .find(|p| p.is_file());
    match found {
        Some(pytest) => pytest,
        None => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            panic!(
                "pytest is missing{}: install it with `python3 -m venv \
                 ~/.cache/opensesa/venv-reqif && ~/.cache/opensesa/venv-reqif/bin/pip install \
                 pytest` (as .ci/run does) or set OPENSESA_PYTEST to a pytest executable",
                if ci { " (CI=true)" } else { "" }
            )
        }
    }
}

const NEXTEST_LIB: &str = r#"#[cfg(test)]
mod tests {
    #[test]
    fn vc_010_startup_self_test() {
        println!("self test ok");
    }

    #[test]
    fn vc_011_watchdog_resets() {
        assert!(3 < 5);
    }

    #[test]
    fn vc_012_limp_home_speed() {
        let limp_home_kmh = 80;
        assert_eq!(limp_home_kmh, 60, "limp-home speed too high");
    }

    #[test]
    #[ignore = "needs the vehicle"]
    fn vc_013_road_test() {}

    /// Fails on the first attempt and passes on the retry.
    #[test]
    fn vc_014_sensor_warm_up() {
        let marker = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("warm-up.marker");
        if !marker.exists() {
            std::fs::write(&marker, "first attempt").unwrap();
            panic!("sensor still cold");
        }
    }
}
"#;

/// Writes a crate without dependencies into `dir` and runs `cargo nextest run` on it with a
/// JUnit report and one retry; returns the report. Its cases (`classname` `vc_fixture`, suite
/// `vc_fixture`), each `tests::NAME`:
///
/// | test                         | outcome                                               |
/// |------------------------------|-------------------------------------------------------|
/// | `vc_010_startup_self_test`   | passed (prints to stdout)                             |
/// | `vc_011_watchdog_resets`     | passed                                                |
/// | `vc_012_limp_home_speed`     | failed, twice: `<failure>` and one `<rerunFailure>`   |
/// | `vc_014_sensor_warm_up`      | passed on the retry: a `<flakyFailure>`               |
///
/// The ignored `vc_013_road_test` is not in the report: nextest leaves skipped tests out.
pub fn nextest_junit(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join(".config")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"vc_fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         # Not a member of any enclosing workspace.\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), NEXTEST_LIB).unwrap();
    std::fs::write(
        dir.join(".config/nextest.toml"),
        "[profile.verification]\nretries = 1\nfail-fast = false\n\n\
         [profile.verification.junit]\npath = \"junit.xml\"\nstore-success-output = true\n",
    )
    .unwrap();
    // The flaky test must fail its first attempt in every run.
    let _ = std::fs::remove_file(dir.join("warm-up.marker"));
    let target = dir.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .args(["nextest", "run", "--offline", "--no-fail-fast"])
        .args(["--profile", "verification", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env("RUST_BACKTRACE", "0")
        .env("CARGO_TERM_COLOR", "never");
    // When this suite itself runs under nextest, its settings must not leak into the inner run.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("NEXTEST_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().unwrap();
    let report = target.join("nextest/verification/junit.xml");
    // A failing test makes nextest exit with 100; anything else means it did not run the tests.
    assert_eq!(
        out.status.code(),
        Some(100),
        "cargo nextest: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.is_file(), "cargo nextest wrote no report");
    report
}

fn scratch(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "opensesa-junit-{tag}-{}",
        uuid::Uuid::now_v7().simple()
    ))
}

fn counts(report: &junit::TestReport) -> [usize; 4] {
    let count = |o| report.cases.iter().filter(|c| c.outcome == o).count();
    [
        count(Outcome::Passed),
        count(Outcome::Failed),
        count(Outcome::Error),
        count(Outcome::Skipped),
    ]
}

#[test]
fn pytest_report_is_read_with_every_outcome() {
    let dir = scratch("pytest");
    let path = pytest_junit(&dir);
    let report = junit::read(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(report.suites, 1);
    // [passed, failed, error, skipped]
    assert_eq!(counts(&report), [3, 1, 1, 1]);
    let by_name = |name: &str| {
        let full = format!("test_verification::{name}");
        report
            .cases
            .iter()
            .find(|c| c.full_name() == full)
            .unwrap_or_else(|| panic!("{full} is not in {report:#?}"))
    };
    assert_eq!(
        by_name("test_vc_001_boot_time_within_limit").suite,
        "pytest"
    );
    let printed = by_name("test_vc_002_brake_pressure_nominal");
    assert_eq!(printed.outcome, Outcome::Passed);
    assert!(
        printed.detail.contains("pressure 15.2 bar"),
        "{}",
        printed.detail
    );
    assert_eq!(
        by_name("test_vc_999_not_in_the_plan").outcome,
        Outcome::Passed
    );
    let failed = by_name("test_vc_003_overheat_shutdown");
    assert_eq!(failed.outcome, Outcome::Failed);
    assert!(
        failed
            .message
            .starts_with("AssertionError: shutdown too late"),
        "{}",
        failed.message
    );
    assert!(failed.detail.contains("assert shutdown_at_celsius <= 90"));
    let skipped = by_name("test_vc_004_flash_update");
    assert_eq!(skipped.outcome, Outcome::Skipped);
    assert_eq!(skipped.message, "needs the HIL rig");
    let error = by_name("test_vc_005_can_bus_load");
    assert_eq!(error.outcome, Outcome::Error);
    assert!(
        error.message.contains("test bench 10.0.0.7 not reachable"),
        "{}",
        error.message
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nextest_report_is_read_with_retries() {
    let dir = scratch("nextest");
    let path = nextest_junit(&dir);
    let report = junit::read(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(report.suites, 1);
    // [passed, failed, error, skipped]: the ignored test is not in the report at all.
    assert_eq!(counts(&report), [3, 1, 0, 0]);
    let mut names: Vec<_> = report.cases.iter().map(|c| c.full_name()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "vc_fixture::tests::vc_010_startup_self_test",
            "vc_fixture::tests::vc_011_watchdog_resets",
            "vc_fixture::tests::vc_012_limp_home_speed",
            "vc_fixture::tests::vc_014_sensor_warm_up",
        ]
    );
    let by_name = |name: &str| {
        let full = format!("vc_fixture::tests::{name}");
        report.cases.iter().find(|c| c.full_name() == full).unwrap()
    };
    let failed = by_name("vc_012_limp_home_speed");
    assert_eq!(failed.outcome, Outcome::Failed);
    assert_eq!(failed.suite, "vc_fixture");
    assert!(
        failed.message.contains("panicked at src/lib.rs"),
        "{}",
        failed.message
    );
    assert!(
        failed.detail.contains("limp-home speed too high"),
        "{}",
        failed.detail
    );
    assert!(
        failed.detail.contains("[rerunFailure]"),
        "{}",
        failed.detail
    );
    let flaky = by_name("vc_014_sensor_warm_up");
    assert_eq!(flaky.outcome, Outcome::Passed);
    assert!(
        flaky
            .message
            .starts_with("passed on a retry after 1 failed attempt"),
        "{}",
        flaky.message
    );
    assert!(
        flaky.detail.contains("sensor still cold"),
        "{}",
        flaky.detail
    );
    let printed = by_name("vc_010_startup_self_test");
    assert!(
        printed.detail.contains("self test ok"),
        "{}",
        printed.detail
    );
    assert!(printed.time_secs.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}
