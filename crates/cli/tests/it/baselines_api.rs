//! The baselines and release governance JSON API on both backends, over real HTTP: a draft
//! baseline frozen by a lead only (idempotently), its content hash recomputed here from the
//! items endpoint, edits after the freeze leaving it unchanged, comparisons with another
//! baseline and with the working state, the field drill-down; release packs whose lock is
//! refused while the checklist fails and allowed with a lead's reason, unlock with a reason,
//! governance decisions, adoption actions through their states. Other projects' artefacts are
//! not found, and every baselines operation of the OpenAPI document is called.

use opensesa_testkit::{Backend, Browser, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

const P: &str = "/api/v1/projects/ALPHA";

struct Ctx {
    _t: TestApp,
    br: Browser,
    lead: String,
    editor: String,
    viewer: String,
    outsider: String,
    /// (method, path without query, status) of every call.
    calls: Mutex<Vec<(String, String, u16)>>,
}

impl Ctx {
    async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, v) = self.br.api(method.clone(), path, token, body).await;
        let bare = path.split('?').next().unwrap_or_default().to_owned();
        self.calls
            .lock()
            .unwrap()
            .push((method.as_str().to_owned(), bare, status));
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

    async fn get(&self, path: &str, token: &str) -> Value {
        self.want(200, Method::GET, path, token, None).await
    }

    /// A call refused with 422 naming `field`.
    async fn invalid(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        field: &str,
    ) {
        let v = self.want(422, method.clone(), path, token, body).await;
        assert!(
            v["error"]["details"][field].is_array(),
            "{method} {path} names {field}: {v}"
        );
    }

    /// Every documented operation whose path starts with one of `prefixes` (after
    /// `/api/v1/projects/{code}`) was called and answered 2xx at least once.
    async fn assert_walked(&self, prefixes: &[&str]) {
        let doc: Value = self
            .br
            .get("/api/v1/openapi.json")
            .await
            .json()
            .await
            .unwrap();
        let root = "/api/v1/projects/{code}";
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(rest) = path.strip_prefix(root) else {
                continue;
            };
            if !prefixes.iter().any(|p| rest.starts_with(p)) {
                continue;
            }
            for method in ["get", "post", "put", "patch", "delete"] {
                if item[method].is_object() {
                    assert_eq!(
                        item[method]["tags"][0], "baselines",
                        "{method} {path} is tagged baselines"
                    );
                    ops.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        assert!(!ops.is_empty());
        let calls = self.calls.lock().unwrap();
        for (method, template) in &ops {
            let t: Vec<&str> = template.split('/').collect();
            let hit = calls.iter().any(|(m, path, status)| {
                let segs: Vec<&str> = path.split('/').collect();
                m == method
                    && (200..300).contains(status)
                    && segs.len() == t.len()
                    && t.iter().zip(&segs).all(|(a, b)| {
                        // Literal segments win over parameters (`compare` is not a baseline).
                        if a.starts_with('{') {
                            !b.is_empty() && !["compare", "diff"].contains(b)
                        } else {
                            a == b
                        }
                    })
            });
            assert!(hit, "{method} {template} was not called successfully");
        }
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
    let c = Ctx {
        br: t.browser(),
        lead: t.token("lena@example.org").await,
        editor: t.token("emil@example.org").await,
        viewer: t.token("vera@example.org").await,
        outsider: t.token("olga@example.org").await,
        calls: Mutex::new(Vec::new()),
        _t: t,
    };
    c.want(
        201,
        Method::POST,
        "/modules",
        &c.lead,
        Some(json!({"prefix": "SYS", "name": "System requirements"})),
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
            Some(json!({"title": title, "statement": format!("The system shall {title}."), "verification_methods": ["test"]})),
        )
        .await;
    }
    c.want(
        201,
        Method::POST,
        "/vv/cases",
        &c.editor,
        Some(json!({"title": "Boot test", "verifies": ["SYS-001"]})),
    )
    .await;
    c
}

/// The content hash as docs/api.md tells anyone to compute it: SHA-256 over the lines
/// `<id> <revision_hash>\n`, sorted by id, ids lower-case hyphenated.
fn recompute(items: &[Value]) -> String {
    let mut lines: Vec<String> = items
        .iter()
        .map(|i| {
            let id = uuid::Uuid::parse_str(i["id"].as_str().unwrap()).unwrap();
            format!(
                "{} {}\n",
                id.hyphenated(),
                i["revision_hash"].as_str().unwrap()
            )
        })
        .collect();
    lines.sort();
    let digest = Sha256::digest(lines.concat().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every item of a baseline, read in pages of `limit`.
async fn all_items(c: &Ctx, hid: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = c
            .get(
                &format!("/baselines/{hid}/items?limit={limit}&offset={}", out.len()),
                &c.viewer,
            )
            .await;
        let items = page["items"].as_array().unwrap().clone();
        let total = page["total"].as_u64().unwrap() as usize;
        assert!(items.len() <= limit);
        let done = items.is_empty();
        out.extend(items);
        if done || out.len() >= total {
            assert_eq!(out.len(), total);
            return out;
        }
    }
}

fn labels(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect()
}

fn changed_labels(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["to"]["label"].as_str().unwrap().to_owned())
        .collect()
}

async fn baselines_api_freeze_items_compare_and_diff(b: Backend) {
    let c = setup(b).await;

    // Creating: editors only; the scope names modules by prefix; fields are validated.
    c.want(
        403,
        Method::POST,
        "/baselines",
        &c.viewer,
        Some(json!({"name": "x"})),
    )
    .await;
    c.invalid(
        Method::POST,
        "/baselines",
        &c.editor,
        Some(json!({"name": " "})),
        "name",
    )
    .await;
    c.invalid(
        Method::POST,
        "/baselines",
        &c.editor,
        Some(json!({"name": "x", "modules": ["NOPE"]})),
        "modules",
    )
    .await;
    let bl = c
        .want(
            201,
            Method::POST,
            "/baselines",
            &c.editor,
            Some(json!({"name": "PDR", "description": "for the review", "modules": ["sys"], "include_vv": true})),
        )
        .await;
    assert_eq!(bl["human_id"], "BL-001");
    assert_eq!(bl["status"], "draft");
    assert_eq!(bl["scope"], json!({"modules": ["SYS"], "include_vv": true}));
    assert!(
        bl["content_hash"].is_null() && bl["frozen_at"].is_null(),
        "{bl}"
    );
    let bl = c
        .want(
            200,
            Method::PATCH,
            "/baselines/BL-001",
            &c.editor,
            Some(json!({"description": "PDR data pack"})),
        )
        .await;
    assert_eq!(
        (bl["name"].as_str(), bl["description"].as_str()),
        (Some("PDR"), Some("PDR data pack"))
    );
    assert_eq!(bl["scope"]["modules"], json!(["SYS"]), "absent fields stay");
    let draft = c
        .get("/baselines/BL-001/items?kind=requirement", &c.viewer)
        .await;
    assert_eq!(
        (draft["status"].as_str(), draft["total"].as_i64()),
        (Some("draft"), Some(3))
    );

    // Freezing is a lead's; it is idempotent.
    for token in [&c.viewer, &c.editor] {
        let e = c
            .want(403, Method::POST, "/baselines/BL-001/freeze", token, None)
            .await;
        assert_eq!(e["error"]["code"], "forbidden");
    }
    let frozen = c
        .want(200, Method::POST, "/baselines/BL-001/freeze", &c.lead, None)
        .await;
    assert_eq!(frozen["status"], "frozen");
    let hash = frozen["content_hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    assert!(frozen["frozen_by"].is_string() && frozen["frozen_at"].is_string());
    assert!(!frozen["groups"].as_array().unwrap().is_empty());
    let again = c
        .want(200, Method::POST, "/baselines/BL-001/freeze", &c.lead, None)
        .await;
    assert_eq!(again["content_hash"], frozen["content_hash"]);
    assert_eq!(again["frozen_at"], frozen["frozen_at"]);
    c.want(
        409,
        Method::PATCH,
        "/baselines/BL-001",
        &c.editor,
        Some(json!({"name": "renamed"})),
    )
    .await;

    // The content hash, recomputed from the items (read in small pages).
    let items = all_items(&c, "BL-001", 2).await;
    assert_eq!(items.len() as i64, frozen["items"].as_i64().unwrap());
    assert_eq!(
        recompute(&items),
        hash,
        "the documented recipe gives the stored hash"
    );
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for i in &items {
        *counts
            .entry(i["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(serde_json::to_value(&counts).unwrap(), frozen["counts"]);
    for kind in ["module", "requirement", "trace_link", "vv_case"] {
        assert!(counts.contains_key(kind), "{kind} recorded: {counts:?}");
    }
    let reqs = c
        .get("/baselines/BL-001/items?kind=requirement", &c.viewer)
        .await;
    assert_eq!(labels(&reqs["items"]), ["SYS-001", "SYS-002", "SYS-003"]);
    c.invalid(
        Method::GET,
        "/baselines/BL-001/items?kind=bogus",
        &c.viewer,
        None,
        "kind",
    )
    .await;
    c.invalid(
        Method::GET,
        "/baselines/BL-001/items?limit=0",
        &c.viewer,
        None,
        "limit",
    )
    .await;

    // An edit after the freeze leaves the baseline as it was; the working state differs.
    let sys2 = c.get("/requirements/SYS-002", &c.viewer).await;
    let sys2_id = sys2["requirement"]["id"].as_str().unwrap().to_owned();
    let edited = c
        .want(
            200,
            Method::PATCH,
            "/requirements/SYS-002",
            &c.editor,
            Some(json!({"statement": "The system shall hold the brake for 30 s."})),
        )
        .await;
    assert_eq!(edited["revision"], 2);
    assert_eq!(all_items(&c, "BL-001", 500).await, items);
    assert_eq!(
        c.get("/baselines/BL-001", &c.viewer).await["content_hash"],
        hash.as_str()
    );
    let cmp = c
        .get("/baselines/compare?from=BL-001&to=working", &c.viewer)
        .await;
    assert_eq!(
        (
            cmp["from"].as_str(),
            cmp["to"].as_str(),
            cmp["equal"].as_bool()
        ),
        (Some("BL-001"), Some("working"), Some(false))
    );
    let req = cmp["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "requirement")
        .unwrap_or_else(|| panic!("requirements differ: {cmp}"));
    assert_eq!(changed_labels(&req["changed"]), ["SYS-002"]);
    assert_eq!(req["changed"][0]["from"]["revision"], 1);
    assert_eq!(req["changed"][0]["to"]["revision"], 2);
    assert!(
        req["added"].as_array().unwrap().is_empty()
            && req["removed"].as_array().unwrap().is_empty()
    );
    assert!(cmp["groups_compared"].as_i64().unwrap() >= 1);
    // `to` defaults to the working state.
    let dflt = c.get("/baselines/compare?from=bl-001", &c.viewer).await;
    assert_eq!(dflt["kinds"], cmp["kinds"]);

    // A second baseline with one more requirement: compared exactly.
    c.want(
        201,
        Method::POST,
        "/modules/SYS/requirements",
        &c.editor,
        Some(json!({"title": "log every fault", "statement": "The system shall log every fault."})),
    )
    .await;
    c.want(
        201,
        Method::POST,
        "/baselines",
        &c.editor,
        Some(json!({"name": "CDR", "modules": ["SYS"]})),
    )
    .await;
    c.want(200, Method::POST, "/baselines/BL-002/freeze", &c.lead, None)
        .await;
    let cmp = c
        .get("/baselines/compare?from=BL-001&to=BL-002", &c.viewer)
        .await;
    assert_eq!(cmp["to"], "BL-002");
    let req = cmp["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "requirement")
        .unwrap();
    assert_eq!(labels(&req["added"]), ["SYS-004"]);
    assert_eq!(changed_labels(&req["changed"]), ["SYS-002"]);
    assert!(
        req["removed"].as_array().unwrap().is_empty()
            && req["moved"].as_array().unwrap().is_empty()
    );
    let same = c
        .get("/baselines/compare?from=BL-002&to=BL-002", &c.viewer)
        .await;
    assert_eq!(
        (same["equal"].as_bool(), same["groups_compared"].as_i64()),
        (Some(true), Some(0))
    );
    assert!(same["groups_equal"].as_i64().unwrap() >= 1);
    c.invalid(Method::GET, "/baselines/compare", &c.viewer, None, "from")
        .await;
    c.want(
        201,
        Method::POST,
        "/baselines",
        &c.editor,
        Some(json!({"name": "draft"})),
    )
    .await;
    c.invalid(
        Method::GET,
        "/baselines/compare?from=BL-003",
        &c.viewer,
        None,
        "from",
    )
    .await;
    c.invalid(
        Method::GET,
        "/baselines/compare?from=BL-001&to=BL-003",
        &c.viewer,
        None,
        "to",
    )
    .await;
    c.want(
        404,
        Method::GET,
        "/baselines/compare?from=BL-001&to=BL-099",
        &c.viewer,
        None,
    )
    .await;

    // The drill-down of the changed requirement.
    let d = c
        .get(
            &format!("/baselines/diff?kind=requirement&id={sys2_id}&from=1&to=2"),
            &c.viewer,
        )
        .await;
    assert_eq!(
        (d["label"].as_str(), d["from"].as_i64(), d["to"].as_i64()),
        (Some("SYS-002"), Some(1), Some(2))
    );
    let statement = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "statement")
        .unwrap();
    assert_eq!(
        statement["new"],
        "The system shall hold the brake for 30 s."
    );
    assert!(statement["spans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["kind"] == "insert"));
    c.invalid(
        Method::GET,
        "/baselines/diff?kind=requirement&from=1&to=2",
        &c.viewer,
        None,
        "id",
    )
    .await;
    c.invalid(
        Method::GET,
        &format!("/baselines/diff?kind=trace_link&id={sys2_id}&from=1&to=2"),
        &c.viewer,
        None,
        "kind",
    )
    .await;
    c.invalid(
        Method::GET,
        &format!("/baselines/diff?kind=requirement&id={sys2_id}&from=1&to=9"),
        &c.viewer,
        None,
        "to",
    )
    .await;

    let list = c.get("/baselines", &c.viewer).await;
    let hids: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["human_id"].as_str().unwrap())
        .collect();
    assert_eq!(hids, BTreeSet::from(["BL-001", "BL-002", "BL-003"]));

    // Other projects: their baselines and artefacts are not found here, and ours not there.
    let (s, v) = c
        .api(
            Method::POST,
            "/api/v1/projects/BRAVO/baselines",
            &c.outsider,
            Some(json!({"name": "B"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    for path in [
        "/api/v1/projects/BRAVO/baselines/BL-001",
        "/api/v1/projects/BRAVO/baselines/BL-001/items",
        "/api/v1/projects/BRAVO/baselines",
    ] {
        let (s, e) = c.api(Method::GET, path, &c.lead, None).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let (s, _) = c
        .api(
            Method::POST,
            "/api/v1/projects/BRAVO/baselines/BL-001/freeze",
            &c.lead,
            None,
        )
        .await;
    assert_eq!(s, 404);
    for path in [
        "/baselines/BL-001".to_owned(),
        "/baselines/BL-001/items".into(),
        "/baselines/compare?from=BL-001".into(),
        format!("/baselines/diff?kind=requirement&id={sys2_id}&from=1&to=2"),
    ] {
        let (s, _) = c.call(Method::GET, &path, &c.outsider, None).await;
        assert_eq!(s, 404, "outsider {path}");
    }
    let (s, _) = c
        .api(
            Method::GET,
            &format!(
                "/api/v1/projects/BRAVO/baselines/diff?kind=requirement&id={sys2_id}&from=1&to=2"
            ),
            &c.outsider,
            None,
        )
        .await;
    assert_eq!(s, 404, "ALPHA's requirement is not BRAVO's");
    c.want(404, Method::GET, "/baselines/BL-099", &c.viewer, None)
        .await;

    c.assert_walked(&["/baselines"]).await;
}

async fn release_packs_api_lock_unlock_decisions_actions(b: Backend) {
    let c = setup(b).await;
    c.want(
        201,
        Method::POST,
        "/baselines",
        &c.editor,
        Some(json!({"name": "PDR"})),
    )
    .await;
    // A pack needs a frozen baseline.
    c.invalid(
        Method::POST,
        "/releases",
        &c.editor,
        Some(json!({"name": "R1"})),
        "baseline",
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases",
        &c.editor,
        Some(json!({"baseline": "BL-001", "name": "R1"})),
        "baseline",
    )
    .await;
    c.want(200, Method::POST, "/baselines/BL-001/freeze", &c.lead, None)
        .await;
    c.want(
        403,
        Method::POST,
        "/releases",
        &c.viewer,
        Some(json!({"baseline": "BL-001", "name": "R1"})),
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases",
        &c.editor,
        Some(json!({"baseline": "BL-001", "name": " "})),
        "name",
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases",
        &c.editor,
        Some(json!({"baseline": "BL-001", "name": "R1", "documents": [{"title": "a | b"}]})),
        "documents",
    )
    .await;
    let pack = c
        .want(
            201,
            Method::POST,
            "/releases",
            &c.editor,
            Some(
                json!({"baseline": "bl-001", "name": "Release 1", "notes": "first light",
                "documents": [{"title": "SDD", "reference": "DOC-12", "version": "2.1"}]}),
            ),
        )
        .await;
    assert_eq!(
        (
            pack["human_id"].as_str(),
            pack["baseline"].as_str(),
            pack["status"].as_str()
        ),
        (Some("RP-001"), Some("BL-001"), Some("draft"))
    );
    assert_eq!(
        pack["documents"],
        json!([{"title": "SDD", "reference": "DOC-12", "version": "2.1"}])
    );
    let hash = c.get("/baselines/BL-001", &c.viewer).await["content_hash"].clone();
    assert_eq!(pack["baseline_content_hash"], hash);
    // Requirements in draft: the checklist fails on approval (and coverage).
    assert_eq!(pack["checklist"]["passed"], false);
    let failing: Vec<&str> = pack["checklist"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["passed"] == false)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        failing.contains(&"approved") && failing.contains(&"coverage"),
        "{failing:?}"
    );

    // Editing: documents as text lines too; absent fields stay.
    let pack = c
        .want(
            200,
            Method::PATCH,
            "/releases/RP-001",
            &c.editor,
            Some(json!({"documents": "SDD | DOC-12 | 2.2\nUser manual"})),
        )
        .await;
    assert_eq!(
        (pack["name"].as_str(), pack["revision"].as_i64()),
        (Some("Release 1"), Some(2))
    );
    assert_eq!(
        pack["documents"][1],
        json!({"title": "User manual", "reference": "", "version": ""})
    );
    c.invalid(
        Method::PATCH,
        "/releases/RP-001",
        &c.editor,
        Some(json!({"documents": "a|b|c|d"})),
        "documents",
    )
    .await;
    c.want(
        403,
        Method::PATCH,
        "/releases/RP-001",
        &c.viewer,
        Some(json!({"name": "x"})),
    )
    .await;

    // Lock: leads only; refused while the checklist fails unless a lead gives a reason.
    for token in [&c.viewer, &c.editor] {
        c.want(
            403,
            Method::POST,
            "/releases/RP-001/lock",
            token,
            Some(json!({"reason": "x"})),
        )
        .await;
    }
    let e = c
        .want(409, Method::POST, "/releases/RP-001/lock", &c.lead, None)
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("checklist"),
        "{e}"
    );
    c.want(
        409,
        Method::POST,
        "/releases/RP-001/lock",
        &c.lead,
        Some(json!({"reason": "  "})),
    )
    .await;
    let locked = c
        .want(
            200,
            Method::POST,
            "/releases/RP-001/lock",
            &c.lead,
            Some(json!({"reason": "accepted for the PDR board"})),
        )
        .await;
    assert_eq!(locked["status"], "locked");
    assert_eq!(locked["lock_override"], "accepted for the PDR board");
    assert!(locked["locked_by"].is_string() && locked["locked_at"].is_string());
    c.want(
        409,
        Method::PATCH,
        "/releases/RP-001",
        &c.editor,
        Some(json!({"name": "changed"})),
    )
    .await;
    c.want(
        409,
        Method::POST,
        "/releases/RP-001/lock",
        &c.lead,
        Some(json!({"reason": "again"})),
    )
    .await;

    // Unlock: leads, with a reason.
    c.want(
        403,
        Method::POST,
        "/releases/RP-001/unlock",
        &c.viewer,
        Some(json!({"reason": "x"})),
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases/RP-001/unlock",
        &c.lead,
        Some(json!({})),
        "reason",
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases/RP-001/unlock",
        &c.lead,
        Some(json!({"reason": " "})),
        "reason",
    )
    .await;
    let unlocked = c
        .want(
            200,
            Method::POST,
            "/releases/RP-001/unlock",
            &c.lead,
            Some(json!({"reason": "documents to fix"})),
        )
        .await;
    assert_eq!(unlocked["status"], "draft");
    assert!(unlocked["lock_override"].is_null());
    c.want(
        409,
        Method::POST,
        "/releases/RP-001/unlock",
        &c.lead,
        Some(json!({"reason": "twice"})),
    )
    .await;
    let reasons: Vec<&str> = unlocked["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        ["documents to fix", "accepted for the PDR board"],
        "newest first"
    );

    // A baseline whose checklist passes (an empty module, no V&V) locks without a reason.
    c.want(
        201,
        Method::POST,
        "/modules",
        &c.lead,
        Some(json!({"prefix": "EMP", "name": "Empty"})),
    )
    .await;
    c.want(
        201,
        Method::POST,
        "/baselines",
        &c.editor,
        Some(json!({"name": "empty", "modules": ["EMP"], "include_vv": false})),
    )
    .await;
    c.want(200, Method::POST, "/baselines/BL-002/freeze", &c.lead, None)
        .await;
    let p2 = c
        .want(
            201,
            Method::POST,
            "/releases",
            &c.editor,
            Some(json!({"baseline": "BL-002", "name": "Clean"})),
        )
        .await;
    assert_eq!(p2["checklist"]["passed"], true, "{}", p2["checklist"]);
    let p2 = c
        .want(200, Method::POST, "/releases/RP-002/lock", &c.lead, None)
        .await;
    assert_eq!(
        (p2["status"].as_str(), p2["lock_override"].as_str()),
        (Some("locked"), None)
    );

    // Decisions: leads, with a rationale, conditions when conditional; newest first; audited.
    for token in [&c.viewer, &c.editor] {
        c.want(
            403,
            Method::POST,
            "/releases/RP-001/decisions",
            token,
            Some(json!({"decision": "go", "rationale": "x"})),
        )
        .await;
    }
    c.invalid(
        Method::POST,
        "/releases/RP-001/decisions",
        &c.lead,
        Some(json!({"decision": "maybe", "rationale": "x"})),
        "decision",
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases/RP-001/decisions",
        &c.lead,
        Some(json!({"decision": "conditional", "rationale": "x"})),
        "conditions",
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases/RP-001/decisions",
        &c.lead,
        Some(json!({"decision": "go", "rationale": " "})),
        "rationale",
    )
    .await;
    let d = c
        .want(
            201,
            Method::POST,
            "/releases/RP-001/decisions",
            &c.lead,
            Some(json!({"decision": "conditional", "rationale": "ready with caveats", "conditions": "close AA-001"})),
        )
        .await;
    assert_eq!(
        (d["decision"].as_str(), d["checklist_passed"].as_bool()),
        (Some("conditional"), Some(false))
    );
    assert_eq!(
        d["decided_by_name"].as_str().map(|n| !n.is_empty()),
        Some(true)
    );
    c.want(
        201,
        Method::POST,
        "/releases/RP-001/decisions",
        &c.lead,
        Some(json!({"decision": "go", "rationale": "caveats closed"})),
    )
    .await;
    let detail = c.get("/releases/RP-001", &c.viewer).await;
    let kinds: Vec<&str> = detail["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["go", "conditional"]);
    let audited: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        audited.contains(&"ready with caveats") && audited.contains(&"caveats closed"),
        "{audited:?}"
    );

    // Adoption actions: editors add and move them; reopening is a lead's.
    c.want(
        403,
        Method::POST,
        "/releases/RP-001/actions",
        &c.viewer,
        Some(json!({"title": "x"})),
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases/RP-001/actions",
        &c.editor,
        Some(json!({"title": " "})),
        "title",
    )
    .await;
    c.invalid(
        Method::POST,
        "/releases/RP-001/actions",
        &c.editor,
        Some(json!({"title": "x", "due": "31/01/2030"})),
        "due",
    )
    .await;
    let a = c
        .want(
            201,
            Method::POST,
            "/releases/RP-001/actions",
            &c.editor,
            Some(json!({"title": "Train operators", "owner": "ops", "due": "2030-01-31"})),
        )
        .await;
    assert_eq!(
        (
            a["human_id"].as_str(),
            a["status"].as_str(),
            a["due"].as_str()
        ),
        (Some("AA-001"), Some("open"), Some("2030-01-31"))
    );
    assert!(a["transitions"]
        .as_array()
        .unwrap()
        .contains(&json!("in_progress")));
    let a = c
        .want(
            200,
            Method::PATCH,
            "/actions/AA-001",
            &c.editor,
            Some(json!({"owner": "ops team"})),
        )
        .await;
    assert_eq!(
        (
            a["title"].as_str(),
            a["owner"].as_str(),
            a["revision"].as_i64()
        ),
        (Some("Train operators"), Some("ops team"), Some(2))
    );
    c.want(
        403,
        Method::PATCH,
        "/actions/AA-001",
        &c.viewer,
        Some(json!({"owner": "x"})),
    )
    .await;
    c.invalid(
        Method::PATCH,
        "/actions/AA-001",
        &c.editor,
        Some(json!({"due": "tomorrow"})),
        "due",
    )
    .await;
    c.invalid(
        Method::POST,
        "/actions/AA-001/status",
        &c.editor,
        Some(json!({"to": "bogus"})),
        "to",
    )
    .await;
    c.want(
        403,
        Method::POST,
        "/actions/AA-001/status",
        &c.viewer,
        Some(json!({"to": "in_progress"})),
    )
    .await;
    let a = c
        .want(
            200,
            Method::POST,
            "/actions/AA-001/status",
            &c.editor,
            Some(json!({"to": "in_progress"})),
        )
        .await;
    assert_eq!(a["status"], "in_progress");
    let a = c
        .want(
            200,
            Method::POST,
            "/actions/AA-001/status",
            &c.editor,
            Some(json!({"status": "done"})),
        )
        .await;
    assert_eq!(a["status"], "done");
    assert!(
        a["transitions"].as_array().unwrap().is_empty(),
        "an editor cannot reopen: {a}"
    );
    c.want(
        403,
        Method::POST,
        "/actions/AA-001/status",
        &c.editor,
        Some(json!({"to": "open"})),
    )
    .await;
    c.want(
        409,
        Method::POST,
        "/actions/AA-001/status",
        &c.lead,
        Some(json!({"to": "cancelled"})),
    )
    .await;
    let a = c
        .want(
            200,
            Method::POST,
            "/actions/AA-001/status",
            &c.lead,
            Some(json!({"to": "in_progress"})),
        )
        .await;
    assert_eq!(a["status"], "in_progress");
    c.want(
        404,
        Method::POST,
        "/actions/AA-099/status",
        &c.lead,
        Some(json!({"to": "done"})),
    )
    .await;

    let list = c.get("/releases", &c.viewer).await;
    let rp1 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["human_id"] == "RP-001")
        .unwrap();
    assert_eq!(
        (rp1["open_actions"].as_i64(), rp1["last_decision"].as_str()),
        (Some(1), Some("go"))
    );
    assert_eq!(
        c.get("/releases/RP-001", &c.viewer).await["actions"][0]["status"],
        "in_progress"
    );

    // Other projects' packs and actions are not found; outsiders see nothing of ours.
    let (s, v) = c
        .api(
            Method::POST,
            "/api/v1/projects/BRAVO/baselines",
            &c.outsider,
            Some(json!({"name": "B"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    c.api(
        Method::POST,
        "/api/v1/projects/BRAVO/baselines/BL-001/freeze",
        &c.outsider,
        None,
    )
    .await;
    let (s, v) = c
        .api(
            Method::POST,
            "/api/v1/projects/BRAVO/releases",
            &c.outsider,
            Some(json!({"baseline": "BL-001", "name": "B"})),
        )
        .await;
    assert_eq!((s, v["human_id"].as_str()), (201, Some("RP-001")), "{v}");
    let (s, _) = c
        .api(
            Method::GET,
            "/api/v1/projects/BRAVO/releases/RP-001",
            &c.lead,
            None,
        )
        .await;
    assert_eq!(s, 404);
    for (method, path, body) in [
        (Method::GET, "/releases", None),
        (Method::GET, "/releases/RP-001", None),
        (
            Method::PATCH,
            "/releases/RP-001",
            Some(json!({"name": "x"})),
        ),
        (
            Method::POST,
            "/releases/RP-001/lock",
            Some(json!({"reason": "x"})),
        ),
        (
            Method::POST,
            "/releases/RP-001/unlock",
            Some(json!({"reason": "x"})),
        ),
        (
            Method::POST,
            "/releases/RP-001/decisions",
            Some(json!({"decision": "go", "rationale": "x"})),
        ),
        (
            Method::POST,
            "/releases/RP-001/actions",
            Some(json!({"title": "x"})),
        ),
        (
            Method::PATCH,
            "/actions/AA-001",
            Some(json!({"title": "x"})),
        ),
        (
            Method::POST,
            "/actions/AA-001/status",
            Some(json!({"to": "done"})),
        ),
    ] {
        let (s, e) = c.call(method.clone(), path, &c.outsider, body).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "outsider {method} {path}"
        );
    }

    c.assert_walked(&["/releases", "/actions"]).await;
}

both!(
    baselines_api_freeze_items_compare_and_diff,
    release_packs_api_lock_unlock_decisions_actions
);
