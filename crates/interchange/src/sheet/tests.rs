use super::*;
use chrono::NaiveDate;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const HEADER: [&str; 6] = ["ID", "Text", "Weight", "Done", "Due", "Note"];

/// Rows that exercise quoting, neutralisation, unicode and every cell kind, with the text
/// each must read back as.
fn sample_rows() -> Vec<(Vec<Cell>, Vec<&'static str>)> {
    vec![
        (
            vec![
                "REQ-1".into(),
                "Größe, \"quoted\"\nsecond line".into(),
                3.0.into(),
                true.into(),
                date(2024, 2, 29).into(),
                "=HYPERLINK(\"http://x\")".into(),
            ],
            vec![
                "REQ-1",
                "Größe, \"quoted\"\nsecond line",
                "3",
                "true",
                "2024-02-29",
                "=HYPERLINK(\"http://x\")",
            ],
        ),
        (
            vec![
                "REQ-2".into(),
                "'=literal apostrophe".into(),
                (-2.5).into(),
                false.into(),
                Cell::Empty,
                "-minus, +plus, @at".into(),
            ],
            vec![
                "REQ-2",
                "'=literal apostrophe",
                "-2.5",
                "false",
                "",
                "-minus, +plus, @at",
            ],
        ),
        (
            vec![
                "REQ-3".into(),
                "'just quoted'".into(),
                0.1.into(),
                Cell::Empty,
                date(1999, 12, 31).into(),
                "  spaced  ".into(),
            ],
            vec![
                "REQ-3",
                "'just quoted'",
                "0.1",
                "",
                "1999-12-31",
                "  spaced  ",
            ],
        ),
        (
            vec![
                "REQ-4 日本語 🚀".into(),
                "\ttab first; semi".into(),
                1e15.into(),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ],
            vec![
                "REQ-4 日本語 🚀",
                "\ttab first; semi",
                "1000000000000000",
                "",
                "",
                "",
            ],
        ),
        // Short rows are padded to the header's width.
        (vec!["REQ-5".into()], vec!["REQ-5", "", "", "", "", ""]),
    ]
}

fn write(format: SheetFormat) -> Vec<u8> {
    let mut writer = SheetWriter::new(format, "Requirements").unwrap();
    writer.header(&HEADER).unwrap();
    for (cells, _) in sample_rows() {
        writer.row(&cells).unwrap();
    }
    writer.finish().unwrap()
}

fn read_all(format: SheetFormat, bytes: &[u8]) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
    let mut reader = SheetReader::open(format, bytes).unwrap();
    let headers = reader.headers().to_vec();
    let rows = std::iter::from_fn(|| reader.next_row())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (headers, rows)
}

