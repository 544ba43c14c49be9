//! Quality rules for requirement text: rule-based findings per requirement, project-wide
//! duplicate detection and a module score.
//!
//! The caller gathers the facts of one requirement into a [`QualityInput`] and calls
//! [`check_text`]; the duplicate rules need every statement of the project at once, so they
//! live in a [`DuplicateIndex`] built once per project and queried per requirement. The two
//! lists of findings together are a requirement's findings; [`score`] condenses a module's.
//!
//! Which kinds are checked like requirements is [`ReqKind::is_requirement`]: headings and
//! information items are exempt from the "shall", verification, rationale and trace rules,
//! but a weak word or a TBD in them is still reported.

use super::model::ReqKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Rules, severities, findings
// ---------------------------------------------------------------------------------------------

/// One quality rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    WeakWord,
    Tbd,
    MultipleShall,
    PassiveVoice,
    MissingVerification,
    MissingRationale,
    Duplicate,
    NearDuplicate,
    Orphan,
    Untraced,
}

impl RuleId {
    pub const ALL: [RuleId; 10] = [
        RuleId::WeakWord,
        RuleId::Tbd,
        RuleId::MultipleShall,
        RuleId::PassiveVoice,
        RuleId::MissingVerification,
        RuleId::MissingRationale,
        RuleId::Duplicate,
        RuleId::NearDuplicate,
        RuleId::Orphan,
        RuleId::Untraced,
    ];

    /// The stable name, as stored and serialised (`"weak_word"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::WeakWord => "weak_word",
            RuleId::Tbd => "tbd",
            RuleId::MultipleShall => "multiple_shall",
            RuleId::PassiveVoice => "passive_voice",
            RuleId::MissingVerification => "missing_verification",
            RuleId::MissingRationale => "missing_rationale",
            RuleId::Duplicate => "duplicate",
            RuleId::NearDuplicate => "near_duplicate",
            RuleId::Orphan => "orphan",
            RuleId::Untraced => "untraced",
        }
    }

    /// The rule named by `raw`: case, surrounding space, and `-` or space for `_` are forgiven.
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim().to_lowercase().replace([' ', '-'], "_");
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// A short human title, for lists and settings.
    pub fn title(self) -> &'static str {
        match self {
            RuleId::WeakWord => "Weak or vague wording",
            RuleId::Tbd => "Unresolved placeholder (TBD)",
            RuleId::MultipleShall => "More than one \"shall\"",
            RuleId::PassiveVoice => "Passive voice",
            RuleId::MissingVerification => "No verification method",
            RuleId::MissingRationale => "No rationale",
            RuleId::Duplicate => "Duplicate",
            RuleId::NearDuplicate => "Near duplicate",
            RuleId::Orphan => "Orphan (no parent)",
            RuleId::Untraced => "Untraced",
        }
    }

    /// One sentence saying what the rule checks, for the settings page.
    pub fn description(self) -> &'static str {
        match self {
            RuleId::WeakWord => {
                "The statement uses non-binding, vague or open-ended words (should, fast, etc.)."
            }
            RuleId::Tbd => {
                "The title, statement or rationale still contains TBD, TBC, TBR, \
                 \"to be determined\" or \"to be confirmed\"."
            }
            RuleId::MultipleShall => "The statement has more than one \"shall\".",
            RuleId::PassiveVoice => {
                "The statement says \"shall be <done>\" without saying by whom."
            }
            RuleId::MissingVerification => "No verification method is set.",
            RuleId::MissingRationale => "The rationale is empty.",
            RuleId::Duplicate => "Another requirement of the project has the same statement.",
            RuleId::NearDuplicate => {
                "Another requirement of the project has nearly the same statement."
            }
            RuleId::Orphan => "The requirement has no parent and is not in a top-level module.",
            RuleId::Untraced => "The requirement has no trace link in either direction.",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            RuleId::Tbd | RuleId::MissingVerification | RuleId::Duplicate => Severity::Error,
            RuleId::WeakWord
            | RuleId::MultipleShall
            | RuleId::MissingRationale
            | RuleId::NearDuplicate
            | RuleId::Orphan
            | RuleId::Untraced => Severity::Warning,
            RuleId::PassiveVoice => Severity::Info,
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is. Ordered most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim().to_lowercase();
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Points one finding of this severity takes off the score (see [`score`]).
    pub fn weight(self) -> u32 {
        match self {
            Severity::Error => 10,
            Severity::Warning => 3,
            Severity::Info => 1,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in one requirement. The message quotes the offending wording where
/// there is one, so that an engineer can find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub message: String,
}

impl Finding {
    /// A finding of `rule` with the rule's own severity.
    pub fn new(rule: RuleId, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: rule.severity(),
            message: message.into(),
        }
    }
}

/// Which rules are on for a project. The default has every rule on; a project stores only
/// what it switched off, so rules added later start enabled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    disabled: BTreeSet<RuleId>,
}

impl RuleSet {
    /// Every rule on.
    pub fn all() -> Self {
        Self::default()
    }

    /// Every rule on except `disabled`.
    pub fn from_disabled(disabled: impl IntoIterator<Item = RuleId>) -> Self {
        Self {
            disabled: disabled.into_iter().collect(),
        }
    }

    pub fn is_enabled(&self, rule: RuleId) -> bool {
        !self.disabled.contains(&rule)
    }

    pub fn disable(&mut self, rule: RuleId) {
        self.disabled.insert(rule);
    }

    pub fn enable(&mut self, rule: RuleId) {
        self.disabled.remove(&rule);
    }

    /// The rules switched off, in [`RuleId`] order.
    pub fn disabled(&self) -> impl Iterator<Item = RuleId> + '_ {
        self.disabled.iter().copied()
    }

    /// The rules switched on, in [`RuleId`] order.
    pub fn enabled(&self) -> impl Iterator<Item = RuleId> + '_ {
        RuleId::ALL.into_iter().filter(|r| self.is_enabled(*r))
    }
}

// ---------------------------------------------------------------------------------------------
// Per-requirement rules
// ---------------------------------------------------------------------------------------------

/// The facts one requirement is checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QualityInput<'a> {
    pub title: &'a str,
    pub statement: &'a str,
    pub rationale: &'a str,
    /// The requirement kind as stored (`ReqKind::as_str`, e.g. "functional", "heading").
    /// Kinds that are not requirements ("heading", "information") are exempt from the
    /// shall, verification, rationale and trace rules. An unknown kind is checked in full.
    pub kind: &'a str,
    /// How many verification methods are set.
    pub verification_methods: usize,
    pub has_parent: bool,
    /// The requirement's module is a top-level (root) module: its requirements need no parent.
    pub top_level: bool,
    /// Trace links touching the requirement, in either direction.
    pub trace_links: usize,
}

/// Every rule except the duplicate ones (see [`DuplicateIndex::findings`]), in rule order.
///
/// - `weak_word`: the statement (only) uses a term of [`WEAK_TERMS`]; one finding per term.
/// - `tbd`: the title, statement or rationale contains a placeholder; one finding per
///   placeholder, naming the fields.
/// - `multiple_shall`: the statement has more than one "shall".
/// - `passive_voice`: "shall [not] be [adverb] <past participle>" with no "by" after it in
///   the same sentence; one finding per distinct phrase.
/// - `missing_verification`: no verification method.
/// - `missing_rationale`: the rationale is empty or white space.
/// - `orphan`: no parent and the module is not top-level.
/// - `untraced`: no trace link at all, whatever the module's level: a top-level requirement
///   has no parent but still needs links down to what refines or verifies it. If the caller
///   models the parent relation as a trace link, it counts in `trace_links` as well.
///
/// All but `weak_word` and `tbd` are skipped for headings and information items.
pub fn check_text(input: &QualityInput<'_>, rules: &RuleSet) -> Vec<Finding> {
    let statement = Words::of(input.statement);
    let is_requirement = ReqKind::parse(input.kind).map_or(true, ReqKind::is_requirement);
    let mut out = Checks {
        rules,
        findings: Vec::new(),
    };
    out.run(RuleId::WeakWord, || weak_words(&statement));
    out.run(RuleId::Tbd, || placeholders(input, &statement));
    if is_requirement {
        out.run(RuleId::MultipleShall, || multiple_shall(&statement));
        out.run(RuleId::PassiveVoice, || passive_voice(&statement));
        out.run(RuleId::MissingVerification, || {
            (input.verification_methods == 0).then(|| {
                "No verification method: choose test, analysis, inspection or demonstration"
                    .to_owned()
            })
        });
        out.run(RuleId::MissingRationale, || {
            input.rationale.trim().is_empty().then(|| {
                "No rationale: say why this requirement exists and where it comes from".to_owned()
            })
        });
        out.run(RuleId::Orphan, || {
            (!input.has_parent && !input.top_level).then(|| {
                "No parent requirement: link it to the requirement it derives from, \
                 or move it to a top-level module"
                    .to_owned()
            })
        });
        out.run(RuleId::Untraced, || {
            (input.trace_links == 0).then(|| {
                "No trace links: trace it to the requirements, design or tests it relates to"
                    .to_owned()
            })
        });
    }
    out.findings
}

