//! End to end in a real browser (Debian's headless Chromium driven through chromedriver):
//! log in, choose a project, read its dashboard.

use opensesa_testkit::{Backend, TestApp, PASSWORD};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> (Driver, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {path}: {e}. Install Debian's chromium and chromium-driver (.ci/run does)."));
    (Driver(child), port)
}

#[tokio::test]
async fn login_select_project_and_read_the_dashboard_in_chromium() {
    let t = TestApp::start(Backend::Sqlite).await;
    t.user("ada@example.org", false).await;
    t.project("SAT", &[("ada@example.org", "lead")]).await;
    let res = t
        .app
        .create_phase(
            &opensesa_app::Principal {
                user: t
                    .app
                    .store
                    .find_user_by_email(
                        &opensesa_domain::accounts::Email::parse("ada@example.org").unwrap(),
                    )
                    .await
                    .unwrap()
                    .unwrap(),
                session: None,
            },
            "SAT",
            &opensesa_domain::portfolio::PhaseInput {
                name: Some("Preliminary design".into()),
                starts_on: Some("2026-01-01".into()),
                ends_on: Some("2026-12-31".into()),
                ordinal: None,
            },
        )
        .await;
    res.unwrap();

    let (_driver, port) = chromedriver();
    let profile = std::env::temp_dir().join(format!(
        "opensesa-chromium-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
        }
    }))
    .unwrap();
    let mut client = None;
    for _ in 0..50 {
        match fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps.clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver did not accept a session");
    let result = async {
        use fantoccini::Locator;
        c.goto(&format!("{}/", t.base)).await?;
        assert!(c.current_url().await?.path().starts_with("/login"));
        c.find(Locator::Css("input[name=email]"))
            .await?
            .send_keys("ada@example.org")
            .await?;
        c.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        c.find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("h1")).await?;
        assert_eq!(c.current_url().await?.path(), "/projects");
        c.find(Locator::LinkText("SAT")).await?.click().await?;
        let heading = c
            .wait()
            .for_element(Locator::Css("main h1"))
            .await?
            .text()
            .await?;
        assert!(heading.contains("Project SAT"), "{heading}");
        let body = c.find(Locator::Css("main")).await?.text().await?;
        assert!(
            body.contains("Preliminary design")
                && body.contains("Your role")
                && body.contains("lead"),
            "{body}"
        );
        // The stylesheet loaded through its hashed URL (the CSP allows it).
        let color = c
            .execute(
                "return getComputedStyle(document.querySelector('header.top')).backgroundColor",
                vec![],
            )
            .await?;
        assert_eq!(color.as_str(), Some("rgb(24, 36, 58)"));
        // The session remembers the project: the home page opens it.
        c.goto(&format!("{}/", t.base)).await?;
        assert_eq!(c.current_url().await?.path(), "/p/SAT/");
        let png = c.screenshot().await?;
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
        std::fs::create_dir_all(&out).ok();
        std::fs::write(out.join("dashboard.png"), png).ok();
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    let _ = std::fs::remove_dir_all(profile);
    result.unwrap();
}

