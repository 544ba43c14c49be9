//! Server-rendered SVG of the operations plan: the dependency diagram (layered layout from
//! the domain), the milestone timeline and the burn-down. Every text is escaped; colours are
//! presentation attributes (no `style`, so the CSP holds) that the stylesheet may refine
//! through the classes.

use crate::pages::requirements::escape_html as esc;
use chrono::NaiveDate;
use opensesa_domain::operations::graph::OpsGraph;
use std::collections::HashSet;
use std::fmt::Write as _;

const BOX_W: i64 = 116;
const BOX_H: i64 = 30;
const COL: i64 = 170;
const ROW: i64 = 44;
const PAD: i64 = 12;

/// The diagram of `g`: nodes as boxes with their human ids (title on hover), edges as arrows
/// from the right edge of the predecessor to the left edge of the successor. `critical`
/// and `late` are node indices to mark; `link` makes boxes links (`{link}/items/OPS-001`).
pub fn diagram(
    g: &OpsGraph,
    critical: &HashSet<usize>,
    late: &HashSet<usize>,
    link: Option<&str>,
) -> String {
    let l = g.layout();
    let width = (l.layers.max(1) as i64) * COL + PAD * 2 - (COL - BOX_W);
    let height = (l.rows.max(1) as i64) * ROW + PAD * 2 - (ROW - BOX_H);
    let pos = |n: usize| {
        let (layer, row) = l.positions[n];
        (PAD + layer as i64 * COL, PAD + row as i64 * ROW)
    };
    let mut s = String::with_capacity(200 + g.len() * 420);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ops-diagram\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Dependency diagram: {} nodes\">\
         <defs><marker id=\"ops-arrow\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,0 L8,4 L0,8 z\" fill=\"#556\"/></marker></defs>",
        g.len()
    );
    for (p, q) in g.edges() {
        let (x1, y1) = pos(p);
        let (x2, y2) = pos(q);
        let crit = critical.contains(&p) && critical.contains(&q);
        let _ = write!(
            s,
            "<line class=\"edge{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\" marker-end=\"url(#ops-arrow)\"/>",
            if crit { " critical" } else { "" },
            x1 + BOX_W,
            y1 + BOX_H / 2,
            x2 - 1,
            y2 + BOX_H / 2,
            if crit { "#b3261e" } else { "#889" },
            if crit { 2 } else { 1 }
        );
    }
    for (n, node) in g.nodes.iter().enumerate() {
        let (x, y) = pos(n);
        let milestone = node.node.is_milestone();
        let mut class = format!(
            "node {} state-{}",
            if milestone { "milestone" } else { "item" },
            node.state
        );
        if critical.contains(&n) {
            class.push_str(" critical");
        }
        if late.contains(&n) {
            class.push_str(" late");
        }
        let fill = match node.state {
            "done" | "achieved" => "#e3f2e6",
            "blocked" | "missed" => "#fde2e0",
            "in_progress" | "at_risk" => "#fff4d6",
            _ => "#ffffff",
        };
        let stroke = if late.contains(&n) {
            "#b3261e"
        } else if milestone {
            "#1f4e8c"
        } else {
            "#556"
        };
        let label = esc(&node.label);
        let _ = write!(s, "<g class=\"{class}\">");
        if let Some(base) = link {
            let kind = if milestone { "milestones" } else { "items" };
            let _ = write!(s, "<a href=\"{}/{kind}/{label}\">", esc(base));
        }
        let _ = write!(
            s,
            "<title>{label} {}</title><rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" font-family=\"sans-serif\" fill=\"#112\">{label}</text>",
            esc(&node.title),
            if milestone { 12 } else { 3 },
            if critical.contains(&n) { 2 } else { 1 },
            x + BOX_W / 2,
            y + BOX_H / 2 + 4,
        );
        if link.is_some() {
            s.push_str("</a>");
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// A milestone on the timeline.
pub struct Mark {
    pub label: String,
    pub name: String,
    pub date: NaiveDate,
    pub state: &'static str,
    pub late: bool,
}

/// Milestones on a date axis from the earliest to the latest date (today included), labels
/// staggered over four rows so that neighbours do not overlap.
pub fn timeline(marks: &[Mark], today: NaiveDate) -> String {
    const W: i64 = 960;
    const H: i64 = 150;
    const AXIS: i64 = 110;
    let first = marks
        .iter()
        .map(|m| m.date)
        .min()
        .unwrap_or(today)
        .min(today);
    let last = marks
        .iter()
        .map(|m| m.date)
        .max()
        .unwrap_or(today)
        .max(today);
    let span = (last - first).num_days().max(1);
    let x = |d: NaiveDate| 40 + (d - first).num_days() * (W - 80) / span;
    let mut s = String::with_capacity(400 + marks.len() * 300);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ops-timeline\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"Milestones from {first} to {last}\">\
         <line x1=\"30\" y1=\"{AXIS}\" x2=\"{}\" y2=\"{AXIS}\" stroke=\"#556\"/>\
         <text x=\"30\" y=\"{}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#445\">{first}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#445\" text-anchor=\"end\">{last}</text>\
         <line class=\"today\" x1=\"{tx}\" y1=\"8\" x2=\"{tx}\" y2=\"{AXIS}\" stroke=\"#1f4e8c\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{tx}\" y=\"{}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#1f4e8c\" text-anchor=\"middle\">today</text>",
        W - 30,
        AXIS + 28,
        W - 30,
        AXIS + 28,
        AXIS + 14,
        tx = x(today),
    );
    for (k, m) in marks.iter().enumerate() {
        let mx = x(m.date);
        let ly = 20 + (k as i64 % 4) * 22;
        let fill = match m.state {
            "achieved" => "#3a9a5b",
            "missed" => "#b3261e",
            "at_risk" => "#d9a13b",
            _ if m.late => "#d9a13b",
            _ => "#1f4e8c",
        };
        let label = esc(&m.label);
        let _ = write!(
            s,
            "<g class=\"mark state-{}{}\"><title>{label} {} · {} · {}</title>\
             <line x1=\"{mx}\" y1=\"{}\" x2=\"{mx}\" y2=\"{AXIS}\" stroke=\"#bbc\"/>\
             <path d=\"M{mx},{} l6,6 l-6,6 l-6,-6 z\" fill=\"{fill}\"/>\
             <text x=\"{}\" y=\"{ly}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#112\">{label}</text></g>",
            m.state,
            if m.late { " late" } else { "" },
            esc(&m.name),
            m.date,
            m.state.replace('_', " "),
            ly + 3,
            AXIS - 6,
            mx + 3,
        );
    }
    s.push_str("</svg>");
    s
}

/// Open items per day as a line over the days given.
pub fn burndown(days: &[(NaiveDate, i64)]) -> String {
    const W: i64 = 960;
    const H: i64 = 160;
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let n = days.len().max(2) as i64 - 1;
    let px = |k: usize| 40 + k as i64 * (W - 60) / n;
    let py = |v: i64| 10 + (max - v) * (H - 40) / max;
    let points: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(k, (_, v))| format!("{},{}", px(k), py(*v)))
        .collect();
    let (first, last) = (
        days.first().map(|(d, _)| d.to_string()).unwrap_or_default(),
        days.last().map(|(d, _)| d.to_string()).unwrap_or_default(),
    );
    let now = days.last().map_or(0, |(_, v)| *v);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ops-burndown\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"Open readiness items per day from {first} to {last}; {now} open now\">\
         <line x1=\"40\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#556\"/><line x1=\"40\" y1=\"10\" x2=\"40\" y2=\"{}\" stroke=\"#556\"/>\
         <text x=\"34\" y=\"16\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#445\" text-anchor=\"end\">{max}</text>\
         <text x=\"34\" y=\"{}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#445\" text-anchor=\"end\">0</text>\
         <text x=\"40\" y=\"{}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#445\">{first}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#445\" text-anchor=\"end\">{last}</text>\
         <polyline points=\"{}\" fill=\"none\" stroke=\"#1f4e8c\" stroke-width=\"2\"/></svg>",
        H - 30,
        W - 20,
        H - 30,
        H - 30,
        H - 30,
        H - 14,
        W - 20,
        H - 14,
        points.join(" ")
    )
}