/// Collects findings, running a rule's check only when the rule is on.
struct Checks<'r> {
    rules: &'r RuleSet,
    findings: Vec<Finding>,
}

impl Checks<'_> {
    fn run<M: IntoIterator<Item = String>>(&mut self, rule: RuleId, check: impl FnOnce() -> M) {
        if self.rules.is_enabled(rule) {
            let found = check()
                .into_iter()
                .map(|message| Finding::new(rule, message));
            self.findings.extend(found);
        }
    }
}

/// Why a weak term is weak; decides the advice in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Not a binding obligation (ISO/IEC/IEEE 29148 §5.2.4: requirements use "shall").
    NonBinding,
    /// Vague or subjective: cannot be verified (INCOSE R7, 29148 §5.2.7).
    Vague,
    /// Lets the supplier decide whether to comply (INCOSE R8 escape clauses, 29148 loopholes).
    EscapeClause,
    /// Leaves the scope open (INCOSE R9 open-ended clauses, 29148 open-ended terms).
    OpenEnded,
    /// Leaves "and" or "or" undecided (INCOSE rules on combinators and the oblique "/").
    Combinator,
}

/// Wording to avoid in requirement statements, matched case-insensitively on whole words
/// ("fast" does not match "breakfast"); the punctuation inside a term must match
/// ("and/or", "user-friendly"), white space may vary.
///
/// Sources: INCOSE *Guide for Writing Requirements* (INCOSE-TP-2010-006), rules R7 "vague
/// terms", R8 "escape clauses", R9 "open-ended clauses" and its rules on combinators and
/// the oblique symbol; ISO/IEC/IEEE 29148:2018 §5.2.4 (binding "shall" versus "should" and
/// "may") and §5.2.7 (terms to avoid: superlatives, subjective language, ambiguous adverbs
/// and adjectives, open-ended non-verifiable terms, loopholes).
///
/// Deliberately left out because they are mostly used precisely in requirements and would
/// drown the real findings: "any", "about", "most" ("at most"), "simple", "support" (only
/// "provide support" is listed, as in 29148), "can", "will".
pub const WEAK_TERMS: &[(&str, Weakness)] = &[
    // Non-binding modal verbs.
    ("should", Weakness::NonBinding),
    ("may", Weakness::NonBinding),
    ("might", Weakness::NonBinding),
    ("could", Weakness::NonBinding),
    // Vague quantities and frequencies.
    ("some", Weakness::Vague),
    ("several", Weakness::Vague),
    ("many", Weakness::Vague),
    ("a few", Weakness::Vague),
    ("a lot of", Weakness::Vague),
    ("almost", Weakness::Vague),
    ("nearly", Weakness::Vague),
    ("approximately", Weakness::Vague),
    ("typically", Weakness::Vague),
    ("usually", Weakness::Vague),
    ("normally", Weakness::Vague),
    ("generally", Weakness::Vague),
    // Subjective or unmeasurable qualities.
    ("sufficient", Weakness::Vague),
    ("sufficiently", Weakness::Vague),
    ("adequate", Weakness::Vague),
    ("adequately", Weakness::Vague),
    ("appropriate", Weakness::Vague),
    ("appropriately", Weakness::Vague),
    ("reasonable", Weakness::Vague),
    ("reasonably", Weakness::Vague),
    ("significant", Weakness::Vague),
    ("significantly", Weakness::Vague),
    ("relevant", Weakness::Vague),
    ("efficient", Weakness::Vague),
    ("efficiently", Weakness::Vague),
    ("effective", Weakness::Vague),
    ("effectively", Weakness::Vague),
    ("cost-effective", Weakness::Vague),
    ("cost effective", Weakness::Vague),
    ("flexible", Weakness::Vague),
    ("robust", Weakness::Vague),
    ("user-friendly", Weakness::Vague),
    ("user friendly", Weakness::Vague),
    ("easy", Weakness::Vague),
    ("easily", Weakness::Vague),
    ("intuitive", Weakness::Vague),
    ("seamless", Weakness::Vague),
    ("seamlessly", Weakness::Vague),
    ("fast", Weakness::Vague),
    ("quickly", Weakness::Vague),
    ("rapid", Weakness::Vague),
    ("rapidly", Weakness::Vague),
    ("timely", Weakness::Vague),
    // Superlatives and optimisation without a measure.
    ("minimal", Weakness::Vague),
    ("maximal", Weakness::Vague),
    ("minimize", Weakness::Vague),
    ("minimise", Weakness::Vague),
    ("maximize", Weakness::Vague),
    ("maximise", Weakness::Vague),
    ("optimize", Weakness::Vague),
    ("optimise", Weakness::Vague),
    ("optimal", Weakness::Vague),
    ("optimum", Weakness::Vague),
    ("best", Weakness::Vague),
    ("state-of-the-art", Weakness::Vague),
    ("state of the art", Weakness::Vague),
    // Escape clauses.
    ("as appropriate", Weakness::EscapeClause),
    ("as required", Weakness::EscapeClause),
    ("as necessary", Weakness::EscapeClause),
    ("if necessary", Weakness::EscapeClause),
    ("when necessary", Weakness::EscapeClause),
    ("where necessary", Weakness::EscapeClause),
    ("as needed", Weakness::EscapeClause),
    ("if needed", Weakness::EscapeClause),
    ("if possible", Weakness::EscapeClause),
    ("where possible", Weakness::EscapeClause),
    ("when possible", Weakness::EscapeClause),
    ("as far as possible", Weakness::EscapeClause),
    ("as much as possible", Weakness::EscapeClause),
    ("as little as possible", Weakness::EscapeClause),
    ("as soon as possible", Weakness::EscapeClause),
    ("to the extent possible", Weakness::EscapeClause),
    ("to the extent practical", Weakness::EscapeClause),
    ("to the extent practicable", Weakness::EscapeClause),
    ("if practicable", Weakness::EscapeClause),
    ("where practicable", Weakness::EscapeClause),
    ("as applicable", Weakness::EscapeClause),
    ("if applicable", Weakness::EscapeClause),
    ("where applicable", Weakness::EscapeClause),
    // Open-ended clauses.
    ("etc", Weakness::OpenEnded),
    ("and so on", Weakness::OpenEnded),
    ("and so forth", Weakness::OpenEnded),
    ("and the like", Weakness::OpenEnded),
    ("including but not limited to", Weakness::OpenEnded),
    ("but not limited to", Weakness::OpenEnded),
    ("as a minimum", Weakness::OpenEnded),
    ("at a minimum", Weakness::OpenEnded),
    ("provide support", Weakness::OpenEnded),
    // Undecided combinators.
    ("and/or", Weakness::Combinator),
];

/// Placeholders that mark a requirement as unfinished.
pub const PLACEHOLDER_TERMS: &[&str] =
    &["tbd", "tbc", "tbr", "to be determined", "to be confirmed"];

fn weak_words(statement: &Words<'_>) -> Vec<String> {
    static TERMS: OnceLock<Lexicon> = OnceLock::new();
    let lexicon = TERMS.get_or_init(|| Lexicon::new(WEAK_TERMS.iter().map(|(term, _)| *term)));
    lexicon
        .find(statement)
        .into_iter()
        .map(|m| {
            let quoted = m.quote(statement);
            let advice = match WEAK_TERMS[m.term].1 {
                Weakness::NonBinding => {
                    "is not binding: write \"shall\" for a requirement, or make the text a note"
                }
                Weakness::Vague => "is vague: replace it with a measurable, verifiable criterion",
                Weakness::EscapeClause => {
                    "is an escape clause: state the exact condition, or remove it"
                }
                Weakness::OpenEnded => "leaves the scope open: list every case explicitly",
                Weakness::Combinator => {
                    "is ambiguous: decide between \"and\" and \"or\", or split the requirement"
                }
            };
            format!("\"{quoted}\" {advice}{}", occurrences(m.count))
        })
        .collect()
}

