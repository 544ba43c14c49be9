//! ReqIF 1.2 reading and writing (OMG ReqIF, namespace
//! `http://www.omg.org/spec/ReqIF/20110401/reqif.xsd`).
//!
//! Reading streams the XML with quick-xml: the [`ReqifDocument`] that comes back is the only
//! in-memory copy of the content. A document is either read completely and consistently or
//! rejected with a [`ReqifError`] that names the element and its line and column, so an
//! importer never has to deal with half a file. Rejected are: input that is not well-formed
//! XML, a root that is not `REQ-IF` in the ReqIF namespace, encodings other than UTF-8
//! (US-ASCII and ISO-8859-1 are read too), unexpected elements where they would hide content,
//! references that point nowhere (types, datatypes, attribute definitions, enumeration values,
//! relation ends, hierarchy objects), duplicate identifiers and values that do not parse for
//! their datatype. This is stricter than the Python `reqif` library, which parses files with
//! dangling type and datatype references; see the classification of the interop files in
//! `tests.rs` for each case and why.
//!
//! Deliberately tolerated, because real exports contain them and nothing is lost: a missing XML
//! declaration, a missing `THE-HEADER` or `CORE-CONTENT`, `REQ-IF-CONTENT` sections in any
//! order, unknown elements *inside* an identifiable (e.g. `<IS-EDITABLE>` written as an element)
//! and elements of other namespaces (tool extensions). Not modelled and skipped: `DESC`,
//! `ALTERNATIVE-ID`, `SPEC-RELATION-GROUPS`, `TOOL-EXTENSIONS`, `THE-ORIGINAL-VALUE` and XML
//! comments inside XHTML.
//!
//! Writing emits ReqIF 1.2 (`REQ-IF-VERSION` 1.0, as the schema fixes it) that passes the
//! official XSD; `write` runs the same consistency checks as `read` first and refuses a
//! document that would not validate.

mod error;
mod lexical;
mod model;
mod read;
mod source;
mod validate;
mod write;
mod xhtml;
mod xml;
mod zipped;

#[cfg(test)]
mod tests;

pub use error::ReqifError;
pub use model::{
    AttributeDefinition, AttributeValue, Datatype, DatatypeKind, EnumValue, Header, Hierarchy,
    HierarchyEntry, ReqifDocument, SpecObject, SpecRelation, SpecType, SpecTypeCategory,
    Specification, Value, ValueKind,
};

/// The ReqIF 1.0/1.1/1.2 XML namespace (all three versions share it).
pub const REQIF_NAMESPACE: &str = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd";
/// The XHTML namespace used inside `ATTRIBUTE-VALUE-XHTML`.
pub const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// Reads a `.reqif` XML stream.
pub fn read(reader: impl std::io::BufRead) -> Result<ReqifDocument, ReqifError> {
    read::parse(reader)
}

/// Reads a `.reqifz` archive: the first `*.reqif` entry inside (attachments are ignored).
/// The entry is read through a cap of [`MAX_REQIF_ENTRY_BYTES`] uncompressed bytes.
pub fn read_reqifz(
    reader: impl std::io::Read + std::io::Seek,
) -> Result<ReqifDocument, ReqifError> {
    zipped::read_reqifz(reader, MAX_REQIF_ENTRY_BYTES)
}

/// Reads either form: a zip archive (detected by its `PK\x03\x04` magic) or ReqIF XML.
pub fn read_bytes(bytes: &[u8]) -> Result<ReqifDocument, ReqifError> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_reqifz(std::io::Cursor::new(bytes))
    } else {
        read(bytes)
    }
}

/// Writes ReqIF 1.2 XML. Fails (writing nothing useful) if the document is inconsistent, an
/// identifier is not a valid `xsd:ID`, a date is not an `xsd:dateTime`, an XHTML value is not
/// well-formed, or a text holds characters XML 1.0 cannot carry.
pub fn write(doc: &ReqifDocument, out: impl std::io::Write) -> Result<(), ReqifError> {
    write::write_document(doc, out)
}

/// Largest uncompressed `.reqif` entry [`read_reqifz`] reads (512 MiB); larger entries are
/// refused rather than inflated, which defuses zip bombs.
pub const MAX_REQIF_ENTRY_BYTES: u64 = 512 * 1024 * 1024;
