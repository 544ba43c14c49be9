//! Completion before writing: what an export needs to pass the ReqIF schema, added to (a copy
//! of) a document the reader accepted, so that exporting an imported document never fails.
//!
//! The reader keeps references to types, datatypes, attribute definitions and enumeration
//! values as written, even when the file does not define what they name (as the `reqif`
//! library does). The schema makes those references `xsd:IDREF`s, which must resolve, so for
//! every such reference that names no identifiable of the document the export supplies:
//!
//! * for the `TYPE` of an object, relation or specification: a `SPEC-OBJECT-TYPE`,
//!   `SPEC-RELATION-TYPE` or `SPECIFICATION-TYPE` with that identifier (and as `LONG-NAME`).
//!   A specification without a type (empty `type_ref`) gets a generated
//!   `SPECIFICATION-TYPE` `_opensesa-specification-type`;
//! * for the `TYPE` of an attribute definition: a `DATATYPE-DEFINITION-*` of the definition's
//!   kind, named after the reference;
//! * for the `DEFINITION` of a value: an `ATTRIBUTE-DEFINITION-*` of the value's kind, named
//!   after the reference, in the type of the object, relation or specification; its datatype
//!   is a generated one per kind (`_opensesa-datatype-string`, …);
//! * for an `ENUM-VALUE-REF`: an `ENUM-VALUE` named after the reference, in the datatype of the
//!   value's attribute definition when that is an enumeration, else in the generated
//!   `_opensesa-datatype-enumeration`.
//!
//! What the schema cannot carry is left out: an `ATTRIBUTE-VALUE-DATE` or a date default that
//! is not an `xsd:dateTime` (the writer cannot invent the date), a default of another kind
//! than its definition, a `LAST-CHANGE` or `CREATION-TIME` that is not an `xsd:dateTime` (the
//! writer puts the export time there), and the tags (not the content) of XHTML elements
//! outside the schema's XHTML modules; XHTML that is not a single `p` or `div` is wrapped in a
//! `div`, the only shape the schema allows. Identifiers and references that are not `xsd:ID`s,
//! such as UUIDs starting with a digit, are renamed consistently everywhere: `_` in front,
//! characters a name cannot hold replaced by `_`, a number appended if the name is taken.
//!
//! Generated names never collide with an identifier or reference of the document. A document
//! that needs none of this, such as one OpenSESA builds, is written as it is, without a copy.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::lexical::{is_datetime, is_ncname};
use super::model::{
    AttributeDefinition, AttributeValue, Datatype, DatatypeKind, EnumValue, Hierarchy,
    ReqifDocument, SpecType, SpecTypeCategory, Value, ValueKind,
};
use super::xhtml;

/// The document as it will be written: `doc` itself when it needs nothing, else a completed
/// copy.
pub(crate) fn complete(doc: &ReqifDocument) -> Cow<'_, ReqifDocument> {
    let plan = Plan::make(doc);
    if plan.is_empty() {
        Cow::Borrowed(doc)
    } else {
        Cow::Owned(plan.apply(doc))
    }
}

/// Something the document has (by index into its list) or the plan adds (by index into the
/// plan's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Home {
    Existing(usize),
    Added(usize),
}

/// Every identifier and reference of a document, for choosing names nobody uses.
struct Namer<'a> {
    taken: HashSet<&'a str>,
    generated: HashSet<String>,
}

impl<'a> Namer<'a> {
    fn new(doc: &'a ReqifDocument) -> Self {
        let mut taken = HashSet::new();
        for_each_name(doc, |name| {
            taken.insert(name);
        });
        Namer {
            taken,
            generated: HashSet::new(),
        }
    }

    /// An `xsd:ID` made from `base` that is neither in the document nor generated before.
    fn fresh(&mut self, base: &str) -> String {
        let name = ncname_from(base);
        let mut candidate = name.clone();
        let mut n = 2u64;
        while self.taken.contains(candidate.as_str()) || self.generated.contains(&candidate) {
            candidate = format!("{name}-{n}");
            n += 1;
        }
        self.generated.insert(candidate.clone());
        candidate
    }
}

/// `base` made a valid `NCName`: `_` in front unless it starts with a letter or `_`, every
/// character a name cannot hold replaced by `_`.
fn ncname_from(base: &str) -> String {
    let mut name = String::with_capacity(base.len() + 1);
    if !base
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_alphabetic())
    {
        name.push('_');
    }
    for c in base.chars() {
        let allowed = c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '\u{B7}');
        name.push(if allowed { c } else { '_' });
    }
    name
}

