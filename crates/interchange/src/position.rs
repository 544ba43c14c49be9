//! Where something is in a UTF-8 input, as people count it (line and column), and the
//! byte-level check the XML readers make on the way: both work on bytes the parser has already
//! seen, so no reader has to keep the text to say where an error is.

/// A line and column in the input (both 1-based, the column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };

    /// Moves past `bytes` (UTF-8): a line feed starts a new line, every other character
    /// counts one column, whatever its length in bytes.
    pub fn advance(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                // Not a UTF-8 continuation byte: a new character starts here.
                self.column += 1;
            }
        }
    }
}

/// The index of the first control character XML 1.0 does not allow (all of C0 except tab,
/// line feed and carriage return). quick-xml does not look for them, and a document that
/// carries one is not well-formed.
pub(crate) fn forbidden_control(bytes: &[u8]) -> Option<usize> {
    bytes
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters_not_bytes() {
        let mut pos = Pos::START;
        pos.advance("<a>\nüb<b/>".as_bytes());
        assert_eq!(pos, Pos { line: 2, column: 7 });
        pos.advance(b"\r\n");
        assert_eq!(pos, Pos { line: 3, column: 1 });
    }

    #[test]
    fn finds_control_characters_but_not_tab_or_newlines() {
        assert_eq!(forbidden_control(b"a\tb\r\nc"), None);
        assert_eq!(forbidden_control(b"ab\x1b[31m"), Some(2));
        assert_eq!(forbidden_control(b"\x00"), Some(0));
    }
}
