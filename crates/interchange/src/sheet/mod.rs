//! Tabular files (CSV and XLSX) read and written row by row: requirement module import and
//! export, RVTM export.
//!
//! Writing streams: a CSV grows in one buffer; an XLSX worksheet is deflated into a zip entry
//! as its rows arrive, so memory follows the compressed output rather than the cell count.
//! Reading a CSV streams from the caller's bytes; an XLSX sheet is loaded by calamine.
//!
//! Text round-trips exactly: what [`SheetWriter`] writes, [`SheetReader`] reads back as the same
//! strings (numbers, booleans and dates in the textual forms listed on [`SheetReader`]).
//!
//! CSV formula neutralisation is reversible. A spreadsheet runs a cell starting with `=`, `+`,
//! `-`, `@`, tab or carriage return, so the writer prefixes such a cell with `'`
//! ([`crate::csv_export::neutralise`]). A cell that is one or more `'` followed by such a
//! character gets one more `'`, so the reader can always take exactly one `'` back off a cell
//! of that shape: `=1` → `'=1` → `=1`, and `'=1` → `''=1` → `'=1`. Every other cell is
//! written and read unchanged. XLSX needs none of this: text is stored as a string cell,
//! which no spreadsheet evaluates.

mod delimited;
mod xlsx_read;
mod xlsx_write;

#[cfg(test)]
mod tests;

/// The most rows (counting the header, as a spreadsheet numbers them) read or written.
/// Stays below Excel's 1,048,576 so every file written here opens in a spreadsheet.
pub const MAX_ROWS: u64 = 1_000_000;

/// The signature of an OLE compound file.
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The file formats handled here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    /// The format named by a file name's extension (`.csv`, `.tsv`, `.xlsx`, `.xlsm`), any case.
    pub fn from_name(file_name: &str) -> Option<Self> {
        let (_, extension) = file_name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Some(Self::Csv),
            "xlsx" | "xlsm" => Some(Self::Xlsx),
            _ => None,
        }
    }

    /// The format of a file's content: a zip archive (XLSX) or else text (CSV).
    pub fn detect(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            Self::Xlsx
        } else {
            Self::Csv
        }
    }

    /// The media type for an HTTP `Content-Type` header.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// One cell to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    Date(chrono::NaiveDate),
    Empty,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<f64> for Cell {
    fn from(number: f64) -> Self {
        Self::Number(number)
    }
}

impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<chrono::NaiveDate> for Cell {
    fn from(date: chrono::NaiveDate) -> Self {
        Self::Date(date)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Empty, Into::into)
    }
}

/// Why a sheet could not be read or written. Messages are written for the person whose file
/// it is, and name the row (as a spreadsheet numbers it, header = 1) or column (A, B, ...).
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has no header row")]
    NoHeaderRow,
    #[error("not a valid XLSX file: {0}")]
    InvalidXlsx(String),
    #[error(
        "this is an old binary Excel (.xls) file or a password-protected workbook; \
         save it as .xlsx or as CSV UTF-8 and try again"
    )]
    UnsupportedWorkbook,
    #[error("the header names column \"{name}\" twice (columns {first} and {second})")]
    DuplicateHeader {
        name: String,
        first: String,
        second: String,
    },
    #[error("a CSV row has {found} cells but the header has {expected} (row {row})")]
    RaggedRow {
        row: u64,
        found: usize,
        expected: usize,
    },
    #[error("row {row}: column {column} has a value but no header")]
    CellOutsideHeader { row: u64, column: String },
    #[error("row {row}: the text is not valid UTF-8; save the file as CSV UTF-8")]
    NotUtf8 { row: u64 },
    #[error("the file has more than {MAX_ROWS} rows")]
    TooManyRows,
    #[error("row {row}: {found} cells but the header has only {expected}")]
    RowTooLong {
        row: u64,
        found: usize,
        expected: usize,
    },
    #[error("row {row}: more than {max} columns, the most a spreadsheet holds")]
    TooManyColumns { row: u64, max: usize },
    #[error(
        "row {row}, column {column}: the text is longer than {max} characters, \
         the most a spreadsheet cell holds"
    )]
    CellTooLong {
        row: u64,
        column: String,
        max: usize,
    },
    #[error("the header must be written before any row of the sheet")]
    HeaderAfterRows,
    #[error("invalid sheet name \"{name}\": {reason}")]
    InvalidSheetName { name: String, reason: &'static str },
    #[error("a CSV file holds a single sheet")]
    SingleSheetOnly,
    #[error("row {row}: {message}")]
    Row { row: u64, message: String },
    #[error("could not write the file: {0}")]
    Write(String),
}

