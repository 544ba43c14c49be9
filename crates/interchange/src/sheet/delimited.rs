//! CSV: writing with reversible formula neutralisation, and streaming reading with delimiter
//! detection and spreadsheet row numbers.

use std::borrow::Cow;

use super::{format_date, format_number, is_blank, Cell, SheetError};
use crate::csv_export::neutralise;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes CSV into memory.
pub(super) struct CsvSheetWriter {
    out: csv::Writer<Vec<u8>>,
}

impl CsvSheetWriter {
    pub(super) fn new() -> Self {
        // The BOM is what makes Excel read the file as UTF-8 rather than the local code page.
        let out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            // Row shapes are checked by `SheetWriter`, which also allows header-less sheets.
            .flexible(true)
            .from_writer(UTF8_BOM.to_vec());
        Self { out }
    }

    pub(super) fn header(&mut self, names: &[&str]) -> Result<(), SheetError> {
        for name in names {
            self.field(&encode_text(name))?;
        }
        self.end_record()
    }

    /// Writes `cells`, padded with empty cells to `width`.
    pub(super) fn row(&mut self, cells: &[Cell], width: usize) -> Result<(), SheetError> {
        for cell in cells {
            self.field(&cell_text(cell))?;
        }
        for _ in cells.len()..width {
            self.field("")?;
        }
        self.end_record()
    }

    pub(super) fn finish(self) -> Result<Vec<u8>, SheetError> {
        self.out
            .into_inner()
            .map_err(|e| SheetError::write(e.error()))
    }

    fn field(&mut self, text: &str) -> Result<(), SheetError> {
        self.out.write_field(text).map_err(SheetError::write)
    }

    fn end_record(&mut self) -> Result<(), SheetError> {
        self.out
            .write_record(None::<&[u8]>)
            .map_err(SheetError::write)
    }
}

/// A cell as CSV text.
fn cell_text(cell: &Cell) -> Cow<'_, str> {
    match cell {
        Cell::Text(text) => encode_text(text),
        // Numbers are not neutralised: "-3" is a number to a spreadsheet, not a formula.
        Cell::Number(number) => Cow::Owned(format_number(*number)),
        Cell::Bool(true) => Cow::Borrowed("true"),
        Cell::Bool(false) => Cow::Borrowed("false"),
        Cell::Date(date) => Cow::Owned(format_date(*date)),
        Cell::Empty => Cow::Borrowed(""),
    }
}

/// Neutralises text so a spreadsheet does not run it, in a way `decode_text` undoes: see the
/// module documentation of `sheet`.
fn encode_text(text: &str) -> Cow<'_, str> {
    let bare = text.trim_start_matches('\'');
    if bare.len() == text.len() {
        neutralise(text)
    } else if is_formula_like(bare) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Takes back the `'` that `encode_text` adds.
fn decode_text(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if is_formula_like(rest.trim_start_matches('\'')) => rest,
        _ => text,
    }
}

/// True when a spreadsheet would run `text` as a formula. Asks `neutralise`, the one place
/// that knows the trigger characters, whether it would change the text.
fn is_formula_like(text: &str) -> bool {
    matches!(neutralise(text), Cow::Owned(_))
}

/// Reads CSV records from borrowed bytes, one at a time.
pub(super) struct CsvRows<'a> {
    /// The file without its BOM; the reader's byte positions index into it.
    data: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    /// Cells in the header.
    width: usize,
    lines: RowCounter,
}

impl<'a> CsvRows<'a> {
    /// Reads the header and returns it with the reader positioned at the first data row.
    pub(super) fn open(bytes: &'a [u8]) -> Result<(Vec<String>, Self), SheetError> {
        let data = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        if data.iter().all(|b| matches!(b, b'\r' | b'\n')) {
            return Err(SheetError::Empty);
        }
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(detect_delimiter(data))
            .from_reader(data);
        let mut rows = Self {
            data,
            reader,
            record: csv::ByteRecord::new(),
            width: 0,
            lines: RowCounter::default(),
        };
        let (_, headers) = rows.next_nonblank().ok_or(SheetError::NoHeaderRow)??;
        rows.width = headers.len();
        Ok((headers, rows))
    }

    pub(super) fn next_row(&mut self) -> Option<Result<(u64, Vec<String>), SheetError>> {
        Some(self.next_nonblank()?.and_then(|(row, cells)| {
            if cells.len() == self.width {
                Ok((row, cells))
            } else {
                Err(SheetError::RaggedRow {
                    row,
                    found: cells.len(),
                    expected: self.width,
                })
            }
        }))
    }

