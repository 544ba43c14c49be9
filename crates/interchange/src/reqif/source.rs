//! The byte source under the XML parser: buffers the input, checks the XML declaration (there
//! must be one, and it must not declare an encoding other than UTF-8) and counts lines and
//! columns of everything the parser consumes, so errors can say where they are without keeping
//! the text.

use std::io::{self, BufRead, Read};

use super::error::{Pos, ReqifError};
use crate::position::forbidden_control;

const CHUNK: usize = 64 * 1024;
/// How much is read up front to find the XML declaration.
const PROLOGUE: usize = 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) struct Source<R> {
    inner: R,
    /// UTF-8 bytes for the parser; `buf[start..]` not consumed yet.
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    /// Where `buf[start]` is.
    pos: Pos,
    /// The first control character seen (XML 1.0 allows only tab, line feed and carriage
    /// return): noted here, where every byte passes anyway, and reported by the parser.
    forbidden: Option<(Pos, u8)>,
}

impl<R: Read> Source<R> {
    /// Reads the prologue and checks the XML declaration; an empty input is an error here
    /// already.
    pub fn open(inner: R) -> Result<Self, ReqifError> {
        let mut source = Source {
            inner,
            buf: Vec::with_capacity(CHUNK),
            start: 0,
            eof: false,
            pos: Pos::START,
            forbidden: None,
        };
        source
            .read_prologue()
            .map_err(|e| ReqifError::at(Pos::START, format!("cannot read the document: {e}")))?;
        if source.buf.is_empty() {
            return Err(ReqifError::at(Pos::START, "the document is empty"));
        }
        if source.buf.starts_with(UTF8_BOM) {
            source.start = UTF8_BOM.len();
        }
        check_declaration(&source.buf[source.start..])?;
        Ok(source)
    }

    /// The first character XML 1.0 forbids that was consumed, and where it was.
    pub fn forbidden(&self) -> Option<(Pos, u8)> {
        self.forbidden
    }

    /// Where the next unconsumed character is.
    pub fn position(&self) -> Pos {
        self.pos
    }

    fn read_prologue(&mut self) -> io::Result<()> {
        self.buf.resize(PROLOGUE, 0);
        let mut filled = 0;
        while filled < PROLOGUE {
            match self.inner.read(&mut self.buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.buf.truncate(filled);
        Ok(())
    }

    fn refill(&mut self) -> io::Result<()> {
        self.buf.clear();
        self.start = 0;
        self.buf.resize(CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.buf.truncate(n);
        self.eof = n == 0;
        Ok(())
    }

    fn count(&mut self, consumed: usize) {
        let end = (self.start + consumed).min(self.buf.len());
        let bytes = &self.buf[self.start..end];
        if self.forbidden.is_none() {
            if let Some(at) = forbidden_control(bytes) {
                let mut pos = self.pos;
                pos.advance(&bytes[..at]);
                self.forbidden = Some((pos, bytes[at]));
            }
        }
        self.pos.advance(bytes);
        self.start = end;
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start >= self.buf.len() && !self.eof {
            self.refill()?;
        }
        Ok(&self.buf[self.start..])
    }

    fn consume(&mut self, amt: usize) {
        self.count(amt);
    }
}

/// What every ReqIF document starts with (the ReqIF implementation guide asks for it, and the
/// `reqif` library's validator refuses files without it).
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// The document must open with an XML declaration (after an optional byte order mark), and the
/// declaration must not name an encoding other than UTF-8: the parser is UTF-8 only and ReqIF
/// requires UTF-8. Without an `encoding` the declaration means UTF-8. The name is compared
/// without regard to case, as XML encoding names are case-insensitive. UTF-16 (detected by its
/// byte order mark or by the zero bytes around `<`) is refused with its own message.
fn check_declaration(prologue: &[u8]) -> Result<(), ReqifError> {
    let utf16 = [&b"\xFE\xFF"[..], b"\xFF\xFE", b"\x00<", b"<\x00"];
    if utf16.iter().any(|mark| prologue.starts_with(mark)) {
        return Err(ReqifError::at(
            Pos::START,
            "the document is UTF-16 encoded; ReqIF files must be UTF-8",
        ));
    }
    let declared = prologue
        .strip_prefix(b"<?xml")
        .and_then(|rest| rest.first())
        .is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if !declared {
        return Err(ReqifError::at(
            Pos::START,
            format!("the file has no XML declaration; a ReqIF file must start with {DECLARATION}"),
        ));
    }
    match declared_encoding(prologue) {
        Some(label) if !label.eq_ignore_ascii_case("UTF-8") => Err(ReqifError::at(
            Pos::START,
            format!(
                "the XML declaration declares the encoding \"{label}\"; ReqIF requires UTF-8 \
                 ({DECLARATION})"
            ),
        )),
        _ => Ok(()),
    }
}

/// The `encoding` pseudo-attribute of a leading `<?xml …?>`, if there is one.
fn declared_encoding(prologue: &[u8]) -> Option<String> {
    let rest = prologue.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut source: Source<&[u8]>) -> (String, Pos) {
        let mut text = String::new();
        source.read_to_string(&mut text).unwrap();
        (text, source.position())
    }

    #[test]
    fn counts_lines_and_characters() {
        let source = Source::open("<?xml version=\"1.0\"?>\n<a>\nüb<b/>".as_bytes()).unwrap();
        let (_, pos) = drain(source);
        assert_eq!(pos, Pos { line: 3, column: 7 });
    }

    #[test]
    fn requires_a_utf8_declaration() {
        let open = |bytes: &[u8]| Source::open(bytes).err().map(|e| e.to_string());
        assert_eq!(open(b"<?xml version='1.0' encoding='UTF-8'?><a/>"), None);
        assert_eq!(open(b"<?xml version='1.0' encoding='utf-8'?><a/>"), None);
        assert_eq!(open(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<a/>"), None);
        let err = open(b"<a/>").unwrap();
        assert!(
            err.starts_with("line 1, column 1: the file has no XML declaration"),
            "{err}"
        );
        let err = open(b"\n<?xml version='1.0'?><a/>").unwrap();
        assert!(err.contains("no XML declaration"), "{err}");
        let err = open(b"<?xml-stylesheet href='a'?><a/>").unwrap();
        assert!(err.contains("no XML declaration"), "{err}");
        for label in ["ISO-8859-1", "US-ASCII", "Shift_JIS", "UTF8"] {
            let text = format!("<?xml version='1.0' encoding='{label}'?><a/>");
            let err = open(text.as_bytes()).unwrap();
            assert!(
                err.contains(&format!("encoding \"{label}\"; ReqIF requires UTF-8")),
                "{err}"
            );
        }
        let err = open(b"\xFF\xFE<\x00a\x00").unwrap();
        assert!(err.contains("UTF-16"), "{err}");
        let err = open(b"").unwrap();
        assert_eq!(err, "line 1, column 1: the document is empty");
    }
}
