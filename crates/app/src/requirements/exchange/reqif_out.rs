//! ReqIF export of a module or a whole project.
//!
//! One SPEC-OBJECT-TYPE "Requirement" carries the fields as attribute definitions:
//! `ReqIF.ForeignID` (human id), `ReqIF.Name` (title), `ReqIF.Text` (statement, XHTML),
//! `ReqIF.ChapterName` (headings' titles, for tools that show chapters), `OpenSESA.Rationale`,
//! `OpenSESA.Type`, `OpenSESA.Priority`, `OpenSESA.VerificationMethods` (multi-valued),
//! `OpenSESA.Source`, `OpenSESA.Owner`, `OpenSESA.Tags`, `OpenSESA.Status`, then the custom
//! attributes by name. Each module is a SPECIFICATION (its prefix and description as
//! specification attributes) whose hierarchy follows the parents and the document order;
//! links are SPEC-RELATIONs with one SPEC-RELATION-TYPE per link kind.
//!
//! Identifiers: a requirement's `external_id` (where it came from) when it is a valid
//! `xsd:ID`, else `_` + its UUID; the same for links. Importing the file into the same project
//! therefore finds every requirement again (by external id or UUID).

use super::Download;
use crate::error::{AppError, AppResult};
use crate::portfolio::ProjectCtx;
use crate::{App, Principal};
use opensesa_domain::access::Permission;
use opensesa_domain::ids::RequirementId;
use opensesa_domain::requirements::attributes::{AttributeDef, AttributeKind};
use opensesa_domain::requirements::{
    LinkKind, Module, Priority, ReqKind, ReqStatus, Requirement, TraceLink, VerificationMethod,
};
use opensesa_interchange::reqif::plain::{schema_safe, text_to_xhtml};
use opensesa_interchange::reqif::{
    self, AttributeDefinition, AttributeValue, Datatype, DatatypeKind, EnumValue, Header,
    Hierarchy, ReqifDocument, SpecObject, SpecRelation, SpecType, SpecTypeCategory, Specification,
    Value, ValueKind,
};
use std::collections::{HashMap, HashSet};

pub(crate) const FOREIGN_ID: &str = "ReqIF.ForeignID";
pub(crate) const NAME: &str = "ReqIF.Name";
pub(crate) const TEXT: &str = "ReqIF.Text";
pub(crate) const CHAPTER: &str = "ReqIF.ChapterName";
pub(crate) const RATIONALE: &str = "OpenSESA.Rationale";
pub(crate) const TYPE: &str = "OpenSESA.Type";
pub(crate) const PRIORITY: &str = "OpenSESA.Priority";
pub(crate) const VERIFICATION: &str = "OpenSESA.VerificationMethods";
pub(crate) const SOURCE: &str = "OpenSESA.Source";
pub(crate) const OWNER: &str = "OpenSESA.Owner";
pub(crate) const TAGS: &str = "OpenSESA.Tags";
pub(crate) const STATUS: &str = "OpenSESA.Status";
pub(crate) const PARENT: &str = "OpenSESA.Parent";
pub(crate) const SPEC_PREFIX: &str = "OpenSESA.Prefix";
pub(crate) const SPEC_DESCRIPTION: &str = "OpenSESA.Description";

const DT_STRING: &str = "opensesa-dt-string";
const DT_XHTML: &str = "opensesa-dt-xhtml";
const DT_KIND: &str = "opensesa-dt-type";
const DT_PRIORITY: &str = "opensesa-dt-priority";
const DT_VERIFICATION: &str = "opensesa-dt-verification";
const DT_STATUS: &str = "opensesa-dt-status";
const OBJECT_TYPE: &str = "opensesa-requirement";
const SPEC_TYPE: &str = "opensesa-module";

/// Is `s` an `xsd:ID` (an XML NCName)?
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}'))
}

/// `_` + the UUID: UUIDs may start with a digit, which an `xsd:ID` may not.
pub(crate) fn uuid_identifier(id: uuid::Uuid) -> String {
    format!("_{id}")
}

/// The UUID in an identifier made by [`uuid_identifier`].
pub(crate) fn identifier_uuid(identifier: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(identifier.strip_prefix('_')?).ok()
}

fn enum_datatype<T: Copy>(
    id: &str,
    name: &str,
    all: &[T],
    text: impl Fn(T) -> &'static str,
) -> Datatype {
    Datatype {
        identifier: id.to_owned(),
        long_name: Some(name.to_owned()),
        kind: DatatypeKind::Enumeration {
            values: all
                .iter()
                .enumerate()
                .map(|(i, v)| EnumValue {
                    identifier: format!("{id}-{}", text(*v)),
                    long_name: Some(text(*v).to_owned()),
                    key: Some(i.to_string()),
                })
                .collect(),
        },
    }
}

