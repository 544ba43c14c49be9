//! The streaming reader: a recursive descent over the XML events that builds the model
//! directly and records where each identifiable and each reference to a spec object was, for
//! the consistency check that follows (references may point forward, so they can only be
//! checked at the end).
//!
//! Elements the reader does not know, or finds where they do not belong, are skipped with
//! their content, as the `reqif` library does; so are elements of other namespaces.

use std::io::Read;

use super::error::{Pos, ReqifError};
use super::lexical::{
    is_blank, parse_boolean, parse_double, parse_integer, parse_unsigned, trim_xml,
};
use super::model::{
    AttributeDefinition, AttributeValue, Datatype, DatatypeKind, EnumValue, Hierarchy,
    ReqifDocument, SpecObject, SpecRelation, SpecType, SpecTypeCategory, Specification, Value,
    ValueKind, MAX_HIERARCHY_DEPTH,
};
use super::source::Source;
use super::validate::{self, Site, SourceMap};
use super::xhtml;
use super::xml::{Node, Ns, Tag, XmlIn};
use super::{REQIF_DRAFT_NAMESPACE, REQIF_NAMESPACE, XHTML_NAMESPACE};

type Result<T> = std::result::Result<T, ReqifError>;

pub(crate) fn parse(input: impl Read) -> Result<ReqifDocument> {
    let source = Source::open(input)?;
    let mut parser = Parser {
        xml: XmlIn::new(source),
        doc: ReqifDocument::default(),
        map: SourceMap::default(),
        hierarchies: 0,
    };
    parser.document()?;
    validate::check(&parser.doc, Some(&parser.map))?;
    Ok(parser.doc)
}

struct Parser<R: Read> {
    xml: XmlIn<R>,
    doc: ReqifDocument,
    map: SourceMap,
    /// Hierarchy nodes seen so far: the pre-order number of the next one.
    hierarchies: usize,
}

/// `SPEC-OBJECT 'id'`, for messages.
fn describe(tag: &Tag) -> String {
    format!("{} '{}'", tag.name, tag.attr("IDENTIFIER").unwrap_or("?"))
}

fn required_id(tag: &Tag) -> Result<String> {
    match tag.attr("IDENTIFIER").map(trim_xml) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(ReqifError::at(
            tag.pos,
            format!("<{}> has no IDENTIFIER", tag.name),
        )),
    }
}

fn long_name(tag: &Tag) -> Option<String> {
    tag.attr("LONG-NAME").map(str::to_owned)
}

/// An optional numeric attribute; present but unparsable is an error.
fn number_attr<T>(tag: &Tag, key: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>> {
    let Some(raw) = tag.attr(key) else {
        return Ok(None);
    };
    match parse(raw) {
        Some(value) => Ok(Some(value)),
        None => {
            let message = format!("{}: {key}=\"{raw}\" is not a valid number", describe(tag));
            Err(ReqifError::at(tag.pos, message))
        }
    }
}

fn missing(tag: &Tag, child: &str) -> ReqifError {
    ReqifError::at(tag.pos, format!("{} has no {child}", describe(tag)))
}

fn check_root(tag: Tag) -> Result<Tag> {
    if tag.name == "REQ-IF" && tag.ns == Ns::ReqIf {
        return Ok(tag);
    }
    let namespace = match &tag.ns {
        Ns::ReqIf => format!("namespace {REQIF_NAMESPACE}"),
        Ns::Xhtml => format!("namespace {XHTML_NAMESPACE}"),
        Ns::None => "no namespace".to_owned(),
        Ns::Other(uri) => format!("namespace {uri}"),
    };
    let message = format!(
        "the root element is <{}> in {namespace}; a ReqIF document is a <REQ-IF> in \
         namespace {REQIF_NAMESPACE} (or {REQIF_DRAFT_NAMESPACE})",
        tag.name
    );
    Err(ReqifError::at(tag.pos, message))
}

/// A simple value from its `THE-VALUE` attribute, `None` if it does not parse. Dates are kept
/// as written, whatever they look like (the `reqif` library does not check them either; an
/// anonymised export has "aaa" there).
fn simple_value(kind: ValueKind, raw: &str) -> Option<Value> {
    match kind {
        ValueKind::String => Some(Value::String(raw.to_owned())),
        ValueKind::Integer => parse_integer(raw).map(Value::Integer),
        ValueKind::Real => parse_double(raw).map(Value::Real),
        ValueKind::Boolean => parse_boolean(raw).map(Value::Boolean),
        ValueKind::Date => Some(Value::Date(trim_xml(raw).to_owned())),
        ValueKind::Xhtml | ValueKind::Enumeration => None,
    }
}

fn lexical_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Integer => "integer (xsd:integer within 64 bits)",
        ValueKind::Real => "real number (xsd:double)",
        ValueKind::Boolean => "boolean (true, false, 1 or 0)",
        _ => "value",
    }
}

