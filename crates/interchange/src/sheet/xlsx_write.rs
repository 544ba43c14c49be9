//! XLSX writing that streams each worksheet's XML straight into a deflated zip entry.
//!
//! rust_xlsxwriter keeps every cell in memory until it saves (about 600 MB at peak for
//! 100,000 rows x 20 columns) unless its `constant_memory` feature is on, which needs the
//! `tempfile` crate this workspace does not have. A worksheet is simple enough to write
//! directly: inline strings (no shared-string table to hold), one bold and one date style,
//! a frozen and filtered header.
//!
//! Zip entries are written one after the other, but the parts listing the sheets can only be
//! written once all sheets are known, and `[Content_Types].xml` customarily comes first (some
//! tools identify the format by it). So sheets go into a scratch archive, and `finish` writes
//! the final archive with the package parts first and then copies the already compressed
//! sheet entries in without recompressing them.

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use chrono::{Datelike as _, NaiveDate};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{column_name, format_date, format_number, Cell, SheetError};

/// Excel's limits.
const MAX_COLUMNS: usize = 16_384;
const MAX_CELL_CHARS: usize = 32_767;
const MAX_SHEET_NAME_CHARS: usize = 31;

/// Rows held back at the start of a sheet to size its columns: the widths go in `<cols>`,
/// which comes before the rows in the XML.
const SAMPLE_ROWS: u64 = 100;
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;
/// Room for the autofilter button beside a header name.
const FILTER_BUTTON_WIDTH: usize = 2;

/// Indexes into `cellXfs` in [`STYLES`].
const STYLE_HEADER: u8 = 1;
const STYLE_DATE: u8 = 2;

type Archive = ZipWriter<Cursor<Vec<u8>>>;

pub(super) struct XlsxWriter {
    /// Finished worksheets and the one being written.
    scratch: Archive,
    finished: Vec<SheetSummary>,
    sheet: Worksheet,
    /// One row's XML, reused from row to row.
    xml: String,
}

/// What workbook.xml needs to know about a finished sheet.
struct SheetSummary {
    name: String,
    /// The header row and the rows below it, e.g. `$A$1:$C$10`.
    filter: Option<String>,
}

struct Worksheet {
    name: String,
    /// 0-based position in the workbook.
    index: usize,
    header_columns: Option<usize>,
    last_row: u64,
    /// The first rows' XML and the widths they need; `None` once the sheet streams.
    sample: Option<Sample>,
}

#[derive(Default)]
struct Sample {
    xml: String,
    widths: Vec<usize>,
}

impl XlsxWriter {
    pub(super) fn new(sheet_name: &str) -> Result<Self, SheetError> {
        check_sheet_name(sheet_name, &[])?;
        Ok(Self {
            scratch: ZipWriter::new(Cursor::new(Vec::new())),
            finished: Vec::new(),
            sheet: Worksheet::new(sheet_name, 0),
            xml: String::new(),
        })
    }

    pub(super) fn header(&mut self, row: u64, names: &[&str]) -> Result<(), SheetError> {
        check_column_count(row, names.len())?;
        self.xml.clear();
        open_row(&mut self.xml, row);
        for (column, name) in names.iter().enumerate() {
            push_text_cell(&mut self.xml, (row, column), name, Some(STYLE_HEADER))?;
            self.sheet
                .measure(column, text_width(name) + FILTER_BUTTON_WIDTH);
        }
        self.xml.push_str("</row>");
        self.sheet.header_columns = Some(names.len());
        self.emit_row(row)
    }

    pub(super) fn row(&mut self, row: u64, cells: &[Cell]) -> Result<(), SheetError> {
        check_column_count(row, cells.len())?;
        self.xml.clear();
        open_row(&mut self.xml, row);
        for (column, cell) in cells.iter().enumerate() {
            push_cell(&mut self.xml, (row, column), cell)?;
            self.sheet.measure(column, cell_width(cell));
        }
        self.xml.push_str("</row>");
        self.emit_row(row)
    }