fn definition(
    id: &str,
    name: &str,
    datatype: &str,
    kind: ValueKind,
    multi: bool,
) -> AttributeDefinition {
    AttributeDefinition {
        identifier: id.to_owned(),
        long_name: Some(name.to_owned()),
        datatype_ref: datatype.to_owned(),
        kind,
        default: None,
        multi_valued: multi,
    }
}

/// A custom attribute merged across the exported modules.
struct Custom {
    name: String,
    kind: AttributeKind,
    options: Vec<String>,
    definition: String,
    datatype: String,
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Builds the document; `title` goes into the header.
pub(crate) fn build_document(
    title: &str,
    modules: &[(Module, Vec<Requirement>)],
    links: &[TraceLink],
    outside: &HashMap<RequirementId, String>,
    now: chrono::DateTime<chrono::Utc>,
) -> ReqifDocument {
    let mut doc = ReqifDocument::new(Header {
        identifier: uuid_identifier(uuid::Uuid::now_v7()),
        title: Some(title.to_owned()),
        comment: Some("Exported by OpenSESA".to_owned()),
        req_if_tool_id: Some("OpenSESA".to_owned()),
        source_tool_id: Some("OpenSESA".to_owned()),
        creation_time: Some(rfc3339(now)),
    });
    doc.datatypes = vec![
        Datatype {
            identifier: DT_STRING.into(),
            long_name: Some("Text".into()),
            kind: DatatypeKind::String { max_length: None },
        },
        Datatype {
            identifier: DT_XHTML.into(),
            long_name: Some("Rich text".into()),
            kind: DatatypeKind::Xhtml,
        },
        enum_datatype(DT_KIND, "Requirement type", ReqKind::ALL, ReqKind::as_str),
        enum_datatype(DT_PRIORITY, "Priority", Priority::ALL, Priority::as_str),
        enum_datatype(
            DT_VERIFICATION,
            "Verification method",
            VerificationMethod::ALL,
            VerificationMethod::as_str,
        ),
        enum_datatype(DT_STATUS, "Status", &ReqStatus::ALL, ReqStatus::as_str),
    ];
    let mut defs = vec![
        definition(
            "opensesa-foreign-id",
            FOREIGN_ID,
            DT_STRING,
            ValueKind::String,
            false,
        ),
        definition("opensesa-name", NAME, DT_STRING, ValueKind::String, false),
        definition("opensesa-text", TEXT, DT_XHTML, ValueKind::Xhtml, false),
        definition(
            "opensesa-chapter",
            CHAPTER,
            DT_STRING,
            ValueKind::String,
            false,
        ),
        definition(
            "opensesa-rationale",
            RATIONALE,
            DT_STRING,
            ValueKind::String,
            false,
        ),
        definition(
            "opensesa-type",
            TYPE,
            DT_KIND,
            ValueKind::Enumeration,
            false,
        ),
        definition(
            "opensesa-priority",
            PRIORITY,
            DT_PRIORITY,
            ValueKind::Enumeration,
            false,
        ),
        definition(
            "opensesa-verification",
            VERIFICATION,
            DT_VERIFICATION,
            ValueKind::Enumeration,
            true,
        ),
        definition(
            "opensesa-source",
            SOURCE,
            DT_STRING,
            ValueKind::String,
            false,
        ),
        definition("opensesa-owner", OWNER, DT_STRING, ValueKind::String, false),
        definition("opensesa-tags", TAGS, DT_STRING, ValueKind::String, false),
        definition(
            "opensesa-status",
            STATUS,
            DT_STATUS,
            ValueKind::Enumeration,
            false,
        ),
        definition(
            "opensesa-parent",
            PARENT,
            DT_STRING,
            ValueKind::String,
            false,
        ),
    ];

    // Custom attributes, merged by name: the same kind shares one definition (an
    // enumeration gets the union of the options); different kinds fall back to text.
    let mut customs: Vec<Custom> = Vec::new();
    for (m, _) in modules {
        for a in &m.attributes {
            match customs.iter_mut().find(|c| c.name == a.name) {
                Some(c) if c.kind == a.kind => {
                    for o in &a.options {
                        if !c.options.contains(o) {
                            c.options.push(o.clone());
                        }
                    }
                }
                Some(c) => {
                    c.kind = AttributeKind::Text;
                    c.options.clear();
                }
                None => customs.push(Custom {
                    name: a.name.clone(),
                    kind: a.kind,
                    options: a.options.clone(),
                    definition: format!("opensesa-attr-{}", customs.len() + 1),
                    datatype: format!("opensesa-dt-attr-{}", customs.len() + 1),
                }),
            }
        }
    }
    for c in &customs {
        let (kind, value_kind) = match c.kind {
            AttributeKind::Text => (DatatypeKind::String { max_length: None }, ValueKind::String),
            AttributeKind::Number => (
                DatatypeKind::Real {
                    accuracy: None,
                    min: None,
                    max: None,
                },
                ValueKind::Real,
            ),
            AttributeKind::Boolean => (DatatypeKind::Boolean, ValueKind::Boolean),
            AttributeKind::Date => (DatatypeKind::Date, ValueKind::Date),
            AttributeKind::Enumeration => (
                DatatypeKind::Enumeration {
                    values: c
                        .options
                        .iter()
                        .enumerate()
                        .map(|(i, o)| EnumValue {
                            identifier: format!("{}-{}", c.datatype, i + 1),
                            long_name: Some(o.clone()),
                            key: Some(i.to_string()),
                        })
                        .collect(),
                },
                ValueKind::Enumeration,
            ),
        };
        doc.datatypes.push(Datatype {
            identifier: c.datatype.clone(),
            long_name: Some(c.name.clone()),
            kind,
        });
        defs.push(definition(
            &c.definition,
            &c.name,
            &c.datatype,
            value_kind,
            false,
        ));
    }
    doc.spec_types.push(SpecType {
        identifier: OBJECT_TYPE.into(),
        long_name: Some("Requirement".into()),
        category: SpecTypeCategory::Object,
        attributes: defs,
    });
    doc.spec_types.push(SpecType {
        identifier: SPEC_TYPE.into(),
        long_name: Some("Module".into()),
        category: SpecTypeCategory::Specification,
        attributes: vec![
            definition(
                "opensesa-spec-prefix",
                SPEC_PREFIX,
                DT_STRING,
                ValueKind::String,
                false,
            ),
            definition(
                "opensesa-spec-description",
                SPEC_DESCRIPTION,
                DT_STRING,
                ValueKind::String,
                false,
            ),
        ],
    });

    // Identifiers, unique in the document.
    let mut used: HashSet<String> = HashSet::new();
    for id in [
        DT_STRING,
        DT_XHTML,
        DT_KIND,
        DT_PRIORITY,
        DT_VERIFICATION,
        DT_STATUS,
        OBJECT_TYPE,
        SPEC_TYPE,
    ] {
        used.insert(id.to_owned());
    }
    let mut identify = |external: Option<&str>, id: uuid::Uuid| -> String {
        let candidate = external
            .filter(|e| is_ncname(e) && !e.starts_with("opensesa-"))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid_identifier(id));
        if used.insert(candidate.clone()) {
            candidate
        } else {
            let fallback = uuid_identifier(id);
            used.insert(fallback.clone());
            fallback
        }
    };
    let mut object_ids: HashMap<RequirementId, String> = HashMap::new();
    for (_, reqs) in modules {
        for r in reqs {
            let id = identify(r.external_id.as_deref(), r.id.0);
            object_ids.insert(r.id, id);
        }
    }

