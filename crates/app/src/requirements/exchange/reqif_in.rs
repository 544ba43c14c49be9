//! ReqIF import: specifications become modules, spec objects requirements (in hierarchy
//! order, with parents from the hierarchy), spec relations links.
//!
//! Attribute mapping, by the attribute definition's long name (case-insensitive):
//! - `ReqIF.ForeignID` or `ID`: the human id, when it has the module's form (`SYS-001`) and is
//!   free; otherwise the value is kept in a custom attribute `ForeignID`.
//! - `ReqIF.Name`, `Title`, `Heading` or `Name`: the title; else `ReqIF.ChapterName`; else the
//!   object's long name, the first 80 characters of the text, or the identifier.
//! - `ReqIF.Text`, `Object Text`, `Text`, `Description` or `ReqIF.Description`: the statement.
//!   XHTML is kept as rich text (`statement_xhtml`) and its plain text is the statement.
//! - `ReqIF.ChapterName` with no text: a heading.
//! - `OpenSESA.*` (written by our export): rationale, type, priority, verification methods,
//!   source, owner, tags; `OpenSESA.Status` is not imported (the review workflow decides).
//! - Everything else: a custom attribute of the module (string and XHTML → text, integer and
//!   real → number, boolean, date, enumeration with the enumeration values' names as options;
//!   multi-valued enumerations → text).
//!
//! Re-import: an object whose identifier is a requirement's `external_id` (or `_` + its UUID,
//! as our export writes) updates that requirement instead of creating another; relations
//! likewise by the link's `external_id`, or by kind and ends.

use super::reqif_out::{identifier_uuid, SPEC_DESCRIPTION, SPEC_PREFIX};
use super::{
    normalise_id, place_new, settle_update, short_title, ModuleReport, Outcome, Plan, PlannedWrite,
    ReportItem, Target,
};
use crate::error::AppResult;
use crate::portfolio::ProjectCtx;
use crate::ports::{ModuleWrite, ReqQuery, SortDir};
use crate::App;
use opensesa_domain::ids::{LinkId, ModuleId, ProjectId, RequirementId};
use opensesa_domain::requirements::attributes::{
    validate_defs, AttributeDef, AttributeKind, RESERVED,
};
use opensesa_domain::requirements::model::parse_prefix;
use opensesa_domain::requirements::{LinkKind, Module, ReqKind, Requirement, RequirementInput};
use opensesa_domain::revision::Versioned;
use opensesa_domain::FieldErrors;
use opensesa_interchange::reqif::plain::{plain_from_rendering, xhtml_to_text};
use opensesa_interchange::reqif::{DatatypeKind, ReqifDocument, SpecObject, Value, ValueKind};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    ForeignId,
    Title,
    Chapter,
    Text,
    Rationale,
    Kind,
    Priority,
    Verification,
    Source,
    Owner,
    Tags,
    Status,
    Parent,
}

/// Long names (lower case) per role, best first.
const ROLES: &[(Role, &[&str])] = &[
    (Role::ForeignId, &["reqif.foreignid", "id"]),
    (Role::Title, &["reqif.name", "title", "heading", "name"]),
    (Role::Chapter, &["reqif.chaptername"]),
    (
        Role::Text,
        &[
            "reqif.text",
            "object text",
            "text",
            "description",
            "reqif.description",
        ],
    ),
    (Role::Rationale, &["opensesa.rationale"]),
    (Role::Kind, &["opensesa.type"]),
    (Role::Priority, &["opensesa.priority"]),
    (Role::Verification, &["opensesa.verificationmethods"]),
    (Role::Source, &["opensesa.source"]),
    (Role::Owner, &["opensesa.owner"]),
    (Role::Tags, &["opensesa.tags"]),
    (Role::Status, &["opensesa.status"]),
    (Role::Parent, &["opensesa.parent"]),
];

/// The custom attribute that keeps a foreign id that is not used as the human id.
const FOREIGN_ID_ATTRIBUTE: &str = "ForeignID";

/// How one spec type's attribute definitions map: a definition per role, the rest custom.
#[derive(Debug, Default, Clone)]
struct Roles {
    by_role: HashMap<Role, String>,
    customs: Vec<String>,
}

fn roles_of(defs: &[(String, String)]) -> Roles {
    let mut roles = Roles::default();
    let mut taken: HashSet<&str> = HashSet::new();
    for (role, names) in ROLES {
        for name in *names {
            if let Some((id, _)) = defs
                .iter()
                .find(|(id, n)| !taken.contains(id.as_str()) && n.trim().to_lowercase() == *name)
            {
                roles.by_role.insert(*role, id.clone());
                taken.insert(id.as_str());
                break;
            }
        }
    }
    roles.customs = defs
        .iter()
        .filter(|(id, _)| !taken.contains(id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    roles
}

/// A custom attribute name valid for a module: other characters become `_`, at most 60
/// characters, built-in field names get a `ReqIF ` prefix.
fn attribute_name(raw: &str) -> String {
    let s: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut s: String = s.trim().chars().take(60).collect();
    if s.is_empty() {
        s = "Attribute".to_owned();
    }
    if RESERVED.contains(&s.to_lowercase().as_str()) {
        s = format!("ReqIF {s}").chars().take(60).collect();
    }
    s
}

/// The text of a value as a person would type it (enumerations by their names).
fn value_text(doc: &ReqifDocument, v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Date(d) => match d.get(..10) {
            Some(day) if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() => {
                day.to_owned()
            }
            _ => d.clone(),
        },
        Value::Enumeration(ids) => ids
            .iter()
            .map(|id| enum_name(doc, id))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Xhtml(x) => xhtml_to_text(x),
    }
}

fn enum_name(doc: &ReqifDocument, id: &str) -> String {
    doc.enum_value_name(id)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(|| id.to_owned(), str::to_owned)
}

/// The custom attribute a definition becomes.
#[derive(Debug, Clone)]
struct CustomSpec {
    name: String,
    kind: AttributeKind,
    options: Vec<String>,
    xhtml: bool,
}

fn custom_spec(doc: &ReqifDocument, def_ref: &str, sample: Option<&Value>) -> CustomSpec {
    let def = doc.attribute_definition(def_ref).map(|(_, d)| d);
    let name = attribute_name(
        def.and_then(|d| d.long_name.as_deref())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(def_ref),
    );
    let kind = def.map(|d| d.kind).or_else(|| sample.map(Value::kind));
    let multi = def.is_some_and(|d| d.multi_valued);
    let mut spec = CustomSpec {
        name,
        kind: AttributeKind::Text,
        options: Vec::new(),
        xhtml: kind == Some(ValueKind::Xhtml),
    };
    match kind {
        Some(ValueKind::Integer | ValueKind::Real) => spec.kind = AttributeKind::Number,
        Some(ValueKind::Boolean) => spec.kind = AttributeKind::Boolean,
        Some(ValueKind::Date) => spec.kind = AttributeKind::Date,
        Some(ValueKind::Enumeration) if !multi => {
            let datatype = def.and_then(|d| {
                doc.datatypes
                    .iter()
                    .find(|t| t.identifier == d.datatype_ref)
            });
            if let Some(DatatypeKind::Enumeration { values }) = datatype.map(|t| &t.kind) {
                for v in values {
                    let name = v
                        .long_name
                        .as_deref()
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map_or_else(|| v.identifier.clone(), str::to_owned);
                    if !spec.options.contains(&name) {
                        spec.options.push(name);
                    }
                }
            }
            if !spec.options.is_empty() {
                spec.kind = AttributeKind::Enumeration;
            }
        }
        _ => {}
    }
    spec
}

/// What one spec object says, by role.
struct Facts<'a> {
    obj: &'a SpecObject,
    roles: HashMap<Role, Option<&'a Value>>,
    /// Custom attributes: (spec, value) per definition of the object's type.
    customs: Vec<(CustomSpec, Option<&'a Value>)>,
}

impl Facts<'_> {
    fn text(&self, doc: &ReqifDocument, role: Role) -> Option<String> {
        self.roles
            .get(&role)
            .map(|v| v.map(|v| value_text(doc, v)).unwrap_or_default())
    }
}

