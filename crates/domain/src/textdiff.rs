//! Word-level differences between two texts, and field-by-field differences between two
//! revision snapshots (what the history view highlights).
//!
//! Texts are cut into tokens — runs of letters/digits (words), runs of white space, and
//! single punctuation characters — and the token sequences are compared with the Myers
//! algorithm of the `similar` crate. Splitting punctuation from words means that changing
//! "shall." into "shall," marks only the comma, not the whole word.

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeMap;

/// What happened to a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    Equal,
    Insert,
    Delete,
}

/// One piece of a diff: concatenating the `Equal` and `Delete` spans in order gives the old
/// text, the `Equal` and `Insert` spans in order give the new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffSpan {
    pub kind: DiffKind,
    pub text: String,
}

/// Word-level diff of `old` into `new`.
///
/// Words, the white space and the punctuation between them are all kept, so the texts can be
/// rebuilt exactly from the spans (see [`DiffSpan`]). Adjacent spans of the same kind are
/// merged, no span is empty, and within a changed stretch the deletion comes before the
/// insertion. A white-space-only unchanged gap between two changes is folded into both of
/// them, so "the quick" → "a slow" reads as one replacement rather than two.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffSpan> {
    let old_tokens = tokenize(old);
    let new_tokens = tokenize(new);
    let diff = TextDiff::from_slices(&old_tokens, &new_tokens);
    let mut builder = SpanBuilder::default();
    for change in diff.iter_all_changes() {
        builder.push(change.tag(), change.value());
    }
    builder.finish()
}

/// True when the two texts differ, i.e. some span is not `Equal`.
pub fn changed(spans: &[DiffSpan]) -> bool {
    spans.iter().any(|s| s.kind != DiffKind::Equal)
}

/// Cuts a text into words (runs of alphanumeric characters), runs of white space and single
/// other characters. Concatenating the tokens gives the text back.
fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let class = CharClass::of(c);
        let mut end = i + c.len_utf8();
        if class != CharClass::Other {
            while let Some(&(j, next)) = chars.peek() {
                if CharClass::of(next) != class {
                    break;
                }
                end = j + next.len_utf8();
                chars.next();
            }
        }
        tokens.push(&text[i..end]);
    }
    tokens
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Word,
    Space,
    Other,
}

impl CharClass {
    fn of(c: char) -> Self {
        if c.is_alphanumeric() {
            CharClass::Word
        } else if c.is_whitespace() {
            CharClass::Space
        } else {
            CharClass::Other
        }
    }
}

/// Turns the token-by-token changes into merged spans.
///
/// A changed stretch collects its deleted and inserted text separately and is emitted as
/// (Delete, Insert) when an unchanged token that is not mere white space ends it. Unchanged
/// white space right after a change is held back: if another change follows, it becomes
/// part of both sides of the stretch; otherwise it is emitted as `Equal`.
#[derive(Default)]
struct SpanBuilder {
    spans: Vec<DiffSpan>,
    deleted: String,
    inserted: String,
    held_space: String,
}

impl SpanBuilder {
    fn push(&mut self, tag: ChangeTag, token: &str) {
        match tag {
            ChangeTag::Equal if self.in_change() && token.trim().is_empty() => {
                self.held_space.push_str(token);
            }
            ChangeTag::Equal => {
                self.flush_change();
                self.emit(DiffKind::Equal, token);
            }
            ChangeTag::Delete | ChangeTag::Insert => {
                let held = std::mem::take(&mut self.held_space);
                self.deleted.push_str(&held);
                self.inserted.push_str(&held);
                if tag == ChangeTag::Delete {
                    self.deleted.push_str(token);
                } else {
                    self.inserted.push_str(token);
                }
            }
        }
    }

    fn in_change(&self) -> bool {
        !self.deleted.is_empty() || !self.inserted.is_empty()
    }

    /// Emits the pending changed stretch, then the white space held back after it.
    fn flush_change(&mut self) {
        let deleted = std::mem::take(&mut self.deleted);
        let inserted = std::mem::take(&mut self.inserted);
        let held = std::mem::take(&mut self.held_space);
        self.emit(DiffKind::Delete, &deleted);
        self.emit(DiffKind::Insert, &inserted);
        self.emit(DiffKind::Equal, &held);
    }

    /// Appends text to the last span when it has the same kind; skips empty text.
    fn emit(&mut self, kind: DiffKind, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.spans.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(text),
            _ => self.spans.push(DiffSpan {
                kind,
                text: text.to_owned(),
            }),
        }
    }

    fn finish(mut self) -> Vec<DiffSpan> {
        self.flush_change();
        self.spans
    }
}

/// One field that differs between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// The snapshot key; custom attributes appear as `attributes.<name>`.
    pub field: String,
    /// The old value as display text ("" when absent or null).
    pub old: String,
    /// The new value as display text ("" when absent or null).
    pub new: String,
    /// Word diff of `old` into `new`.
    pub spans: Vec<DiffSpan>,
}

