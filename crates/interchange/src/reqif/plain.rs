//! XHTML statements as plain text and back.
//!
//! A plain statement is exported as `<div>line<br/>line</div>`; [`plain_from_rendering`]
//! recognises exactly that shape on import and gives the text back unchanged, so an export
//! re-imports as the same requirement with no rich text. Any other markup is kept as it came
//! (`statement_xhtml`) and [`xhtml_to_text`] derives the plain statement that search, quality
//! rules and diffs read.

// The elements the ReqIF schema allows in `THE-VALUE`: the writer's own list, so export and
// this check cannot disagree.
use super::xhtml::SCHEMA_ELEMENTS;

/// Elements that start and end a line of their own in the plain text.
const BLOCKS: &[&str] = &[
    "address",
    "blockquote",
    "caption",
    "dd",
    "div",
    "dl",
    "dt",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
];

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// A plain statement as XHTML: one `div`, lines separated by `<br/>`.
pub fn text_to_xhtml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str("<div>");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br/>");
        }
        escape(line, &mut out);
    }
    out.push_str("</div>");
    out
}

/// Decodes one entity reference (`amp`, `#60`, `#x3C`); `None` when unknown.
fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Character data with its entity references decoded (unknown ones kept as written).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find(';').filter(|&j| j <= 10) {
            Some(j) => match entity(&after[..j]) {
                Some(c) => {
                    out.push(c);
                    rest = &after[j + 1..];
                }
                None => {
                    out.push('&');
                    rest = after;
                }
            },
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The plain text of markup made by [`text_to_xhtml`] (with `<br/>` or `<br />`), exactly;
/// `None` for any other markup.
pub fn plain_from_rendering(xhtml: &str) -> Option<String> {
    let inner = xhtml.trim().strip_prefix("<div>")?.strip_suffix("</div>")?;
    let mut lines = Vec::new();
    let mut rest = inner;
    loop {
        let next = ["<br/>", "<br />"]
            .iter()
            .filter_map(|br| rest.find(br).map(|i| (i, br.len())))
            .min();
        let (line, more) = match next {
            Some((i, len)) => (&rest[..i], Some(&rest[i + len..])),
            None => (rest, None),
        };
        if line.contains('<') {
            return None;
        }
        lines.push(unescape(line));
        match more {
            Some(m) => rest = m,
            None => break,
        }
    }
    Some(lines.join("\n"))
}

/// One tag of the markup.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    empty: bool,
}

/// Splits `<...>` content into a tag (attribute values may hold `>` only escaped).
fn parse_tag(inside: &str) -> Tag<'_> {
    let closing = inside.starts_with('/');
    let body = inside.trim_start_matches('/');
    let empty = body.ends_with('/');
    let name_end = body
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(body.len());
    let name = &body[..name_end];
    // Drop a namespace prefix (`xhtml:p`).
    let name = name.rsplit(':').next().unwrap_or(name);
    Tag {
        name,
        closing,
        empty,
    }
}

/// Finds the end of a tag starting after `<`, honouring quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

struct Text {
    out: String,
    /// Inside `<pre>` (depth): whitespace is kept.
    pre: usize,
}

impl Text {
    fn trim_trailing_spaces(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
    }

    fn line_break(&mut self) {
        self.trim_trailing_spaces();
        self.out.push('\n');
    }

    fn block_boundary(&mut self) {
        self.trim_trailing_spaces();
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    fn text(&mut self, raw: &str) {
        let decoded = unescape(raw);
        if self.pre > 0 {
            self.out.push_str(&decoded);
            return;
        }
        let at_line_start = self.out.is_empty() || self.out.ends_with('\n');
        let mut last_space = at_line_start || self.out.ends_with(' ');
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !last_space {
                    self.out.push(' ');
                    last_space = true;
                }
            } else {
                self.out.push(c);
                last_space = false;
            }
        }
    }
}

/// The plain text of an XHTML fragment: tags dropped, blocks and `<br/>` as line breaks,
/// list items marked with `- `, table cells separated by spaces, whitespace collapsed
/// (except in `<pre>`), lines trimmed.
pub fn xhtml_to_text(xhtml: &str) -> String {
    let mut t = Text {
        out: String::with_capacity(xhtml.len()),
        pre: 0,
    };
    let mut rest = xhtml;
    while let Some(i) = rest.find('<') {
        t.text(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = tag_end(after) else {
            // Not markup after all: keep it as text.
            t.text(&rest[i..]);
            rest = "";
            break;
        };
        let inside = &after[..end];
        rest = &after[end + 1..];
        if inside.starts_with('!') || inside.starts_with('?') {
            continue;
        }
        let tag = parse_tag(inside);
        match tag.name {
            "br" => t.line_break(),
            "pre" => {
                t.block_boundary();
                if tag.closing {
                    t.pre = t.pre.saturating_sub(1);
                } else if !tag.empty {
                    t.pre += 1;
                }
            }
            "td" | "th"
                if !tag.closing
                    && !t.out.is_empty()
                    && !t.out.ends_with('\n')
                    && !t.out.ends_with(' ') =>
            {
                t.out.push(' ');
            }
            "li" if !tag.closing => {
                t.block_boundary();
                t.out.push_str("- ");
            }
            name if BLOCKS.contains(&name) => t.block_boundary(),
            _ => {}
        }
    }
    t.text(rest);
    let lines: Vec<&str> = t.out.lines().map(str::trim).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned()
}

/// True when every element of the markup is one the ReqIF schema allows.
pub fn schema_safe(xhtml: &str) -> bool {
    let mut rest = xhtml;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let Some(end) = tag_end(after) else {
            return false;
        };
        let inside = &after[..end];
        rest = &after[end + 1..];
        if inside.starts_with('!') || inside.starts_with('?') {
            return false;
        }
        let tag = parse_tag(inside);
        if !SCHEMA_ELEMENTS.contains(&tag.name) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_round_trips_through_the_rendering() {
        for text in [
            "",
            "The system shall work.",
            "a < b && c > d\nsecond line\n\nafter a blank line",
            "  indented\ttab",
        ] {
            let x = text_to_xhtml(text);
            assert_eq!(plain_from_rendering(&x).as_deref(), Some(text), "{x}");
        }
        assert_eq!(plain_from_rendering("<div>a<b>b</b></div>"), None);
        assert_eq!(plain_from_rendering("<p>a</p>"), None);
    }

    #[test]
    fn markup_becomes_readable_text() {
        assert_eq!(
            xhtml_to_text("<div><p>Delay &lt;= 5 s</p><p>Second   para</p></div>"),
            "Delay <= 5 s\nSecond para"
        );
        assert_eq!(
            xhtml_to_text("<div>one<br/>two<ul><li>a</li><li>b</li></ul></div>"),
            "one\ntwo\n- a\n- b"
        );
        assert_eq!(
            xhtml_to_text("<table><tr><td>1</td><td>2</td></tr></table>"),
            "1 2"
        );
        assert_eq!(xhtml_to_text("plain &amp; simple"), "plain & simple");
        assert_eq!(xhtml_to_text("<pre>a  b\n c</pre>"), "a  b\nc");
    }

    #[test]
    fn schema_check_names_elements() {
        assert!(schema_safe("<div><p>x<br/></p></div>"));
        assert!(!schema_safe("<div><u>x</u></div>"));
        assert!(!schema_safe("<div><img src=\"a\"/></div>"));
    }
}