impl SheetError {
    fn write(error: impl std::fmt::Display) -> Self {
        Self::Write(error.to_string())
    }
}

/// Writes rows to CSV (UTF-8 with a BOM so Excel reads it as UTF-8, CRLF line ends as in
/// RFC 4180, formula-neutralised text) or XLSX (header bold, frozen and filtered; text always
/// stored as strings, never as formulas).
///
/// Rows shorter than the header are padded with empty cells; longer ones are an error.
pub struct SheetWriter {
    backend: Backend,
    /// Cells in the header of the current sheet, if it has one.
    header_width: Option<usize>,
    /// Rows of the current sheet written so far, header included.
    rows: u64,
}

/// Both boxed: the XLSX writer carries kilobytes of deflate state and the CSV writer a few
/// hundred bytes, neither worth moving around by value.
enum Backend {
    Csv(Box<delimited::CsvSheetWriter>),
    Xlsx(Box<xlsx_write::XlsxWriter>),
}

impl SheetWriter {
    /// A writer whose first sheet is `sheet_name` (ignored for CSV, which has no sheets).
    pub fn new(format: SheetFormat, sheet_name: &str) -> Result<Self, SheetError> {
        let backend = match format {
            SheetFormat::Csv => Backend::Csv(Box::new(delimited::CsvSheetWriter::new())),
            SheetFormat::Xlsx => Backend::Xlsx(Box::new(xlsx_write::XlsxWriter::new(sheet_name)?)),
        };
        Ok(Self {
            backend,
            header_width: None,
            rows: 0,
        })
    }

    /// Writes the header row; only as the first row of a sheet.
    pub fn header(&mut self, names: &[&str]) -> Result<(), SheetError> {
        if self.rows > 0 {
            return Err(SheetError::HeaderAfterRows);
        }
        let row = self.next_row_number()?;
        match &mut self.backend {
            Backend::Csv(csv) => csv.header(names)?,
            Backend::Xlsx(xlsx) => xlsx.header(row, names)?,
        }
        self.rows = row;
        self.header_width = Some(names.len());
        Ok(())
    }

    /// Writes one data row.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), SheetError> {
        let row = self.next_row_number()?;
        let width = self.row_width(row, cells.len())?;
        match &mut self.backend {
            Backend::Csv(csv) => csv.row(cells, width)?,
            Backend::Xlsx(xlsx) => xlsx.row(row, cells)?,
        }
        // Counted only once written, so a rejected row leaves no gap in the numbering.
        self.rows = row;
        Ok(())
    }

    /// Starts another worksheet (XLSX only), e.g. "Links" next to "Requirements".
    pub fn add_sheet(&mut self, name: &str) -> Result<(), SheetError> {
        match &mut self.backend {
            Backend::Csv(_) => return Err(SheetError::SingleSheetOnly),
            Backend::Xlsx(xlsx) => xlsx.add_sheet(name)?,
        }
        self.header_width = None;
        self.rows = 0;
        Ok(())
    }

    /// The finished file.
    pub fn finish(self) -> Result<Vec<u8>, SheetError> {
        match self.backend {
            Backend::Csv(csv) => csv.finish(),
            Backend::Xlsx(xlsx) => xlsx.finish(),
        }
    }

    /// The number of the row about to be written.
    fn next_row_number(&self) -> Result<u64, SheetError> {
        if self.rows >= MAX_ROWS {
            return Err(SheetError::TooManyRows);
        }
        Ok(self.rows + 1)
    }

    /// The number of cells to write for a row of `found` cells: the header's width, so
    /// every row has the same shape, or `found` when the sheet has no header.
    fn row_width(&self, row: u64, found: usize) -> Result<usize, SheetError> {
        match self.header_width {
            Some(expected) if found > expected => Err(SheetError::RowTooLong {
                row,
                found,
                expected,
            }),
            Some(expected) => Ok(expected),
            None => Ok(found),
        }
    }
}

