//! JUnit XML test reports, as CI pipelines upload them to be recorded as verification results.
//!
//! There is no single JUnit schema; what is read is what the tools write, each with its quirks:
//!
//! - pytest `--junitxml`: `<testsuites name="pytest tests">` around one `<testsuite
//!   name="pytest">`; `<failure message=…>`, `<error message="failed on setup with …">` for a
//!   broken fixture, `<skipped type="pytest.skip" message=…>` (and `pytest.xfail`); with
//!   `junit_logging` set, `<system-out>`/`<system-err>`, sometimes twice per case.
//! - cargo-nextest (`[profile.NAME.junit]`): `<testsuites name="nextest-run">`, one
//!   `<testsuite>` per test binary, `classname` is the binary id and `name` the test path. With
//!   retries, a test that failed every attempt has `<failure>` plus one `<rerunFailure>` (or
//!   `<rerunError>`) per retry, and a test that passed on a retry has only `<flakyFailure>`
//!   (or `<flakyError>`) children: it passed. Since nextest 0.9.1xx a flaky pass can be
//!   configured to count as failed; it then carries a `<failure>` too. Ignored tests are not in
//!   the file at all.
//! - googletest `--gtest_output=xml`: `status="run"|"notrun"` and
//!   `result="completed"|"skipped"|"suppressed"` on every `<testcase>`; one `<failure
//!   message=… type="">` with a CDATA body per failed assertion; `GTEST_SKIP()` writes
//!   `<skipped message=…>`, a `DISABLED_` test is `status="notrun" result="suppressed"` with no
//!   child. A failure outside any test (a global environment or `SetUpTestSuite`) comes as a
//!   `<testcase name="" classname="">`, which is kept: it is a failure like any other.
//! - ctest `--output-junit`: a single `<testsuite>` root; `status="run"|"fail"|"notrun"|
//!   "disabled"`, `<failure message="Failed"/>` (or `Timeout`, `SEGFAULT`, …) without a body,
//!   `<skipped message=…/>` for `notrun` but no child for `disabled`; the output in
//!   `<system-out>`.
//!
//! A case's outcome is decided by its children, then by the `status`/`result` attributes:
//! any `<failure>`/`<rerunFailure>` makes it failed, else any `<error>`/`<rerunError>` an
//! error, else a `<skipped>` or a status saying it did not run makes it skipped, else it
//! passed. Unknown elements and attributes are ignored.
//!
//! Reading streams the XML with quick-xml: what is kept is the list of cases, each with its
//! message and detail capped ([`MESSAGE_CAP`], [`DETAIL_CAP`] characters), so memory grows
//! with the number of cases and not with the output the tests printed. Refused, with the line
//! and column: an empty file, text that is not UTF-8, XML that is not well-formed (control
//! characters included), a root other than `<testsuites>`/`<testsuite>`, a `<testcase>`
//! without a `name` attribute or inside another `<testcase>`, and entities other than XML's
//! predefined ones and character references (there is no DTD to define them, and expanding
//! them would open the door to entity bombs).

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::position::{forbidden_control, Pos};
use crate::reqif::xml::{describe_xml_error, resolve_entity};

/// Longest message kept, in characters.
pub const MESSAGE_CAP: usize = 2000;
/// Longest detail kept, in characters, the truncation note included.
pub const DETAIL_CAP: usize = 8000;
const TRUNCATED: &str = "[truncated]";
/// Deepest element nesting read; real reports nest a handful of levels.
const MAX_DEPTH: usize = 256;

/// The test cases of one report, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct TestReport {
    pub cases: Vec<TestCase>,
    /// How many `<testsuite>` elements the report has (nested ones included).
    pub suites: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// The `name` of the innermost enclosing `<testsuite>`; empty when there is none or it has
    /// no name.
    pub suite: String,
    /// The `classname` attribute; may be empty.
    pub classname: String,
    pub name: String,
    /// The `time` attribute, when it is a non-negative number of seconds.
    pub time_secs: Option<f64>,
    pub outcome: Outcome,
    /// Why it failed, errored or was skipped: the `message` attribute of the element that
    /// decided the outcome, else the first line of its text, else its `type`. For a flaky pass,
    /// what the failed attempt said. At most [`MESSAGE_CAP`] characters.
    pub message: String,
    /// The bodies of `<failure>`, `<error>`, `<skipped>` and the retry elements, and the
    /// captured `<system-out>`/`<system-err>`, in document order; at most [`DETAIL_CAP`]
    /// characters, ending in `[truncated]` when cut.
    pub detail: String,
}

