//! The operations readiness JSON API on both backends, over real HTTP: items, milestones,
//! dependencies (a cycle refused with 409 and its name), the gating rule and a lead's
//! override, the dashboard and the SVG diagram. Viewers get 403 on every write, outsiders 404
//! on everything, and every operations path of the OpenAPI document is called.

use opensesa_testkit::{Backend, Browser, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Mutex;

const P: &str = "/api/v1/projects/ALPHA/operations";
const OPS: &str = "/api/v1/projects/{code}/operations";

struct Ctx {
    _t: TestApp,
    br: Browser,
    lead: String,
    editor: String,
    viewer: String,
    outsider: String,
    /// (token, method, concrete path, status)
    calls: Mutex<Vec<(String, String, String, u16)>>,
}

impl Ctx {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{P}{path}");
        let (status, v) = self.br.api(method.clone(), &url, token, body).await;
        let concrete = url.split('?').next().unwrap_or_default().to_owned();
        self.calls.lock().unwrap().push((
            token.to_owned(),
            method.as_str().to_owned(),
            concrete,
            status,
        ));
        (status, v)
    }

    async fn want(
        &self,
        want: u16,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, v) = self.call(method.clone(), path, token, body).await;
        assert_eq!(status, want, "{method} {path}: {v}");
        v
    }

    /// The documented operations under `/api/v1/projects/{code}/operations`.
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
            if !path.starts_with(OPS) {
                continue;
            }
            for m in ["get", "post", "put", "patch", "delete"] {
                if item[m].is_object() {
                    ops.insert((m.to_uppercase(), path.clone()));
                }
            }
        }
        ops
    }

    /// The documented operation of a concrete call (literal segments win).
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
                        continue;
                    } else if a == b {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, (m.clone(), t.clone())))
            })
            .max_by_key(|(l, _)| *l)
            .map(|(_, op)| op)
    }

    fn called(
        &self,
        ops: &BTreeSet<(String, String)>,
        token: &str,
        ok: impl Fn(u16) -> bool,
    ) -> BTreeSet<(String, String)> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _, _, s)| t == token && ok(*s))
            .filter_map(|(_, m, p, _)| Self::operation_of(ops, m, p))
            .collect()
    }
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
    Ctx {
        br: t.browser(),
        lead: t.token("lena@example.org").await,
        editor: t.token("emil@example.org").await,
        viewer: t.token("vera@example.org").await,
        outsider: t.token("olga@example.org").await,
        calls: Mutex::new(Vec::new()),
        _t: t,
    }
}