/// The kind named by an element like `ATTRIBUTE-VALUE-STRING` for `prefix` `ATTRIBUTE-VALUE-`.
fn kind_of(tag: &Tag, prefix: &str) -> Option<ValueKind> {
    tag.name
        .strip_prefix(prefix)
        .and_then(ValueKind::from_reqif_suffix)
}

fn category_of(tag: &Tag) -> Option<SpecTypeCategory> {
    Some(match tag.name.as_str() {
        "SPEC-OBJECT-TYPE" => SpecTypeCategory::Object,
        "SPEC-RELATION-TYPE" => SpecTypeCategory::Relation,
        "SPECIFICATION-TYPE" => SpecTypeCategory::Specification,
        "RELATION-GROUP-TYPE" => SpecTypeCategory::RelationGroup,
        _ => return None,
    })
}

/// Generic traversal.
impl<R: Read> Parser<R> {
    /// Hands each ReqIF child element of `parent` to `on_child`, which must consume it
    /// (read it or `skip` it: unknown and misplaced elements are skipped, not refused).
    /// Elements of other namespaces are tool extensions: skipped here.
    fn children(
        &mut self,
        parent: &Tag,
        mut on_child: impl FnMut(&mut Self, Tag) -> Result<()>,
    ) -> Result<()> {
        if parent.empty {
            return Ok(());
        }
        loop {
            match self.xml.next()? {
                Node::Open(tag) if tag.is_reqif() => on_child(self, tag)?,
                Node::Open(tag) => self.skip(&tag)?,
                Node::Close => return Ok(()),
                Node::Text(_) => {}
                Node::Eof => return Err(self.unclosed(parent)),
            }
        }
    }

    fn unclosed(&self, tag: &Tag) -> ReqifError {
        let message = format!(
            "unexpected end of the document: <{}> opened at line {}, column {} is not closed",
            tag.name, tag.pos.line, tag.pos.column
        );
        ReqifError::at(self.xml.pos(), message)
    }

    /// Consumes an element we do not read, iteratively (its content may be deep).
    fn skip(&mut self, tag: &Tag) -> Result<()> {
        if tag.empty {
            return Ok(());
        }
        let mut depth = 1usize;
        while depth > 0 {
            match self.xml.next()? {
                Node::Open(child) if !child.empty => depth += 1,
                Node::Close => depth -= 1,
                Node::Open(_) | Node::Text(_) => {}
                Node::Eof => return Err(self.unclosed(tag)),
            }
        }
        Ok(())
    }

    /// The text content of a leaf element (child elements, which it should not have, are
    /// skipped with their content).
    fn text(&mut self, tag: &Tag) -> Result<String> {
        let mut text = String::new();
        if tag.empty {
            return Ok(text);
        }
        loop {
            match self.xml.next()? {
                Node::Text(part) => text.push_str(&part),
                Node::Close => return Ok(text),
                Node::Open(child) => self.skip(&child)?,
                Node::Eof => return Err(self.unclosed(tag)),
            }
        }
    }

