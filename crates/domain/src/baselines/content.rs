//! What a baseline records: one item per artefact (its exact revision and that revision's
//! content hash), grouped per container (a module, a plan) into content-addressed groups, and
//! the baseline's content hash over the sorted (artefact id, revision hash) list.
//!
//! Groups form a two-level hash tree: a baseline lists (kind, group, group hash) and each group
//! body is stored once under its hash. Two baselines share every group that did not change,
//! and a comparison reads only the groups whose hashes differ.

use crate::requirements::model::text_enum;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

text_enum!(
    /// The artefact types a baseline records.
    ArtefactKind {
        Module => "module",
        Requirement => "requirement",
        Link => "trace_link",
        Plan => "vv_plan",
        Case => "vv_case",
        Result => "vv_result",
    }
);

impl ArtefactKind {
    pub fn label(self) -> &'static str {
        match self {
            ArtefactKind::Module => "Requirement modules",
            ArtefactKind::Requirement => "Requirements",
            ArtefactKind::Link => "Trace links",
            ArtefactKind::Plan => "Verification plans",
            ArtefactKind::Case => "Verification cases",
            ArtefactKind::Result => "Latest results",
        }
    }

    /// Artefacts with a revision history (the others are immutable once written).
    pub fn has_revisions(self) -> bool {
        matches!(
            self,
            ArtefactKind::Module
                | ArtefactKind::Requirement
                | ArtefactKind::Plan
                | ArtefactKind::Case
        )
    }
}

/// One artefact at one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub kind: ArtefactKind,
    pub id: Uuid,
    pub revision: i64,
    /// SHA-256 (hex) of the revision's canonical content.
    pub hash: String,
    /// The container the item is grouped under (module of a requirement, plan of a case, the
    /// nil UUID for project-level items).
    pub group: Uuid,
    /// The item above it in its hierarchy (a requirement's parent, a result's case).
    pub parent: Option<Uuid>,
    /// Human-readable name: a human id, or `SYS-001 derives SS-004` for a link.
    pub label: String,
}