/// A new module's prefix from initials of its name (`System Requirements` → `SR`).
fn initials(name: &str) -> String {
    let letters: String = name
        .split(|c: char| !c.is_alphanumeric())
        .filter_map(|w| w.chars().find(|c| c.is_ascii_alphanumeric()))
        .map(|c| c.to_ascii_uppercase())
        .take(6)
        .collect();
    match parse_prefix(&letters) {
        Ok(p) if p.len() >= 2 => p,
        _ => {
            let word: String = name
                .chars()
                .filter(char::is_ascii_alphabetic)
                .take(4)
                .collect::<String>()
                .to_uppercase();
            parse_prefix(&word).unwrap_or_else(|_| "REQ".to_owned())
        }
    }
}

/// A module being planned.
struct ModulePlan {
    module: Module,
    before: Option<Module>,
    /// Human ids taken by requirements planned into this module with their file ids.
    ordinal_max: i64,
    sequence: Vec<usize>,
}

impl App {
    pub(crate) async fn plan_reqif(
        &self,
        ctx: &ProjectCtx,
        target: &Target,
        doc: &ReqifDocument,
        file_name: &str,
    ) -> AppResult<Plan> {
        let now = self.clock.now();
        let mut plan = Plan::default();
        let project = ctx.project.id;

        // Where each object goes: its first place in the hierarchy.
        let walk = doc.walk();
        let mut place: HashMap<&str, (usize, Option<&str>)> = HashMap::new();
        let mut spec_sequence: Vec<Vec<&str>> = vec![Vec::new(); doc.specifications.len()];
        let mut repeats = 0usize;
        for e in &walk {
            if place.contains_key(e.object_ref) {
                repeats += 1;
                continue;
            }
            place.insert(e.object_ref, (e.specification, e.parent));
            if let Some(seq) = spec_sequence.get_mut(e.specification) {
                seq.push(e.object_ref);
            }
        }
        if repeats > 0 {
            plan.report.notes.push(format!(
                "{repeats} hierarchy entr{} place an object a second time; a requirement has one place, the first",
                if repeats == 1 { "y" } else { "ies" }
            ));
        }
        let unplaced: Vec<&str> = doc
            .spec_objects
            .iter()
            .map(|o| o.identifier.as_str())
            .filter(|id| !place.contains_key(id))
            .collect();

        // Roles per spec type (or per object, when its type is unknown).
        let mut type_roles: HashMap<String, Roles> = HashMap::new();
        let mut facts: Vec<Facts<'_>> = Vec::with_capacity(doc.spec_objects.len());
        for obj in &doc.spec_objects {
            let roles = match doc.spec_type(&obj.type_ref) {
                Some(t) => type_roles
                    .entry(t.identifier.clone())
                    .or_insert_with(|| {
                        let defs: Vec<(String, String)> = t
                            .attributes
                            .iter()
                            .map(|a| {
                                (
                                    a.identifier.clone(),
                                    a.long_name.clone().unwrap_or_else(|| a.identifier.clone()),
                                )
                            })
                            .collect();
                        roles_of(&defs)
                    })
                    .clone(),
                None => {
                    let defs: Vec<(String, String)> = obj
                        .values
                        .iter()
                        .map(|v| {
                            let name = doc
                                .attribute_definition(&v.definition_ref)
                                .and_then(|(_, d)| d.long_name.clone())
                                .unwrap_or_else(|| v.definition_ref.clone());
                            (v.definition_ref.clone(), name)
                        })
                        .collect();
                    roles_of(&defs)
                }
            };
            let value_of = |def: &str| -> Option<&Value> {
                obj.values
                    .iter()
                    .find(|v| v.definition_ref == def)
                    .map(|v| &v.value)
                    .or_else(|| {
                        doc.attribute_definition(def)
                            .and_then(|(_, d)| d.default.as_ref())
                    })
            };
            let mut f = Facts {
                obj,
                roles: HashMap::new(),
                customs: Vec::new(),
            };
            for (role, def) in &roles.by_role {
                f.roles.insert(*role, value_of(def));
            }
            for def in &roles.customs {
                let v = value_of(def);
                f.customs.push((custom_spec(doc, def, v), v));
            }
            facts.push(f);
        }
        let index: HashMap<&str, usize> = facts
            .iter()
            .enumerate()
            .map(|(i, f)| (f.obj.identifier.as_str(), i))
            .collect();

        // Requirements already imported from these objects.
        let identifiers: Vec<String> = doc
            .spec_objects
            .iter()
            .map(|o| o.identifier.clone())
            .collect();
        let mut existing: HashMap<String, Requirement> = self
            .store
            .find_requirements_by_external_ids(project, &identifiers)
            .await?
            .into_iter()
            .filter_map(|r| r.external_id.clone().map(|e| (e, r)))
            .collect();
        // Our own export writes `_` + the requirement's UUID (v7) for requirements that did
        // not come from a file; other tools' GUIDs are not looked up.
        let by_uuid: Vec<(String, Uuid)> = identifiers
            .iter()
            .filter(|id| !existing.contains_key(*id))
            .filter_map(|id| {
                identifier_uuid(id)
                    .filter(|u| u.get_version_num() == 7)
                    .map(|u| (id.clone(), u))
            })
            .collect();
        // Every human id of the project and the last requirement of each module in document
        // order (the one with the largest ordinal), when its facts were read anyway.
        let mut project_human_ids: Option<HashSet<String>> = None;
        let mut last_in_module: HashMap<ModuleId, String> = HashMap::new();
        if by_uuid.len() <= 200 {
            for (id, uuid) in by_uuid {
                if let Some(r) = self
                    .store
                    .find_requirement_by_id(project, RequirementId(uuid))
                    .await?
                {
                    existing.insert(id, r);
                }
            }
        } else {
            // Many: the project's compact facts say which of them exist (without reading
            // every requirement in full), then only those are read, by human id.
            let wanted: HashMap<Uuid, String> =
                by_uuid.into_iter().map(|(id, u)| (u, id)).collect();
            let mut found: HashMap<RequirementId, String> = HashMap::new();
            let mut human_ids: Vec<String> = Vec::new();
            let mut known = HashSet::new();
            for f in self.store.requirement_facts_light(project).await? {
                if let Some(ident) = wanted.get(&f.id.0) {
                    found.insert(f.id, ident.clone());
                    human_ids.push(f.human_id.clone());
                }
                last_in_module.insert(f.module_id, f.human_id.clone());
                known.insert(f.human_id);
            }
            project_human_ids = Some(known);
            for r in self
                .store
                .find_requirements_by_human_ids(project, &human_ids)
                .await?
            {
                if let Some(ident) = found.remove(&r.id) {
                    existing.insert(ident, r);
                }
            }
        }

        // Modules: the chosen one, or one per specification.
        let all_modules = self.store.list_modules(project).await?;
        let mut modules: Vec<ModulePlan> = Vec::new();
        let mut module_index: HashMap<ModuleId, usize> = HashMap::new();
        let mut taken_prefixes: HashSet<String> =
            all_modules.iter().map(|m| m.prefix.clone()).collect();
        let mut next_module_ordinal = all_modules.iter().map(|m| m.ordinal).max().unwrap_or(0) + 1;
        let use_module = |m: &Module,
                          modules: &mut Vec<ModulePlan>,
                          module_index: &mut HashMap<ModuleId, usize>|
         -> usize {
            *module_index.entry(m.id).or_insert_with(|| {
                modules.push(ModulePlan {
                    module: m.clone(),
                    before: Some(m.clone()),
                    ordinal_max: 0,
                    sequence: Vec::new(),
                });
                modules.len() - 1
            })
        };
        let mut new_module = |name: &str,
                              prefix_hint: Option<String>,
                              description: String,
                              modules: &mut Vec<ModulePlan>,
                              taken: &mut HashSet<String>|
         -> usize {
            let name = short_title(name, 200);
            let name = if name.is_empty() {
                "Imported".to_owned()
            } else {
                name
            };
            let base = prefix_hint
                .filter(|p| !taken.contains(p))
                .unwrap_or_else(|| initials(&name));
            let mut prefix = base.clone();
            let mut n = 2;
            while taken.contains(&prefix) {
                let stem: String = base.chars().take(12 - n.to_string().len()).collect();
                prefix = format!("{stem}{n}");
                n += 1;
            }
            taken.insert(prefix.clone());
            let m = Module {
                id: ModuleId::new(),
                project_id: project,
                parent_id: None,
                prefix,
                name,
                description: description.chars().take(20_000).collect(),
                ordinal: next_module_ordinal,
                attributes: Vec::new(),
                revision: 1,
                created_at: now,
                updated_at: now,
            };
            next_module_ordinal += 1;
            modules.push(ModulePlan {
                module: m,
                before: None,
                ordinal_max: 0,
                sequence: Vec::new(),
            });
            modules.len() - 1
        };
        let mut spec_module: Vec<usize> = Vec::with_capacity(doc.specifications.len());
        let mut used_by_name: HashSet<ModuleId> = HashSet::new();
        for (s, spec) in doc.specifications.iter().enumerate() {
            let m = match target {
                Target::Module(m) => use_module(m, &mut modules, &mut module_index),
                Target::NewModules => {
                    // Re-import: the module holding most of the specification's objects.
                    let mut votes: HashMap<ModuleId, usize> = HashMap::new();
                    for id in &spec_sequence[s] {
                        if let Some(r) = existing.get(*id) {
                            *votes.entry(r.module_id).or_default() += 1;
                        }
                    }
                    let voted = votes
                        .into_iter()
                        .max_by_key(|(id, n)| (*n, std::cmp::Reverse(*id)))
                        .and_then(|(id, _)| all_modules.iter().find(|m| m.id == id));
                    let name = spec
                        .long_name
                        .clone()
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| spec.identifier.clone());
                    let by_name = all_modules.iter().find(|m| {
                        m.name.trim().eq_ignore_ascii_case(name.trim())
                            && !used_by_name.contains(&m.id)
                    });
                    match voted.or(by_name) {
                        Some(m) => {
                            used_by_name.insert(m.id);
                            use_module(m, &mut modules, &mut module_index)
                        }
                        None => {
                            let spec_value = |wanted: &str| {
                                spec.values.iter().find_map(|v| {
                                    let def = doc.attribute_definition(&v.definition_ref)?.1;
                                    let n = def.long_name.as_deref()?;
                                    n.eq_ignore_ascii_case(wanted)
                                        .then(|| value_text(doc, &v.value))
                                })
                            };
                            let hint = spec_value(SPEC_PREFIX)
                                .and_then(|p| parse_prefix(&p).ok())
                                .or_else(|| {
                                    // The prefix all the objects' foreign ids share.
                                    let mut prefixes = spec_sequence[s].iter().filter_map(|id| {
                                        let f = &facts[*index.get(id)?];
                                        normalise_id(&f.text(doc, Role::ForeignId)?).map(|(_, p)| p)
                                    });
                                    let first = prefixes.next()?;
                                    prefixes.all(|p| p == first).then_some(first)
                                });
                            let description = spec_value(SPEC_DESCRIPTION).unwrap_or_default();
                            new_module(&name, hint, description, &mut modules, &mut taken_prefixes)
                        }
                    }
                }
            };
            spec_module.push(m);
        }
        let unplaced_module = if unplaced.is_empty() {
            None
        } else {
            Some(match (target, spec_module.first()) {
                (Target::Module(m), _) => use_module(m, &mut modules, &mut module_index),
                (Target::NewModules, Some(&first)) => first,
                (Target::NewModules, None) => {
                    let name = doc
                        .header
                        .title
                        .clone()
                        .filter(|t| !t.trim().is_empty())
                        .unwrap_or_else(|| format!("Imported from {file_name}"));
                    // Re-import: where these objects went the first time.
                    let mut votes: HashMap<ModuleId, usize> = HashMap::new();
                    for id in &unplaced {
                        if let Some(r) = existing.get(*id) {
                            *votes.entry(r.module_id).or_default() += 1;
                        }
                    }
                    let voted = votes
                        .into_iter()
                        .max_by_key(|(id, n)| (*n, std::cmp::Reverse(*id)))
                        .and_then(|(id, _)| all_modules.iter().find(|m| m.id == id));
                    let by_name = all_modules
                        .iter()
                        .find(|m| m.name.trim().eq_ignore_ascii_case(name.trim()));
                    match voted.or(by_name) {
                        Some(m) => use_module(m, &mut modules, &mut module_index),
                        None => new_module(
                            &name,
                            None,
                            String::new(),
                            &mut modules,
                            &mut taken_prefixes,
                        ),
                    }
                }
            })
        };
        if !unplaced.is_empty() {
            plan.report.notes.push(format!(
                "{} spec object{} in no specification; they are imported at the top level of module {}",
                unplaced.len(),
                if unplaced.len() == 1 { " is" } else { "s are" },
                unplaced_module
                    .and_then(|i| modules.get(i))
                    .map_or("", |m| m.module.prefix.as_str())
            ));
        }

