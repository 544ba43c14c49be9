//! CSV export. Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
//! `@`, tab or carriage return) are prefixed with `'` (OWASP's CSV injection advice).

use std::io::Write;

/// Neutralises a cell value for spreadsheet applications.
pub fn neutralise(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{value}")),
        _ => std::borrow::Cow::Borrowed(value),
    }
}

/// Writes rows to any writer, streaming (one row in memory at a time).
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer that starts with `header`; an empty header writes none (continuing a file).
    pub fn new(out: W, header: &[&str]) -> Result<Self, csv::Error> {
        let mut inner = csv::Writer::from_writer(out);
        if !header.is_empty() {
            inner.write_record(header)?;
        }
        Ok(Self { inner })
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), csv::Error> {
        self.inner
            .write_record(cells.into_iter().map(|c| neutralise(c).into_owned()))
    }

    pub fn finish(self) -> Result<W, csv::Error> {
        self.inner
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_kept() {
        let mut w = CsvWriter::new(Vec::new(), &["a", "b"]).unwrap_or_else(|e| panic!("{e}"));
        w.row(["=1+1", "say \"hi\", then go"])
            .unwrap_or_else(|e| panic!("{e}"));
        w.row(["-2", "plain"]).unwrap_or_else(|e| panic!("{e}"));
        let out = String::from_utf8(w.finish().unwrap_or_default()).unwrap_or_default();
        assert_eq!(out, "a,b\n'=1+1,\"say \"\"hi\"\", then go\"\n'-2,plain\n");
    }
}