impl TestCase {
    /// `classname::name`, or the name alone when there is no class name.
    pub fn full_name(&self) -> String {
        if self.classname.is_empty() {
            self.name.clone()
        } else {
            format!("{}::{}", self.classname, self.name)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// Why a file is not a JUnit report we can read, and where (1-based line and column, the column
/// counted in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl JunitError {
    fn at(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            line: usize::try_from(pos.line).unwrap_or(usize::MAX),
            column: usize::try_from(pos.column).unwrap_or(usize::MAX),
            message: message.into(),
        }
    }
}

impl fmt::Display for JunitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JunitError {}

/// Reads a JUnit XML report (see the module documentation for what is accepted).
pub fn read(bytes: &[u8]) -> Result<TestReport, JunitError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.is_empty() {
        return Err(JunitError::at(Pos::START, "the file is empty"));
    }
    let utf16 = [&b"\xFE\xFF"[..], b"\xFF\xFE", b"\x00<", b"<\x00"];
    if utf16.iter().any(|mark| bytes.starts_with(mark)) {
        return Err(JunitError::at(
            Pos::START,
            "the file is UTF-16 encoded; JUnit XML is read as UTF-8",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        JunitError::at(
            position(bytes, at),
            format!(
                "the file is not UTF-8 text (byte 0x{:02X}); JUnit XML is read as UTF-8",
                bytes[at]
            ),
        )
    })?;
    if let Some(at) = forbidden_control(bytes) {
        return Err(JunitError::at(
            position(bytes, at),
            format!(
                "not well-formed XML: the control character U+{:04X} is not allowed",
                bytes[at]
            ),
        ));
    }
    Parser::new(text).run()
}

fn position(bytes: &[u8], offset: usize) -> Pos {
    let mut pos = Pos::START;
    pos.advance(&bytes[..offset.min(bytes.len())]);
    pos
}

/// Positions of byte offsets, counted incrementally: the parser asks in document order.
struct Locator<'a> {
    bytes: &'a [u8],
    offset: usize,
    pos: Pos,
}

impl Locator<'_> {
    fn at(&mut self, offset: u64) -> Pos {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if offset < self.offset {
            self.offset = 0;
            self.pos = Pos::START;
        }
        self.pos.advance(&self.bytes[self.offset..offset]);
        self.offset = offset;
        self.pos
    }
}