        // Which module each object lands in (existing requirements stay where they are),
        // in document order per module.
        let mut object_module: Vec<usize> = vec![0; facts.len()];
        let mut order: Vec<usize> = Vec::with_capacity(facts.len());
        for (s, seq) in spec_sequence.iter().enumerate() {
            for id in seq {
                if let Some(&i) = index.get(id) {
                    order.push(i);
                    object_module[i] = spec_module[s];
                }
            }
        }
        if let Some(m) = unplaced_module {
            for id in &unplaced {
                if let Some(&i) = index.get(id) {
                    order.push(i);
                    object_module[i] = m;
                }
            }
        }
        for &i in &order {
            if let Some(r) = existing.get(facts[i].obj.identifier.as_str()) {
                let r_module = r.module_id;
                let m = match module_index.get(&r_module) {
                    Some(&m) => m,
                    None => match all_modules.iter().find(|m| m.id == r_module) {
                        Some(m) => use_module(m, &mut modules, &mut module_index),
                        None => object_module[i],
                    },
                };
                object_module[i] = m;
            }
            modules[object_module[i]].sequence.push(i);
        }
        if project_human_ids.is_some() {
            let last: Vec<String> = modules
                .iter()
                .filter(|m| m.before.is_some())
                .filter_map(|m| last_in_module.get(&m.module.id).cloned())
                .collect();
            let ordinals: HashMap<ModuleId, i64> = self
                .store
                .find_requirements_by_human_ids(project, &last)
                .await?
                .into_iter()
                .map(|r| (r.module_id, r.ordinal))
                .collect();
            for mp in modules.iter_mut().filter(|m| m.before.is_some()) {
                mp.ordinal_max = ordinals.get(&mp.module.id).copied().unwrap_or(0);
            }
        } else {
            for mp in modules.iter_mut().filter(|m| m.before.is_some()) {
                mp.ordinal_max = self.max_ordinal(project, mp.module.id).await?;
            }
        }