/// The key under which requirement snapshots keep their custom attributes.
const ATTRIBUTES_KEY: &str = "attributes";

/// Field-by-field comparison of two JSON object snapshots (revision data).
///
/// Every key present in either snapshot is considered; only fields whose display texts differ
/// are returned, sorted by field name. Display text: strings as they are, arrays as their
/// elements' display texts joined with ", ", null and absent as "", anything else as its JSON
/// text. When `attributes` is an object (a requirement's custom attribute values) it is
/// flattened into one field per attribute, `attributes.<name>`; otherwise (a module's list of
/// attribute definitions, say) it is one field like any other. A snapshot that is not an
/// object contributes no fields.
pub fn snapshot_diff(old: &Value, new: &Value) -> Vec<FieldDiff> {
    let old_fields = display_fields(old);
    let new_fields = display_fields(new);
    let mut names: Vec<&String> = old_fields.keys().chain(new_fields.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let old_text = old_fields.get(name).map(String::as_str).unwrap_or("");
            let new_text = new_fields.get(name).map(String::as_str).unwrap_or("");
            (old_text != new_text).then(|| FieldDiff {
                field: name.clone(),
                old: old_text.to_owned(),
                new: new_text.to_owned(),
                spans: word_diff(old_text, new_text),
            })
        })
        .collect()
}

/// The display text of every field of a snapshot, custom attributes flattened.
fn display_fields(snapshot: &Value) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let Some(object) = snapshot.as_object() else {
        return fields;
    };
    for (key, value) in object {
        match value {
            Value::Object(attributes) if key == ATTRIBUTES_KEY => {
                for (name, attribute) in attributes {
                    fields.insert(format!("{ATTRIBUTES_KEY}.{name}"), display(attribute));
                }
            }
            _ => {
                fields.insert(key.clone(), display(value));
            }
        }
    }
    fields
}