fn assert_round_trip(format: SheetFormat) {
    let bytes = write(format);
    assert_eq!(SheetFormat::detect(&bytes), format);
    let (headers, rows) = read_all(format, &bytes);
    assert_eq!(headers, HEADER);
    let expected: Vec<(u64, Vec<String>)> = sample_rows()
        .into_iter()
        .zip(2..)
        .map(|((_, text), row)| (row, text.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn csv_round_trip_is_exact() {
    assert_round_trip(SheetFormat::Csv);
}

#[test]
fn xlsx_round_trip_is_exact() {
    assert_round_trip(SheetFormat::Xlsx);
}

#[test]
fn csv_output_is_neutralised_rfc_4180_with_bom() {
    let mut writer = SheetWriter::new(SheetFormat::Csv, "ignored").unwrap();
    writer.header(&["a", "=b"]).unwrap();
    writer.row(&["=1+1".into(), "x, \"y\"".into()]).unwrap();
    writer.row(&[(-3.0).into(), "'@z".into()]).unwrap();
    let out = writer.finish().unwrap();
    assert_eq!(
        out,
        "\u{feff}a,'=b\r\n'=1+1,\"x, \"\"y\"\"\"\r\n-3,''@z\r\n".as_bytes()
    );
    let (headers, rows) = read_all(SheetFormat::Csv, &out);
    assert_eq!(headers, ["a", "=b"]);
    assert_eq!(rows[0].1, ["=1+1", "x, \"y\""]);
    assert_eq!(rows[1].1, ["-3", "'@z"]);
}

#[test]
fn xlsx_never_writes_formulas() {
    let bytes = write(SheetFormat::Xlsx);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert!(!sheet.contains("<f>"), "{sheet}");
    assert!(
        sheet.contains("=HYPERLINK(&quot;http://x&quot;)"),
        "{sheet}"
    );
    assert!(sheet.contains(r#"<autoFilter ref="A1:F6"/>"#), "{sheet}");
    assert!(sheet.contains(r#"state="frozen""#), "{sheet}");
    assert_eq!(
        archive.by_index(0).unwrap().name().unwrap(),
        "[Content_Types].xml"
    );
}

#[test]
fn csv_with_semicolons_bom_and_crlf() {
    let data = "\u{feff}ID;Text;Value\r\nR1;\"a;b\r\nc\";1,5\r\nR2;plain;\r\n";
    let (headers, rows) = read_all(SheetFormat::Csv, data.as_bytes());
    assert_eq!(headers, ["ID", "Text", "Value"]);
    assert_eq!(
        rows,
        [
            (2, vec!["R1".into(), "a;b\r\nc".into(), "1,5".into()]),
            (3, vec!["R2".into(), "plain".into(), String::new()]),
        ]
    );
}

#[test]
fn csv_with_tabs() {
    let data = "ID\tText\nR1\thello, world\n";
    let (headers, rows) = read_all(SheetFormat::Csv, data.as_bytes());
    assert_eq!(headers, ["ID", "Text"]);
    assert_eq!(rows, [(2, vec!["R1".into(), "hello, world".into()])]);
}

#[test]
fn csv_row_numbers_match_a_spreadsheet() {
    // Blank lines are rows in a spreadsheet; a multi-line cell is one row; blank rows are
    // skipped but counted.
    let data = "\nID,Text\n\nR1,\"one\ntwo\r\nthree\"\n,\n\r\nR2,x\nR3,\"\"\n";
    let (headers, rows) = read_all(SheetFormat::Csv, data.as_bytes());
    assert_eq!(headers, ["ID", "Text"]);
    let numbers: Vec<u64> = rows.iter().map(|(row, _)| *row).collect();
    assert_eq!(numbers, [4, 7, 8]);
}

#[test]
fn ragged_csv_row_names_its_row_and_reading_goes_on() {
    let data = "a,b,c\n1,2,3\n\"multi\nline\",5\n7,8,9\n";
    let mut reader = SheetReader::open(SheetFormat::Csv, data.as_bytes()).unwrap();
    assert!(reader.next_row().unwrap().is_ok());
    let error = reader.next_row().unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "a CSV row has 2 cells but the header has 3 (row 3)"
    );
    assert_eq!(reader.next_row().unwrap().unwrap().0, 4);
    assert!(reader.next_row().is_none());
}

#[test]
fn empty_files_are_rejected() {
    for (format, bytes) in [
        (SheetFormat::Csv, &b""[..]),
        (SheetFormat::Xlsx, b""),
        (SheetFormat::Csv, b"\xEF\xBB\xBF"),
        (SheetFormat::Csv, b"\r\n\n"),
    ] {
        let error = SheetReader::open(format, bytes).err().unwrap();
        assert_eq!(error.to_string(), "the file is empty", "{bytes:?}");
    }
    let error = SheetReader::open(SheetFormat::Csv, b",,\n,,\n")
        .err()
        .unwrap();
    assert_eq!(error.to_string(), "the file has no header row");
}

#[test]
fn empty_xlsx_sheet_is_rejected() {
    let writer = SheetWriter::new(SheetFormat::Xlsx, "Empty").unwrap();
    let bytes = writer.finish().unwrap();
    let error = SheetReader::open(SheetFormat::Xlsx, &bytes).err().unwrap();
    assert_eq!(error.to_string(), "the file is empty");
}

#[test]
fn garbage_is_not_an_xlsx() {
    let error = SheetReader::open(SheetFormat::Xlsx, b"PK\x03\x04 certainly not a zip")
        .err()
        .unwrap();
    assert!(
        error.to_string().starts_with("not a valid XLSX file: "),
        "{error}"
    );
    let ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 rest of an .xls";
    for format in [SheetFormat::Csv, SheetFormat::Xlsx] {
        let error = SheetReader::open(format, ole).err().unwrap();
        assert!(matches!(error, SheetError::UnsupportedWorkbook), "{error}");
    }
}

#[test]
fn non_utf8_csv_names_its_row() {
    let data = b"ID,Text\nR1,caf\xE9\n";
    let mut reader = SheetReader::open(SheetFormat::Csv, data).unwrap();
    let error = reader.next_row().unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "row 2: the text is not valid UTF-8; save the file as CSV UTF-8"
    );
}

#[test]
fn repeated_header_is_named() {
    let error = SheetReader::open(SheetFormat::Csv, b"ID,Text,id \n1,2,3\n")
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "the header names column \"id\" twice (columns A and C)"
    );
    // Empty names are not duplicates of each other.
    assert!(SheetReader::open(SheetFormat::Csv, b"ID,,\n1,2,3\n").is_ok());
}

#[test]
fn xlsx_with_two_sheets_reads_the_first() {
    let mut writer = SheetWriter::new(SheetFormat::Xlsx, "Requirements").unwrap();
    writer.header(&["ID"]).unwrap();
    writer.row(&["REQ-1".into()]).unwrap();
    writer.add_sheet("Links").unwrap();
    writer.header(&["From", "To"]).unwrap();
    writer.row(&["REQ-1".into(), "REQ-2".into()]).unwrap();
    let bytes = writer.finish().unwrap();

    let (headers, rows) = read_all(SheetFormat::Xlsx, &bytes);
    assert_eq!(headers, ["ID"]);
    assert_eq!(rows, [(2, vec!["REQ-1".to_owned()])]);

    use calamine::Reader as _;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(workbook.sheet_names(), ["Requirements", "Links"]);
    let links = workbook.worksheet_range("Links").unwrap();
    assert_eq!(links.get_size(), (2, 2));
}

#[test]
fn sheets_are_checked() {
    let mut csv = SheetWriter::new(SheetFormat::Csv, "x").unwrap();
    assert!(matches!(
        csv.add_sheet("y"),
        Err(SheetError::SingleSheetOnly)
    ));
    let mut xlsx = SheetWriter::new(SheetFormat::Xlsx, "Links").unwrap();
    assert!(xlsx.add_sheet("links").is_err());
    assert!(SheetWriter::new(SheetFormat::Xlsx, "a:b").is_err());
}

#[test]
fn writer_rejects_misshapen_rows() {
    for format in [SheetFormat::Csv, SheetFormat::Xlsx] {
        let mut writer = SheetWriter::new(format, "S").unwrap();
        writer.header(&["a"]).unwrap();
        let error = writer.row(&["1".into(), "2".into()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "row 2: 2 cells but the header has only 1"
        );
        // The rejected row takes no number: the next one is still row 2.
        writer.row(&["1".into()]).unwrap();
        let error = writer.row(&["1".into(), "2".into()]).unwrap_err();
        assert!(error.to_string().starts_with("row 3: "), "{error}");
        assert!(matches!(
            writer.header(&["b"]),
            Err(SheetError::HeaderAfterRows)
        ));
    }
}

#[test]
fn xlsx_from_another_writer_reads_cached_formula_values() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let iso = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_string(2, 1, "ID").unwrap();
    sheet.write_string(2, 2, "Sum").unwrap();
    sheet.write_string(2, 3, "When").unwrap();
    sheet.write_string(3, 1, "R1").unwrap();
    sheet
        .write_formula(3, 2, Formula::new("=1+1").set_result("2"))
        .unwrap();
    let when = ExcelDateTime::from_ymd(2023, 7, 1).unwrap();
    sheet.write_datetime_with_format(3, 3, &when, &iso).unwrap();
    sheet.write_number(4, 2, 0.1 + 0.2).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();

    let (headers, rows) = read_all(SheetFormat::Xlsx, &bytes);
    assert_eq!(headers, ["ID", "Sum", "When"]);
    // The sheet starts at B3: row numbers are the sheet's.
    assert_eq!(
        rows,
        [
            (4, vec!["R1".into(), "2".into(), "2023-07-01".into()]),
            (5, vec![String::new(), "0.3".into(), String::new()]),
        ]
    );
}

#[test]
fn xlsx_value_right_of_the_header_is_an_error() {
    let mut writer = SheetWriter::new(SheetFormat::Xlsx, "S").unwrap();
    writer.row(&["ID".into(), Cell::Empty]).unwrap();
    writer.row(&["R1".into(), "stray".into()]).unwrap();
    let bytes = writer.finish().unwrap();
    let mut reader = SheetReader::open(SheetFormat::Xlsx, &bytes).unwrap();
    assert_eq!(reader.headers(), ["ID"]);
    let error = reader.next_row().unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "row 2: column B has a value but no header"
    );
}

#[test]
fn xlsx_text_with_control_characters_round_trips() {
    let texts = ["a\r\nb", "\u{1}bell", "_x0041_ stays", "  lead", "<&>"];
    let mut writer = SheetWriter::new(SheetFormat::Xlsx, "S").unwrap();
    writer.header(&["T"]).unwrap();
    for text in texts {
        writer.row(&[text.into()]).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let (_, rows) = read_all(SheetFormat::Xlsx, &bytes);
    let read: Vec<&str> = rows.iter().map(|(_, cells)| cells[0].as_str()).collect();
    assert_eq!(read, texts);
}

#[test]
fn formats_by_name_and_content() {
    assert_eq!(
        SheetFormat::from_name("Export.XLSX"),
        Some(SheetFormat::Xlsx)
    );
    assert_eq!(SheetFormat::from_name("a.b.csv"), Some(SheetFormat::Csv));
    assert_eq!(SheetFormat::from_name("notes.txt"), None);
    assert_eq!(SheetFormat::from_name("csv"), None);
    assert_eq!(SheetFormat::detect(b"ID,Text"), SheetFormat::Csv);
    assert_eq!(SheetFormat::Xlsx.extension(), "xlsx");
    assert!(SheetFormat::Csv.content_type().starts_with("text/csv"));
}

#[test]
fn numbers_format_as_typed() {
    assert_eq!(format_number(3.0), "3");
    assert_eq!(format_number(-0.0), "0");
    assert_eq!(format_number(1234.5678), "1234.5678");
    assert_eq!(format_number(0.1 + 0.2), "0.3");
    assert_eq!(format_number(f64::NAN), "NaN");
    assert_eq!(column_name(0), "A");
    assert_eq!(column_name(25), "Z");
    assert_eq!(column_name(26), "AA");
    assert_eq!(column_name(16_383), "XFD");
}

#[test]
fn large_xlsx_is_written() {
    let mut writer = SheetWriter::new(SheetFormat::Xlsx, "Requirements").unwrap();
    let names: Vec<String> = (0..20).map(|c| format!("Column {c}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    writer.header(&names).unwrap();
    let mut cells = Vec::with_capacity(20);
    for row in 0..100_000u32 {
        cells.clear();
        cells.push(Cell::Text(format!("REQ-{row}")));
        cells.push(Cell::Number(f64::from(row)));
        for column in 2..20 {
            cells.push(Cell::Text(format!("requirement {row} text {column}")));
        }
        writer.row(&cells).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), 6);
}
