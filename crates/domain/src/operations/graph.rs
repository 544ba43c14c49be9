//! The operations plan as a graph: readiness items and milestones joined by finish-to-start
//! edges (explicit dependencies, and each gating item before its milestone). Everything the
//! dashboard shows is computed here in one or two linear passes over the graph: the cycle a
//! new edge would close, the longest chain of unfinished work ending at each node (the
//! critical path), the earliest finish of each node from today, the nearest milestone each
//! node leads to, the late items, the burn-down and the layered layout of the diagram.

use crate::ids::{MilestoneId, OpsItemId};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;

/// An end of a dependency: an item or a milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum NodeRef {
    Item(OpsItemId),
    Milestone(MilestoneId),
}

impl NodeRef {
    pub fn kind(self) -> &'static str {
        match self {
            NodeRef::Item(_) => "item",
            NodeRef::Milestone(_) => "milestone",
        }
    }

    pub fn uuid(self) -> Uuid {
        match self {
            NodeRef::Item(i) => i.0,
            NodeRef::Milestone(m) => m.0,
        }
    }

    pub fn from_parts(kind: &str, id: Uuid) -> Result<Self, String> {
        match kind {
            "item" => Ok(NodeRef::Item(OpsItemId(id))),
            "milestone" => Ok(NodeRef::Milestone(MilestoneId(id))),
            other => Err(format!("{other:?} is not item or milestone")),
        }
    }

    pub fn is_milestone(self) -> bool {
        matches!(self, NodeRef::Milestone(_))
    }
}

/// What the analyses need of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub node: NodeRef,
    /// The human id (`OPS-001`, `MS-002`).
    pub label: String,
    pub title: String,
    /// The status name (for the diagram's classes).
    pub state: &'static str,
    /// Planned days of work; 0 for milestones.
    pub duration: i64,
    /// A done item or an achieved or missed milestone: it no longer constrains the plan.
    pub finished: bool,
    /// Items: the due date.
    pub due: Option<NaiveDate>,
    /// Milestones: the target date.
    pub target: Option<NaiveDate>,
}

/// The plan graph. Nodes are addressed by their index in `nodes`.
#[derive(Debug, Clone, Default)]
pub struct OpsGraph {
    pub nodes: Vec<Node>,
    index: HashMap<NodeRef, usize>,
    preds: Vec<Vec<usize>>,
    succs: Vec<Vec<usize>>,
}

/// The longest chain of unfinished work ending at a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalPath {
    /// Node indices from the first piece of work to the node itself.
    pub nodes: Vec<usize>,
    /// The sum of the chain's durations, in days.
    pub days: i64,
}

/// An unfinished item whose due date, or earliest finish, is after the target date of the
/// nearest milestone it gates or precedes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Late {
    pub item: usize,
    pub milestone: usize,
    pub target: NaiveDate,
    pub due: Option<NaiveDate>,
    pub earliest_finish: NaiveDate,
    /// The due date is after the target.
    pub due_late: bool,
    /// The forecast (forward pass from today) finishes after the target.
    pub forecast_late: bool,
}

/// Where each node sits in the layered diagram.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// (layer, row) per node index.
    pub positions: Vec<(usize, usize)>,
    pub layers: usize,
    /// Nodes in the fullest layer.
    pub rows: usize,
}

