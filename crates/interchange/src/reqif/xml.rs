//! A thin, owned view of quick-xml's namespace-aware event stream: start tags with their
//! namespace, attributes and position, end tags, text with references resolved, end of file.
//! Comments, processing instructions and the declaration are dropped here.

use std::io::Read;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::error::{Pos, ReqifError};
use super::lexical::is_xml_char;
use super::source::Source;
use super::{REQIF_DRAFT_NAMESPACE, REQIF_NAMESPACE, XHTML_NAMESPACE};

/// Deepest element nesting read. The parser descends recursively, so this bounds its stack;
/// real ReqIF files nest a few dozen levels.
const MAX_DEPTH: usize = 512;

/// The namespace of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ns {
    /// The ReqIF namespace, or the namespace of the ReqIF 1.0 draft that early tools wrote.
    ReqIf,
    Xhtml,
    /// No namespace at all.
    None,
    Other(String),
}

/// A start tag (or an empty-element tag, then `empty`).
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    pub ns: Ns,
    /// The local name, without prefix.
    pub name: String,
    /// Qualified attribute names with their normalised, unescaped values.
    pub attrs: Vec<(String, String)>,
    pub empty: bool,
    pub pos: Pos,
}

impl Tag {
    pub fn attr(&self, key: &str) -> Option<&str> {
        let found = self.attrs.iter().find(|(k, _)| k == key);
        found.map(|(_, v)| v.as_str())
    }

    /// ReqIF elements; unqualified ones count too, as sloppy writers drop the namespace on
    /// children of a prefixed root.
    pub fn is_reqif(&self) -> bool {
        matches!(self.ns, Ns::ReqIf | Ns::None)
    }
}

pub(crate) enum Node {
    Open(Tag),
    Close,
    Text(String),
    Eof,
}

pub(crate) struct XmlIn<R: Read> {
    reader: NsReader<Source<R>>,
    buf: Vec<u8>,
    depth: usize,
}

impl<R: Read> XmlIn<R> {
    pub fn new(source: Source<R>) -> Self {
        let mut reader = NsReader::from_reader(source);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Self {
            reader,
            buf: Vec::with_capacity(4096),
            depth: 0,
        }
    }

    /// Where the next event starts.
    pub fn pos(&self) -> Pos {
        self.reader.get_ref().position()
    }

    pub fn next(&mut self) -> Result<Node, ReqifError> {
        loop {
            let pos = self.pos();
            self.buf.clear();
            let (ns, event) = match self.reader.read_resolved_event_into(&mut self.buf) {
                Ok((ns, event)) => (namespace(ns), event),
                Err(e) => return Err(ReqifError::at(self.pos(), describe_xml_error(&e))),
            };
            let node = match event {
                Event::Start(start) => Node::Open(tag(ns, &start, false, pos)?),
                Event::Empty(start) => Node::Open(tag(ns, &start, true, pos)?),
                Event::End(_) => Node::Close,
                Event::Text(text) => Node::Text(text.xml10_content().into_owned()),
                Event::CData(cdata) => Node::Text(cdata.xml10_content().into_owned()),
                Event::GeneralRef(reference) => Node::Text(resolve_reference(&reference, pos)?),
                Event::Eof => Node::Eof,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            };
            self.check_characters()?;
            self.track_depth(&node, pos)?;
            return Ok(node);
        }
    }

    /// Control characters make a document not well-formed; quick-xml does not look for them.
    fn check_characters(&self) -> Result<(), ReqifError> {
        match self.reader.get_ref().forbidden() {
            None => Ok(()),
            Some((pos, byte)) => {
                let message = format!(
                    "not well-formed XML: the control character U+{byte:04X} is not allowed"
                );
                Err(ReqifError::at(pos, message))
            }
        }
    }

    fn track_depth(&mut self, node: &Node, pos: Pos) -> Result<(), ReqifError> {
        match node {
            Node::Open(tag) if !tag.empty => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(ReqifError::at(
                        pos,
                        format!("elements are nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            Node::Close => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Ok(())
    }
}

/// Our namespace classification, or the error for an undeclared prefix.
fn namespace(ns: ResolveResult<'_>) -> Result<Ns, String> {
    match ns {
        ResolveResult::Bound(ns) if ns.0 == REQIF_NAMESPACE || ns.0 == REQIF_DRAFT_NAMESPACE => {
            Ok(Ns::ReqIf)
        }
        ResolveResult::Bound(ns) if ns.0 == XHTML_NAMESPACE => Ok(Ns::Xhtml),
        ResolveResult::Bound(ns) => Ok(Ns::Other(ns.0.to_owned())),
        ResolveResult::Unbound => Ok(Ns::None),
        ResolveResult::Unknown(prefix) => Err(prefix),
    }
}

fn tag(
    ns: Result<Ns, String>,
    start: &BytesStart<'_>,
    empty: bool,
    pos: Pos,
) -> Result<Tag, ReqifError> {
    let qname = start.name().0.to_owned();
    let ns = ns.map_err(|prefix| {
        ReqifError::at(
            pos,
            format!("<{qname}> uses the undeclared namespace prefix \"{prefix}\""),
        )
    })?;
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| ReqifError::at(pos, format!("in <{qname}>: {e}")))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| {
                ReqifError::at(pos, format!("attribute {} of <{qname}>: {e}", attr.key.0))
            })?;
        attrs.push((attr.key.0.to_owned(), value.into_owned()));
    }
    Ok(Tag {
        ns,
        name: start.local_name().into_inner().to_owned(),
        attrs,
        empty,
        pos,
    })
}

fn resolve_reference(reference: &BytesRef<'_>, pos: Pos) -> Result<String, ReqifError> {
    resolve_entity(reference).map_err(|message| ReqifError::at(pos, message))
}

/// The text a character or predefined entity reference stands for. Other entities would need
/// a DTD, which ReqIF does not have (and which would open the door to entity expansion).
pub(crate) fn resolve_entity(reference: &BytesRef<'_>) -> Result<String, String> {
    let name: &str = reference;
    match reference.resolve_char_ref() {
        Ok(Some(c)) if is_xml_char(c) => Ok(c.to_string()),
        Ok(Some(c)) => Err(format!(
            "&{name}; is the character U+{:04X}, which XML 1.0 does not allow",
            c as u32
        )),
        Ok(None) => quick_xml::escape::resolve_predefined_entity(name)
            .map(str::to_owned)
            .ok_or_else(|| format!("undefined entity reference &{name};")),
        Err(e) => Err(format!("&{name};: {e}")),
    }
}

pub(crate) fn describe_xml_error(e: &quick_xml::Error) -> String {
    match e {
        quick_xml::Error::Io(io) => format!("cannot read the document: {io}"),
        other => format!("not well-formed XML: {other}"),
    }
}