struct Plan<'a> {
    doc: &'a ReqifDocument,
    namer: Namer<'a>,
    /// Identifiers of the document.
    ids: HashSet<&'a str>,
    /// Identifiers of what the plan adds.
    added: HashSet<String>,
    datatypes: HashMap<&'a str, usize>,
    spec_types: HashMap<&'a str, usize>,
    attributes: HashMap<&'a str, (usize, usize)>,
    new_datatypes: Vec<Datatype>,
    new_datatype_index: HashMap<String, usize>,
    /// Enumeration values for the document's datatypes.
    new_enum_values: Vec<(usize, EnumValue)>,
    new_types: Vec<SpecType>,
    new_type_index: HashMap<String, usize>,
    /// Attribute definitions with the type they go into.
    new_attributes: Vec<(Home, AttributeDefinition)>,
    new_attribute_index: HashMap<String, usize>,
    /// The generated datatype of each kind, in `new_datatypes`.
    generated_datatypes: HashMap<ValueKind, usize>,
    /// The generated type of each category that holds attribute definitions of owners whose
    /// `TYPE` names something that is not a spec type, in `new_types`.
    fallback_types: HashMap<SpecTypeCategory, usize>,
    /// The type given to specifications without one.
    untyped_specifications: Option<String>,
    renames: HashMap<String, String>,
    /// Whether something must be left out (see `has_unwritable`).
    unwritable: bool,
}

impl<'a> Plan<'a> {
    fn make(doc: &'a ReqifDocument) -> Self {
        let mut plan = Plan {
            doc,
            namer: Namer::new(doc),
            ids: HashSet::new(),
            added: HashSet::new(),
            datatypes: HashMap::new(),
            spec_types: HashMap::new(),
            attributes: HashMap::new(),
            new_datatypes: Vec::new(),
            new_datatype_index: HashMap::new(),
            new_enum_values: Vec::new(),
            new_types: Vec::new(),
            new_type_index: HashMap::new(),
            new_attributes: Vec::new(),
            new_attribute_index: HashMap::new(),
            generated_datatypes: HashMap::new(),
            fallback_types: HashMap::new(),
            untyped_specifications: None,
            renames: HashMap::new(),
            unwritable: has_unwritable(doc),
        };
        plan.index();
        plan.definitions();
        for object in &doc.spec_objects {
            let home = plan.type_home(&object.type_ref, SpecTypeCategory::Object);
            plan.values(home, SpecTypeCategory::Object, &object.values);
        }
        for relation in &doc.spec_relations {
            let home = plan.type_home(&relation.type_ref, SpecTypeCategory::Relation);
            plan.values(home, SpecTypeCategory::Relation, &relation.values);
        }
        for specification in &doc.specifications {
            let category = SpecTypeCategory::Specification;
            let home = if specification.type_ref.is_empty() {
                Some(plan.untyped_specification_type())
            } else {
                plan.type_home(&specification.type_ref, category)
            };
            plan.values(home, category, &specification.values);
        }
        plan.renames();
        plan
    }

    fn is_empty(&self) -> bool {
        self.new_datatypes.is_empty()
            && self.new_enum_values.is_empty()
            && self.new_types.is_empty()
            && self.new_attributes.is_empty()
            && self.untyped_specifications.is_none()
            && self.renames.is_empty()
            && !self.unwritable
    }

    fn index(&mut self) {
        let doc = self.doc;
        if !doc.header.identifier.is_empty() {
            self.ids.insert(&doc.header.identifier);
        }
        for (d, datatype) in doc.datatypes.iter().enumerate() {
            self.ids.insert(&datatype.identifier);
            self.datatypes.entry(&datatype.identifier).or_insert(d);
            if let DatatypeKind::Enumeration { values } = &datatype.kind {
                self.ids
                    .extend(values.iter().map(|v| v.identifier.as_str()));
            }
        }
        for (t, spec_type) in doc.spec_types.iter().enumerate() {
            self.ids.insert(&spec_type.identifier);
            self.spec_types.entry(&spec_type.identifier).or_insert(t);
            for (a, attribute) in spec_type.attributes.iter().enumerate() {
                self.ids.insert(&attribute.identifier);
                self.attributes
                    .entry(&attribute.identifier)
                    .or_insert((t, a));
            }
        }
        self.ids
            .extend(doc.spec_objects.iter().map(|o| o.identifier.as_str()));
        self.ids
            .extend(doc.spec_relations.iter().map(|r| r.identifier.as_str()));
        for specification in &doc.specifications {
            self.ids.insert(&specification.identifier);
            let mut stack: Vec<&'a Hierarchy> = specification.children.iter().collect();
            while let Some(node) = stack.pop() {
                self.ids.insert(&node.identifier);
                stack.extend(node.children.iter());
            }
        }
    }