/// An open element.
enum Frame {
    Suites,
    Suite(String),
    Case,
    Section(Section),
    Other(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Root {
    Before,
    Open,
    Closed,
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    locator: Locator<'a>,
    stack: Vec<Frame>,
    root: Root,
    case: Option<CaseBuilder>,
    report: TestReport,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Self {
            reader,
            locator: Locator {
                bytes: text.as_bytes(),
                offset: 0,
                pos: Pos::START,
            },
            stack: Vec::new(),
            root: Root::Before,
            case: None,
            report: TestReport {
                cases: Vec::new(),
                suites: 0,
            },
        }
    }

    fn error(&mut self, offset: u64, message: impl Into<String>) -> JunitError {
        JunitError::at(self.locator.at(offset), message)
    }

    fn run(mut self) -> Result<TestReport, JunitError> {
        loop {
            let start = self.reader.buffer_position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let at = self.reader.error_position();
                    return Err(self.error(at, describe_xml_error(&e)));
                }
            };
            match event {
                Event::Start(tag) => self.open(&tag, start, false)?,
                Event::Empty(tag) => self.open(&tag, start, true)?,
                Event::End(_) => self.close(start)?,
                Event::Text(text) => self.text(&text.xml10_content(), start)?,
                Event::CData(cdata) => self.text(&cdata.xml10_content(), start)?,
                Event::GeneralRef(reference) => {
                    let text = resolve_entity(&reference).map_err(|m| self.error(start, m))?;
                    self.text(&text, start)?;
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        let end = self.reader.buffer_position();
        match (self.root, self.stack.last()) {
            (Root::Before, _) => Err(self.error(
                end,
                "the file has no root element; a JUnit XML report has <testsuites> or \
                 <testsuite> as its root",
            )),
            (_, Some(frame)) => {
                let name = frame_name(frame).to_owned();
                Err(self.error(end, format!("the file ends before <{name}> is closed")))
            }
            _ => Ok(self.report),
        }
    }

    fn open(&mut self, tag: &BytesStart<'_>, start: u64, empty: bool) -> Result<(), JunitError> {
        let name = tag.local_name().into_inner().to_owned();
        let qname = tag.name().into_inner().to_owned();
        let attrs = self.attributes(tag, &qname, start)?;
        match self.root {
            Root::Before if name == "testsuites" || name == "testsuite" => self.root = Root::Open,
            Root::Before => {
                return Err(self.error(
                    start,
                    format!(
                        "the root element is <{qname}>; a JUnit XML report has <testsuites> or \
                         <testsuite> as its root"
                    ),
                ))
            }
            Root::Closed => {
                return Err(self.error(
                    start,
                    format!("<{qname}> follows the root element, which has ended"),
                ))
            }
            Root::Open => {}
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                start,
                format!("elements are nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let frame = if self.case.is_some() {
            if matches!(name.as_str(), "testcase" | "testsuite" | "testsuites") {
                return Err(self.error(start, format!("<{qname}> inside a <testcase>")));
            }
            match (Section::from_name(&name), &mut self.case) {
                (Some(section), Some(case)) => {
                    case.open_section(section, &attrs);
                    Frame::Section(section)
                }
                _ => Frame::Other(qname),
            }
        } else {
            match name.as_str() {
                "testsuites" => Frame::Suites,
                "testsuite" => {
                    self.report.suites += 1;
                    Frame::Suite(attr(&attrs, "name").unwrap_or_default().to_owned())
                }
                "testcase" => {
                    let Some(case_name) = attr(&attrs, "name") else {
                        return Err(self.error(start, "<testcase> has no name attribute"));
                    };
                    let suite = self.stack.iter().rev().find_map(|frame| match frame {
                        Frame::Suite(name) => Some(name.clone()),
                        _ => None,
                    });
                    self.case = Some(CaseBuilder::new(
                        suite.unwrap_or_default(),
                        case_name.to_owned(),
                        &attrs,
                    ));
                    Frame::Case
                }
                _ => Frame::Other(qname),
            }
        };
        if empty {
            self.end(frame);
        } else {
            self.stack.push(frame);
        }
        Ok(())
    }

    fn close(&mut self, start: u64) -> Result<(), JunitError> {
        // quick-xml matches end tags to start tags, so there is always a frame to pop.
        match self.stack.pop() {
            Some(frame) => {
                self.end(frame);
                Ok(())
            }
            None => Err(self.error(start, "an end tag without a start tag")),
        }
    }

    fn end(&mut self, frame: Frame) {
        match frame {
            Frame::Case => {
                if let Some(case) = self.case.take() {
                    self.report.cases.push(case.finish());
                }
            }
            Frame::Section(_) => {
                if let Some(case) = &mut self.case {
                    case.close_section();
                }
            }
            Frame::Suites | Frame::Suite(_) | Frame::Other(_) => {}
        }
        if self.stack.is_empty() {
            self.root = Root::Closed;
        }
    }

    fn text(&mut self, text: &str, start: u64) -> Result<(), JunitError> {
        if self.root == Root::Open {
            if let Some(case) = &mut self.case {
                case.text(text);
            }
            return Ok(());
        }
        if text.chars().all(is_xml_space) {
            return Ok(());
        }
        // Point at the first character that is not whitespace, counted in the source, where a
        // line end may still be two bytes.
        let raw = usize::try_from(start)
            .ok()
            .and_then(|start| self.locator.bytes.get(start..))
            .unwrap_or_default();
        let skip = raw
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .unwrap_or(0);
        let at = start + skip as u64;
        Err(match self.root {
            Root::Before => self.error(
                at,
                "not an XML document: it starts with text, not with an element",
            ),
            _ => self.error(at, "text after the root element"),
        })
    }

    /// All attributes, with their values normalised and references resolved; malformed ones
    /// are refused even on elements that are ignored, as they make the file not well-formed.
    fn attributes(
        &mut self,
        tag: &BytesStart<'_>,
        qname: &str,
        start: u64,
    ) -> Result<Vec<(String, String)>, JunitError> {
        let mut attrs = Vec::new();
        for attr in tag.attributes() {
            let attr = attr.map_err(|e| self.error(start, format!("in <{qname}>: {e}")))?;
            let key = attr.key.into_inner().to_owned();
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| self.error(start, format!("attribute {key} of <{qname}>: {e}")))?;
            attrs.push((key, value.into_owned()));
        }
        Ok(attrs)
    }
}

fn attr<'v>(attrs: &'v [(String, String)], key: &str) -> Option<&'v str> {
    let found = attrs.iter().find(|(k, _)| k == key);
    found.map(|(_, v)| v.as_str())
}

