//! The verification and validation JSON API on both backends, over real HTTP: a plan with
//! activities, cases verifying requirements, results with evidence files (multipart) and a
//! correction, defects and the closing rule, sets and runs, a JUnit import, snapshots and
//! their comparison, the dashboard and reports. Viewers get 403 on every write, outsiders 404
//! on everything, and every V&V operation of the OpenAPI document is called.

use opensesa_testkit::{Backend, Browser, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Mutex;

const P: &str = "/api/v1/projects/ALPHA";
const VV: &str = "/api/v1/projects/{code}/vv";

/// One part of a multipart body: (name, file name, bytes).
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

struct Call {
    token: String,
    method: String,
    path: String,
    status: u16,
}

struct Ctx {
    t: TestApp,
    br: Browser,
    lead: String,
    editor: String,
    viewer: String,
    outsider: String,
    calls: Mutex<Vec<Call>>,
}

impl Ctx {
    fn record(&self, token: &str, method: &Method, path: &str, status: u16) {
        let path = path.split('?').next().unwrap_or_default().to_owned();
        self.calls.lock().unwrap().push(Call {
            token: token.to_owned(),
            method: method.as_str().to_owned(),
            path,
            status,
        });
    }

    /// A JSON call to any path.
    async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, v) = self.br.api(method.clone(), path, token, body).await;
        self.record(token, &method, path, status);
        (status, v)
    }

    /// A call under `/api/v1/projects/ALPHA`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.api(method, &format!("{P}{path}"), token, body).await
    }

    /// A call that must answer `want`; its body.
    async fn want(&self, want: u16, method: Method, path: &str, token: &str, body: Value) -> Value {
        let (status, v) = self.call(method.clone(), path, token, Some(body)).await;
        assert_eq!(status, want, "{method} {path}: {v}");
        v
    }

    /// A call that must succeed (2xx); its body.
    async fn ok(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method.clone(), path, token, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        self.ok(Method::GET, path, token, None).await
    }

    /// A GET whose response is looked at as it is (downloads).
    async fn raw(&self, path: &str, token: &str) -> reqwest::Response {
        let url = if path.starts_with("/api/") {
            path.to_owned()
        } else {
            format!("{P}{path}")
        };
        let res = self
            .br
            .client
            .get(self.br.url(&url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        self.record(token, &Method::GET, &url, res.status().as_u16());
        res
    }

    /// A multipart/form-data POST under `/api/v1/projects/ALPHA`.
    async fn multipart(&self, path: &str, token: &str, parts: &[Part<'_>]) -> (u16, Value) {
        self.multipart_at(&format!("{P}{path}"), token, parts).await
    }

    /// A multipart/form-data POST to any path.
    async fn multipart_at(&self, url: &str, token: &str, parts: &[Part<'_>]) -> (u16, Value) {
        let boundary = "----opensesa-api-test-b0undary";
        let mut body = Vec::new();
        for (name, file_name, bytes) in parts {
            match file_name {
                Some(f) => write!(
                    body,
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ),
                None => write!(
                    body,
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                ),
            }
            .unwrap();
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        write!(body, "--{boundary}--\r\n").unwrap();
        let res = self
            .br
            .client
            .post(self.br.url(url))
            .bearer_auth(token)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        self.record(token, &Method::POST, url, status);
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A result recorded as JSON by the editor; its id.
    async fn result(&self, case: &str, body: Value) -> String {
        let r = self
            .want(
                201,
                Method::POST,
                &format!("/vv/cases/{case}/results"),
                &self.editor,
                body,
            )
            .await;
        r["id"].as_str().unwrap().to_owned()
    }

    /// The V&V operations of the OpenAPI document: (method, path template).
    async fn operations(&self) -> BTreeSet<(String, String)> {
        let doc: Value = self
            .br
            .get("/api/v1/openapi.json")
            .await
            .json()
            .await
            .unwrap();
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            if !path.starts_with(VV) {
                continue;
            }
            for method in ["get", "post", "put", "patch", "delete"] {
                if item[method].is_object() {
                    ops.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        assert!(
            ops.len() >= 40,
            "the V&V operations are documented: {ops:?}"
        );
        ops
    }

    /// The operations that `token` called and that answered `status(code)`.
    fn called(
        &self,
        ops: &BTreeSet<(String, String)>,
        token: &str,
        status: impl Fn(u16) -> bool,
    ) -> BTreeSet<(String, String)> {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|c| c.token == token && status(c.status))
            .filter_map(|c| operation_of(ops, &c.method, &c.path))
            .collect()
    }
}

/// The documented operation a concrete call is routed to: the template with the same
/// segments where literal segments win over parameters (`/snapshots/compare` over
/// `/snapshots/{human_id}`).
fn operation_of(
    ops: &BTreeSet<(String, String)>,
    method: &str,
    path: &str,
) -> Option<(String, String)> {
    let segs: Vec<&str> = path.split('/').collect();
    ops.iter()
        .filter(|(m, _)| m == method)
        .filter_map(|(m, t)| {
            let tsegs: Vec<&str> = t.split('/').collect();
            if tsegs.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in tsegs.iter().zip(&segs) {
                if a.starts_with('{') {
                    if b.is_empty() {
                        return None;
                    }
                } else if a == b {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, (m.clone(), t.clone())))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, op)| op)
}

async fn setup(b: Backend) -> Ctx {
    let t = TestApp::start(b).await;
    for u in [
        "lena@example.org",
        "emil@example.org",
        "vera@example.org",
        "olga@example.org",
    ] {
        t.user(u, false).await;
    }
    t.project(
        "ALPHA",
        &[
            ("lena@example.org", "lead"),
            ("emil@example.org", "editor"),
            ("vera@example.org", "viewer"),
        ],
    )
    .await;
    t.project("BRAVO", &[("olga@example.org", "lead")]).await;
    let c = Ctx {
        br: t.browser(),
        lead: t.token("lena@example.org").await,
        editor: t.token("emil@example.org").await,
        viewer: t.token("vera@example.org").await,
        outsider: t.token("olga@example.org").await,
        calls: Mutex::new(Vec::new()),
        t,
    };
    c.want(
        201,
        Method::POST,
        "/modules",
        &c.lead,
        json!({"prefix": "SYS", "name": "System requirements"}),
    )
    .await;
    for title in [
        "boot into safe mode",
        "hold the brake",
        "keep the battery cool",
    ] {
        c.want(
            201,
            Method::POST,
            "/modules/SYS/requirements",
            &c.editor,
            json!({"title": title, "statement": format!("The system shall {title}."), "verification_methods": ["test"]}),
        )
        .await;
    }
    c
}

/// A plan VP-001 with two activities and three cases, VC-001 to VC-003 (editor).
async fn plan_and_cases(c: &Ctx) {
    c.want(
        201,
        Method::POST,
        "/vv/plans",
        &c.lead,
        json!({"title": "System verification", "scope": ["SYS"]}),
    )
    .await;
    for (title, method) in [
        ("Integration tests", "test"),
        ("Thermal analysis", "analysis"),
    ] {
        c.want(
            201,
            Method::POST,
            "/vv/plans/VP-001/activities",
            &c.editor,
            json!({"title": title, "method": method}),
        )
        .await;
    }
    for (title, req, activity, key) in [
        ("Boot", "SYS-001", "VP-001/1", "tests.test_power::test_boot"),
        ("Brake", "SYS-002", "VP-001/1", ""),
        ("Cooling", "SYS-003", "VP-001/2", ""),
    ] {
        c.want(
            201,
            Method::POST,
            "/vv/cases",
            &c.editor,
            json!({"title": title, "verifies": [req], "activity": activity, "automation_key": key,
                   "steps": [{"action": "Power on", "expected": "LED green"}]}),
        )
        .await;
    }
}

const JUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="3" time="0.3">
<testcase classname="tests.test_power" name="test_boot" time="0.1"/>
<testcase classname="tests.test_brake" name="test_vc_002_holds" time="0.1"><failure message="assert 3 == 4">holding torque low</failure></testcase>
<testcase classname="tests.test_misc" name="test_unmapped" time="0.1"/>
</testsuite></testsuites>"#;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn vv_api_walk_calls_every_operation(b: Backend) {
    let c = setup(b).await;
    let (lead, editor, viewer) = (&c.lead, &c.editor, &c.viewer);

    // A plan with its scope, activities, an optimistic edit and its workflow.
    let plan = c
        .want(
            201,
            Method::POST,
            "/vv/plans",
            lead,
            json!({"title": "System verification", "description": "Qualification of the EM", "scope": ["sys"]}),
        )
        .await;
    assert_eq!(plan["plan"]["human_id"], "VP-001");
    assert_eq!(plan["plan"]["status"], "draft");
    assert_eq!(plan["plan"]["scope"], json!(["SYS"]));
    assert_eq!(plan["transitions"], json!(["approved"]));
    let a1 = c
        .want(
            201,
            Method::POST,
            "/vv/plans/VP-001/activities",
            editor,
            json!({"title": "Integration tests", "phase": "integration", "method": "test",
                   "planned_start": "2026-06-01", "planned_end": "2026-06-30", "organisation": "AIT"}),
        )
        .await;
    assert_eq!(
        (a1["ref"].as_str(), a1["position"].as_i64()),
        (Some("VP-001/1"), Some(1))
    );
    assert_eq!(a1["planned_end"], "2026-06-30");
    let a2 = c
        .want(
            201,
            Method::POST,
            "/vv/plans/VP-001/activities",
            editor,
            json!({"title": "Thermal analysis", "method": "analysis"}),
        )
        .await;
    assert_eq!(a2["ref"], "VP-001/2");
    let a2 = c
        .ok(
            Method::PATCH,
            &format!("/vv/plans/VP-001/activities/{}", a2["id"].as_str().unwrap()),
            editor,
            Some(json!({"organisation": "Flight dynamics"})),
        )
        .await;
    assert_eq!(
        (a2["organisation"].as_str(), a2["method"].as_str()),
        (Some("Flight dynamics"), Some("analysis"))
    );
    let p = c
        .ok(
            Method::PATCH,
            "/vv/plans/VP-001",
            editor,
            Some(json!({"description": "Qualification of the EM and the PFM", "revision": 1})),
        )
        .await;
    assert_eq!(p["plan"]["revision"], 2);
    assert_eq!(p["activities"].as_array().unwrap().len(), 2);
    let e = c
        .want(
            409,
            Method::PATCH,
            "/vv/plans/VP-001",
            editor,
            json!({"title": "Stale", "revision": 1}),
        )
        .await;
    assert_eq!(e["error"]["code"], "conflict");
    let e = c
        .want(
            403,
            Method::POST,
            "/vv/plans/VP-001/status",
            editor,
            json!({"to": "approved"}),
        )
        .await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("lead"),
        "{e}"
    );
    let p = c
        .ok(
            Method::POST,
            "/vv/plans/VP-001/status",
            lead,
            Some(json!({"to": "approved"})),
        )
        .await;
    assert_eq!(p["plan"]["status"], "approved");
    assert!(p["plan"]["approved_by"].is_string());
    let p = c
        .ok(
            Method::POST,
            "/vv/plans/VP-001/status",
            editor,
            Some(json!({"to": "active"})),
        )
        .await;
    assert_eq!(p["plan"]["status"], "active");
    let plans = c.get("/vv/plans", viewer).await;
    assert_eq!(plans[0]["activities"], 2);

    // Cases verifying requirements, allocated to activities.
    let case = c
        .want(
            201,
            Method::POST,
            "/vv/cases",
            editor,
            json!({"title": "Boot into safe mode", "method": "test", "verifies": ["sys-001"], "activity": "VP-001/1",
                   "automation_key": "tests.test_power::test_boot", "preconditions": "Battery charged",
                   "steps": [{"action": "Power on", "expected": "LED green"}, {"action": "Send TC-1", "expected": "Ack"}],
                   "expected": "Safe mode within 5 s"}),
        )
        .await;
    assert_eq!(case["case"]["human_id"], "VC-001");
    assert_eq!(case["verifies"], json!(["SYS-001"]));
    assert_eq!(case["activity"]["ref"], "VP-001/1");
    assert_eq!(case["links"][0]["kind"], "verifies");
    assert_eq!(case["links"][0]["source"], "VC-001");
    assert_eq!(case["transitions"], json!(["ready"]));
    for (title, req, activity) in [
        ("Hold the brake", "SYS-002", "VP-001/1"),
        ("Cooling margin", "SYS-003", "VP-001/2"),
    ] {
        c.want(
            201,
            Method::POST,
            "/vv/cases",
            editor,
            json!({"title": title, "verifies": [req], "activity": activity, "steps": [{"action": "Run", "expected": "Nominal"}]}),
        )
        .await;
    }
    let e = c
        .want(
            422,
            Method::POST,
            "/vv/cases",
            editor,
            json!({"title": "Ghost", "verifies": ["SYS-999"]}),
        )
        .await;
    assert!(e["error"]["details"]["verifies"][0]
        .as_str()
        .unwrap()
        .contains("SYS-999"));
    let updated = c
        .ok(
            Method::PATCH,
            "/vv/cases/VC-001",
            editor,
            Some(json!({"revision": 1, "steps": [{"action": "Power on", "expected": "LED green"},
                        {"action": "Send TC-1", "expected": "Ack within 1 s"}], "verifies": ["SYS-001", "SYS-002"]})),
        )
        .await;
    assert_eq!(updated["case"]["revision"], 2);
    assert_eq!(updated["verifies"], json!(["SYS-001", "SYS-002"]));
    let diff = c.get("/vv/cases/VC-001/diff", viewer).await;
    assert_eq!(
        (diff["from"].as_i64(), diff["to"].as_i64()),
        (Some(1), Some(2))
    );
    assert!(
        diff["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "steps"),
        "{diff}"
    );
    c.ok(
        Method::PATCH,
        "/vv/cases/VC-001",
        editor,
        Some(json!({"verifies": ["SYS-001"]})),
    )
    .await;
    let ready = c
        .ok(
            Method::POST,
            "/vv/cases/VC-001/status",
            editor,
            Some(json!({"to": "ready"})),
        )
        .await;
    assert_eq!(ready["case"]["status"], "ready");
    assert_eq!(c.get("/vv/cases?plan=VP-001", viewer).await["total"], 3);
    assert_eq!(c.get("/vv/plans/VP-001", viewer).await["plan"]["cases"], 3);
    let brake = c.get("/vv/cases?q=brake", viewer).await;
    assert_eq!(
        (
            brake["total"].as_i64(),
            brake["items"][0]["human_id"].as_str()
        ),
        (Some(1), Some("VC-002"))
    );
    assert_eq!(c.get("/vv/cases?status=ready", viewer).await["total"], 1);
    assert_eq!(
        c.get("/vv/cases?verdict=not_run&limit=2", viewer).await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Results: JSON with step verdicts; multipart with evidence files, downloaded with their
    // checksums; a correction that supersedes a result with a reason.
    let failed = c
        .result(
            "VC-001",
            json!({"verdict": "fail", "configuration": "EM build 42", "notes": "LED red after TC-1",
                   "steps": [{"step": 1, "verdict": "pass"}, {"step": 2, "verdict": "fail", "note": "no ack"}]}),
        )
        .await;
    let r = c.get(&format!("/vv/results/{failed}"), viewer).await;
    assert_eq!(
        (
            r["verdict"].as_str(),
            r["case"].as_str(),
            r["case_revision"].as_i64()
        ),
        (Some("fail"), Some("VC-001"), Some(2))
    );
    assert_eq!(r["steps"][1]["note"], "no ack");
    assert_eq!(r["source"], "manual");
    assert_eq!(r["executor"], "emil@example.org");
    let log = b"12:00:01 boot ok\n12:00:02 brake hold 4 Nm\n".to_vec();
    let page = b"<html><script>alert(1)</script></html>".to_vec();
    let result_json = json!({"verdict": "pass", "configuration": "EM build 42", "executed_at": "2026-06-01T08:30:00Z"}).to_string();
    let (status, up) = c
        .multipart(
            "/vv/cases/VC-002/results/multipart",
            editor,
            &[
                ("result", None, result_json.as_bytes()),
                ("evidence", Some("brake-log.txt"), &log),
                ("evidence", Some("report.html"), &page),
            ],
        )
        .await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["verdict"], "pass");
    assert_eq!(up["executed_at"], "2026-06-01T08:30:00Z");
    let ev = up["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0]["sha256"], sha256_hex(&log));
    assert_eq!(ev[0]["file_name"], "brake-log.txt");
    assert_eq!(ev[0]["size"], log.len());
    let res = c.raw(ev[0]["url"].as_str().unwrap(), viewer).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "x-evidence-checksum"),
        format!("sha-256={}", sha256_hex(&log))
    );
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert!(
        header(&res, "content-disposition").starts_with("attachment; filename=\"brake-log.txt\"")
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), log);
    let res = c.raw(ev[1]["url"].as_str().unwrap(), viewer).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type"),
        "application/octet-stream",
        "markup is never served as itself"
    );
    assert_eq!(sha256_hex(&res.bytes().await.unwrap()), sha256_hex(&page));
    let res = c
        .raw(
            &format!(
                "/vv/results/{}/evidence/{}",
                up["id"].as_str().unwrap(),
                "0".repeat(64)
            ),
            viewer,
        )
        .await;
    assert_eq!(res.status(), 404);

    let first = c.result("VC-003", json!({"verdict": "pass"})).await;
    let e = c
        .want(
            422,
            Method::POST,
            "/vv/cases/VC-003/results",
            editor,
            json!({"verdict": "inconclusive", "supersedes": first}),
        )
        .await;
    assert!(e["error"]["details"]["reason"].is_array(), "{e}");
    let fixed = c
        .want(
            201,
            Method::POST,
            "/vv/cases/VC-003/results",
            editor,
            json!({"verdict": "inconclusive", "supersedes": first, "reason": "The margin was computed on the wrong model."}),
        )
        .await;
    assert_eq!(fixed["supersedes"], first.as_str());
    assert_eq!(
        fixed["supersede_reason"],
        "The margin was computed on the wrong model."
    );
    let old = c.get(&format!("/vv/results/{first}"), viewer).await;
    assert_eq!(old["superseded_by"], fixed["id"]);
    let e = c
        .want(
            409,
            Method::POST,
            "/vv/cases/VC-003/results",
            editor,
            json!({"verdict": "pass", "supersedes": first, "reason": "again"}),
        )
        .await;
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("superseded already"));
    let recent = c.get("/vv/results?limit=3", viewer).await;
    assert_eq!(recent.as_array().unwrap().len(), 3);
    assert!(
        recent
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == fixed["id"]),
        "{recent}"
    );
    let detail = c.get("/vv/cases/VC-003", viewer).await;
    assert_eq!(detail["results"].as_array().unwrap().len(), 2);

    // A defect from the failed result; the closing rule refuses to close it until a later
    // pass; a lead may close a defect against the rule with a reason.
    let d = c
        .want(
            201,
            Method::POST,
            "/vv/defects",
            editor,
            json!({"title": "No ack to TC-1 in safe mode", "severity": "critical", "result": failed, "requirements": ["SYS-001"]}),
        )
        .await;
    assert_eq!(d["defect"]["human_id"], "DEF-001");
    assert_eq!(
        (
            d["defect"]["cases"].clone(),
            d["defect"]["requirements"].clone()
        ),
        (json!(["VC-001"]), json!(["SYS-001"]))
    );
    assert_eq!(d["results"][0]["id"], failed.as_str());
    let d = c
        .ok(
            Method::PATCH,
            "/vv/defects/DEF-001",
            editor,
            Some(json!({"description": "TC-1 times out", "add_cases": ["VC-002"]})),
        )
        .await;
    assert_eq!(d["defect"]["revision"], 2);
    assert_eq!(d["defect"]["cases"], json!(["VC-001", "VC-002"]));
    for to in ["in_progress", "resolved"] {
        let d = c
            .ok(
                Method::POST,
                "/vv/defects/DEF-001/status",
                editor,
                Some(json!({"to": to})),
            )
            .await;
        assert_eq!(d["defect"]["status"], to);
    }
    let d = c.get("/vv/defects/DEF-001", viewer).await;
    assert_eq!(d["closing_blockers"].as_array().unwrap().len(), 2, "{d}");
    let e = c
        .want(
            409,
            Method::POST,
            "/vv/defects/DEF-001/status",
            editor,
            json!({"to": "closed"}),
        )
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be closed"),
        "{e}"
    );
    let e = c
        .want(
            403,
            Method::POST,
            "/vv/defects/DEF-001/status",
            editor,
            json!({"to": "closed", "reason": "trust me"}),
        )
        .await;
    assert_eq!(e["error"]["code"], "forbidden");
    c.t.clock.advance(chrono::Duration::hours(1));
    c.result(
        "VC-001",
        json!({"verdict": "pass", "configuration": "EM build 43"}),
    )
    .await;
    c.result(
        "VC-002",
        json!({"verdict": "pass", "configuration": "EM build 43"}),
    )
    .await;
    assert_eq!(
        c.get("/vv/defects/DEF-001", viewer).await["closing_blockers"],
        json!([])
    );
    let closed = c
        .ok(
            Method::POST,
            "/vv/defects/DEF-001/status",
            editor,
            Some(json!({"to": "closed"})),
        )
        .await;
    assert_eq!(closed["defect"]["status"], "closed");
    c.want(
        201,
        Method::POST,
        "/vv/defects",
        editor,
        json!({"title": "Harness label wrong", "severity": "minor"}),
    )
    .await;
    c.ok(
        Method::POST,
        "/vv/defects/DEF-002/status",
        editor,
        Some(json!({"to": "resolved"})),
    )
    .await;
    let over = c
        .ok(
            Method::POST,
            "/vv/defects/DEF-002/status",
            lead,
            Some(json!({"to": "closed", "reason": "Relabelled on site; no test applies."})),
        )
        .await;
    assert_eq!(over["defect"]["status"], "closed");
    let defects = c
        .get("/vv/defects?status=closed&severity=minor", viewer)
        .await;
    assert_eq!(defects.as_array().unwrap().len(), 1);
    assert_eq!(defects[0]["human_id"], "DEF-002");
    assert_eq!(
        c.get("/vv/cases/VC-001", viewer).await["defects"][0]["human_id"],
        "DEF-001"
    );

    // A set, its members and a run recorded in one go (a minute later, so that the run's
    // results are the cases' latest).
    c.t.clock.advance(chrono::Duration::minutes(1));
    let set = c
        .want(
            201,
            Method::POST,
            "/vv/sets",
            editor,
            json!({"name": "Regression", "cases": ["VC-001", "VC-002"]}),
        )
        .await;
    let set_id = set["set"]["id"].as_str().unwrap().to_owned();
    assert_eq!(set["set"]["cases"], 2);
    let set = c
        .ok(
            Method::PATCH,
            &format!("/vv/sets/{set_id}"),
            editor,
            Some(json!({"cases": ["VC-001", "VC-002", "VC-003"]})),
        )
        .await;
    assert_eq!(
        (set["set"]["cases"].as_i64(), set["set"]["name"].as_str()),
        (Some(3), Some("Regression"))
    );
    let e = c
        .want(
            422,
            Method::POST,
            &format!("/vv/sets/{set_id}/run"),
            editor,
            json!({"verdicts": [{"case": "VC-001", "verdict": "sideways"}]}),
        )
        .await;
    assert!(e["error"]["details"]["VC-001.verdict"].is_array(), "{e}");
    let run = c
        .want(
            201,
            Method::POST,
            &format!("/vv/sets/{set_id}/run"),
            editor,
            json!({"verdicts": [{"case": "VC-001", "verdict": "pass"}, {"case": "VC-002", "verdict": "blocked", "note": "rig down"}, {"case": "VC-003", "verdict": ""}],
                   "configuration": "rig 3"}),
        )
        .await;
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results
        .iter()
        .all(|r| r["run_id"] == run["run_id"] && r["set_id"] == set_id.as_str()));
    assert_eq!(results[1]["notes"], "rig down");
    assert_eq!(
        c.get(&format!("/vv/sets/{set_id}"), viewer).await["cases"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(c.get("/vv/sets", viewer).await[0]["cases"], 3);
    assert_eq!(
        c.get(&format!("/vv/cases?set={set_id}&verdict=blocked"), viewer)
            .await["total"],
        1
    );

    // A frozen snapshot; then a new revision and a new verdict; a second snapshot; compared.
    let s1 = c
        .want(
            201,
            Method::POST,
            "/vv/snapshots",
            editor,
            json!({"title": "Before CDR", "plan": "VP-001"}),
        )
        .await;
    assert_eq!(s1["human_id"], "VS-001");
    assert_eq!(s1["cases"].as_array().unwrap().len(), 3);
    assert_eq!(
        (
            s1["verdicts"]["pass"].as_i64(),
            s1["verdicts"]["blocked"].as_i64()
        ),
        (Some(1), Some(1))
    );
    c.ok(
        Method::PATCH,
        "/vv/cases/VC-003",
        editor,
        Some(json!({"expected": "Margin above 5 K"})),
    )
    .await;
    c.t.clock.advance(chrono::Duration::minutes(1));
    c.result(
        "VC-002",
        json!({"verdict": "pass", "configuration": "rig 4"}),
    )
    .await;
    c.want(
        201,
        Method::POST,
        "/vv/snapshots",
        editor,
        json!({"title": "After CDR", "plan": "VP-001"}),
    )
    .await;
    c.want(
        201,
        Method::POST,
        "/vv/snapshots",
        editor,
        json!({"title": "Regression set", "set": set_id}),
    )
    .await;
    let diff = c
        .get("/vv/snapshots/compare?from=VS-001&to=VS-002", viewer)
        .await;
    assert_eq!(diff["changed"][0]["human_id"], "VC-003");
    assert_eq!(diff["verdict_changed"][0]["human_id"], "VC-002");
    assert_eq!(
        (
            diff["verdict_changed"][0]["from_verdict"].as_str(),
            diff["verdict_changed"][0]["to_verdict"].as_str()
        ),
        (Some("blocked"), Some("pass"))
    );
    assert_eq!(diff["unchanged"], 1);
    let s1_again = c.get("/vv/snapshots/VS-001", viewer).await;
    assert_eq!(
        s1_again["content_hash"], s1["content_hash"],
        "a snapshot never changes"
    );
    let snaps = c.get("/vv/snapshots", viewer).await;
    assert_eq!(snaps.as_array().unwrap().len(), 3);
    assert!(snaps[0].get("cases").is_none());
    assert_eq!(snaps[0]["scope_kind"], "set", "newest first");

    // A JUnit report: a dry run that records nothing, then applied once.
    c.t.clock.advance(chrono::Duration::minutes(1));
    let before = c
        .get("/vv/results?limit=500", viewer)
        .await
        .as_array()
        .unwrap()
        .len();
    let (status, imp) = c
        .multipart(
            "/vv/junit",
            editor,
            &[
                ("file", Some("report.xml"), JUNIT.as_bytes()),
                ("configuration", None, b"CI build 77"),
                ("executor", None, b"GitLab CI"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{imp}");
    assert_eq!(imp["status"], "pending");
    assert_eq!(
        (
            imp["report"]["tests"].as_i64(),
            imp["report"]["mapped"].as_array().unwrap().len()
        ),
        (Some(3), 2)
    );
    assert_eq!(
        imp["report"]["unknown"][0]["test"],
        "tests.test_misc::test_unmapped"
    );
    assert_eq!(
        (
            imp["report"]["counts"]["pass"].as_i64(),
            imp["report"]["counts"]["fail"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let id = imp["id"].as_str().unwrap();
    assert_eq!(
        c.get(&format!("/vv/junit/{id}"), viewer).await["report"]["executor"],
        "GitLab CI"
    );
    assert_eq!(
        c.get("/vv/results?limit=500", viewer)
            .await
            .as_array()
            .unwrap()
            .len(),
        before
    );
    let applied = c
        .ok(Method::POST, &format!("/vv/junit/{id}/apply"), editor, None)
        .await;
    assert_eq!(
        (applied["outcome"].as_str(), applied["recorded"].as_i64()),
        (Some("recorded"), Some(2))
    );
    let e = c
        .want(
            409,
            Method::POST,
            &format!("/vv/junit/{id}/apply"),
            editor,
            json!(null),
        )
        .await;
    assert_eq!(e["error"]["code"], "conflict");
    let latest = c.get("/vv/results?limit=2", viewer).await;
    assert!(latest
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source"] == "junit" && r["evidence"][0]["file_name"] == "report.xml"));

    // The dashboard and the reports.
    let dash = c.get("/vv/dashboard", viewer).await;
    assert_eq!(dash["cases"], 3);
    let v = &dash["verdicts"];
    let sum: i64 = ["pass", "fail", "blocked", "inconclusive", "not_run"]
        .iter()
        .map(|k| v[k].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 3);
    assert_eq!(
        (v["fail"].as_i64(), v["inconclusive"].as_i64()),
        (Some(1), Some(1)),
        "{dash}"
    );
    assert_eq!(dash["trend"].as_array().unwrap().len(), 30);
    assert_eq!(
        dash["open_defects"],
        json!({"critical": 0, "major": 0, "minor": 0})
    );
    assert_eq!(dash["requirements_without_case"], 0);
    assert_eq!(dash["plans"][0]["human_id"], "VP-001");
    let res = c.raw("/vv/plans/VP-001/report?format=xlsx", viewer).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        header(&res, "content-disposition")
            .starts_with("attachment; filename=\"ALPHA-VP-001-vv-report.xlsx\""),
        "{:?}",
        res.headers()
    );
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert!(
        res.bytes().await.unwrap().starts_with(b"PK"),
        "an XLSX is a zip"
    );
    let res = c.raw("/vv/plans/VP-001/report", viewer).await;
    assert!(header(&res, "content-type").starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(html.contains("VC-001") && html.contains("SYS-003") && html.contains("DEF-001"));
    let res = c
        .raw(&format!("/vv/sets/{set_id}/report?format=xlsx"), viewer)
        .await;
    assert_eq!(res.status(), 200);
    let res = c.raw("/vv/plans/VP-001/report?format=pdf", viewer).await;
    assert_eq!(res.status(), 422);
    // The body of a report job is optional.
    for (path, body) in [
        (
            "/vv/plans/VP-001/report".to_owned(),
            Some(json!({"format": "xlsx"})),
        ),
        (format!("/vv/sets/{set_id}/report"), None),
    ] {
        let (status, job) = c.call(Method::POST, &path, viewer, body).await;
        assert_eq!(status, 202, "{job}");
        let (status, j) =
            c.br.api(Method::GET, job["url"].as_str().unwrap(), viewer, None)
                .await;
        assert_eq!(
            (status, j["kind"].as_str()),
            (200, Some("vv.report")),
            "{j}"
        );
    }

    // A closed plan takes no more activities.
    c.ok(
        Method::POST,
        "/vv/plans/VP-001/status",
        lead,
        Some(json!({"to": "closed"})),
    )
    .await;
    c.want(
        409,
        Method::POST,
        "/vv/plans/VP-001/activities",
        editor,
        json!({"title": "Late"}),
    )
    .await;

    // Every V&V operation of the OpenAPI document was called, and answered 2xx.
    let ops = c.operations().await;
    let mut done = BTreeSet::new();
    for token in [lead, editor, viewer] {
        done.extend(c.called(&ops, token, |s| (200..300).contains(&s)));
    }
    let missing: Vec<_> = ops.difference(&done).collect();
    assert!(
        missing.is_empty(),
        "V&V operations never called successfully: {missing:?}"
    );
}

async fn vv_api_refusals(b: Backend) {
    let c = setup(b).await;
    plan_and_cases(&c).await;
    let result = c.result("VC-001", json!({"verdict": "fail"})).await;
    let set = c
        .want(
            201,
            Method::POST,
            "/vv/sets",
            &c.editor,
            json!({"name": "Smoke", "cases": ["VC-001"]}),
        )
        .await["set"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.want(
        201,
        Method::POST,
        "/vv/defects",
        &c.editor,
        json!({"title": "Fails", "result": result}),
    )
    .await;
    c.want(
        201,
        Method::POST,
        "/vv/snapshots",
        &c.editor,
        json!({"title": "S", "plan": "VP-001"}),
    )
    .await;
    let (status, imp) = c
        .multipart(
            "/vv/junit",
            &c.editor,
            &[("file", Some("r.xml"), JUNIT.as_bytes())],
        )
        .await;
    assert_eq!(status, 201, "{imp}");
    let import = imp["id"].as_str().unwrap().to_owned();
    let activity = c.get("/vv/plans/VP-001", &c.viewer).await["activities"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let result_json = json!({"verdict": "pass"}).to_string();
    let multipart: Vec<(&str, Vec<Part>)> = vec![
        (
            "/vv/cases/VC-001/results/multipart",
            vec![
                ("result", None, result_json.as_bytes()),
                ("evidence", Some("log.txt"), b"boot ok"),
            ],
        ),
        ("/vv/junit", vec![("file", Some("r.xml"), JUNIT.as_bytes())]),
    ];
    let writes: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/vv/plans".into(), json!({"title": "Mine"})),
        (
            Method::PATCH,
            "/vv/plans/VP-001".into(),
            json!({"title": "Renamed"}),
        ),
        (
            Method::POST,
            "/vv/plans/VP-001/status".into(),
            json!({"to": "approved"}),
        ),
        (
            Method::POST,
            "/vv/plans/VP-001/activities".into(),
            json!({"title": "Sneaky"}),
        ),
        (
            Method::PATCH,
            format!("/vv/plans/VP-001/activities/{activity}"),
            json!({"title": "Sneaky"}),
        ),
        (Method::POST, "/vv/cases".into(), json!({"title": "Sneaky"})),
        (
            Method::PATCH,
            "/vv/cases/VC-001".into(),
            json!({"title": "Sneaky"}),
        ),
        (
            Method::POST,
            "/vv/cases/VC-001/status".into(),
            json!({"to": "ready"}),
        ),
        (
            Method::POST,
            "/vv/cases/VC-001/results".into(),
            json!({"verdict": "pass"}),
        ),
        (Method::POST, "/vv/sets".into(), json!({"name": "Mine"})),
        (
            Method::PATCH,
            format!("/vv/sets/{set}"),
            json!({"name": "Renamed"}),
        ),
        (
            Method::POST,
            format!("/vv/sets/{set}/run"),
            json!({"verdicts": [{"case": "VC-001", "verdict": "pass"}]}),
        ),
        (Method::POST, "/vv/defects".into(), json!({"title": "Mine"})),
        (
            Method::PATCH,
            "/vv/defects/DEF-001".into(),
            json!({"title": "Renamed"}),
        ),
        (
            Method::POST,
            "/vv/defects/DEF-001/status".into(),
            json!({"to": "in_progress"}),
        ),
        (
            Method::POST,
            "/vv/snapshots".into(),
            json!({"title": "Mine", "plan": "VP-001"}),
        ),
        (
            Method::POST,
            format!("/vv/junit/{import}/apply"),
            json!(null),
        ),
    ];

    // A viewer reads everything and writes nothing: 403 on every write of the document
    // (asking for a report job is reading).
    for (method, path, body) in &writes {
        let (status, e) = c
            .call(method.clone(), path, &c.viewer, Some(body.clone()))
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "viewer {method} {path}: {e}"
        );
    }
    for (path, parts) in &multipart {
        let (status, e) = c.multipart(path, &c.viewer, parts).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "viewer POST {path}: {e}"
        );
    }
    let ops = c.operations().await;
    let refused = c.called(&ops, &c.viewer, |s| s == 403);
    let reading = |(m, p): &(String, String)| m == "GET" || p.ends_with("/report");
    let unrefused: Vec<_> = ops
        .iter()
        .filter(|op| !reading(op) && !refused.contains(*op))
        .collect();
    assert!(
        unrefused.is_empty(),
        "writes not tried as a viewer: {unrefused:?}"
    );
    assert_eq!(
        c.get("/vv/plans", &c.viewer)
            .await
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing was written"
    );
    assert_eq!(c.get("/vv/cases", &c.viewer).await["total"], 3);
    assert_eq!(
        c.get("/vv/results", &c.viewer)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        c.get("/vv/defects/DEF-001", &c.viewer).await["defect"]["status"],
        "open"
    );
    assert_eq!(
        c.get(&format!("/vv/junit/{import}"), &c.viewer).await["status"],
        "pending"
    );

    // A non-member sees nothing of the project: 404 on every operation, not 403.
    let reads = [
        "/vv/plans".to_owned(),
        "/vv/plans/VP-001".into(),
        "/vv/plans/VP-001/report".into(),
        "/vv/cases".into(),
        "/vv/cases/VC-001".into(),
        "/vv/cases/VC-001/diff".into(),
        "/vv/results".into(),
        format!("/vv/results/{result}"),
        format!("/vv/results/{result}/evidence/{}", "a".repeat(64)),
        "/vv/sets".into(),
        format!("/vv/sets/{set}"),
        format!("/vv/sets/{set}/report"),
        "/vv/defects".into(),
        "/vv/defects/DEF-001".into(),
        "/vv/snapshots".into(),
        "/vv/snapshots/VS-001".into(),
        "/vv/snapshots/compare?from=VS-001&to=VS-001".into(),
        format!("/vv/junit/{import}"),
        "/vv/dashboard".into(),
    ];
    let jobs = [
        (
            Method::POST,
            "/vv/plans/VP-001/report".to_owned(),
            json!({}),
        ),
        (Method::POST, format!("/vv/sets/{set}/report"), json!({})),
    ];
    for (method, path, body) in writes
        .iter()
        .chain(&jobs)
        .cloned()
        .chain(reads.iter().map(|p| (Method::GET, p.clone(), Value::Null)))
    {
        let body = (method != Method::GET).then_some(body);
        let (status, e) = c.call(method.clone(), &path, &c.outsider, body).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "outsider {method} {path}: {e}"
        );
    }
    for (path, parts) in &multipart {
        let (status, _) = c.multipart(path, &c.outsider, parts).await;
        assert_eq!(status, 404, "outsider POST {path}");
    }
    let hidden = c.called(&ops, &c.outsider, |s| s == 404);
    let shown: Vec<_> = ops.difference(&hidden).collect();
    assert!(
        shown.is_empty(),
        "operations not tried as an outsider: {shown:?}"
    );

    // Another project's artefacts do not exist here, even for ALPHA's lead.
    let bravo = |path: &str| format!("/api/v1/projects/BRAVO{path}");
    let olga = &c.outsider;
    let mut ids = Vec::new();
    for (path, body) in [
        ("/vv/plans", json!({"title": "B plan"})),
        ("/vv/plans", json!({"title": "B plan 2"})),
        ("/vv/cases", json!({"title": "B1"})),
        ("/vv/cases", json!({"title": "B2"})),
        ("/vv/cases", json!({"title": "B3"})),
        ("/vv/cases", json!({"title": "B4"})),
        ("/vv/sets", json!({"name": "B set", "cases": ["VC-004"]})),
        ("/vv/cases/VC-004/results", json!({"verdict": "fail"})),
        ("/vv/defects", json!({"title": "B1"})),
        ("/vv/defects", json!({"title": "B2"})),
        ("/vv/snapshots", json!({"title": "B1", "plan": "VP-002"})),
        ("/vv/snapshots", json!({"title": "B2", "plan": "VP-002"})),
        ("/vv/plans/VP-002/activities", json!({"title": "B act"})),
    ] {
        let (status, v) = c.api(Method::POST, &bravo(path), olga, Some(body)).await;
        assert_eq!(status, 201, "BRAVO {path}: {v}");
        ids.push(v);
    }
    let b_set = ids[6]["set"]["id"].as_str().unwrap().to_owned();
    let b_result = ids[7]["id"].as_str().unwrap().to_owned();
    let b_activity = ids[12]["id"].as_str().unwrap().to_owned();
    let (status, b_imp) = c
        .multipart_at(
            &bravo("/vv/junit"),
            olga,
            &[("file", Some("r.xml"), JUNIT.as_bytes())],
        )
        .await;
    assert_eq!(status, 201, "{b_imp}");
    let b_import = b_imp["id"].as_str().unwrap();
    let lead = &c.lead;
    for (method, path, body) in [
        (Method::GET, "/vv/plans/VP-002".to_owned(), Value::Null),
        (
            Method::PATCH,
            "/vv/plans/VP-002".into(),
            json!({"title": "x"}),
        ),
        (
            Method::PATCH,
            format!("/vv/plans/VP-001/activities/{b_activity}"),
            json!({"title": "x"}),
        ),
        (Method::GET, "/vv/cases/VC-004".into(), Value::Null),
        (
            Method::POST,
            "/vv/cases/VC-004/results".into(),
            json!({"verdict": "pass"}),
        ),
        (Method::GET, format!("/vv/results/{b_result}"), Value::Null),
        (Method::GET, format!("/vv/sets/{b_set}"), Value::Null),
        (
            Method::PATCH,
            format!("/vv/sets/{b_set}"),
            json!({"name": "x"}),
        ),
        (
            Method::POST,
            format!("/vv/sets/{b_set}/run"),
            json!({"verdicts": [{"case": "VC-004", "verdict": "pass"}]}),
        ),
        (Method::GET, format!("/vv/sets/{b_set}/report"), Value::Null),
        (Method::GET, "/vv/defects/DEF-002".into(), Value::Null),
        (
            Method::POST,
            "/vv/defects/DEF-002/status".into(),
            json!({"to": "resolved"}),
        ),
        (Method::GET, "/vv/snapshots/VS-002".into(), Value::Null),
        (Method::GET, format!("/vv/junit/{b_import}"), Value::Null),
        (
            Method::POST,
            format!("/vv/junit/{b_import}/apply"),
            Value::Null,
        ),
    ] {
        let body = (method != Method::GET).then_some(body);
        let (status, e) = c.call(method.clone(), &path, lead, body).await;
        assert_eq!(status, 404, "ALPHA lead {method} {path}: {e}");
    }
    // In a body, another project's artefact is refused naming the field.
    for (path, body, field) in [
        (
            "/vv/defects",
            json!({"title": "x", "result": b_result}),
            "result",
        ),
        ("/vv/snapshots", json!({"title": "x", "set": b_set}), "set"),
        (
            "/vv/snapshots",
            json!({"title": "x", "plan": "VP-002"}),
            "plan",
        ),
        (
            "/vv/cases/VC-001/results",
            json!({"verdict": "pass", "supersedes": b_result, "reason": "x"}),
            "supersedes",
        ),
    ] {
        let e = c.want(422, Method::POST, path, lead, body).await;
        assert!(e["error"]["details"][field].is_array(), "{path}: {e}");
    }

    // Bad input is refused naming the field.
    let e = c
        .want(
            422,
            Method::POST,
            "/vv/cases/VC-001/results",
            &c.editor,
            json!({"verdict": "great"}),
        )
        .await;
    assert_eq!(e["error"]["code"], "validation_error");
    let why = e["error"]["details"]["verdict"][0].as_str().unwrap();
    assert!(
        why.contains("\"great\"") && why.contains("pass, fail, blocked, inconclusive, not_run"),
        "{why}"
    );
    let e = c
        .want(422, Method::POST, "/vv/cases/VC-001/results", &c.editor, json!({"verdict": "pass", "steps": [{"step": 1, "verdict": "meh"}, {"step": 9, "verdict": "pass"}], "executed_at": "yesterday"}))
        .await;
    let details = &e["error"]["details"];
    assert!(
        details["steps[1]"].is_array()
            && details["steps[9]"].is_array()
            && details["executed_at"].is_array(),
        "{e}"
    );
    let bad_json = json!({"verdict": "great"}).to_string();
    let (status, e) = c
        .multipart(
            "/vv/cases/VC-001/results/multipart",
            &c.editor,
            &[
                ("result", None, bad_json.as_bytes()),
                ("evidence", Some("a.txt"), b"x"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["verdict"].is_array(), "{e}");
    for (parts, field) in [
        (vec![("evidence", Some("a.txt"), &b"x"[..])], "result"),
        (vec![("result", None, &b"{not json"[..])], "result"),
        (
            vec![
                ("result", None, result_json.as_bytes()),
                ("attachment", Some("a.txt"), b"x"),
            ],
            "attachment",
        ),
    ] {
        let (status, e) = c
            .multipart("/vv/cases/VC-001/results/multipart", &c.editor, &parts)
            .await;
        assert_eq!(status, 422, "{e}");
        assert!(e["error"]["details"][field].is_array(), "{field}: {e}");
    }
    // Evidence over the store's limit, or empty, is refused naming the file; nothing is kept.
    // The upload is larger than axum's default body limit (2 MB): the upload routes take more.
    let limit = usize::try_from(opensesa_testkit::EVIDENCE_LIMIT).unwrap();
    let big = vec![b'x'; (limit + 1).max(3 * 1024 * 1024)];
    for (name, bytes, why) in [
        ("huge.bin", &big[..], "OPENSESA_EVIDENCE_MAX_BYTES"),
        ("empty.txt", &b""[..], "empty"),
    ] {
        let (status, e) = c
            .multipart(
                "/vv/cases/VC-001/results/multipart",
                &c.editor,
                &[
                    ("result", None, result_json.as_bytes()),
                    ("evidence", Some(name), bytes),
                ],
            )
            .await;
        assert_eq!(status, 422, "{e}");
        let reason = e["error"]["details"]["evidence"][0].as_str().unwrap();
        assert!(reason.contains(name) && reason.contains(why), "{reason}");
    }
    assert_eq!(
        c.get("/vv/cases/VC-001", &c.viewer).await["results"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "no result was recorded"
    );
    let (status, e) = c
        .multipart("/vv/junit", &c.editor, &[("configuration", None, b"x")])
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["file"].is_array(), "{e}");
    let (status, e) = c
        .multipart(
            "/vv/junit",
            &c.editor,
            &[("file", Some("r.xml"), b"<testsuite><testcase")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        e["error"]["details"]["file"][0]
            .as_str()
            .unwrap()
            .contains("r.xml"),
        "{e}"
    );
    let (status, e) = c
        .call(
            Method::POST,
            "/vv/cases/VC-001/results",
            &c.editor,
            Some(json!({"verdict": 5})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_body"))
    );
    let (status, e) = c
        .call(
            Method::POST,
            "/vv/cases/VC-001/results/multipart",
            &c.editor,
            Some(json!({"verdict": "pass"})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (400, Some("invalid_body")),
        "{e}"
    );
    for (method, path, body, field) in [
        (
            Method::GET,
            "/vv/cases?verdict=great",
            Value::Null,
            "verdict",
        ),
        (
            Method::GET,
            "/vv/cases?status=done&limit=0",
            Value::Null,
            "status",
        ),
        (Method::GET, "/vv/cases?limit=0", Value::Null, "limit"),
        (Method::GET, "/vv/cases?plan=VP-404", Value::Null, "plan"),
        (Method::GET, "/vv/cases?set=nope", Value::Null, "set"),
        (
            Method::GET,
            "/vv/defects?severity=huge",
            Value::Null,
            "severity",
        ),
        (Method::GET, "/vv/results?limit=501", Value::Null, "limit"),
        (
            Method::GET,
            "/vv/snapshots/compare?from=VS-001",
            Value::Null,
            "to",
        ),
        (
            Method::GET,
            "/vv/snapshots/compare?from=VS-001&to=VS-404",
            Value::Null,
            "to",
        ),
        (
            Method::GET,
            "/vv/cases/VC-001/diff?from=1&to=7",
            Value::Null,
            "to",
        ),
        (
            Method::GET,
            "/vv/plans/VP-001/report?format=pdf",
            Value::Null,
            "format",
        ),
        (
            Method::POST,
            "/vv/plans",
            json!({"description": "no title"}),
            "title",
        ),
        (
            Method::POST,
            "/vv/plans",
            json!({"title": "x", "scope": ["NOPE"]}),
            "scope",
        ),
        (
            Method::POST,
            "/vv/plans",
            json!({"title": "x", "revision": 3}),
            "revision",
        ),
        (
            Method::POST,
            "/vv/plans/VP-001/status",
            json!({"to": "finished"}),
            "to",
        ),
        (
            Method::POST,
            "/vv/plans/VP-001/activities",
            json!({"title": "x", "method": "guess", "planned_start": "2026-07-02", "planned_end": "2026-07-01"}),
            "method",
        ),
        (
            Method::POST,
            "/vv/cases",
            json!({"title": "x", "activity": "VP-009/1"}),
            "activity",
        ),
        (
            Method::POST,
            "/vv/cases",
            json!({"title": "x", "steps": [{"action": " ", "expected": "y"}]}),
            "steps",
        ),
        (
            Method::POST,
            "/vv/sets",
            json!({"name": "x", "cases": ["VC-404"]}),
            "cases",
        ),
        (
            Method::POST,
            "/vv/defects",
            json!({"title": "x", "severity": "huge"}),
            "severity",
        ),
        (
            Method::POST,
            "/vv/defects",
            json!({"title": "x", "result": "nope"}),
            "result",
        ),
        (
            Method::POST,
            "/vv/defects/DEF-001/status",
            json!({"to": "in_progress", "reason": "why not"}),
            "reason",
        ),
        (
            Method::POST,
            "/vv/snapshots",
            json!({"title": "x"}),
            "scope",
        ),
        (
            Method::POST,
            "/vv/snapshots",
            json!({"title": "x", "plan": "VP-001", "set": set}),
            "scope",
        ),
        (
            Method::POST,
            "/vv/snapshots",
            json!({"title": " ", "plan": "VP-001"}),
            "title",
        ),
    ] {
        let body = (method != Method::GET).then_some(body);
        let (status, e) = c.call(method.clone(), path, &c.lead, body).await;
        assert_eq!(status, 422, "{method} {path}: {e}");
        assert!(
            e["error"]["details"][field].is_array(),
            "{method} {path} names {field}: {e}"
        );
    }
    // No token, no API.
    let (status, _) = c
        .call(Method::GET, "/vv/plans", "osa_not-a-token", None)
        .await;
    assert_eq!(status, 401);
}

both!(vv_api_walk_calls_every_operation, vv_api_refusals);
