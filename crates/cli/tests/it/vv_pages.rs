//! The V&V pages driven as a browser would: forms, multipart uploads of evidence and JUnit
//! reports, downloads (evidence as attachments with a safe type, reports), the report job,
//! and what viewers may not do.

use crate::location;
use crate::vv::{case_input, setup, Ctx};
use opensesa_testkit::{Backend, Browser};
use opensesa_worker::Registry;
use std::io::Write;

struct Session {
    br: Browser,
    token: String,
}

impl Session {
    async fn new(c: &Ctx, email: &str) -> Self {
        let br = c.t.logged_in(email).await;
        let token = br.csrf_token("/p/ALPHA/vv").await;
        Self { br, token }
    }

    async fn post(&self, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf_token", self.token.as_str())];
        all.extend_from_slice(fields);
        self.br.post_form(action, &all).await
    }

    async fn text(&self, path: &str) -> String {
        let res = self.br.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.unwrap()
    }

    /// A multipart/form-data post as a browser sends it: fields, then files.
    async fn upload(
        &self,
        action: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let boundary = "----opensesa-vv-test-9f8e7d";
        let mut body = Vec::new();
        for (name, value) in [("csrf_token", self.token.as_str())].iter().chain(fields) {
            write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").unwrap();
        }
        for (name, file_name, bytes) in files {
            write!(
                body,
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .unwrap();
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        write!(body, "--{boundary}--\r\n").unwrap();
        self.br
            .client
            .post(self.br.url(action))
            .header("Origin", &self.br.base)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// The `href`s of a page that contain `part`, in order.
fn hrefs(html: &str, part: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.contains(part))
        .map(str::to_owned)
        .collect()
}

const EDITOR: &str = "emil@example.org";
const LEAD: &str = "lena@example.org";
const VIEWER: &str = "vera@example.org";

async fn vv_pages_through_forms(b: Backend) {
    let c = setup(b).await;
    let emil = Session::new(&c, EDITOR).await;
    let lena = Session::new(&c, LEAD).await;
    let vera = Session::new(&c, VIEWER).await;

    // Plan, activity, status steps.
    let res = emil
        .post(
            "/p/ALPHA/vv/plans",
            &[
                ("title", "Qualification"),
                ("description", "All"),
                ("scope", "SYS"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/p/ALPHA/vv/plans/VP-001");
    let res = emil
        .post("/p/ALPHA/vv/plans", &[("title", ""), ("scope", "NOPE")])
        .await;
    assert_eq!(res.status(), 422);
    let res = emil
        .post(
            "/p/ALPHA/vv/plans/VP-001/activities",
            &[
                ("a_title", "Bench"),
                ("method", "test"),
                ("planned_start", "2026-07-01"),
                ("planned_end", "2026-06-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "end before start");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("is before the planned start"));
    let res = emil
        .post(
            "/p/ALPHA/vv/plans/VP-001/activities",
            &[
                ("a_title", "Bench"),
                ("method", "test"),
                ("planned_start", "2026-06-01"),
                ("planned_end", "2026-07-01"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = emil
        .post("/p/ALPHA/vv/plans/VP-001/status", &[("to", "approved")])
        .await;
    assert_eq!(res.status(), 403, "only a lead approves");
    assert_eq!(
        lena.post("/p/ALPHA/vv/plans/VP-001/status", &[("to", "approved")])
            .await
            .status(),
        303
    );

    // A case through the form, with steps typed one per line.
    let res = emil
        .post(
            "/p/ALPHA/vv/cases",
            &[
                ("title", "Boot time"),
                ("method", "test"),
                ("steps", "Power on => LED green\nWait => Boot banner"),
                ("expected", "Boots"),
                ("verifies", "SYS-001, SYS-002"),
                ("activity", "VP-001/1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/p/ALPHA/vv/cases/VC-001");
    let res = emil
        .post(
            "/p/ALPHA/vv/cases",
            &[("title", "x"), ("verifies", "SYS-404")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("no requirement SYS-404 in this project"));
    let page = emil.text("/p/ALPHA/vv/cases/VC-001").await;
    assert!(
        page.contains("SYS-002")
            && page.contains("Boot banner")
            && page.contains("Record a result")
    );
    let plan = emil.text("/p/ALPHA/vv/plans/VP-001").await;
    assert!(
        plan.contains("VC-001"),
        "the case is in the plan through its activity"
    );

    // A result with evidence: a log and an HTML file, which is never served as HTML.
    let log = b"boot in 1.2 s\n";
    let html = b"<html><script>alert(1)</script></html>";
    let res = emil
        .upload(
            "/p/ALPHA/vv/cases/VC-001/results",
            &[
                ("verdict", "fail"),
                ("step_1", "pass"),
                ("step_2", "fail"),
                ("step_2_note", "no banner"),
                ("configuration", "build 7"),
            ],
            &[
                ("evidence", "boot.log", log),
                ("evidence", "../scope%22x%22.html", html),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let result_url = location(&res);
    assert!(
        result_url.starts_with("/p/ALPHA/vv/results/"),
        "{result_url}"
    );
    let page = emil.text(&result_url).await;
    assert!(page.contains("no banner") && page.contains("build 7"));
    let links = hrefs(&page, "/evidence/");
    assert_eq!(links.len(), 2);
    let res = vera.br.get(&links[1]).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(
        h["content-type"], "application/octet-stream",
        "HTML is not served as a page"
    );
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment; filename=\""), "{cd}");
    assert!(!cd.contains('\r') && !cd.contains("\"\"\""), "{cd}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    use sha2::Digest;
    let sum: String = sha2::Sha256::digest(html)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        h["x-evidence-checksum"].to_str().unwrap(),
        format!("sha-256={sum}")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), html);
    let res = vera.br.get(&links[0]).await;
    assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");

    // Oversize evidence is refused naming the file and the limit; nothing recorded.
    let big = vec![b'x'; opensesa_testkit::EVIDENCE_LIMIT as usize + 1];
    let res = emil
        .upload(
            "/p/ALPHA/vv/cases/VC-001/results",
            &[("verdict", "pass")],
            &[("evidence", "big.log", &big)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("big.log: the file is") && body.contains("OPENSESA_EVIDENCE_MAX_BYTES"),
        "{body}"
    );
    // A viewer cannot record; a post without the CSRF token is refused.
    let res = vera
        .upload(
            "/p/ALPHA/vv/cases/VC-001/results",
            &[("verdict", "pass")],
            &[],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = emil
        .br
        .client
        .post(emil.br.url("/p/ALPHA/vv/cases/VC-001/results"))
        .header("Origin", &emil.br.base)
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // A defect raised from the failed result; closing it needs a later pass.
    let result_id = result_url.rsplit('/').next().unwrap().to_owned();
    let res = emil
        .post(
            "/p/ALPHA/vv/defects",
            &[
                ("title", "No boot banner"),
                ("severity", "critical"),
                ("result", &result_id),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/p/ALPHA/vv/defects/DEF-001");
    assert_eq!(
        emil.post("/p/ALPHA/vv/defects/DEF-001/status", &[("to", "resolved")])
            .await
            .status(),
        303
    );
    let res = emil
        .post("/p/ALPHA/vv/defects/DEF-001/status", &[("to", "closed")])
        .await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("VC-001: its latest result is fail"));
    // The correction of the result, with a reason.
    c.t.clock.advance(chrono::Duration::minutes(10));
    let res = emil
        .upload(
            &format!("{result_url}/supersede"),
            &[("verdict", "pass"), ("reason", "")],
            &[],
        )
        .await;
    assert_eq!(res.status(), 422, "a reason is required");
    let res = emil
        .upload(
            &format!("{result_url}/supersede"),
            &[
                ("verdict", "pass"),
                ("reason", "banner was on the second console"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(emil.text(&result_url).await.contains("superseded"));
    assert_eq!(
        emil.post("/p/ALPHA/vv/defects/DEF-001/status", &[("to", "closed")])
            .await
            .status(),
        303
    );

    // A set and a run of it.
    let other =
        c.t.app
            .create_case(&c.editor, "ALPHA", &case_input("Brake"), "SYS-002", "")
            .await
            .unwrap()
            .human_id;
    let res = emil
        .post(
            "/p/ALPHA/vv/sets",
            &[
                ("name", "Regression"),
                ("cases", &format!("VC-001 {other}")),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let set_url = location(&res);
    let res = emil
        .post(
            &format!("{set_url}/run"),
            &[
                (&format!("v_{other}"), "pass"),
                ("v_VC-001", ""),
                ("configuration", "build 8"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(emil.text(&set_url).await.contains("verdict-pass"));

    // Snapshots: freeze, view, compare.
    assert_eq!(
        emil.post(
            "/p/ALPHA/vv/snapshots",
            &[("scope", "plan:VP-001"), ("title", "First")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        emil.post(
            "/p/ALPHA/vv/snapshots",
            &[
                (
                    "scope",
                    &format!("set:{}", set_url.rsplit('/').next().unwrap())
                ),
                ("title", "Set")
            ]
        )
        .await
        .status(),
        303
    );
    let res = emil
        .post(
            "/p/ALPHA/vv/snapshots",
            &[("scope", "plan:VP-009"), ("title", "x")],
        )
        .await;
    assert_eq!(res.status(), 404);
    let snap = vera.text("/p/ALPHA/vv/snapshots/VS-001").await;
    assert!(snap.contains("VC-001"));
    let cmp = vera
        .text("/p/ALPHA/vv/snapshots/compare?from=VS-001&to=VS-002")
        .await;
    assert!(cmp.contains(&other), "the brake case is only in the set");

    // JUnit import: upload, dry-run report, apply.
    let xml = r#"<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="2"><testcase classname="t" name="test_vc_001_boot"/><testcase classname="t" name="test_unknown"><failure message="boom"/></testcase></testsuite></testsuites>"#;
    let res = emil
        .upload(
            "/p/ALPHA/vv/junit",
            &[("configuration", "CI 99")],
            &[("file", "report.xml", xml.as_bytes())],
        )
        .await;
    assert_eq!(res.status(), 303);
    let report_url = location(&res);
    let report = emil.text(&report_url).await;
    assert!(
        report.contains("test_unknown") && report.contains("VC-001"),
        "{report}"
    );
    assert_eq!(
        emil.post(&format!("{report_url}/apply"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(
        emil.post(&format!("{report_url}/apply"), &[])
            .await
            .status(),
        409,
        "applied once"
    );
    let res = emil
        .upload("/p/ALPHA/vv/junit", &[], &[("file", "bad.xml", b"<nope/>")])
        .await;
    assert_eq!(res.status(), 422);

    // Dashboard, lists, RVTM with verification status.
    let dash = vera.text("/p/ALPHA/vv").await;
    assert!(
        dash.contains("Open defects: 0") && dash.contains("VP-001"),
        "{dash}"
    );
    for path in [
        "/p/ALPHA/vv/plans",
        "/p/ALPHA/vv/cases?verdict=pass",
        "/p/ALPHA/vv/sets",
        "/p/ALPHA/vv/results",
        "/p/ALPHA/vv/defects",
        "/p/ALPHA/vv/snapshots",
        "/p/ALPHA/vv/cases/VC-001/diff",
    ] {
        vera.text(path).await;
    }
    assert_eq!(
        vera.br.get("/p/ALPHA/vv/junit").await.status(),
        403,
        "a viewer cannot import"
    );
    let rvtm = vera.text("/p/ALPHA/trace/rvtm?failing=1").await;
    assert!(!rvtm.contains(">SYS-001<"), "SYS-001 passes now");

    // Reports: HTML page and XLSX download; the background job for large plans.
    let res = vera
        .br
        .get("/p/ALPHA/vv/plans/VP-001/report?format=html")
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Summary by verdict") && html.contains("SYS-001"));
    let res = vera
        .br
        .get("/p/ALPHA/vv/plans/VP-001/report?format=xlsx")
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".xlsx"));
    assert_eq!(&res.bytes().await.unwrap()[..2], b"PK");
    let res = vera
        .post("/p/ALPHA/vv/plans/VP-001/report", &[("format", "html")])
        .await;
    assert_eq!(res.status(), 303);
    let job_url = location(&res);
    c.t.worker(Registry::standard()).drain().await.unwrap();
    let res = vera.br.get(&format!("{job_url}/download")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("vv-report.html"));
    assert!(res.text().await.unwrap().contains("Summary by verdict"));
}

both!(vv_pages_through_forms);