fn frame_name(frame: &Frame) -> &str {
    match frame {
        Frame::Suites => "testsuites",
        Frame::Suite(_) => "testsuite",
        Frame::Case => "testcase",
        Frame::Section(section) => section.name(),
        Frame::Other(name) => name,
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The children of a `<testcase>` whose text is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Failure,
    Error,
    Skipped,
    FlakyFailure,
    FlakyError,
    RerunFailure,
    RerunError,
    StackTrace,
    SystemOut,
    SystemErr,
}

/// What a section says about the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Failed,
    Error,
    Skipped,
    /// A failed attempt of a test that passed on a retry.
    Flaky,
}

impl Section {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "failure" => Self::Failure,
            "error" => Self::Error,
            "skipped" => Self::Skipped,
            "flakyFailure" => Self::FlakyFailure,
            "flakyError" => Self::FlakyError,
            "rerunFailure" => Self::RerunFailure,
            "rerunError" => Self::RerunError,
            "stackTrace" => Self::StackTrace,
            "system-out" => Self::SystemOut,
            "system-err" => Self::SystemErr,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::Error => "error",
            Self::Skipped => "skipped",
            Self::FlakyFailure => "flakyFailure",
            Self::FlakyError => "flakyError",
            Self::RerunFailure => "rerunFailure",
            Self::RerunError => "rerunError",
            Self::StackTrace => "stackTrace",
            Self::SystemOut => "system-out",
            Self::SystemErr => "system-err",
        }
    }

    fn verdict(self) -> Option<Verdict> {
        match self {
            Self::Failure | Self::RerunFailure => Some(Verdict::Failed),
            Self::Error | Self::RerunError => Some(Verdict::Error),
            Self::Skipped => Some(Verdict::Skipped),
            Self::FlakyFailure | Self::FlakyError => Some(Verdict::Flaky),
            Self::StackTrace | Self::SystemOut | Self::SystemErr => None,
        }
    }

    /// The heading of the section in the detail; the body of the element that decides the
    /// outcome comes without one.
    fn has_heading(self) -> bool {
        !matches!(self, Self::Failure | Self::Error | Self::Skipped)
    }
}

/// Text that stops growing at a number of characters and remembers that it was cut.
struct Capped {
    text: String,
    chars: usize,
    limit: usize,
    truncated: bool,
}

impl Capped {
    fn new(limit: usize) -> Self {
        Self {
            text: String::new(),
            chars: 0,
            limit,
            truncated: false,
        }
    }

    fn push(&mut self, s: &str) {
        if self.truncated {
            return;
        }
        let room = self.limit - self.chars;
        match s.char_indices().nth(room) {
            Some((cut, _)) => {
                self.text.push_str(&s[..cut]);
                self.chars = self.limit;
                self.truncated = true;
            }
            None => {
                self.text.push_str(s);
                self.chars += s.chars().count();
            }
        }
    }

    fn clear(&mut self) {
        self.text.clear();
        self.chars = 0;
        self.truncated = false;
    }
}

/// `s` cut to `cap` characters, the cut marked.
fn cap(s: &str, cap: usize, separator: &str) -> String {
    if s.chars().count() <= cap {
        return s.to_owned();
    }
    let keep = cap.saturating_sub(separator.chars().count() + TRUNCATED.len());
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(separator);
    out.push_str(TRUNCATED);
    out
}

/// Trailing whitespace and leading blank lines removed; indentation of the first line kept.
fn trim_section(s: &str) -> &str {
    let s = s.trim_end_matches(is_xml_space);
    let first = s.find(|c: char| !is_xml_space(c)).unwrap_or(s.len());
    let line_start = s[..first].rfind('\n').map_or(0, |i| i + 1);
    &s[line_start..]
}

