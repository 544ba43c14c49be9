//! The ReqIF content model: what a `.reqif` file says, with references kept as identifiers.
//! A document returned by `read` has every identifier unique and every reference to a spec
//! object (relation ends, hierarchy nodes) resolved; one built in memory is checked the same
//! way by `write`. References to spec types, datatypes, attribute definitions and enumeration
//! values are kept as the file wrote them and may name nothing in the document (the lookups
//! then return `None`) or something of another kind: a value's kind is its own
//! ([`Value::kind`]), not its definition's.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// Deepest `SPEC-HIERARCHY` nesting read or written (the reader descends recursively, so
/// this bounds its stack; real specifications nest a dozen levels).
pub(crate) const MAX_HIERARCHY_DEPTH: usize = 200;

/// `THE-HEADER/REQ-IF-HEADER`. The identifier is empty when the file has no header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub identifier: String,
    pub title: Option<String>,
    pub comment: Option<String>,
    pub req_if_tool_id: Option<String>,
    pub source_tool_id: Option<String>,
    /// `xsd:dateTime`, kept as written; from a file it may not be one.
    pub creation_time: Option<String>,
}

/// The seven kinds of ReqIF values, shared by datatypes, attribute definitions and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    String,
    Integer,
    Real,
    Boolean,
    Date,
    Xhtml,
    Enumeration,
}

impl ValueKind {
    /// The suffix ReqIF element names use for this kind (`ATTRIBUTE-VALUE-<SUFFIX>`).
    pub fn reqif_suffix(self) -> &'static str {
        match self {
            ValueKind::String => "STRING",
            ValueKind::Integer => "INTEGER",
            ValueKind::Real => "REAL",
            ValueKind::Boolean => "BOOLEAN",
            ValueKind::Date => "DATE",
            ValueKind::Xhtml => "XHTML",
            ValueKind::Enumeration => "ENUMERATION",
        }
    }

    /// The kind named by a ReqIF element suffix (`"STRING"` → `String`).
    pub fn from_reqif_suffix(suffix: &str) -> Option<ValueKind> {
        Some(match suffix {
            "STRING" => ValueKind::String,
            "INTEGER" => ValueKind::Integer,
            "REAL" => ValueKind::Real,
            "BOOLEAN" => ValueKind::Boolean,
            "DATE" => ValueKind::Date,
            "XHTML" => ValueKind::Xhtml,
            "ENUMERATION" => ValueKind::Enumeration,
            _ => return None,
        })
    }
}

/// `DATATYPE-DEFINITION-*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datatype {
    pub identifier: String,
    pub long_name: Option<String>,
    pub kind: DatatypeKind,
}

/// The kind of a datatype with its constraints. Constraints the schema requires but a file
/// left out are `None`; the writer then emits the widest value (see `write`).
#[derive(Debug, Clone, PartialEq)]
pub enum DatatypeKind {
    String {
        max_length: Option<u64>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Real {
        accuracy: Option<u32>,
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    Date,
    Xhtml,
    Enumeration {
        values: Vec<EnumValue>,
    },
}

impl DatatypeKind {
    pub fn value_kind(&self) -> ValueKind {
        match self {
            DatatypeKind::String { .. } => ValueKind::String,
            DatatypeKind::Integer { .. } => ValueKind::Integer,
            DatatypeKind::Real { .. } => ValueKind::Real,
            DatatypeKind::Boolean => ValueKind::Boolean,
            DatatypeKind::Date => ValueKind::Date,
            DatatypeKind::Xhtml => ValueKind::Xhtml,
            DatatypeKind::Enumeration { .. } => ValueKind::Enumeration,
        }
    }
}

/// `ENUM-VALUE`; `key` is `PROPERTIES/EMBEDDED-VALUE/@KEY` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    pub identifier: String,
    pub long_name: Option<String>,
    pub key: Option<String>,
}

/// Which of the four `SPEC-TYPES` a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecTypeCategory {
    Object,
    Relation,
    Specification,
    RelationGroup,
}