    fn is_defined(&self, id: &str) -> bool {
        self.ids.contains(id) || self.added.contains(id)
    }

    /// The datatypes the document's attribute definitions miss, and the enumeration values
    /// their defaults miss.
    fn definitions(&mut self) {
        let doc = self.doc;
        for attribute in doc.spec_types.iter().flat_map(|t| &t.attributes) {
            if !self.is_defined(&attribute.datatype_ref) {
                self.add_datatype(attribute.datatype_ref.clone(), attribute.kind);
            }
        }
        for attribute in doc.spec_types.iter().flat_map(|t| &t.attributes) {
            if let Some(Value::Enumeration(refs)) = &attribute.default {
                if attribute.kind == ValueKind::Enumeration {
                    self.enum_refs(&attribute.identifier, refs);
                }
            }
        }
    }

    fn add_datatype(&mut self, identifier: String, kind: ValueKind) -> usize {
        let kind = match kind {
            ValueKind::String => DatatypeKind::String { max_length: None },
            ValueKind::Integer => DatatypeKind::Integer {
                min: None,
                max: None,
            },
            ValueKind::Real => DatatypeKind::Real {
                accuracy: None,
                min: None,
                max: None,
            },
            ValueKind::Boolean => DatatypeKind::Boolean,
            ValueKind::Date => DatatypeKind::Date,
            ValueKind::Xhtml => DatatypeKind::Xhtml,
            ValueKind::Enumeration => DatatypeKind::Enumeration { values: Vec::new() },
        };
        let index = self.new_datatypes.len();
        self.added.insert(identifier.clone());
        self.new_datatype_index.insert(identifier.clone(), index);
        self.new_datatypes.push(Datatype {
            long_name: Some(identifier.clone()),
            identifier,
            kind,
        });
        index
    }

    fn generated_datatype(&mut self, kind: ValueKind) -> usize {
        if let Some(&index) = self.generated_datatypes.get(&kind) {
            return index;
        }
        let suffix = kind.reqif_suffix().to_ascii_lowercase();
        let identifier = self.namer.fresh(&format!("_opensesa-datatype-{suffix}"));
        let index = self.add_datatype(identifier, kind);
        self.generated_datatypes.insert(kind, index);
        index
    }

    fn add_type(&mut self, identifier: String, category: SpecTypeCategory) -> usize {
        let index = self.new_types.len();
        self.added.insert(identifier.clone());
        self.new_type_index.insert(identifier.clone(), index);
        self.new_types.push(SpecType {
            long_name: Some(identifier.clone()),
            identifier,
            category,
            attributes: Vec::new(),
        });
        index
    }

    fn untyped_specification_type(&mut self) -> Home {
        if let Some(index) = self
            .untyped_specifications
            .as_ref()
            .and_then(|id| self.new_type_index.get(id))
        {
            return Home::Added(*index);
        }
        let identifier = self.namer.fresh("_opensesa-specification-type");
        self.untyped_specifications = Some(identifier.clone());
        Home::Added(self.add_type(identifier, SpecTypeCategory::Specification))
    }

    /// The spec type an owner's missing attribute definitions go into, adding the type
    /// `type_ref` names if the document lacks it. `None` when `type_ref` names something
    /// else (a generated type of the category takes them then).
    fn type_home(&mut self, type_ref: &str, category: SpecTypeCategory) -> Option<Home> {
        if let Some(&t) = self.spec_types.get(type_ref) {
            return Some(Home::Existing(t));
        }
        if let Some(&i) = self.new_type_index.get(type_ref) {
            return Some(Home::Added(i));
        }
        if self.is_defined(type_ref) {
            return None;
        }
        Some(Home::Added(self.add_type(type_ref.to_owned(), category)))
    }