    /// The one `*-REF` inside a reference container such as `TYPE`, with its position.
    fn single_ref(&mut self, container: &Tag, what: &str) -> Result<(String, Pos)> {
        let mut found: Option<(String, Pos)> = None;
        self.children(container, |p, reference| {
            if !reference.name.ends_with("-REF") {
                return p.skip(&reference);
            }
            if found.is_some() {
                let message = format!(
                    "<{}> of {what} holds more than one reference",
                    container.name
                );
                return Err(ReqifError::at(reference.pos, message));
            }
            let text = p.text(&reference)?;
            found = Some((trim_xml(&text).to_owned(), reference.pos));
            Ok(())
        })?;
        match found {
            Some((id, pos)) if !id.is_empty() => Ok((id, pos)),
            _ => {
                let message = format!("<{}> of {what} holds no reference", container.name);
                Err(ReqifError::at(container.pos, message))
            }
        }
    }
}

/// Document structure.
impl<R: Read> Parser<R> {
    fn document(&mut self) -> Result<()> {
        let root = self.root()?;
        self.children(&root, |p, child| match child.name.as_str() {
            "THE-HEADER" => p.the_header(&child),
            "CORE-CONTENT" => p.core_content(&child),
            // TOOL-EXTENSIONS and strays.
            _ => p.skip(&child),
        })?;
        self.epilogue()
    }

    fn root(&mut self) -> Result<Tag> {
        loop {
            match self.xml.next()? {
                Node::Open(tag) => return check_root(tag),
                Node::Text(text) if is_blank(&text) => {}
                Node::Text(_) | Node::Close => {
                    let message = "content before the root element";
                    return Err(ReqifError::at(self.xml.pos(), message));
                }
                Node::Eof => {
                    let message = "the document has no root element";
                    return Err(ReqifError::at(self.xml.pos(), message));
                }
            }
        }
    }

    /// Only whitespace (and comments) may follow the root element.
    fn epilogue(&mut self) -> Result<()> {
        loop {
            let pos = self.xml.pos();
            match self.xml.next()? {
                Node::Eof => return Ok(()),
                Node::Text(text) if is_blank(&text) => {}
                _ => return Err(ReqifError::at(pos, "content after the root element")),
            }
        }
    }

    fn the_header(&mut self, tag: &Tag) -> Result<()> {
        self.children(tag, |p, child| match child.name.as_str() {
            "REQ-IF-HEADER" => p.header(&child),
            _ => p.skip(&child),
        })
    }

    fn header(&mut self, tag: &Tag) -> Result<()> {
        self.doc.header.identifier = required_id(tag)?;
        self.map.put(Site::Header, tag.pos);
        self.children(tag, |p, child| {
            let name = child.name.as_str();
            if !matches!(
                name,
                "COMMENT" | "CREATION-TIME" | "REQ-IF-TOOL-ID" | "SOURCE-TOOL-ID" | "TITLE"
            ) {
                // REQ-IF-VERSION, REPOSITORY-ID and strays: not kept.
                return p.skip(&child);
            }
            let text = p.text(&child)?;
            let header = &mut p.doc.header;
            match name {
                "COMMENT" => header.comment = Some(text),
                "REQ-IF-TOOL-ID" => header.req_if_tool_id = Some(text),
                "SOURCE-TOOL-ID" => header.source_tool_id = Some(text),
                "TITLE" => header.title = Some(text),
                // Kept as written, like every date (the writer replaces one that is not an
                // xsd:dateTime).
                _ => header.creation_time = Some(trim_xml(&text).to_owned()),
            }
            Ok(())
        })
    }

    fn core_content(&mut self, tag: &Tag) -> Result<()> {
        self.children(tag, |p, child| match child.name.as_str() {
            "REQ-IF-CONTENT" => p.content(&child),
            _ => p.skip(&child),
        })
    }

