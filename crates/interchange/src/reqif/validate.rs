//! Consistency of a whole document: unique identifiers and references that resolve to the
//! right kind of thing. Run after reading (with the positions the reader recorded, so errors
//! point into the file) and before writing (without positions).

use std::collections::{HashMap, HashSet};

use super::error::{Pos, ReqifError};
use super::model::{
    AttributeDefinition, AttributeValue, DatatypeKind, Hierarchy, ReqifDocument, SpecTypeCategory,
    Value,
};

/// Whose `VALUES` a value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    Object(usize),
    Relation(usize),
    Specification(usize),
}

/// A place in the model that an error can be about, by indices. Hierarchy nodes are numbered
/// in document order across all specifications (which is pre-order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Site {
    Header,
    Datatype(usize),
    EnumValue(usize, usize),
    SpecType(usize),
    Attribute(usize, usize),
    AttributeType(usize, usize),
    Object(usize),
    ObjectType(usize),
    Relation(usize),
    RelationType(usize),
    RelationSource(usize),
    RelationTarget(usize),
    Specification(usize),
    SpecificationType(usize),
    Hierarchy(usize),
    HierarchyObject(usize),
    Value(Owner, usize),
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
    // Links between objects first: a dangling one loses a trace link or a place in a
    // document, the most consequential kind of inconsistency, so it is the one reported.
    checker.relation_ends(&tables)?;
    checker.hierarchy_objects(&tables)?;
    checker.attribute_definitions(&tables)?;
    checker.objects(&tables)?;
    checker.relations(&tables)?;
    checker.specifications(&tables)
}