    fn fallback_type(&mut self, category: SpecTypeCategory) -> Home {
        if let Some(&index) = self.fallback_types.get(&category) {
            return Home::Added(index);
        }
        let base = match category {
            SpecTypeCategory::Object => "_opensesa-object-type",
            SpecTypeCategory::Relation => "_opensesa-relation-type",
            SpecTypeCategory::Specification => "_opensesa-specification-type",
            SpecTypeCategory::RelationGroup => "_opensesa-relation-group-type",
        };
        let identifier = self.namer.fresh(base);
        let index = self.add_type(identifier, category);
        self.fallback_types.insert(category, index);
        Home::Added(index)
    }

    /// The attribute definitions and enumeration values an owner's values miss.
    fn values(
        &mut self,
        home: Option<Home>,
        category: SpecTypeCategory,
        values: &[AttributeValue],
    ) {
        for value in values.iter().filter(|v| writable_value(&v.value)) {
            let definition = value.definition_ref.as_str();
            let refs = match &value.value {
                Value::Enumeration(refs) => Some(refs),
                _ => None,
            };
            let many = refs.is_some_and(|refs| refs.len() > 1);
            if let Some(&k) = self.new_attribute_index.get(definition) {
                if let Some((_, added)) = self.new_attributes.get_mut(k) {
                    added.multi_valued |= many && added.kind == ValueKind::Enumeration;
                }
            } else if !self.is_defined(definition) {
                let home = match home {
                    Some(home) => home,
                    None => self.fallback_type(category),
                };
                let kind = value.value.kind();
                let datatype = self.generated_datatype(kind);
                let datatype_ref = self
                    .new_datatypes
                    .get(datatype)
                    .map(|d| d.identifier.clone())
                    .unwrap_or_default();
                self.added.insert(definition.to_owned());
                self.new_attribute_index
                    .insert(definition.to_owned(), self.new_attributes.len());
                let attribute = AttributeDefinition {
                    identifier: definition.to_owned(),
                    long_name: Some(definition.to_owned()),
                    datatype_ref,
                    kind,
                    default: None,
                    multi_valued: many && kind == ValueKind::Enumeration,
                };
                self.new_attributes.push((home, attribute));
            }
            if let Some(refs) = refs {
                self.enum_refs(definition, refs);
            }
        }
    }

    /// Adds the enumeration values of `refs` that are missing, to the datatype of the
    /// attribute definition `definition`.
    fn enum_refs(&mut self, definition: &str, refs: &[String]) {
        let mut home = None;
        for value_ref in refs {
            if self.is_defined(value_ref) {
                continue;
            }
            let datatype = match home {
                Some(datatype) => datatype,
                None => *home.insert(self.enum_home(definition)),
            };
            self.added.insert(value_ref.clone());
            let value = EnumValue {
                identifier: value_ref.clone(),
                long_name: Some(value_ref.clone()),
                key: None,
            };
            match datatype {
                Home::Existing(d) => self.new_enum_values.push((d, value)),
                Home::Added(i) => {
                    if let Some(DatatypeKind::Enumeration { values }) =
                        self.new_datatypes.get_mut(i).map(|d| &mut d.kind)
                    {
                        values.push(value);
                    }
                }
            }
        }
    }

    /// The enumeration datatype of the attribute definition `definition`, or the generated
    /// one when it has none.
    fn enum_home(&mut self, definition: &str) -> Home {
        let doc = self.doc;
        let datatype_ref = match self.attributes.get(definition) {
            Some(&(t, a)) => doc
                .spec_types
                .get(t)
                .and_then(|t| t.attributes.get(a))
                .map(|a| a.datatype_ref.as_str()),
            None => self
                .new_attribute_index
                .get(definition)
                .and_then(|&k| self.new_attributes.get(k))
                .map(|(_, a)| a.datatype_ref.as_str()),
        };
        let is_enumeration = |kind: &DatatypeKind| matches!(kind, DatatypeKind::Enumeration { .. });
        if let Some(datatype_ref) = datatype_ref {
            if let Some(&d) = self.datatypes.get(datatype_ref) {
                if doc
                    .datatypes
                    .get(d)
                    .is_some_and(|d| is_enumeration(&d.kind))
                {
                    return Home::Existing(d);
                }
            } else if let Some(&i) = self.new_datatype_index.get(datatype_ref) {
                if self
                    .new_datatypes
                    .get(i)
                    .is_some_and(|d| is_enumeration(&d.kind))
                {
                    return Home::Added(i);
                }
            }
        }
        Home::Added(self.generated_datatype(ValueKind::Enumeration))
    }