        // Human ids of new requirements: the foreign id when it has the module's form and
        // is free.
        let mut candidates: Vec<String> = Vec::new();
        for &i in &order {
            if existing.contains_key(facts[i].obj.identifier.as_str()) {
                continue;
            }
            if let Some((id, _)) = facts[i]
                .text(doc, Role::ForeignId)
                .and_then(|f| normalise_id(&f))
            {
                candidates.push(id);
            }
        }
        let held: HashSet<String> = match project_human_ids {
            Some(known) => candidates
                .into_iter()
                .filter(|id| known.contains(id))
                .collect(),
            None => self
                .store
                .find_requirements_by_human_ids(project, &candidates)
                .await?
                .into_iter()
                .map(|r| r.human_id)
                .collect(),
        };
        let mut given: HashSet<String> = HashSet::new();
        let mut human_ids: Vec<String> = vec![String::new(); facts.len()];
        for &i in &order {
            let ident = facts[i].obj.identifier.as_str();
            if let Some(r) = existing.get(ident) {
                human_ids[i] = r.human_id.clone();
                continue;
            }
            let prefix = &modules[object_module[i]].module.prefix;
            if let Some((id, p)) = facts[i]
                .text(doc, Role::ForeignId)
                .and_then(|f| normalise_id(&f))
            {
                if &p == prefix && !held.contains(&id) && given.insert(id.clone()) {
                    human_ids[i] = id;
                }
            }
        }