    pub(super) fn add_sheet(&mut self, name: &str) -> Result<(), SheetError> {
        let mut taken: Vec<&str> = self.finished.iter().map(|s| s.name.as_str()).collect();
        taken.push(&self.sheet.name);
        check_sheet_name(name, &taken)?;
        self.close_sheet()?;
        self.sheet = Worksheet::new(name, self.sheet.index + 1);
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Vec<u8>, SheetError> {
        self.close_sheet()?;
        let scratch = self.scratch.finish().map_err(SheetError::write)?;
        let mut sheets = ZipArchive::new(scratch).map_err(SheetError::write)?;
        let mut out = ZipWriter::new(Cursor::new(Vec::new()));
        write_part(
            &mut out,
            "[Content_Types].xml",
            &content_types(sheets.len()),
        )?;
        write_part(&mut out, "_rels/.rels", ROOT_RELS)?;
        write_part(&mut out, "xl/workbook.xml", &workbook(&self.finished))?;
        write_part(
            &mut out,
            "xl/_rels/workbook.xml.rels",
            &workbook_rels(sheets.len()),
        )?;
        write_part(&mut out, "xl/styles.xml", STYLES)?;
        for index in 0..sheets.len() {
            let entry = sheets.by_index_raw(index).map_err(SheetError::write)?;
            out.raw_copy_file(entry).map_err(SheetError::write)?;
        }
        Ok(out.finish().map_err(SheetError::write)?.into_inner())
    }

    /// Sends the row in `self.xml` on: into the sample while the sheet's first rows are
    /// held back, into the zip entry after.
    fn emit_row(&mut self, row: u64) -> Result<(), SheetError> {
        self.sheet.last_row = row;
        match &mut self.sheet.sample {
            Some(sample) => {
                sample.xml.push_str(&self.xml);
                if row >= SAMPLE_ROWS {
                    self.start_streaming()?;
                }
                Ok(())
            }
            None => self
                .scratch
                .write_all(self.xml.as_bytes())
                .map_err(SheetError::write),
        }
    }

    /// Opens the sheet's zip entry and writes the sheet's head and the rows held back.
    fn start_streaming(&mut self) -> Result<(), SheetError> {
        let Some(sample) = self.sheet.sample.take() else {
            return Ok(());
        };
        let path = format!("xl/worksheets/sheet{}.xml", self.sheet.index + 1);
        self.scratch
            .start_file(path, part_options())
            .map_err(SheetError::write)?;
        let head = sheet_head(
            self.sheet.index == 0,
            self.sheet.header_columns.is_some(),
            &sample.widths,
        );
        self.scratch
            .write_all(head.as_bytes())
            .and_then(|()| self.scratch.write_all(sample.xml.as_bytes()))
            .map_err(SheetError::write)
    }

    fn close_sheet(&mut self) -> Result<(), SheetError> {
        self.start_streaming()?;
        let filter = self.sheet.filter_range();
        let tail = sheet_tail(filter.as_deref());
        self.scratch
            .write_all(tail.as_bytes())
            .map_err(SheetError::write)?;
        self.finished.push(SheetSummary {
            name: std::mem::take(&mut self.sheet.name),
            filter,
        });
        Ok(())
    }
}

impl Worksheet {
    fn new(name: &str, index: usize) -> Self {
        Self {
            name: name.to_owned(),
            index,
            header_columns: None,
            last_row: 0,
            sample: Some(Sample::default()),
        }
    }

    /// Widens `column` to `width` characters while the first rows are sampled.
    fn measure(&mut self, column: usize, width: usize) {
        let Some(sample) = &mut self.sample else {
            return;
        };
        if sample.widths.len() <= column {
            sample.widths.resize(column + 1, 0);
        }
        if let Some(current) = sample.widths.get_mut(column) {
            *current = (*current).max(width);
        }
    }