/// One finding per placeholder found in any of the title, statement and rationale.
fn placeholders(input: &QualityInput<'_>, statement: &Words<'_>) -> Vec<String> {
    static TERMS: OnceLock<Lexicon> = OnceLock::new();
    let lexicon = TERMS.get_or_init(|| Lexicon::new(PLACEHOLDER_TERMS.iter().copied()));
    let title = Words::of(input.title);
    let rationale = Words::of(input.rationale);
    let fields = [
        ("title", &title),
        ("statement", statement),
        ("rationale", &rationale),
    ];
    // Per placeholder: how it is first written, and the fields it appears in.
    let mut found: Vec<(usize, String, Vec<&str>)> = Vec::new();
    for (field, words) in fields {
        for m in lexicon.find(words) {
            match found.iter_mut().find(|(term, _, _)| *term == m.term) {
                Some((_, _, in_fields)) => in_fields.push(field),
                None => found.push((m.term, m.quote(words).to_owned(), vec![field])),
            }
        }
    }
    found
        .into_iter()
        .map(|(_, quoted, in_fields)| {
            format!(
                "Unresolved placeholder \"{quoted}\" in the {}: resolve it before the \
                 requirement is baselined",
                join_and(&in_fields)
            )
        })
        .collect()
}

fn multiple_shall(statement: &Words<'_>) -> Option<String> {
    let count = statement.lowers().filter(|w| *w == "shall").count();
    (count > 1).then(|| {
        format!(
            "The statement has {count} occurrences of \"shall\": write one requirement per \
             \"shall\" so that each can be verified on its own"
        )
    })
}

/// "shall [not] be [adverb] <participle>" not followed by "by" in the same clause.
fn passive_voice(statement: &Words<'_>) -> Vec<String> {
    let mut phrases: Vec<String> = Vec::new();
    for start in 0..statement.len() {
        let Some(end) = passive_phrase_end(statement, start) else {
            continue;
        };
        if has_agent(statement, end + 1) {
            continue;
        }
        let phrase = statement.quote(start, end);
        if !phrases.iter().any(|p| p.eq_ignore_ascii_case(phrase)) {
            phrases.push(phrase.to_owned());
        }
    }
    phrases
        .into_iter()
        .map(|phrase| {
            format!(
                "\"{phrase}\" is passive and does not say who acts: make the system or part \
                 that performs it the subject"
            )
        })
        .collect()
}

/// The index of the participle when a passive "shall be …" phrase starts at `start`.
fn passive_phrase_end(words: &Words<'_>, start: usize) -> Option<usize> {
    if words.lower(start)? != "shall" {
        return None;
    }
    let mut i = start + 1;
    if words.lower(i)? == "not" {
        i += 1;
    }
    if words.lower(i)? != "be" {
        return None;
    }
    i += 1;
    // "shall be automatically logged": one adverb may stand before the participle.
    if words.lower(i)?.ends_with("ly") && words.lower(i + 1).is_some_and(is_past_participle) {
        i += 1;
    }
    is_past_participle(words.lower(i)?).then_some(i)
}

/// Whether "by" follows from `from` on, before the sentence or the next "shall" begins.
fn has_agent(words: &Words<'_>, from: usize) -> bool {
    for i in from..words.len() {
        if words.starts_sentence(i) || words.is(i, "shall") {
            return false;
        }
        if words.is(i, "by") {
            return true;
        }
    }
    false
}

/// Irregular past participles that do not end in -ed or -en.
const IRREGULAR_PARTICIPLES: &[&str] = &[
    "bent",
    "bound",
    "brought",
    "built",
    "bought",
    "burnt",
    "caught",
    "cut",
    "dealt",
    "done",
    "drawn",
    "dug",
    "felt",
    "found",
    "grown",
    "heard",
    "held",
    "hit",
    "hung",
    "kept",
    "known",
    "laid",
    "led",
    "left",
    "lent",
    "lit",
    "lost",
    "made",
    "meant",
    "met",
    "paid",
    "put",
    "read",
    "run",
    "said",
    "sent",
    "set",
    "shown",
    "shut",
    "sold",
    "sought",
    "spent",
    "split",
    "spread",
    "stood",
    "struck",
    "stuck",
    "taught",
    "thrown",
    "told",
    "thought",
    "understood",
    "upheld",
    "withheld",
    "won",
    "worn",
    "torn",
    "wound",
];

/// Words ending in -ed or -en that are not past participles, so "shall be green" is not
/// taken for passive voice.
const NOT_PARTICIPLES: &[&str] = &[
    "between", "children", "citizen", "eleven", "even", "garden", "golden", "green", "hundred",
    "indeed", "kitchen", "naked", "need", "often", "open", "oxygen", "hydrogen", "nitrogen",
    "sacred", "screen", "seven", "specimen", "speed", "sudden", "then", "token", "when", "wicked",
    "wooden",
];

fn is_past_participle(word: &str) -> bool {
    if IRREGULAR_PARTICIPLES.contains(&word) {
        return true;
    }
    if NOT_PARTICIPLES.contains(&word) {
        return false;
    }
    // Three letters are too few to tell ("red", "ten").
    word.chars().count() >= 4 && (word.ends_with("ed") || word.ends_with("en"))
}

/// " (3 occurrences)" when a term appears more than once.
fn occurrences(count: usize) -> String {
    if count > 1 {
        format!(" ({count} occurrences)")
    } else {
        String::new()
    }
}

/// "a", "a and b", "a, b and c".
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------
// Words and term matching
// ---------------------------------------------------------------------------------------------

/// One word of a text: a maximal run of letters and digits (and "_").
#[derive(Debug)]
struct Word {
    /// Byte range in the text.
    start: usize,
    end: usize,
    /// Byte range of its lower-case form in [`Words::lower`].
    lower_start: usize,
    lower_end: usize,
}

/// A text cut into words; what lies between two words (spaces, punctuation) is its gap.
struct Words<'t> {
    text: &'t str,
    words: Vec<Word>,
    /// Every word in lower case, one buffer for all (one allocation, not one per word).
    lower: String,
}

impl<'t> Words<'t> {
    fn of(text: &'t str) -> Self {
        let mut words = Vec::new();
        let mut lower = String::with_capacity(text.len());
        let mut current: Option<Word> = None;
        for (i, c) in text.char_indices() {
            // "_" joins words as in identifiers: "tbc_ext" is not the placeholder "TBC".
            if c.is_alphanumeric() || c == '_' {
                let word = current.get_or_insert(Word {
                    start: i,
                    end: i,
                    lower_start: lower.len(),
                    lower_end: lower.len(),
                });
                word.end = i + c.len_utf8();
                if c.is_ascii() {
                    lower.push(c.to_ascii_lowercase());
                } else {
                    lower.extend(c.to_lowercase());
                }
                word.lower_end = lower.len();
            } else if let Some(word) = current.take() {
                words.push(word);
            }
        }
        words.extend(current);
        Self { text, words, lower }
    }

    fn len(&self) -> usize {
        self.words.len()
    }

    /// Word `i` in lower case; `None` past the end.
    fn lower(&self, i: usize) -> Option<&str> {
        let word = self.words.get(i)?;
        Some(&self.lower[word.lower_start..word.lower_end])
    }

    /// Whether word `i` exists and is `expected` (lower case).
    fn is(&self, i: usize, expected: &str) -> bool {
        self.lower(i) == Some(expected)
    }

    fn lowers(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.lower(i))
    }

    /// The text between word `i - 1` and word `i`.
    fn gap_before(&self, i: usize) -> &'t str {
        let from = if i == 0 { 0 } else { self.words[i - 1].end };
        &self.text[from..self.words[i].start]
    }

    /// The original text from word `first` to word `last`, both included.
    fn quote(&self, first: usize, last: usize) -> &'t str {
        &self.text[self.words[first].start..self.words[last].end]
    }

    /// A sentence (or clause ended by ";") begins at word `i`: the gap before it holds an
    /// ending mark followed by white space. "2.5" and "e.g" have no space after the mark.
    fn starts_sentence(&self, i: usize) -> bool {
        let gap = self.gap_before(i);
        gap.find(['.', '!', '?', ';'])
            .is_some_and(|at| gap[at..].contains(char::is_whitespace))
    }
}

/// A gap as written in a term: white space alone reads as one space; otherwise the
/// punctuation without the white space around it ("and / or" is "and/or").
fn normalise_gap(gap: &str) -> String {
    if gap.trim().is_empty() {
        " ".to_owned()
    } else {
        gap.chars().filter(|c| !c.is_whitespace()).collect()
    }
}

