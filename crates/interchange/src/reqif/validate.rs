//! Consistency of a whole document: unique identifiers, and references to spec objects (the
//! ends of relations, the objects of hierarchy nodes) that resolve. Run after reading (with
//! the positions the reader recorded, so errors point into the file) and before writing
//! (without positions).
//!
//! References to types, datatypes, attribute definitions and enumeration values are not
//! checked: like the `reqif` library, the reader keeps them as written even when they point
//! nowhere (feature snippets and partial exports do that), and the writer supplies what they
//! miss (see `complete`).

use std::collections::{HashMap, HashSet};

use super::error::{Pos, ReqifError};
use super::model::{DatatypeKind, Hierarchy, ReqifDocument};

/// A place in the model that an error can be about, by indices. Hierarchy nodes are numbered
/// in document order across all specifications (which is pre-order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Site {
    Header,
    Datatype(usize),
    EnumValue(usize, usize),
    SpecType(usize),
    Attribute(usize, usize),
    Object(usize),
    Relation(usize),
    RelationSource(usize),
    RelationTarget(usize),
    Specification(usize),
    Hierarchy(usize),
    HierarchyObject(usize),
}

/// Where in the file each site was, recorded by the reader.
#[derive(Default)]
pub(crate) struct SourceMap(HashMap<Site, Pos>);

impl SourceMap {
    pub fn put(&mut self, site: Site, pos: Pos) {
        self.0.insert(site, pos);
    }
}

pub(crate) fn check(doc: &ReqifDocument, map: Option<&SourceMap>) -> Result<(), ReqifError> {
    let checker = Checker { doc, map };
    let tables = checker.tables()?;
    // Links between objects: a dangling one loses a trace link or a place in a document.
    checker.relation_ends(&tables)?;
    checker.hierarchy_objects(&tables)
}

/// Identifier lookups, borrowed from the document.
#[derive(Default)]
struct Tables<'a> {
    objects: HashSet<&'a str>,
}

struct Checker<'a> {
    doc: &'a ReqifDocument,
    map: Option<&'a SourceMap>,
}

impl<'a> Checker<'a> {
    fn pos(&self, site: Site) -> Option<Pos> {
        self.map.and_then(|map| map.0.get(&site).copied())
    }

    fn error(&self, site: Site, message: String) -> ReqifError {
        ReqifError::at_opt(self.pos(site), message)
    }

    /// Builds the lookups and rejects duplicate identifiers: `xsd:ID` makes every identifier
    /// unique in the whole document, whatever it identifies.
    fn tables(&self) -> Result<Tables<'a>, ReqifError> {
        let doc = self.doc;
        let mut seen: HashMap<&'a str, Site> = HashMap::new();
        let mut claim = |id: &'a str, site: Site| match seen.insert(id, site) {
            None => Ok(()),
            Some(first) => Err(self.duplicate(id, site, first)),
        };
        let mut tables = Tables::default();
        if !doc.header.identifier.is_empty() {
            claim(&doc.header.identifier, Site::Header)?;
        }
        for (d, datatype) in doc.datatypes.iter().enumerate() {
            claim(&datatype.identifier, Site::Datatype(d))?;
            if let DatatypeKind::Enumeration { values } = &datatype.kind {
                for (v, value) in values.iter().enumerate() {
                    claim(&value.identifier, Site::EnumValue(d, v))?;
                }
            }
        }
        for (t, spec_type) in doc.spec_types.iter().enumerate() {
            claim(&spec_type.identifier, Site::SpecType(t))?;
            for (a, attribute) in spec_type.attributes.iter().enumerate() {
                claim(&attribute.identifier, Site::Attribute(t, a))?;
            }
        }
        for (o, object) in doc.spec_objects.iter().enumerate() {
            claim(&object.identifier, Site::Object(o))?;
            tables.objects.insert(&object.identifier);
        }
        for (r, relation) in doc.spec_relations.iter().enumerate() {
            claim(&relation.identifier, Site::Relation(r))?;
        }
        for (s, specification) in doc.specifications.iter().enumerate() {
            claim(&specification.identifier, Site::Specification(s))?;
        }
        for (h, (_, node)) in preorder(doc).into_iter().enumerate() {
            claim(&node.identifier, Site::Hierarchy(h))?;
        }
        Ok(tables)
    }

    fn duplicate(&self, id: &str, site: Site, first: Site) -> ReqifError {
        let earlier = match self.pos(first) {
            Some(pos) => format!(" (first used at line {}, column {})", pos.line, pos.column),
            None => String::new(),
        };
        self.error(site, format!("duplicate IDENTIFIER '{id}'{earlier}"))
    }

    fn relation_ends(&self, tables: &Tables<'a>) -> Result<(), ReqifError> {
        for (r, relation) in self.doc.spec_relations.iter().enumerate() {
            let ends = [
                ("SOURCE", &relation.source, Site::RelationSource(r)),
                ("TARGET", &relation.target, Site::RelationTarget(r)),
            ];
            for (end, object_ref, site) in ends {
                if !tables.objects.contains(object_ref.as_str()) {
                    let message = format!(
                        "SPEC-RELATION '{}': {end} refers to unknown SPEC-OBJECT '{object_ref}'",
                        relation.identifier
                    );
                    return Err(self.error(site, message));
                }
            }
        }
        Ok(())
    }

    fn hierarchy_objects(&self, tables: &Tables<'a>) -> Result<(), ReqifError> {
        for (h, (s, node)) in preorder(self.doc).into_iter().enumerate() {
            if !tables.objects.contains(node.object_ref.as_str()) {
                let specification = self
                    .doc
                    .specifications
                    .get(s)
                    .map(|s| s.identifier.as_str());
                let message = format!(
                    "SPEC-HIERARCHY '{}' in SPECIFICATION '{}' refers to unknown SPEC-OBJECT '{}'",
                    node.identifier,
                    specification.unwrap_or_default(),
                    node.object_ref
                );
                return Err(self.error(Site::HierarchyObject(h), message));
            }
        }
        Ok(())
    }
}

/// Every hierarchy node with the index of its specification, in document (pre-)order: the
/// numbering `Site::Hierarchy` uses.
fn preorder(doc: &ReqifDocument) -> Vec<(usize, &Hierarchy)> {
    let mut nodes = Vec::new();
    for (s, specification) in doc.specifications.iter().enumerate() {
        let mut stack: Vec<&Hierarchy> = specification.children.iter().rev().collect();
        while let Some(node) = stack.pop() {
            nodes.push((s, node));
            stack.extend(node.children.iter().rev());
        }
    }
    nodes
}
