//! Comparing two sets of baseline items (two baselines, or a baseline and the working
//! state): added, removed, changed (another revision) and moved (another container or parent)
//! per artefact kind. The caller passes only the groups whose hashes differ; groups with equal
//! hashes hold equal items and cannot contribute a difference.

use super::content::{ArtefactKind, Item};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One artefact present on both sides with a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pair {
    pub from: Item,
    pub to: Item,
}

/// The differences of one artefact kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindDiff {
    pub added: Vec<Item>,
    pub removed: Vec<Item>,
    /// Same artefact, another revision (for results: the case's latest result changed).
    pub changed: Vec<Pair>,
    /// Same artefact, another container or parent.
    pub moved: Vec<Pair>,
}

impl KindDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.moved.is_empty()
    }
    pub fn total(&self) -> usize {
        self.added.len() + self.removed.len() + self.changed.len() + self.moved.len()
    }
}

/// The whole comparison, per kind in a fixed order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub kinds: BTreeMap<ArtefactKind, KindDiff>,
    /// Groups compared item by item (their hashes differed) and groups skipped (equal).
    pub groups_compared: usize,
    pub groups_equal: usize,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.kinds.values().all(KindDiff::is_empty)
    }
    pub fn kind(&self, kind: ArtefactKind) -> Option<&KindDiff> {
        self.kinds.get(&kind)
    }
}

/// Compares items of the differing groups. Results are keyed by their case: a case whose
/// latest result is another result is a change of that case's latest result, not a removal
/// and an addition.
pub fn compare(from: Vec<Item>, to: Vec<Item>) -> Comparison {
    let key = |i: &Item| -> (ArtefactKind, Uuid) {
        match (i.kind, i.parent) {
            (ArtefactKind::Result, Some(case)) => (i.kind, case),
            _ => (i.kind, i.id),
        }
    };
    let mut old: HashMap<(ArtefactKind, Uuid), Item> =
        from.into_iter().map(|i| (key(&i), i)).collect();
    let mut out = Comparison::default();
    let mut to = to;
    to.sort_by(|a, b| (a.kind, &a.label, a.id).cmp(&(b.kind, &b.label, b.id)));
    for new in to {
        let k = key(&new);
        let diff = out.kinds.entry(new.kind).or_default();
        match old.remove(&k) {
            None => diff.added.push(new),
            Some(prev) => {
                let changed = prev.hash != new.hash || prev.id != new.id;
                let moved = new.kind != ArtefactKind::Result
                    && (prev.group != new.group || prev.parent != new.parent);
                match (changed, moved) {
                    (false, false) => {}
                    (true, false) => diff.changed.push(Pair {
                        from: prev,
                        to: new,
                    }),
                    (false, true) => diff.moved.push(Pair {
                        from: prev,
                        to: new,
                    }),
                    (true, true) => {
                        diff.changed.push(Pair {
                            from: prev.clone(),
                            to: new.clone(),
                        });
                        diff.moved.push(Pair {
                            from: prev,
                            to: new,
                        });
                    }
                }
            }
        }
    }
    let mut gone: Vec<Item> = old.into_values().collect();
    gone.sort_by(|a, b| (a.kind, &a.label, a.id).cmp(&(b.kind, &b.label, b.id)));
    for i in gone {
        out.kinds.entry(i.kind).or_default().removed.push(i);
    }
    out.kinds.retain(|_, d| !d.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(kind: ArtefactKind, id: u128, hash: &str, group: u128, parent: Option<u128>) -> Item {
        Item {
            kind,
            id: Uuid::from_u128(id),
            revision: 1,
            hash: hash.into(),
            group: Uuid::from_u128(group),
            parent: parent.map(Uuid::from_u128),
            label: format!("L{id}"),
        }
    }

    #[test]
    fn add_remove_change_move_and_relink_are_told_apart() {
        use ArtefactKind::*;
        let from = vec![
            it(Requirement, 1, "a", 10, None),
            it(Requirement, 2, "b", 10, None),
            it(Requirement, 3, "c", 10, None),
            it(Requirement, 4, "d", 10, Some(1)),
            it(Link, 50, "l", 10, None),
        ];
        let to = vec![
            it(Requirement, 1, "a", 10, None),
            // 2 removed; 3 changed; 4 moved to another parent and module; 5 added
            it(Requirement, 3, "c2", 10, None),
            it(Requirement, 4, "d", 11, Some(3)),
            it(Requirement, 5, "e", 10, None),
            // relinked: link 50 removed, link 51 added
            it(Link, 51, "l2", 10, None),
        ];
        let c = compare(from, to);
        let r = c.kind(Requirement).unwrap();
        assert_eq!(
            r.added.iter().map(|i| i.id.as_u128()).collect::<Vec<_>>(),
            vec![5]
        );
        assert_eq!(
            r.removed.iter().map(|i| i.id.as_u128()).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(r.changed.len(), 1);
        assert_eq!(r.changed[0].to.hash, "c2");
        assert_eq!(r.moved.len(), 1);
        assert_eq!(r.moved[0].to.parent, Some(Uuid::from_u128(3)));
        let l = c.kind(Link).unwrap();
        assert_eq!((l.added.len(), l.removed.len(), l.changed.len()), (1, 1, 0));
    }

    #[test]
    fn a_new_latest_result_is_a_change_of_its_case() {
        use ArtefactKind::*;
        let c = compare(
            vec![it(Result, 100, "pass", 0, Some(7))],
            vec![it(Result, 101, "fail", 0, Some(7))],
        );
        let r = c.kind(Result).unwrap();
        assert_eq!(r.changed.len(), 1);
        assert!(r.added.is_empty() && r.removed.is_empty());
    }

    #[test]
    fn equal_sides_compare_empty() {
        let a = vec![it(ArtefactKind::Case, 1, "x", 0, None)];
        assert!(compare(a.clone(), a).is_empty());
    }
}