    /// The next record with a non-empty cell, decoded.
    fn next_nonblank(&mut self) -> Option<Result<(u64, Vec<String>), SheetError>> {
        loop {
            let row = match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => self.lines.advance(self.data, &self.record),
                Err(error) => {
                    return Some(Err(SheetError::Row {
                        row: self.lines.row + 1,
                        message: error.to_string(),
                    }))
                }
            };
            match decode_record(&self.record, row) {
                Ok(cells) if is_blank(&cells) => continue,
                result => return Some(result.map(|cells| (row, cells))),
            }
        }
    }
}

fn decode_record(record: &csv::ByteRecord, row: u64) -> Result<Vec<String>, SheetError> {
    record
        .iter()
        .map(|field| match std::str::from_utf8(field) {
            Ok(text) => Ok(decode_text(text).to_owned()),
            Err(_) => Err(SheetError::NotUtf8 { row }),
        })
        .collect()
}

/// Numbers records the way a spreadsheet numbers rows. The csv crate skips blank lines (a
/// spreadsheet shows them as rows) and a quoted cell can span lines (a spreadsheet shows one
/// row), so neither the record count nor the line number will do. Between the starts of two
/// records lie the first record's own line breaks (inside its cells), its terminator, and one
/// break per blank line; counting the breaks in the bytes and subtracting those inside the
/// cells leaves one row for the record plus one per blank line.
#[derive(Default)]
struct RowCounter {
    /// Row of the last record; 0 before the first.
    row: u64,
    /// Byte offset where the last record's content starts.
    start: usize,
    /// Line breaks inside the last record's cells.
    breaks_inside: u64,
}

impl RowCounter {
    /// Accounts for `record`, just read, and returns its row.
    fn advance(&mut self, data: &[u8], record: &csv::ByteRecord) -> u64 {
        let Some(position) = record.position() else {
            self.row += 1;
            return self.row;
        };
        // The reader's position can sit before leftover line-end bytes and blank lines.
        let from = usize::try_from(position.byte()).unwrap_or(data.len());
        let start = data
            .get(from..)
            .and_then(|rest| rest.iter().position(|b| !matches!(b, b'\r' | b'\n')))
            .map_or(data.len(), |skip| from + skip);
        let breaks_between = data.get(self.start..start).map_or(0, line_breaks);
        // The first record has no terminator before it: its row is one plus the blank lines.
        let first = u64::from(self.row == 0);
        // At least one row per record, even if odd quoting makes the counts disagree.
        let step = (first + breaks_between).saturating_sub(self.breaks_inside);
        self.row += step.max(1);
        self.start = start;
        self.breaks_inside = record.iter().map(line_breaks).sum();
        self.row
    }
}

/// Line breaks in `bytes`: LF, CRLF and a lone CR each count once.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut count = 0;
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        let lone_cr = byte == b'\r' && iter.peek() != Some(&&b'\n');
        if byte == b'\n' || lone_cr {
            count += 1;
        }
    }
    count
}

/// The delimiter that splits the header line most often: `,`, `;` or tab (`,` on a tie).
/// Excel writes `;` where the decimal separator is a comma, and "Text (Tab delimited)" files.
fn detect_delimiter(data: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    let first_line = data.iter().skip_while(|b| matches!(b, b'\r' | b'\n'));
    for &byte in first_line {
        match byte {
            b'"' => quoted = !quoted,
            b'\r' | b'\n' if !quoted => break,
            _ if quoted => {}
            _ => {
                if let Some(index) = CANDIDATES.iter().position(|&c| c == byte) {
                    counts[index] += 1;
                }
            }
        }
    }
    let mut best = 0;
    for index in 1..CANDIDATES.len() {
        if counts[index] > counts[best] {
            best = index;
        }
    }
    CANDIDATES[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralisation_is_reversible() {
        let cases = [
            ("=1+1", "'=1+1"),
            ("-x", "'-x"),
            ("\tx", "'\tx"),
            ("'=1", "''=1"),
            ("''@a", "'''@a"),
            ("'quoted'", "'quoted'"),
            ("'", "'"),
            ("", ""),
            ("plain", "plain"),
            ("a=b", "a=b"),
        ];
        for (text, encoded) in cases {
            assert_eq!(encode_text(text), encoded, "encoding {text:?}");
            assert_eq!(decode_text(encoded), text, "decoding {encoded:?}");
        }
    }

    #[test]
    fn delimiter_follows_the_header_line() {
        assert_eq!(detect_delimiter(b"a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(detect_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(detect_delimiter(b"\"x;y\",b\n"), b',');
        assert_eq!(detect_delimiter(b"\r\n\r\na;b\n"), b';');
        assert_eq!(detect_delimiter(b"single\n"), b',');
    }

    #[test]
    fn line_breaks_count_crlf_once() {
        assert_eq!(line_breaks(b"a\r\nb\nc\rd"), 3);
        assert_eq!(line_breaks(b""), 0);
    }
}