impl OpsGraph {
    /// A graph of `nodes` and the edges `(predecessor, successor)`; edges naming an unknown
    /// node and repeated edges are ignored.
    pub fn new(nodes: Vec<Node>, edges: impl IntoIterator<Item = (NodeRef, NodeRef)>) -> Self {
        let index: HashMap<NodeRef, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n.node, i)).collect();
        let mut preds = vec![Vec::new(); nodes.len()];
        let mut succs = vec![Vec::new(); nodes.len()];
        let mut seen = HashSet::new();
        for (p, s) in edges {
            let (Some(&p), Some(&s)) = (index.get(&p), index.get(&s)) else {
                continue;
            };
            if seen.insert((p, s)) {
                preds[s].push(p);
                succs[p].push(s);
            }
        }
        // A stable order (by human id) so that ties break the same way every time.
        for list in preds.iter_mut().chain(succs.iter_mut()) {
            list.sort_by(|a, b| nodes[*a].label.cmp(&nodes[*b].label));
        }
        Self {
            nodes,
            index,
            preds,
            succs,
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn find(&self, node: NodeRef) -> Option<usize> {
        self.index.get(&node).copied()
    }

    pub fn preds(&self, n: usize) -> &[usize] {
        self.preds.get(n).map_or(&[], Vec::as_slice)
    }

    pub fn succs(&self, n: usize) -> &[usize] {
        self.succs.get(n).map_or(&[], Vec::as_slice)
    }

    /// The edges as (predecessor, successor) indices.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.succs
            .iter()
            .enumerate()
            .flat_map(|(p, ss)| ss.iter().map(move |s| (p, *s)))
    }

    /// A topological order (Kahn). The insert-time check keeps the graph acyclic; should a
    /// cycle exist anyway, its nodes come last in index order rather than failing a page.
    pub fn topo_order(&self) -> Vec<usize> {
        let mut indeg: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut queue: VecDeque<usize> = (0..self.len()).filter(|i| indeg[*i] == 0).collect();
        let mut out = Vec::with_capacity(self.len());
        while let Some(n) = queue.pop_front() {
            out.push(n);
            for &s in &self.succs[n] {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    queue.push_back(s);
                }
            }
        }
        if out.len() < self.len() {
            let placed: HashSet<usize> = out.iter().copied().collect();
            out.extend((0..self.len()).filter(|i| !placed.contains(i)));
        }
        out
    }

    /// For every unfinished node: the length (days) of the longest chain of unfinished nodes
    /// ending at it, and the predecessor on that chain. Finished nodes have none; a finished
    /// predecessor ends a chain (its work is behind us).
    pub fn longest_chains(&self) -> Vec<Option<(i64, Option<usize>)>> {
        let mut best: Vec<Option<(i64, Option<usize>)>> = vec![None; self.len()];
        for n in self.topo_order() {
            if self.nodes[n].finished {
                continue;
            }
            let mut from: Option<(i64, usize)> = None;
            for &p in &self.preds[n] {
                if let Some((len, _)) = best[p] {
                    // Strictly longer wins, so among equals the first by human id stays.
                    if from.is_none_or(|(l, _)| len > l) {
                        from = Some((len, p));
                    }
                }
            }
            let own = self.nodes[n].duration.max(0);
            best[n] = Some(match from {
                Some((len, p)) => (len + own, Some(p)),
                None => (own, None),
            });
        }
        best
    }

    /// The critical path to `target` from chains computed by `longest_chains`.
    pub fn critical_path(
        &self,
        chains: &[Option<(i64, Option<usize>)>],
        target: usize,
    ) -> Option<CriticalPath> {
        let (days, _) = (*chains.get(target)?)?;
        let mut nodes = vec![target];
        let mut cur = target;
        while let Some(Some((_, Some(p)))) = chains.get(cur) {
            // A cycle cannot be in the chains (topological order), but stay bounded anyway.
            if nodes.len() > self.len() {
                break;
            }
            nodes.push(*p);
            cur = *p;
        }
        nodes.reverse();
        Some(CriticalPath { nodes, days })
    }

    /// The earliest finish of every unfinished node when work starts today: an item starts
    /// the day after its last unfinished predecessor finishes (today at the earliest) and
    /// takes its duration in days, finishing on its last day; a milestone is reached at its
    /// target date, or later when its predecessors finish later.
    pub fn earliest_finish(&self, today: NaiveDate) -> Vec<Option<NaiveDate>> {
        let mut ef: Vec<Option<NaiveDate>> = vec![None; self.len()];
        for n in self.topo_order() {
            let node = &self.nodes[n];
            if node.finished {
                continue;
            }
            let after = self.preds[n].iter().filter_map(|p| ef[*p]).max();
            ef[n] = Some(match node.node {
                NodeRef::Item(_) => {
                    let start = after.map_or(today, |d| (d + Duration::days(1)).max(today));
                    start + Duration::days(node.duration.max(1) - 1)
                }
                NodeRef::Milestone(_) => {
                    let target = node.target.unwrap_or(today);
                    after.map_or(target, |d| d.max(target))
                }
            });
        }
        ef
    }

    /// For every node, the nearest (earliest target) unsettled milestone downstream of it:
    /// one it gates or precedes, directly or through other nodes. (target, milestone index).
    pub fn deadlines(&self) -> Vec<Option<(NaiveDate, usize)>> {
        let mut dl: Vec<Option<(NaiveDate, usize)>> = vec![None; self.len()];
        let order = self.topo_order();
        for &n in order.iter().rev() {
            let mut best: Option<(NaiveDate, usize)> = None;
            for &s in &self.succs[n] {
                let own = match (&self.nodes[s].node, self.nodes[s].target) {
                    (NodeRef::Milestone(_), Some(t)) if !self.nodes[s].finished => Some((t, s)),
                    _ => None,
                };
                for c in [own, dl[s]].into_iter().flatten() {
                    let better = best.is_none_or(|(bt, bm)| {
                        (c.0, &self.nodes[c.1].label) < (bt, &self.nodes[bm].label)
                    });
                    if better {
                        best = Some(c);
                    }
                }
            }
            dl[n] = best;
        }
        dl
    }

    /// Unfinished items late against the nearest milestone they gate or precede, in human-id
    /// order.
    pub fn late_items(&self, today: NaiveDate) -> Vec<Late> {
        let ef = self.earliest_finish(today);
        let dl = self.deadlines();
        let mut out: Vec<Late> = (0..self.len())
            .filter(|n| !self.nodes[*n].node.is_milestone() && !self.nodes[*n].finished)
            .filter_map(|n| {
                let (target, milestone) = dl[n]?;
                let earliest_finish = ef[n]?;
                let due = self.nodes[n].due;
                let due_late = due.is_some_and(|d| d > target);
                let forecast_late = earliest_finish > target;
                (due_late || forecast_late).then_some(Late {
                    item: n,
                    milestone,
                    target,
                    due,
                    earliest_finish,
                    due_late,
                    forecast_late,
                })
            })
            .collect();
        out.sort_by(|a, b| self.nodes[a.item].label.cmp(&self.nodes[b.item].label));
        out
    }

    /// `n` and every node it depends on, directly or not.
    pub fn ancestors(&self, n: usize) -> Vec<usize> {
        let mut seen = HashSet::from([n]);
        let mut stack = vec![n];
        while let Some(x) = stack.pop() {
            for &p in self.preds(x) {
                if seen.insert(p) {
                    stack.push(p);
                }
            }
        }
        let mut out: Vec<usize> = seen.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// The graph of the nodes `keep` (indices of this graph) and the edges between them.
    pub fn subgraph(&self, keep: &[usize]) -> OpsGraph {
        let nodes: Vec<Node> = keep
            .iter()
            .filter_map(|i| self.nodes.get(*i).cloned())
            .collect();
        let kept: HashSet<usize> = keep.iter().copied().collect();
        let edges: Vec<(NodeRef, NodeRef)> = self
            .edges()
            .filter(|(p, s)| kept.contains(p) && kept.contains(s))
            .map(|(p, s)| (self.nodes[p].node, self.nodes[s].node))
            .collect();
        OpsGraph::new(nodes, edges)
    }

    /// A layered layout: each node in the layer one past its deepest predecessor (longest-path
    /// layering, so every edge points to a later layer); within a layer, nodes sit in the
    /// order of their predecessors' mean row (one barycentre sweep), ties by human id.
    pub fn layout(&self) -> Layout {
        let mut layer = vec![0usize; self.len()];
        for n in self.topo_order() {
            layer[n] = self.preds[n]
                .iter()
                .map(|p| layer[*p] + 1)
                .max()
                .unwrap_or(0);
        }
        let layers = layer.iter().max().map_or(0, |m| m + 1);
        let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); layers];
        for (n, l) in layer.iter().enumerate() {
            by_layer[*l].push(n);
        }
        let mut row = vec![0usize; self.len()];
        for (l, members) in by_layer.iter_mut().enumerate() {
            let key = |n: usize, row: &[usize]| -> (u64, String) {
                let ps = &self.preds[n];
                let bary = if l == 0 || ps.is_empty() {
                    0
                } else {
                    // Fixed point with three decimals keeps the key an integer.
                    (ps.iter().map(|p| row[*p] as u64).sum::<u64>() * 1000) / ps.len() as u64
                };
                (bary, self.nodes[n].label.clone())
            };
            let mut keyed: Vec<((u64, String), usize)> =
                members.iter().map(|n| (key(*n, &row), *n)).collect();
            keyed.sort();
            *members = keyed.into_iter().map(|(_, n)| n).collect();
            for (r, n) in members.iter().enumerate() {
                row[*n] = r;
            }
        }
        Layout {
            positions: (0..self.len()).map(|n| (layer[n], row[n])).collect(),
            layers,
            rows: by_layer.iter().map(Vec::len).max().unwrap_or(0),
        }
    }
}

