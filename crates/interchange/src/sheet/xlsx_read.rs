//! XLSX reading through calamine: the first worksheet, cell values as text.

use std::io::Cursor;

use calamine::{Data, ExcelDateTime, Range, Reader, Xlsx, XlsxError};

use super::{column_name, format_number, is_blank, SheetError};

/// The rows of the first worksheet, loaded by calamine.
pub(super) struct XlsxRows {
    range: Range<Data>,
    /// Index in `range` of the next row to return.
    next: usize,
    /// Sheet row (0-based) and column of the range's first cell: the sheet may start lower
    /// or further right than A1, and row numbers and column names must be the sheet's.
    origin: (u32, u32),
    /// Cells in the header, trailing empty ones dropped.
    width: usize,
}

impl XlsxRows {
    /// Loads the first worksheet and returns its header with the rows after it.
    pub(super) fn open(bytes: &[u8]) -> Result<(Vec<String>, Self), SheetError> {
        let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(invalid)?;
        let range = workbook
            .worksheet_range_at(0)
            .ok_or_else(|| SheetError::InvalidXlsx("the workbook has no worksheet".to_owned()))?
            .map_err(invalid)?;
        let Some(origin) = range.start() else {
            return Err(SheetError::Empty);
        };
        let mut rows = Self {
            range,
            next: 0,
            origin,
            // Set from the header, once it is found.
            width: 0,
        };
        let (_, mut headers) = rows.next_nonblank().ok_or(SheetError::NoHeaderRow)?;
        while headers.last().is_some_and(String::is_empty) {
            headers.pop();
        }
        rows.width = headers.len();
        Ok((headers, rows))
    }

    /// The sheet's column of the first cell of every row (0-based).
    pub(super) fn first_column(&self) -> usize {
        usize::try_from(self.origin.1).unwrap_or(0)
    }

    pub(super) fn next_row(&mut self) -> Option<Result<(u64, Vec<String>), SheetError>> {
        let (row, mut cells) = self.next_nonblank()?;
        if let Some(extra) = cells.iter().skip(self.width).position(|c| !c.is_empty()) {
            return Some(Err(SheetError::CellOutsideHeader {
                row,
                column: column_name(self.first_column() + self.width + extra),
            }));
        }
        cells.truncate(self.width);
        Some(Ok((row, cells)))
    }

    /// The next row with a non-empty cell, as text, with its sheet row number.
    fn next_nonblank(&mut self) -> Option<(u64, Vec<String>)> {
        loop {
            let index = self.next;
            if index >= self.range.height() {
                return None;
            }
            self.next += 1;
            // `get` by position: `rows().nth()` would walk from the top on every call.
            let cells: Vec<String> = (0..self.range.width())
                .map(|column| {
                    self.range
                        .get((index, column))
                        .map_or_else(String::new, cell_text)
                })
                .collect();
            if !is_blank(&cells) {
                let row = u64::from(self.origin.0) + index as u64 + 1;
                return Some((row, cells));
            }
        }
    }
}

fn invalid(error: XlsxError) -> SheetError {
    match error {
        XlsxError::Password => SheetError::UnsupportedWorkbook,
        other => SheetError::InvalidXlsx(other.to_string()),
    }
}

/// A cell's value as a person typed it. Formula cells hold their cached result here.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => format_number(*number),
        Data::Bool(value) => value.to_string(),
        Data::DateTime(value) => date_time_text(value),
        Data::Error(error) => error.to_string(),
    }
}

/// A date-formatted cell in ISO 8601: `yyyy-mm-dd`, with `Thh:mm:ss` when it has a time;
/// a time of day alone or a duration as `h:mm:ss`.
fn date_time_text(value: &ExcelDateTime) -> String {
    // A serial below 1 is a time with no date (Excel's day 0 is not a real date).
    if value.is_duration() || value.as_f64().abs() < 1.0 {
        return duration_text(value.as_f64());
    }
    let (year, month, day, hour, minute, second, milli) = value.to_ymd_hms_milli();
    let date = format!("{year:04}-{month:02}-{day:02}");
    match (hour, minute, second, milli) {
        (0, 0, 0, 0) => date,
        (_, _, _, 0) => format!("{date}T{hour:02}:{minute:02}:{second:02}"),
        _ => format!("{date}T{hour:02}:{minute:02}:{second:02}.{milli:03}"),
    }
}

/// Days (as Excel stores times) as `h:mm:ss`, hours not wrapping at 24.
fn duration_text(days: f64) -> String {
    // Rounded to whole seconds: a spreadsheet's default time formats show no more.
    let total = (days.abs() * 86_400.0).round() as u64;
    let sign = if days < 0.0 && total > 0 { "-" } else { "" };
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    format!("{sign}{hours:02}:{minutes:02}:{seconds:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    fn date_time(serial: f64, kind: ExcelDateTimeType) -> String {
        date_time_text(&ExcelDateTime::new(serial, kind, false))
    }

    #[test]
    fn dates_and_times_read_as_iso() {
        assert_eq!(
            date_time(45351.0, ExcelDateTimeType::DateTime),
            "2024-02-29"
        );
        assert_eq!(
            date_time(45351.5, ExcelDateTimeType::DateTime),
            "2024-02-29T12:00:00"
        );
        assert_eq!(date_time(0.75, ExcelDateTimeType::DateTime), "18:00:00");
        assert_eq!(date_time(1.5, ExcelDateTimeType::TimeDelta), "36:00:00");
    }

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(cell_text(&Data::Float(3.0)), "3");
        assert_eq!(cell_text(&Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(cell_text(&Data::Float(-2.5)), "-2.5");
        assert_eq!(cell_text(&Data::Int(-7)), "-7");
        assert_eq!(cell_text(&Data::Float(-0.0)), "0");
    }
}