    let enum_ref = |dt: &str, v: &str| format!("{dt}-{v}");
    for (m, reqs) in modules {
        let in_module: HashSet<RequirementId> = reqs.iter().map(|r| r.id).collect();
        for r in reqs {
            let Some(identifier) = object_ids.get(&r.id).cloned() else {
                continue;
            };
            let mut values = Vec::new();
            let mut put = |def: &str, value: Value| {
                values.push(AttributeValue {
                    definition_ref: def.to_owned(),
                    value,
                })
            };
            put("opensesa-foreign-id", Value::String(r.human_id.clone()));
            put("opensesa-name", Value::String(r.title.clone()));
            if !r.statement.is_empty() || r.statement_xhtml.is_some() {
                let markup = match &r.statement_xhtml {
                    Some(x) if schema_safe(x) => x.clone(),
                    _ => text_to_xhtml(&r.statement),
                };
                put("opensesa-text", Value::Xhtml(markup));
            }
            if r.kind == ReqKind::Heading {
                put("opensesa-chapter", Value::String(r.title.clone()));
            }
            if !r.rationale.is_empty() {
                put("opensesa-rationale", Value::String(r.rationale.clone()));
            }
            put(
                "opensesa-type",
                Value::Enumeration(vec![enum_ref(DT_KIND, r.kind.as_str())]),
            );
            put(
                "opensesa-priority",
                Value::Enumeration(vec![enum_ref(DT_PRIORITY, r.priority.as_str())]),
            );
            if !r.verification_methods.is_empty() {
                put(
                    "opensesa-verification",
                    Value::Enumeration(
                        r.verification_methods
                            .iter()
                            .map(|v| enum_ref(DT_VERIFICATION, v.as_str()))
                            .collect(),
                    ),
                );
            }
            for (def, text) in [("opensesa-source", &r.source), ("opensesa-owner", &r.owner)] {
                if !text.is_empty() {
                    put(def, Value::String(text.clone()));
                }
            }
            if !r.tags.is_empty() {
                put("opensesa-tags", Value::String(r.tags_text()));
            }
            put(
                "opensesa-status",
                Value::Enumeration(vec![enum_ref(DT_STATUS, r.status.as_str())]),
            );
            // A parent in another module cannot be in this specification's hierarchy.
            if let Some(p) = r.parent_id.filter(|p| !in_module.contains(p)) {
                if let Some(name) = object_ids.get(&p).or_else(|| outside.get(&p)) {
                    put("opensesa-parent", Value::String(name.clone()));
                }
            }
            for def in &m.attributes {
                let Some(v) = r.attributes.get(&def.name) else {
                    continue;
                };
                let Some(c) = customs.iter().find(|c| c.name == def.name) else {
                    continue;
                };
                let value = match (c.kind, v) {
                    (AttributeKind::Number, serde_json::Value::Number(n)) => match n.as_f64() {
                        Some(f) => Value::Real(f),
                        None => continue,
                    },
                    (AttributeKind::Boolean, serde_json::Value::Bool(b)) => Value::Boolean(*b),
                    (AttributeKind::Date, serde_json::Value::String(s)) => {
                        Value::Date(format!("{s}T00:00:00Z"))
                    }
                    (AttributeKind::Enumeration, serde_json::Value::String(s)) => {
                        match c.options.iter().position(|o| o == s) {
                            Some(i) => {
                                Value::Enumeration(vec![format!("{}-{}", c.datatype, i + 1)])
                            }
                            None => continue,
                        }
                    }
                    (AttributeKind::Text, v) => Value::String(AttributeDef::display(v)),
                    _ => continue,
                };
                put(&c.definition, value);
            }
            doc.spec_objects.push(SpecObject {
                identifier,
                long_name: None,
                last_change: Some(rfc3339(r.updated_at)),
                type_ref: OBJECT_TYPE.into(),
                values,
            });
        }
    }