/// The cycle that adding `from → to` to `edges` would close, as the chain of nodes from
/// `from` back to itself; `None` when the edge keeps the graph acyclic.
pub fn cycle_if_added(
    edges: &[(NodeRef, NodeRef)],
    from: NodeRef,
    to: NodeRef,
) -> Option<Vec<NodeRef>> {
    if from == to {
        return Some(vec![from, to]);
    }
    let mut succs: HashMap<NodeRef, Vec<NodeRef>> = HashMap::new();
    for (p, s) in edges {
        succs.entry(*p).or_default().push(*s);
    }
    // Breadth first from `to`: the shortest way back to `from` names the shortest cycle.
    let mut parent: HashMap<NodeRef, NodeRef> = HashMap::new();
    let mut queue = VecDeque::from([to]);
    let mut seen = HashSet::from([to]);
    while let Some(n) = queue.pop_front() {
        if n == from {
            let mut path = vec![from];
            let mut cur = from;
            while let Some(p) = parent.get(&cur) {
                path.push(*p);
                cur = *p;
            }
            path.reverse();
            // path runs to → … → from; the cycle starts with the new edge.
            let mut cycle = vec![from];
            cycle.extend(path);
            return Some(cycle);
        }
        for s in succs.get(&n).map_or(&[][..], Vec::as_slice) {
            if seen.insert(*s) {
                parent.insert(*s, n);
                queue.push_back(*s);
            }
        }
    }
    None
}

