//! Requirement import and export over HTTP, on both backends: CSV and XLSX round trips,
//! dry-run reports that name rows and fields, refusal of malformed files, every interop ReqIF
//! file (imported or refused), ReqIF export checked by the `reqif` tool, export → import into
//! an empty project, re-import by identifier, RVTM downloads and access.

use crate::location;
use opensesa_app::requirements::exchange::{reqif, ImportReport, Outcome};
use opensesa_app::Principal;
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::{ModuleInput, Requirement, RequirementInput, Transition};
use opensesa_testkit::{Backend, Browser, TestApp};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

struct Ctx {
    t: TestApp,
    lead: Principal,
    editor: Principal,
}

async fn setup(b: Backend) -> Ctx {
    let t = TestApp::start(b).await;
    let p = |user| Principal {
        user,
        session: None,
    };
    let lead = p(t.user("lena@example.org", false).await);
    let editor = p(t.user("emil@example.org", false).await);
    t.user("vera@example.org", false).await;
    for code in ["ALPHA", "BRAVO"] {
        t.project(
            code,
            &[
                ("lena@example.org", "lead"),
                ("emil@example.org", "editor"),
                ("vera@example.org", "viewer"),
            ],
        )
        .await;
    }
    Ctx { t, lead, editor }
}

fn attributes() -> Vec<AttributeDef> {
    let def = |name: &str, kind, options: &[&str]| AttributeDef {
        name: name.into(),
        kind,
        options: options.iter().map(|o| (*o).to_owned()).collect(),
        required: false,
    };
    vec![
        def("ASIL", AttributeKind::Enumeration, &["A", "B", "C", "D"]),
        def("Mass", AttributeKind::Number, &[]),
        def("Safety", AttributeKind::Boolean, &[]),
        def("Due", AttributeKind::Date, &[]),
        def("Note", AttributeKind::Text, &[]),
    ]
}

async fn module(c: &Ctx, code: &str, prefix: &str, parent: Option<&str>, attrs: Vec<AttributeDef>) {
    c.t.app
        .create_module(
            &c.lead,
            code,
            &ModuleInput {
                prefix: Some(prefix.into()),
                name: Some(format!("{prefix} requirements")),
                description: Some(format!("What the {prefix} level needs.")),
                parent: parent.map(str::to_owned),
                attributes: Some(attrs),
            },
        )
        .await
        .unwrap();
}

async fn create(c: &Ctx, prefix: &str, input: RequirementInput) -> String {
    c.t.app
        .create_requirement(&c.editor, "ALPHA", prefix, &input)
        .await
        .unwrap()
        .human_id
}