impl SpecTypeCategory {
    /// The ReqIF element name (`SPEC-OBJECT-TYPE`, …).
    pub fn element_name(self) -> &'static str {
        match self {
            SpecTypeCategory::Object => "SPEC-OBJECT-TYPE",
            SpecTypeCategory::Relation => "SPEC-RELATION-TYPE",
            SpecTypeCategory::Specification => "SPECIFICATION-TYPE",
            SpecTypeCategory::RelationGroup => "RELATION-GROUP-TYPE",
        }
    }
}

/// `SPEC-OBJECT-TYPE`, `SPEC-RELATION-TYPE`, `SPECIFICATION-TYPE` or `RELATION-GROUP-TYPE`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecType {
    pub identifier: String,
    pub long_name: Option<String>,
    pub category: SpecTypeCategory,
    pub attributes: Vec<AttributeDefinition>,
}

/// `ATTRIBUTE-DEFINITION-*` inside a spec type's `SPEC-ATTRIBUTES`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDefinition {
    pub identifier: String,
    pub long_name: Option<String>,
    /// May name no datatype of the document (see the module documentation).
    pub datatype_ref: String,
    pub kind: ValueKind,
    pub default: Option<Value>,
    /// `MULTI-VALUED` (only meaningful for enumerations).
    pub multi_valued: bool,
}

/// `SPEC-OBJECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecObject {
    pub identifier: String,
    pub long_name: Option<String>,
    /// `LAST-CHANGE` (`xsd:dateTime`) as written; from a file it may not be one.
    pub last_change: Option<String>,
    /// May name no spec type of the document.
    pub type_ref: String,
    pub values: Vec<AttributeValue>,
}

/// `SPEC-RELATION` from `source` to `target` (both spec object identifiers).
#[derive(Debug, Clone, PartialEq)]
pub struct SpecRelation {
    pub identifier: String,
    pub long_name: Option<String>,
    pub type_ref: String,
    pub source: String,
    pub target: String,
    pub values: Vec<AttributeValue>,
}

/// `SPECIFICATION`: a document, its structure being the tree of `children`.
#[derive(Debug, Clone, PartialEq)]
pub struct Specification {
    pub identifier: String,
    pub long_name: Option<String>,
    /// Empty when the file's `SPECIFICATION` has no `TYPE` (the schema requires one, files in
    /// the wild omit it); otherwise it may name no spec type of the document.
    pub type_ref: String,
    pub values: Vec<AttributeValue>,
    pub children: Vec<Hierarchy>,
}

/// `SPEC-HIERARCHY`: one node of a specification's tree, placing a spec object.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    pub identifier: String,
    pub object_ref: String,
    pub long_name: Option<String>,
    pub children: Vec<Hierarchy>,
}

/// `ATTRIBUTE-VALUE-*`: a value for the attribute definition `definition_ref`, which may not
/// be in the document (the value then still has its kind, from its element name).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeValue {
    pub definition_ref: String,
    pub value: Value,
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    Real(f64),
    Boolean(bool),
    /// `xsd:dateTime`, kept as written. Read from a file it may be any text (an anonymised
    /// export has "aaa"): check with a date parser before treating it as a date. The writer
    /// leaves out a date that is not an `xsd:dateTime`.
    Date(String),
    /// Identifiers of `ENUM-VALUE`s (which may not be in the document).
    Enumeration(Vec<String>),
    /// The content of `THE-VALUE` as XHTML markup with element names unprefixed (whatever
    /// prefix the file bound to the XHTML namespace), comments dropped, outer whitespace
    /// trimmed, e.g. `<div><p>Delay &lt;= 5s</p></div>`.
    Xhtml(String),
}

