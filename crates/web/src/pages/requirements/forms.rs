//! The requirement form (create in the table view, edit on the requirement page): what it
//! shows, and how its fields become a `RequirementInput`.

use super::{label, opts, Fields, Opt};
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::{
    Module, Priority, ReqKind, Requirement, RequirementInput, VerificationMethod,
};

/// The form name of a custom attribute; also the key its errors come back under.
pub fn attr_key(name: &str) -> String {
    format!("attributes.{name}")
}

/// One custom attribute input.
pub struct AttrField {
    pub name: String,
    pub key: String,
    pub required: bool,
    /// `text`, `number` or `date` for an input; empty when `options` make it a select.
    pub input_type: &'static str,
    pub options: Vec<Opt>,
    pub value: String,
}

fn attr_field(def: &AttributeDef, value: &str) -> AttrField {
    let (input_type, options) = match def.kind {
        AttributeKind::Enumeration => (
            "",
            def.options
                .iter()
                .map(|o| Opt::new(o.clone(), o.clone(), o == value))
                .collect(),
        ),
        AttributeKind::Boolean => {
            let v = value.trim().to_lowercase();
            let yes = matches!(v.as_str(), "true" | "yes" | "1" | "on");
            let no = matches!(v.as_str(), "false" | "no" | "0" | "off");
            (
                "",
                vec![Opt::new("true", "yes", yes), Opt::new("false", "no", no)],
            )
        }
        AttributeKind::Number => ("number", Vec::new()),
        AttributeKind::Date => ("date", Vec::new()),
        AttributeKind::Text => ("text", Vec::new()),
    };
    AttrField {
        name: def.name.clone(),
        key: attr_key(&def.name),
        required: def.required,
        input_type,
        options,
        value: value.to_owned(),
    }
}

/// The values a requirement form shows.
pub struct ReqForm {
    pub title: String,
    pub statement: String,
    pub rationale: String,
    pub source: String,
    pub owner: String,
    pub tags: String,
    pub parent: String,
    pub kinds: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub methods: Vec<Opt>,
    pub attrs: Vec<AttrField>,
}

fn kind_opts(selected: &str) -> Vec<Opt> {
    opts(ReqKind::ALL.iter().map(|k| k.as_str()), selected)
}

fn priority_opts(selected: &str) -> Vec<Opt> {
    opts(Priority::ALL.iter().map(|k| k.as_str()), selected)
}

pub fn method_opts(selected: &[String]) -> Vec<Opt> {
    VerificationMethod::ALL
        .iter()
        .map(|m| {
            Opt::new(
                m.as_str(),
                m.as_str(),
                selected.iter().any(|s| s == m.as_str()),
            )
        })
        .collect()
}

impl ReqForm {
    /// An empty form for a new requirement of `module`.
    pub fn blank(module: &Module) -> Self {
        Self {
            title: String::new(),
            statement: String::new(),
            rationale: String::new(),
            source: String::new(),
            owner: String::new(),
            tags: String::new(),
            parent: String::new(),
            kinds: kind_opts(ReqKind::Functional.as_str()),
            priorities: priority_opts(Priority::Medium.as_str()),
            methods: method_opts(&[]),
            attrs: module
                .attributes
                .iter()
                .map(|d| attr_field(d, ""))
                .collect(),
        }
    }

    /// The stored requirement, for editing.
    pub fn of(req: &Requirement, module: &Module, parent: &str) -> Self {
        let methods: Vec<String> = req
            .verification_methods
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
        Self {
            title: req.title.clone(),
            statement: req.statement.clone(),
            rationale: req.rationale.clone(),
            source: req.source.clone(),
            owner: req.owner.clone(),
            tags: req.tags_text(),
            parent: parent.to_owned(),
            kinds: kind_opts(req.kind.as_str()),
            priorities: priority_opts(req.priority.as_str()),
            methods: method_opts(&methods),
            attrs: module
                .attributes
                .iter()
                .map(|d| {
                    let v = req
                        .attributes
                        .get(&d.name)
                        .map(AttributeDef::display)
                        .unwrap_or_default();
                    attr_field(d, &v)
                })
                .collect(),
        }
    }

    /// What was typed, to show again with the errors.
    pub fn typed(f: &Fields, module: &Module) -> Self {
        Self {
            title: f.text("title"),
            statement: f.text("statement"),
            rationale: f.text("rationale"),
            source: f.text("source"),
            owner: f.text("owner"),
            tags: f.text("tags"),
            parent: f.text("parent"),
            kinds: kind_opts(&f.text("kind")),
            priorities: priority_opts(&f.text("priority")),
            methods: method_opts(&f.all("verification")),
            attrs: module
                .attributes
                .iter()
                .map(|d| attr_field(d, &f.text(&attr_key(&d.name))))
                .collect(),
        }
    }
}

/// The input of a full requirement form: every field is set (an unchecked verification
/// method is removed, an empty attribute cleared).
pub fn input(f: &Fields, module: &Module) -> RequirementInput {
    RequirementInput {
        title: Some(f.text("title")),
        statement: Some(f.text("statement")),
        rationale: Some(f.text("rationale")),
        kind: Some(f.text("kind")),
        priority: Some(f.text("priority")),
        verification_methods: Some(f.all("verification").join(", ")),
        source: Some(f.text("source")),
        owner: Some(f.text("owner")),
        tags: Some(f.text("tags")),
        parent: Some(f.text("parent")),
        attributes: module
            .attributes
            .iter()
            .filter_map(|d| {
                let key = attr_key(&d.name);
                f.get(&key).map(|v| (d.name.clone(), v.to_owned()))
            })
            .collect(),
    }
}

/// Labels of the built-in fields, for diffs and tables.
pub fn field_label(field: &str) -> String {
    match field {
        "human_id" => "ID".into(),
        "title" => "Title".into(),
        "statement" => "Statement".into(),
        "statement_xhtml" => "Statement (imported rich text)".into(),
        "rationale" => "Rationale".into(),
        "kind" => "Kind".into(),
        "priority" => "Priority".into(),
        "verification_methods" => "Verification methods".into(),
        "source" => "Source".into(),
        "owner" => "Owner".into(),
        "tags" => "Tags".into(),
        "parent_id" => "Parent (internal id)".into(),
        "module_id" => "Module (internal id)".into(),
        other => match other.strip_prefix("attributes.") {
            Some(name) => name.to_owned(),
            None => label(other),
        },
    }
}