/// Reads the first sheet of an XLSX, or a CSV, one data row at a time.
///
/// Cells come back as the text a person typed: numbers without a trailing `.0` when integral
/// (rounded to the 15 significant digits a spreadsheet shows), booleans `true`/`false`, XLSX
/// date cells as `yyyy-mm-dd` (`yyyy-mm-ddThh:mm:ss` with a time, `hh:mm:ss` for a time
/// alone), XLSX error cells as shown (`#DIV/0!`), formulas as their cached value (never
/// evaluated), surrounding whitespace kept. Every row has as many cells as the header.
///
/// The header is the first row with any non-empty cell. Rows whose cells are all empty are
/// skipped (spreadsheets leave them behind), but still counted in row numbers.
///
/// CSV: the delimiter (`,`, `;` or tab) is taken from the header line; a UTF-8 BOM is
/// dropped; CRLF, LF and quoted multi-line cells work; the neutralising `'` written by
/// [`SheetWriter`] is taken back off (see the module documentation).
pub struct SheetReader<'a> {
    headers: Vec<String>,
    rows: Rows<'a>,
    /// Set after an error that ends the file (too many rows); `next_row` then yields `None`.
    done: bool,
}

enum Rows<'a> {
    Csv(Box<delimited::CsvRows<'a>>),
    Xlsx(xlsx_read::XlsxRows),
}

impl<'a> SheetReader<'a> {
    /// Opens a file and reads its header row.
    pub fn open(format: SheetFormat, bytes: &'a [u8]) -> Result<Self, SheetError> {
        if bytes.is_empty() {
            return Err(SheetError::Empty);
        }
        // Both an .xls and an encrypted .xlsx are OLE compound files; neither is readable here.
        if bytes.starts_with(OLE_MAGIC) {
            return Err(SheetError::UnsupportedWorkbook);
        }
        let (headers, rows) = match format {
            SheetFormat::Csv => {
                let (headers, rows) = delimited::CsvRows::open(bytes)?;
                (headers, Rows::Csv(Box::new(rows)))
            }
            SheetFormat::Xlsx => {
                let (headers, rows) = xlsx_read::XlsxRows::open(bytes)?;
                (headers, Rows::Xlsx(rows))
            }
        };
        let first_column = match &rows {
            Rows::Csv(_) => 0,
            Rows::Xlsx(rows) => rows.first_column(),
        };
        check_header_names(&headers, first_column)?;
        Ok(Self {
            headers,
            rows,
            done: false,
        })
    }

    /// The header row's names, as written.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next data row: its number as a spreadsheet shows it (header = 1 when the header is
    /// the first line) and its cells, one per header column. An error for one row (a ragged
    /// CSV row, say) can be followed by further rows; `TooManyRows` ends the file.
    pub fn next_row(&mut self) -> Option<Result<(u64, Vec<String>), SheetError>> {
        if self.done {
            return None;
        }
        let next = match &mut self.rows {
            Rows::Csv(rows) => rows.next_row(),
            Rows::Xlsx(rows) => rows.next_row(),
        };
        match next {
            Some(Ok((row, _))) if row > MAX_ROWS => {
                self.done = true;
                Some(Err(SheetError::TooManyRows))
            }
            other => other,
        }
    }
}

impl Iterator for SheetReader<'_> {
    type Item = Result<(u64, Vec<String>), SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

/// Rejects a header naming a column twice. Names are compared trimmed and ignoring case
/// because that is how an importer will match them; empty names are left to the importer.
/// `first_column` is the sheet column of the first name, for the message.
fn check_header_names(headers: &[String], first_column: usize) -> Result<(), SheetError> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, name) in headers.iter().enumerate() {
        let key = name.trim().to_lowercase();
        if key.is_empty() {
            continue;
        }
        if let Some(&first) = seen.get(&key) {
            return Err(SheetError::DuplicateHeader {
                name: name.trim().to_owned(),
                first: column_name(first_column + first),
                second: column_name(first_column + index),
            });
        }
        seen.insert(key, index);
    }
    Ok(())
}

/// The spreadsheet name of a 0-based column: A, B, ..., Z, AA, AB, ...
fn column_name(index: usize) -> String {
    let mut name = Vec::new();
    let mut rest = index + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        // `digit` < 26, so the cast cannot truncate.
        name.push(b'A' + digit as u8);
        rest = (rest - 1) / 26;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

/// A number as a person would type it: no exponent, no trailing `.0`, and at most the 15
/// significant digits a spreadsheet shows, which hides binary noise such as a formula's
/// 0.30000000000000004.
fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    if rounded == 0.0 {
        // Also turns -0 into 0.
        return "0".to_owned();
    }
    rounded.to_string()
}

/// A date as ISO 8601, `yyyy-mm-dd`.
fn format_date(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// True for a row read back whose cells are all empty, which readers skip.
fn is_blank<S: AsRef<str>>(cells: &[S]) -> bool {
    cells.iter().all(|cell| cell.as_ref().is_empty())
}