/// Whether a gap of the text reads as the normalised gap `want` of a term.
fn gap_matches(gap: &str, want: &str) -> bool {
    if want == " " {
        gap.trim().is_empty()
    } else {
        gap.chars().filter(|c| !c.is_whitespace()).eq(want.chars())
    }
}

/// One term of a [`Lexicon`]: lower-case words and the normalised gaps between them.
struct Term {
    /// The index of the term in the list the lexicon was built from.
    index: usize,
    words: Vec<String>,
    gaps: Vec<String>,
}

impl Term {
    fn parse(index: usize, term: &str) -> Self {
        let words = Words::of(term);
        Self {
            index,
            words: words.lowers().map(str::to_owned).collect(),
            gaps: (1..words.len())
                .map(|i| normalise_gap(words.gap_before(i)))
                .collect(),
        }
    }

    fn matches_at(&self, words: &Words<'_>, start: usize) -> bool {
        start + self.words.len() <= words.len()
            && self
                .words
                .iter()
                .enumerate()
                .all(|(k, w)| words.is(start + k, w))
            && self
                .gaps
                .iter()
                .enumerate()
                .all(|(k, gap)| gap_matches(words.gap_before(start + k + 1), gap))
    }
}

/// A list of terms to look for, indexed by first word so that a text is scanned once.
struct Lexicon {
    /// First word → the terms starting with it, longest first.
    by_first_word: HashMap<String, Vec<Term>>,
}

/// Where a term of a [`Lexicon`] was found.
struct TermMatch {
    /// The index of the term in the list the lexicon was built from.
    term: usize,
    /// First and last word of the first occurrence.
    first: (usize, usize),
    count: usize,
}

impl TermMatch {
    fn quote<'t>(&self, words: &Words<'t>) -> &'t str {
        words.quote(self.first.0, self.first.1)
    }
}

impl Lexicon {
    fn new<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut by_first_word: HashMap<String, Vec<Term>> = HashMap::new();
        for (index, term) in terms.into_iter().enumerate() {
            let term = Term::parse(index, term);
            if let Some(first) = term.words.first() {
                by_first_word.entry(first.clone()).or_default().push(term);
            }
        }
        // Longest first, so "as appropriate" claims its words before "appropriate" can.
        for terms in by_first_word.values_mut() {
            terms.sort_by_key(|t| std::cmp::Reverse(t.words.len()));
        }
        Self { by_first_word }
    }

    /// Every term found, in order of first occurrence, leftmost-longest: a match starts at
    /// the earliest word it can, takes the longest term there, and the scan resumes after
    /// it, so no word belongs to two matches.
    fn find(&self, words: &Words<'_>) -> Vec<TermMatch> {
        let mut found: Vec<TermMatch> = Vec::new();
        let mut start = 0;
        while start < words.len() {
            let Some(term) = self.longest_at(words, start) else {
                start += 1;
                continue;
            };
            let end = start + term.words.len();
            match found.iter_mut().find(|m| m.term == term.index) {
                Some(m) => m.count += 1,
                None => found.push(TermMatch {
                    term: term.index,
                    first: (start, end - 1),
                    count: 1,
                }),
            }
            start = end;
        }
        found
    }

    fn longest_at(&self, words: &Words<'_>, start: usize) -> Option<&Term> {
        self.by_first_word
            .get(words.lower(start)?)?
            .iter()
            .find(|t| t.matches_at(words, start))
    }
}

// ---------------------------------------------------------------------------------------------
// Duplicates across a project
// ---------------------------------------------------------------------------------------------

/// Statements with fewer words are too short for near-duplicate detection.
const NEAR_MIN_WORDS: usize = 4;
/// Near duplicates share at least NUM/DEN of their word 3-shingles (Jaccard ≥ 0.8); kept as
/// a fraction so that the test is exact integer arithmetic.
const NEAR_NUM: usize = 4;
const NEAR_DEN: usize = 5;
/// How many other requirements a finding names before "and N more".
const MAX_NAMED: usize = 5;

/// Exact and near duplicates among every statement of a project, built once and queried per
/// requirement.
///
/// Exact duplicates have the same normalised text: lower case, words only (punctuation
/// separates words and is otherwise dropped), single spaces. Near duplicates are the other
/// statements whose sets of word 3-shingles (three consecutive normalised words) have a
/// Jaccard similarity of at least 0.8; statements of fewer than 4 words take no part.
///
/// Near duplicates are found by prefix filtering (Bayardo et al., "Scaling up all pairs
/// similarity search", 2007): shingles are ranked rarest first over the project; two sets
/// with Jaccard ≥ t must share a shingle among the first |x| − ⌈t·|x|⌉ + 1 of each, so only
/// those prefixes go into an inverted index, and every candidate it yields is verified with
/// the exact Jaccard. Unlike MinHash this misses nothing (shingles are compared by 56-bit
/// hashes, so up to a collision of those), it is deterministic, and because prefixes hold
/// the rarest shingles, boilerplate shared by many statements ("the system shall") yields
/// few candidates. Exact duplicates are folded into one entry first, so a statement copied
/// many times costs no more than one. The work grows with the number of statements and of
/// similar pairs: only a project where thousands of statements are all alike costs more.
#[derive(Debug, Clone, Default)]
pub struct DuplicateIndex {
    /// Key of every item, in the order given (repeated keys dropped).
    keys: Vec<String>,
    by_key: HashMap<String, u32>,
    /// Item → its group of equal normalised texts, or `NO_GROUP` for an empty statement.
    group_of: Vec<u32>,
    /// The items of each group, in build order.
    members: Flat<u32>,
    /// Per group: (group, similarity in whole percent), most similar first.
    near: Vec<Vec<(u32, u8)>>,
}

const NO_GROUP: u32 = u32::MAX;

impl DuplicateIndex {
    /// Indexes `(key, statement)` pairs; the key names the requirement in messages (its
    /// human id, say) and is what [`DuplicateIndex::findings`] is asked with. Keys should be
    /// unique: a repeated key is ignored after its first item. Empty statements (or only
    /// punctuation) are never duplicates.
    pub fn build<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let items = first_of_each_key(items);
        let texts = Normalised::of(items.iter().map(|(_, statement)| *statement));
        let (group_of, first_items) = group_equal_texts(&texts);
        let members = members_by_group(&group_of, first_items.len());
        let sets = shingle_sets(first_items.iter().map(|&item| texts.get(item as usize)));
        let mut near: Vec<Vec<(u32, u8)>> = vec![Vec::new(); first_items.len()];
        for (a, b, percent) in near_pairs(&sets) {
            near[a as usize].push((b, percent));
            near[b as usize].push((a, percent));
        }
        for list in &mut near {
            list.sort_by_key(|&(other, percent)| (std::cmp::Reverse(percent), other));
        }
        let keys: Vec<String> = items.iter().map(|(key, _)| (*key).to_owned()).collect();
        let by_key = keys.iter().cloned().zip(0..).collect();
        Self {
            keys,
            by_key,
            group_of,
            members,
            near,
        }
    }

    /// The other items with the same normalised statement, in build order.
    pub fn duplicates_of(&self, key: &str) -> Vec<&str> {
        self.lookup(key).map_or_else(Vec::new, |(item, group)| {
            self.same_text(item, group).collect()
        })
    }

    /// The items whose statements are nearly the same (and not equal), with the similarity
    /// in whole percent; most similar first, then in build order.
    pub fn near_duplicates_of(&self, key: &str) -> Vec<(&str, u8)> {
        self.lookup(key).map_or_else(Vec::new, |(_, group)| {
            self.nearly_same_text(group).collect()
        })
    }

    /// The `duplicate` and `near_duplicate` findings for one item (none for an unknown key),
    /// naming at most five other requirements and then "and N more".
    ///
    /// Costs O(named + near groups), not O(duplicates): a statement copied thousands of
    /// times does not make every query over its copies slow.
    pub fn findings(&self, key: &str, rules: &RuleSet) -> Vec<Finding> {
        let Some((item, group)) = self.lookup(key) else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        let copies = self.members.get(group).len() - 1;
        if rules.is_enabled(RuleId::Duplicate) && copies > 0 {
            let names = name_list(copies, self.same_text(item, group).map(str::to_owned));
            findings.push(Finding::new(
                RuleId::Duplicate,
                format!("Same statement as {names}: remove the copy or merge them"),
            ));
        }
        let near = self.near_groups(group);
        let similar: usize = near
            .iter()
            .map(|&(other, _)| self.members.get(other as usize).len())
            .sum();
        if rules.is_enabled(RuleId::NearDuplicate) && similar > 0 {
            let names = name_list(
                similar,
                self.nearly_same_text(group)
                    .map(|(k, percent)| format!("{k} ({percent} % similar)")),
            );
            findings.push(Finding::new(
                RuleId::NearDuplicate,
                format!(
                    "Nearly the same statement as {names}: merge them, or make the \
                     difference explicit"
                ),
            ));
        }
        findings
    }

    /// The keys of the other items of `item`'s group.
    fn same_text(&self, item: u32, group: usize) -> impl Iterator<Item = &str> {
        self.members
            .get(group)
            .iter()
            .filter(move |&&m| m != item)
            .map(|&m| self.key(m))
    }

    /// The keys of the items of the groups near `group`, with their similarity.
    fn nearly_same_text(&self, group: usize) -> impl Iterator<Item = (&str, u8)> {
        self.near_groups(group)
            .iter()
            .flat_map(move |&(other, percent)| {
                self.members
                    .get(other as usize)
                    .iter()
                    .map(move |&m| (self.key(m), percent))
            })
    }

    fn near_groups(&self, group: usize) -> &[(u32, u8)] {
        self.near.get(group).map_or(&[], Vec::as_slice)
    }

    /// The item and its group, for a known key with a non-empty statement.
    fn lookup(&self, key: &str) -> Option<(u32, usize)> {
        let item = *self.by_key.get(key)?;
        let group = *self.group_of.get(item as usize)?;
        (group != NO_GROUP).then_some((item, group as usize))
    }

    fn key(&self, item: u32) -> &str {
        self.keys.get(item as usize).map_or("", String::as_str)
    }
}

