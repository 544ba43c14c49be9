//! The writer: ReqIF 1.2 XML that the official XSD accepts. The header and `REQ-IF-CONTENT`
//! are sequences in the schema, so their order is fixed here; the identifiables are
//! `xsd:all`, any child order would do. Attributes the schema requires but the model may lack
//! are filled: `LAST-CHANGE` from the object or the header's creation time, datatype limits
//! with the widest range, tool ids with [`DEFAULT_TOOL_ID`]. Definitions the document refers
//! to but lacks are supplied, and what the schema cannot carry is left out, by `complete`
//! before anything is written.

use std::io::Write;

use chrono::{SecondsFormat, Utc};

use super::complete;
use super::error::ReqifError;
use super::lexical::{
    escape_attribute, escape_text, format_double, is_datetime, is_ncname, parse_integer,
};
use super::model::{
    AttributeDefinition, AttributeValue, Datatype, DatatypeKind, EnumValue, Header, Hierarchy,
    ReqifDocument, SpecObject, SpecRelation, SpecType, Specification, Value, ValueKind,
    MAX_HIERARCHY_DEPTH,
};
use super::validate;
use super::xhtml;
use super::{REQIF_NAMESPACE, XHTML_NAMESPACE};

type Result<T> = std::result::Result<T, ReqifError>;

/// `REQ-IF-TOOL-ID` / `SOURCE-TOOL-ID` when the header has none.
pub(crate) const DEFAULT_TOOL_ID: &str = "OpenSESA";
/// `REQ-IF-HEADER/@IDENTIFIER` when the header has none.
pub(crate) const DEFAULT_HEADER_ID: &str = "opensesa-reqif-header";
/// `MAX-LENGTH` of a string datatype without one: the largest a Java `int` holds, which
/// importing tools commonly parse it into.
pub(crate) const DEFAULT_MAX_LENGTH: u64 = i32::MAX as u64;
/// `ACCURACY` of a real datatype without one.
pub(crate) const DEFAULT_ACCURACY: u32 = 10;

/// Buffered output is handed to the writer in chunks of about this size.
const FLUSH_AT: usize = 64 * 1024;

pub(crate) fn write_document(doc: &ReqifDocument, out: impl Write) -> Result<()> {
    validate::check(doc, None)?;
    let doc = complete::complete(doc);
    let doc = doc.as_ref();
    let stamp = creation_time(&doc.header);
    let mut w = XmlWriter {
        out,
        buf: String::with_capacity(FLUSH_AT * 2),
        depth: 0,
        stamp,
    };
    w.buf
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let namespaces = [("xmlns", REQIF_NAMESPACE), ("xmlns:xhtml", XHTML_NAMESPACE)];
    w.open("REQ-IF", &namespaces)?;
    w.header(&doc.header)?;
    w.open("CORE-CONTENT", &[])?;
    w.open("REQ-IF-CONTENT", &[])?;
    w.section("DATATYPES", &doc.datatypes, XmlWriter::datatype)?;
    w.section("SPEC-TYPES", &doc.spec_types, XmlWriter::spec_type)?;
    w.section("SPEC-OBJECTS", &doc.spec_objects, XmlWriter::spec_object)?;
    w.section(
        "SPEC-RELATIONS",
        &doc.spec_relations,
        XmlWriter::spec_relation,
    )?;
    w.section(
        "SPECIFICATIONS",
        &doc.specifications,
        XmlWriter::specification,
    )?;
    w.close("REQ-IF-CONTENT")?;
    w.close("CORE-CONTENT")?;
    w.close("REQ-IF")?;
    w.finish()
}