        // Custom attributes each module needs, and what its definitions become.
        let mut xhtml_attributes: HashSet<String> = HashSet::new();
        let mut downgraded: Vec<String> = Vec::new();
        for mp in &mut modules {
            let mut defs = mp.module.attributes.clone();
            for &i in &mp.sequence {
                let f = &facts[i];
                let mut wanted: Vec<(CustomSpec, String)> = f
                    .customs
                    .iter()
                    .filter_map(|(spec, v)| {
                        let text = value_text(doc, (*v)?);
                        (!text.is_empty()).then(|| (spec.clone(), text))
                    })
                    .collect();
                if let Some(foreign) = f.text(doc, Role::ForeignId).filter(|t| !t.is_empty()) {
                    if normalise_id(&foreign).map(|(id, _)| id) != Some(human_ids[i].clone()) {
                        wanted.push((
                            CustomSpec {
                                name: FOREIGN_ID_ATTRIBUTE.to_owned(),
                                kind: AttributeKind::Text,
                                options: Vec::new(),
                                xhtml: false,
                            },
                            foreign,
                        ));
                    }
                }
                for (spec, text) in wanted {
                    if spec.xhtml {
                        xhtml_attributes.insert(spec.name.clone());
                    }
                    let index = match defs
                        .iter()
                        .position(|d| d.name.eq_ignore_ascii_case(&spec.name))
                    {
                        Some(i) => i,
                        None => {
                            defs.push(AttributeDef {
                                name: spec.name.clone(),
                                kind: spec.kind,
                                options: spec.options.clone(),
                                required: false,
                            });
                            defs.len() - 1
                        }
                    };
                    let is_new = mp
                        .before
                        .as_ref()
                        .is_none_or(|b| b.attribute(&defs[index].name).is_none());
                    let d = &mut defs[index];
                    if d.kind == AttributeKind::Enumeration && !d.options.contains(&text) {
                        d.options.push(text.clone());
                    }
                    // A definition made here takes every value the file has: a "date" that
                    // is not one makes it a text attribute. An existing definition decides.
                    if is_new && d.parse_text(&text).is_err() {
                        if !downgraded.contains(&d.name) {
                            downgraded.push(d.name.clone());
                        }
                        d.kind = AttributeKind::Text;
                        d.options.clear();
                    }
                }
            }
            if let Err(e) = validate_defs(&defs) {
                plan.report.problems.push(format!(
                    "module {}: the attribute definitions would not be valid: {e}",
                    mp.module.prefix
                ));
                continue;
            }
            mp.module.attributes = defs;
        }
        if !downgraded.is_empty() {
            plan.report.notes.push(format!(
                "{} {} values that do not fit the file's type; imported as text",
                downgraded.join(", "),
                if downgraded.len() == 1 { "has" } else { "have" }
            ));
        }
        if !xhtml_attributes.is_empty() {
            let mut names: Vec<_> = xhtml_attributes.into_iter().collect();
            names.sort();
            plan.report.notes.push(format!(
                "rich text (XHTML) of {} is kept as plain text",
                names.join(", ")
            ));
        }