    /// The autofilter's range: the header and every row below it.
    fn filter_range(&self) -> Option<String> {
        let columns = self.header_columns.filter(|&n| n > 0)?;
        Some(format!(
            "$A$1:${}${}",
            column_name(columns - 1),
            self.last_row.max(1)
        ))
    }
}

/// Rejects what Excel rejects in a sheet name.
fn check_sheet_name(name: &str, taken: &[&str]) -> Result<(), SheetError> {
    let forbidden =
        |c: char| matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control();
    let lower = name.to_lowercase();
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.chars().count() > MAX_SHEET_NAME_CHARS {
        "it is longer than 31 characters"
    } else if name.chars().any(forbidden) {
        "it contains one of [ ] : * ? / \\ or a control character"
    } else if name.starts_with('\'') || name.ends_with('\'') {
        "it starts or ends with an apostrophe"
    } else if lower == "history" {
        "Excel reserves it"
    } else if taken.iter().any(|t| t.to_lowercase() == lower) {
        "another sheet has that name"
    } else {
        return Ok(());
    };
    Err(SheetError::InvalidSheetName {
        name: name.to_owned(),
        reason,
    })
}

fn check_column_count(row: u64, columns: usize) -> Result<(), SheetError> {
    if columns > MAX_COLUMNS {
        return Err(SheetError::TooManyColumns {
            row,
            max: MAX_COLUMNS,
        });
    }
    Ok(())
}

fn part_options() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn write_part(out: &mut Archive, path: &str, content: &str) -> Result<(), SheetError> {
    out.start_file(path, part_options())
        .map_err(SheetError::write)?;
    out.write_all(content.as_bytes()).map_err(SheetError::write)
}

/// A (row, 0-based column) position.
type Position = (u64, usize);

fn open_row(xml: &mut String, row: u64) {
    // Writing to a String cannot fail.
    let _ = write!(xml, r#"<row r="{row}">"#);
}

fn open_cell(xml: &mut String, (row, column): Position, style: Option<u8>, kind: Option<&str>) {
    let _ = write!(xml, r#"<c r="{}{row}""#, column_name(column));
    if let Some(style) = style {
        let _ = write!(xml, r#" s="{style}""#);
    }
    if let Some(kind) = kind {
        let _ = write!(xml, r#" t="{kind}""#);
    }
    xml.push('>');
}

fn push_cell(xml: &mut String, at: Position, cell: &Cell) -> Result<(), SheetError> {
    match cell {
        Cell::Empty => Ok(()),
        Cell::Text(text) => push_text_cell(xml, at, text, None),
        Cell::Number(number) if number.is_finite() => {
            open_cell(xml, at, None, None);
            push_value(xml, &number_value(*number));
            Ok(())
        }
        // A spreadsheet has no NaN or infinity; keep what the number said as text.
        Cell::Number(number) => push_text_cell(xml, at, &format_number(*number), None),
        Cell::Bool(value) => {
            open_cell(xml, at, None, Some("b"));
            push_value(xml, if *value { "1" } else { "0" });
            Ok(())
        }
        Cell::Date(date) => match excel_serial(*date) {
            Some(serial) => {
                open_cell(xml, at, Some(STYLE_DATE), None);
                push_value(xml, &serial.to_string());
                Ok(())
            }
            None => push_text_cell(xml, at, &format_date(*date), None),
        },
    }
}

fn push_value(xml: &mut String, value: &str) {
    let _ = write!(xml, "<v>{value}</v></c>");
}

/// A string cell. Empty text is left out, as an empty cell.
fn push_text_cell(
    xml: &mut String,
    at: Position,
    text: &str,
    style: Option<u8>,
) -> Result<(), SheetError> {
    if text.is_empty() {
        return Ok(());
    }
    // Excel counts UTF-16 units; a string's UTF-8 length is never smaller.
    if text.len() > MAX_CELL_CHARS && text.encode_utf16().count() > MAX_CELL_CHARS {
        return Err(SheetError::CellTooLong {
            row: at.0,
            column: column_name(at.1),
            max: MAX_CELL_CHARS,
        });
    }
    open_cell(xml, at, style, Some("inlineStr"));
    // `preserve`, or leading and trailing whitespace would be dropped on reading.
    xml.push_str(r#"<is><t xml:space="preserve">"#);
    push_escaped(xml, text);
    xml.push_str("</t></is></c>");
    Ok(())
}

/// Escapes text for XML. Characters XML 1.0 cannot hold, and CR (which XML parsers turn into
/// LF), are written the way Excel writes them, `_xHHHH_`; a literal `_xHHHH_` in the text
/// gets its `_` escaped as `_x005F_` so that readers do not decode it.
fn push_escaped(xml: &mut String, text: &str) {
    for (at, c) in text.char_indices() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '"' => xml.push_str("&quot;"),
            '\t' | '\n' => xml.push(c),
            '\0'..='\x1f' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(xml, "_x{:04X}_", u32::from(c));
            }
            '_' if looks_like_escape(text.get(at..).unwrap_or_default()) => {
                xml.push_str("_x005F_");
            }
            _ => xml.push(c),
        }
    }
}

/// True when `text` starts with `_xHHHH_`.
fn looks_like_escape(text: &str) -> bool {
    matches!(text.as_bytes(), [b'_', b'x', hex @ .., ] if hex.len() >= 5
        && hex.iter().take(4).all(u8::is_ascii_hexdigit)
        && hex.get(4) == Some(&b'_'))
}

/// A number as `<v>` content: shortest exact decimal, with an exponent for very large or
/// small magnitudes rather than hundreds of digits.
fn number_value(number: f64) -> String {
    let magnitude = number.abs();
    if magnitude != 0.0 && !(1e-6..1e16).contains(&magnitude) {
        format!("{number:e}")
    } else {
        number.to_string()
    }
}

/// Excel's serial day number of a date, or `None` outside the years 1900 to 9999 it covers.
fn excel_serial(date: NaiveDate) -> Option<i64> {
    if !(1900..=9999).contains(&date.year()) {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let after_phantom_leap_day = NaiveDate::from_ymd_opt(1900, 3, 1)?;
    let days = (date - epoch).num_days();
    // Excel counts a 29 February 1900 that never was, so earlier dates are one day lower.
    Some(if date < after_phantom_leap_day {
        days - 1
    } else {
        days
    })
}

/// The characters a cell needs: its longest line.
fn text_width(text: &str) -> usize {
    text.lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0)
}

fn cell_width(cell: &Cell) -> usize {
    match cell {
        Cell::Text(text) => text_width(text),
        Cell::Number(number) => format_number(*number).len(),
        Cell::Bool(_) => 5,
        Cell::Date(_) => 10,
        Cell::Empty => 0,
    }
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n";
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PACKAGE_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

/// Everything in a worksheet's XML before the first row.
fn sheet_head(selected: bool, frozen_header: bool, widths: &[usize]) -> String {
    let mut xml = String::from(XML_DECLARATION);
    let _ = write!(
        xml,
        r#"<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetViews><sheetView workbookViewId="0""#
    );
    if selected {
        xml.push_str(r#" tabSelected="1""#);
    }
    xml.push('>');
    if frozen_header {
        xml.push_str(concat!(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#,
            r#"<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>"#
        ));
    }
    xml.push_str(r#"</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>"#);
    if !widths.is_empty() {
        xml.push_str("<cols>");
        for (index, width) in widths.iter().enumerate() {
            let width = (width + 2).clamp(MIN_WIDTH, MAX_WIDTH);
            let column = index + 1;
            let _ = write!(
                xml,
                r#"<col min="{column}" max="{column}" width="{width}" customWidth="1"/>"#
            );
        }
        xml.push_str("</cols>");
    }
    xml.push_str("<sheetData>");
    xml
}

fn sheet_tail(filter: Option<&str>) -> String {
    let mut xml = String::from("</sheetData>");
    if let Some(range) = filter {
        let _ = write!(xml, r#"<autoFilter ref="{}"/>"#, range.replace('$', ""));
    }
    xml.push_str(concat!(
        r#"<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>"#,
        "</worksheet>"
    ));
    xml
}

fn content_types(sheets: usize) -> String {
    let mut xml = String::from(XML_DECLARATION);
    let ml = "application/vnd.openxmlformats-officedocument.spreadsheetml";
    let _ = write!(
        xml,
        concat!(
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
            r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
            r#"<Default Extension="xml" ContentType="application/xml"/>"#,
            r#"<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>"#,
            r#"<Override PartName="/xl/styles.xml" ContentType="{ml}.styles+xml"/>"#,
        ),
        ml = ml
    );
    for number in 1..=sheets {
        let _ = write!(
            xml,
            r#"<Override PartName="/xl/worksheets/sheet{number}.xml" ContentType="{ml}.worksheet+xml"/>"#
        );
    }
    xml.push_str("</Types>");
    xml
}

const ROOT_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n",
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#,
    "</Relationships>"
);

fn workbook(sheets: &[SheetSummary]) -> String {
    let mut xml = String::from(XML_DECLARATION);
    let _ = write!(
        xml,
        r#"<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews><sheets>"#
    );
    for (index, sheet) in sheets.iter().enumerate() {
        let number = index + 1;
        xml.push_str(r#"<sheet name=""#);
        push_escaped(&mut xml, &sheet.name);
        let _ = write!(xml, r#"" sheetId="{number}" r:id="rId{number}"/>"#);
    }
    xml.push_str("</sheets>");
    push_filter_names(&mut xml, sheets);
    xml.push_str("</workbook>");
    xml
}

/// Excel keeps each sheet's autofilter range in a hidden name and expects to find it.
fn push_filter_names(xml: &mut String, sheets: &[SheetSummary]) {
    let filters: Vec<(usize, &SheetSummary, &str)> = sheets
        .iter()
        .enumerate()
        .filter_map(|(index, sheet)| Some((index, sheet, sheet.filter.as_deref()?)))
        .collect();
    if filters.is_empty() {
        return;
    }
    xml.push_str("<definedNames>");
    for (index, sheet, range) in filters {
        let _ = write!(
            xml,
            r#"<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'"#
        );
        // In a formula a sheet name is quoted with ', which doubles inside it.
        push_escaped(xml, &sheet.name.replace('\'', "''"));
        let _ = write!(xml, "'!{range}</definedName>");
    }
    xml.push_str("</definedNames>");
}

fn workbook_rels(sheets: usize) -> String {
    let mut xml = String::from(XML_DECLARATION);
    let _ = write!(xml, r#"<Relationships xmlns="{PACKAGE_REL_NS}">"#);
    for number in 1..=sheets {
        let _ = write!(
            xml,
            r#"<Relationship Id="rId{number}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{number}.xml"/>"#
        );
    }
    let styles = sheets + 1;
    let _ = write!(
        xml,
        r#"<Relationship Id="rId{styles}" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>"#
    );
    xml
}

/// Formats: 0 default, 1 bold ([`STYLE_HEADER`]), 2 `yyyy-mm-dd` ([`STYLE_DATE`]).
const STYLES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n",
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/></numFmts>"#,
    r#"<fonts count="2">"#,
    r#"<font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>"#,
    r#"<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>"#,
    "</fonts>",
    r#"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#,
    r#"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#,
    r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="3">"#,
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#,
    r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>"#,
    r#"<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>"#,
    "</cellXfs>",
    r#"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
    "</styleSheet>"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_match_excel() {
        let serial = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).and_then(excel_serial);
        assert_eq!(serial(1900, 1, 1), Some(1));
        assert_eq!(serial(1900, 2, 28), Some(59));
        assert_eq!(serial(1900, 3, 1), Some(61));
        assert_eq!(serial(2024, 2, 29), Some(45351));
        assert_eq!(serial(1899, 12, 31), None);
    }

    #[test]
    fn text_escapes_what_xml_and_excel_need() {
        let mut xml = String::new();
        push_escaped(&mut xml, "a<b>&\"c\"\r\n\t\u{1}_x0041_ _x12_");
        assert_eq!(
            xml,
            "a&lt;b&gt;&amp;&quot;c&quot;_x000D_\n\t_x0001__x005F_x0041_ _x12_"
        );
    }

    #[test]
    fn sheet_names_follow_excel_rules() {
        assert!(check_sheet_name("Requirements", &[]).is_ok());
        for bad in ["", "a/b", "x[1]", "'q", "History", &"n".repeat(32)] {
            assert!(check_sheet_name(bad, &[]).is_err(), "{bad:?}");
        }
        assert!(check_sheet_name("links", &["Links"]).is_err());
    }
}
