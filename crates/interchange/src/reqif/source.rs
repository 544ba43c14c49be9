//! The byte source under the XML parser: buffers the input, decides its encoding from the XML
//! declaration (transcoding ISO-8859-1 to UTF-8 on the fly) and counts lines and columns of
//! everything the parser consumes, so errors can say where they are without keeping the text.

use std::io::{self, BufRead, Read};

use super::error::{Pos, ReqifError};

const CHUNK: usize = 64 * 1024;
/// How much is read up front to find the XML declaration.
const PROLOGUE: usize = 1024;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) struct Source<R> {
    inner: R,
    /// UTF-8 bytes for the parser; `buf[start..]` not consumed yet.
    buf: Vec<u8>,
    start: usize,
    /// Raw bytes before transcoding (only used for ISO-8859-1).
    raw: Vec<u8>,
    latin1: bool,
    eof: bool,
    line: u64,
    column: u64,
    /// The first control character seen (XML 1.0 allows only tab, line feed and carriage
    /// return): noted here, where every byte passes anyway, and reported by the parser.
    forbidden: Option<(Pos, u8)>,
}

enum Encoding {
    Utf8,
    Latin1,
}

impl<R: Read> Source<R> {
    /// Reads the prologue and checks the encoding; an empty input is an error here already.
    pub fn open(inner: R) -> Result<Self, ReqifError> {
        let mut source = Source {
            inner,
            buf: Vec::with_capacity(CHUNK),
            start: 0,
            raw: Vec::new(),
            latin1: false,
            eof: false,
            line: 1,
            column: 1,
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
        if let Encoding::Latin1 = sniff_encoding(&source.buf[source.start..])? {
            source.latin1 = true;
            let raw = std::mem::take(&mut source.buf);
            latin1_to_utf8(&raw[source.start..], &mut source.buf);
            source.start = 0;
        }
        Ok(source)
    }

    /// The first character XML 1.0 forbids that was consumed, and where it was.
    pub fn forbidden(&self) -> Option<(Pos, u8)> {
        self.forbidden
    }

    /// Where the next unconsumed character is.
    pub fn position(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.column,
        }
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
        let target = if self.latin1 {
            &mut self.raw
        } else {
            &mut self.buf
        };
        target.resize(CHUNK, 0);
        let n = loop {
            match self.inner.read(target) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        target.truncate(n);
        if self.latin1 {
            latin1_to_utf8(&self.raw, &mut self.buf);
        }
        self.eof = n == 0;
        Ok(())
    }

    fn count(&mut self, consumed: usize) {
        let end = (self.start + consumed).min(self.buf.len());
        for &b in &self.buf[self.start..end] {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
                continue;
            }
            if b < 0x20 && b != b'\t' && b != b'\r' && self.forbidden.is_none() {
                let pos = Pos {
                    line: self.line,
                    column: self.column,
                };
                self.forbidden = Some((pos, b));
            }
            if b & 0xC0 != 0x80 {
                // Not a UTF-8 continuation byte: a new character starts here.
                self.column += 1;
            }
        }
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

/// The encoding the XML declaration names. UTF-16 (detected by its byte order mark or by the
/// zero bytes around `<`) and anything but UTF-8, US-ASCII and ISO-8859-1 are refused: the
/// parser is UTF-8 only and the ReqIF implementation guide asks for UTF-8.
fn sniff_encoding(prologue: &[u8]) -> Result<Encoding, ReqifError> {
    let utf16 = [&b"\xFE\xFF"[..], b"\xFF\xFE", b"\x00<", b"<\x00"];
    if utf16.iter().any(|mark| prologue.starts_with(mark)) {
        return Err(ReqifError::at(
            Pos::START,
            "the document is UTF-16 encoded; only UTF-8 ReqIF files are supported",
        ));
    }
    let Some(label) = declared_encoding(prologue) else {
        return Ok(Encoding::Utf8);
    };
    match label.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "us-ascii" | "ascii" => Ok(Encoding::Utf8),
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "l1" => Ok(Encoding::Latin1),
        _ => Err(ReqifError::at(
            Pos::START,
            format!(
                "unsupported encoding declaration \"{label}\" in the XML declaration; \
                 ReqIF files must be UTF-8 (US-ASCII and ISO-8859-1 are read too)"
            ),
        )),
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

fn latin1_to_utf8(raw: &[u8], out: &mut Vec<u8>) {
    let mut utf8 = [0u8; 4];
    for &b in raw {
        if b.is_ascii() {
            out.push(b);
        } else {
            out.extend_from_slice(char::from(b).encode_utf8(&mut utf8).as_bytes());
        }
    }
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
        let source = Source::open("<a>\nüb<b/>".as_bytes()).unwrap();
        let (_, pos) = drain(source);
        assert_eq!(pos, Pos { line: 2, column: 7 });
    }

    #[test]
    fn transcodes_latin1() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xfc</a>";
        let (text, _) = drain(Source::open(&bytes[..]).unwrap());
        assert!(text.ends_with("<a>ü</a>"));
    }

    #[test]
    fn refuses_other_encodings() {
        let err = Source::open(&b"<?xml version='1.0' encoding='Shift_JIS'?><a/>"[..])
            .err()
            .unwrap();
        assert!(err.message.contains("Shift_JIS"), "{err}");
        let err = Source::open(&b"\xFF\xFE<\x00a\x00"[..]).err().unwrap();
        assert!(err.message.contains("UTF-16"), "{err}");
        let err = Source::open(&b""[..]).err().unwrap();
        assert_eq!(err.to_string(), "line 1, column 1: the document is empty");
    }
}