        // The requirements.
        let mut planned: Vec<Option<Requirement>> = vec![None; facts.len()];
        let mut rejected: Vec<Option<Vec<String>>> = vec![None; facts.len()];
        let mut notes: Vec<Vec<String>> = vec![Vec::new(); facts.len()];
        let mut req_ids: HashMap<&str, RequirementId> = HashMap::new();
        for &i in &order {
            let ident = facts[i].obj.identifier.as_str();
            let id = existing
                .get(ident)
                .map_or_else(RequirementId::new, |r| r.id);
            req_ids.insert(ident, id);
        }
        // Parents named outside the file (a module exported alone).
        let mut outside_parents: HashMap<String, RequirementId> = HashMap::new();
        for f in &facts {
            let Some(named) = f.text(doc, Role::Parent).filter(|p| !p.is_empty()) else {
                continue;
            };
            if req_ids.contains_key(named.as_str()) || outside_parents.contains_key(&named) {
                continue;
            }
            let found = match self
                .store
                .find_requirements_by_external_ids(project, std::slice::from_ref(&named))
                .await?
                .into_iter()
                .next()
            {
                Some(r) => Some(r),
                None => match identifier_uuid(&named) {
                    Some(u) => {
                        self.store
                            .find_requirement_by_id(project, RequirementId(u))
                            .await?
                    }
                    None => None,
                },
            };
            if let Some(r) = found {
                outside_parents.insert(named, r.id);
            }
        }
        for &i in &order {
            let f = &facts[i];
            let ident = f.obj.identifier.as_str();
            let mp = &modules[object_module[i]];
            let before = existing.get(ident);
            let mut req = match before {
                Some(b) => b.clone(),
                None => {
                    let mut r = Requirement::blank(project, mp.module.id, now);
                    r.id = req_ids.get(ident).copied().unwrap_or_default();
                    r.revision = 1;
                    r.human_id = human_ids[i].clone();
                    r.external_id = Some(ident.to_owned());
                    r
                }
            };
            let mut input = RequirementInput::default();
            // Statement: plain text, with the markup kept when there is any.
            let mut xhtml: Option<Option<String>> = None;
            if let Some(v) = f.roles.get(&Role::Text) {
                let text = match v {
                    Some(Value::Xhtml(x)) => match plain_from_rendering(x) {
                        Some(plain) => {
                            xhtml = Some(None);
                            plain
                        }
                        None => {
                            let plain = xhtml_to_text(x);
                            xhtml = Some((!x.trim().is_empty()).then(|| x.clone()));
                            plain
                        }
                    },
                    Some(v) => {
                        xhtml = Some(None);
                        value_text(doc, v)
                    }
                    None => {
                        xhtml = Some(None);
                        String::new()
                    }
                };
                input.statement = Some(text);
            }
            let statement = input
                .statement
                .clone()
                .unwrap_or_else(|| req.statement.clone());
            let chapter = f.text(doc, Role::Chapter).unwrap_or_default();
            let raw_title = [
                f.text(doc, Role::Title),
                Some(chapter.clone()),
                f.obj.long_name.clone(),
            ]
            .into_iter()
            .flatten()
            .map(|t| t.trim().to_owned())
            .find(|t| !t.is_empty());
            let title = match raw_title {
                Some(t) => {
                    let short = short_title(&t, 200);
                    if short != t.split_whitespace().collect::<Vec<_>>().join(" ") {
                        notes[i].push("the title is longer than 200 characters; shortened".into());
                    }
                    short
                }
                None if !statement.trim().is_empty() => {
                    short_title(statement.lines().next().unwrap_or_default(), 80)
                }
                None => short_title(ident, 200),
            };
            input.title = Some(title);
            input.kind = f.text(doc, Role::Kind).filter(|k| !k.is_empty());
            if input.kind.is_none() && !chapter.is_empty() && statement.trim().is_empty() {
                input.kind = Some(ReqKind::Heading.as_str().to_owned());
            }
            input.priority = f.text(doc, Role::Priority).filter(|p| !p.is_empty());
            input.rationale = f.text(doc, Role::Rationale);
            input.verification_methods = f.text(doc, Role::Verification);
            input.source = f.text(doc, Role::Source);
            input.owner = f.text(doc, Role::Owner);
            input.tags = f.text(doc, Role::Tags);
            for (spec, v) in &f.customs {
                let text = v.map(|v| value_text(doc, v)).unwrap_or_default();
                if let Some(def) = mp
                    .module
                    .attributes
                    .iter()
                    .find(|d| d.name.eq_ignore_ascii_case(&spec.name))
                {
                    input.attributes.insert(def.name.clone(), text);
                }
            }
            // A foreign id that is not the human id is kept in an attribute (unless the
            // file has an attribute of that name itself).
            if let Some(foreign) = f.text(doc, Role::ForeignId) {
                let keep = !foreign.is_empty()
                    && normalise_id(&foreign).map(|(id, _)| id) != Some(req.human_id.clone());
                if keep && mp.module.attribute(FOREIGN_ID_ATTRIBUTE).is_some() {
                    input
                        .attributes
                        .entry(FOREIGN_ID_ATTRIBUTE.to_owned())
                        .or_insert(foreign);
                }
            }
            let mut errors = FieldErrors::new();
            input.apply(&mut req, &mp.module, &mut errors);
            if let Some(x) = xhtml {
                req.statement_xhtml = x;
            }
            // Parent from the hierarchy; objects in no specification keep theirs. Our export
            // names a parent in another module (outside the hierarchy) in OpenSESA.Parent.
            if let Some((_, parent)) = place.get(ident) {
                req.parent_id = parent.and_then(|p| req_ids.get(p).copied());
            }
            if let Some(named) = f.text(doc, Role::Parent).filter(|p| !p.is_empty()) {
                if place.get(ident).is_none_or(|(_, p)| p.is_none()) {
                    match req_ids.get(named.as_str()) {
                        Some(p) if *p != req.id => req.parent_id = Some(*p),
                        Some(_) => {}
                        None => match outside_parents.get(&named) {
                            Some(p) if *p != req.id => req.parent_id = Some(*p),
                            _ => notes[i].push(format!(
                                "parent {named} is neither in this file nor in this project; left at the top level"
                            )),
                        },
                    }
                }
            }
            if errors.is_empty() {
                planned[i] = Some(req);
            } else {
                rejected[i] = Some(
                    errors
                        .iter()
                        .flat_map(|(field, rs)| rs.iter().map(move |r| format!("{field}: {r}")))
                        .collect(),
                );
                planned[i] = Some(req);
            }
        }
        if doc.spec_objects.iter().any(|o| {
            facts[index.get(o.identifier.as_str()).copied().unwrap_or(0)]
                .roles
                .contains_key(&Role::Status)
        }) {
            plan.report.notes.push(
                "OpenSESA.Status is not imported: the review workflow decides the status".into(),
            );
        }

        // Ordinals of new requirements, in document order among the kept ones.
        for mp in &modules {
            let seq: Vec<Option<i64>> = mp
                .sequence
                .iter()
                .map(|&i| {
                    existing
                        .get(facts[i].obj.identifier.as_str())
                        .map(|r| r.ordinal)
                })
                .collect();
            let mut ordinals = place_new(&seq, mp.ordinal_max).into_iter();
            for &i in &mp.sequence {
                if existing.contains_key(facts[i].obj.identifier.as_str()) {
                    continue;
                }
                if let (Some(r), Some(o)) = (planned[i].as_mut(), ordinals.next()) {
                    r.ordinal = o;
                }
            }
        }

        // Settle: created, updated, unchanged or rejected.
        for &i in &order {
            let ident = facts[i].obj.identifier.as_str();
            let Some(mut req) = planned[i].take() else {
                continue;
            };
            let at = format!("SPEC-OBJECT '{ident}'");
            if let Some(reasons) = rejected[i].take() {
                plan.report.push(ReportItem {
                    what: "requirement".into(),
                    at,
                    id: req.human_id.clone(),
                    title: req.title.clone(),
                    outcome: Outcome::Rejected,
                    details: reasons,
                });
                planned[i] = Some(req);
                continue;
            }
            let mut details = std::mem::take(&mut notes[i]);
            let outcome = match existing.get(ident) {
                Some(b) => match settle_update(&mut req, b, now) {
                    Ok((o, mut more)) => {
                        details.append(&mut more);
                        o
                    }
                    Err(why) => {
                        plan.report.push(ReportItem {
                            what: "requirement".into(),
                            at,
                            id: req.human_id.clone(),
                            title: req.title.clone(),
                            outcome: Outcome::Rejected,
                            details: vec![format!("status: {why}")],
                        });
                        rejected[i] = Some(Vec::new());
                        planned[i] = Some(req);
                        continue;
                    }
                },
                None => Outcome::Created,
            };
            plan.report.push(ReportItem {
                what: "requirement".into(),
                at,
                id: req.human_id.clone(),
                title: req.title.clone(),
                outcome,
                details,
            });
            // The relations below read only an end's id, human id and title: the plan takes
            // the requirement and a copy without its text stays (one copy of a 40 MB file's
            // text in memory, not two).
            let ends = link_end(&req);
            match outcome {
                Outcome::Created => plan.writes.push(PlannedWrite {
                    explicit_id: !req.human_id.is_empty(),
                    req,
                    create: true,
                }),
                Outcome::Updated => {
                    if let Some(b) = existing.get(ident) {
                        plan.before.push(b.clone());
                    }
                    plan.writes.push(PlannedWrite {
                        req,
                        create: false,
                        explicit_id: true,
                    });
                }
                _ => {}
            }
            planned[i] = Some(ends);
        }