/// ALPHA: module SYS (all attribute kinds) and its child SW, requirements with every field,
/// a hierarchy across modules, links of three kinds and an approved requirement.
async fn populate(c: &Ctx) {
    module(c, "ALPHA", "SYS", None, attributes()).await;
    module(
        c,
        "ALPHA",
        "SW",
        Some("SYS"),
        vec![AttributeDef {
            name: "Level".into(),
            kind: AttributeKind::Number,
            options: Vec::new(),
            required: false,
        }],
    )
    .await;
    let attrs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    create(
        c,
        "SYS",
        RequirementInput {
            title: Some("Introduction".into()),
            kind: Some("heading".into()),
            ..Default::default()
        },
    )
    .await;
    let attitude = create(
        c,
        "SYS",
        RequirementInput {
            title: Some("Attitude control".into()),
            statement: Some(
                "=1+1 is not a formula.\nThe system shall hold attitude within 0.1° when \"a < b & c\".\n\nAfter a blank line."
                    .into(),
            ),
            rationale: Some("Pointing budget; see ICD-7.".into()),
            kind: Some("performance".into()),
            priority: Some("high".into()),
            verification_methods: Some("test, analysis".into()),
            source: Some("Customer SOW §3.1".into()),
            owner: Some("GNC team".into()),
            tags: Some("gnc, pointing".into()),
            attributes: attrs(&[
                ("ASIL", "B"),
                ("Mass", "2.5"),
                ("Safety", "true"),
                ("Due", "2026-03-01"),
                ("Note", "x, y; and 'quotes'"),
            ]),
            ..Default::default()
        },
    )
    .await;
    let child = create(
        c,
        "SYS",
        RequirementInput {
            title: Some("-Rate damping".into()),
            statement: Some("The system shall damp rates above 2 deg/s.".into()),
            verification_methods: Some("test".into()),
            parent: Some(attitude.clone()),
            attributes: attrs(&[("Mass", "3"), ("Safety", "false")]),
            ..Default::default()
        },
    )
    .await;
    let sw =
        c.t.app
            .create_requirement(
                &c.editor,
                "ALPHA",
                "SW",
                &RequirementInput {
                    title: Some("Attitude estimator".into()),
                    statement: Some("The software shall estimate attitude at 10 Hz.".into()),
                    parent: Some(attitude.clone()),
                    attributes: attrs(&[("Level", "2")]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .human_id;
    let sw2 =
        c.t.app
            .create_requirement(
                &c.editor,
                "ALPHA",
                "SW",
                &RequirementInput {
                    title: Some("Estimator filter".into()),
                    statement: Some("The software shall filter gyro noise.".into()),
                    parent: Some(sw.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .human_id;
    for (s, k, t) in [
        (&sw, "derives", &attitude),
        (&sw2, "refines", &sw),
        (&sw2, "relates", &child),
    ] {
        c.t.app
            .create_link(&c.editor, "ALPHA", s, k, t)
            .await
            .unwrap();
    }
    c.t.app
        .transition(&c.editor, "ALPHA", &child, Transition::Submit, None)
        .await
        .unwrap();
    c.t.app
        .transition(&c.lead, "ALPHA", &child, Transition::Approve, None)
        .await
        .unwrap();
}

/// A multipart/form-data upload of `file` to the import form, as a browser sends it.
async fn upload(
    br: &Browser,
    code: &str,
    module: &str,
    file_name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let token = br.csrf_token(&format!("/p/{code}/")).await;
    let boundary = "----opensesa-test-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in [("csrf_token", token.as_str()), ("module", module)] {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .unwrap();
    }
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(bytes);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    br.client
        .post(br.url(&format!("/p/{code}/requirements/import")))
        .header("Origin", &br.base)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads and returns the report page's path and the stored report.
async fn dry_run(
    c: &Ctx,
    br: &Browser,
    code: &str,
    module: &str,
    file_name: &str,
    bytes: &[u8],
) -> (String, ImportReport) {
    let res = upload(br, code, module, file_name, bytes).await;
    let status = res.status();
    let to = location(&res);
    assert_eq!(
        status,
        303,
        "upload of {file_name}: {}",
        res.text().await.unwrap()
    );
    let id = to.rsplit('/').next().unwrap().parse().unwrap();
    let view = c.t.app.import_report(&c.lead, code, id).await.unwrap();
    let page = br.get_text(&to).await;
    assert!(page.contains("Import report"), "{page}");
    (to, view.report)
}

async fn apply(br: &Browser, report: &str) -> reqwest::Response {
    br.submit(report, &format!("{report}/apply"), &[]).await
}

async fn download(br: &Browser, path: &str, content_type: &str, file_name: &str) -> Vec<u8> {
    let res = br.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let h = res.headers();
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type),
        "{path}: {:?}",
        h["content-type"]
    );
    assert_eq!(
        h["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"{file_name}\"")
    );
    res.bytes().await.unwrap().to_vec()
}

/// Everything a person edits, with parents by human id and attributes as text.
fn content(
    r: &Requirement,
    ids: &HashMap<opensesa_domain::ids::RequirementId, String>,
) -> serde_json::Value {
    json!({
        "id": r.human_id,
        "title": r.title,
        "statement": r.statement,
        "statement_xhtml": r.statement_xhtml,
        "rationale": r.rationale,
        "kind": r.kind,
        "priority": r.priority,
        "verification": r.verification_methods,
        "source": r.source,
        "owner": r.owner,
        "tags": r.tags,
        "attributes": r.attributes.iter().map(|(k, v)| (k.clone(), AttributeDef::display(v))).collect::<BTreeMap<_, _>>(),
        "parent": r.parent_id.map(|p| ids.get(&p).cloned().unwrap_or_default()),
    })
}

/// A project's requirements by module prefix, in document order, as comparable content.
async fn snapshot(c: &Ctx, code: &str) -> BTreeMap<String, Vec<serde_json::Value>> {
    let (_, modules) = c.t.app.list_modules(&c.lead, code).await.unwrap();
    let mut all = Vec::new();
    for m in &modules {
        let (_, _, reqs) =
            c.t.app
                .module_document(&c.lead, code, &m.module.prefix)
                .await
                .unwrap();
        all.push((m.module.prefix.clone(), reqs));
    }
    let ids: HashMap<_, _> = all
        .iter()
        .flat_map(|(_, rs)| rs.iter().map(|r| (r.id, r.human_id.clone())))
        .collect();
    all.iter()
        .map(|(p, rs)| (p.clone(), rs.iter().map(|r| content(r, &ids)).collect()))
        .collect()
}

/// (revision, updated_at) of every requirement, to show nothing was written.
async fn revisions(c: &Ctx, code: &str) -> Vec<(String, i64, String)> {
    let (_, modules) = c.t.app.list_modules(&c.lead, code).await.unwrap();
    let mut out = Vec::new();
    for m in modules {
        let (_, _, reqs) =
            c.t.app
                .module_document(&c.lead, code, &m.module.prefix)
                .await
                .unwrap();
        out.extend(
            reqs.into_iter()
                .map(|r| (r.human_id, r.revision, r.updated_at.to_rfc3339())),
        );
    }
    out
}

async fn link_set(c: &Ctx, code: &str) -> BTreeSet<(String, String, String)> {
    let (_, links, _) =
        c.t.app
            .project_links(&c.lead, code, false, 100_000, 0)
            .await
            .unwrap();
    links
        .into_iter()
        .map(|l| {
            (
                l.source_human_id,
                l.link.kind.as_str().to_owned(),
                l.target_human_id,
            )
        })
        .collect()
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    match &t.tdb.db {
        opensesa_store::Db::Sqlite { read, .. } => {
            sqlx::query_scalar(sql).fetch_one(read).await.unwrap()
        }
        opensesa_store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Export → import into the same module reports every row unchanged and writes nothing;
/// export → import into an empty module of another project recreates the same content.
async fn sheet_round_trip(b: Backend, ext: &str, content_type: &str) {
    let c = setup(b).await;
    populate(&c).await;
    let br = c.t.logged_in("emil@example.org").await;
    let sys = download(
        &br,
        &format!("/p/ALPHA/requirements/m/SYS/export.{ext}"),
        content_type,
        &format!("ALPHA-SYS.{ext}"),
    )
    .await;
    let sw = download(
        &br,
        &format!("/p/ALPHA/requirements/m/sw/export.{ext}"),
        content_type,
        &format!("ALPHA-SW.{ext}"),
    )
    .await;
    let before = revisions(&c, "ALPHA").await;
    let events = count(&c.t, "SELECT COUNT(*) FROM audit_events").await;

    for (module, file) in [("SYS", &sys), ("SW", &sw)] {
        let (report_path, report) =
            dry_run(&c, &br, "ALPHA", module, &format!("m.{ext}"), file).await;
        let n = if module == "SYS" { 3 } else { 2 };
        assert_eq!(report.counts.unchanged, n, "{report:#?}");
        assert_eq!(
            (
                report.counts.created,
                report.counts.updated,
                report.counts.rejected
            ),
            (0, 0, 0),
            "{report:#?}"
        );
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(report.items.iter().all(|i| i.outcome == Outcome::Unchanged));
        let res = apply(&br, &report_path).await;
        assert_eq!(res.status(), 303);
        assert!(br.get_text(&report_path).await.contains("applied"));
    }
    assert_eq!(revisions(&c, "ALPHA").await, before, "nothing was written");
    assert_eq!(
        count(&c.t, "SELECT COUNT(*) FROM audit_events").await,
        events,
        "not even an audit event"
    );

    // Into empty modules of another project: the same content, ids included.
    module(&c, "BRAVO", "SYS", None, attributes()).await;
    module(
        &c,
        "BRAVO",
        "SW",
        Some("SYS"),
        vec![AttributeDef {
            name: "Level".into(),
            kind: AttributeKind::Number,
            options: Vec::new(),
            required: false,
        }],
    )
    .await;
    for (module, file, n) in [("SYS", &sys, 3), ("SW", &sw, 2)] {
        let (report_path, report) =
            dry_run(&c, &br, "BRAVO", module, &format!("m.{ext}"), file).await;
        assert_eq!(report.counts.created, n, "{report:#?}");
        assert_eq!(apply(&br, &report_path).await.status(), 303);
    }
    assert_eq!(snapshot(&c, "BRAVO").await, snapshot(&c, "ALPHA").await);

    if ext == "xlsx" {
        // The XLSX has a Links sheet; a CSV carries none.
        let text = String::from_utf8_lossy(&sys);
        assert!(text.starts_with("PK"));
    } else {
        let text = String::from_utf8(sys).unwrap();
        let header = text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(
            header,
            "id,title,statement,rationale,type,priority,verification,source,owner,tags,parent,status,revision,ASIL,Mass,Safety,Due,Note"
        );
        assert!(text.contains("'=1+1"), "formula neutralised");
    }
}

async fn csv_round_trip_is_identity(b: Backend) {
    sheet_round_trip(b, "csv", "text/csv").await;
}

async fn xlsx_round_trip_is_identity(b: Backend) {
    sheet_round_trip(
        b,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
}

/// A bad row is named with its field; nothing is applied while any row is rejected. Good
/// rows show what they would do (created, updated with the changed fields).
async fn csv_bad_row_blocks_the_import(b: Backend) {
    let c = setup(b).await;
    populate(&c).await;
    let br = c.t.logged_in("emil@example.org").await;
    let before = revisions(&c, "ALPHA").await;
    let csv = "ID,Title,Statement,Kind,Priority,Mass\n\
               SYS-002,Attitude control (revised),The system shall hold attitude.,performance,high,2.5\n\
               ,New one,The system shall log.,functional,urgent,\n\
               SYS-040,Numbered,The system shall count.,,low,heavy\n\
               SW-001,Elsewhere,x,,,\n";
    let (report_path, report) = dry_run(&c, &br, "ALPHA", "SYS", "bad.csv", csv.as_bytes()).await;
    let by_row: HashMap<&str, &opensesa_app::requirements::exchange::ReportItem> =
        report.items.iter().map(|i| (i.at.as_str(), i)).collect();
    assert_eq!(by_row["row 2"].outcome, Outcome::Updated);
    assert!(
        by_row["row 2"].details.iter().any(|d| d.contains("title")),
        "{:?}",
        by_row["row 2"]
    );
    let row3 = by_row["row 3"];
    assert_eq!(row3.outcome, Outcome::Rejected);
    assert!(
        row3.details
            .iter()
            .any(|d| d.starts_with("priority:") && d.contains("urgent")),
        "{row3:?}"
    );
    let row4 = by_row["row 4"];
    assert_eq!(row4.outcome, Outcome::Rejected);
    assert!(
        row4.details
            .iter()
            .any(|d| d.starts_with("attributes.Mass:")),
        "{row4:?}"
    );
    assert!(by_row["row 5"]
        .details
        .iter()
        .any(|d| d.starts_with("id:") && d.contains("another module")));
    assert_eq!(report.counts.rejected, 3);
    assert!(!report.can_apply());
    let page = br.get_text(&report_path).await;
    assert!(page.contains("Cannot be applied"), "{page}");
    assert!(page.contains("row 3") && page.contains("urgent"));
    assert!(!page.contains("/apply\""), "no Apply button");
    let res = apply(&br, &report_path).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("rejected"));
    assert_eq!(revisions(&c, "ALPHA").await, before, "nothing was written");

    // A column that is no field and no attribute blocks the import too, named.
    let (_, report) = dry_run(
        &c,
        &br,
        "ALPHA",
        "SYS",
        "odd.csv",
        b"id,title,Colour\nSYS-002,Attitude control,red\n",
    )
    .await;
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("column C \"Colour\"")),
        "{:?}",
        report.problems
    );
    assert!(!report.can_apply());

    // A fixed file applies, in one go: the update, a new row with a new id, one with its own.
    let csv = "id,title,statement,priority,parent\n\
               SYS-002,Attitude control (revised),The system shall hold attitude.,high,\n\
               ,New one,The system shall log.,low,SYS-040\n\
               SYS-040,Numbered,The system shall count.,low,\n";
    let (report_path, report) = dry_run(&c, &br, "ALPHA", "SYS", "good.csv", csv.as_bytes()).await;
    assert_eq!(
        (report.counts.created, report.counts.updated),
        (2, 1),
        "{report:#?}"
    );
    assert_eq!(apply(&br, &report_path).await.status(), 303);
    let (_, r) =
        c.t.app
            .requirement(
                &c.lead,
                "ALPHA",
                "SYS-002",
                opensesa_domain::access::Permission::Read,
            )
            .await
            .unwrap();
    assert_eq!(
        (r.title.as_str(), r.revision),
        ("Attitude control (revised)", 2)
    );
    let (_, numbered) =
        c.t.app
            .requirement(
                &c.lead,
                "ALPHA",
                "SYS-040",
                opensesa_domain::access::Permission::Read,
            )
            .await
            .unwrap();
    let (_, new) =
        c.t.app
            .requirement(
                &c.lead,
                "ALPHA",
                "SYS-041",
                opensesa_domain::access::Permission::Read,
            )
            .await
            .unwrap();
    assert_eq!(
        new.title, "New one",
        "new ids continue after the file's own"
    );
    assert_eq!(
        new.parent_id,
        Some(numbered.id),
        "parent found among the file's rows"
    );
    // Applying twice is refused.
    assert_eq!(apply(&br, &report_path).await.status(), 409);
}

/// Files that cannot be read are refused at upload with a positioned message; nothing is
/// stored and nothing changes.
async fn malformed_files_are_refused(b: Backend) {
    let c = setup(b).await;
    populate(&c).await;
    let br = c.t.logged_in("emil@example.org").await;
    let before = revisions(&c, "ALPHA").await;
    for (name, bytes, expect) in [
        ("ragged.csv", &b"id,title\nSYS-002,a\nSYS-003,b,extra\n"[..], "row 3"),
        ("fake.xlsx", &b"this is not a workbook"[..], "XLSX"),
        (
            "broken.reqif",
            &b"<?xml version=\"1.0\"?>\n<REQ-IF xmlns=\"http://www.omg.org/spec/ReqIF/20110401/reqif.xsd\">\n<CORE-CONTENT>\n"[..],
            "line",
        ),
        ("empty.csv", &b""[..], "empty"),
        ("notes.docx", &b"PK\x03\x04"[..], ".csv, .xlsx, .reqif"),
    ] {
        let res = upload(&br, "ALPHA", "SYS", name, bytes).await;
        assert_eq!(res.status(), 422, "{name}");
        let page = res.text().await.unwrap();
        assert!(page.contains(expect), "{name}: {page}");
        assert!(page.contains("Import requirements"), "the form again");
    }
    assert_eq!(count(&c.t, "SELECT COUNT(*) FROM req_imports").await, 0);
    assert_eq!(revisions(&c, "ALPHA").await, before);
}

/// The interop files the `reqif` tool rejects (exit 1). The archive is not among them: the
/// tool cannot open a `.reqifz`, but accepts the `.reqif` inside.
const REJECTED: &[&str] = &[
    "commands/validate/02_missing_xml_doctype_declaration/sample.reqif",
    "commands/validate/03_doctype_incorrect_encoding/sample.reqif",
    "commands/validate/04_empty_file/sample.reqif",
    "commands/validate/SPEC-HIERARCHY/01_SPEC-OBJECT-REF_does_not_exist/sample.reqif",
    "commands/validate/SPEC-RELATION/01_SOURCE_missing/sample.reqif",
    "commands/validate/SPEC-RELATION/02_TARGET_missing/sample.reqif",
    "commands/validate/SPEC-RELATION/03_SOURCE_links_to_a_missing_SPEC-OBJECT/sample.reqif",
    "commands/validate/SPEC-RELATION/04_TARGET_links_to_a_missing_SPEC-OBJECT/sample.reqif",
    "reqif/SPEC-RELATION/01_escaping_long_name/sample.reqif",
    "reqif/SPEC-RELATION/ATTRIBUTE-VALUE-INTEGER/01_basic/sample.reqif",
    "reqif/SPECIFICATIONS/01_basic/sample.reqif",
];

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/reqif")
}

fn interop_files() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("reqif" | "reqifz")
            ) {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let root = interop_dir();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// The `reqif` command (PyPI `reqif`): `OPENSESA_REQIF_VALIDATOR`, else the venv next to the
/// workspace. Missing in CI is a failure, not a skip.
fn validator() -> Option<PathBuf> {
    let candidates = [
        std::env::var("OPENSESA_REQIF_VALIDATOR")
            .ok()
            .map(PathBuf::from),
        Some(PathBuf::from("/work/venv-reqif/bin/reqif")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../venv-reqif/bin/reqif")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "the reqif validator is missing (CI=true): install it with \
             `python3 -m venv VENV && VENV/bin/pip install reqif` and set OPENSESA_REQIF_VALIDATOR=VENV/bin/reqif"
        );
    }
    if found.is_none() {
        eprintln!("reqif validator not found; the ReqIF schema checks are skipped (set OPENSESA_REQIF_VALIDATOR)");
    }
    found
}

/// Runs the validator on many files, four at a time (it takes about a second to start).
fn run_validator_all(tool: &Path, files: &[PathBuf], schema: bool) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for chunk in files.chunks(4) {
        let runs: Vec<_> = chunk
            .iter()
            .map(|path| {
                let mut cmd = std::process::Command::new(tool);
                cmd.arg("validate");
                if schema {
                    cmd.arg("--use-reqif-schema");
                }
                cmd.arg(path)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in runs {
            let o = child.wait_with_output().unwrap();
            out.push((
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            ));
        }
    }
    out
}

fn run_validator(tool: &Path, file: &Path, schema: bool) -> (bool, String) {
    let mut cmd = std::process::Command::new(tool);
    cmd.arg("validate");
    if schema {
        cmd.arg("--use-reqif-schema");
    }
    let out = cmd.arg(file).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// What the file holds: spec objects, relations, and objects whose first place in a
/// hierarchy is below another object.
fn expected_counts(bytes: &[u8]) -> (i64, i64, i64) {
    let doc = reqif::read_bytes(bytes).unwrap();
    let mut first: HashMap<&str, bool> = HashMap::new();
    for e in doc.walk() {
        first.entry(e.object_ref).or_insert(e.parent.is_some());
    }
    let parents = first.values().filter(|p| **p).count() as i64;
    let relations: BTreeSet<(&str, &str, &str)> = doc
        .spec_relations
        .iter()
        .map(|r| (r.type_ref.as_str(), r.source.as_str(), r.target.as_str()))
        .collect();
    (
        doc.spec_objects.len() as i64,
        relations.len() as i64,
        parents,
    )
}

async fn project_counts(c: &Ctx, code: &str) -> (i64, i64, i64) {
    let reqs = count(
        &c.t,
        &format!("SELECT COUNT(*) FROM requirements r JOIN projects p ON p.id = r.project_id WHERE p.code = '{code}'"),
    )
    .await;
    let links = count(
        &c.t,
        &format!("SELECT COUNT(*) FROM trace_links l JOIN projects p ON p.id = l.project_id WHERE p.code = '{code}'"),
    )
    .await;
    let parents = count(
        &c.t,
        &format!("SELECT COUNT(*) FROM requirements r JOIN projects p ON p.id = r.project_id WHERE p.code = '{code}' AND r.parent_id IS NOT NULL"),
    )
    .await;
    (reqs, links, parents)
}

/// Every interop file the `reqif` tool accepts imports with the file's objects, relations
/// and hierarchy; a re-import updates instead of duplicating. Every file it rejects is
/// refused with nothing written.
async fn interop_reqif_files_import_or_are_refused(b: Backend) {
    let c = setup(b).await;
    let tool = validator();
    let files = interop_files();
    // What was imported is exported again and checked against the schema (on one backend:
    // the export is the same on both; a selection of files, as the tool is slow to start).
    let exports = std::env::temp_dir().join(format!(
        "opensesa-interop-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&exports).unwrap();
    let mut exported: Vec<(String, PathBuf)> = Vec::new();
    assert!(
        files.len() >= 40,
        "the interop files are at ../shared/interop/reqif: {files:?}"
    );
    // The classification is the tool's (it cannot open a .reqifz; see REJECTED). Checked on
    // one backend: it does not depend on the database.
    if let (Some(tool), Backend::Sqlite) = (&tool, b) {
        let plain: Vec<&String> = files.iter().filter(|f| !f.ends_with(".reqifz")).collect();
        let paths: Vec<PathBuf> = plain.iter().map(|f| interop_dir().join(f)).collect();
        for (file, (ok, out)) in plain.iter().zip(run_validator_all(tool, &paths, false)) {
            assert_eq!(
                ok,
                !REJECTED.contains(&file.as_str()),
                "{file}: the reqif tool says {out}"
            );
        }
    }
    for (n, file) in files.iter().enumerate() {
        let path = interop_dir().join(file);
        let bytes = std::fs::read(&path).unwrap();
        let rejected = REJECTED.contains(&file.as_str());
        let code = format!("F{n:02}");
        c.t.project(&code, &[("lena@example.org", "lead")]).await;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result =
            c.t.app
                .start_import(&c.lead, &code, "", &name, bytes.clone())
                .await;
        if rejected {
            let err = result.expect_err(file);
            assert!(
                matches!(err, opensesa_app::AppError::Validation(_)),
                "{file}: {err:?}"
            );
            assert!(
                err.to_string().contains("ReqIF") || err.to_string().contains("empty"),
                "{file}: {err}"
            );
            assert_eq!(project_counts(&c, &code).await, (0, 0, 0), "{file}");
            continue;
        }
        let id = result.unwrap_or_else(|e| panic!("{file}: {e}"));
        let view = c.t.app.import_report(&c.lead, &code, id).await.unwrap();
        assert!(view.report.can_apply(), "{file}: {:#?}", view.report);
        let applied = c.t.app.apply_import(&c.lead, &code, id).await;
        assert!(
            matches!(
                applied,
                Ok(opensesa_app::requirements::exchange::ApplyOutcome::Applied(
                    _
                ))
            ),
            "{file}: {applied:?}"
        );
        let expected = expected_counts(&bytes);
        assert_eq!(
            project_counts(&c, &code).await,
            expected,
            "{file}: (requirements, links, parents)"
        );

        // Again: every object is found by its identifier; nothing is created.
        let again =
            c.t.app
                .start_import(&c.lead, &code, "", &name, bytes.clone())
                .await
                .unwrap();
        let view = c.t.app.import_report(&c.lead, &code, again).await.unwrap();
        let counts = &view.report.counts;
        assert_eq!(
            (counts.created, counts.links_added, counts.modules_created),
            (0, 0, 0),
            "{file}: {:#?}",
            view.report
        );
        assert_eq!(
            counts.unchanged as i64, expected.0,
            "{file}: {:#?}",
            view.report
        );
        c.t.app.apply_import(&c.lead, &code, again).await.unwrap();
        assert_eq!(project_counts(&c, &code).await, expected, "{file}");

        // The real tools' exports and the files with rich text, enumerations and dates.
        let telling = [
            "reqif_software",
            "reqifz",
            "XHTML",
            "_other",
            "ENUMERATION",
            "DATE",
        ];
        if b == Backend::Sqlite && tool.is_some() && telling.iter().any(|t| file.contains(t)) {
            let out = c.t.app.export_project_reqif(&c.lead, &code).await.unwrap();
            let path = exports.join(format!("{code}.reqif"));
            std::fs::write(&path, &out.bytes).unwrap();
            exported.push((file.clone(), path));
        }
    }
    if let Some(tool) = &tool {
        let paths: Vec<PathBuf> = exported.iter().map(|(_, p)| p.clone()).collect();
        for ((file, _), (ok, out)) in exported.iter().zip(run_validator_all(tool, &paths, true)) {
            assert!(ok, "the export of {file} fails the schema: {out}");
        }
    }
    let _ = std::fs::remove_dir_all(&exports);
    // Nothing was stored for the refused files.
    let stored = count(&c.t, "SELECT COUNT(*) FROM req_imports").await;
    assert_eq!(stored as usize, 2 * (files.len() - REJECTED.len()));
}

/// A hand-made ReqIF with rich text, headings, an enumeration attribute, a hierarchy and a
/// relation, as other tools write it.
const RICH: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd" xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <THE-HEADER><REQ-IF-HEADER IDENTIFIER="h1"><CREATION-TIME>2026-01-01T00:00:00Z</CREATION-TIME><REQ-IF-TOOL-ID>t</REQ-IF-TOOL-ID><REQ-IF-VERSION>1.0</REQ-IF-VERSION><SOURCE-TOOL-ID>t</SOURCE-TOOL-ID><TITLE>Rich</TITLE></REQ-IF-HEADER></THE-HEADER>
  <CORE-CONTENT><REQ-IF-CONTENT>
    <DATATYPES>
      <DATATYPE-DEFINITION-STRING IDENTIFIER="dt-s" LAST-CHANGE="2026-01-01T00:00:00Z" MAX-LENGTH="1000"/>
      <DATATYPE-DEFINITION-XHTML IDENTIFIER="dt-x" LAST-CHANGE="2026-01-01T00:00:00Z"/>
      <DATATYPE-DEFINITION-ENUMERATION IDENTIFIER="dt-e" LAST-CHANGE="2026-01-01T00:00:00Z">
        <SPECIFIED-VALUES>
          <ENUM-VALUE IDENTIFIER="ev-1" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Must"><PROPERTIES><EMBEDDED-VALUE KEY="1" OTHER-CONTENT=""/></PROPERTIES></ENUM-VALUE>
          <ENUM-VALUE IDENTIFIER="ev-2" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Should"><PROPERTIES><EMBEDDED-VALUE KEY="2" OTHER-CONTENT=""/></PROPERTIES></ENUM-VALUE>
        </SPECIFIED-VALUES>
      </DATATYPE-DEFINITION-ENUMERATION>
    </DATATYPES>
    <SPEC-TYPES>
      <SPEC-OBJECT-TYPE IDENTIFIER="t-req" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Requirement">
        <SPEC-ATTRIBUTES>
          <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="a-id" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="ReqIF.ForeignID"><TYPE><DATATYPE-DEFINITION-STRING-REF>dt-s</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
          <ATTRIBUTE-DEFINITION-STRING IDENTIFIER="a-ch" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="ReqIF.ChapterName"><TYPE><DATATYPE-DEFINITION-STRING-REF>dt-s</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>
          <ATTRIBUTE-DEFINITION-XHTML IDENTIFIER="a-text" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="ReqIF.Text"><TYPE><DATATYPE-DEFINITION-XHTML-REF>dt-x</DATATYPE-DEFINITION-XHTML-REF></TYPE></ATTRIBUTE-DEFINITION-XHTML>
          <ATTRIBUTE-DEFINITION-ENUMERATION IDENTIFIER="a-prio" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Obligation" MULTI-VALUED="false"><TYPE><DATATYPE-DEFINITION-ENUMERATION-REF>dt-e</DATATYPE-DEFINITION-ENUMERATION-REF></TYPE></ATTRIBUTE-DEFINITION-ENUMERATION>
        </SPEC-ATTRIBUTES>
      </SPEC-OBJECT-TYPE>
      <SPEC-RELATION-TYPE IDENTIFIER="t-sat" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="satisfies"/>
      <SPECIFICATION-TYPE IDENTIFIER="t-spec" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Spec"/>
    </SPEC-TYPES>
    <SPEC-OBJECTS>
      <SPEC-OBJECT IDENTIFIER="o-head" LAST-CHANGE="2026-01-01T00:00:00Z"><TYPE><SPEC-OBJECT-TYPE-REF>t-req</SPEC-OBJECT-TYPE-REF></TYPE><VALUES>
        <ATTRIBUTE-VALUE-STRING THE-VALUE="Power"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>a-ch</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>
      </VALUES></SPEC-OBJECT>
      <SPEC-OBJECT IDENTIFIER="o-1" LAST-CHANGE="2026-01-01T00:00:00Z"><TYPE><SPEC-OBJECT-TYPE-REF>t-req</SPEC-OBJECT-TYPE-REF></TYPE><VALUES>
        <ATTRIBUTE-VALUE-STRING THE-VALUE="42"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>a-id</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>
        <ATTRIBUTE-VALUE-XHTML><DEFINITION><ATTRIBUTE-DEFINITION-XHTML-REF>a-text</ATTRIBUTE-DEFINITION-XHTML-REF></DEFINITION><THE-VALUE><xhtml:div><xhtml:p>The bus shall supply <xhtml:b>28 V</xhtml:b> &lt;= 1 %.</xhtml:p><xhtml:ul><xhtml:li>nominal</xhtml:li><xhtml:li>peak</xhtml:li></xhtml:ul></xhtml:div></THE-VALUE></ATTRIBUTE-VALUE-XHTML>
        <ATTRIBUTE-VALUE-ENUMERATION><DEFINITION><ATTRIBUTE-DEFINITION-ENUMERATION-REF>a-prio</ATTRIBUTE-DEFINITION-ENUMERATION-REF></DEFINITION><VALUES><ENUM-VALUE-REF>ev-1</ENUM-VALUE-REF></VALUES></ATTRIBUTE-VALUE-ENUMERATION>
      </VALUES></SPEC-OBJECT>
      <SPEC-OBJECT IDENTIFIER="o-2" LAST-CHANGE="2026-01-01T00:00:00Z"><TYPE><SPEC-OBJECT-TYPE-REF>t-req</SPEC-OBJECT-TYPE-REF></TYPE><VALUES>
        <ATTRIBUTE-VALUE-XHTML><DEFINITION><ATTRIBUTE-DEFINITION-XHTML-REF>a-text</ATTRIBUTE-DEFINITION-XHTML-REF></DEFINITION><THE-VALUE><xhtml:p>The battery shall store 2 kWh.</xhtml:p></THE-VALUE></ATTRIBUTE-VALUE-XHTML>
      </VALUES></SPEC-OBJECT>
    </SPEC-OBJECTS>
    <SPEC-RELATIONS>
      <SPEC-RELATION IDENTIFIER="r-1" LAST-CHANGE="2026-01-01T00:00:00Z"><TYPE><SPEC-RELATION-TYPE-REF>t-sat</SPEC-RELATION-TYPE-REF></TYPE><SOURCE><SPEC-OBJECT-REF>o-2</SPEC-OBJECT-REF></SOURCE><TARGET><SPEC-OBJECT-REF>o-1</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>
    </SPEC-RELATIONS>
    <SPECIFICATIONS>
      <SPECIFICATION IDENTIFIER="s-1" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Electrical Power System"><TYPE><SPECIFICATION-TYPE-REF>t-spec</SPECIFICATION-TYPE-REF></TYPE>
        <CHILDREN>
          <SPEC-HIERARCHY IDENTIFIER="h-1" LAST-CHANGE="2026-01-01T00:00:00Z"><OBJECT><SPEC-OBJECT-REF>o-head</SPEC-OBJECT-REF></OBJECT>
            <CHILDREN>
              <SPEC-HIERARCHY IDENTIFIER="h-2" LAST-CHANGE="2026-01-01T00:00:00Z"><OBJECT><SPEC-OBJECT-REF>o-1</SPEC-OBJECT-REF></OBJECT></SPEC-HIERARCHY>
              <SPEC-HIERARCHY IDENTIFIER="h-3" LAST-CHANGE="2026-01-01T00:00:00Z"><OBJECT><SPEC-OBJECT-REF>o-2</SPEC-OBJECT-REF></OBJECT></SPEC-HIERARCHY>
            </CHILDREN>
          </SPEC-HIERARCHY>
        </CHILDREN>
      </SPECIFICATION>
    </SPECIFICATIONS>
  </REQ-IF-CONTENT></CORE-CONTENT>
</REQ-IF>
"#;

/// ReqIF export of a project passes `reqif validate --use-reqif-schema`; importing it into
/// an empty project gives the same modules, requirements (titles, statements, rich text,
/// hierarchy, fields, attributes) and links; importing it back into the source changes
/// nothing.
async fn reqif_export_validates_and_round_trips(b: Backend) {
    let c = setup(b).await;
    populate(&c).await;
    let br = c.t.logged_in("lena@example.org").await;
    // Rich text and headings from another tool, in a module of their own.
    let (report_path, report) = dry_run(&c, &br, "ALPHA", "", "rich.reqif", RICH.as_bytes()).await;
    assert_eq!(
        (
            report.counts.created,
            report.counts.links_added,
            report.counts.modules_created
        ),
        (3, 1, 1),
        "{report:#?}"
    );
    assert_eq!(apply(&br, &report_path).await.status(), 303);
    let (_, modules) = c.t.app.list_modules(&c.lead, "ALPHA").await.unwrap();
    let eps = modules
        .iter()
        .find(|m| m.module.name == "Electrical Power System")
        .unwrap();
    assert_eq!(eps.module.prefix, "EPS");
    assert_eq!(
        eps.module
            .attributes
            .iter()
            .map(|a| (a.name.as_str(), a.kind))
            .collect::<Vec<_>>(),
        vec![
            ("Obligation", AttributeKind::Enumeration),
            ("ForeignID", AttributeKind::Text)
        ]
    );
    let (_, _, reqs) =
        c.t.app
            .module_document(&c.lead, "ALPHA", "EPS")
            .await
            .unwrap();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        (reqs[0].title.as_str(), reqs[0].kind.as_str()),
        ("Power", "heading")
    );
    assert_eq!(
        reqs[1].statement,
        "The bus shall supply 28 V <= 1 %.\n- nominal\n- peak"
    );
    assert!(reqs[1]
        .statement_xhtml
        .as_deref()
        .unwrap()
        .contains("<b>28 V</b>"));
    assert_eq!(
        reqs[1].title, "The bus shall supply 28 V <= 1 %.",
        "title from the text"
    );
    assert_eq!(reqs[1].parent_id, Some(reqs[0].id));
    assert_eq!(reqs[2].parent_id, Some(reqs[0].id));
    assert_eq!(
        AttributeDef::display(&reqs[1].attributes["Obligation"]),
        "Must"
    );
    assert_eq!(
        AttributeDef::display(&reqs[1].attributes["ForeignID"]),
        "42"
    );

    let file = download(
        &br,
        "/p/ALPHA/requirements/export.reqif",
        "application/xml",
        "ALPHA-requirements.reqif",
    )
    .await;
    if let Some(tool) = validator() {
        let dir =
            std::env::temp_dir().join(format!("opensesa-reqif-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("export.reqif");
        std::fs::write(&path, &file).unwrap();
        let (ok, out) = run_validator(&tool, &path, true);
        assert!(ok, "reqif validate --use-reqif-schema: {out}");
        let module_file = download(
            &br,
            "/p/ALPHA/requirements/m/SW/export.reqif",
            "application/xml",
            "ALPHA-SW.reqif",
        )
        .await;
        std::fs::write(&path, &module_file).unwrap();
        let (ok, out) = run_validator(&tool, &path, true);
        assert!(ok, "module export: {out}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Into the empty project BRAVO: the same content and links.
    let (report_path, report) = dry_run(&c, &br, "BRAVO", "", "alpha.reqif", &file).await;
    assert!(report.can_apply(), "{report:#?}");
    assert_eq!(report.counts.modules_created, 3);
    assert_eq!(apply(&br, &report_path).await.status(), 303);
    assert_eq!(snapshot(&c, "BRAVO").await, snapshot(&c, "ALPHA").await);
    assert_eq!(link_set(&c, "BRAVO").await, link_set(&c, "ALPHA").await);
    let (_, bravo) = c.t.app.list_modules(&c.lead, "BRAVO").await.unwrap();
    let (_, alpha) = c.t.app.list_modules(&c.lead, "ALPHA").await.unwrap();
    let shape = |ms: &[opensesa_app::requirements::ModuleSummary]| {
        ms.iter()
            .map(|m| {
                (
                    m.module.prefix.clone(),
                    json!([m.module.name, m.module.description, m.module.attributes]),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(shape(&bravo), shape(&alpha));

    // Back into ALPHA: everything is found by identifier; nothing changes.
    let before = revisions(&c, "ALPHA").await;
    let (report_path, report) = dry_run(&c, &br, "ALPHA", "", "alpha.reqif", &file).await;
    let n = before.len();
    assert_eq!(report.counts.unchanged, n, "{report:#?}");
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.links_added,
            report.counts.modules_created
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(report.counts.links_unchanged, 4);
    assert_eq!(apply(&br, &report_path).await.status(), 303);
    assert_eq!(revisions(&c, "ALPHA").await, before);

    // And the rich file again into BRAVO's copy: updated in place, by identifier.
    let edited = RICH.replace("store 2 kWh", "store 3 kWh");
    let (_, report) = dry_run(&c, &br, "BRAVO", "", "rich.reqif", edited.as_bytes()).await;
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.unchanged
        ),
        (0, 1, 2),
        "{report:#?}"
    );
    assert!(report.items.iter().any(
        |i| i.outcome == Outcome::Updated && i.details.iter().any(|d| d.contains("statement"))
    ));
}

/// Someone else's change between the report and "Apply": a new report, nothing written.
async fn a_stale_report_is_made_again(b: Backend) {
    let c = setup(b).await;
    populate(&c).await;
    let br = c.t.logged_in("emil@example.org").await;
    let csv = "id,title\nSYS-002,Attitude control\n";
    let (report_path, report) = dry_run(&c, &br, "ALPHA", "SYS", "a.csv", csv.as_bytes()).await;
    assert_eq!(report.counts.unchanged, 1);
    c.t.app
        .update_requirement(
            &c.editor,
            "ALPHA",
            "SYS-002",
            &RequirementInput {
                title: Some("Attitude hold".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let res = apply(&br, &report_path).await;
    assert_eq!(res.status(), 303);
    let fresh = location(&res);
    assert_ne!(fresh, report_path);
    let page = br.get_text(&fresh).await;
    assert!(page.contains("The project changed"), "{page}");
    let (_, r) =
        c.t.app
            .requirement(
                &c.lead,
                "ALPHA",
                "SYS-002",
                opensesa_domain::access::Permission::Read,
            )
            .await
            .unwrap();
    assert_eq!(r.title, "Attitude hold", "nothing applied");
    assert_eq!(apply(&br, &fresh).await.status(), 303);
    let (_, r) =
        c.t.app
            .requirement(
                &c.lead,
                "ALPHA",
                "SYS-002",
                opensesa_domain::access::Permission::Read,
            )
            .await
            .unwrap();
    assert_eq!(r.title, "Attitude control");
}

/// Viewers export but cannot import; editors cannot create modules by import.
async fn viewers_cannot_import(b: Backend) {
    let c = setup(b).await;
    populate(&c).await;
    let vera = c.t.logged_in("vera@example.org").await;
    assert_eq!(vera.get("/p/ALPHA/requirements/import").await.status(), 403);
    let res = upload(&vera, "ALPHA", "SYS", "x.csv", b"id,title\n,New\n").await;
    assert_eq!(res.status(), 403);
    assert_eq!(count(&c.t, "SELECT COUNT(*) FROM req_imports").await, 0);
    download(
        &vera,
        "/p/ALPHA/requirements/m/SYS/export.csv",
        "text/csv",
        "ALPHA-SYS.csv",
    )
    .await;
    download(
        &vera,
        "/p/ALPHA/trace/rvtm.csv",
        "text/csv",
        "ALPHA-rvtm.csv",
    )
    .await;
    // Not a member: not found.
    c.t.user("olga@example.org", false).await;
    let olga = c.t.logged_in("olga@example.org").await;
    assert_eq!(
        olga.get("/p/ALPHA/requirements/m/SYS/export.csv")
            .await
            .status(),
        404
    );

    // An editor's ReqIF import that needs new modules waits for a lead.
    let emil = c.t.logged_in("emil@example.org").await;
    let (report_path, report) =
        dry_run(&c, &emil, "ALPHA", "", "rich.reqif", RICH.as_bytes()).await;
    assert!(report.needs_lead && !report.can_apply(), "{report:#?}");
    assert_eq!(apply(&emil, &report_path).await.status(), 409);
}

/// The RVTM as CSV and XLSX, with the page's filters.
async fn rvtm_downloads(b: Backend) {
    let c = setup(b).await;
    populate(&c).await;
    let br = c.t.logged_in("emil@example.org").await;
    let csv = download(&br, "/p/ALPHA/trace/rvtm.csv", "text/csv", "ALPHA-rvtm.csv").await;
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,title,module,status,upstream,downstream,verified by,verification status,suspect links"
    );
    assert!(
        text.contains(
            "SYS-002,Attitude control,SYS SYS requirements,draft,,\"SYS-003, SW-001\",,no case,0"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "SW-001,Attitude estimator,SW SW requirements,draft,SYS-002,SW-002,,no case,0"
        ),
        "{text}"
    );
    let suspect = download(
        &br,
        "/p/ALPHA/trace/rvtm.csv?show=suspect",
        "text/csv",
        "ALPHA-rvtm.csv",
    )
    .await;
    assert_eq!(
        String::from_utf8(suspect).unwrap().trim().lines().count(),
        1,
        "no suspect links yet"
    );
    let xlsx = download(
        &br,
        "/p/ALPHA/trace/rvtm.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ALPHA-rvtm.xlsx",
    )
    .await;
    assert!(xlsx.starts_with(b"PK"));
}

/// Two confirmations of one import at the same time: one applies it, the other is refused, and
/// the rows without an id are created once.
async fn a_double_apply_creates_rows_once(b: Backend) {
    let c = setup(b).await;
    c.t.app
        .create_module(
            &c.lead,
            "ALPHA",
            &opensesa_domain::requirements::ModuleInput {
                prefix: Some("IMP".into()),
                name: Some("Imported".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut csv = String::from("id,title,statement\n");
    for i in 0..50 {
        csv.push_str(&format!(",Row {i},The system shall do thing {i}.\n"));
    }
    let id =
        c.t.app
            .start_import(&c.editor, "ALPHA", "IMP", "rows.csv", csv.into_bytes())
            .await
            .unwrap();
    let (a, b2) = tokio::join!(
        c.t.app.apply_import(&c.editor, "ALPHA", id),
        c.t.app.apply_import(&c.lead, "ALPHA", id)
    );
    let applied = [&a, &b2].iter().filter(|r| r.is_ok()).count();
    assert_eq!(applied, 1, "{a:?} / {b2:?}");
    assert!([&a, &b2]
        .iter()
        .any(|r| matches!(r, Err(opensesa_app::AppError::Conflict(_)))));
    let (_, page) =
        c.t.app
            .list_requirements(
                &c.editor,
                "ALPHA",
                opensesa_app::ports::ReqQuery {
                    limit: 500,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    assert_eq!(page.total, 50);
    // The import asked the worker to refresh the baselines' working groups now (once).
    let pending =
        c.t.app
            .store
            .list_jobs(&[opensesa_domain::jobs::JobState::Pending], false, 100)
            .await
            .unwrap();
    let refresh = pending
        .iter()
        .filter(|j| j.kind == "maintenance.working_groups")
        .count();
    assert_eq!(refresh, 1, "{pending:?}");
}

/// An import's duplicate-statement findings name the stored requirements with the same
/// statement (found through the statement-key index) and, as for a single save, not obsolete
/// ones nor headings.
async fn imports_find_duplicates_among_stored_requirements(b: Backend) {
    use opensesa_app::requirements::exchange::ApplyOutcome;
    use opensesa_domain::requirements::quality::RuleId;
    let c = setup(b).await;
    module(&c, "ALPHA", "SYS", None, Vec::new()).await;
    let live = create(
        &c,
        "SYS",
        RequirementInput {
            title: Some("Pump stop".into()),
            statement: Some("The pump shall stop within 2 s.".into()),
            ..Default::default()
        },
    )
    .await;
    let gone = create(
        &c,
        "SYS",
        RequirementInput {
            title: Some("Valve close".into()),
            statement: Some("The valve shall close within 1 s.".into()),
            ..Default::default()
        },
    )
    .await;
    c.t.app
        .transition(&c.lead, "ALPHA", &gone, Transition::Obsolete, None)
        .await
        .unwrap();
    // Other case and spacing: the same statement key.
    let csv = "id,title,statement\n\
               ,Stop again,\"the PUMP shall stop  within 2 s\"\n\
               ,Close again,The valve shall close within 1 s.\n";
    let id =
        c.t.app
            .start_import(
                &c.editor,
                "ALPHA",
                "SYS",
                "dup.csv",
                csv.as_bytes().to_vec(),
            )
            .await
            .unwrap();
    let applied = c.t.app.apply_import(&c.editor, "ALPHA", id).await.unwrap();
    assert!(matches!(applied, ApplyOutcome::Applied(_)));
    let project =
        c.t.app
            .store
            .find_project_by_code("ALPHA")
            .await
            .unwrap()
            .unwrap()
            .id;
    let sys =
        c.t.app
            .store
            .find_module_by_prefix(project, "SYS")
            .await
            .unwrap()
            .unwrap();
    let rows = c.t.app.store.module_requirements(sys.id).await.unwrap();
    let findings = |title: &str| {
        let id = rows.iter().find(|r| r.title == title).unwrap().id;
        let app = c.t.app.clone();
        async move { app.store.stored_findings(id).await.unwrap() }
    };
    let stop = findings("Stop again").await;
    let dup: Vec<_> = stop
        .iter()
        .filter(|f| f.rule == RuleId::Duplicate)
        .collect();
    assert_eq!(dup.len(), 1, "{stop:?}");
    assert!(dup[0].message.contains(&live), "{:?}", dup[0]);
    let close = findings("Close again").await;
    assert!(
        close.iter().all(|f| f.rule != RuleId::Duplicate),
        "an obsolete requirement is no duplicate: {close:?}"
    );
}

/// The regular files directly in `dir` (none if it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// A ReqIF file of `n` objects in one specification, object i+1 satisfying object i.
fn chain_reqif(n: usize) -> String {
    let mut objects = String::new();
    let mut relations = String::new();
    let mut children = String::new();
    for i in 0..n {
        write!(
            objects,
            r#"<SPEC-OBJECT IDENTIFIER="o-{i}" LAST-CHANGE="2026-01-01T00:00:00Z"><TYPE><SPEC-OBJECT-TYPE-REF>t-req</SPEC-OBJECT-TYPE-REF></TYPE><VALUES><ATTRIBUTE-VALUE-XHTML><DEFINITION><ATTRIBUTE-DEFINITION-XHTML-REF>a-text</ATTRIBUTE-DEFINITION-XHTML-REF></DEFINITION><THE-VALUE><xhtml:p>The unit shall log event {i} within 2 s.</xhtml:p></THE-VALUE></ATTRIBUTE-VALUE-XHTML></VALUES></SPEC-OBJECT>"#
        )
        .unwrap();
        write!(
            children,
            r#"<SPEC-HIERARCHY IDENTIFIER="h-{i}" LAST-CHANGE="2026-01-01T00:00:00Z"><OBJECT><SPEC-OBJECT-REF>o-{i}</SPEC-OBJECT-REF></OBJECT></SPEC-HIERARCHY>"#
        )
        .unwrap();
        if i > 0 {
            write!(
                relations,
                r#"<SPEC-RELATION IDENTIFIER="r-{i}" LAST-CHANGE="2026-01-01T00:00:00Z"><TYPE><SPEC-RELATION-TYPE-REF>t-sat</SPEC-RELATION-TYPE-REF></TYPE><SOURCE><SPEC-OBJECT-REF>o-{i}</SPEC-OBJECT-REF></SOURCE><TARGET><SPEC-OBJECT-REF>o-{}</SPEC-OBJECT-REF></TARGET></SPEC-RELATION>"#,
                i - 1
            )
            .unwrap();
        }
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd" xmlns:xhtml="http://www.w3.org/1999/xhtml">
<THE-HEADER><REQ-IF-HEADER IDENTIFIER="h"><CREATION-TIME>2026-01-01T00:00:00Z</CREATION-TIME><REQ-IF-TOOL-ID>t</REQ-IF-TOOL-ID><REQ-IF-VERSION>1.0</REQ-IF-VERSION><SOURCE-TOOL-ID>t</SOURCE-TOOL-ID><TITLE>Chain</TITLE></REQ-IF-HEADER></THE-HEADER>
<CORE-CONTENT><REQ-IF-CONTENT>
<DATATYPES><DATATYPE-DEFINITION-XHTML IDENTIFIER="dt-x" LAST-CHANGE="2026-01-01T00:00:00Z"/></DATATYPES>
<SPEC-TYPES>
<SPEC-OBJECT-TYPE IDENTIFIER="t-req" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Requirement"><SPEC-ATTRIBUTES><ATTRIBUTE-DEFINITION-XHTML IDENTIFIER="a-text" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="ReqIF.Text"><TYPE><DATATYPE-DEFINITION-XHTML-REF>dt-x</DATATYPE-DEFINITION-XHTML-REF></TYPE></ATTRIBUTE-DEFINITION-XHTML></SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE>
<SPEC-RELATION-TYPE IDENTIFIER="t-sat" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="satisfies"/>
<SPECIFICATION-TYPE IDENTIFIER="t-spec" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Spec"/>
</SPEC-TYPES>
<SPEC-OBJECTS>{objects}</SPEC-OBJECTS>
<SPEC-RELATIONS>{relations}</SPEC-RELATIONS>
<SPECIFICATIONS><SPECIFICATION IDENTIFIER="s-1" LAST-CHANGE="2026-01-01T00:00:00Z" LONG-NAME="Event logging"><TYPE><SPECIFICATION-TYPE-REF>t-spec</SPECIFICATION-TYPE-REF></TYPE><CHILDREN>{children}</CHILDREN></SPECIFICATION></SPECIFICATIONS>
</REQ-IF-CONTENT></CORE-CONTENT>
</REQ-IF>
"#
    )
}

/// More links than one page of the link list (1,000) survive import and export; every
/// imported row carries the content hash of its first revision (with the allocated id); the
/// import file area keeps no file of an applied or a refused upload.
async fn many_links_round_trip_and_import_files_go(b: Backend) {
    let c = setup(b).await;
    let br = c.t.logged_in("lena@example.org").await;
    let area = c.t.data_dir.join("uploads").join("imports");
    // Refused: nothing is kept, not even the staged upload.
    let res = upload(&br, "ALPHA", "", "broken.reqif", b"<REQ-IF").await;
    assert_eq!(res.status(), 422);
    assert_eq!(files_in(&area.join("staging")), Vec::<PathBuf>::new());
    assert_eq!(files_in(&area), Vec::<PathBuf>::new());

    let n = 1_101;
    let file = chain_reqif(n);
    let (report_path, report) = dry_run(&c, &br, "ALPHA", "", "chain.reqif", file.as_bytes()).await;
    assert_eq!(
        (report.counts.created, report.counts.links_added),
        (n, n - 1),
        "{:?}",
        report.problems
    );
    assert_eq!(files_in(&area).len(), 1, "the pending import's file");
    assert_eq!(apply(&br, &report_path).await.status(), 303);
    assert_eq!(
        files_in(&area),
        Vec::<PathBuf>::new(),
        "applied: file removed"
    );
    assert_eq!(files_in(&area.join("staging")), Vec::<PathBuf>::new());

    // Each row's hash is its current revision's (which holds the allocated human id).
    let mismatched = match b {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM requirements r JOIN revisions v ON v.artefact_type = 'requirement' \
             AND replace(v.artefact_id, '-', '') = lower(hex(r.id)) AND v.number = r.revision \
             WHERE r.content_hash IS NOT v.content_hash OR v.data NOT LIKE '%' || r.human_id || '%'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM requirements r JOIN revisions v ON v.artefact_type = 'requirement' \
             AND v.artefact_id = r.id::text AND v.number = r.revision \
             WHERE r.content_hash IS DISTINCT FROM v.content_hash OR v.data::text NOT LIKE '%' || r.human_id || '%'"
        }
    };
    assert_eq!(count(&c.t, mismatched).await, 0);
    assert!(count(&c.t, "SELECT COUNT(*) FROM requirements").await >= n as i64);

    let exported = download(
        &br,
        "/p/ALPHA/requirements/export.reqif",
        "application/xml",
        "ALPHA-requirements.reqif",
    )
    .await;
    let doc = reqif::read_bytes(&exported).unwrap();
    assert_eq!(doc.spec_relations.len(), n - 1, "every link is exported");
    // Read back into the same project: every link is known, nothing changes.
    let (_, again) = dry_run(&c, &br, "ALPHA", "", "again.reqif", &exported).await;
    assert_eq!(
        (again.counts.links_added, again.counts.created),
        (0, 0),
        "{:?}",
        again.problems
    );
}

both!(
    a_double_apply_creates_rows_once,
    many_links_round_trip_and_import_files_go,
    imports_find_duplicates_among_stored_requirements,
    csv_round_trip_is_identity,
    xlsx_round_trip_is_identity,
    csv_bad_row_blocks_the_import,
    malformed_files_are_refused,
    interop_reqif_files_import_or_are_refused,
    reqif_export_validates_and_round_trips,
    a_stale_report_is_made_again,
    viewers_cannot_import,
    rvtm_downloads,
);