/// The header's creation time, or now (also instead of one that is not an `xsd:dateTime`):
/// the schema requires one, and it doubles as the `LAST-CHANGE` of everything the model keeps
/// no change time for.
fn creation_time(header: &Header) -> String {
    match &header.creation_time {
        Some(time) if is_datetime(time) => time.clone(),
        _ => Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

struct XmlWriter<W: Write> {
    out: W,
    buf: String,
    depth: usize,
    /// `LAST-CHANGE` for identifiables without their own.
    stamp: String,
}

/// The error for a character XML cannot carry, `context` naming where it is.
fn forbidden(context: &str, c: char) -> ReqifError {
    ReqifError::new(format!(
        "{context} contains the character U+{:04X}, which XML 1.0 forbids",
        c as u32
    ))
}

/// Low-level output.
impl<W: Write> XmlWriter<W> {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &str)], empty: bool) -> Result<()> {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        for (key, value) in attrs {
            self.buf.push(' ');
            self.buf.push_str(key);
            self.buf.push_str("=\"");
            escape_attribute(value, &mut self.buf)
                .map_err(|c| forbidden(&format!("{key} of <{name}>"), c))?;
            self.buf.push('"');
        }
        self.buf.push_str(if empty { "/>\n" } else { ">\n" });
        Ok(())
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<()> {
        self.start_tag(name, attrs, false)?;
        self.depth += 1;
        Ok(())
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<()> {
        self.start_tag(name, attrs, true)
    }

    fn close(&mut self, name: &str) -> Result<()> {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
        if self.buf.len() >= FLUSH_AT {
            self.flush_buffer()?;
        }
        Ok(())
    }

    fn leaf(&mut self, name: &str, text: &str) -> Result<()> {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        escape_text(text, &mut self.buf).map_err(|c| forbidden(&format!("<{name}>"), c))?;
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push_str(">\n");
        Ok(())
    }

    /// `<container><ref_name>id</ref_name></container>`.
    fn reference(&mut self, container: &str, ref_name: &str, id: &str) -> Result<()> {
        self.open(container, &[])?;
        self.leaf(ref_name, id)?;
        self.close(container)
    }

    fn flush_buffer(&mut self) -> Result<()> {
        self.out
            .write_all(self.buf.as_bytes())
            .map_err(|e| ReqifError::new(format!("cannot write the ReqIF document: {e}")))?;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush_buffer()?;
        self.out
            .flush()
            .map_err(|e| ReqifError::new(format!("cannot write the ReqIF document: {e}")))
    }

    /// A list element, left out when there is nothing to put in it.
    fn section<T>(
        &mut self,
        name: &str,
        items: &[T],
        mut item: impl FnMut(&mut Self, &T) -> Result<()>,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        self.open(name, &[])?;
        for it in items {
            item(self, it)?;
        }
        self.close(name)
    }
}

/// The attributes every identifiable carries. `xsd:ID` is an XML name; `complete` renames
/// identifiers that are not (say a bare UUID starting with a digit), so the refusal here only
/// guards against writing invalid output.
fn identity<'a>(
    element: &str,
    identifier: &'a str,
    long_name: Option<&'a str>,
    last_change: &'a str,
) -> Result<Vec<(&'static str, &'a str)>> {
    if !is_ncname(identifier) {
        return Err(ReqifError::new(format!(
            "{element} IDENTIFIER '{identifier}' is not a valid xsd:ID (an XML name: a letter \
             or '_' first, then letters, digits, '.', '-' or '_')"
        )));
    }
    let mut attrs = vec![("IDENTIFIER", identifier), ("LAST-CHANGE", last_change)];
    if let Some(long_name) = long_name {
        attrs.push(("LONG-NAME", long_name));
    }
    Ok(attrs)
}

/// Header, datatypes and types.
impl<W: Write> XmlWriter<W> {
    fn header(&mut self, header: &Header) -> Result<()> {
        let identifier = match header.identifier.as_str() {
            "" => DEFAULT_HEADER_ID,
            id => id,
        };
        if !is_ncname(identifier) {
            return Err(ReqifError::new(format!(
                "REQ-IF-HEADER IDENTIFIER '{identifier}' is not a valid xsd:ID"
            )));
        }
        let tool = |id: &Option<String>| id.clone().unwrap_or_else(|| DEFAULT_TOOL_ID.to_owned());
        self.open("THE-HEADER", &[])?;
        self.open("REQ-IF-HEADER", &[("IDENTIFIER", identifier)])?;
        if let Some(comment) = &header.comment {
            self.leaf("COMMENT", comment)?;
        }
        let stamp = self.stamp.clone();
        self.leaf("CREATION-TIME", &stamp)?;
        self.leaf("REQ-IF-TOOL-ID", &tool(&header.req_if_tool_id))?;
        // Fixed by the schema for ReqIF 1.0, 1.1 and 1.2 alike.
        self.leaf("REQ-IF-VERSION", "1.0")?;
        self.leaf("SOURCE-TOOL-ID", &tool(&header.source_tool_id))?;
        self.leaf("TITLE", header.title.as_deref().unwrap_or_default())?;
        self.close("REQ-IF-HEADER")?;
        self.close("THE-HEADER")
    }

