//! Modules and requirements, and the parsing of what a person types into them.

use super::attributes::{self, AttributeDef};
use super::workflow::ReqStatus;
use crate::error::FieldErrors;
use crate::ids::{ModuleId, ProjectId, RequirementId};
use crate::portfolio::{parse_description, parse_name};
use crate::revision::Versioned;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Longest statement or rationale accepted (characters): generous for rich requirements,
/// small enough that one row cannot exhaust memory.
pub const MAX_TEXT: usize = 50_000;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                let t = raw.trim().to_lowercase().replace([' ', '-'], "_");
                Self::ALL.iter().copied().find(|v| v.as_str() == t).ok_or_else(|| {
                    format!(
                        "{raw:?} is not one of {}",
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    )
                })
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// What kind of statement a requirement is. Headings structure the document view and
    /// information items carry context: neither is checked like a requirement.
    ReqKind {
        Functional => "functional",
        Performance => "performance",
        Interface => "interface",
        Constraint => "constraint",
        Safety => "safety",
        Security => "security",
        NonFunctional => "non_functional",
        Heading => "heading",
        Information => "information",
    }
);

impl ReqKind {
    /// Headings and information are not requirements: no shall, no verification, no trace.
    pub fn is_requirement(self) -> bool {
        !matches!(self, ReqKind::Heading | ReqKind::Information)
    }
}

text_enum!(Priority {
    Critical => "critical",
    High => "high",
    Medium => "medium",
    Low => "low",
});

text_enum!(VerificationMethod {
    Test => "test",
    Analysis => "analysis",
    Inspection => "inspection",
    Demonstration => "demonstration",
});

/// A requirement document: a tree of modules per project, each with the prefix of its
/// requirements' human ids and its own custom attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub id: ModuleId,
    pub project_id: ProjectId,
    pub parent_id: Option<ModuleId>,
    pub prefix: String,
    pub name: String,
    pub description: String,
    pub ordinal: i64,
    pub attributes: Vec<AttributeDef>,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Module {
    const ARTEFACT_TYPE: &'static str = "module";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "prefix": self.prefix,
            "name": self.name,
            "description": self.description,
            "parent_id": self.parent_id,
            "attributes": self.attributes,
        })
    }
}

impl Module {
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// An id prefix: upper-case letters, digits and `-`, 1–12 characters, starting with a letter
/// (`SYS`, `SW-NAV`). Requirements are numbered `PREFIX-001`.
pub fn parse_prefix(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_uppercase();
    if s.is_empty() || s.len() > 12 {
        return Err("must be 1 to 12 characters".into());
    }
    if !s.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err("must start with a letter".into());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may contain only letters, digits and '-'".into());
    }
    if crate::vv::RESERVED_PREFIXES.contains(&s.as_str()) {
        return Err(format!(
            "{s} is reserved for verification artefacts ({})",
            crate::vv::RESERVED_PREFIXES.join(", ")
        ));
    }
    if crate::baselines::RESERVED_PREFIXES.contains(&s.as_str()) {
        return Err(format!(
            "{s} is reserved for baselines and release packs ({})",
            crate::baselines::RESERVED_PREFIXES.join(", ")
        ));
    }
    if crate::operations::RESERVED_PREFIXES.contains(&s.as_str()) {
        return Err(format!(
            "{s} is reserved for operations readiness ({})",
            crate::operations::RESERVED_PREFIXES.join(", ")
        ));
    }
    Ok(s)
}

