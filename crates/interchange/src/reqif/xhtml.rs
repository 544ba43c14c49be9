//! XHTML values. Reading turns the content of `THE-VALUE` into markup with unprefixed element
//! names, whatever prefix the file bound to the XHTML namespace (`xhtml:`, `reqif-xhtml:`, a
//! default namespace), so equal content compares equal. Writing puts the `xhtml:` prefix back
//! and wraps the fragment in `<xhtml:div>` unless it already is a single `p` or `div`, the only
//! shape the ReqIF schema allows in `THE-VALUE`.

use std::io::Read;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::error::ReqifError;
use super::lexical::{escape_attribute, escape_text, is_blank, trim_xml};
use super::xml::{resolve_entity, Node, Tag, XmlIn};

/// Reads the content of `the_value` (up to and including its end tag) as normalised markup.
pub(crate) fn capture<R: Read>(xml: &mut XmlIn<R>, the_value: &Tag) -> Result<String, ReqifError> {
    let mut out = String::new();
    if the_value.empty {
        return Ok(out);
    }
    // Names of the open elements: `Node::Close` does not carry one.
    let mut open: Vec<String> = Vec::new();
    loop {
        match xml.next()? {
            Node::Open(tag) => {
                let attrs = tag.attrs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                push_start(&mut out, "", &tag.name, attrs, tag.empty)
                    .map_err(|c| bad_char(&tag, c))?;
                if !tag.empty {
                    open.push(tag.name);
                }
            }
            Node::Close => match open.pop() {
                Some(name) => push_end(&mut out, "", &name),
                None => break,
            },
            Node::Text(text) => escape_text(&text, &mut out).map_err(|c| bad_char(the_value, c))?,
            Node::Eof => {
                return Err(ReqifError::at(
                    the_value.pos,
                    "unexpected end of the document inside <THE-VALUE>",
                ))
            }
        }
    }
    Ok(trim_xml(&out).to_owned())
}

fn bad_char(tag: &Tag, c: char) -> ReqifError {
    let message = format!(
        "<{}> contains the character U+{:04X}, which XML 1.0 forbids",
        tag.name, c as u32
    );
    ReqifError::at(tag.pos, message)
}

/// Appends `fragment` as the content of a `THE-VALUE`, with `xhtml:`-prefixed elements.
/// The error says why the fragment is not well-formed XML.
pub(crate) fn emit(fragment: &str, out: &mut String) -> Result<(), String> {
    let mut inner = String::new();
    let shape = prefixed(fragment, &mut inner)?;
    if shape.single_block {
        out.push_str(&inner);
    } else {
        out.push_str("<xhtml:div>");
        out.push_str(&inner);
        out.push_str("</xhtml:div>");
    }
    Ok(())
}

/// What the top level of a fragment looks like.
struct Shape {
    /// Exactly one top-level element, a `p` or `div`, and no text beside it.
    single_block: bool,
}

