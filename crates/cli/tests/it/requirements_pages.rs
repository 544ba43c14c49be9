//! The server-rendered requirements pages: modules, table and document views, the
//! requirement page (edit, workflow, links, suspect flags, comments, diff), bulk edit, trace
//! and quality pages, review rounds and search, driven through forms as a browser would.

use crate::location;
use opensesa_app::Principal;
use opensesa_domain::accounts::Email;
use opensesa_domain::requirements::{ModuleInput, RequirementInput};
use opensesa_testkit::{Backend, Browser, TestApp};

const LEAD: &str = "lena@example.org";
const EDITOR: &str = "emil@example.org";
const VIEWER: &str = "vera@example.org";
const OTHER: &str = "olga@example.org";

async fn setup(b: Backend) -> TestApp {
    let t = TestApp::start(b).await;
    for u in [LEAD, EDITOR, VIEWER, OTHER] {
        t.user(u, false).await;
    }
    t.project(
        "ALPHA",
        &[(LEAD, "lead"), (EDITOR, "editor"), (VIEWER, "viewer")],
    )
    .await;
    t.project("BRAVO", &[(OTHER, "lead")]).await;
    t
}

async fn principal(t: &TestApp, email: &str) -> Principal {
    let user = t
        .app
        .store
        .find_user_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    Principal {
        user,
        session: None,
    }
}

/// A module made directly through the app (setup for tests about other pages).
async fn module(t: &TestApp, code: &str, prefix: &str, parent: Option<&str>) {
    let lead = if code == "BRAVO" { OTHER } else { LEAD };
    let input = ModuleInput {
        prefix: Some(prefix.into()),
        name: Some(format!("Module {prefix}")),
        parent: parent.map(str::to_owned),
        ..Default::default()
    };
    t.app
        .create_module(&principal(t, lead).await, code, &input)
        .await
        .unwrap();
}

/// A requirement made directly through the app; returns its human id.
async fn requirement(t: &TestApp, code: &str, prefix: &str, input: RequirementInput) -> String {
    let lead = if code == "BRAVO" { OTHER } else { LEAD };
    t.app
        .create_requirement(&principal(t, lead).await, code, prefix, &input)
        .await
        .unwrap()
        .human_id
}

fn req_input(title: &str, statement: &str) -> RequirementInput {
    RequirementInput {
        title: Some(title.into()),
        statement: Some(statement.into()),
        rationale: Some("Because.".into()),
        verification_methods: Some("test".into()),
        ..Default::default()
    }
}

/// A form post with the session's CSRF token (read once from `page`).
struct Session {
    br: Browser,
    token: String,
}