/// The items in the order given, without those whose key was already seen.
fn first_of_each_key<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, &'a str)> {
    let mut items: Vec<(&str, &str)> = items.into_iter().collect();
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|(key, _)| seen.insert(*key));
    items
}

/// Many short sequences in one buffer (one allocation instead of one per sequence):
/// sequence `i` is `items[ends[i - 1]..ends[i]]`.
#[derive(Debug, Clone, Default)]
struct Flat<T> {
    items: Vec<T>,
    ends: Vec<usize>,
}

impl<T> Flat<T> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// Sequence `i`, or an empty one past the end.
    fn get(&self, i: usize) -> &[T] {
        if i < self.len() {
            &self.items[self.range(i)]
        } else {
            &[]
        }
    }

    /// Ends the sequence being pushed.
    fn close(&mut self) {
        self.ends.push(self.items.len());
    }
}

/// The normalised statements (see [`normalise_into`]) in one buffer.
struct Normalised {
    text: String,
    ends: Vec<usize>,
}

impl Normalised {
    fn of<'a>(statements: impl Iterator<Item = &'a str> + Clone) -> Self {
        // Normalised text is never longer than the original, but for the rare non-ASCII
        // letter whose lower case is longer: one allocation, as a rule.
        let mut all = Self {
            text: String::with_capacity(statements.clone().map(str::len).sum()),
            ends: Vec::with_capacity(statements.size_hint().0),
        };
        for statement in statements {
            normalise_into(statement, &mut all.text);
            all.ends.push(all.text.len());
        }
        all
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// Numbers the distinct non-empty texts in order of first appearance. Returns the group of
/// every item (`NO_GROUP` for an empty text) and the first item of every group.
fn group_equal_texts(texts: &Normalised) -> (Vec<u32>, Vec<u32>) {
    let count = texts.ends.len();
    let mut group_by_text: HashMap<&str, u32> = HashMap::with_capacity(count);
    let mut first_items = Vec::new();
    let group_of = (0..count)
        .map(|item| {
            let text = texts.get(item);
            if text.is_empty() {
                return NO_GROUP;
            }
            *group_by_text.entry(text).or_insert_with(|| {
                first_items.push(item as u32);
                first_items.len() as u32 - 1
            })
        })
        .collect();
    (group_of, first_items)
}

/// The items of every group, in item order.
fn members_by_group(group_of: &[u32], groups: usize) -> Flat<u32> {
    let entries: Vec<(usize, u32)> = group_of
        .iter()
        .enumerate()
        .filter(|(_, &g)| g != NO_GROUP)
        .map(|(item, &g)| (g as usize, item as u32))
        .collect();
    bucket_sort(groups, &entries)
}

/// "A, B, C, D, E and 3 more": the first [`MAX_NAMED`] of `total` names.
fn name_list(total: usize, names: impl Iterator<Item = String>) -> String {
    let named: Vec<String> = names.take(MAX_NAMED).collect();
    let mut list = named.join(", ");
    if total > named.len() {
        list.push_str(&format!(" and {} more", total - named.len()));
    }
    list
}

/// Appends `statement` to `out` in normalised form: lower-case words separated by single
/// spaces; punctuation only separates words.
fn normalise_into(statement: &str, out: &mut String) {
    let start = out.len();
    let mut in_word = false;
    for c in statement.chars() {
        if !c.is_alphanumeric() {
            in_word = false;
            continue;
        }
        if !in_word && out.len() > start {
            out.push(' ');
        }
        in_word = true;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// The word 3-shingles of each distinct normalised text, as sorted sets of tokens ordered
/// rarest first — the global order that prefix filtering needs (see [`DuplicateIndex`]).
///
/// A token is a shingle's 64-bit hash with its top 8 bits replaced by the number of texts it
/// occurs in (estimated, saturating at 255), so that sorting tokens as numbers sorts them by
/// rarity, ties by hash. The count comes from one row of counters indexed by hash (a
/// one-row count-min sketch): collisions only over-estimate, which may cost speed but never
/// a missed pair, since any fixed order is correct; and it avoids a hash map holding every
/// distinct shingle, which dominated the build time. Dropping 8 hash bits leaves 56, so
/// distinct shingles share a token with negligible probability (about 10⁻⁴ over 3 million).
/// Texts of fewer than [`NEAR_MIN_WORDS`] words get an empty set.
fn shingle_sets<'t>(texts: impl Iterator<Item = &'t str>) -> Flat<u64> {
    let mut sets = Flat::default();
    let mut hashes = Vec::new();
    for text in texts {
        shingle_hashes(text, &mut hashes);
        sets.items.extend_from_slice(&hashes);
        sets.close();
    }
    let counters = sets.items.len().next_power_of_two().clamp(1 << 10, 1 << 24);
    let slot = |hash: u64| (hash as usize) & (counters - 1);
    let mut counts = vec![0u8; counters];
    for &hash in &sets.items {
        counts[slot(hash)] = counts[slot(hash)].saturating_add(1);
    }
    for hash in &mut sets.items {
        *hash = (u64::from(counts[slot(*hash)]) << 56) | (*hash >> 8);
    }
    for i in 0..sets.len() {
        let range = sets.range(i);
        sets.items[range].sort_unstable();
    }
    sets
}

/// Fills `out` with the distinct shingle hashes of a normalised text (none for fewer than
/// [`NEAR_MIN_WORDS`] words).
fn shingle_hashes(text: &str, out: &mut Vec<u64>) {
    out.clear();
    let mut window = [0u64; 3];
    let mut words = 0;
    for word in text.split(' ') {
        window = [window[1], window[2], hash_word(word)];
        words += 1;
        if words >= 3 {
            out.push(hash_shingle(window));
        }
    }
    if words < NEAR_MIN_WORDS {
        out.clear();
    }
    out.sort_unstable();
    out.dedup();
}

/// FNV-1a of a word, mixed so that every bit depends on every input bit.
fn hash_word(word: &str) -> u64 {
    let hash = word.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    mix64(hash)
}

/// Combines three word hashes, order-sensitively (each position rotated differently).
fn hash_shingle([a, b, c]: [u64; 3]) -> u64 {
    mix64(a.rotate_left(42) ^ b.rotate_left(21) ^ c)
}

/// The splitmix64 finaliser.
fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Every pair of shingle sets with Jaccard ≥ NUM/DEN, as (a, b, percent) with a < b.
/// The tokens of `sets` must be ordered rarest first (see [`shingle_sets`]).
fn near_pairs(sets: &Flat<u64>) -> Vec<(u32, u32, u8)> {
    // Ascending size (ties by number): a set is only compared with sets before it in this
    // order, so each pair is met once, and those are no larger, so one length test suffices.
    let mut order: Vec<u32> = (0..sets.len() as u32)
        .filter(|&s| !sets.get(s as usize).is_empty())
        .collect();
    order.sort_by_key(|&s| (sets.get(s as usize).len(), s));
    let postings = prefix_postings(sets, &order);
    let earlier = earlier_postings(&postings, order.len());
    // `seen[s] == probe + 1` marks s as already a candidate of the current probe.
    let mut seen: Vec<u32> = vec![0; sets.len()];
    let mut pairs = Vec::new();
    for (probe, &x) in order.iter().enumerate() {
        let set_x = sets.get(x as usize);
        let mark = probe as u32 + 1;
        for &(start, end) in earlier.get(probe) {
            for posting in &postings[start as usize..end as usize] {
                let y = posting.set;
                if seen[y as usize] == mark {
                    continue;
                }
                seen[y as usize] = mark;
                let set_y = sets.get(y as usize);
                // |y| ≤ |x| here, and Jaccard ≥ t needs |y| ≥ t·|x|.
                if NEAR_DEN * set_y.len() < NEAR_NUM * set_x.len() {
                    continue;
                }
                if let Some(percent) = similar_enough(set_x, set_y) {
                    pairs.push((x.min(y), x.max(y), percent));
                }
            }
        }
    }
    pairs
}

/// One set having a token in its prefix.
#[derive(Clone, Copy)]
struct Posting {
    token: u64,
    /// The set's position in processing order.
    position: u32,
    set: u32,
}

/// The prefix tokens of every set, sorted by token and then processing order: an inverted
/// index of the prefixes in one array, each token's postings a contiguous run.
fn prefix_postings(sets: &Flat<u64>, order: &[u32]) -> Vec<Posting> {
    let mut postings: Vec<Posting> = order
        .iter()
        .enumerate()
        .flat_map(|(position, &set)| {
            prefix(sets.get(set as usize))
                .iter()
                .map(move |&token| Posting {
                    token,
                    position: position as u32,
                    set,
                })
        })
        .collect();
    postings.sort_unstable_by_key(|p| (p.token, p.position));
    postings
}

/// For every position in processing order, the ranges of `postings` holding the earlier
/// sets that share a prefix token with it: its candidates.
fn earlier_postings(postings: &[Posting], positions: usize) -> Flat<(u32, u32)> {
    let mut ranges = Vec::new();
    let mut run_start = 0;
    for (k, posting) in postings.iter().enumerate() {
        if posting.token != postings[run_start].token {
            run_start = k;
        }
        if run_start < k {
            ranges.push((posting.position as usize, (run_start as u32, k as u32)));
        }
    }
    bucket_sort(positions, &ranges)
}

/// Sorts `(bucket, value)` entries into buckets `0..buckets` (a counting sort), keeping the
/// entries' order within each bucket.
fn bucket_sort<T: Copy + Default>(buckets: usize, entries: &[(usize, T)]) -> Flat<T> {
    let mut ends = vec![0usize; buckets];
    for &(bucket, _) in entries {
        ends[bucket] += 1;
    }
    let mut total = 0;
    for end in &mut ends {
        total += *end;
        *end = total;
    }
    // Fill every bucket from its end while walking the entries backwards, so that each
    // bucket ends up in the entries' order.
    let mut next = ends.clone();
    let mut items = vec![T::default(); total];
    for &(bucket, value) in entries.iter().rev() {
        next[bucket] -= 1;
        items[next[bucket]] = value;
    }
    Flat { items, ends }
}

/// The tokens of a set that any set similar enough must share one of.
fn prefix(set: &[u64]) -> &[u64] {
    &set[..prefix_len(set.len())]
}

/// |x| − ⌈t·|x|⌉ + 1: the shortest prefix that two sets with Jaccard ≥ t always share a
/// token in, given one global order of tokens.
fn prefix_len(size: usize) -> usize {
    let min_overlap = (NEAR_NUM * size).div_ceil(NEAR_DEN);
    size - min_overlap + 1
}

/// The Jaccard similarity in whole percent when it is at least NUM/DEN. Both sets sorted.
fn similar_enough(x: &[u64], y: &[u64]) -> Option<u8> {
    let common = overlap(x, y);
    let union = x.len() + y.len() - common;
    (NEAR_DEN * common >= NEAR_NUM * union).then(|| (100 * common / union) as u8)
}

fn overlap(x: &[u64], y: &[u64]) -> usize {
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

// ---------------------------------------------------------------------------------------------
// Score
// ---------------------------------------------------------------------------------------------

/// A module's quality score, 0..=100.
///
/// `score = max(0, 100 − ⌈Σ weight / n⌉)` where the sum runs over every finding of the
/// module's requirements (error 10, warning 3, info 1: [`Severity::weight`], taken from each
/// finding's own severity) and `n` is `requirement_count` (at least 1). So: 100 exactly when
/// there is no finding; any finding costs at least one point; one error per requirement on
/// average gives 90. Pass the findings of all requirements flattened, e.g.
/// `score(per_requirement.iter().flatten(), per_requirement.len())`.
pub fn score<'a>(findings: impl IntoIterator<Item = &'a Finding>, requirement_count: usize) -> u8 {
    let total: u64 = findings
        .into_iter()
        .map(|f| u64::from(f.severity.weight()))
        .sum();
    let count = u64::try_from(requirement_count.max(1)).unwrap_or(u64::MAX);
    let penalty = total.div_ceil(count);
    u8::try_from(100u64.saturating_sub(penalty)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A requirement that passes every per-requirement rule.
    fn clean() -> QualityInput<'static> {
        QualityInput {
            title: "Login audit",
            statement: "The system shall log every failed login within 2 s.",
            rationale: "Security audits need a complete record of failed logins.",
            kind: "functional",
            verification_methods: 1,
            has_parent: true,
            top_level: false,
            trace_links: 2,
        }
    }

    fn fired(input: &QualityInput<'_>) -> Vec<RuleId> {
        check_text(input, &RuleSet::all())
            .iter()
            .map(|f| f.rule)
            .collect()
    }

    fn findings_of(input: &QualityInput<'_>, rule: RuleId) -> Vec<Finding> {
        check_text(input, &RuleSet::all())
            .into_iter()
            .filter(|f| f.rule == rule)
            .collect()
    }

    fn with_statement(statement: &str) -> QualityInput<'_> {
        QualityInput {
            statement,
            ..clean()
        }
    }

    #[test]
    fn a_clean_requirement_has_no_findings() {
        assert_eq!(fired(&clean()), vec![]);
    }

    #[test]
    fn rule_names_round_trip() {
        for rule in RuleId::ALL {
            assert_eq!(RuleId::parse(rule.as_str()), Some(rule));
            let json = serde_json::to_value(rule).unwrap();
            assert_eq!(json, serde_json::json!(rule.as_str()));
            assert!(!rule.title().is_empty() && !rule.description().is_empty());
        }
        assert_eq!(RuleId::parse(" Weak-Word "), Some(RuleId::WeakWord));
        assert_eq!(RuleId::parse("nonsense"), None);
        for severity in Severity::ALL {
            assert_eq!(Severity::parse(severity.as_str()), Some(severity));
        }
        assert_eq!(RuleId::Tbd.severity(), Severity::Error);
        assert_eq!(RuleId::PassiveVoice.severity(), Severity::Info);
    }

    #[test]
    fn rule_set_enables_and_disables() {
        let mut rules = RuleSet::all();
        assert_eq!(rules.enabled().count(), RuleId::ALL.len());
        rules.disable(RuleId::Orphan);
        rules.disable(RuleId::Tbd);
        assert!(!rules.is_enabled(RuleId::Orphan));
        assert_eq!(
            rules.disabled().collect::<Vec<_>>(),
            vec![RuleId::Tbd, RuleId::Orphan]
        );
        rules.enable(RuleId::Orphan);
        assert!(rules.is_enabled(RuleId::Orphan));
        assert_eq!(rules, RuleSet::from_disabled([RuleId::Tbd]));
    }

    // weak_word ----------------------------------------------------------------------------

    #[test]
    fn weak_word_fires_and_quotes_the_word() {
        let found = findings_of(
            &with_statement("The system Should respond quickly, etc."),
            RuleId::WeakWord,
        );
        let messages: Vec<_> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(found.len(), 3, "{messages:?}");
        assert!(
            messages[0].starts_with("\"Should\" is not binding"),
            "{messages:?}"
        );
        assert!(
            messages[1].starts_with("\"quickly\" is vague"),
            "{messages:?}"
        );
        assert!(messages[2].starts_with("\"etc\" leaves"), "{messages:?}");
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn weak_word_matches_phrases_and_punctuation_inside_terms() {
        let found = findings_of(
            &with_statement(
                "Alarms shall be shown as appropriate and/or logged in a user-friendly way.",
            ),
            RuleId::WeakWord,
        );
        let messages: Vec<_> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(found.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("\"as appropriate\" is an escape clause"));
        assert!(messages[1].starts_with("\"and/or\" is ambiguous"));
        assert!(messages[2].starts_with("\"user-friendly\" is vague"));
    }

    #[test]
    fn weak_word_reports_each_term_once_with_a_count() {
        let found = findings_of(
            &with_statement("It may start. It may stop. It MAY pause."),
            RuleId::WeakWord,
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.ends_with("(3 occurrences)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn weak_word_needs_whole_words() {
        let input = with_statement(
            "The fastener shall hold 5 kN; breakfast, mayday and shoulder are not weak words.",
        );
        assert_eq!(findings_of(&input, RuleId::WeakWord), vec![]);
        // "and or" (no slash) is not the combinator "and/or".
        assert_eq!(
            findings_of(&with_statement("red and or blue"), RuleId::WeakWord),
            vec![]
        );
    }

    // tbd ----------------------------------------------------------------------------------

    #[test]
    fn tbd_fires_in_any_text_field_and_names_the_fields() {
        let input = QualityInput {
            title: "Timeout TBD",
            statement: "The system shall time out after TBD s.",
            rationale: "Value to be confirmed with the customer.",
            ..clean()
        };
        let found = findings_of(&input, RuleId::Tbd);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].message,
            "Unresolved placeholder \"TBD\" in the title and statement: resolve it before the \
             requirement is baselined"
        );
        assert!(found[1]
            .message
            .contains("\"to be confirmed\" in the rationale"));
        assert_eq!(found[0].severity, Severity::Error);
    }

    #[test]
    fn tbd_does_not_fire_inside_words() {
        let input =
            with_statement("The TBDX flag and the tbc_ext field shall be stored by the logger.");
        assert_eq!(findings_of(&input, RuleId::Tbd), vec![]);
        assert_eq!(findings_of(&clean(), RuleId::Tbd), vec![]);
    }

    // multiple_shall -----------------------------------------------------------------------

    #[test]
    fn multiple_shall_fires_for_two_shalls() {
        let input = with_statement("The pump shall start and the valve shall open.");
        let found = findings_of(&input, RuleId::MultipleShall);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("2 occurrences of \"shall\""));
    }

    #[test]
    fn multiple_shall_does_not_fire_for_one_shall() {
        let input = with_statement("The pump shall start within 3 s of the marshalling signal.");
        assert_eq!(findings_of(&input, RuleId::MultipleShall), vec![]);
    }

    // passive_voice ------------------------------------------------------------------------

    #[test]
    fn passive_voice_fires_without_an_agent() {
        let input = with_statement(
            "Every failed login shall be logged. Reports shall not be automatically sent.",
        );
        let found = findings_of(&input, RuleId::PassiveVoice);
        let messages: Vec<_> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(found.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("\"shall be logged\" is passive"));
        assert!(messages[1].starts_with("\"shall not be automatically sent\" is passive"));
        assert_eq!(found[0].severity, Severity::Info);
    }

    #[test]
    fn passive_voice_does_not_fire_with_an_agent_or_an_adjective() {
        for statement in [
            "Every failed login shall be logged by the audit service.",
            "The indicator shall be green when the pump runs.",
            "The door shall be open for at most 5 s.",
            "The system shall log every failed login.",
        ] {
            assert_eq!(
                findings_of(&with_statement(statement), RuleId::PassiveVoice),
                vec![],
                "{statement}"
            );
        }
    }

    #[test]
    fn passive_voice_agent_must_be_in_the_same_sentence() {
        let input = with_statement("Data shall be stored. Backups are made by the operator.");
        assert_eq!(findings_of(&input, RuleId::PassiveVoice).len(), 1);
    }

    // missing_verification, missing_rationale ----------------------------------------------

    #[test]
    fn missing_verification_fires_without_a_method() {
        let input = QualityInput {
            verification_methods: 0,
            ..clean()
        };
        assert_eq!(fired(&input), vec![RuleId::MissingVerification]);
        assert_eq!(findings_of(&clean(), RuleId::MissingVerification), vec![]);
    }

    #[test]
    fn missing_rationale_fires_for_blank_rationale() {
        let input = QualityInput {
            rationale: "  \n ",
            ..clean()
        };
        assert_eq!(fired(&input), vec![RuleId::MissingRationale]);
        assert_eq!(findings_of(&clean(), RuleId::MissingRationale), vec![]);
    }

    // orphan, untraced ---------------------------------------------------------------------

    #[test]
    fn orphan_fires_without_parent_outside_top_level_modules() {
        let orphan = QualityInput {
            has_parent: false,
            ..clean()
        };
        assert_eq!(fired(&orphan), vec![RuleId::Orphan]);
        let top = QualityInput {
            has_parent: false,
            top_level: true,
            ..clean()
        };
        assert_eq!(findings_of(&top, RuleId::Orphan), vec![]);
        assert_eq!(findings_of(&clean(), RuleId::Orphan), vec![]);
    }

    #[test]
    fn untraced_fires_without_links_even_at_top_level() {
        let untraced = QualityInput {
            trace_links: 0,
            top_level: true,
            ..clean()
        };
        assert_eq!(fired(&untraced), vec![RuleId::Untraced]);
        assert_eq!(findings_of(&clean(), RuleId::Untraced), vec![]);
    }

    // rule set and kinds -------------------------------------------------------------------

    #[test]
    fn disabled_rules_do_not_fire() {
        let bad = QualityInput {
            title: "TBD",
            statement: "It should be done and it shall be logged and it shall be stored.",
            rationale: "",
            kind: "functional",
            verification_methods: 0,
            has_parent: false,
            top_level: false,
            trace_links: 0,
        };
        let all: BTreeSet<RuleId> = fired(&bad).into_iter().collect();
        let expected: BTreeSet<RuleId> = RuleId::ALL
            .into_iter()
            .filter(|r| !matches!(r, RuleId::Duplicate | RuleId::NearDuplicate))
            .collect();
        assert_eq!(all, expected);
        for rule in RuleId::ALL {
            let rules = RuleSet::from_disabled([rule]);
            assert!(
                check_text(&bad, &rules).iter().all(|f| f.rule != rule),
                "{rule}"
            );
        }
        let none = RuleSet::from_disabled(RuleId::ALL);
        assert_eq!(check_text(&bad, &none), vec![]);
    }

    #[test]
    fn headings_and_information_are_exempt_from_requirement_rules() {
        for kind in ["heading", "information", " Heading "] {
            let heading = QualityInput {
                title: "Interfaces",
                statement: "",
                rationale: "",
                kind,
                verification_methods: 0,
                has_parent: false,
                top_level: false,
                trace_links: 0,
            };
            assert_eq!(fired(&heading), vec![], "{kind}");
            // Text rules still apply: a placeholder in a heading is still unfinished work.
            let unfinished = QualityInput {
                title: "Interfaces TBD",
                statement: "This shall be refined and shall be extended.",
                ..heading
            };
            assert_eq!(fired(&unfinished), vec![RuleId::Tbd], "{kind}");
        }
    }

    #[test]
    fn unknown_kinds_are_checked_as_requirements() {
        let input = QualityInput {
            kind: "whatever",
            verification_methods: 0,
            ..clean()
        };
        assert_eq!(fired(&input), vec![RuleId::MissingVerification]);
    }

    // duplicates ---------------------------------------------------------------------------

    fn index(items: &[(&str, &str)]) -> DuplicateIndex {
        DuplicateIndex::build(items.iter().copied())
    }

    #[test]
    fn duplicate_index_finds_exact_duplicates_after_normalisation() {
        let idx = index(&[
            ("R-1", "The system shall log every failed login."),
            ("R-2", "the  SYSTEM shall log every failed login"),
            (
                "R-3",
                "The system shall lock the account after 5 failed logins.",
            ),
            ("R-4", "The system, shall log: every failed login!"),
        ]);
        assert_eq!(idx.duplicates_of("R-1"), vec!["R-2", "R-4"]);
        assert_eq!(idx.duplicates_of("R-2"), vec!["R-1", "R-4"]);
        assert!(idx.duplicates_of("R-3").is_empty());
        let found = idx.findings("R-1", &RuleSet::all());
        assert_eq!(
            found,
            vec![Finding {
                rule: RuleId::Duplicate,
                severity: Severity::Error,
                message: "Same statement as R-2, R-4: remove the copy or merge them".into(),
            }]
        );
        assert_eq!(idx.findings("R-3", &RuleSet::all()), vec![]);
        assert_eq!(idx.findings("unknown", &RuleSet::all()), vec![]);
    }

    #[test]
    fn duplicate_index_finds_near_duplicates_but_not_unrelated_ones() {
        let base = "The flight control computer shall reject every command that arrives \
                    with an invalid checksum and report the rejection to the crew";
        let near = "The flight control computer shall reject every command that arrives \
                    with an invalid checksum and report the rejection to the pilot";
        let other = "The landing gear shall extend within 10 s of the pilot command";
        let related = "The flight control computer shall accept every command that arrives \
                       with a valid checksum";
        let idx = index(&[
            ("A", base),
            ("B", near),
            ("C", other),
            ("D", related),
            ("E", base),
        ]);
        let near_a = idx.near_duplicates_of("A");
        assert_eq!(near_a.len(), 1, "{near_a:?}");
        assert_eq!(near_a[0].0, "B");
        assert!(near_a[0].1 >= 80, "{near_a:?}");
        // Both copies of the base text are near duplicates of B.
        let near_b: Vec<&str> = idx
            .near_duplicates_of("B")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(near_b, vec!["A", "E"]);
        assert!(idx.near_duplicates_of("C").is_empty());
        assert!(idx.near_duplicates_of("D").is_empty());
        // Exact duplicates are not near duplicates of each other.
        assert_eq!(idx.duplicates_of("A"), vec!["E"]);
        let found = idx.findings("B", &RuleSet::all());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, RuleId::NearDuplicate);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0]
                .message
                .starts_with("Nearly the same statement as A ("),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn near_duplicates_skip_very_short_statements() {
        let idx = index(&[
            ("A", "Log all logins"),
            ("B", "Log all logins now"),
            ("C", "Log all logins"),
        ]);
        assert!(idx.near_duplicates_of("A").is_empty());
        assert!(idx.near_duplicates_of("B").is_empty());
        assert_eq!(idx.duplicates_of("A"), vec!["C"]);
    }

    #[test]
    fn empty_statements_are_not_duplicates() {
        let idx = index(&[("H1", ""), ("H2", "  "), ("H3", "—")]);
        assert!(idx.duplicates_of("H1").is_empty());
        assert_eq!(idx.findings("H2", &RuleSet::all()), vec![]);
    }

    #[test]
    fn duplicate_findings_name_at_most_five() {
        let keys: Vec<String> = (1..=9).map(|i| format!("R-{i}")).collect();
        let idx = DuplicateIndex::build(keys.iter().map(|k| (k.as_str(), "The same text here.")));
        let found = idx.findings("R-1", &RuleSet::all());
        assert_eq!(
            found[0].message,
            "Same statement as R-2, R-3, R-4, R-5, R-6 and 3 more: remove the copy or merge them"
        );
    }

    #[test]
    fn duplicate_rules_can_be_disabled() {
        let a = "The pump shall stop when the tank level falls below ten percent";
        let b = "The pump shall stop when the tank level falls below ten percent now";
        let idx = index(&[("A", a), ("B", b), ("C", a)]);
        assert_eq!(idx.findings("A", &RuleSet::all()).len(), 2);
        let no_dup = RuleSet::from_disabled([RuleId::Duplicate]);
        let rules: Vec<_> = idx.findings("A", &no_dup).iter().map(|f| f.rule).collect();
        assert_eq!(rules, vec![RuleId::NearDuplicate]);
        let none = RuleSet::from_disabled([RuleId::Duplicate, RuleId::NearDuplicate]);
        assert_eq!(idx.findings("A", &none), vec![]);
    }

    #[test]
    fn repeated_keys_keep_the_first_item() {
        let idx = index(&[
            ("A", "one text here"),
            ("A", "other text"),
            ("B", "one text here"),
        ]);
        assert_eq!(idx.duplicates_of("A"), vec!["B"]);
    }

    #[test]
    fn prefix_filter_agrees_with_brute_force() {
        // A few base sentences, each copied with up to three words replaced, dropped or
        // added at random places, so that similarities spread across the threshold.
        let vocabulary = [
            "pump", "valve", "open", "close", "within", "5", "s", "alarm",
        ];
        let bases: Vec<Vec<String>> = (0..6u64)
            .map(|b| (0..8 + 3 * b).map(|w| format!("w{b}x{w}")).collect())
            .collect();
        let statements: Vec<String> = (0..400u64)
            .map(|i| {
                let mut x = mix64(i + 1);
                let mut words = bases[(x % 6) as usize].clone();
                for _ in 0..(x >> 8) % 4 {
                    x = mix64(x);
                    let at = (x % words.len() as u64) as usize;
                    let word = vocabulary[((x >> 16) % vocabulary.len() as u64) as usize];
                    match (x >> 32) % 3 {
                        0 => words[at] = word.to_owned(),
                        1 => words.insert(at, word.to_owned()),
                        _ => {
                            words.remove(at);
                        }
                    }
                }
                words.join(" ")
            })
            .collect();
        let sets = shingle_sets(statements.iter().map(String::as_str));
        let fast: BTreeSet<(u32, u32)> = near_pairs(&sets)
            .into_iter()
            .map(|(a, b, _)| (a, b))
            .collect();
        let shingles: Vec<&[u64]> = (0..sets.len()).map(|i| sets.get(i)).collect();
        let mut slow = BTreeSet::new();
        for a in 0..shingles.len() {
            for b in a + 1..shingles.len() {
                let (x, y) = (&shingles[a], &shingles[b]);
                if x.is_empty() || y.is_empty() {
                    continue;
                }
                let common = x.iter().filter(|h| y.contains(h)).count();
                let union = x.len() + y.len() - common;
                if 5 * common >= 4 * union {
                    slow.insert((a as u32, b as u32));
                }
            }
        }
        // Enough similar pairs to make the comparison meaningful, and not all of them.
        assert!(slow.len() > 1000, "{}", slow.len());
        assert_eq!(fast, slow);
    }

    #[test]
    fn duplicate_index_builds_over_20000_statements() {
        let subjects = [
            "flight computer",
            "landing gear",
            "fuel pump",
            "cabin display",
            "radio",
        ];
        let actions = ["report", "log", "reject", "display", "store", "transmit"];
        let objects = [
            "every command",
            "each fault",
            "the position",
            "all alarms",
            "the status",
        ];
        let statements: Vec<(String, String)> = (0..20_000usize)
            .map(|i| {
                let text = format!(
                    "The {} shall {} {} within {} ms of event {} in mode {}.",
                    subjects[i % subjects.len()],
                    actions[(i / 5) % actions.len()],
                    objects[(i / 30) % objects.len()],
                    10 + i % 97,
                    i / 7,
                    i % 13,
                );
                (format!("REQ-{i}"), text)
            })
            .collect();
        let idx = DuplicateIndex::build(statements.iter().map(|(k, s)| (k.as_str(), s.as_str())));
        let rules = RuleSet::all();
        let flagged = statements
            .iter()
            .filter(|(k, _)| !idx.findings(k, &rules).is_empty())
            .count();
        assert!(flagged <= statements.len());
    }

    // score --------------------------------------------------------------------------------

    #[test]
    fn score_subtracts_average_weights() {
        let error = Finding::new(RuleId::Tbd, "x");
        let warning = Finding::new(RuleId::Orphan, "x");
        let info = Finding::new(RuleId::PassiveVoice, "x");
        assert_eq!(score([], 10), 100);
        assert_eq!(score([], 0), 100);
        // 10 + 3 + 1 = 14 points over 2 requirements: 7.
        assert_eq!(score([&error, &warning, &info], 2), 93);
        // Rounded up: 14 / 4 = 3.5 → 4; a single info finding still costs a point.
        assert_eq!(score([&error, &warning, &info], 4), 96);
        assert_eq!(score([&info], 1000), 99);
        // Floor at 0.
        let many = vec![error.clone(); 30];
        assert_eq!(score(&many, 2), 0);
        // Per-requirement lists flatten naturally.
        let per_requirement = [
            vec![error.clone()],
            vec![],
            vec![warning.clone(), info.clone()],
        ];
        assert_eq!(
            score(per_requirement.iter().flatten(), per_requirement.len()),
            95
        );
    }
}