/// The human id of the `number`th requirement under `prefix`: at least three digits.
pub fn human_id(prefix: &str, number: i64) -> String {
    format!("{prefix}-{number:03}")
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ModuleInput {
    pub prefix: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The prefix of the parent module; empty for a top-level module.
    pub parent: Option<String>,
    pub attributes: Option<Vec<AttributeDef>>,
}

impl ModuleInput {
    /// Applies the given fields to `m`, collecting every error.
    pub fn apply(&self, m: &mut Module, errors: &mut FieldErrors) {
        if let Some(p) = &self.prefix {
            if let Some(p) = errors.check("prefix", parse_prefix(p)) {
                m.prefix = p;
            }
        }
        if let Some(n) = &self.name {
            if let Some(n) = errors.check("name", parse_name(n)) {
                m.name = n;
            }
        }
        if let Some(d) = &self.description {
            if let Some(d) = errors.check("description", parse_description(d)) {
                m.description = d;
            }
        }
        if let Some(a) = &self.attributes {
            let mut defs = a.clone();
            for d in &mut defs {
                d.name = d.name.trim().to_owned();
                d.options = d
                    .options
                    .iter()
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
            }
            if errors
                .check("attributes", attributes::validate_defs(&defs))
                .is_some()
            {
                m.attributes = defs;
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    pub id: RequirementId,
    pub project_id: ProjectId,
    pub module_id: ModuleId,
    pub human_id: String,
    pub title: String,
    pub statement: String,
    /// The statement as XHTML when it came with markup (ReqIF); the plain `statement` is
    /// what search, quality rules and diffs read.
    pub statement_xhtml: Option<String>,
    pub rationale: String,
    pub kind: ReqKind,
    pub priority: Priority,
    pub verification_methods: Vec<VerificationMethod>,
    pub source: String,
    pub owner: String,
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, Value>,
    pub parent_id: Option<RequirementId>,
    pub ordinal: i64,
    pub status: ReqStatus,
    pub revision: i64,
    /// The latest revision a lead approved; stays readable while a newer draft is reviewed.
    pub approved_revision: Option<i64>,
    /// The identifier in the file it was imported from (ReqIF SPEC-OBJECT IDENTIFIER), so a
    /// re-import updates instead of duplicating.
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Requirement {
    const ARTEFACT_TYPE: &'static str = "requirement";
    fn artefact_id(&self) -> String {
        self.id.to_string()
    }
    fn revision(&self) -> i64 {
        self.revision
    }
    fn snapshot(&self) -> Value {
        json!({
            "human_id": self.human_id,
            "module_id": self.module_id,
            "title": self.title,
            "statement": self.statement,
            "statement_xhtml": self.statement_xhtml,
            "rationale": self.rationale,
            "kind": self.kind,
            "priority": self.priority,
            "verification_methods": self.verification_methods,
            "source": self.source,
            "owner": self.owner,
            "tags": self.tags,
            "attributes": self.attributes,
            "parent_id": self.parent_id,
        })
    }
}

impl Requirement {
    /// A new draft with empty fields, to which an input is applied.
    pub fn blank(project_id: ProjectId, module_id: ModuleId, at: DateTime<Utc>) -> Self {
        Self {
            id: RequirementId::new(),
            project_id,
            module_id,
            human_id: String::new(),
            title: String::new(),
            statement: String::new(),
            statement_xhtml: None,
            rationale: String::new(),
            kind: ReqKind::Functional,
            priority: Priority::Medium,
            verification_methods: Vec::new(),
            source: String::new(),
            owner: String::new(),
            tags: Vec::new(),
            attributes: BTreeMap::new(),
            parent_id: None,
            ordinal: 0,
            status: ReqStatus::Draft,
            revision: 0,
            approved_revision: None,
            external_id: None,
            created_at: at,
            updated_at: at,
        }
    }

    pub fn verification_text(&self) -> String {
        join(self.verification_methods.iter().map(|m| m.as_str()))
    }

    pub fn tags_text(&self) -> String {
        self.tags.join(", ")
    }

    /// Same content as `other` (what a revision records)?
    pub fn same_content(&self, other: &Requirement) -> bool {
        self.snapshot() == other.snapshot()
    }
}

fn join<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// The fields a person sets on a requirement, as text (a form, a spreadsheet row, an API
/// body). `None` leaves a field unchanged, so the same type serves create, edit and bulk edit.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RequirementInput {
    pub title: Option<String>,
    pub statement: Option<String>,
    pub rationale: Option<String>,
    #[serde(alias = "type")]
    pub kind: Option<String>,
    pub priority: Option<String>,
    /// Comma-separated: `test, analysis`.
    pub verification_methods: Option<String>,
    pub source: Option<String>,
    pub owner: Option<String>,
    /// Comma-separated tags.
    pub tags: Option<String>,
    /// The parent's human id; empty for none. Resolved by the caller (it needs the store).
    pub parent: Option<String>,
    /// Custom attribute values as typed; only the named ones change.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

fn parse_text(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim().replace("\r\n", "\n");
    if s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok(s)
}

fn parse_list<T>(raw: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String>
where
    T: PartialEq,
{
    let mut out = Vec::new();
    for part in raw
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let v = parse(part)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn parse_tag(raw: &str) -> Result<String, String> {
    if raw.chars().count() > 60 {
        return Err(format!("tag {raw:?} is longer than 60 characters"));
    }
    Ok(raw.to_owned())
}

impl RequirementInput {
    /// Applies every given field except `parent` to `r`, collecting errors by field name.
    /// Custom attributes are validated against the module's definitions.
    pub fn apply(&self, r: &mut Requirement, module: &Module, errors: &mut FieldErrors) {
        if let Some(t) = &self.title {
            if let Some(t) = errors.check("title", parse_name(t)) {
                r.title = t;
            }
        }
        if let Some(s) = &self.statement {
            if let Some(s) = errors.check("statement", parse_text(s, MAX_TEXT)) {
                if s != r.statement {
                    // Plain text typed by a person replaces any imported markup.
                    r.statement_xhtml = None;
                }
                r.statement = s;
            }
        }
        if let Some(s) = &self.rationale {
            if let Some(s) = errors.check("rationale", parse_text(s, MAX_TEXT)) {
                r.rationale = s;
            }
        }
        if let Some(k) = self.kind.as_deref().filter(|k| !k.trim().is_empty()) {
            if let Some(k) = errors.check("kind", ReqKind::parse(k)) {
                r.kind = k;
            }
        }
        if let Some(p) = self.priority.as_deref().filter(|p| !p.trim().is_empty()) {
            if let Some(p) = errors.check("priority", Priority::parse(p)) {
                r.priority = p;
            }
        }
        if let Some(v) = &self.verification_methods {
            if let Some(v) = errors.check(
                "verification_methods",
                parse_list(v, VerificationMethod::parse),
            ) {
                r.verification_methods = v;
            }
        }
        for (field, value, target) in [
            ("source", &self.source, &mut r.source),
            ("owner", &self.owner, &mut r.owner),
        ] {
            if let Some(v) = value {
                if let Some(v) = errors.check(field, parse_text(v, 200)) {
                    *target = v;
                }
            }
        }
        if let Some(t) = &self.tags {
            if let Some(t) = errors.check("tags", parse_list(t, parse_tag)) {
                r.tags = t;
            }
        }
        for (name, raw) in &self.attributes {
            let Some(def) = module.attribute(name) else {
                errors.add(
                    &format!("attributes.{name}"),
                    "is not an attribute of this module",
                );
                continue;
            };
            match def.parse_text(raw) {
                Ok(Some(v)) => {
                    r.attributes.insert(name.clone(), v);
                }
                Ok(None) => {
                    r.attributes.remove(name);
                }
                Err(e) => errors.add(&format!("attributes.{name}"), e),
            }
        }
        // A required attribute must be present after the change, whatever was given.
        for def in module.attributes.iter().filter(|d| d.required) {
            if !r.attributes.contains_key(&def.name) && !self.attributes.contains_key(&def.name) {
                errors.add(&format!("attributes.{}", def.name), "is required");
            }
        }
        if r.title.is_empty() && self.title.is_none() {
            errors.add("title", "is required");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::attributes::AttributeKind;

    fn module() -> Module {
        Module {
            id: ModuleId::new(),
            project_id: ProjectId::new(),
            parent_id: None,
            prefix: "SYS".into(),
            name: "System".into(),
            description: String::new(),
            ordinal: 0,
            attributes: vec![AttributeDef {
                name: "ASIL".into(),
                kind: AttributeKind::Enumeration,
                options: vec!["A".into(), "B".into()],
                required: false,
            }],
            revision: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn input_applies_and_names_bad_fields() {
        let m = module();
        let mut r = Requirement::blank(m.project_id, m.id, Utc::now());
        let input = RequirementInput {
            title: Some("Attitude".into()),
            statement: Some("The system shall hold attitude.".into()),
            kind: Some("perf".into()),
            verification_methods: Some("test, Analysis, test".into()),
            attributes: [
                ("ASIL".to_owned(), "C".to_owned()),
                ("Nope".into(), "x".into()),
            ]
            .into(),
            ..Default::default()
        };
        let mut e = FieldErrors::new();
        input.apply(&mut r, &m, &mut e);
        assert!(e.get("kind").is_some());
        assert!(e.get("attributes.ASIL").is_some());
        assert!(e.get("attributes.Nope").is_some());
        assert_eq!(
            r.verification_methods,
            vec![VerificationMethod::Test, VerificationMethod::Analysis]
        );
        assert_eq!(r.title, "Attitude");
    }

    #[test]
    fn prefixes_and_ids() {
        assert_eq!(parse_prefix("sw-nav"), Ok("SW-NAV".into()));
        assert!(parse_prefix("1AB").is_err());
        assert_eq!(human_id("SYS", 7), "SYS-007");
        assert_eq!(human_id("SYS", 1234), "SYS-1234");
    }
}