    // Relations: one type per link kind used.
    let mut kinds: Vec<LinkKind> = Vec::new();
    for l in links {
        let (Some(source), Some(target)) = (
            object_ids.get(&RequirementId(l.source_id)),
            object_ids.get(&RequirementId(l.target_id)),
        ) else {
            continue;
        };
        if !kinds.contains(&l.kind) {
            kinds.push(l.kind);
        }
        let identifier = identify(l.external_id.as_deref(), l.id.0);
        doc.spec_relations.push(SpecRelation {
            identifier,
            long_name: None,
            type_ref: format!("opensesa-link-{}", l.kind.as_str()),
            source: source.clone(),
            target: target.clone(),
            values: Vec::new(),
        });
    }
    kinds.sort();
    for k in kinds {
        doc.spec_types.push(SpecType {
            identifier: format!("opensesa-link-{}", k.as_str()),
            long_name: Some(k.as_str().to_owned()),
            category: SpecTypeCategory::Relation,
            attributes: Vec::new(),
        });
    }

    // One specification per module; the hierarchy from parents within the module.
    for (m, reqs) in modules {
        let in_module: HashSet<RequirementId> = reqs.iter().map(|r| r.id).collect();
        let mut children: HashMap<Option<RequirementId>, Vec<&Requirement>> = HashMap::new();
        for r in reqs {
            let parent = r.parent_id.filter(|p| in_module.contains(p) && *p != r.id);
            children.entry(parent).or_default().push(r);
        }
        let mut placed: HashSet<RequirementId> = HashSet::new();
        let mut roots = build_level(None, &children, &object_ids, &mut placed, 1);
        // Anything unreachable from the top (a parent loop) goes to the top level.
        for r in reqs {
            if !placed.contains(&r.id) {
                placed.insert(r.id);
                if let Some(obj) = object_ids.get(&r.id) {
                    roots.push(Hierarchy {
                        identifier: format!("_h{}", r.id.0.simple()),
                        object_ref: obj.clone(),
                        long_name: None,
                        children: Vec::new(),
                    });
                }
            }
        }
        let mut values = vec![AttributeValue {
            definition_ref: "opensesa-spec-prefix".into(),
            value: Value::String(m.prefix.clone()),
        }];
        if !m.description.is_empty() {
            values.push(AttributeValue {
                definition_ref: "opensesa-spec-description".into(),
                value: Value::String(m.description.clone()),
            });
        }
        doc.specifications.push(Specification {
            identifier: uuid_identifier(m.id.0),
            long_name: Some(m.name.clone()),
            type_ref: SPEC_TYPE.into(),
            values,
            children: roots,
        });
    }
    doc
}