    fn datatype(&mut self, datatype: &Datatype) -> Result<()> {
        let kind = datatype.kind.value_kind().reqif_suffix();
        let element = format!("DATATYPE-DEFINITION-{kind}");
        let stamp = self.stamp.clone();
        let long_name = datatype.long_name.as_deref();
        let mut attrs = identity(&element, &datatype.identifier, long_name, &stamp)?;
        let limits = limits(&datatype.kind);
        attrs.extend(limits.iter().map(|(k, v)| (*k, v.as_str())));
        match &datatype.kind {
            DatatypeKind::Enumeration { values } => {
                self.open(&element, &attrs)?;
                self.section("SPECIFIED-VALUES", values, |w, value| {
                    let attrs = identity(
                        "ENUM-VALUE",
                        &value.identifier,
                        value.long_name.as_deref(),
                        &stamp,
                    )?;
                    w.open("ENUM-VALUE", &attrs)?;
                    w.open("PROPERTIES", &[])?;
                    let key = enum_key(value.key.as_deref(), values, &value.identifier);
                    w.empty("EMBEDDED-VALUE", &[("KEY", &key), ("OTHER-CONTENT", "")])?;
                    w.close("PROPERTIES")?;
                    w.close("ENUM-VALUE")
                })?;
                self.close(&element)
            }
            _ => self.empty(&element, &attrs),
        }
    }

    fn spec_type(&mut self, spec_type: &SpecType) -> Result<()> {
        let element = spec_type.category.element_name();
        let stamp = self.stamp.clone();
        let long_name = spec_type.long_name.as_deref();
        let attrs = identity(element, &spec_type.identifier, long_name, &stamp)?;
        if spec_type.attributes.is_empty() {
            return self.empty(element, &attrs);
        }
        self.open(element, &attrs)?;
        self.section(
            "SPEC-ATTRIBUTES",
            &spec_type.attributes,
            Self::attribute_definition,
        )?;
        self.close(element)
    }

    fn attribute_definition(&mut self, definition: &AttributeDefinition) -> Result<()> {
        let kind = definition.kind.reqif_suffix();
        let element = format!("ATTRIBUTE-DEFINITION-{kind}");
        let stamp = self.stamp.clone();
        let long_name = definition.long_name.as_deref();
        let mut attrs = identity(&element, &definition.identifier, long_name, &stamp)?;
        // Only enumerations have (and require) MULTI-VALUED.
        if definition.kind == ValueKind::Enumeration {
            attrs.push(("MULTI-VALUED", bool_text(definition.multi_valued)));
        }
        self.open(&element, &attrs)?;
        if let Some(default) = &definition.default {
            self.open("DEFAULT-VALUE", &[])?;
            let context = format!("DEFAULT-VALUE of {element} '{}'", definition.identifier);
            self.value(&definition.identifier, default, &context)?;
            self.close("DEFAULT-VALUE")?;
        }
        let datatype_ref = format!("DATATYPE-DEFINITION-{kind}-REF");
        self.reference("TYPE", &datatype_ref, &definition.datatype_ref)?;
        self.close(&element)
    }
}

/// The limit attributes of a datatype (all required by the schema for their kinds).
fn limits(kind: &DatatypeKind) -> Vec<(&'static str, String)> {
    match kind {
        DatatypeKind::String { max_length } => {
            vec![(
                "MAX-LENGTH",
                max_length.unwrap_or(DEFAULT_MAX_LENGTH).to_string(),
            )]
        }
        DatatypeKind::Integer { min, max } => vec![
            ("MIN", min.unwrap_or(i64::MIN).to_string()),
            ("MAX", max.unwrap_or(i64::MAX).to_string()),
        ],
        DatatypeKind::Real { accuracy, min, max } => vec![
            ("ACCURACY", accuracy.unwrap_or(DEFAULT_ACCURACY).to_string()),
            ("MIN", format_double(min.unwrap_or(-f64::MAX))),
            ("MAX", format_double(max.unwrap_or(f64::MAX))),
        ],
        _ => Vec::new(),
    }
}

/// `EMBEDDED-VALUE/@KEY` is an `xsd:integer`: the model's key when it is one, else the
/// value's position in its enumeration.
fn enum_key(key: Option<&str>, values: &[EnumValue], identifier: &str) -> String {
    match key.and_then(parse_integer) {
        Some(key) => key.to_string(),
        None => values
            .iter()
            .position(|v| v.identifier == identifier)
            .unwrap_or_default()
            .to_string(),
    }
}