    /// `REQ-IF-CONTENT`. The schema fixes the order of the sections; files in the wild do
    /// not keep it, and references are resolved at the end anyway, so any order is read.
    fn content(&mut self, tag: &Tag) -> Result<()> {
        self.children(tag, |p, section| match section.name.as_str() {
            "DATATYPES" => p.children(&section, |p, child| {
                match kind_of(&child, "DATATYPE-DEFINITION-") {
                    Some(kind) => p.datatype(&child, kind),
                    None => p.skip(&child),
                }
            }),
            "SPEC-TYPES" => p.children(&section, |p, child| match category_of(&child) {
                Some(category) => p.spec_type(&child, category),
                None => p.skip(&child),
            }),
            "SPEC-OBJECTS" => p.children(&section, |p, child| match child.name.as_str() {
                "SPEC-OBJECT" => p.spec_object(&child),
                _ => p.skip(&child),
            }),
            "SPEC-RELATIONS" => p.children(&section, |p, child| match child.name.as_str() {
                "SPEC-RELATION" => p.spec_relation(&child),
                _ => p.skip(&child),
            }),
            "SPECIFICATIONS" => p.children(&section, |p, child| match child.name.as_str() {
                "SPECIFICATION" => p.specification(&child),
                _ => p.skip(&child),
            }),
            // Relation groups are not modelled (the relations themselves are), nor are
            // unknown sections.
            _ => p.skip(&section),
        })
    }
}

/// Datatypes and spec types.
impl<R: Read> Parser<R> {
    fn datatype(&mut self, tag: &Tag, kind: ValueKind) -> Result<()> {
        let index = self.doc.datatypes.len();
        let identifier = required_id(tag)?;
        let accuracy = |s: &str| parse_unsigned(s).and_then(|v| u32::try_from(v).ok());
        let mut kind = match kind {
            ValueKind::String => DatatypeKind::String {
                max_length: number_attr(tag, "MAX-LENGTH", parse_unsigned)?,
            },
            ValueKind::Integer => DatatypeKind::Integer {
                min: number_attr(tag, "MIN", parse_integer)?,
                max: number_attr(tag, "MAX", parse_integer)?,
            },
            ValueKind::Real => DatatypeKind::Real {
                accuracy: number_attr(tag, "ACCURACY", accuracy)?,
                min: number_attr(tag, "MIN", parse_double)?,
                max: number_attr(tag, "MAX", parse_double)?,
            },
            ValueKind::Boolean => DatatypeKind::Boolean,
            ValueKind::Date => DatatypeKind::Date,
            ValueKind::Xhtml => DatatypeKind::Xhtml,
            ValueKind::Enumeration => DatatypeKind::Enumeration { values: Vec::new() },
        };
        if let DatatypeKind::Enumeration { values } = &mut kind {
            *values = self.enum_values(tag, index)?;
        } else {
            self.skip(tag)?;
        }
        self.map.put(Site::Datatype(index), tag.pos);
        let long_name = long_name(tag);
        let datatype = Datatype {
            identifier,
            long_name,
            kind,
        };
        self.doc.datatypes.push(datatype);
        Ok(())
    }