/// Open items at the end of each day from `from` to `to`: created on or before the day and
/// not done on or before it. `items` are (created, done) dates.
pub fn burndown(
    items: &[(NaiveDate, Option<NaiveDate>)],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDate, i64)> {
    let days = (to - from).num_days();
    if days < 0 {
        return Vec::new();
    }
    let len = usize::try_from(days).unwrap_or(0) + 1;
    // +1 on the day an item appears, −1 on the day it is done; a running sum gives the count.
    let mut delta = vec![0i64; len];
    let mut before = 0i64;
    let slot = |d: NaiveDate| -> Option<usize> {
        let k = (d - from).num_days();
        (k >= 0).then(|| usize::try_from(k).unwrap_or(usize::MAX))
    };
    for (created, done) in items {
        match slot(*created) {
            None => before += 1,
            Some(k) if k < len => delta[k] += 1,
            Some(_) => continue,
        }
        if let Some(d) = done {
            match slot(*d) {
                None => before -= 1,
                Some(k) if k < len => delta[k] -= 1,
                Some(_) => {}
            }
        }
    }
    let mut open = before;
    (0..len)
        .map(|k| {
            open += delta[k];
            (from + Duration::days(k as i64), open)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn item(label: &str, days: i64, finished: bool, due: Option<&str>) -> Node {
        Node {
            node: NodeRef::Item(OpsItemId::new()),
            label: label.into(),
            title: label.into(),
            state: if finished { "done" } else { "open" },
            duration: days,
            finished,
            due: due.map(d),
            target: None,
        }
    }

    fn milestone(label: &str, target: &str) -> Node {
        Node {
            node: NodeRef::Milestone(MilestoneId::new()),
            label: label.into(),
            title: label.into(),
            state: "planned",
            duration: 0,
            finished: false,
            due: None,
            target: Some(d(target)),
        }
    }

    /// A: 3 d, B: 2 d, C: 5 d (done), D: 4 d, E: 1 d; M1.
    /// A → B → M1, C → D → M1, A → D, E → M1.
    fn sample() -> OpsGraph {
        let nodes = vec![
            item("OPS-001", 3, false, Some("2026-06-05")),
            item("OPS-002", 2, false, None),
            item("OPS-003", 5, true, None),
            item("OPS-004", 4, false, Some("2026-06-20")),
            item("OPS-005", 1, false, None),
            milestone("MS-001", "2026-06-08"),
        ];
        let r = |i: usize| nodes[i].node;
        let edges = vec![
            (r(0), r(1)),
            (r(1), r(5)),
            (r(2), r(3)),
            (r(3), r(5)),
            (r(0), r(3)),
            (r(4), r(5)),
        ];
        OpsGraph::new(nodes, edges)
    }

    #[test]
    fn critical_path_is_the_longest_unfinished_chain() {
        let g = sample();
        let chains = g.longest_chains();
        let cp = g.critical_path(&chains, 5).unwrap();
        // A (3) → D (4) = 7 beats A → B = 5; C is done, so it is not on the path.
        assert_eq!(cp.nodes, vec![0, 3, 5]);
        assert_eq!(cp.days, 7);
        assert!(
            g.critical_path(&chains, 2).is_none(),
            "a done item has none"
        );
    }

    #[test]
    fn forward_pass_and_lateness() {
        let g = sample();
        let today = d("2026-06-01");
        let ef = g.earliest_finish(today);
        assert_eq!(ef[0], Some(d("2026-06-03"))); // 3 days from June 1
        assert_eq!(ef[1], Some(d("2026-06-05"))); // June 4-5
        assert_eq!(ef[2], None); // done
        assert_eq!(ef[3], Some(d("2026-06-07"))); // June 4-7
        assert_eq!(ef[4], Some(d("2026-06-01")));
        assert_eq!(ef[5], Some(d("2026-06-08"))); // the target: work ends before it
        let late = g.late_items(today);
        // OPS-004 is due June 20, after the June 8 target; nothing is forecast late.
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].item, 3);
        assert!(late[0].due_late && !late[0].forecast_late);
        assert_eq!(late[0].milestone, 5);
        // Starting on June 6, A ends June 8 (in time), B June 10 and D June 12 (late).
        let late = g.late_items(d("2026-06-06"));
        let names: Vec<&str> = late
            .iter()
            .map(|l| g.nodes[l.item].label.as_str())
            .collect();
        assert_eq!(names, vec!["OPS-002", "OPS-004"]);
        assert!(late[0].forecast_late && !late[0].due_late);
        assert_eq!(late[1].earliest_finish, d("2026-06-12"));
    }

    #[test]
    fn deadlines_take_the_nearest_milestone_downstream() {
        let mut nodes = vec![
            item("OPS-001", 1, false, None),
            milestone("MS-001", "2026-09-01"),
            item("OPS-002", 1, false, None),
            milestone("MS-002", "2026-07-01"),
        ];
        nodes[3].finished = false;
        let r: Vec<NodeRef> = nodes.iter().map(|n| n.node).collect();
        // OPS-001 → MS-001 → OPS-002 → MS-002: OPS-001 must be ready by MS-002 too.
        let g = OpsGraph::new(nodes, vec![(r[0], r[1]), (r[1], r[2]), (r[2], r[3])]);
        let dl = g.deadlines();
        assert_eq!(dl[0], Some((d("2026-07-01"), 3)));
        assert_eq!(dl[2], Some((d("2026-07-01"), 3)));
        assert_eq!(dl[3], None);
        // A milestone holds its successors until its target date.
        let ef = g.earliest_finish(d("2026-06-01"));
        assert_eq!(ef[2], Some(d("2026-09-02")));
        assert_eq!(g.late_items(d("2026-06-01")).len(), 1);
    }

    #[test]
    fn cycles_are_named() {
        let a = NodeRef::Item(OpsItemId::new());
        let b = NodeRef::Item(OpsItemId::new());
        let c = NodeRef::Milestone(MilestoneId::new());
        let edges = vec![(a, b), (b, c)];
        assert_eq!(cycle_if_added(&edges, a, a), Some(vec![a, a]));
        assert_eq!(cycle_if_added(&edges, b, a), Some(vec![b, a, b]));
        assert_eq!(cycle_if_added(&edges, c, a), Some(vec![c, a, b, c]));
        assert_eq!(cycle_if_added(&edges, a, c), None);
    }

    #[test]
    fn layers_follow_the_longest_path() {
        let g = sample();
        let l = g.layout();
        // A, C, E first; B after A; D after A and C; M1 after B and D.
        assert_eq!(l.positions[0].0, 0);
        assert_eq!(l.positions[2].0, 0);
        assert_eq!(l.positions[4].0, 0);
        assert_eq!(l.positions[1].0, 1);
        assert_eq!(l.positions[3].0, 1);
        assert_eq!(l.positions[5].0, 2);
        assert_eq!((l.layers, l.rows), (3, 3));
        for (p, s) in g.edges() {
            assert!(l.positions[p].0 < l.positions[s].0);
        }
    }

    #[test]
    fn burndown_counts_open_items_per_day() {
        let items = vec![
            (d("2026-05-01"), Some(d("2026-06-02"))),
            (d("2026-06-01"), None),
            (d("2026-06-02"), Some(d("2026-06-03"))),
            (d("2026-06-05"), None),
        ];
        let b = burndown(&items, d("2026-06-01"), d("2026-06-04"));
        let counts: Vec<i64> = b.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, vec![2, 2, 1, 1]);
        assert_eq!(b[0].0, d("2026-06-01"));
    }
}