/// A headless Chromium session through chromedriver, with its own profile directory.
async fn chromium() -> (Driver, fantoccini::Client, std::path::PathBuf) {
    let (driver, port) = chromedriver();
    let profile = std::env::temp_dir().join(format!(
        "opensesa-chromium-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
        }
    }))
    .unwrap();
    for _ in 0..50 {
        if let Ok(c) = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps.clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        {
            return (driver, c, profile);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not accept a session");
}

fn screenshot(name: &str, png: &[u8]) {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    std::fs::create_dir_all(&out).ok();
    std::fs::write(out.join(name), png).ok();
}

/// A lead writes a requirement in the table view, edits it on its page and compares the two
/// revisions, all through the forms of a real browser.
#[tokio::test]
async fn write_edit_and_compare_a_requirement_in_chromium() {
    let t = TestApp::start(Backend::Sqlite).await;
    let lead = t.user("ada@example.org", false).await;
    t.project("SAT", &[("ada@example.org", "lead")]).await;
    let p = opensesa_app::Principal {
        user: lead,
        session: None,
    };
    t.app
        .create_module(
            &p,
            "SAT",
            &opensesa_domain::requirements::ModuleInput {
                prefix: Some("SYS".into()),
                name: Some("System requirements".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_driver, c, profile) = chromium().await;
    let result = async {
        use fantoccini::Locator;
        c.goto(&format!("{}/login", t.base)).await?;
        c.find(Locator::Css("input[name=email]"))
            .await?
            .send_keys("ada@example.org")
            .await?;
        c.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        c.find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("h1")).await?;
        c.goto(&format!("{}/p/SAT/requirements", t.base)).await?;
        c.find(Locator::LinkText("System requirements"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::Css("details.create-req"))
            .await?;
        // The form is folded away once the module has requirements; open it as a person would.
        let open = c
            .find(Locator::Css("details.create-req"))
            .await?
            .attr("open")
            .await?;
        if open.is_none() {
            c.find(Locator::Css("details.create-req summary"))
                .await?
                .click()
                .await?;
        }
        let form = c.find(Locator::Css("details.create-req form")).await?;
        form.find(Locator::Css("input[name=title]"))
            .await?
            .send_keys("Attitude hold")
            .await?;
        form.find(Locator::Css("textarea[name=statement]"))
            .await?
            .send_keys("The spacecraft shall hold attitude within 0.1 deg.")
            .await?;
        form.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css(".flash.ok")).await?;
        let table = c.find(Locator::Css("main")).await?.text().await?;
        assert!(
            table.contains("SYS-001") && table.contains("Attitude hold"),
            "{table}"
        );
        screenshot("requirements-table.png", &c.screenshot().await?);

        c.find(Locator::LinkText("SYS-001")).await?.click().await?;
        c.wait()
            .for_element(Locator::Css("details#edit summary"))
            .await?
            .click()
            .await?;
        let statement = c
            .wait()
            .for_element(Locator::Css("details#edit textarea[name=statement]"))
            .await?;
        statement.clear().await?;
        statement
            .send_keys("The spacecraft shall hold attitude within 0.05 deg.")
            .await?;
        c.find(Locator::Css("details#edit form button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css(".flash.ok")).await?;
        screenshot("requirement-page.png", &c.screenshot().await?);
        c.find(Locator::Css("#revisions button[type=submit]"))
            .await?
            .click()
            .await?;
        let ins = c
            .wait()
            .for_element(Locator::Css("ins"))
            .await?
            .text()
            .await?;
        let del = c.find(Locator::Css("del")).await?.text().await?;
        // Only the changed words are marked, not the whole statement.
        assert!(!ins.trim().is_empty() && !del.trim().is_empty());
        assert!(ins.len() < 10 && del.len() < 10, "{del:?} → {ins:?}");
        screenshot("requirement-diff.png", &c.screenshot().await?);
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    let _ = std::fs::remove_dir_all(profile);
    result.unwrap();
}

/// An editor records a failed result with an evidence file through the case page's form (a
/// real file input), raises a defect from it, and reads both on the V&V dashboard.
#[tokio::test]
async fn record_a_result_with_evidence_in_chromium() {
    let c0 = crate::vv::setup(Backend::Sqlite).await;
    let t = &c0.t;
    t.app
        .create_case(
            &c0.editor,
            "ALPHA",
            &crate::vv::case_input("Boot time"),
            "SYS-001",
            "",
        )
        .await
        .unwrap();
    let evidence = std::env::temp_dir().join(format!(
        "opensesa-evidence-{}.log",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(&evidence, "boot took 31 s\n").unwrap();
    let (_driver, c, profile) = chromium().await;
    let result = async {
        use fantoccini::Locator;
        c.goto(&format!("{}/login", t.base)).await?;
        c.find(Locator::Css("input[name=email]"))
            .await?
            .send_keys("emil@example.org")
            .await?;
        c.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        c.find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css("h1")).await?;
        c.goto(&format!("{}/p/ALPHA/vv/cases/VC-001", t.base))
            .await?;
        c.wait()
            .for_element(Locator::Css("details#record summary"))
            .await?
            .click()
            .await?;
        let form = c.find(Locator::Css("details#record form")).await?;
        form.find(Locator::Css("select[name=verdict] option[value=fail]"))
            .await?
            .click()
            .await?;
        form.find(Locator::Css("input[name=configuration]"))
            .await?
            .send_keys("build 7")
            .await?;
        form.find(Locator::Css("input[type=file]"))
            .await?
            .send_keys(&evidence.display().to_string())
            .await?;
        form.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css(".flash.ok")).await?;
        let page = c.find(Locator::Css("main")).await?.text().await?;
        assert!(
            page.contains("Fail") && page.contains(".log") && page.contains("build 7"),
            "{page}"
        );
        screenshot("vv-result.png", &c.screenshot().await?);
        let form = c
            .find(Locator::Css("form[action='/p/ALPHA/vv/defects']"))
            .await?;
        form.find(Locator::Css("input[name=title]"))
            .await?
            .send_keys("Boot too slow")
            .await?;
        form.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Css(".flash.ok")).await?;
        c.goto(&format!("{}/p/ALPHA/vv", t.base)).await?;
        let dash = c.find(Locator::Css("main")).await?.text().await?;
        assert!(
            dash.contains("Open defects: 1") && dash.contains("VC-001"),
            "{dash}"
        );
        screenshot("vv-dashboard.png", &c.screenshot().await?);
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    let _ = std::fs::remove_dir_all(profile);
    let _ = std::fs::remove_file(&evidence);
    result.unwrap();
}