    fn enum_values(&mut self, tag: &Tag, datatype: usize) -> Result<Vec<EnumValue>> {
        let mut values = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "SPECIFIED-VALUES" => p.children(&child, |p, value| match value.name.as_str() {
                "ENUM-VALUE" => {
                    let site = Site::EnumValue(datatype, values.len());
                    values.push(p.enum_value(&value, site)?);
                    Ok(())
                }
                _ => p.skip(&value),
            }),
            _ => p.skip(&child),
        })?;
        Ok(values)
    }

    fn enum_value(&mut self, tag: &Tag, site: Site) -> Result<EnumValue> {
        let identifier = required_id(tag)?;
        let mut key = None;
        self.children(tag, |p, child| match child.name.as_str() {
            "PROPERTIES" => p.children(&child, |p, embedded| {
                if embedded.name == "EMBEDDED-VALUE" {
                    key = embedded.attr("KEY").map(|k| trim_xml(k).to_owned());
                }
                p.skip(&embedded)
            }),
            _ => p.skip(&child),
        })?;
        self.map.put(site, tag.pos);
        Ok(EnumValue {
            identifier,
            long_name: long_name(tag),
            key,
        })
    }

    fn spec_type(&mut self, tag: &Tag, category: SpecTypeCategory) -> Result<()> {
        let index = self.doc.spec_types.len();
        let identifier = required_id(tag)?;
        let mut attributes = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "SPEC-ATTRIBUTES" => p.children(&child, |p, definition| {
                match kind_of(&definition, "ATTRIBUTE-DEFINITION-") {
                    Some(kind) => {
                        let site = (index, attributes.len());
                        attributes.push(p.attribute_definition(&definition, kind, site)?);
                        Ok(())
                    }
                    None => p.skip(&definition),
                }
            }),
            _ => p.skip(&child),
        })?;
        self.map.put(Site::SpecType(index), tag.pos);
        self.doc.spec_types.push(SpecType {
            identifier,
            long_name: long_name(tag),
            category,
            attributes,
        });
        Ok(())
    }

    fn attribute_definition(
        &mut self,
        tag: &Tag,
        kind: ValueKind,
        (t, a): (usize, usize),
    ) -> Result<AttributeDefinition> {
        let identifier = required_id(tag)?;
        let what = describe(tag);
        let multi_valued = match tag.attr("MULTI-VALUED") {
            None => false,
            Some(raw) => parse_boolean(raw).ok_or_else(|| {
                let message = format!("{what}: MULTI-VALUED=\"{raw}\" is not a boolean");
                ReqifError::at(tag.pos, message)
            })?,
        };
        let mut datatype_ref = None;
        let mut default = None;
        self.children(tag, |p, child| match child.name.as_str() {
            "TYPE" => {
                datatype_ref = Some(p.single_ref(&child, &what)?.0);
                Ok(())
            }
            "DEFAULT-VALUE" => {
                default = p.default_value(&child, kind, &what)?;
                Ok(())
            }
            _ => p.skip(&child),
        })?;
        let datatype_ref = datatype_ref.ok_or_else(|| missing(tag, "TYPE"))?;
        self.map.put(Site::Attribute(t, a), tag.pos);
        Ok(AttributeDefinition {
            identifier,
            long_name: long_name(tag),
            datatype_ref,
            kind,
            default,
            multi_valued,
        })
    }

    /// `DEFAULT-VALUE`: one value of the definition's kind (a value of another kind is
    /// misplaced, so skipped). Its `DEFINITION` is implied (it is the enclosing definition),
    /// so it is neither required nor checked.
    fn default_value(&mut self, tag: &Tag, kind: ValueKind, what: &str) -> Result<Option<Value>> {
        let what = format!("DEFAULT-VALUE of {what}");
        let mut default = None;
        self.children(tag, |p, child| {
            if kind_of(&child, "ATTRIBUTE-VALUE-") != Some(kind) {
                return p.skip(&child);
            }
            default = Some(p.attribute_value(&child, kind, &what)?.1);
            Ok(())
        })?;
        Ok(default)
    }
}

/// Values.
impl<R: Read> Parser<R> {
    /// The `VALUES` of an object, relation or specification. A value's kind is the one its
    /// element names, whether or not its attribute definition is in the file.
    fn values(&mut self, tag: &Tag, what: &str) -> Result<Vec<AttributeValue>> {
        let mut values = Vec::new();
        self.children(tag, |p, child| {
            let Some(kind) = kind_of(&child, "ATTRIBUTE-VALUE-") else {
                return p.skip(&child);
            };
            let (definition, value) = p.attribute_value(&child, kind, what)?;
            let Some((definition_ref, _)) = definition else {
                let message = format!("<{}> in {what} has no DEFINITION", child.name);
                return Err(ReqifError::at(child.pos, message));
            };
            values.push(AttributeValue {
                definition_ref,
                value,
            });
            Ok(())
        })?;
        Ok(values)
    }

    /// One `ATTRIBUTE-VALUE-*`: its `DEFINITION` reference (if any) and the value.
    fn attribute_value(
        &mut self,
        tag: &Tag,
        kind: ValueKind,
        what: &str,
    ) -> Result<(Option<(String, Pos)>, Value)> {
        match kind {
            ValueKind::Enumeration => self.enumeration_value(tag, what),
            ValueKind::Xhtml => self.xhtml_value(tag, what),
            _ => self.simple_value(tag, kind, what),
        }
    }