fn bool_text(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// Content.
impl<W: Write> XmlWriter<W> {
    fn spec_object(&mut self, object: &SpecObject) -> Result<()> {
        let last_change = match &object.last_change {
            Some(time) if is_datetime(time) => time.clone(),
            _ => self.stamp.clone(),
        };
        let long_name = object.long_name.as_deref();
        let attrs = identity("SPEC-OBJECT", &object.identifier, long_name, &last_change)?;
        self.open("SPEC-OBJECT", &attrs)?;
        self.reference("TYPE", "SPEC-OBJECT-TYPE-REF", &object.type_ref)?;
        let context = format!("SPEC-OBJECT '{}'", object.identifier);
        self.values(&object.values, &context)?;
        self.close("SPEC-OBJECT")
    }

    fn spec_relation(&mut self, relation: &SpecRelation) -> Result<()> {
        let stamp = self.stamp.clone();
        let long_name = relation.long_name.as_deref();
        let attrs = identity("SPEC-RELATION", &relation.identifier, long_name, &stamp)?;
        self.open("SPEC-RELATION", &attrs)?;
        self.reference("SOURCE", "SPEC-OBJECT-REF", &relation.source)?;
        self.reference("TARGET", "SPEC-OBJECT-REF", &relation.target)?;
        self.reference("TYPE", "SPEC-RELATION-TYPE-REF", &relation.type_ref)?;
        let context = format!("SPEC-RELATION '{}'", relation.identifier);
        self.values(&relation.values, &context)?;
        self.close("SPEC-RELATION")
    }

    fn specification(&mut self, specification: &Specification) -> Result<()> {
        let stamp = self.stamp.clone();
        let long_name = specification.long_name.as_deref();
        let attrs = identity(
            "SPECIFICATION",
            &specification.identifier,
            long_name,
            &stamp,
        )?;
        self.open("SPECIFICATION", &attrs)?;
        self.reference("TYPE", "SPECIFICATION-TYPE-REF", &specification.type_ref)?;
        let context = format!("SPECIFICATION '{}'", specification.identifier);
        self.values(&specification.values, &context)?;
        self.hierarchies(&specification.children, 1)?;
        self.close("SPECIFICATION")
    }

    fn hierarchies(&mut self, nodes: &[Hierarchy], depth: usize) -> Result<()> {
        if nodes.is_empty() {
            return Ok(());
        }
        // The same limit as the reader's: never write what cannot be read back.
        if depth > MAX_HIERARCHY_DEPTH {
            return Err(ReqifError::new(format!(
                "the hierarchy is nested deeper than {MAX_HIERARCHY_DEPTH} levels"
            )));
        }
        self.open("CHILDREN", &[])?;
        for node in nodes {
            let stamp = self.stamp.clone();
            let long_name = node.long_name.as_deref();
            let attrs = identity("SPEC-HIERARCHY", &node.identifier, long_name, &stamp)?;
            self.open("SPEC-HIERARCHY", &attrs)?;
            self.reference("OBJECT", "SPEC-OBJECT-REF", &node.object_ref)?;
            self.hierarchies(&node.children, depth + 1)?;
            self.close("SPEC-HIERARCHY")?;
        }
        self.close("CHILDREN")
    }

    fn values(&mut self, values: &[AttributeValue], context: &str) -> Result<()> {
        self.section("VALUES", values, |w, value| {
            w.value(&value.definition_ref, &value.value, context)
        })
    }

    /// One `ATTRIBUTE-VALUE-*` for the attribute definition `definition_ref`.
    fn value(&mut self, definition_ref: &str, value: &Value, context: &str) -> Result<()> {
        let kind = value.kind().reqif_suffix();
        let element = format!("ATTRIBUTE-VALUE-{kind}");
        let definition = format!("ATTRIBUTE-DEFINITION-{kind}-REF");
        match value {
            Value::Enumeration(refs) => {
                self.open(&element, &[])?;
                self.reference("DEFINITION", &definition, definition_ref)?;
                self.section("VALUES", refs, |w, id| w.leaf("ENUM-VALUE-REF", id))?;
            }
            Value::Xhtml(markup) => {
                self.open(&element, &[])?;
                self.reference("DEFINITION", &definition, definition_ref)?;
                // Written inline: whitespace inside XHTML is content, so no indentation.
                self.indent();
                self.buf.push_str("<THE-VALUE>");
                xhtml::emit(markup, &mut self.buf).map_err(|e| {
                    ReqifError::new(format!(
                        "{context}: the XHTML value of '{definition_ref}': {e}"
                    ))
                })?;
                self.buf.push_str("</THE-VALUE>\n");
            }
            simple => {
                let text = simple_text(simple, context)?;
                self.open(&element, &[("THE-VALUE", &text)])?;
                self.reference("DEFINITION", &definition, definition_ref)?;
            }
        }
        self.close(&element)
    }
}

/// `THE-VALUE` of a simple value.
fn simple_text(value: &Value, context: &str) -> Result<String> {
    Ok(match value {
        Value::String(text) => text.clone(),
        Value::Integer(number) => number.to_string(),
        Value::Real(number) => format_double(*number),
        Value::Boolean(flag) => bool_text(*flag).to_owned(),
        Value::Date(time) if is_datetime(time) => time.clone(),
        Value::Date(time) => {
            return Err(ReqifError::new(format!(
                "{context}: the date \"{time}\" is not an xsd:dateTime"
            )))
        }
        Value::Enumeration(_) | Value::Xhtml(_) => String::new(),
    })
}