/// How a JSON value reads to a person.
fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn span(kind: DiffKind, text: &str) -> DiffSpan {
        DiffSpan {
            kind,
            text: text.to_owned(),
        }
    }

    fn rebuild(spans: &[DiffSpan], skip: DiffKind) -> String {
        spans
            .iter()
            .filter(|s| s.kind != skip)
            .map(|s| s.text.as_str())
            .collect()
    }

    fn assert_rebuilds(old: &str, new: &str) {
        let spans = word_diff(old, new);
        assert_eq!(rebuild(&spans, DiffKind::Insert), old, "old from {spans:?}");
        assert_eq!(rebuild(&spans, DiffKind::Delete), new, "new from {spans:?}");
        assert!(spans.iter().all(|s| !s.text.is_empty()), "{spans:?}");
        assert!(
            spans.windows(2).all(|w| w[0].kind != w[1].kind),
            "unmerged {spans:?}"
        );
        assert_eq!(changed(&spans), old != new);
    }

    #[test]
    fn identical_texts_are_one_equal_span() {
        let text = "The system shall log every login.";
        assert_eq!(word_diff(text, text), vec![span(DiffKind::Equal, text)]);
        assert!(!changed(&word_diff(text, text)));
    }

    #[test]
    fn empty_texts_give_no_spans() {
        assert!(word_diff("", "").is_empty());
        assert_eq!(word_diff("", "new"), vec![span(DiffKind::Insert, "new")]);
        assert_eq!(word_diff("old", ""), vec![span(DiffKind::Delete, "old")]);
    }

    #[test]
    fn insertion_marks_only_the_new_words() {
        let spans = word_diff("The system shall log.", "The system shall always log.");
        assert_eq!(
            spans,
            vec![
                span(DiffKind::Equal, "The system shall "),
                span(DiffKind::Insert, "always "),
                span(DiffKind::Equal, "log."),
            ]
        );
        assert!(changed(&spans));
    }

    #[test]
    fn deletion_marks_only_the_removed_words() {
        let spans = word_diff(
            "The system shall quickly respond.",
            "The system shall respond.",
        );
        assert_eq!(
            spans,
            vec![
                span(DiffKind::Equal, "The system shall "),
                span(DiffKind::Delete, "quickly "),
                span(DiffKind::Equal, "respond."),
            ]
        );
    }

    #[test]
    fn replacement_is_delete_then_insert() {
        let spans = word_diff("Respond within 5 s.", "Respond within 2 s.");
        assert_eq!(
            spans,
            vec![
                span(DiffKind::Equal, "Respond within "),
                span(DiffKind::Delete, "5"),
                span(DiffKind::Insert, "2"),
                span(DiffKind::Equal, " s."),
            ]
        );
    }

    #[test]
    fn neighbouring_replacements_become_one() {
        let spans = word_diff("the quick brown fox", "a slow brown fox");
        assert_eq!(
            spans,
            vec![
                span(DiffKind::Delete, "the quick"),
                span(DiffKind::Insert, "a slow"),
                span(DiffKind::Equal, " brown fox"),
            ]
        );
    }

    #[test]
    fn punctuation_changes_are_separate_from_words() {
        let spans = word_diff("shall log.", "shall log;");
        assert_eq!(
            spans,
            vec![
                span(DiffKind::Equal, "shall log"),
                span(DiffKind::Delete, "."),
                span(DiffKind::Insert, ";"),
            ]
        );
    }

    #[test]
    fn unicode_words_are_kept_whole() {
        let spans = word_diff(
            "Die Anlage muss grün blinken ❄️",
            "Die Anlage muss rot blinken ❄️",
        );
        assert_eq!(
            spans,
            vec![
                span(DiffKind::Equal, "Die Anlage muss "),
                span(DiffKind::Delete, "grün"),
                span(DiffKind::Insert, "rot"),
                span(DiffKind::Equal, " blinken ❄️"),
            ]
        );
        assert_rebuilds("日本語 のテキスト", "日本語 の文章");
        assert_rebuilds("naïve café — déjà vu", "naive cafe - deja vu!");
    }

    #[test]
    fn spans_always_rebuild_both_texts() {
        let pairs = [
            ("", ""),
            ("a", "a"),
            ("a b c", "c b a"),
            ("  leading and trailing  ", "leading\tand\ntrailing"),
            (
                "The system shall, if necessary, log events.",
                "The system shall log all events within 2 s, and notify the operator.",
            ),
            ("x y z x y z", "x z y x"),
            ("one two three four", "five six"),
            ("A  B", "A B"),
            ("Multi\r\nline\r\ntext", "Multi\nline text"),
        ];
        for (old, new) in pairs {
            assert_rebuilds(old, new);
            assert_rebuilds(new, old);
        }
    }

    #[test]
    fn tokens_rebuild_the_text() {
        let text = "Hello,  wörld!\t2.5 s—done";
        assert_eq!(tokenize(text).concat(), text);
        assert_eq!(
            tokenize(text),
            vec!["Hello", ",", "  ", "wörld", "!", "\t", "2", ".", "5", " ", "s", "—", "done"]
        );
    }

    #[test]
    fn snapshot_diff_lists_changed_fields_sorted() {
        let old = json!({
            "title": "Login",
            "statement": "The system shall log logins.",
            "priority": "high",
            "verification_methods": ["test"],
            "tags": [],
            "parent_id": null,
            "revision_count": 3,
            "attributes": {"asil": "B", "cost": 10, "removed": "x"},
        });
        let new = json!({
            "title": "Login",
            "statement": "The system shall log all logins.",
            "priority": "high",
            "verification_methods": ["test", "analysis"],
            "tags": ["security"],
            "revision_count": 3,
            "owner": "ana",
            "attributes": {"asil": "C", "cost": 10, "added": true},
        });
        let diffs = snapshot_diff(&old, &new);
        let fields: Vec<_> = diffs.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "attributes.added",
                "attributes.asil",
                "attributes.removed",
                "owner",
                "statement",
                "tags",
                "verification_methods",
            ]
        );
        let methods = diffs.iter().find(|d| d.field == "verification_methods");
        let methods = methods.unwrap();
        assert_eq!(methods.old, "test");
        assert_eq!(methods.new, "test, analysis");
        let added = diffs
            .iter()
            .find(|d| d.field == "attributes.added")
            .unwrap();
        assert_eq!((added.old.as_str(), added.new.as_str()), ("", "true"));
        let statement = diffs.iter().find(|d| d.field == "statement").unwrap();
        assert_eq!(
            statement.spans,
            vec![
                span(DiffKind::Equal, "The system shall log "),
                span(DiffKind::Insert, "all "),
                span(DiffKind::Equal, "logins."),
            ]
        );
    }

    #[test]
    fn snapshot_diff_of_equal_snapshots_is_empty() {
        let snapshot = json!({"title": "A", "attributes": {"x": 1}});
        assert!(snapshot_diff(&snapshot, &snapshot).is_empty());
        // Null and absent read the same.
        assert!(snapshot_diff(&json!({"owner": null}), &json!({})).is_empty());
    }

    #[test]
    fn non_object_attributes_are_one_field() {
        let old = json!({"attributes": [{"name": "asil"}]});
        let new = json!({"attributes": [{"name": "asil"}, {"name": "cost"}]});
        let diffs = snapshot_diff(&old, &new);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].field, "attributes");
    }

    #[test]
    fn diff_kind_serialises_snake_case() {
        let json = serde_json::to_value(span(DiffKind::Insert, "x")).unwrap();
        assert_eq!(json, json!({"kind": "insert", "text": "x"}));
    }
}