impl Value {
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::String(_) => ValueKind::String,
            Value::Integer(_) => ValueKind::Integer,
            Value::Real(_) => ValueKind::Real,
            Value::Boolean(_) => ValueKind::Boolean,
            Value::Date(_) => ValueKind::Date,
            Value::Enumeration(_) => ValueKind::Enumeration,
            Value::Xhtml(_) => ValueKind::Xhtml,
        }
    }
}

/// One node of [`ReqifDocument::walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HierarchyEntry<'a> {
    /// Index into `ReqifDocument::specifications`.
    pub specification: usize,
    /// 0 for the specification's top-level nodes.
    pub depth: usize,
    /// The `SPEC-HIERARCHY` identifier.
    pub identifier: &'a str,
    pub object_ref: &'a str,
    /// The parent node's object, `None` at the top level.
    pub parent: Option<&'a str>,
    /// Position among its siblings, from 0.
    pub position: usize,
}

/// A whole ReqIF document.
///
/// Construct one with [`ReqifDocument::new`] or `Default` and fill the public fields; a lookup
/// index is built on the first lookup.
#[derive(Clone, Default)]
pub struct ReqifDocument {
    pub header: Header,
    pub datatypes: Vec<Datatype>,
    pub spec_types: Vec<SpecType>,
    pub spec_objects: Vec<SpecObject>,
    pub spec_relations: Vec<SpecRelation>,
    pub specifications: Vec<Specification>,
    /// Identifier → position, built lazily. Every hit is checked against the field it points
    /// into and every miss falls back to a scan, so edits after the first lookup cost speed,
    /// never correctness.
    index: OnceLock<Index>,
}

#[derive(Clone, Default)]
struct Index {
    /// The lengths of (spec objects, spec types, datatypes) when the index was built: a miss
    /// is trusted while they are unchanged, and only a document edited since falls back to a
    /// scan (a miss must not cost a scan each time, or resolving many references is quadratic).
    shape: (usize, usize, usize),
    objects: HashMap<Box<str>, usize>,
    spec_types: HashMap<Box<str>, usize>,
    attributes: HashMap<Box<str>, (usize, usize)>,
    enum_values: HashMap<Box<str>, (usize, usize)>,
}

impl Index {
    fn build(doc: &ReqifDocument) -> Index {
        let mut index = Index {
            shape: doc.shape(),
            ..Index::default()
        };
        for (i, object) in doc.spec_objects.iter().enumerate() {
            index.objects.insert(object.identifier.as_str().into(), i);
        }
        for (t, spec_type) in doc.spec_types.iter().enumerate() {
            index
                .spec_types
                .insert(spec_type.identifier.as_str().into(), t);
            for (a, attribute) in spec_type.attributes.iter().enumerate() {
                index
                    .attributes
                    .insert(attribute.identifier.as_str().into(), (t, a));
            }
        }
        for (d, datatype) in doc.datatypes.iter().enumerate() {
            if let DatatypeKind::Enumeration { values } = &datatype.kind {
                for (v, value) in values.iter().enumerate() {
                    index
                        .enum_values
                        .insert(value.identifier.as_str().into(), (d, v));
                }
            }
        }
        index
    }
}

impl ReqifDocument {
    pub fn new(header: Header) -> Self {
        Self {
            header,
            ..Self::default()
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(self))
    }

    fn shape(&self) -> (usize, usize, usize) {
        (
            self.spec_objects.len(),
            self.spec_types.len(),
            self.datatypes.len(),
        )
    }

    /// Whether the document changed size since its index was built.
    fn stale(&self) -> bool {
        self.index().shape != self.shape()
    }

    /// The spec object with this identifier.
    pub fn object(&self, id: &str) -> Option<&SpecObject> {
        let hit = self.index().objects.get(id).copied();
        hit.and_then(|i| self.spec_objects.get(i))
            .filter(|o| o.identifier == id)
            .or_else(|| {
                self.stale()
                    .then(|| self.spec_objects.iter().find(|o| o.identifier == id))
                    .flatten()
            })
    }