/// The hierarchy below `parent`, depth-first; levels deeper than the format allows are
/// attached at the deepest level allowed.
fn build_level(
    parent: Option<RequirementId>,
    children: &HashMap<Option<RequirementId>, Vec<&Requirement>>,
    object_ids: &HashMap<RequirementId, String>,
    placed: &mut HashSet<RequirementId>,
    depth: usize,
) -> Vec<Hierarchy> {
    let mut out = Vec::new();
    let Some(list) = children.get(&parent) else {
        return out;
    };
    for r in list {
        if !placed.insert(r.id) {
            continue;
        }
        let Some(obj) = object_ids.get(&r.id) else {
            continue;
        };
        let below = if depth < 150 {
            build_level(Some(r.id), children, object_ids, placed, depth + 1)
        } else {
            Vec::new()
        };
        out.push(Hierarchy {
            identifier: format!("_h{}", r.id.0.simple()),
            object_ref: obj.clone(),
            long_name: None,
            children: below,
        });
    }
    out
}

fn write_document(doc: &ReqifDocument) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    reqif::write(doc, &mut out)
        .map_err(|e| AppError::Conflict(format!("the ReqIF export cannot be written: {e}")))?;
    Ok(out)
}

impl App {
    /// One module as ReqIF (links between its own requirements only: a relation to an
    /// object outside the file would not validate).
    pub async fn export_module_reqif(
        &self,
        principal: &Principal,
        code: &str,
        prefix: &str,
    ) -> AppResult<Download> {
        let (ctx, module, reqs) = self.module_document(principal, code, prefix).await?;
        let links: Vec<TraceLink> = self
            .all_links(&ctx)
            .await?
            .into_iter()
            .map(|l| l.link)
            .collect();
        // Parents in other modules, by the identifier they would have in their own export.
        let mut outside: HashMap<RequirementId, String> = HashMap::new();
        let ids: HashSet<RequirementId> = reqs.iter().map(|r| r.id).collect();
        for p in reqs.iter().filter_map(|r| r.parent_id) {
            if ids.contains(&p) || outside.contains_key(&p) {
                continue;
            }
            if let Some(parent) = self.store.find_requirement_by_id(ctx.project.id, p).await? {
                let name = parent
                    .external_id
                    .filter(|e| is_ncname(e) && !e.starts_with("opensesa-"))
                    .unwrap_or_else(|| uuid_identifier(parent.id.0));
                outside.insert(p, name);
            }
        }
        let title = format!("{} — {}", ctx.project.name, module.name);
        let file_name = format!("{}-{}.reqif", ctx.project.code, module.prefix);
        let doc = build_document(
            &title,
            &[(module, reqs)],
            &links,
            &outside,
            self.clock.now(),
        );
        Ok(Download {
            file_name,
            content_type: "application/xml",
            bytes: write_document(&doc)?,
        })
    }

    /// The whole project as ReqIF: every module, every link between requirements.
    pub async fn export_project_reqif(
        &self,
        principal: &Principal,
        code: &str,
    ) -> AppResult<Download> {
        let ctx: ProjectCtx = self
            .project_access(principal, code, Permission::Read)
            .await?;
        let (_, summaries) = self.list_modules(principal, code).await?;
        let mut modules = Vec::with_capacity(summaries.len());
        for s in summaries {
            let reqs = self.store.module_requirements(s.module.id).await?;
            modules.push((s.module, reqs));
        }
        let links: Vec<TraceLink> = self
            .all_links(&ctx)
            .await?
            .into_iter()
            .map(|l| l.link)
            .collect();
        let doc = build_document(
            &ctx.project.name,
            &modules,
            &links,
            &HashMap::new(),
            self.clock.now(),
        );
        Ok(Download {
            file_name: format!("{}-requirements.reqif", ctx.project.code),
            content_type: "application/xml",
            bytes: write_document(&doc)?,
        })
    }
}
