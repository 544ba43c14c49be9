//! ReqIF 1.2 reading and writing (OMG ReqIF, namespace
//! `http://www.omg.org/spec/ReqIF/20110401/reqif.xsd`).
//!
//! What is read follows the `reqif` Python library, the reference for which files are ReqIF:
//! `reqif validate FILE` (without `--use-reqif-schema`) accepting a file means [`read`] reads
//! it, and a file the validator refuses is rejected with a [`ReqifError`] that names the
//! element and its line and column (see the classification of the interop files in
//! `tests.rs`). Reading streams the XML with quick-xml: the [`ReqifDocument`] that comes back
//! is the only in-memory copy of the content, and a document is either read completely or
//! rejected, so an importer never has to deal with half a file.
//!
//! Rejected are: input that is not well-formed XML, a file without an XML declaration or
//! declaring an encoding other than UTF-8, a root that is not `REQ-IF` in the ReqIF namespace
//! (or in the namespace of the 1.0 draft, `http://www.omg.org/spec/ReqIF/20101201`, which
//! early tools wrote), references from `SPEC-HIERARCHY` and from a `SPEC-RELATION`'s `SOURCE`
//! and `TARGET` to spec objects the file does not contain (and relations without either end),
//! duplicate identifiers, identifiables without an `IDENTIFIER`, and integers, reals and
//! booleans that do not parse.
//!
//! Read leniently, as the library does: references to spec types, datatypes, attribute
//! definitions and enumeration values are kept as written even when the file does not define
//! what they name or defines something of another kind (feature snippets and partial exports
//! do that); a value's kind is the one its `ATTRIBUTE-VALUE-*` element names. A `SPECIFICATION`
//! without `TYPE` gets an empty `type_ref`. Dates (values, `LAST-CHANGE`, `CREATION-TIME`) are
//! kept as written, even if they are not `xsd:dateTime`s. Unknown and misplaced elements are
//! skipped with their content, as are elements of other namespaces (tool extensions), a
//! missing `THE-HEADER` or `CORE-CONTENT` is an empty part, and the `REQ-IF-CONTENT` sections
//! may come in any order. Not modelled and skipped: `DESC`, `ALTERNATIVE-ID`,
//! `SPEC-RELATION-GROUPS`, `TOOL-EXTENSIONS`, `THE-ORIGINAL-VALUE` and XML comments inside
//! XHTML.
//!
//! Writing emits ReqIF 1.2 (`REQ-IF-VERSION` 1.0, as the schema fixes it) that passes the
//! official XSD, for every document the reader accepts: the writer supplies the definitions
//! that dangling references need, renames identifiers that are not `xsd:ID`s, and leaves out
//! what the schema cannot carry (dates that are not dates); see `complete.rs`. It refuses only
//! documents that break what the reader insists on (duplicate identifiers, references to
//! missing spec objects) and content built in memory that XML cannot carry.

mod complete;
mod error;
mod lexical;
mod model;
pub mod plain;
mod read;
mod source;
mod validate;
mod write;
mod xhtml;
pub(crate) mod xml;
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
/// The namespace of the ReqIF 1.0 draft, read as well (never written).
pub(crate) const REQIF_DRAFT_NAMESPACE: &str = "http://www.omg.org/spec/ReqIF/20101201";
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

/// Writes ReqIF 1.2 XML that passes the ReqIF schema. Definitions the document refers to but
/// lacks are written too (named after the reference), identifiers that are not `xsd:ID`s are
/// renamed, and dates that are not `xsd:dateTime`s are left out (see the module
/// documentation). Fails (writing nothing useful) if identifiers are not unique, a relation
/// or hierarchy node refers to a missing spec object, an XHTML value is not well-formed, or a
/// text holds characters XML 1.0 cannot carry; none of that can come from [`read`].
pub fn write(doc: &ReqifDocument, out: impl std::io::Write) -> Result<(), ReqifError> {
    write::write_document(doc, out)
}

/// Largest uncompressed `.reqif` entry [`read_reqifz`] reads (512 MiB); larger entries are
/// refused rather than inflated, which defuses zip bombs.
pub const MAX_REQIF_ENTRY_BYTES: u64 = 512 * 1024 * 1024;