/// Re-emits `fragment` with every element in the `xhtml:` prefix.
fn prefixed(fragment: &str, out: &mut String) -> Result<Shape, String> {
    let mut reader = Reader::from_str(fragment);
    reader.config_mut().check_end_names = true;
    let mut open = 0usize;
    let mut top = TopLevel::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XHTML: {e}"))?;
        match event {
            Event::Start(start) => {
                push_element(&start, false, open == 0, &mut top, out)?;
                open += 1;
            }
            Event::Empty(start) => push_element(&start, true, open == 0, &mut top, out)?,
            Event::End(end) => {
                open = open.saturating_sub(1);
                push_end(out, "xhtml:", end.local_name().into_inner());
            }
            Event::Text(text) => push_text(&text.xml10_content(), open == 0, &mut top, out)?,
            Event::CData(cdata) => push_text(&cdata.xml10_content(), open == 0, &mut top, out)?,
            Event::GeneralRef(reference) => {
                let text = resolve_entity(&reference)?;
                push_text(&text, open == 0, &mut top, out)?;
            }
            Event::DocType(_) => return Err("an XHTML value cannot carry a DOCTYPE".to_owned()),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if open != 0 {
        return Err("not well-formed XHTML: an element is not closed".to_owned());
    }
    Ok(Shape {
        single_block: top.elements == 1 && top.first_is_block && !top.text,
    })
}

/// `markup` (as the reader produces it: unprefixed, well-formed) in the shape it is written
/// in: without the tags of the elements the ReqIF schema does not allow (their content kept),
/// and wrapped in a `div` unless it is a single `p` or `div` (see `emit`). `None` when it
/// already has that shape, or when it is not well-formed (`emit` reports that).
pub(crate) fn for_export(markup: &str) -> Option<String> {
    let mut reader = Reader::from_str(markup);
    reader.config_mut().check_end_names = true;
    let mut out = String::with_capacity(markup.len());
    // Per open element: whether its tags are kept.
    let mut open: Vec<bool> = Vec::new();
    let mut dropped = false;
    let mut top = TopLevel::default();
    loop {
        let at_top = !open.contains(&true);
        match reader.read_event().ok()? {
            Event::Start(start) => {
                let keep = is_allowed(&start);
                if keep {
                    top.element(&start, at_top);
                    push_kept(&start, false, &mut out)?;
                }
                dropped |= !keep;
                open.push(keep);
            }
            Event::Empty(start) => {
                if is_allowed(&start) {
                    top.element(&start, at_top);
                    push_kept(&start, true, &mut out)?;
                } else {
                    dropped = true;
                }
            }
            Event::End(end) => {
                if open.pop()? {
                    push_end(&mut out, "", end.local_name().into_inner());
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content();
                top.text |= at_top && !is_blank(&text);
                escape_text(&text, &mut out).ok()?;
            }
            Event::CData(cdata) => {
                let text = cdata.xml10_content();
                top.text |= at_top && !is_blank(&text);
                escape_text(&text, &mut out).ok()?;
            }
            Event::GeneralRef(reference) => {
                let text = resolve_entity(&reference).ok()?;
                top.text |= at_top && !is_blank(&text);
                escape_text(&text, &mut out).ok()?;
            }
            Event::DocType(_) => return None,
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return None;
    }
    let single_block = top.elements == 1 && top.first_is_block && !top.text;
    let fixed = trim_xml(&out);
    match (dropped, single_block) {
        (_, false) => Some(format!("<div>{fixed}</div>")),
        (true, true) => Some(fixed.to_owned()),
        (false, true) => None,
    }
}

fn is_allowed(start: &BytesStart<'_>) -> bool {
    SCHEMA_ELEMENTS.contains(&start.local_name().into_inner())
}

fn push_kept(start: &BytesStart<'_>, empty: bool, out: &mut String) -> Option<()> {
    let name = start.local_name().into_inner();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.ok()?;
        let value = attr.normalized_value(XmlVersion::Implicit1_0).ok()?;
        attrs.push((attr.key.0.to_owned(), value.into_owned()));
    }
    let attrs = attrs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    push_start(out, "", name, attrs, empty).ok()
}

#[derive(Default)]
struct TopLevel {
    elements: usize,
    first_is_block: bool,
    text: bool,
}

impl TopLevel {
    fn element(&mut self, start: &BytesStart<'_>, at_top: bool) {
        if at_top {
            self.elements += 1;
            let name = start.local_name().into_inner();
            self.first_is_block = self.elements == 1 && matches!(name, "p" | "div");
        }
    }
}

/// The elements of the XHTML modules the ReqIF schema's driver includes (text, hypertext,
/// list, edit, presentation, object, table); anything else fails the schema check, e.g. `u`,
/// `s`, `font` or `img` (images go in `object`).
pub(crate) const SCHEMA_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "ins",
    "kbd",
    "li",
    "object",
    "ol",
    "p",
    "param",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

fn push_element(
    start: &BytesStart<'_>,
    empty: bool,
    at_top: bool,
    top: &mut TopLevel,
    out: &mut String,
) -> Result<(), String> {
    let name = start.local_name().into_inner();
    if !SCHEMA_ELEMENTS.contains(&name) {
        return Err(format!(
            "<{name}> is not one of the XHTML elements ReqIF allows (use e.g. <span style=\"…\"> \
             for underline, <object> for images)"
        ));
    }
    if at_top {
        top.elements += 1;
        top.first_is_block = top.elements == 1 && matches!(name, "p" | "div");
    }
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("in <{name}>: {e}"))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("attribute {} of <{name}>: {e}", attr.key.0))?;
        attrs.push((attr.key.0.to_owned(), value.into_owned()));
    }
    let attrs = attrs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    push_start(out, "xhtml:", name, attrs, empty).map_err(forbidden)
}

fn push_text(text: &str, at_top: bool, top: &mut TopLevel, out: &mut String) -> Result<(), String> {
    if at_top && !is_blank(text) {
        top.text = true;
    }
    escape_text(text, out).map_err(forbidden)
}

fn forbidden(c: char) -> String {
    format!(
        "contains the character U+{:04X}, which XML 1.0 forbids",
        c as u32
    )
}

/// Appends a start tag. Namespace declarations are dropped (the prefix is normalised) and so
/// are attributes in other namespaces, whose declarations would be lost with them; `xml:lang`
/// and friends stay, their prefix being predeclared.
fn push_start<'a>(
    out: &mut String,
    prefix: &str,
    name: &str,
    attrs: impl Iterator<Item = (&'a str, &'a str)>,
    empty: bool,
) -> Result<(), char> {
    out.push('<');
    out.push_str(prefix);
    out.push_str(name);
    for (key, value) in attrs {
        let declaration = key == "xmlns" || key.starts_with("xmlns:");
        let foreign = key.contains(':') && !key.starts_with("xml:");
        if declaration || foreign {
            continue;
        }
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        escape_attribute(value, out)?;
        out.push('"');
    }
    out.push_str(if empty { "/>" } else { ">" });
    Ok(())
}

fn push_end(out: &mut String, prefix: &str, name: &str) {
    out.push_str("</");
    out.push_str(prefix);
    out.push_str(name);
    out.push('>');
}