        // Modules to write.
        for mp in &modules {
            match &mp.before {
                None => {
                    plan.report.modules.push(ModuleReport {
                        prefix: mp.module.prefix.clone(),
                        name: mp.module.name.clone(),
                        outcome: Outcome::Created,
                        details: mp
                            .module
                            .attributes
                            .iter()
                            .map(|a| format!("attribute {} ({})", a.name, a.kind.as_str()))
                            .collect(),
                    });
                    plan.report.counts.modules_created += 1;
                    plan.modules.push(ModuleWrite {
                        module: mp.module.clone(),
                        before: None,
                    });
                }
                Some(b) if b.snapshot() != mp.module.snapshot() => {
                    let mut m = mp.module.clone();
                    m.revision = b.revision + 1;
                    m.updated_at = now;
                    let added: Vec<String> = m
                        .attributes
                        .iter()
                        .filter(|a| !b.attributes.contains(a))
                        .map(|a| format!("attribute {} ({})", a.name, a.kind.as_str()))
                        .collect();
                    plan.report.modules.push(ModuleReport {
                        prefix: m.prefix.clone(),
                        name: m.name.clone(),
                        outcome: Outcome::Updated,
                        details: added,
                    });
                    plan.report.counts.modules_updated += 1;
                    plan.modules.push(ModuleWrite {
                        module: m,
                        before: Some(b.clone()),
                    });
                }
                Some(b) => plan.report.modules.push(ModuleReport {
                    prefix: b.prefix.clone(),
                    name: b.name.clone(),
                    outcome: Outcome::Unchanged,
                    details: Vec::new(),
                }),
            }
        }

        // Links.
        // The project's links as compact facts (every one: the cycle check walks them all),
        // and the file identifiers of those that came from a file.
        //
        // A planned link's ends are requirements of this file: new ones, which no stored link
        // touches, or stored ones the file updates. When the file updates none, no stored
        // link can be the same as, be replaced by, or close a cycle with a planned one, and
        // the project's links (150,000 in the benchmark project) are not read at all.
        let links = if existing.is_empty() {
            Vec::new()
        } else {
            self.store.link_facts(project).await?
        };
        let relation_ids: HashSet<&str> = doc
            .spec_relations
            .iter()
            .map(|r| r.identifier.as_str())
            .collect();
        let external: HashMap<Uuid, String> = if links.is_empty() {
            HashMap::new()
        } else {
            self.store
                .link_external_ids(project)
                .await?
                .into_iter()
                .filter(|(e, _)| relation_ids.contains(e.as_str()))
                .map(|(e, id)| (id.0, e))
                .collect()
        };
        // Only the stored links a relation can name (by external id or, as our export
        // writes, by `_` + UUID) and those between two requirements of the file are indexed.
        let named: HashSet<Uuid> = doc
            .spec_relations
            .iter()
            .filter_map(|r| identifier_uuid(&r.identifier))
            .collect();
        let file_ends: HashSet<Uuid> = existing.values().map(|r| r.id.0).collect();
        let mut by_id: HashMap<Uuid, usize> = HashMap::new();
        let mut by_external: HashMap<String, usize> = HashMap::new();
        let mut by_triple: HashMap<(LinkKind, Uuid, Uuid), usize> = HashMap::new();
        for (n, l) in links.iter().enumerate() {
            if named.contains(&l.id.0) {
                by_id.insert(l.id.0, n);
            }
            if let Some(e) = external.get(&l.id.0) {
                by_external.insert(e.clone(), n);
            }
            if file_ends.contains(&l.source_id) && file_ends.contains(&l.target_id) {
                by_triple.insert((l.kind, l.source_id, l.target_id), n);
            }
        }
        drop(external);
        // Hierarchy kinds may not close a cycle: edges source → target.
        let mut up: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for l in links.iter().filter(|l| l.kind.hierarchical()) {
            up.entry(l.source_id).or_default().push(l.target_id);
        }
        let mut removed: HashSet<LinkId> = HashSet::new();
        let mut planned_triples: HashMap<(LinkKind, Uuid, Uuid), String> = HashMap::new();
        let planned_of = |ident: &str| -> Option<(&Requirement, bool)> {
            let i = *index.get(ident)?;
            Some((planned[i].as_ref()?, rejected[i].is_some()))
        };
        for rel in &doc.spec_relations {
            let at = format!("SPEC-RELATION '{}'", rel.identifier);
            let kind = doc
                .spec_type(&rel.type_ref)
                .and_then(|t| t.long_name.as_deref())
                .and_then(|n| LinkKind::parse(n).ok())
                .unwrap_or(LinkKind::Relates);
            let (Some((source, s_rejected)), Some((target, t_rejected))) =
                (planned_of(&rel.source), planned_of(&rel.target))
            else {
                plan.report.push(ReportItem {
                    what: "link".into(),
                    at,
                    id: String::new(),
                    title: kind.as_str().into(),
                    outcome: Outcome::Rejected,
                    details: vec!["an end is not a spec object of this file".into()],
                });
                continue;
            };
            let label = format!("{} {} {}", show_id(source), kind.as_str(), show_id(target));
            let reject = |reason: String, plan: &mut Plan| {
                plan.report.push(ReportItem {
                    what: "link".into(),
                    at: at.clone(),
                    id: String::new(),
                    title: label.clone(),
                    outcome: Outcome::Rejected,
                    details: vec![reason],
                })
            };
            if s_rejected || t_rejected {
                reject("an end of the link is rejected".into(), &mut plan);
                continue;
            }
            if source.id == target.id {
                reject(
                    "source and target are the same object; a requirement cannot link to itself"
                        .into(),
                    &mut plan,
                );
                continue;
            }
            let triple = (kind, source.id.0, target.id.0);
            let mut replaces: Option<LinkId> = None;
            let known = by_external
                .get(&rel.identifier)
                .or_else(|| identifier_uuid(&rel.identifier).and_then(|u| by_id.get(&u)))
                .map(|&n| &links[n]);
            if let Some(old) = known {
                if (old.kind, old.source_id, old.target_id) == triple {
                    plan.report.push(ReportItem {
                        what: "link".into(),
                        at,
                        id: String::new(),
                        title: label,
                        outcome: Outcome::Unchanged,
                        details: Vec::new(),
                    });
                    planned_triples.insert(triple, rel.identifier.clone());
                    continue;
                }
                replaces = Some(old.id);
            }
            if let Some(first) = planned_triples.get(&triple) {
                plan.report.push(ReportItem {
                    what: "link".into(),
                    at,
                    id: String::new(),
                    title: label,
                    outcome: Outcome::Unchanged,
                    details: vec![format!("the same link as SPEC-RELATION '{first}'")],
                });
                continue;
            }
            if let Some(&n) = by_triple.get(&triple) {
                if !removed.contains(&links[n].id) {
                    plan.report.push(ReportItem {
                        what: "link".into(),
                        at,
                        id: String::new(),
                        title: label,
                        outcome: Outcome::Unchanged,
                        details: vec!["the link exists already".into()],
                    });
                    planned_triples.insert(triple, rel.identifier.clone());
                    continue;
                }
            }
            if kind.hierarchical() && reaches(&up, target.id.0, source.id.0) {
                reject(
                    format!(
                        "a {} link here would close a cycle in the hierarchy",
                        kind.as_str()
                    ),
                    &mut plan,
                );
                continue;
            }
            if kind.hierarchical() {
                up.entry(source.id.0).or_default().push(target.id.0);
            }
            let mut link = self.new_link(kind, source, target, None);
            link.external_id = Some(rel.identifier.clone());
            planned_triples.insert(triple, rel.identifier.clone());
            let outcome = match replaces {
                Some(old) => {
                    removed.insert(old);
                    plan.remove_links.push(old);
                    Outcome::Updated
                }
                None => Outcome::Created,
            };
            plan.add_links.push(link);
            plan.report.push(ReportItem {
                what: "link".into(),
                at,
                id: String::new(),
                title: label,
                outcome,
                details: if outcome == Outcome::Updated {
                    vec!["the kind or the ends changed: the old link is replaced".into()]
                } else {
                    Vec::new()
                },
            });
        }
        Ok(plan)
    }
}