/// Identifier lookups, borrowed from the document.
#[derive(Default)]
struct Tables<'a> {
    datatypes: HashMap<&'a str, usize>,
    /// Enumeration value → index of its datatype.
    enum_values: HashMap<&'a str, usize>,
    spec_types: HashMap<&'a str, usize>,
    attributes: HashMap<&'a str, (usize, usize)>,
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
            tables.datatypes.insert(&datatype.identifier, d);
            if let DatatypeKind::Enumeration { values } = &datatype.kind {
                for (v, value) in values.iter().enumerate() {
                    claim(&value.identifier, Site::EnumValue(d, v))?;
                    tables.enum_values.insert(&value.identifier, d);
                }
            }
        }
        for (t, spec_type) in doc.spec_types.iter().enumerate() {
            claim(&spec_type.identifier, Site::SpecType(t))?;
            tables.spec_types.insert(&spec_type.identifier, t);
            for (a, attribute) in spec_type.attributes.iter().enumerate() {
                claim(&attribute.identifier, Site::Attribute(t, a))?;
                tables.attributes.insert(&attribute.identifier, (t, a));
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

    fn attribute_definitions(&self, tables: &Tables<'a>) -> Result<(), ReqifError> {
        for (t, spec_type) in self.doc.spec_types.iter().enumerate() {
            for (a, attribute) in spec_type.attributes.iter().enumerate() {
                self.attribute_definition(tables, attribute, t, a)?;
            }
        }
        Ok(())
    }

    fn attribute_definition(
        &self,
        tables: &Tables<'a>,
        attribute: &AttributeDefinition,
        t: usize,
        a: usize,
    ) -> Result<(), ReqifError> {
        let kind = attribute.kind.reqif_suffix();
        let what = format!("ATTRIBUTE-DEFINITION-{kind} '{}'", attribute.identifier);
        let datatype = tables
            .datatypes
            .get(attribute.datatype_ref.as_str())
            .and_then(|&d| self.doc.datatypes.get(d));
        let Some(datatype) = datatype else {
            let message = format!(
                "{what} refers to unknown datatype '{}'",
                attribute.datatype_ref
            );
            return Err(self.error(Site::AttributeType(t, a), message));
        };
        let actual = datatype.kind.value_kind();
        if actual != attribute.kind {
            let message = format!(
                "{what} refers to DATATYPE-DEFINITION-{} '{}'; expected a DATATYPE-DEFINITION-{kind}",
                actual.reqif_suffix(),
                datatype.identifier
            );
            return Err(self.error(Site::AttributeType(t, a), message));
        }
        let Some(default) = &attribute.default else {
            return Ok(());
        };
        let site = Site::Attribute(t, a);
        if default.kind() != attribute.kind {
            let message = format!(
                "DEFAULT-VALUE of {what} is an ATTRIBUTE-VALUE-{}",
                default.kind().reqif_suffix()
            );
            return Err(self.error(site, message));
        }
        match default {
            Value::Enumeration(refs) => {
                let what = format!("DEFAULT-VALUE of {what}");
                self.enum_refs(tables, attribute, refs, site, &what)
            }
            _ => Ok(()),
        }
    }

    /// The spec type `type_ref` names, which must be of `category`.
    fn spec_type(
        &self,
        tables: &Tables<'a>,
        category: SpecTypeCategory,
        what: &str,
        type_ref: &str,
        site: Site,
    ) -> Result<usize, ReqifError> {
        let expected = category.element_name();
        let Some(&t) = tables.spec_types.get(type_ref) else {
            let message = format!("{what} refers to unknown {expected} '{type_ref}'");
            return Err(self.error(site, message));
        };
        let found = self.doc.spec_types.get(t).map(|s| s.category);
        match found {
            Some(found) if found == category => Ok(t),
            Some(found) => {
                let message = format!(
                    "{what} has TYPE '{type_ref}', which is a {}, not a {expected}",
                    found.element_name()
                );
                Err(self.error(site, message))
            }
            None => Err(self.error(site, format!("{what} refers to unknown {expected}"))),
        }
    }

    /// Each value must be for an attribute of the owner's type, of the same kind, and name
    /// enumeration values of that attribute's datatype.
    fn values(
        &self,
        tables: &Tables<'a>,
        owner: Owner,
        what: &str,
        spec_type: usize,
        values: &[AttributeValue],
    ) -> Result<(), ReqifError> {
        for (j, value) in values.iter().enumerate() {
            let site = Site::Value(owner, j);
            let kind = value.value.kind().reqif_suffix();
            let element = format!("ATTRIBUTE-VALUE-{kind} in {what}");
            let definition_ref = value.definition_ref.as_str();
            let found = tables.attributes.get(definition_ref).and_then(|&(t, a)| {
                let owner_type = self.doc.spec_types.get(t)?;
                Some((t, owner_type, owner_type.attributes.get(a)?))
            });
            let Some((t, definition_type, definition)) = found else {
                let message =
                    format!("{element} refers to unknown attribute definition '{definition_ref}'");
                return Err(self.error(site, message));
            };
            if t != spec_type {
                let message = format!(
                    "{element} refers to attribute definition '{definition_ref}' of {} '{}', \
                     which is not the type of the {what}",
                    definition_type.category.element_name(),
                    definition_type.identifier
                );
                return Err(self.error(site, message));
            }
            if definition.kind != value.value.kind() {
                let message = format!(
                    "{element} refers to ATTRIBUTE-DEFINITION-{} '{definition_ref}'",
                    definition.kind.reqif_suffix()
                );
                return Err(self.error(site, message));
            }
            if let Value::Enumeration(refs) = &value.value {
                self.enum_refs(tables, definition, refs, site, &element)?;
            }
        }
        Ok(())
    }

    fn enum_refs(
        &self,
        tables: &Tables<'a>,
        definition: &AttributeDefinition,
        refs: &[String],
        site: Site,
        what: &str,
    ) -> Result<(), ReqifError> {
        let datatype = tables
            .datatypes
            .get(definition.datatype_ref.as_str())
            .copied();
        for value_ref in refs {
            match tables.enum_values.get(value_ref.as_str()).copied() {
                Some(d) if Some(d) == datatype => {}
                Some(_) => {
                    let message = format!(
                        "{what} uses ENUM-VALUE '{value_ref}', which is not a value of \
                         DATATYPE-DEFINITION-ENUMERATION '{}'",
                        definition.datatype_ref
                    );
                    return Err(self.error(site, message));
                }
                None => {
                    let message = format!("{what} refers to unknown ENUM-VALUE '{value_ref}'");
                    return Err(self.error(site, message));
                }
            }
        }
        Ok(())
    }

    fn objects(&self, tables: &Tables<'a>) -> Result<(), ReqifError> {
        for (o, object) in self.doc.spec_objects.iter().enumerate() {
            let what = format!("SPEC-OBJECT '{}'", object.identifier);
            let category = SpecTypeCategory::Object;
            let site = Site::ObjectType(o);
            let t = self.spec_type(tables, category, &what, &object.type_ref, site)?;
            self.values(tables, Owner::Object(o), &what, t, &object.values)?;
        }
        Ok(())
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

    fn relations(&self, tables: &Tables<'a>) -> Result<(), ReqifError> {
        for (r, relation) in self.doc.spec_relations.iter().enumerate() {
            let what = format!("SPEC-RELATION '{}'", relation.identifier);
            let category = SpecTypeCategory::Relation;
            let site = Site::RelationType(r);
            let t = self.spec_type(tables, category, &what, &relation.type_ref, site)?;
            self.values(tables, Owner::Relation(r), &what, t, &relation.values)?;
        }
        Ok(())
    }

    fn specifications(&self, tables: &Tables<'a>) -> Result<(), ReqifError> {
        for (s, specification) in self.doc.specifications.iter().enumerate() {
            let what = format!("SPECIFICATION '{}'", specification.identifier);
            let category = SpecTypeCategory::Specification;
            let site = Site::SpecificationType(s);
            let t = self.spec_type(tables, category, &what, &specification.type_ref, site)?;
            let owner = Owner::Specification(s);
            self.values(tables, owner, &what, t, &specification.values)?;
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
