//! The requirements JSON API on both backends: modules, requirements with filters, revisions
//! and diffs, the workflow, links and suspect clearing, bulk edits, comments, review rounds,
//! search, quality, coverage and the RVTM; viewers get 403 on writes, outsiders 404.

use opensesa_testkit::{Backend, Browser, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const P: &str = "/api/v1/projects/ALPHA";

struct Ctx {
    _t: TestApp,
    br: Browser,
    lead: String,
    editor: String,
    viewer: String,
    outsider: String,
}

impl Ctx {
    /// A call under `/api/v1/projects/ALPHA`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.br
            .api(method, &format!("{P}{path}"), token, body)
            .await
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

    /// The editor creates a requirement in `prefix`; its human id.
    async fn req(&self, prefix: &str, title: &str, extra: Value) -> String {
        let mut body = json!({
            "title": title,
            "statement": format!("The system shall {title}."),
            "rationale": "Mission need.",
            "verification_methods": ["test"],
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, r) = self
            .call(
                Method::POST,
                &format!("/modules/{prefix}/requirements"),
                &self.editor,
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{r}");
        r["human_id"].as_str().unwrap().to_owned()
    }

    /// `total` of a list query.
    async fn total(&self, path: &str) -> i64 {
        self.get(path, &self.viewer).await["total"]
            .as_i64()
            .unwrap()
    }

    async fn link(&self, source: &str, kind: &str, target: &str) -> String {
        let l = self
            .ok(
                Method::POST,
                "/links",
                &self.editor,
                Some(json!({"source": source, "kind": kind, "target": target})),
            )
            .await;
        l["id"].as_str().unwrap().to_owned()
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
        _t: t,
    };
    let (status, m) = c
        .call(
            Method::POST,
            "/modules",
            &c.lead,
            Some(json!({
                "prefix": "sys",
                "name": "System requirements",
                "attributes": [{"name": "ASIL", "kind": "enumeration", "options": ["A", "B", "C", "D"]}],
            })),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["prefix"], "SYS");
    c.ok(
        Method::POST,
        "/modules",
        &c.lead,
        Some(json!({"prefix": "SW", "name": "Software requirements", "parent": "SYS"})),
    )
    .await;
    c
}

async fn requirements_api_modules_requirements_filters_and_revisions(b: Backend) {
    let c = setup(b).await;
    // Modules: tree order, parent by prefix, attributes, counts.
    let modules = c.get("/modules", &c.viewer).await;
    assert_eq!(modules.as_array().unwrap().len(), 2);
    assert_eq!(modules[0]["attributes"][0]["kind"], "enumeration");
    assert_eq!(modules[1]["prefix"], "SW");
    assert_eq!(modules[1]["parent"], "SYS");
    assert_eq!(modules[1]["depth"], 1);
    let (status, body) = c
        .call(
            Method::POST,
            "/modules",
            &c.lead,
            Some(json!({"prefix": "SYS", "name": "Again"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["details"]["prefix"].is_array(), "{body}");
    let (status, body) = c
        .call(
            Method::POST,
            "/modules",
            &c.lead,
            Some(json!({"prefix": "HW", "name": "Hardware", "attributes": [{"name": "Mass", "kind": "weight"}]})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["details"]["attributes"][0]
        .as_str()
        .unwrap()
        .contains("weight"));
    let m = c
        .ok(
            Method::PATCH,
            "/modules/sw",
            &c.lead,
            Some(json!({"description": "On-board software"})),
        )
        .await;
    assert_eq!(
        (m["revision"].as_i64(), m["parent"].as_str()),
        (Some(2), Some("SYS"))
    );
    assert_eq!(
        c.get("/modules/SW", &c.viewer).await["description"],
        "On-board software"
    );
    let (status, _) = c.call(Method::GET, "/modules/NOPE", &c.viewer, None).await;
    assert_eq!(status, 404);

    // Create: arrays and typed attributes in, the stored requirement out.
    let (status, r) = c
        .call(
            Method::POST,
            "/modules/SYS/requirements",
            &c.editor,
            Some(json!({
                "title": "power budget",
                "statement": "The system shall stay within 40 W.",
                "rationale": "Solar array size.",
                "kind": "performance",
                "priority": "high",
                "verification_methods": ["test", "analysis"],
                "owner": "emil",
                "tags": ["power", "thermal"],
                "attributes": {"ASIL": "B"},
            })),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["human_id"], "SYS-001");
    assert_eq!(r["module"], "SYS");
    assert_eq!(r["verification_methods"], json!(["test", "analysis"]));
    assert_eq!(r["tags"], json!(["power", "thermal"]));
    assert_eq!(r["attributes"], json!({"ASIL": "B"}));
    assert_eq!(
        (r["status"].as_str(), r["revision"].as_i64()),
        (Some("draft"), Some(1))
    );
    assert!(r["id"].is_string() && r["created_at"].as_str().unwrap().contains('T'));
    let s2 = c
        .req(
            "SYS",
            "log telemetry",
            json!({"tags": ["power"], "attributes": {"ASIL": "D"}}),
        )
        .await;
    let s3 = c
        .req(
            "SYS",
            "expose a bus",
            json!({"kind": "interface", "attributes": {"ASIL": "B"}, "parent": "SYS-001"}),
        )
        .await;
    let w1 = c
        .req("SW", "compute the budget", json!({"parent": "sys-001"}))
        .await;
    assert_eq!(
        (s2.as_str(), s3.as_str(), w1.as_str()),
        ("SYS-002", "SYS-003", "SW-001")
    );

    // Refusals name the field.
    for (body, field) in [
        (json!({"statement": "No title."}), "title"),
        (json!({"title": "t", "kind": "banana"}), "kind"),
        (
            json!({"title": "t", "attributes": {"Nope": "1"}}),
            "attributes.Nope",
        ),
        (
            json!({"title": "t", "attributes": {"ASIL": "E"}}),
            "attributes.ASIL",
        ),
        (
            json!({"title": "t", "attributes": {"ASIL": [1]}}),
            "attributes.ASIL",
        ),
        (json!({"title": "t", "tags": ["a,b"]}), "tags"),
        (
            json!({"title": "t", "verification_methods": ["guess"]}),
            "verification_methods",
        ),
        (json!({"title": "t", "parent": "SYS-404"}), "parent"),
        (json!({"title": "t", "revision": 3}), "revision"),
    ] {
        let (status, e) = c
            .call(
                Method::POST,
                "/modules/SYS/requirements",
                &c.editor,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 422, "{body}: {e}");
        assert_eq!(e["error"]["code"], "validation_error");
        assert!(e["error"]["details"][field].is_array(), "{body}: {e}");
    }
    let (status, e) = c
        .call(
            Method::POST,
            "/modules/SYS/requirements",
            &c.editor,
            Some(json!({"title": "t", "statment": "typo"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["message"].as_str().unwrap().contains("statment"));
    assert_eq!(c.get("/modules/SYS", &c.viewer).await["requirements"], 3);

    // Filters, full text, sort and paging.
    assert_eq!(c.total("/requirements").await, 4);
    assert_eq!(c.total("/requirements?module=sys").await, 3);
    assert_eq!(c.total("/requirements?kind=interface").await, 1);
    assert_eq!(c.total("/requirements?priority=high").await, 1);
    assert_eq!(c.total("/requirements?tag=power").await, 2);
    assert_eq!(c.total("/requirements?owner=emil").await, 1);
    assert_eq!(c.total("/requirements?status=draft").await, 4);
    assert_eq!(c.total("/requirements?status=approved").await, 0);
    assert_eq!(c.total("/requirements?attr.ASIL=B").await, 2);
    assert_eq!(c.total("/requirements?attribute=ASIL%3DD").await, 1);
    assert_eq!(
        c.total("/requirements?attribute_name=ASIL&attribute_value=B&module=SYS")
            .await,
        2
    );
    let hits = c.get("/requirements?q=telemetry", &c.viewer).await;
    assert_eq!(hits["total"], 1);
    assert_eq!(hits["items"][0]["human_id"], "SYS-002");
    assert_eq!(hits["items"][0]["suspect_links"], 0);
    let page = c
        .get(
            "/requirements?sort=title&dir=desc&limit=2&offset=1",
            &c.viewer,
        )
        .await;
    assert_eq!(page["total"], 4);
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["log telemetry", "expose a bus"]);
    for (query, field) in [
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("sort=colour", "sort"),
        ("dir=up", "dir"),
        ("status=lost", "status"),
        ("module=NOPE", "module"),
        ("attribute=ASIL", "attribute"),
        ("attr.ASIL=B&attribute=ASIL%3DD", "attribute"),
    ] {
        let (status, e) = c
            .call(
                Method::GET,
                &format!("/requirements?{query}"),
                &c.viewer,
                None,
            )
            .await;
        assert_eq!(status, 422, "{query}: {e}");
        assert!(e["error"]["details"][field].is_array(), "{query}: {e}");
    }
    let (status, e) = c
        .call(Method::GET, "/requirements?limit=many", &c.viewer, None)
        .await;
    assert_eq!(status, 422);
    assert_eq!(e["error"]["code"], "invalid_query");

    // One requirement: parent and children, findings, revision numbers, the caller's steps.
    let d = c.get("/requirements/sw-001", &c.viewer).await;
    assert_eq!(d["requirement"]["human_id"], "SW-001");
    assert_eq!(d["parent"], "SYS-001");
    assert_eq!(d["revisions"], json!([1]));
    assert_eq!(d["transitions"], json!([]), "a viewer takes no steps");
    assert!(d["findings"].is_array());
    let d = c.get("/requirements/SYS-001", &c.editor).await;
    assert!(d["children"]
        .as_array()
        .unwrap()
        .contains(&json!("SYS-003")));
    assert!(d["transitions"]
        .as_array()
        .unwrap()
        .contains(&json!("submit")));
    let (status, e) = c
        .call(Method::GET, "/requirements/SYS-404", &c.viewer, None)
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // An edit is revision 2; the diff shows the words that changed.
    let r = c
        .ok(
            Method::PATCH,
            "/requirements/SYS-001",
            &c.editor,
            Some(json!({"statement": "The system shall stay within 45 W.", "revision": 1})),
        )
        .await;
    assert_eq!(r["revision"], 2);
    let diff = c
        .get("/requirements/SYS-001/diff?from=1&to=2", &c.viewer)
        .await;
    assert_eq!(
        (diff["from"].as_i64(), diff["to"].as_i64()),
        (Some(1), Some(2))
    );
    let fields = diff["fields"].as_array().unwrap();
    assert!(!fields.iter().any(|f| f["field"] == "title"), "{diff}");
    let statement = fields
        .iter()
        .find(|f| f["field"] == "statement")
        .unwrap_or_else(|| panic!("{diff}"));
    assert_eq!(statement["new"], "The system shall stay within 45 W.");
    let spans = statement["spans"].as_array().unwrap();
    assert!(
        spans.contains(&json!({"kind": "delete", "text": "40"})),
        "{diff}"
    );
    assert!(
        spans.contains(&json!({"kind": "insert", "text": "45"})),
        "{diff}"
    );
    assert_eq!(
        c.get("/requirements/SYS-001/diff", &c.viewer).await,
        diff,
        "defaults: previous → current"
    );
    let (status, e) = c
        .call(
            Method::GET,
            "/requirements/SYS-001/diff?from=1&to=9",
            &c.viewer,
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["to"].is_array());
    let revs = c.get("/requirements/SYS-001/revisions", &c.viewer).await;
    assert_eq!(revs.as_array().unwrap().len(), 2);
    assert_eq!(revs[0]["number"], 1);
    assert_eq!(
        revs[1]["data"]["statement"],
        "The system shall stay within 45 W."
    );
    // A save based on a stale revision is a conflict; nothing is written.
    let (status, e) = c
        .call(
            Method::PATCH,
            "/requirements/SYS-001",
            &c.editor,
            Some(json!({"title": "Lost write", "revision": 1})),
        )
        .await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["error"]["code"], "conflict");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revision 2"));
    assert_eq!(
        c.get("/requirements/SYS-001", &c.viewer).await["requirement"]["title"],
        "power budget"
    );
    // An unchanged save is no new revision.
    let r = c
        .ok(
            Method::PATCH,
            "/requirements/SYS-001",
            &c.editor,
            Some(json!({"title": "power budget", "revision": 2})),
        )
        .await;
    assert_eq!(r["revision"], 2);
}

async fn requirements_api_workflow_and_bulk_edit(b: Backend) {
    let c = setup(b).await;
    let s1 = c.req("SYS", "hold attitude", json!({})).await;
    let s2 = c.req("SYS", "point the antenna", json!({})).await;
    let w1 = c.req("SW", "filter the gyros", json!({})).await;
    let step = |id: &str, s: &str| {
        (
            format!("/requirements/{id}/transitions"),
            json!({"step": s}),
        )
    };

    let (path, body) = step(&s1, "approve");
    let (status, e) = c.call(Method::POST, &path, &c.lead, Some(body)).await;
    assert_eq!(status, 409, "a draft is not approved: {e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("draft"));
    let (path, body) = step(&s1, "submit");
    assert_eq!(
        c.ok(Method::POST, &path, &c.editor, Some(body)).await["status"],
        "in_review"
    );
    let (path, body) = step(&s1, "approve");
    let (status, e) = c.call(Method::POST, &path, &c.editor, Some(body)).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (path, body) = step(&s1, "fly");
    let (status, e) = c.call(Method::POST, &path, &c.lead, Some(body)).await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["step"].is_array());
    let r = c
        .ok(
            Method::POST,
            &format!("/requirements/{s1}/transitions"),
            &c.lead,
            Some(json!({"step": "approve", "comment": "Checked at SRR."})),
        )
        .await;
    assert_eq!(
        (r["status"].as_str(), r["approved_revision"].as_i64()),
        (Some("approved"), Some(1))
    );
    let audit = c.get("/audit?action=transition", &c.lead).await;
    assert_eq!(audit["events"][0]["reason"], "Checked at SRR.");

    // Editing the approved requirement: revision 2 in draft, revision 1 stays approved.
    let r = c
        .ok(
            Method::PATCH,
            &format!("/requirements/{s1}"),
            &c.editor,
            Some(json!({"statement": "The system shall hold attitude within 0.1 deg."})),
        )
        .await;
    assert_eq!(
        (
            r["status"].as_str(),
            r["revision"].as_i64(),
            r["approved_revision"].as_i64()
        ),
        (Some("draft"), Some(2), Some(1))
    );

    // Bulk edit: every row or none.
    let b1 = c
        .ok(
            Method::POST,
            "/requirements/bulk",
            &c.editor,
            Some(json!({"ids": [s1, s2], "changes": {"priority": "high", "owner": "aocs", "tags": ["aocs"]}})),
        )
        .await;
    assert_eq!(b1["updated"], 2);
    assert_eq!(
        c.total("/requirements?priority=high&owner=aocs&tag=aocs")
            .await,
        2
    );
    // SW-001's module has no ASIL: the whole edit is refused, SYS-001 keeps no ASIL either.
    let (status, e) = c
        .call(
            Method::POST,
            "/requirements/bulk",
            &c.editor,
            Some(json!({"ids": [s1, w1], "changes": {"attributes": {"ASIL": "C"}, "priority": "low"}})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(e["error"]["details"]["attributes.ASIL"][0]
        .as_str()
        .unwrap()
        .contains("SW-001"));
    let r = c.get(&format!("/requirements/{s1}"), &c.viewer).await;
    assert_eq!(r["requirement"]["attributes"], json!({}));
    assert_eq!(r["requirement"]["priority"], "high");
    assert_eq!(c.total("/requirements?priority=low").await, 0);
    // An unknown id refuses the whole edit as well.
    let (status, e) = c
        .call(
            Method::POST,
            "/requirements/bulk",
            &c.editor,
            Some(json!({"ids": [s1, "SYS-404"], "changes": {"priority": "low"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["selection"][0]
        .as_str()
        .unwrap()
        .contains("SYS-404"));
    // An obsolete requirement cannot be edited: the batch with it changes nothing.
    c.ok(
        Method::POST,
        &format!("/requirements/{s2}/transitions"),
        &c.lead,
        Some(json!({"step": "obsolete"})),
    )
    .await;
    let (status, _) = c
        .call(
            Method::POST,
            "/requirements/bulk",
            &c.editor,
            Some(json!({"ids": [s1, s2], "changes": {"priority": "low"}})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(c.total("/requirements?priority=low").await, 0);
    let (status, e) = c
        .call(
            Method::POST,
            "/requirements/bulk",
            &c.editor,
            Some(json!({"ids": [s1], "changes": {"priority": "low", "revision": 2}})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["changes.revision"].is_array());
    let (status, e) = c
        .call(
            Method::POST,
            "/requirements/bulk",
            &c.editor,
            Some(json!({"ids": [], "changes": {"priority": "low"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["selection"].is_array());
}

async fn requirements_api_links_and_suspect_clearing(b: Backend) {
    let c = setup(b).await;
    let top = c.req("SYS", "hold attitude", json!({})).await;
    let mid = c.req("SW", "estimate attitude", json!({})).await;
    let leaf = c.req("SW", "filter the gyros", json!({})).await;
    let (status, l) = c
        .call(
            Method::POST,
            "/links",
            &c.editor,
            Some(json!({"source": mid, "kind": "derives", "target": top})),
        )
        .await;
    assert_eq!(status, 201, "{l}");
    assert_eq!(
        (
            l["source"].as_str(),
            l["kind"].as_str(),
            l["target"].as_str()
        ),
        (Some("SW-001"), Some("derives"), Some("SYS-001"))
    );
    assert_eq!(l["target_title"], "hold attitude");
    assert_eq!(l["suspect"], false);
    // Duplicates, self links, unknown kinds and ends, and cycles are refused with a reason.
    let (status, e) = c
        .call(
            Method::POST,
            "/links",
            &c.editor,
            Some(json!({"source": mid, "kind": "derives", "target": top})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("exists"),
        "{e}"
    );
    for (body, field) in [
        (
            json!({"source": mid, "kind": "derives", "target": mid}),
            "target",
        ),
        (
            json!({"source": mid, "kind": "blocks", "target": top}),
            "kind",
        ),
        (
            json!({"source": "SW-404", "kind": "derives", "target": top}),
            "source",
        ),
    ] {
        let (status, e) = c.call(Method::POST, "/links", &c.editor, Some(body)).await;
        assert_eq!(status, 422, "{e}");
        assert!(e["error"]["details"][field].is_array(), "{e}");
    }
    c.link(&leaf, "refines", &mid).await;
    let (status, e) = c
        .call(
            Method::POST,
            "/links",
            &c.editor,
            Some(json!({"source": top, "kind": "derives", "target": leaf})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("cycle"),
        "{e}"
    );
    let back = c.link(&top, "relates", &leaf).await;
    let d = c.get(&format!("/requirements/{mid}"), &c.viewer).await;
    assert_eq!(d["outgoing"].as_array().unwrap().len(), 1);
    assert_eq!(d["incoming"][0]["source"], "SW-002");

    // Editing the upstream end makes its links suspect, and along derives/refines the ones below.
    c.ok(
        Method::PATCH,
        &format!("/requirements/{top}"),
        &c.editor,
        Some(json!({"statement": "The system shall hold attitude within 0.1 deg."})),
    )
    .await;
    let suspect = c.get("/links?suspect=true", &c.viewer).await;
    assert_eq!(suspect["total"], 3, "{suspect}");
    let d = c.get(&format!("/requirements/{mid}"), &c.viewer).await;
    let out = &d["outgoing"][0];
    assert_eq!(out["suspect"], true);
    assert_eq!(
        out["suspect_reasons"][0],
        json!({"end": "target", "changed": "SYS-001", "from_revision": 1, "to_revision": 2, "propagated": false})
    );
    assert_eq!(d["incoming"][0]["suspect_reasons"][0]["propagated"], true);
    assert_eq!(c.total("/requirements?suspect=true").await, 3);
    assert_eq!(
        c.get("/requirements?module=SW", &c.viewer).await["items"][0]["suspect_links"],
        2
    );

    // Clearing needs a reason and valid ids; it is audited per link with the reason.
    let ids: Vec<Value> = suspect["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].clone())
        .collect();
    for (body, field) in [
        (json!({"ids": ids, "reason": "  "}), "reason"),
        (json!({"ids": ["not-an-id"], "reason": "fine"}), "ids"),
        (json!({"ids": [], "reason": "fine"}), "ids"),
    ] {
        let (status, e) = c
            .call(Method::POST, "/links/clear", &c.editor, Some(body))
            .await;
        assert_eq!(status, 422, "{e}");
        assert!(e["error"]["details"][field].is_array(), "{e}");
    }
    let cleared = c
        .ok(
            Method::POST,
            "/links/clear",
            &c.editor,
            Some(json!({"ids": ids, "reason": "checked: still holds"})),
        )
        .await;
    assert_eq!(cleared["cleared"], 3);
    assert_eq!(c.total("/links?suspect=true").await, 0);
    let audit = c.get("/audit?action=clear", &c.lead).await;
    assert_eq!(audit["total"], 3);
    assert_eq!(audit["events"][0]["reason"], "checked: still holds");
    assert_eq!(audit["events"][0]["artefact_type"], "trace_link");

    // Paging and deletion.
    let all = c.get("/links?limit=2", &c.viewer).await;
    assert_eq!(
        (
            all["total"].as_i64(),
            all["items"].as_array().unwrap().len()
        ),
        (Some(3), 2)
    );
    let (status, _) = c.call(Method::GET, "/links?limit=0", &c.viewer, None).await;
    assert_eq!(status, 422);
    let (status, body) = c
        .call(Method::DELETE, &format!("/links/{back}"), &c.editor, None)
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = c
        .call(Method::DELETE, &format!("/links/{back}"), &c.editor, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = c.call(Method::DELETE, "/links/nope", &c.editor, None).await;
    assert_eq!(status, 404);
    assert_eq!(c.total("/links").await, 2);
}

async fn requirements_api_comments_and_review_rounds(b: Backend) {
    let c = setup(b).await;
    let s1 = c.req("SYS", "hold attitude", json!({})).await;
    let s2 = c.req("SYS", "point the antenna", json!({})).await;
    let comments = format!("/requirements/{s1}/comments");
    // Viewers may discuss; answers go into the thread.
    let (status, first) = c
        .call(
            Method::POST,
            &comments,
            &c.viewer,
            Some(json!({"body": "Which axis?"})),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    let thread = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["thread_id"], Value::Null);
    let reply = c
        .ok(
            Method::POST,
            &comments,
            &c.editor,
            Some(json!({"body": "All three.", "thread": thread})),
        )
        .await;
    assert_eq!(reply["thread_id"], thread.as_str());
    for (body, field) in [
        (json!({"body": "  "}), "body"),
        (json!({"body": "x", "thread": "nope"}), "thread"),
        (
            json!({"body": "x", "thread": uuid::Uuid::nil().to_string()}),
            "thread",
        ),
    ] {
        let (status, e) = c.call(Method::POST, &comments, &c.editor, Some(body)).await;
        assert_eq!(status, 422, "{e}");
        assert!(e["error"]["details"][field].is_array(), "{e}");
    }
    let list = c.get(&comments, &c.viewer).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        c.get(&format!("/requirements/{s1}"), &c.viewer).await["open_threads"],
        1
    );
    let resolve = format!("{comments}/{thread}/resolve");
    let (status, _) = c.call(Method::POST, &resolve, &c.viewer, None).await;
    assert_eq!(status, 403);
    let head = c.ok(Method::POST, &resolve, &c.editor, None).await;
    assert_eq!(head["id"], thread.as_str());
    assert_eq!(head["resolved_by"], "emil");
    assert!(head["resolved_at"].is_string());
    let (status, _) = c.call(Method::POST, &resolve, &c.editor, None).await;
    assert_eq!(status, 409, "already resolved");
    let (status, _) = c
        .call(
            Method::POST,
            &format!("{comments}/{}/resolve", uuid::Uuid::nil()),
            &c.editor,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = c
        .call(
            Method::POST,
            &format!("/requirements/{s2}/comments/{thread}/resolve"),
            &c.editor,
            None,
        )
        .await;
    assert_eq!(status, 404, "a thread of another requirement");
    assert_eq!(
        c.get(&format!("/requirements/{s1}"), &c.viewer).await["open_threads"],
        0
    );

    // A review round: a lead opens it, reviewers decide, the lead closes and applies.
    let members =
        c.br.api(Method::GET, &format!("{P}/members"), &c.lead, None)
            .await
            .1;
    let vera = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "vera@example.org")
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let open =
        json!({"title": "PDR", "requirements": [s1, s2], "reviewers": ["EMIL@example.org", vera]});
    let (status, _) = c
        .call(Method::POST, "/reviews", &c.editor, Some(open.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, e) = c
        .call(
            Method::POST,
            "/reviews",
            &c.lead,
            Some(json!({"title": "PDR", "requirements": [s1], "reviewers": ["olga@example.org"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["reviewers"].is_array());
    let (status, round) = c.call(Method::POST, "/reviews", &c.lead, Some(open)).await;
    assert_eq!(status, 201, "{round}");
    assert_eq!(round["round"]["status"], "open");
    assert_eq!(round["reviewers"].as_array().unwrap().len(), 2);
    assert!(round["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "in_review"));
    let id = round["round"]["id"].as_str().unwrap().to_owned();
    assert_eq!(c.get("/reviews", &c.viewer).await[0]["id"], id.as_str());
    let decide = format!("/reviews/{id}/decisions");
    c.ok(
        Method::POST,
        &decide,
        &c.editor,
        Some(json!({"requirement": s1, "decision": "approve"})),
    )
    .await;
    c.ok(
        Method::POST,
        &decide,
        &c.viewer,
        Some(json!({"requirement": s1, "decision": "approve"})),
    )
    .await;
    let (status, e) = c
        .call(
            Method::POST,
            &decide,
            &c.editor,
            Some(json!({"requirement": s2, "decision": "reject"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["comment"].is_array());
    let d = c
        .ok(
            Method::POST,
            &decide,
            &c.editor,
            Some(
                json!({"requirement": s2, "decision": "reject", "comment": "No pointing budget."}),
            ),
        )
        .await;
    assert_eq!(d["decisions"].as_array().unwrap().len(), 3);
    assert!(d["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["requirement"] == "SYS-002" && x["decision"] == "reject"));
    let (status, _) = c
        .call(
            Method::POST,
            &decide,
            &c.lead,
            Some(json!({"requirement": s1, "decision": "approve"})),
        )
        .await;
    assert_eq!(status, 403, "the lead is not a reviewer of this round");
    let (status, _) = c
        .call(
            Method::POST,
            &format!("/reviews/{id}/close"),
            &c.editor,
            Some(json!({"apply": true})),
        )
        .await;
    assert_eq!(status, 403);
    let closed = c
        .ok(
            Method::POST,
            &format!("/reviews/{id}/close"),
            &c.lead,
            Some(json!({"apply": true, "summary": "PDR closed"})),
        )
        .await;
    assert_eq!(closed["round"]["status"], "closed");
    assert_eq!(closed["round"]["summary"], "PDR closed");
    let outcome = |h: &str| {
        closed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["requirement"] == h)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(
        (outcome(&s1), outcome(&s2)),
        (json!("approved"), json!("rejected"))
    );
    let status_of = |v: Value| v["requirement"]["status"].clone();
    assert_eq!(
        status_of(c.get(&format!("/requirements/{s1}"), &c.viewer).await),
        "approved"
    );
    assert_eq!(
        status_of(c.get(&format!("/requirements/{s2}"), &c.viewer).await),
        "rejected"
    );
    let (status, _) = c
        .call(
            Method::POST,
            &format!("/reviews/{id}/close"),
            &c.lead,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        c.get(&format!("/reviews/{id}"), &c.viewer).await["round"]["closed_by"],
        "lena"
    );
    for bad in [uuid::Uuid::nil().to_string(), "nope".to_owned()] {
        let (status, e) = c
            .call(Method::GET, &format!("/reviews/{bad}"), &c.viewer, None)
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (404, Some("not_found"))
        );
    }
}

async fn requirements_api_search_quality_coverage_rvtm(b: Backend) {
    let c = setup(b).await;
    let top = c.req("SYS", "hold attitude", json!({})).await;
    let vague = c
        .ok(
            Method::POST,
            "/modules/SW/requirements",
            &c.editor,
            Some(json!({
                "title": "Attitude estimate",
                "statement": "The software should estimate attitude quickly.",
                "rationale": "Control needs it.",
                "verification_methods": ["analysis"],
            })),
        )
        .await["human_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lone = c.req("SW", "log events", json!({})).await;
    c.link(&vague, "derives", &top).await;
    c.link(&lone, "verifies", &top).await;

    // Search: ranked hits with [[ ]] around the matched words.
    let hits = c.get("/search?q=attitude", &c.viewer).await["items"].clone();
    let hits = hits.as_array().unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits
        .iter()
        .all(|h| h["snippet"].as_str().unwrap().contains("[[")
            && h["snippet"].as_str().unwrap().contains("]]")
            && h["rank"].is_number()));
    assert!(hits
        .iter()
        .any(|h| h["human_id"] == "SW-001" && h["module"] == "SW"));
    assert_eq!(
        c.get("/search?q=nothinglikethis", &c.viewer).await["items"],
        json!([])
    );
    assert_eq!(
        c.get("/search?q=sys-001", &c.viewer).await["items"][0]["human_id"],
        "SYS-001"
    );
    let (status, e) = c.call(Method::GET, "/search", &c.viewer, None).await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["q"].is_array());

    // Quality: the vague requirement's weak word, scores per module; rules switched off.
    let q = c.get("/quality", &c.viewer).await;
    assert_eq!(q["modules"].as_array().unwrap().len(), 2);
    let item = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["human_id"] == vague.as_str())
        .unwrap()
        .clone();
    assert_eq!(item["module"], "SW");
    assert!(item["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "weak_word" && f["severity"] == "warning"));
    assert!(q["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "weak_word"));
    let sw = c.get("/quality?module=sw", &c.viewer).await;
    assert_eq!(sw["modules"].as_array().unwrap().len(), 1);
    assert!(sw["modules"][0]["score"].as_u64().unwrap() < 100);
    let (status, _) = c
        .call(Method::GET, "/quality?module=NOPE", &c.viewer, None)
        .await;
    assert_eq!(status, 404);
    let d = c.get(&format!("/requirements/{vague}"), &c.viewer).await;
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "weak_word"));
    let rules = json!({"disabled": ["weak-word"]});
    let (status, _) = c
        .call(
            Method::PUT,
            "/quality/rules",
            &c.editor,
            Some(rules.clone()),
        )
        .await;
    assert_eq!(status, 403);
    let r = c
        .ok(Method::PUT, "/quality/rules", &c.lead, Some(rules))
        .await;
    assert_eq!(r["disabled"], json!(["weak_word"]));
    assert!(r["enabled"].as_array().unwrap().contains(&json!("tbd")));
    let q = c.get("/quality", &c.viewer).await;
    assert_eq!(q["disabled_rules"], json!(["weak_word"]));
    assert!(!q.to_string().contains("\"rule\":\"weak_word\""), "{q}");
    let (status, e) = c
        .call(
            Method::PUT,
            "/quality/rules",
            &c.lead,
            Some(json!({"disabled": ["speling"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["disabled"].is_array());

    // Coverage: SW-001 traces up, SW-002 only verifies; SYS-001 is covered down and verified.
    let cov = c.get("/coverage", &c.viewer).await;
    let p = &cov["project"];
    assert_eq!(p["requirements"], 3);
    assert_eq!(
        (p["up_applicable"].as_u64(), p["up_covered"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(p["up_pct"], 50);
    assert_eq!(
        (p["down_covered"].as_u64(), p["verified_linked"].as_u64()),
        (Some(1), Some(1))
    );
    let sys = cov["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "SYS")
        .unwrap()
        .clone();
    assert_eq!(sys["figures"]["verified_pct"], 100);

    // RVTM: rows with both directions; filters combine.
    let m = c.get("/rvtm", &c.viewer).await;
    assert_eq!(m["total"], 3);
    let row = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["human_id"] == "SYS-001")
        .unwrap()
        .clone();
    assert_eq!(row["downstream"], json!(["SW-001"]));
    assert_eq!(row["verified_by"], json!(["SW-002"]));
    assert_eq!(row["verification"], "linked");
    let ids = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["human_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(c.get("/rvtm?uncovered=true", &c.viewer).await),
        ["SW-001", "SW-002"]
    );
    assert_eq!(
        ids(c.get("/rvtm?unverified=true&module=SW", &c.viewer).await),
        ["SW-001", "SW-002"]
    );
    assert_eq!(
        ids(c.get("/rvtm?suspect=true", &c.viewer).await),
        Vec::<String>::new()
    );
    let page = c.get("/rvtm?limit=1&offset=1", &c.viewer).await;
    assert_eq!((page["total"].as_u64(), ids(page).len()), (Some(3), 1));
    c.ok(
        Method::PATCH,
        &format!("/requirements/{top}"),
        &c.editor,
        Some(json!({"statement": "The system shall hold attitude to 0.1 deg."})),
    )
    .await;
    assert_eq!(
        ids(c.get("/rvtm?suspect=true&uncovered=true", &c.viewer).await),
        ["SW-001", "SW-002"]
    );
    assert_eq!(
        c.get("/coverage", &c.viewer).await["project"]["suspect_links"],
        2
    );
    let (status, e) = c
        .call(Method::GET, "/rvtm?module=NOPE", &c.viewer, None)
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["module"].is_array());
    let (status, _) = c
        .call(Method::GET, "/rvtm?uncovered=maybe", &c.viewer, None)
        .await;
    assert_eq!(status, 422);

    // The OpenAPI document describes these operations and the snippet markers.
    let doc: Value = c.br.get("/api/v1/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/projects/{code}/requirements",
        "/api/v1/projects/{code}/requirements/{human_id}/diff",
        "/api/v1/projects/{code}/links/clear",
        "/api/v1/projects/{code}/reviews/{id}/decisions",
        "/api/v1/projects/{code}/rvtm",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(
        doc["components"]["schemas"]["SearchHitOut"]["properties"]["snippet"]["description"]
            .as_str()
            .unwrap()
            .contains("[[")
    );
}

async fn requirements_api_access(b: Backend) {
    let c = setup(b).await;
    let s1 = c.req("SYS", "hold attitude", json!({})).await;
    let s2 = c.req("SYS", "point the antenna", json!({})).await;
    let link = c.link(&s2, "derives", &s1).await;
    let thread = c
        .ok(
            Method::POST,
            &format!("/requirements/{s1}/comments"),
            &c.editor,
            Some(json!({"body": "Which axis?"})),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let round = c
        .ok(
            Method::POST,
            "/reviews",
            &c.lead,
            Some(json!({"title": "SRR", "requirements": [s1], "reviewers": ["emil@example.org"]})),
        )
        .await["round"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A viewer reads everything and writes nothing.
    let writes: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/modules".into(),
            json!({"prefix": "HW", "name": "Hardware"}),
        ),
        (
            Method::PATCH,
            "/modules/SYS".into(),
            json!({"name": "Renamed"}),
        ),
        (
            Method::POST,
            "/modules/SYS/requirements".into(),
            json!({"title": "Sneaky"}),
        ),
        (
            Method::PATCH,
            format!("/requirements/{s1}"),
            json!({"title": "Sneaky"}),
        ),
        (
            Method::POST,
            "/requirements/bulk".into(),
            json!({"ids": [s1], "changes": {"priority": "low"}}),
        ),
        (
            Method::POST,
            format!("/requirements/{s2}/transitions"),
            json!({"step": "submit"}),
        ),
        (
            Method::POST,
            "/links".into(),
            json!({"source": s1, "kind": "relates", "target": s2}),
        ),
        (Method::DELETE, format!("/links/{link}"), json!({})),
        (
            Method::POST,
            "/links/clear".into(),
            json!({"ids": [link], "reason": "fine"}),
        ),
        (
            Method::POST,
            format!("/requirements/{s1}/comments/{thread}/resolve"),
            json!({}),
        ),
        (
            Method::POST,
            "/reviews".into(),
            json!({"title": "Mine", "requirements": [s2], "reviewers": ["vera@example.org"]}),
        ),
        (
            Method::POST,
            format!("/reviews/{round}/decisions"),
            json!({"requirement": s1, "decision": "approve"}),
        ),
        (
            Method::POST,
            format!("/reviews/{round}/close"),
            json!({"apply": true}),
        ),
        (
            Method::PUT,
            "/quality/rules".into(),
            json!({"disabled": ["tbd"]}),
        ),
    ];
    for (method, path, body) in &writes {
        let (status, e) = c
            .call(method.clone(), path, &c.viewer, Some(body.clone()))
            .await;
        assert_eq!(status, 403, "viewer {method} {path}: {e}");
        assert_eq!(e["error"]["code"], "forbidden");
    }
    assert_eq!(c.total("/requirements").await, 2, "nothing was written");
    assert_eq!(c.total("/links").await, 1);
    assert_eq!(
        c.get("/modules/SYS", &c.viewer).await["name"],
        "System requirements"
    );

    // A non-member sees nothing of the project: 404, not 403.
    let reads = [
        "/modules",
        "/modules/SYS",
        "/requirements",
        "/requirements/SYS-001",
        "/requirements/SYS-001/revisions",
        "/requirements/SYS-001/diff",
        "/requirements/SYS-001/comments",
        "/links",
        "/reviews",
        "/search?q=attitude",
        "/quality",
        "/coverage",
        "/rvtm",
    ];
    for path in reads {
        let (status, e) = c.call(Method::GET, path, &c.outsider, None).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (404, Some("not_found")),
            "outsider GET {path}"
        );
    }
    let round_path = format!("/reviews/{round}");
    for (method, path, body) in writes
        .iter()
        .chain([(Method::GET, round_path, json!({}))].iter())
    {
        let (status, _) = c
            .call(method.clone(), path, &c.outsider, Some(body.clone()))
            .await;
        assert_eq!(status, 404, "outsider {method} {path}");
    }

    // Another project's artefacts do not exist here, even for ALPHA's lead.
    let bravo = |path: &str| format!("/api/v1/projects/BRAVO{path}");
    let olga = &c.outsider;
    let (status, _) =
        c.br.api(
            Method::POST,
            &bravo("/modules"),
            olga,
            Some(json!({"prefix": "BR", "name": "Bravo"})),
        )
        .await;
    assert_eq!(status, 201);
    for t in ["one", "two"] {
        let (status, _) =
            c.br.api(
                Method::POST,
                &bravo("/modules/BR/requirements"),
                olga,
                Some(json!({"title": t})),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, bl) =
        c.br.api(
            Method::POST,
            &bravo("/links"),
            olga,
            Some(json!({"source": "BR-002", "kind": "derives", "target": "BR-001"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, br) = c
        .br
        .api(
            Method::POST,
            &bravo("/reviews"),
            olga,
            Some(json!({"title": "B", "requirements": ["BR-001"], "reviewers": ["olga@example.org"]})),
        )
        .await;
    assert_eq!(status, 201, "{br}");
    let (bl, br) = (
        bl["id"].as_str().unwrap(),
        br["round"]["id"].as_str().unwrap(),
    );
    let title = json!({"title": "x"});
    for (method, path, body) in [
        (Method::GET, "/requirements/BR-001".to_owned(), json!({})),
        (
            Method::PATCH,
            "/requirements/BR-001".to_owned(),
            title.clone(),
        ),
        (
            Method::POST,
            "/requirements/BR-001/transitions".to_owned(),
            json!({"step": "submit"}),
        ),
        (
            Method::GET,
            "/requirements/BR-001/revisions".to_owned(),
            json!({}),
        ),
        (
            Method::POST,
            "/modules/BR/requirements".to_owned(),
            title.clone(),
        ),
        (Method::DELETE, format!("/links/{bl}"), json!({})),
        (Method::GET, format!("/reviews/{br}"), json!({})),
        (Method::POST, format!("/reviews/{br}/close"), json!({})),
    ] {
        let (status, e) = c.call(method.clone(), &path, &c.lead, Some(body)).await;
        assert_eq!(status, 404, "ALPHA lead {method} {path}: {e}");
    }
    let (status, e) = c
        .call(
            Method::POST,
            "/links",
            &c.lead,
            Some(json!({"source": s1, "kind": "relates", "target": "BR-001"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(e["error"]["details"]["target"][0]
        .as_str()
        .unwrap()
        .contains("no requirement BR-001 in this project"));
    let (status, e) = c
        .call(
            Method::POST,
            "/links/clear",
            &c.lead,
            Some(json!({"ids": [bl], "reason": "fine"})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    // No token, no API.
    let (status, _) = c
        .call(Method::GET, "/requirements", "osa_not-a-token", None)
        .await;
    assert_eq!(status, 401);
}

both!(
    requirements_api_modules_requirements_filters_and_revisions,
    requirements_api_workflow_and_bulk_edit,
    requirements_api_links_and_suspect_clearing,
    requirements_api_comments_and_review_rounds,
    requirements_api_search_quality_coverage_rvtm,
    requirements_api_access
);