    /// New names for the identifiers and references that are not `xsd:ID`s.
    fn renames(&mut self) {
        let mut invalid: Vec<&'a str> = Vec::new();
        for_each_name(self.doc, |name| {
            if !is_ncname(name) {
                invalid.push(name);
            }
        });
        for name in invalid {
            if !self.renames.contains_key(name) {
                let new = self.namer.fresh(name);
                self.renames.insert(name.to_owned(), new);
            }
        }
    }

    fn apply(self, doc: &ReqifDocument) -> ReqifDocument {
        let mut out = doc.clone();
        if self.unwritable {
            leave_out_unwritable(&mut out);
        }
        for (d, value) in self.new_enum_values {
            if let Some(DatatypeKind::Enumeration { values }) =
                out.datatypes.get_mut(d).map(|d| &mut d.kind)
            {
                values.push(value);
            }
        }
        let mut new_types = self.new_types;
        for (home, attribute) in self.new_attributes {
            let spec_type = match home {
                Home::Existing(t) => out.spec_types.get_mut(t),
                Home::Added(i) => new_types.get_mut(i),
            };
            if let Some(spec_type) = spec_type {
                spec_type.attributes.push(attribute);
            }
        }
        out.datatypes.extend(self.new_datatypes);
        out.spec_types.extend(new_types);
        if let Some(type_ref) = &self.untyped_specifications {
            for specification in &mut out.specifications {
                if specification.type_ref.is_empty() {
                    specification.type_ref.clone_from(type_ref);
                }
            }
        }
        if !self.renames.is_empty() {
            rename_all(&mut out, &self.renames);
        }
        out
    }
}

/// Whether the writer can put `value` into `THE-VALUE` (dates must be `xsd:dateTime`s).
fn writable_value(value: &Value) -> bool {
    match value {
        Value::Date(time) => is_datetime(time),
        _ => true,
    }
}

fn writable_time(time: Option<&str>) -> bool {
    time.is_none_or(is_datetime)
}

fn writable_default(attribute: &AttributeDefinition) -> bool {
    attribute
        .default
        .as_ref()
        .is_none_or(|d| d.kind() == attribute.kind && writable_value(d) && writable_xhtml(d))
}

fn writable_xhtml(value: &Value) -> bool {
    match value {
        Value::Xhtml(markup) => xhtml::for_export(markup).is_none(),
        _ => true,
    }
}

/// Whether `doc` has something the schema cannot carry (see `leave_out_unwritable`).
fn has_unwritable(doc: &ReqifDocument) -> bool {
    let values_ok = |values: &[AttributeValue]| {
        values
            .iter()
            .all(|v| writable_value(&v.value) && writable_xhtml(&v.value))
    };
    !writable_time(doc.header.creation_time.as_deref())
        || !doc
            .spec_types
            .iter()
            .flat_map(|t| &t.attributes)
            .all(writable_default)
        || !doc
            .spec_objects
            .iter()
            .all(|o| writable_time(o.last_change.as_deref()) && values_ok(&o.values))
        || !doc.spec_relations.iter().all(|r| values_ok(&r.values))
        || !doc.specifications.iter().all(|s| values_ok(&s.values))
}

/// Leaves out what `has_unwritable` finds: dates that are not dates, defaults of the wrong
/// kind, the tags of XHTML elements the schema does not allow; and wraps XHTML in a `div`
/// where the schema requires one.
fn leave_out_unwritable(doc: &mut ReqifDocument) {
    if !writable_time(doc.header.creation_time.as_deref()) {
        doc.header.creation_time = None;
    }
    for attribute in doc.spec_types.iter_mut().flat_map(|t| &mut t.attributes) {
        if let Some(default) = &mut attribute.default {
            fix_xhtml(default);
        }
        if !writable_default(attribute) {
            attribute.default = None;
        }
    }
    let fix_values = |values: &mut Vec<AttributeValue>| {
        values.retain(|v| writable_value(&v.value));
        for value in values {
            fix_xhtml(&mut value.value);
        }
    };
    for object in &mut doc.spec_objects {
        if !writable_time(object.last_change.as_deref()) {
            object.last_change = None;
        }
        fix_values(&mut object.values);
    }
    for relation in &mut doc.spec_relations {
        fix_values(&mut relation.values);
    }
    for specification in &mut doc.specifications {
        fix_values(&mut specification.values);
    }
}