    fn simple_value(
        &mut self,
        tag: &Tag,
        kind: ValueKind,
        what: &str,
    ) -> Result<(Option<(String, Pos)>, Value)> {
        let Some(raw) = tag.attr("THE-VALUE") else {
            let message = format!("<{}> in {what} has no THE-VALUE", tag.name);
            return Err(ReqifError::at(tag.pos, message));
        };
        let Some(value) = simple_value(kind, raw) else {
            let message = format!(
                "<{}> in {what}: THE-VALUE \"{raw}\" is not a valid {}",
                tag.name,
                lexical_name(kind)
            );
            return Err(ReqifError::at(tag.pos, message));
        };
        let definition = self.definition_only(tag, what)?;
        Ok((definition, value))
    }

    /// Reads the children of a value that only has a `DEFINITION` (strays are skipped).
    fn definition_only(&mut self, tag: &Tag, what: &str) -> Result<Option<(String, Pos)>> {
        let mut definition = None;
        self.children(tag, |p, child| match child.name.as_str() {
            "DEFINITION" => {
                definition = Some(p.single_ref(&child, what)?);
                Ok(())
            }
            _ => p.skip(&child),
        })?;
        Ok(definition)
    }

    fn enumeration_value(
        &mut self,
        tag: &Tag,
        what: &str,
    ) -> Result<(Option<(String, Pos)>, Value)> {
        let mut definition = None;
        let mut refs = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "DEFINITION" => {
                definition = Some(p.single_ref(&child, what)?);
                Ok(())
            }
            "VALUES" => p.children(&child, |p, reference| match reference.name.as_str() {
                "ENUM-VALUE-REF" => {
                    refs.push(trim_xml(&p.text(&reference)?).to_owned());
                    Ok(())
                }
                _ => p.skip(&reference),
            }),
            _ => p.skip(&child),
        })?;
        Ok((definition, Value::Enumeration(refs)))
    }

    fn xhtml_value(&mut self, tag: &Tag, what: &str) -> Result<(Option<(String, Pos)>, Value)> {
        let mut definition = None;
        let mut markup = None;
        self.children(tag, |p, child| match child.name.as_str() {
            "DEFINITION" => {
                definition = Some(p.single_ref(&child, what)?);
                Ok(())
            }
            "THE-VALUE" => {
                markup = Some(xhtml::capture(&mut p.xml, &child)?);
                Ok(())
            }
            // THE-ORIGINAL-VALUE (the unsimplified original) and strays.
            _ => p.skip(&child),
        })?;
        let Some(markup) = markup else {
            let message = format!("<{}> in {what} has no THE-VALUE", tag.name);
            return Err(ReqifError::at(tag.pos, message));
        };
        Ok((definition, Value::Xhtml(markup)))
    }
}