impl Session {
    async fn new(t: &TestApp, email: &str) -> Self {
        let br = t.logged_in(email).await;
        let token = br.csrf_token("/p/ALPHA/requirements").await;
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
}

fn all_between(haystack: &str, start: &str, end: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = haystack;
    while let Some(i) = rest.find(start) {
        rest = &rest[i + start.len()..];
        if let Some(j) = rest.find(end) {
            out.push(rest[..j].to_owned());
            rest = &rest[j..];
        }
    }
    out
}

/// The number shown in "Showing a–b of N."
fn shown_total(html: &str) -> i64 {
    if html.contains("No requirements match.") {
        return 0;
    }
    let s = opensesa_testkit::extract_between(html, "Showing ", ".").unwrap();
    s.rsplit(' ').next().unwrap().parse().unwrap()
}

async fn lead_creates_modules_and_requirements_through_forms(b: Backend) {
    let t = setup(b).await;
    let lena = Session::new(&t, LEAD).await;
    let res = lena
        .post(
            "/p/ALPHA/requirements/modules",
            &[
                ("prefix", "sys"),
                ("name", "System"),
                ("description", "Top level"),
                ("parent", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/p/ALPHA/requirements/m/SYS");
    let res = lena
        .post(
            "/p/ALPHA/requirements/modules",
            &[("prefix", "SUB"), ("name", "Subsystem"), ("parent", "SYS")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A second SYS is refused next to the prefix field, with what was typed kept.
    let res = lena
        .post(
            "/p/ALPHA/requirements/modules",
            &[("prefix", "SYS"), ("name", "Again"), ("parent", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("class=\"field-error\">prefix") || html.contains("class=\"field-error\">")
    );
    assert!(html.contains("value=\"Again\""));
    let index = lena.text("/p/ALPHA/requirements").await;
    assert!(index.contains("System") && index.contains("tree depth-1"));
    assert!(index.find(">System<").unwrap() < index.find(">Subsystem<").unwrap());

    // Module settings: a parent below the module is refused, a rename is saved.
    let res = lena
        .post(
            "/p/ALPHA/requirements/m/SYS/settings",
            &[("prefix", "SYS"), ("name", "System"), ("parent", "SUB")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("the parent is inside this module"));
    let res = lena
        .post(
            "/p/ALPHA/requirements/m/SUB/settings",
            &[
                ("prefix", "SUB"),
                ("name", "Subsystem A"),
                ("description", ""),
                ("parent", "SYS"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/p/ALPHA/requirements/m/SUB/settings");
    assert!(lena
        .text("/p/ALPHA/requirements")
        .await
        .contains(">Subsystem A<"));

    // Custom attributes through the settings page.
    let res = lena
        .post(
            "/p/ALPHA/requirements/m/SYS/attributes",
            &[
                ("attr_count", "2"),
                ("attr_name_0", "ASIL"),
                ("attr_kind_0", "enumeration"),
                ("attr_options_0", "A, B, C"),
                ("attr_name_1", ""),
                ("attr_kind_1", "text"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let settings = lena.text("/p/ALPHA/requirements/m/SYS/settings").await;
    assert!(settings.contains("value=\"ASIL\"") && settings.contains("A, B, C"));
    let res = lena
        .post(
            "/p/ALPHA/requirements/m/SYS/attributes",
            &[
                ("attr_count", "1"),
                ("attr_name_0", "Title"),
                ("attr_kind_0", "text"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("built-in field"));

    // Requirements through the create form; errors name their fields.
    let res = lena
        .post(
            "/p/ALPHA/requirements/m/SYS",
            &[
                ("title", ""),
                ("statement", "Typed text stays."),
                ("kind", "functional"),
                ("priority", "high"),
                ("parent", "SYS-999"),
                ("attributes.ASIL", "D"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("Typed text stays."));
    assert!(html.contains("SYS-999") && html.contains("in this project"));
    assert!(html.contains("attributes.ASIL"));
    let res = lena
        .post(
            "/p/ALPHA/requirements/m/SYS",
            &[
                ("title", "Attitude control"),
                ("statement", "The spacecraft shall hold attitude."),
                ("rationale", "Pointing."),
                ("kind", "functional"),
                ("priority", "high"),
                ("verification", "test"),
                ("verification", "analysis"),
                ("owner", "gnc"),
                ("tags", "aocs, pointing"),
                ("attributes.ASIL", "B"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let flash_target = location(&res);
    assert!(flash_target.starts_with("/p/ALPHA/requirements/m/SYS"));
    let page = lena.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("Attitude control") && page.contains("test, analysis"));
    assert!(page.contains("aocs, pointing") && page.contains(">B<"));
    let table = lena
        .text("/p/ALPHA/requirements/m/SYS?col=id&col=title&col=attr%3AASIL")
        .await;
    assert!(table.contains("SYS-001") && table.contains("<th>ASIL</th>"));
}

async fn table_filters_sorts_and_paginates(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    for i in 1..=55 {
        let mut input = req_input(
            &format!("Item {i:02}"),
            &format!("The unit shall do task number {i}."),
        );
        input.priority = Some(if i % 5 == 0 { "high" } else { "low" }.into());
        input.tags = Some(if i == 7 { "special" } else { "plain" }.into());
        if i == 42 {
            input.statement = Some("The unit shall survive vibration.".into());
        }
        requirement(&t, "ALPHA", "SYS", input).await;
    }
    let lena = Session::new(&t, LEAD).await;
    let html = lena.text("/p/ALPHA/requirements/m/SYS").await;
    assert!(html.contains("Showing 1–50 of 55."));
    assert!(html.contains("SYS-050") && !html.contains("SYS-051"));
    assert!(html.contains("page=2"));
    let html = lena.text("/p/ALPHA/requirements/m/SYS?page=2").await;
    assert!(html.contains("Showing 51–55 of 55.") && html.contains("SYS-055"));

    // Filters.
    let html = lena.text("/p/ALPHA/requirements/m/SYS?priority=high").await;
    assert_eq!(shown_total(&html), 11);
    let html = lena.text("/p/ALPHA/requirements/m/SYS?tag=special").await;
    assert_eq!(shown_total(&html), 1);
    assert!(html.contains("SYS-007"));
    let html = lena.text("/p/ALPHA/requirements/m/SYS?q=vibration").await;
    assert_eq!(shown_total(&html), 1);
    assert!(html.contains("SYS-042"));
    let html = lena
        .text("/p/ALPHA/requirements/m/SYS?status=draft&priority=high&q=task")
        .await;
    assert_eq!(shown_total(&html), 11);
    let html = lena
        .text("/p/ALPHA/requirements/m/SYS?status=sideways")
        .await;
    assert!(html.contains("unknown status"));
    assert_eq!(shown_total(&html), 55);

    // Sorting by a header keeps the filters; the direction flips on the current column.
    let html = lena
        .text("/p/ALPHA/requirements/m/SYS?priority=high&sort=title&dir=desc")
        .await;
    assert!(html.find("Item 55").unwrap() < html.find("Item 05").unwrap());
    assert!(html.contains("sort=title&amp;priority=high") || html.contains("priority=high"));
    let html = lena
        .text("/p/ALPHA/requirements/m/SYS?priority=high&sort=title")
        .await;
    assert!(html.find("Item 05").unwrap() < html.find("Item 55").unwrap());
    assert!(
        html.contains("dir=desc"),
        "the header link flips the direction"
    );
    assert!(lena
        .text("/p/ALPHA/requirements/m/SYS?sort=statement")
        .await
        .contains("cannot be sorted"));

    // Columns come from the query string.
    let html = lena.text("/p/ALPHA/requirements/m/SYS?tag=special").await;
    assert!(!html.contains("task number 7."));
    let html = lena
        .text("/p/ALPHA/requirements/m/SYS?tag=special&col=id&col=statement&col=tags")
        .await;
    assert!(html.contains("task number 7.") && html.contains("<td>special</td>"));
    assert!(html.contains("name=\"col\" value=\"statement\" checked"));
}

async fn document_view_reads_in_order_with_headings(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "DOC", None).await;
    let intro = requirement(
        &t,
        "ALPHA",
        "DOC",
        RequirementInput {
            title: Some("Introduction".into()),
            kind: Some("heading".into()),
            ..Default::default()
        },
    )
    .await;
    let mut first = req_input(
        "Power",
        "The unit shall draw <b>at most</b> 5 W.\nIn all modes.",
    );
    first.parent = Some(intro.clone());
    requirement(&t, "ALPHA", "DOC", first).await;
    let sub = requirement(
        &t,
        "ALPHA",
        "DOC",
        RequirementInput {
            title: Some("Details".into()),
            kind: Some("heading".into()),
            parent: Some(intro.clone()),
            ..Default::default()
        },
    )
    .await;
    let mut second = req_input("Mass", "The unit shall weigh less than 2 kg.");
    second.parent = Some(sub);
    requirement(&t, "ALPHA", "DOC", second).await;

    let vera = Session::new(&t, VIEWER).await;
    let html = vera.text("/p/ALPHA/requirements/m/DOC/document").await;
    let h2 = html
        .find("<h2 class=\"doc-heading\" id=\"DOC-001\">Introduction</h2>")
        .unwrap();
    let power = html.find("Power").unwrap();
    let h3 = html
        .find("<h3 class=\"doc-heading\" id=\"DOC-003\">Details</h3>")
        .unwrap();
    let mass = html.find("Mass").unwrap();
    assert!(h2 < power && power < h3 && h3 < mass, "document order");
    assert!(html.contains("draw &#60;b&#62;at most&#60;/b&#62; 5 W.<br>In all modes."));
    assert!(!html.contains("<b>at most</b>"));
    assert!(html.contains("doc-req depth-2"));
    assert!(html.contains("status-draft"));
}

async fn editing_makes_a_revision_and_the_diff_shows_it(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Logging", "The system shall log events."),
    )
    .await;
    let emil = Session::new(&t, EDITOR).await;
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("name=\"revision\" value=\"1\""));
    let edit = |statement: &'static str, rev: &'static str| {
        let emil = &emil;
        async move {
            emil.post(
                "/p/ALPHA/requirements/r/SYS-001",
                &[
                    ("revision", rev),
                    ("title", "Logging"),
                    ("statement", statement),
                    ("rationale", "Because."),
                    ("kind", "functional"),
                    ("priority", "medium"),
                    ("verification", "test"),
                ],
            )
            .await
        }
    };
    let res = edit("The system shall record all events.", "1").await;
    assert_eq!(res.status(), 303);
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("Revision 2.") && page.contains("record all events"));
    assert!(page.contains("name=\"from\" value=\"1\"") && page.contains("name=\"to\" value=\"2\""));

    let diff = emil
        .text("/p/ALPHA/requirements/r/SYS-001/diff?from=1&to=2")
        .await;
    assert!(diff.contains("<del>log</del>"), "{diff}");
    assert!(diff.contains("<ins>record all</ins>"), "{diff}");
    assert!(diff.contains("<span>The system shall </span>"));
    let res = emil
        .br
        .get("/p/ALPHA/requirements/r/SYS-001/diff?from=1&to=9")
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("has no revision 9"));

    // A save over a newer revision is refused; the typed text is kept.
    let res = edit("A stale edit.", "1").await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("was changed to revision 2") && html.contains("A stale edit."));
    assert!(emil
        .text("/p/ALPHA/requirements/r/SYS-001")
        .await
        .contains("Revision 2."));
}

async fn workflow_buttons_and_only_leads_approve(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Range", "The radio shall reach 10 km."),
    )
    .await;
    let emil = Session::new(&t, EDITOR).await;
    let lena = Session::new(&t, LEAD).await;
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("name=\"step\" value=\"submit\""));
    assert!(!page.contains("value=\"approve\""));
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SYS-001/transition",
            &[("step", "submit"), ("comment", "ready")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("In review"));
    assert!(
        !page.contains("value=\"approve\""),
        "editors get no approve button"
    );
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SYS-001/transition",
            &[("step", "approve")],
        )
        .await;
    assert_eq!(res.status(), 403);
    // An illegal step is refused next to the buttons.
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SYS-001/transition",
            &[("step", "submit")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("cannot submit"));

    let page = lena.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("value=\"approve\""));
    let res = lena
        .post(
            "/p/ALPHA/requirements/r/SYS-001/transition",
            &[("step", "approve")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = lena.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(
        page.contains("status-approved") && page.contains("This revision is the approved one.")
    );

    // Editing the approved requirement opens a draft revision; the approved one stays readable.
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SYS-001",
            &[
                ("revision", "1"),
                ("title", "Range"),
                ("statement", "The radio shall reach 12 km."),
                ("rationale", "Because."),
                ("kind", "functional"),
                ("priority", "medium"),
                ("verification", "test"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("Revision 1 approved; this draft is revision 2."));
    assert!(page.contains("/p/ALPHA/requirements/r/SYS-001/diff?from=1&amp;to=2"));
    assert!(page.contains("status-draft"));
}

async fn links_turn_suspect_and_clear_with_a_reason(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    module(&t, "ALPHA", "SW", Some("SYS")).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Top", "The system shall fly."),
    )
    .await;
    requirement(
        &t,
        "ALPHA",
        "SW",
        req_input("Below", "The software shall steer."),
    )
    .await;
    let emil = Session::new(&t, EDITOR).await;
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SW-001/links",
            &[
                ("direction", "source"),
                ("kind", "derives"),
                ("other", "sys-001"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let below = emil.text("/p/ALPHA/requirements/r/SW-001").await;
    assert!(below.contains("derives from") && below.contains(">SYS-001</a> Top"));
    let top = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(top.contains("is the source of") && top.contains(">SW-001</a> Below"));

    // Refusals are shown next to the "other" field.
    for (other, why) in [
        ("SW-001", "cannot link to itself"),
        ("SYS-404", "no requirement SYS-404"),
    ] {
        let res = emil
            .post(
                "/p/ALPHA/requirements/r/SW-001/links",
                &[
                    ("direction", "source"),
                    ("kind", "derives"),
                    ("other", other),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{other}");
        let html = res.text().await.unwrap();
        assert!(html.contains(why), "{other}: {html}");
    }
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SYS-001/links",
            &[
                ("direction", "source"),
                ("kind", "derives"),
                ("other", "SW-001"),
            ],
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 409 | 422),
        "a cycle is refused"
    );

    // Editing the upper end makes the link suspect, with the reason and a diff link.
    t.app
        .update_requirement(
            &principal(&t, LEAD).await,
            "ALPHA",
            "SYS-001",
            &RequirementInput {
                statement: Some("The system shall fly high.".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let below = emil.text("/p/ALPHA/requirements/r/SW-001").await;
    assert!(below.contains("badge suspect"));
    assert!(below.contains("SYS-001 (target end) changed from revision 1 to 2"));
    assert!(below.contains("/p/ALPHA/requirements/r/SYS-001/diff?from=1&#38;to=2"));
    let link = opensesa_testkit::extract_between(
        &below,
        "/p/ALPHA/requirements/r/SW-001/links/",
        "/clear",
    )
    .unwrap();
    let clear = format!("/p/ALPHA/requirements/r/SW-001/links/{link}/clear");
    let res = emil.post(&clear, &[("reason", "  ")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("say why"));
    let res = emil
        .post(&clear, &[("reason", "Higher is still flying.")])
        .await;
    assert_eq!(res.status(), 303);
    let below = emil.text("/p/ALPHA/requirements/r/SW-001").await;
    assert!(!below.contains("badge suspect") && below.contains("confirmed"));
    let audit = emil.text("/p/ALPHA/audit?artefact_type=trace_link").await;
    assert!(audit.contains("Higher is still flying."));

    // Deleting the link.
    let res = emil
        .post(
            &format!("/p/ALPHA/requirements/r/SW-001/links/{link}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(emil
        .text("/p/ALPHA/requirements/r/SW-001")
        .await
        .contains("No links."));
}

async fn bulk_edit_changes_the_selected_rows(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    t.app
        .update_module(
            &principal(&t, LEAD).await,
            "ALPHA",
            "SYS",
            &ModuleInput {
                attributes: Some(vec![
                    opensesa_domain::requirements::attributes::AttributeDef {
                        name: "ASIL".into(),
                        kind: opensesa_domain::requirements::attributes::AttributeKind::Enumeration,
                        options: vec!["A".into(), "B".into()],
                        required: false,
                    },
                ]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for i in 1..=3 {
        requirement(
            &t,
            "ALPHA",
            "SYS",
            req_input(&format!("R{i}"), "The box shall work."),
        )
        .await;
    }
    let emil = Session::new(&t, EDITOR).await;
    let table = emil.text("/p/ALPHA/requirements/m/SYS").await;
    assert!(table.contains("form=\"bulk\" name=\"sel\" value=\"SYS-001\""));
    let res = emil
        .post(
            "/p/ALPHA/requirements/m/SYS/bulk",
            &[
                ("back", "priority=low"),
                ("sel", "SYS-001"),
                ("sel", "SYS-003"),
                ("priority", "critical"),
                ("set_owner", "1"),
                ("owner", "alice"),
                ("attr_name", "ASIL"),
                ("attr_value", "B"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/p/ALPHA/requirements/m/SYS?priority=low");
    let html = emil
        .text("/p/ALPHA/requirements/m/SYS?priority=critical&owner=alice")
        .await;
    assert_eq!(shown_total(&html), 2);
    assert!(html.contains("SYS-001") && html.contains("SYS-003") && !html.contains(">SYS-002<"));
    assert_eq!(
        shown_total(
            &emil
                .text("/p/ALPHA/requirements/m/SYS?attr=ASIL&attr_value=B")
                .await
        ),
        2
    );

    // All or nothing: one bad value refuses every row, the reasons shown per row.
    let res = emil
        .post(
            "/p/ALPHA/requirements/m/SYS/bulk",
            &[
                ("sel", "SYS-001"),
                ("sel", "SYS-002"),
                ("priority", "low"),
                ("attr_name", "ASIL"),
                ("attr_value", "Z"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("row-error"));
    assert!(html.contains("SYS-002: ") || html.contains("ASIL: "));
    assert!(html.contains("value=\"SYS-002\" aria-label=\"Select SYS-002\" checked"));
    assert_eq!(
        shown_total(&emil.text("/p/ALPHA/requirements/m/SYS?priority=low").await),
        0,
        "nothing changed"
    );
    let res = emil
        .post("/p/ALPHA/requirements/m/SYS/bulk", &[("priority", "low")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("select at least one requirement"));
    let res = emil
        .post("/p/ALPHA/requirements/m/SYS/bulk", &[("sel", "SYS-001")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("choose at least one field"));
}

async fn suspect_links_are_cleared_in_bulk(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    let lead = principal(&t, LEAD).await;
    for title in ["Top", "Left", "Right"] {
        requirement(
            &t,
            "ALPHA",
            "SYS",
            req_input(title, "The part shall exist."),
        )
        .await;
    }
    for source in ["SYS-002", "SYS-003"] {
        t.app
            .create_link(&lead, "ALPHA", source, "refines", "SYS-001")
            .await
            .unwrap();
    }
    t.app
        .update_requirement(
            &lead,
            "ALPHA",
            "SYS-001",
            &RequirementInput {
                statement: Some("The part shall exist twice.".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let emil = Session::new(&t, EDITOR).await;
    let html = emil.text("/p/ALPHA/trace/suspect").await;
    assert!(html.contains("2 suspect links."));
    let ids = all_between(&html, "name=\"link\" value=\"", "\"");
    assert_eq!(ids.len(), 2);
    let res = emil
        .post(
            "/p/ALPHA/trace/suspect/clear",
            &[("link", &ids[0]), ("link", &ids[1]), ("reason", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("say why") && html.contains("checked"));
    let res = emil
        .post(
            "/p/ALPHA/trace/suspect/clear",
            &[("link", &ids[0]), ("link", &ids[1]), ("reason", "Reviewed")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(emil
        .text("/p/ALPHA/trace/suspect")
        .await
        .contains("0 suspect links."));
    // The requirement table's suspect filter agrees.
    assert_eq!(
        shown_total(&emil.text("/p/ALPHA/requirements/m/SYS?suspect=1").await),
        0
    );
}

async fn viewers_see_no_forms_and_get_403(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    requirement(&t, "ALPHA", "SYS", req_input("One", "The thing shall be.")).await;
    requirement(&t, "ALPHA", "SYS", req_input("Two", "The other shall be.")).await;
    t.app
        .create_link(
            &principal(&t, LEAD).await,
            "ALPHA",
            "SYS-002",
            "relates",
            "SYS-001",
        )
        .await
        .unwrap();
    let vera = Session::new(&t, VIEWER).await;
    let index = vera.text("/p/ALPHA/requirements").await;
    assert!(!index.contains("/requirements/modules\"") && !index.contains("/requirements/import"));
    let table = vera.text("/p/ALPHA/requirements/m/SYS").await;
    assert!(table.contains("SYS-001"));
    assert!(!table.contains("/bulk") && !table.contains("Create requirement"));
    let page = vera.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("relates to"));
    for absent in [
        "/transition",
        "name=\"revision\"",
        "/links\"",
        "/delete",
        "Resolve thread",
    ] {
        assert!(!page.contains(absent), "viewer sees {absent}");
    }
    assert!(!vera
        .text("/p/ALPHA/trace/quality")
        .await
        .contains("/quality/rules"));
    assert!(!vera.text("/p/ALPHA/reviews").await.contains("Open round"));
    assert_eq!(
        vera.br
            .get("/p/ALPHA/requirements/m/SYS/settings")
            .await
            .status(),
        403
    );
    let posts: [(&str, &[(&str, &str)]); 9] = [
        (
            "/p/ALPHA/requirements/modules",
            &[("prefix", "X"), ("name", "X")],
        ),
        ("/p/ALPHA/requirements/m/SYS", &[("title", "New")]),
        (
            "/p/ALPHA/requirements/m/SYS/bulk",
            &[("sel", "SYS-001"), ("priority", "low")],
        ),
        ("/p/ALPHA/requirements/r/SYS-001", &[("title", "Changed")]),
        (
            "/p/ALPHA/requirements/r/SYS-001/transition",
            &[("step", "submit")],
        ),
        (
            "/p/ALPHA/requirements/r/SYS-001/links",
            &[("kind", "relates"), ("other", "SYS-002")],
        ),
        ("/p/ALPHA/trace/suspect/clear", &[("reason", "x")]),
        ("/p/ALPHA/trace/quality/rules", &[("enabled", "tbd")]),
        ("/p/ALPHA/reviews", &[("title", "R"), ("ids", "SYS-001")]),
    ];
    for (action, fields) in posts {
        assert_eq!(
            vera.post(action, fields).await.status(),
            403,
            "POST {action}"
        );
    }
    assert_eq!(
        vera.post(
            "/p/ALPHA/requirements/m/SYS/attributes",
            &[("attr_count", "0")]
        )
        .await
        .status(),
        403
    );
    // Nothing changed.
    assert!(vera
        .text("/p/ALPHA/requirements/r/SYS-001")
        .await
        .contains("status-draft"));
}

async fn other_projects_requirements_are_404(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Alpha one", "The alpha shall be."),
    )
    .await;
    module(&t, "BRAVO", "BRV", None).await;
    requirement(
        &t,
        "BRAVO",
        "BRV",
        req_input("Bravo one", "The bravo shall be."),
    )
    .await;
    let lena = Session::new(&t, LEAD).await;
    for path in [
        "/p/ALPHA/requirements/r/BRV-001",
        "/p/ALPHA/requirements/m/BRV",
        "/p/BRAVO/requirements/r/BRV-001",
        "/p/BRAVO/requirements",
        "/p/BRAVO/trace",
        "/p/BRAVO/reviews",
        "/p/ALPHA/requirements/r/SYS-999",
        "/p/ALPHA/reviews/not-a-round",
    ] {
        assert_eq!(lena.br.get(path).await.status(), 404, "{path}");
    }
    let res = lena
        .post(
            "/p/BRAVO/requirements/r/BRV-001/transition",
            &[("step", "submit")],
        )
        .await;
    assert_eq!(res.status(), 404);
    // A link to another project's requirement is refused as unknown.
    let res = lena
        .post(
            "/p/ALPHA/requirements/r/SYS-001/links",
            &[
                ("direction", "source"),
                ("kind", "relates"),
                ("other", "BRV-001"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("no requirement BRV-001"));
}

async fn search_highlights_matches_safely(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input(
            "Pump <i>flow</i>",
            "The pump shall deliver <script>water</script> at 5 l/min.",
        ),
    )
    .await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Valve", "The valve shall close."),
    )
    .await;
    let vera = Session::new(&t, VIEWER).await;
    let html = vera.text("/p/ALPHA/requirements/search?q=pump").await;
    assert!(html.contains("1 result,"), "{html}");
    assert!(html.contains("<mark>"), "{html}");
    assert!(html.to_lowercase().contains("<mark>pump</mark>"));
    assert!(!html.contains("<script>water") && !html.contains("<i>flow"));
    assert!(html.contains("/p/ALPHA/requirements/r/SYS-001"));
    let html = vera
        .text("/p/ALPHA/requirements/search?q=nothingatall")
        .await;
    assert!(html.contains("Nothing matches"));
    let html = vera.text("/p/ALPHA/requirements/search").await;
    assert!(!html.contains("Nothing matches"));
}

async fn review_round_open_decide_close(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    for title in ["One", "Two", "Three"] {
        requirement(&t, "ALPHA", "SYS", req_input(title, "The unit shall work.")).await;
    }
    let emil_id = principal(&t, EDITOR).await.user.id.to_string();
    let lena = Session::new(&t, LEAD).await;
    let form = lena.text("/p/ALPHA/reviews?module=SYS").await;
    assert!(form.contains("name=\"req\" value=\"SYS-002\""));
    assert!(form.contains(&format!("name=\"reviewer\" value=\"{emil_id}\"")));
    let res = lena
        .post(
            "/p/ALPHA/reviews",
            &[
                ("title", "First review"),
                ("ids", ""),
                ("reviewer", &emil_id),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("choose at least one requirement"));
    let res = lena
        .post(
            "/p/ALPHA/reviews",
            &[
                ("title", "First review"),
                ("req", "SYS-001"),
                ("ids", "SYS-002, sys-003"),
                ("reviewer", &emil_id),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let round = location(&res);
    assert!(round.starts_with("/p/ALPHA/reviews/"));
    assert!(lena.text("/p/ALPHA/reviews").await.contains("First review"));
    assert!(lena
        .text("/p/ALPHA/requirements/r/SYS-001")
        .await
        .contains("First review"));

    let emil = Session::new(&t, EDITOR).await;
    let page = emil.text(&round).await;
    assert!(page.contains("Your decision") && page.contains("In review"));
    let decide = format!("{round}/decisions");
    let res = emil
        .post(
            &decide,
            &[
                ("requirement", "SYS-001"),
                ("decision", "approve"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = emil
        .post(
            &decide,
            &[
                ("requirement", "SYS-002"),
                ("decision", "reject"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("say why"));
    let res = emil
        .post(
            &decide,
            &[
                ("requirement", "SYS-002"),
                ("decision", "reject"),
                ("comment", "Too vague"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = emil
        .post(
            &decide,
            &[("requirement", "SYS-003"), ("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // SYS-003 changes after the decision: flagged, and not approved on close.
    t.app
        .update_requirement(
            &principal(&t, LEAD).await,
            "ALPHA",
            "SYS-003",
            &RequirementInput {
                statement: Some("The unit shall work well.".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let page = emil.text(&round).await;
    assert!(page.contains("changed since decided (on revision 1)"));
    assert!(page.contains("Too vague"));
    // Not a reviewer: refused.
    let res = lena
        .post(
            &decide,
            &[("requirement", "SYS-001"), ("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(!emil.text(&round).await.contains("Close round"));
    assert_eq!(
        emil.post(&format!("{round}/close"), &[("apply", "1")])
            .await
            .status(),
        403
    );

    let res = lena
        .post(
            &format!("{round}/close"),
            &[("apply", "1"), ("summary", "Done for now")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = lena.text(&round).await;
    assert!(page.contains("Done for now") && page.contains("round-closed"));
    assert!(!page.contains("Close round"));
    let status = |hid: &'static str| {
        let lena = &lena;
        async move { lena.text(&format!("/p/ALPHA/requirements/r/{hid}")).await }
    };
    assert!(status("SYS-001")
        .await
        .contains("badge status-approved\">Approved"));
    assert!(status("SYS-002")
        .await
        .contains("badge status-rejected\">Rejected"));
    assert!(status("SYS-003")
        .await
        .contains("badge status-in_review\">In review"));
}

async fn trace_and_quality_pages(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    module(&t, "ALPHA", "SW", Some("SYS")).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Top", "The system shall fly."),
    )
    .await;
    requirement(
        &t,
        "ALPHA",
        "SW",
        req_input("Linked", "The software shall steer."),
    )
    .await;
    requirement(
        &t,
        "ALPHA",
        "SW",
        req_input("Loose", "The software should maybe log etc."),
    )
    .await;
    t.app
        .create_link(
            &principal(&t, LEAD).await,
            "ALPHA",
            "SW-001",
            "derives",
            "SYS-001",
        )
        .await
        .unwrap();
    let lena = Session::new(&t, LEAD).await;
    let cov = lena.text("/p/ALPHA/trace").await;
    assert!(cov.contains("Module SW") && cov.contains("50%"), "{cov}");
    assert!(cov.contains("/p/ALPHA/trace/rvtm.csv") && cov.contains("/p/ALPHA/trace/rvtm.xlsx"));

    let rvtm = lena.text("/p/ALPHA/trace/rvtm").await;
    assert!(
        rvtm.contains("3 requirements.") && rvtm.contains("Verification follows the latest result")
    );
    let rvtm = lena.text("/p/ALPHA/trace/rvtm?module=SW&uncovered=1").await;
    assert!(rvtm.contains("SW-002") && rvtm.contains("2 requirements."));
    assert!(rvtm.contains("rvtm.csv?show=uncovered"));
    let rvtm = lena.text("/p/ALPHA/trace/rvtm?module=NOPE").await;
    assert!(rvtm.contains("no module has the prefix"));

    let gaps = lena.text("/p/ALPHA/trace/gaps").await;
    assert!(gaps.contains("Orphans (no parent or upstream trace): 1"));
    assert!(gaps.contains(">SW-002</a> Loose"));

    let quality = lena.text("/p/ALPHA/trace/quality?module=SW").await;
    assert!(quality.contains("Weak or vague wording") && quality.contains(">SW-002</a>"));
    assert!(quality.contains("/100"));
    // Switching a rule off removes its findings.
    let enabled: Vec<(&str, &str)> = opensesa_domain::requirements::quality::RuleId::ALL
        .iter()
        .filter(|r| r.as_str() != "weak_word")
        .map(|r| ("enabled", r.as_str()))
        .collect();
    let res = lena.post("/p/ALPHA/trace/quality/rules", &enabled).await;
    assert_eq!(res.status(), 303);
    let quality = lena.text("/p/ALPHA/trace/quality?module=SW").await;
    assert!(!quality.contains("<strong>Weak or vague wording</strong>:"));
    assert!(
        quality.contains("value=\"weak_word\"> <strong>"),
        "unticked now"
    );
    let page = lena.text("/p/ALPHA/requirements/r/SW-002").await;
    assert!(!page.contains("Weak or vague wording"));
}

async fn comments_thread_reply_and_resolve(b: Backend) {
    let t = setup(b).await;
    module(&t, "ALPHA", "SYS", None).await;
    requirement(
        &t,
        "ALPHA",
        "SYS",
        req_input("Talk", "The team shall talk."),
    )
    .await;
    let vera = Session::new(&t, VIEWER).await;
    // Readers may raise questions (the app lets viewers comment).
    let res = vera
        .post(
            "/p/ALPHA/requirements/r/SYS-001/comments",
            &[("body", "Which team?")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = vera
        .post(
            "/p/ALPHA/requirements/r/SYS-001/comments",
            &[("body", "  ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let emil = Session::new(&t, EDITOR).await;
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("Which team?"));
    let thread =
        opensesa_testkit::extract_between(&page, "name=\"thread\" value=\"", "\"").unwrap();
    let res = emil
        .post(
            "/p/ALPHA/requirements/r/SYS-001/comments",
            &[("thread", &thread), ("body", "The ground team.")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        vera.post(
            &format!("/p/ALPHA/requirements/r/SYS-001/comments/{thread}/resolve"),
            &[]
        )
        .await
        .status(),
        403
    );
    let res = emil
        .post(
            &format!("/p/ALPHA/requirements/r/SYS-001/comments/{thread}/resolve"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = emil.text("/p/ALPHA/requirements/r/SYS-001").await;
    assert!(page.contains("The ground team.") && page.contains("Resolved by emil"));
    assert!(!page.contains("Resolve thread"));
}

both!(
    lead_creates_modules_and_requirements_through_forms,
    table_filters_sorts_and_paginates,
    document_view_reads_in_order_with_headings,
    editing_makes_a_revision_and_the_diff_shows_it,
    workflow_buttons_and_only_leads_approve,
    links_turn_suspect_and_clear_with_a_reason,
    bulk_edit_changes_the_selected_rows,
    suspect_links_are_cleared_in_bulk,
    viewers_see_no_forms_and_get_403,
    other_projects_requirements_are_404,
    search_highlights_matches_safely,
    review_round_open_decide_close,
    trace_and_quality_pages,
    comments_thread_reply_and_resolve,
);