fn fix_xhtml(value: &mut Value) {
    if let Value::Xhtml(markup) = value {
        if let Some(fixed) = xhtml::for_export(markup) {
            *markup = fixed;
        }
    }
}

/// Calls `f` with every identifier and every reference in `doc` (not the empty header
/// identifier nor the empty type of an untyped specification, which stand for "none").
fn for_each_name<'a>(doc: &'a ReqifDocument, mut f: impl FnMut(&'a str)) {
    if !doc.header.identifier.is_empty() {
        f(&doc.header.identifier);
    }
    let values = |values: &'a [AttributeValue], f: &mut dyn FnMut(&'a str)| {
        for value in values {
            f(&value.definition_ref);
            if let Value::Enumeration(refs) = &value.value {
                refs.iter().for_each(|r| f(r));
            }
        }
    };
    for datatype in &doc.datatypes {
        f(&datatype.identifier);
        if let DatatypeKind::Enumeration { values } = &datatype.kind {
            values.iter().for_each(|v| f(&v.identifier));
        }
    }
    for spec_type in &doc.spec_types {
        f(&spec_type.identifier);
        for attribute in &spec_type.attributes {
            f(&attribute.identifier);
            f(&attribute.datatype_ref);
            if let Some(Value::Enumeration(refs)) = &attribute.default {
                refs.iter().for_each(|r| f(r));
            }
        }
    }
    for object in &doc.spec_objects {
        f(&object.identifier);
        f(&object.type_ref);
        values(&object.values, &mut f);
    }
    for relation in &doc.spec_relations {
        f(&relation.identifier);
        f(&relation.type_ref);
        f(&relation.source);
        f(&relation.target);
        values(&relation.values, &mut f);
    }
    for specification in &doc.specifications {
        f(&specification.identifier);
        if !specification.type_ref.is_empty() {
            f(&specification.type_ref);
        }
        values(&specification.values, &mut f);
        let mut stack: Vec<&'a Hierarchy> = specification.children.iter().collect();
        while let Some(node) = stack.pop() {
            f(&node.identifier);
            f(&node.object_ref);
            stack.extend(node.children.iter());
        }
    }
}

/// Replaces every identifier and reference of `doc` that `renames` has a new name for (the
/// same fields as `for_each_name`).
fn rename_all(doc: &mut ReqifDocument, renames: &HashMap<String, String>) {
    let rename = |name: &mut String| {
        if let Some(new) = renames.get(name.as_str()) {
            name.clone_from(new);
        }
    };
    let values = |values: &mut [AttributeValue]| {
        for value in values {
            rename(&mut value.definition_ref);
            if let Value::Enumeration(refs) = &mut value.value {
                refs.iter_mut().for_each(rename);
            }
        }
    };
    if !doc.header.identifier.is_empty() {
        rename(&mut doc.header.identifier);
    }
    for datatype in &mut doc.datatypes {
        rename(&mut datatype.identifier);
        if let DatatypeKind::Enumeration { values } = &mut datatype.kind {
            values.iter_mut().for_each(|v| rename(&mut v.identifier));
        }
    }
    for spec_type in &mut doc.spec_types {
        rename(&mut spec_type.identifier);
        for attribute in &mut spec_type.attributes {
            rename(&mut attribute.identifier);
            rename(&mut attribute.datatype_ref);
            if let Some(Value::Enumeration(refs)) = &mut attribute.default {
                refs.iter_mut().for_each(rename);
            }
        }
    }
    for object in &mut doc.spec_objects {
        rename(&mut object.identifier);
        rename(&mut object.type_ref);
        values(&mut object.values);
    }
    for relation in &mut doc.spec_relations {
        rename(&mut relation.identifier);
        rename(&mut relation.type_ref);
        rename(&mut relation.source);
        rename(&mut relation.target);
        values(&mut relation.values);
    }
    for specification in &mut doc.specifications {
        rename(&mut specification.identifier);
        if !specification.type_ref.is_empty() {
            rename(&mut specification.type_ref);
        }
        values(&mut specification.values);
        let mut stack: Vec<&mut Hierarchy> = specification.children.iter_mut().collect();
        while let Some(node) = stack.pop() {
            rename(&mut node.identifier);
            rename(&mut node.object_ref);
            stack.extend(node.children.iter_mut());
        }
    }
}