impl App {
    /// The largest ordinal in a module (0 when empty): the last row of the module in
    /// document order, rather than all of its requirements.
    async fn max_ordinal(&self, project: ProjectId, module: ModuleId) -> AppResult<i64> {
        let last = self
            .store
            .list_requirements(&ReqQuery {
                project_id: Some(project),
                module_id: Some(module),
                sort: Some("ordinal".into()),
                dir: SortDir::Desc,
                limit: 1,
                ..Default::default()
            })
            .await?;
        Ok(last.rows.first().map_or(0, |r| r.req.ordinal))
    }
}

/// A planned requirement as a relation end: its ids and title, without its text and
/// attributes.
fn link_end(r: &Requirement) -> Requirement {
    Requirement {
        id: r.id,
        project_id: r.project_id,
        module_id: r.module_id,
        human_id: r.human_id.clone(),
        title: r.title.clone(),
        statement: String::new(),
        statement_xhtml: None,
        rationale: String::new(),
        kind: r.kind,
        priority: r.priority,
        verification_methods: Vec::new(),
        source: String::new(),
        owner: String::new(),
        tags: Vec::new(),
        attributes: Default::default(),
        parent_id: r.parent_id,
        ordinal: r.ordinal,
        status: r.status,
        revision: r.revision,
        approved_revision: r.approved_revision,
        external_id: None,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn show_id(r: &Requirement) -> String {
    if r.human_id.is_empty() {
        format!("(new) {}", short_title(&r.title, 40))
    } else {
        r.human_id.clone()
    }
}

/// Is `to` reachable from `from` along `edges`?
fn reaches(edges: &HashMap<Uuid, Vec<Uuid>>, from: Uuid, to: Uuid) -> bool {
    let mut stack = vec![from];
    let mut seen: HashSet<Uuid> = HashSet::new();
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if !seen.insert(n) {
            continue;
        }
        if let Some(next) = edges.get(&n) {
            stack.extend(next.iter().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_made_valid() {
        assert_eq!(
            attribute_name("ReqIF.ForeignCreatedOn"),
            "ReqIF_ForeignCreatedOn"
        );
        assert_eq!(attribute_name("Status"), "ReqIF Status");
        assert_eq!(attribute_name("  "), "Attribute");
        assert!(AttributeDef {
            name: attribute_name("TC1000 Enum MultiValue"),
            kind: AttributeKind::Text,
            options: Vec::new(),
            required: false
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn the_export_names_are_recognised() {
        use super::super::reqif_out::*;
        for (role, name) in [
            (Role::ForeignId, FOREIGN_ID),
            (Role::Title, NAME),
            (Role::Chapter, CHAPTER),
            (Role::Text, TEXT),
            (Role::Rationale, RATIONALE),
            (Role::Kind, TYPE),
            (Role::Priority, PRIORITY),
            (Role::Verification, VERIFICATION),
            (Role::Source, SOURCE),
            (Role::Owner, OWNER),
            (Role::Tags, TAGS),
            (Role::Status, STATUS),
            (Role::Parent, PARENT),
        ] {
            let names = ROLES.iter().find(|(r, _)| *r == role).map(|(_, n)| *n);
            assert_eq!(
                names.and_then(|n| n.first()).copied(),
                Some(name.to_lowercase().as_str())
            );
        }
    }

    #[test]
    fn prefixes_from_names() {
        assert_eq!(initials("System Requirements Specification"), "SRS");
        assert_eq!(initials("Software"), "SOFT");
        assert_eq!(initials("123"), "REQ");
    }

    #[test]
    fn roles_take_the_best_name() {
        let defs: Vec<(String, String)> = [
            ("a", "Title"),
            ("b", "ReqIF.Name"),
            ("c", "ReqIF.Text"),
            ("d", "Priority"),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        let r = roles_of(&defs);
        assert_eq!(r.by_role.get(&Role::Title).map(String::as_str), Some("b"));
        assert_eq!(r.by_role.get(&Role::Text).map(String::as_str), Some("c"));
        assert_eq!(r.customs, vec!["a".to_owned(), "d".to_owned()]);
    }
}
