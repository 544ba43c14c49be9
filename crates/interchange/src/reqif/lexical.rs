//! XML Schema lexical forms ReqIF uses (`xsd:integer`, `xsd:double`, `xsd:boolean`,
//! `xsd:dateTime`, `xsd:ID`) and the escaping the writer needs.

use chrono::NaiveDateTime;

/// XML whitespace (not Unicode whitespace: a no-break space is content).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

pub(crate) fn trim_xml(s: &str) -> &str {
    s.trim_matches(is_xml_space)
}

pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(is_xml_space)
}

/// `xsd:integer` within the range of `i64`.
pub(crate) fn parse_integer(s: &str) -> Option<i64> {
    let s = trim_xml(s);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Non-negative `xsd:integer` (lengths, accuracies).
pub(crate) fn parse_unsigned(s: &str) -> Option<u64> {
    let s = trim_xml(s);
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `xsd:double`: decimal or scientific notation, `INF`, `-INF`, `NaN`. Rust's own parser is
/// more lenient (`inf`, `infinity`), so the characters are checked first.
pub(crate) fn parse_double(s: &str) -> Option<f64> {
    let s = trim_xml(s);
    match s {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let allowed = |b: u8| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E');
    if !s.bytes().all(allowed) || !s.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `xsd:double` form of a number (Rust's `inf` is not valid there).
pub(crate) fn format_double(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "INF".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-INF".to_owned()
    } else {
        // Debug is the shortest text that reads back to the same number ("1e300", "0.1").
        format!("{value:?}")
    }
}

/// `xsd:boolean`.
pub(crate) fn parse_boolean(s: &str) -> Option<bool> {
    match trim_xml(s) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// `xsd:dateTime`: `YYYY-MM-DDThh:mm:ss[.fff][Z|(+|-)hh:mm]`, the time zone optional.
pub(crate) fn is_datetime(s: &str) -> bool {
    let s = trim_xml(s);
    let local = match strip_timezone(s) {
        Some(local) => local,
        None => return false,
    };
    // chrono accepts a shorter fraction-less form too; the date and time parts must be there.
    local.len() >= 19 && NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// The date-time without its time zone suffix, or `None` if the suffix is malformed.
fn strip_timezone(s: &str) -> Option<&str> {
    if let Some(local) = s.strip_suffix('Z') {
        return Some(local);
    }
    let bytes = s.as_bytes();
    let n = bytes.len();
    // A zone is "+hh:mm" / "-hh:mm" after the seconds; the date's own '-' are further left.
    if n > 6 && matches!(bytes[n - 6], b'+' | b'-') && bytes[n - 3] == b':' {
        let hours = s.get(n - 5..n - 3)?.parse::<u8>().ok()?;
        let minutes = s.get(n - 2..)?.parse::<u8>().ok()?;
        return (hours <= 14 && minutes <= 59).then(|| &s[..n - 6]);
    }
    Some(s)
}

/// An XML `NCName`, which `xsd:ID` requires: a letter or `_` first, then letters, digits,
/// `.`, `-`, `_` (approximated with Unicode's alphabetic/numeric classes), no colon.
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic());
    first_ok && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '\u{B7}'))
}

/// Whether XML 1.0 can carry `c` at all (even escaped).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// Escapes character data; a carriage return becomes `&#13;` so it survives end-of-line
/// normalisation. Errors name the first character XML cannot carry.
pub(crate) fn escape_text(s: &str, out: &mut String) -> Result<(), char> {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            c => return Err(c),
        }
    }
    Ok(())
}

/// Escapes an attribute value (double-quoted). Tabs and line breaks become character
/// references, otherwise attribute-value normalisation would turn them into spaces.
pub(crate) fn escape_attribute(s: &str, out: &mut String) -> Result<(), char> {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            c => return Err(c),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_forms() {
        assert_eq!(parse_integer(" +42 "), Some(42));
        assert_eq!(parse_integer("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_integer("4.0"), None);
        assert_eq!(parse_integer("12a"), None);
        assert_eq!(parse_double("+10.10"), Some(10.1));
        assert_eq!(parse_double("3.4028235E38"), Some(3.4028235E38));
        assert_eq!(parse_double("-INF"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_double("inf"), None);
        assert_eq!(parse_double("1,5"), None);
        assert_eq!(parse_boolean("1"), Some(true));
        assert_eq!(parse_boolean("True"), None);
        assert!(is_datetime("2021-10-14T10:11:59.495+02:00"));
        assert!(is_datetime("2018-10-12T16:43:58"));
        assert!(is_datetime("2002-01-01T00:00:00.000Z"));
        assert!(!is_datetime("aaa"));
        assert!(!is_datetime("2021-10-14"));
        assert!(!is_datetime("2021-13-14T10:11:59Z"));
        assert!(!is_datetime("2021-10-14T10:11:59+25:00"));
        assert!(is_ncname("_9212f09c-6c4c"));
        assert!(is_ncname("überwachung"));
        assert!(!is_ncname("3631dcd2-59d1"));
        assert!(!is_ncname("a:b"));
        assert!(!is_ncname(""));
        assert_eq!(format_double(0.1), "0.1");
        assert_eq!(format_double(f64::INFINITY), "INF");
        assert_eq!(parse_double(&format_double(-f64::MAX)), Some(-f64::MAX));
    }

    #[test]
    fn escaping() {
        let mut out = String::new();
        escape_attribute("a<b & \"c\"\nd", &mut out).unwrap();
        assert_eq!(out, "a&lt;b &amp; &quot;c&quot;&#10;d");
        let mut out = String::new();
        assert_eq!(escape_text("bell\u{7}", &mut out), Err('\u{7}'));
    }
}