/// The revision hash of an artefact that has no revision history, from its content fields
/// (a link's kind and ends, a result's case, verdict and time): SHA-256 over the fields joined
/// by a line feed.
pub fn fields_hash(fields: &[&str]) -> String {
    hex(&Sha256::digest(fields.join("\n").as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Tabs and line breaks would break the group encoding; labels are display text only.
fn clean_label(label: &str) -> String {
    label.replace(['\t', '\n', '\r'], " ")
}

/// A group of items of one kind under one container, with its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: ArtefactKind,
    pub group: Uuid,
    pub items: Vec<Item>,
    pub hash: String,
}

impl Group {
    /// The group's stored body: one line per item sorted by id,
    /// `id \t revision \t hash \t parent \t label`.
    pub fn body(&self) -> String {
        encode(&self.items)
    }
}

fn encode(items: &[Item]) -> String {
    let mut out = String::with_capacity(items.len() * 150);
    for i in items {
        out.push_str(&i.id.to_string());
        out.push('\t');
        out.push_str(&i.revision.to_string());
        out.push('\t');
        out.push_str(&i.hash);
        out.push('\t');
        if let Some(p) = i.parent {
            out.push_str(&p.to_string());
        }
        out.push('\t');
        out.push_str(&clean_label(&i.label));
        out.push('\n');
    }
    out
}

/// Reads a stored group body back into items. A body that does not parse means the stored
/// data was damaged; the error says which line.
pub fn decode(kind: ArtefactKind, group: Uuid, body: &str) -> Result<Vec<Item>, String> {
    body.lines()
        .enumerate()
        .map(|(n, line)| {
            let mut f = line.splitn(5, '\t');
            let bad = || format!("baseline group line {} is damaged: {line:?}", n + 1);
            let id = f
                .next()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(bad)?;
            let revision = f.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
            let hash = f.next().ok_or_else(bad)?.to_owned();
            let parent = match f.next().ok_or_else(bad)? {
                "" => None,
                p => Some(Uuid::parse_str(p).map_err(|_| bad())?),
            };
            let label = f.next().ok_or_else(bad)?.to_owned();
            Ok(Item {
                kind,
                id,
                revision,
                hash,
                group,
                parent,
                label,
            })
        })
        .collect()
}

/// Hash of a group body (what the group is stored under).
pub fn body_hash(body: &str) -> String {
    hex(&Sha256::digest(body.as_bytes()))
}

/// Splits items into groups by (kind, container), items sorted by id, groups sorted by key.
pub fn group_items(items: Vec<Item>) -> Vec<Group> {
    let mut by_key: BTreeMap<(ArtefactKind, Uuid), Vec<Item>> = BTreeMap::new();
    for i in items {
        by_key.entry((i.kind, i.group)).or_default().push(i);
    }
    by_key
        .into_iter()
        .map(|((kind, group), mut items)| {
            items.sort_by_key(|a| a.id);
            let hash = body_hash(&encode(&items));
            Group {
                kind,
                group,
                items,
                hash,
            }
        })
        .collect()
}

/// The baseline's content hash: SHA-256 over one line per item, `<artefact id> <revision
/// hash>\n`, the ids lower-case hyphenated and the lines sorted by id. Anyone can recompute
/// it from the baseline's item list (see docs/baselines.md).
pub fn content_hash<'a>(items: impl IntoIterator<Item = &'a Item>) -> String {
    let mut pairs: Vec<(Uuid, &str)> = items.into_iter().map(|i| (i.id, i.hash.as_str())).collect();
    pairs.sort_unstable();
    let mut h = Sha256::new();
    let mut line = String::with_capacity(110);
    for (id, hash) in pairs {
        line.clear();
        line.push_str(&id.to_string());
        line.push(' ');
        line.push_str(hash);
        line.push('\n');
        h.update(line.as_bytes());
    }
    hex(&h.finalize())
}

/// Item counts per kind.
pub fn counts<'a>(items: impl IntoIterator<Item = &'a Item>) -> BTreeMap<ArtefactKind, i64> {
    let mut out = BTreeMap::new();
    for i in items {
        *out.entry(i.kind).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: ArtefactKind, n: u128, group: u128, hash: &str) -> Item {
        Item {
            kind,
            id: Uuid::from_u128(n),
            revision: 1,
            hash: hash.into(),
            group: Uuid::from_u128(group),
            parent: None,
            label: format!("X-{n}"),
        }
    }

    #[test]
    fn body_round_trips_with_parents_and_odd_labels() {
        let mut a = item(ArtefactKind::Requirement, 2, 9, "ab");
        a.parent = Some(Uuid::from_u128(1));
        a.label = "tab\there".into();
        let groups = group_items(vec![a.clone(), item(ArtefactKind::Requirement, 1, 9, "cd")]);
        assert_eq!(groups.len(), 1);
        let back = decode(
            ArtefactKind::Requirement,
            Uuid::from_u128(9),
            &groups[0].body(),
        )
        .unwrap();
        assert_eq!(back[0].id, Uuid::from_u128(1));
        assert_eq!(back[1].parent, a.parent);
        assert_eq!(back[1].label, "tab here");
        assert_eq!(body_hash(&groups[0].body()), groups[0].hash);
    }

    #[test]
    fn damaged_body_is_an_error_naming_the_line() {
        let e = decode(ArtefactKind::Link, Uuid::nil(), "nonsense\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn content_hash_is_order_free_and_matches_the_documented_recipe() {
        let a = item(ArtefactKind::Requirement, 2, 9, "h2");
        let b = item(ArtefactKind::Link, 1, 8, "h1");
        let h = content_hash([&a, &b]);
        assert_eq!(h, content_hash([&b, &a]));
        let text = format!("{} h1\n{} h2\n", Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(h, hex(&Sha256::digest(text.as_bytes())));
        let mut c = b.clone();
        c.hash = "h3".into();
        assert_ne!(h, content_hash([&a, &c]));
    }

    #[test]
    fn groups_split_by_kind_and_container() {
        let g = group_items(vec![
            item(ArtefactKind::Requirement, 1, 1, "a"),
            item(ArtefactKind::Requirement, 2, 2, "b"),
            item(ArtefactKind::Link, 3, 1, "c"),
        ]);
        assert_eq!(g.len(), 3);
        assert_eq!(
            counts(g.iter().flat_map(|g| &g.items))[&ArtefactKind::Requirement],
            2
        );
    }
}