fn first_line(s: &str) -> &str {
    s.lines()
        .map(|line| line.trim_matches(is_xml_space))
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

/// What the first element of one verdict said.
struct Said {
    message: String,
    kind: String,
}

impl Said {
    fn text(&self) -> &str {
        if self.message.is_empty() {
            &self.kind
        } else {
            &self.message
        }
    }
}

struct OpenSection {
    section: Section,
    text: Capped,
    /// The verdict whose message is still to come from this section's text.
    message_for: Option<Verdict>,
}

struct CaseBuilder {
    suite: String,
    classname: String,
    name: String,
    time_secs: Option<f64>,
    status: String,
    result: String,
    failed: Option<Said>,
    error: Option<Said>,
    skipped: Option<Said>,
    flaky: Option<Said>,
    flaky_attempts: usize,
    detail: Capped,
    sections: Vec<OpenSection>,
}

impl CaseBuilder {
    fn new(suite: String, name: String, attrs: &[(String, String)]) -> Self {
        let time_secs = attr(attrs, "time")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| t.is_finite() && *t >= 0.0);
        let lower = |key: &str| {
            attr(attrs, key)
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        };
        Self {
            suite,
            classname: attr(attrs, "classname").unwrap_or_default().to_owned(),
            name,
            time_secs,
            status: lower("status"),
            result: lower("result"),
            failed: None,
            error: None,
            skipped: None,
            flaky: None,
            flaky_attempts: 0,
            // Room for the truncation note, so the whole stays within the cap.
            detail: Capped::new(DETAIL_CAP - TRUNCATED.len() - 1),
            sections: Vec::new(),
        }
    }

    fn said(&mut self, verdict: Verdict) -> &mut Option<Said> {
        match verdict {
            Verdict::Failed => &mut self.failed,
            Verdict::Error => &mut self.error,
            Verdict::Skipped => &mut self.skipped,
            Verdict::Flaky => &mut self.flaky,
        }
    }

    fn open_section(&mut self, section: Section, attrs: &[(String, String)]) {
        self.flush();
        let mut message_for = None;
        if let Some(verdict) = section.verdict() {
            if verdict == Verdict::Flaky {
                self.flaky_attempts += 1;
            }
            let slot = self.said(verdict);
            if slot.is_none() {
                let message = attr(attrs, "message").unwrap_or_default();
                let message = message.trim_matches(is_xml_space);
                if message.is_empty() {
                    message_for = Some(verdict);
                }
                *slot = Some(Said {
                    message: cap(message, MESSAGE_CAP, " "),
                    kind: cap(attr(attrs, "type").unwrap_or_default(), MESSAGE_CAP, " "),
                });
            }
        }
        self.sections.push(OpenSection {
            section,
            text: Capped::new(DETAIL_CAP),
            message_for,
        });
    }

    fn close_section(&mut self) {
        self.flush();
        self.sections.pop();
    }

    fn text(&mut self, text: &str) {
        if let Some(open) = self.sections.last_mut() {
            open.text.push(text);
        }
    }

    /// Moves the text of the innermost open section into the detail (a section's text may be
    /// interrupted by child sections, as nextest's retry elements are).
    fn flush(&mut self) {
        let Some(open) = self.sections.last_mut() else {
            return;
        };
        let section = open.section;
        let truncated = open.text.truncated;
        let body = trim_section(&open.text.text).to_owned();
        open.text.clear();
        if body.is_empty() {
            return;
        }
        if let Some(verdict) = open.message_for.take() {
            let line = cap(first_line(&body), MESSAGE_CAP, " ");
            if let Some(said) = self.said(verdict) {
                said.message = line;
            }
        }
        if !self.detail.text.is_empty() {
            self.detail.push("\n\n");
        }
        if section.has_heading() {
            self.detail.push(&format!("[{}]\n", section.name()));
        }
        self.detail.push(&body);
        if truncated {
            self.detail.push("\n");
            self.detail.push(TRUNCATED);
        }
    }

    fn finish(mut self) -> TestCase {
        while !self.sections.is_empty() {
            self.close_section();
        }
        let (outcome, message) = if let Some(said) = &self.failed {
            (Outcome::Failed, said.text().to_owned())
        } else if let Some(said) = &self.error {
            (Outcome::Error, said.text().to_owned())
        } else if let Some(said) = &self.skipped {
            (Outcome::Skipped, said.text().to_owned())
        } else if let Some(reason) = self.not_run() {
            (Outcome::Skipped, reason)
        } else if self.status == "fail" {
            (Outcome::Failed, "failed (status=\"fail\")".to_owned())
        } else if let Some(said) = &self.flaky {
            let message = format!(
                "passed on a retry after {} failed attempt{}: {}",
                self.flaky_attempts,
                if self.flaky_attempts == 1 { "" } else { "s" },
                said.text()
            );
            (Outcome::Passed, cap(&message, MESSAGE_CAP, " "))
        } else {
            (Outcome::Passed, String::new())
        };
        let mut detail = std::mem::take(&mut self.detail.text);
        if self.detail.truncated {
            detail.push('\n');
            detail.push_str(TRUNCATED);
        }
        TestCase {
            suite: self.suite,
            classname: self.classname,
            name: self.name,
            time_secs: self.time_secs,
            outcome,
            message,
            detail,
        }
    }

    /// googletest (`status="notrun"`, `result="skipped"|"suppressed"`) and ctest
    /// (`status="notrun"|"disabled"`) say so in attributes, not always with a `<skipped>`.
    fn not_run(&self) -> Option<String> {
        if matches!(self.status.as_str(), "notrun" | "disabled") {
            Some(format!("not run (status=\"{}\")", self.status))
        } else if matches!(self.result.as_str(), "skipped" | "suppressed") {
            Some(format!("not run (result=\"{}\")", self.result))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;