/// Objects, relations, specifications.
impl<R: Read> Parser<R> {
    fn spec_object(&mut self, tag: &Tag) -> Result<()> {
        let index = self.doc.spec_objects.len();
        let identifier = required_id(tag)?;
        let what = describe(tag);
        let last_change = last_change(tag);
        let mut type_ref = None;
        let mut values = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "TYPE" => {
                type_ref = Some(p.single_ref(&child, &what)?.0);
                Ok(())
            }
            "VALUES" => {
                values.extend(p.values(&child, &what)?);
                Ok(())
            }
            _ => p.skip(&child),
        })?;
        let type_ref = type_ref.ok_or_else(|| missing(tag, "TYPE"))?;
        self.map.put(Site::Object(index), tag.pos);
        self.doc.spec_objects.push(SpecObject {
            identifier,
            long_name: long_name(tag),
            last_change,
            type_ref,
            values,
        });
        Ok(())
    }

    fn spec_relation(&mut self, tag: &Tag) -> Result<()> {
        let index = self.doc.spec_relations.len();
        let identifier = required_id(tag)?;
        let what = describe(tag);
        let (mut type_ref, mut source, mut target) = (None, None, None);
        let mut values = Vec::new();
        self.children(tag, |p, child| {
            let (slot, site) = match child.name.as_str() {
                "TYPE" => (&mut type_ref, None),
                "SOURCE" => (&mut source, Some(Site::RelationSource(index))),
                "TARGET" => (&mut target, Some(Site::RelationTarget(index))),
                "VALUES" => {
                    values.extend(p.values(&child, &what)?);
                    return Ok(());
                }
                _ => return p.skip(&child),
            };
            let (reference, pos) = p.single_ref(&child, &what)?;
            if let Some(site) = site {
                p.map.put(site, pos);
            }
            *slot = Some(reference);
            Ok(())
        })?;
        let type_ref = type_ref.ok_or_else(|| missing(tag, "TYPE"))?;
        let source = source.ok_or_else(|| missing(tag, "SOURCE"))?;
        let target = target.ok_or_else(|| missing(tag, "TARGET"))?;
        self.map.put(Site::Relation(index), tag.pos);
        self.doc.spec_relations.push(SpecRelation {
            identifier,
            long_name: long_name(tag),
            type_ref,
            source,
            target,
            values,
        });
        Ok(())
    }

    fn specification(&mut self, tag: &Tag) -> Result<()> {
        let index = self.doc.specifications.len();
        let identifier = required_id(tag)?;
        let what = describe(tag);
        let mut type_ref = None;
        let mut values = Vec::new();
        let mut children = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "TYPE" => {
                type_ref = Some(p.single_ref(&child, &what)?.0);
                Ok(())
            }
            "VALUES" => {
                values.extend(p.values(&child, &what)?);
                Ok(())
            }
            "CHILDREN" => {
                children.extend(p.hierarchies(&child, 1)?);
                Ok(())
            }
            _ => p.skip(&child),
        })?;
        // The schema requires the TYPE, the `reqif` library does not: empty when missing.
        let type_ref = type_ref.unwrap_or_default();
        self.map.put(Site::Specification(index), tag.pos);
        self.doc.specifications.push(Specification {
            identifier,
            long_name: long_name(tag),
            type_ref,
            values,
            children,
        });
        Ok(())
    }

    /// The `SPEC-HIERARCHY` elements of a `CHILDREN`, at nesting level `depth` (1 = top).
    fn hierarchies(&mut self, tag: &Tag, depth: usize) -> Result<Vec<Hierarchy>> {
        let mut nodes = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "SPEC-HIERARCHY" => {
                nodes.push(p.hierarchy(&child, depth)?);
                Ok(())
            }
            _ => p.skip(&child),
        })?;
        Ok(nodes)
    }

    fn hierarchy(&mut self, tag: &Tag, depth: usize) -> Result<Hierarchy> {
        if depth > MAX_HIERARCHY_DEPTH {
            let message = format!("SPEC-HIERARCHY nested deeper than {MAX_HIERARCHY_DEPTH} levels");
            return Err(ReqifError::at(tag.pos, message));
        }
        // Numbered before its children are read: pre-order, as the checker counts.
        let index = self.hierarchies;
        self.hierarchies += 1;
        let identifier = required_id(tag)?;
        let what = describe(tag);
        let mut object_ref = None;
        let mut children = Vec::new();
        self.children(tag, |p, child| match child.name.as_str() {
            "OBJECT" => {
                let (reference, pos) = p.single_ref(&child, &what)?;
                p.map.put(Site::HierarchyObject(index), pos);
                object_ref = Some(reference);
                Ok(())
            }
            "CHILDREN" => {
                children.extend(p.hierarchies(&child, depth + 1)?);
                Ok(())
            }
            // EDITABLE-ATTS, ALTERNATIVE-ID, IS-EDITABLE written as an element, …
            _ => p.skip(&child),
        })?;
        let object_ref = object_ref.ok_or_else(|| missing(tag, "OBJECT"))?;
        self.map.put(Site::Hierarchy(index), tag.pos);
        Ok(Hierarchy {
            identifier,
            object_ref,
            long_name: long_name(tag),
            children,
        })
    }
}

/// `LAST-CHANGE` of a spec object, kept as written like every date (the writer replaces one
/// that is not an xsd:dateTime).
fn last_change(tag: &Tag) -> Option<String> {
    tag.attr("LAST-CHANGE").map(|raw| trim_xml(raw).to_owned())
}