async fn operations_api_walk(b: Backend) {
    let c = setup(b).await;
    let (lead, editor) = (c.lead.clone(), c.editor.clone());
    // Items.
    for (title, days, due) in [
        ("Write procedures", 3, "2026-06-05"),
        ("Train controllers", 2, ""),
        ("Contract stations", 5, ""),
        ("Licence filing", 4, "2026-06-20"),
    ] {
        c.want(
            201,
            Method::POST,
            "/items",
            &editor,
            Some(json!({"title": title, "duration_days": days, "due_date": due, "owner": "Ops"})),
        )
        .await;
    }
    let v = c
        .want(
            422,
            Method::POST,
            "/items",
            &editor,
            Some(json!({"title": "x", "duration_days": 0, "due_date": "soon"})),
        )
        .await;
    assert!(v["error"]["details"]["duration_days"].is_array(), "{v}");
    assert!(v["error"]["details"]["due_date"].is_array(), "{v}");
    let v = c
        .want(200, Method::GET, "/items/OPS-001", &c.viewer, None)
        .await;
    assert_eq!(v["item"]["human_id"], "OPS-001");
    assert_eq!(v["transitions"], json!([]), "a viewer has no steps");
    let v = c
        .want(
            200,
            Method::PATCH,
            "/items/OPS-001",
            &editor,
            Some(json!({"owner": "Flight control", "revision": 1})),
        )
        .await;
    assert_eq!(
        (v["revision"].as_i64(), v["revisions"].clone()),
        (Some(2), json!([1, 2]))
    );
    c.want(
        409,
        Method::PATCH,
        "/items/OPS-001",
        &editor,
        Some(json!({"owner": "x", "revision": 1})),
    )
    .await;
    let v = c
        .want(
            409,
            Method::POST,
            "/items/OPS-003/status",
            &editor,
            Some(json!({"to": "done"})),
        )
        .await;
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot go from open to done"));
    for to in ["in_progress", "done"] {
        c.want(
            200,
            Method::POST,
            "/items/OPS-003/status",
            &editor,
            Some(json!({"to": to})),
        )
        .await;
    }
    c.want(
        403,
        Method::POST,
        "/items/OPS-003/status",
        &editor,
        Some(json!({"to": "open"})),
    )
    .await;
    c.want(
        422,
        Method::POST,
        "/items/OPS-003/status",
        &editor,
        Some(json!({"to": "finished"})),
    )
    .await;

    // A milestone gated by OPS-002; dependencies.
    let v = c
        .want(
            201,
            Method::POST,
            "/milestones",
            &lead,
            Some(json!({"name": "ORR", "target_date": "2026-06-08", "gates": ["OPS-002"]})),
        )
        .await;
    assert_eq!(v["milestone"]["human_id"], "MS-001");
    assert_eq!(v["milestone"]["gates"], json!(["OPS-002"]));
    for (p, s) in [
        ("OPS-001", "OPS-002"),
        ("OPS-003", "OPS-004"),
        ("OPS-004", "MS-001"),
        ("OPS-001", "OPS-004"),
    ] {
        let v = c
            .want(
                201,
                Method::POST,
                "/dependencies",
                &editor,
                Some(json!({"predecessor": p, "successor": s})),
            )
            .await;
        assert_eq!(
            (v["predecessor"].as_str(), v["successor"].as_str()),
            (Some(p), Some(s))
        );
    }
    let v = c
        .want(
            409,
            Method::POST,
            "/dependencies",
            &editor,
            Some(json!({"predecessor": "MS-001", "successor": "OPS-001"})),
        )
        .await;
    assert_eq!(
        v["error"]["message"].as_str().unwrap(),
        "MS-001 → OPS-001 would close a cycle: MS-001 → OPS-001 → OPS-002 → MS-001"
    );
    c.want(
        422,
        Method::POST,
        "/dependencies",
        &editor,
        Some(json!({"predecessor": "OPS-009", "successor": "OPS-001"})),
    )
    .await;
    let deps = c
        .want(200, Method::GET, "/dependencies", &c.viewer, None)
        .await;
    assert_eq!(deps.as_array().unwrap().len(), 4);

    // Critical path: OPS-001 (3) → OPS-004 (4) → MS-001 = 7 days; OPS-003 is done.
    let v = c
        .want(200, Method::GET, "/milestones/MS-001", &c.viewer, None)
        .await;
    let steps: Vec<&str> = v["critical_path"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["human_id"].as_str().unwrap())
        .collect();
    assert_eq!(steps, vec!["OPS-001", "OPS-004", "MS-001"]);
    assert_eq!(v["critical_path"]["days"], 7);
    assert_eq!(v["forecast"], "2026-06-08");
    assert_eq!(v["late_items"][0]["human_id"], "OPS-004");
    assert_eq!(v["late_items"][0]["due_late"], true);
    assert_eq!(v["open_gates"], json!(["OPS-002 is open"]));
    let late = c
        .want(200, Method::GET, "/items?late=true", &c.viewer, None)
        .await;
    assert_eq!(late.as_array().unwrap().len(), 1);
    let done = c
        .want(200, Method::GET, "/items?status=done", &c.viewer, None)
        .await;
    assert_eq!(done[0]["human_id"], "OPS-003");
    c.want(422, Method::GET, "/items?status=finished", &c.viewer, None)
        .await;

    // The gating rule; a lead's override with a reason.
    c.want(
        409,
        Method::POST,
        "/milestones/MS-001/status",
        &editor,
        Some(json!({"to": "achieved"})),
    )
    .await;
    c.want(
        403,
        Method::POST,
        "/milestones/MS-001/status",
        &editor,
        Some(json!({"to": "achieved", "reason": "ok"})),
    )
    .await;
    c.want(
        422,
        Method::POST,
        "/milestones/MS-001/status",
        &lead,
        Some(json!({"to": "at_risk", "reason": "why"})),
    )
    .await;
    c.want(
        200,
        Method::POST,
        "/milestones/MS-001/status",
        &editor,
        Some(json!({"to": "at_risk"})),
    )
    .await;
    let v = c
        .want(
            200,
            Method::PATCH,
            "/milestones/MS-001",
            &editor,
            Some(json!({"name": "ORR (board)", "gates": ["OPS-002", "OPS-004"], "revision": 1})),
        )
        .await;
    assert_eq!(v["milestone"]["gates"], json!(["OPS-002", "OPS-004"]));
    let v = c
        .want(
            200,
            Method::POST,
            "/milestones/MS-001/status",
            &lead,
            Some(json!({"to": "achieved", "reason": "waived by the board"})),
        )
        .await;
    assert_eq!(v["milestone"]["status"], "achieved");
    let ms = c
        .want(200, Method::GET, "/milestones", &c.viewer, None)
        .await;
    assert_eq!(ms[0]["status"], "achieved");

    // Dashboard and diagram.
    let v = c
        .want(200, Method::GET, "/dashboard", &c.viewer, None)
        .await;
    assert_eq!(v["items"]["done"], 1);
    assert_eq!(v["milestones"][0]["human_id"], "MS-001");
    assert_eq!(v["burndown"].as_array().unwrap().len(), 60);
    let res =
        c.br.client
            .get(c.br.url(&format!("{P}/diagram")))
            .bearer_auth(&c.viewer)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/svg+xml"));
    assert!(res.text().await.unwrap().contains(">OPS-004</text>"));
    c.calls
        .lock()
        .unwrap()
        .push((c.viewer.clone(), "GET".into(), format!("{P}/diagram"), 200));

    // Remove a dependency.
    let id = deps
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["predecessor"] == "OPS-001" && d["successor"] == "OPS-002")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.want(
        403,
        Method::DELETE,
        &format!("/dependencies/{id}"),
        &c.viewer,
        None,
    )
    .await;
    c.want(
        204,
        Method::DELETE,
        &format!("/dependencies/{id}"),
        &editor,
        None,
    )
    .await;
    c.want(
        404,
        Method::DELETE,
        &format!("/dependencies/{id}"),
        &editor,
        None,
    )
    .await;
    c.want(
        404,
        Method::DELETE,
        "/dependencies/not-a-uuid",
        &editor,
        None,
    )
    .await;

    // A viewer gets 403 on every write; an outsider 404 on everything.
    let ops = c.operations().await;
    assert_eq!(ops.len(), 15, "{ops:?}");
    for (m, path) in &ops {
        let concrete = path
            .replace("{code}", "ALPHA")
            .replace(
                "{human_id}",
                if path.contains("milestones") {
                    "MS-001"
                } else {
                    "OPS-001"
                },
            )
            .replace("{id}", &id);
        let rel = concrete.trim_start_matches(P).to_owned();
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let body = Some(json!({}));
        if m != "GET" {
            let (status, v) = c.call(method.clone(), &rel, &c.viewer, body.clone()).await;
            assert!(
                status == 403 || status == 422,
                "viewer {m} {path}: {status} {v}"
            );
            if status == 422 {
                // Bodies are checked before access only when they cannot be read at all.
                let (status, _) = c.call(method.clone(), &rel, &c.viewer,
                    Some(json!({"title": "x", "name": "x", "target_date": "2026-09-01", "to": "open", "predecessor": "OPS-001", "successor": "OPS-002"}))).await;
                assert!(
                    status == 403 || status == 422,
                    "viewer {m} {path}: {status}"
                );
            }
        }
        let (status, v) = c.call(method, &rel, &c.outsider, body).await;
        assert_eq!(status, 404, "outsider {m} {path}: {v}");
    }
    let ok = c
        .called(&ops, &editor, |s| (200..300).contains(&s))
        .union(&c.called(&ops, &lead, |s| (200..300).contains(&s)))
        .cloned()
        .collect::<BTreeSet<_>>()
        .union(&c.called(&ops, &c.viewer, |s| (200..300).contains(&s)))
        .cloned()
        .collect::<BTreeSet<_>>();
    let missing: Vec<_> = ops.difference(&ok).collect();
    assert!(
        missing.is_empty(),
        "operations never called successfully: {missing:?}"
    );
    let forbidden = c.called(&ops, &c.viewer, |s| s == 403);
    let writes: BTreeSet<_> = ops.iter().filter(|(m, _)| m != "GET").cloned().collect();
    let not_refused: Vec<_> = writes.difference(&forbidden).collect();
    assert!(
        not_refused.is_empty(),
        "writes a viewer was not refused: {not_refused:?}"
    );
}

both!(operations_api_walk);
