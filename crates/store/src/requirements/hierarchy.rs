//! The hierarchy cycle check of a batch, in memory: the stored hierarchical edges that the
//! batch's new links can reach are read once, then each new link is checked against them
//! and the batch's earlier links — one read per batch instead of a recursive query per link.

use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;

type Edges = HashMap<Uuid, Vec<Uuid>>;

/// The index of the first added edge (source → target, in order) whose target already
/// reaches its source through `stored` and the added edges before it: the link that would
/// close a cycle. `stored` must hold every stored edge reachable from the added targets.
pub fn first_cycle(stored: &[(Uuid, Uuid)], added: &[(Uuid, Uuid)]) -> Option<usize> {
    let mut all = Edges::new();
    for &(s, t) in stored.iter().chain(added) {
        all.entry(s).or_default().push(t);
    }
    // The usual case: no cycle at all, so no prefix of the batch closes one.
    if acyclic(&all) {
        return None;
    }
    let mut edges = Edges::new();
    for &(s, t) in stored {
        edges.entry(s).or_default().push(t);
    }
    for (i, &(s, t)) in added.iter().enumerate() {
        if reaches(&edges, t, s) {
            return Some(i);
        }
        edges.entry(s).or_default().push(t);
    }
    None
}

/// Kahn's algorithm: every node can be peeled off in topological order.
fn acyclic(edges: &Edges) -> bool {
    let mut indegree: HashMap<Uuid, usize> = HashMap::new();
    for (s, ts) in edges {
        indegree.entry(*s).or_default();
        for t in ts {
            *indegree.entry(*t).or_default() += 1;
        }
    }
    let mut ready: VecDeque<Uuid> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut peeled = 0;
    while let Some(n) = ready.pop_front() {
        peeled += 1;
        for t in edges.get(&n).into_iter().flatten() {
            if let Some(d) = indegree.get_mut(t) {
                *d -= 1;
                if *d == 0 {
                    ready.push_back(*t);
                }
            }
        }
    }
    peeled == indegree.len()
}

/// Is `to` reachable from `from` along at least one edge?
fn reaches(edges: &Edges, from: Uuid, to: Uuid) -> bool {
    let mut stack: Vec<Uuid> = edges.get(&from).cloned().unwrap_or_default();
    let mut seen: HashSet<Uuid> = HashSet::new();
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.get(&n).into_iter().flatten().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (1..=n as u128).map(Uuid::from_u128).collect()
    }

    #[test]
    fn a_tree_has_no_cycle() {
        let n = ids(4);
        let stored = [(n[1], n[0]), (n[2], n[0])];
        assert_eq!(first_cycle(&stored, &[(n[3], n[1]), (n[3], n[2])]), None);
    }

    #[test]
    fn the_first_closing_link_is_named() {
        let n = ids(4);
        // 0 → 1 stored; the batch adds 1 → 2, 2 → 3, 3 → 0 (closes), 2 → 0 (would close too).
        let stored = [(n[0], n[1])];
        let added = [(n[1], n[2]), (n[2], n[3]), (n[3], n[0]), (n[2], n[0])];
        assert_eq!(first_cycle(&stored, &added), Some(2));
    }

    #[test]
    fn a_link_back_to_a_direct_parent_closes_a_cycle() {
        let n = ids(2);
        assert_eq!(first_cycle(&[(n[0], n[1])], &[(n[1], n[0])]), Some(0));
        assert_eq!(first_cycle(&[], &[(n[0], n[1]), (n[1], n[0])]), Some(1));
    }

    #[test]
    fn a_stored_cycle_elsewhere_blames_no_new_link() {
        let n = ids(4);
        let stored = [(n[0], n[1]), (n[1], n[0])];
        assert_eq!(first_cycle(&stored, &[(n[2], n[3])]), None);
        // A link into the stored cycle does not close a new one either.
        assert_eq!(first_cycle(&stored, &[(n[2], n[0])]), None);
    }

    #[test]
    fn a_self_link_is_not_a_cycle_of_the_hierarchy_here() {
        // As the stored check did: a node is not its own strict ancestor without a path back.
        let n = ids(1);
        assert_eq!(first_cycle(&[], &[(n[0], n[0])]), None);
    }
}