    /// The spec type (of any category) with this identifier.
    pub fn spec_type(&self, id: &str) -> Option<&SpecType> {
        let hit = self.index().spec_types.get(id).copied();
        hit.and_then(|i| self.spec_types.get(i))
            .filter(|t| t.identifier == id)
            .or_else(|| {
                self.stale()
                    .then(|| self.spec_types.iter().find(|t| t.identifier == id))
                    .flatten()
            })
    }

    /// The attribute definition with this identifier and the spec type that holds it.
    pub fn attribute_definition(&self, id: &str) -> Option<(&SpecType, &AttributeDefinition)> {
        let at = |(t, a): (usize, usize)| {
            let spec_type = self.spec_types.get(t)?;
            Some((spec_type, spec_type.attributes.get(a)?))
        };
        let hit = self.index().attributes.get(id).copied();
        hit.and_then(at)
            .filter(|(_, a)| a.identifier == id)
            .or_else(|| {
                if !self.stale() {
                    return None;
                }
                self.spec_types.iter().find_map(|t| {
                    let a = t.attributes.iter().find(|a| a.identifier == id)?;
                    Some((t, a))
                })
            })
    }

    /// The `LONG-NAME` of the enumeration value with this identifier.
    pub fn enum_value_name(&self, value_id: &str) -> Option<&str> {
        self.enum_value(value_id)?.long_name.as_deref()
    }

    fn enum_value(&self, value_id: &str) -> Option<&EnumValue> {
        let at = |(d, v): (usize, usize)| match &self.datatypes.get(d)?.kind {
            DatatypeKind::Enumeration { values } => values.get(v),
            _ => None,
        };
        let hit = self.index().enum_values.get(value_id).copied();
        hit.and_then(at)
            .filter(|v| v.identifier == value_id)
            .or_else(|| {
                if !self.stale() {
                    return None;
                }
                self.datatypes.iter().find_map(|d| match &d.kind {
                    DatatypeKind::Enumeration { values } => {
                        values.iter().find(|v| v.identifier == value_id)
                    }
                    _ => None,
                })
            })
    }

    /// Depth-first (pre-order) walk of every specification's hierarchy, in document order.
    pub fn walk(&self) -> Vec<HierarchyEntry<'_>> {
        let mut entries = Vec::new();
        for (specification, spec) in self.specifications.iter().enumerate() {
            // An explicit stack rather than recursion: trees built in memory may be deep.
            let mut stack: Vec<(&Hierarchy, usize, Option<&str>, usize)> = Vec::new();
            push_children(&mut stack, &spec.children, 0, None);
            while let Some((node, depth, parent, position)) = stack.pop() {
                entries.push(HierarchyEntry {
                    specification,
                    depth,
                    identifier: &node.identifier,
                    object_ref: &node.object_ref,
                    parent,
                    position,
                });
                push_children(
                    &mut stack,
                    &node.children,
                    depth + 1,
                    Some(&node.object_ref),
                );
            }
        }
        entries
    }
}

/// Pushes `children` so that popping yields them first to last.
fn push_children<'a>(
    stack: &mut Vec<(&'a Hierarchy, usize, Option<&'a str>, usize)>,
    children: &'a [Hierarchy],
    depth: usize,
    parent: Option<&'a str>,
) {
    let numbered = children.iter().enumerate().rev();
    stack.extend(numbered.map(|(position, child)| (child, depth, parent, position)));
}

impl PartialEq for ReqifDocument {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.datatypes == other.datatypes
            && self.spec_types == other.spec_types
            && self.spec_objects == other.spec_objects
            && self.spec_relations == other.spec_relations
            && self.specifications == other.specifications
    }
}

impl fmt::Debug for ReqifDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqifDocument")
            .field("header", &self.header)
            .field("datatypes", &self.datatypes)
            .field("spec_types", &self.spec_types)
            .field("spec_objects", &self.spec_objects)
            .field("spec_relations", &self.spec_relations)
            .field("specifications", &self.specifications)
            .finish_non_exhaustive()
    }
}
