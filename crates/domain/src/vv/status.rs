//! The states of plans, cases and defects, the verdicts of results, and which role may take
//! which step. Each machine is a table of edges, so the refused steps are exactly the ones
//! not listed.

use crate::access::Role;
use crate::requirements::model::text_enum;
use serde::{Deserialize, Serialize};

text_enum!(
    /// draft → approved → active → closed (approval and closing by a lead).
    PlanStatus {
        Draft => "draft",
        Approved => "approved",
        Active => "active",
        Closed => "closed",
    }
);

text_enum!(
    /// draft ⇄ ready → retired (retiring and reinstating by a lead).
    CaseStatus {
        Draft => "draft",
        Ready => "ready",
        Retired => "retired",
    }
);

text_enum!(
    /// open → in progress → resolved → closed | rejected.
    DefectStatus {
        Open => "open",
        InProgress => "in_progress",
        Resolved => "resolved",
        Closed => "closed",
        Rejected => "rejected",
    }
);

text_enum!(Severity {
    Critical => "critical",
    Major => "major",
    Minor => "minor",
});

text_enum!(
    /// The outcome of executing a case (or one of its steps).
    Verdict {
        Pass => "pass",
        Fail => "fail",
        Blocked => "blocked",
        Inconclusive => "inconclusive",
        NotRun => "not_run",
    }
);

/// One allowed step of a state machine and the least role that may take it.
pub(crate) struct Edge<S> {
    from: S,
    to: S,
    role: Role,
}

pub(crate) const fn edge<S>(from: S, to: S, role: Role) -> Edge<S> {
    Edge { from, to, role }
}

pub(crate) fn check<S: Copy + PartialEq>(
    edges: &[Edge<S>],
    from: S,
    to: S,
    role: Role,
    name: impl Fn(S) -> &'static str,
) -> Result<(), String> {
    match edges.iter().find(|e| e.from == from && e.to == to) {
        None => Err(format!(
            "cannot go from {} to {}; from {} the next states are: {}",
            name(from),
            name(to),
            name(from),
            {
                let next: Vec<&str> = edges
                    .iter()
                    .filter(|e| e.from == from)
                    .map(|e| name(e.to))
                    .collect();
                if next.is_empty() {
                    "none".to_owned()
                } else {
                    next.join(", ")
                }
            }
        )),
        Some(e) if !role_at_least(role, e.role) => Err(format!(
            "only a project {} may move from {} to {}",
            e.role.as_str(),
            name(from),
            name(to)
        )),
        Some(_) => Ok(()),
    }
}

fn rank(r: Role) -> u8 {
    match r {
        Role::Viewer => 0,
        Role::Editor => 1,
        Role::Lead => 2,
    }
}

fn role_at_least(have: Role, need: Role) -> bool {
    rank(have) >= rank(need)
}

pub(crate) fn next_of<S: Copy + PartialEq>(edges: &[Edge<S>], from: S, role: Role) -> Vec<S> {
    edges
        .iter()
        .filter(|e| e.from == from && role_at_least(role, e.role))
        .map(|e| e.to)
        .collect()
}

const PLAN_EDGES: [Edge<PlanStatus>; 5] = [
    edge(PlanStatus::Draft, PlanStatus::Approved, Role::Lead),
    edge(PlanStatus::Approved, PlanStatus::Draft, Role::Lead),
    edge(PlanStatus::Approved, PlanStatus::Active, Role::Editor),
    edge(PlanStatus::Active, PlanStatus::Closed, Role::Lead),
    edge(PlanStatus::Closed, PlanStatus::Active, Role::Lead),
];

const CASE_EDGES: [Edge<CaseStatus>; 4] = [
    edge(CaseStatus::Draft, CaseStatus::Ready, Role::Editor),
    edge(CaseStatus::Ready, CaseStatus::Draft, Role::Editor),
    edge(CaseStatus::Ready, CaseStatus::Retired, Role::Lead),
    edge(CaseStatus::Retired, CaseStatus::Draft, Role::Lead),
];

const DEFECT_EDGES: [Edge<DefectStatus>; 10] = [
    edge(DefectStatus::Open, DefectStatus::InProgress, Role::Editor),
    edge(DefectStatus::InProgress, DefectStatus::Open, Role::Editor),
    edge(DefectStatus::Open, DefectStatus::Resolved, Role::Editor),
    edge(
        DefectStatus::InProgress,
        DefectStatus::Resolved,
        Role::Editor,
    ),
    edge(
        DefectStatus::Resolved,
        DefectStatus::InProgress,
        Role::Editor,
    ),
    // Closing is also bound by the closing rule (a later passing result or a lead's override).
    edge(DefectStatus::Resolved, DefectStatus::Closed, Role::Editor),
    edge(DefectStatus::Open, DefectStatus::Rejected, Role::Lead),
    edge(DefectStatus::InProgress, DefectStatus::Rejected, Role::Lead),
    edge(DefectStatus::Closed, DefectStatus::Open, Role::Lead),
    edge(DefectStatus::Rejected, DefectStatus::Open, Role::Lead),
];

impl PlanStatus {
    pub fn check_move(self, to: Self, role: Role) -> Result<(), String> {
        check(&PLAN_EDGES, self, to, role, Self::as_str)
    }
    pub fn next(self, role: Role) -> Vec<Self> {
        next_of(&PLAN_EDGES, self, role)
    }
    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::Draft => "Draft",
            PlanStatus::Approved => "Approved",
            PlanStatus::Active => "Active",
            PlanStatus::Closed => "Closed",
        }
    }
}

impl CaseStatus {
    pub fn check_move(self, to: Self, role: Role) -> Result<(), String> {
        check(&CASE_EDGES, self, to, role, Self::as_str)
    }
    pub fn next(self, role: Role) -> Vec<Self> {
        next_of(&CASE_EDGES, self, role)
    }
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Draft => "Draft",
            CaseStatus::Ready => "Ready",
            CaseStatus::Retired => "Retired",
        }
    }
}

impl DefectStatus {
    pub fn check_move(self, to: Self, role: Role) -> Result<(), String> {
        check(&DEFECT_EDGES, self, to, role, Self::as_str)
    }
    pub fn next(self, role: Role) -> Vec<Self> {
        next_of(&DEFECT_EDGES, self, role)
    }
    /// Open defects count against readiness: everything not closed or rejected.
    pub fn is_open(self) -> bool {
        !matches!(self, DefectStatus::Closed | DefectStatus::Rejected)
    }
    pub fn label(self) -> &'static str {
        match self {
            DefectStatus::Open => "Open",
            DefectStatus::InProgress => "In progress",
            DefectStatus::Resolved => "Resolved",
            DefectStatus::Closed => "Closed",
            DefectStatus::Rejected => "Rejected",
        }
    }
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "Pass",
            Verdict::Fail => "Fail",
            Verdict::Blocked => "Blocked",
            Verdict::Inconclusive => "Inconclusive",
            Verdict::NotRun => "Not run",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_machine() {
        use PlanStatus::*;
        assert!(Draft.check_move(Approved, Role::Lead).is_ok());
        let e = Draft.check_move(Approved, Role::Editor).unwrap_err();
        assert!(e.contains("only a project lead"), "{e}");
        let e = Draft.check_move(Active, Role::Lead).unwrap_err();
        assert!(e.contains("cannot go from draft to active"), "{e}");
        assert!(Approved.check_move(Active, Role::Editor).is_ok());
        assert!(Active.check_move(Closed, Role::Editor).is_err());
        assert!(Active.check_move(Closed, Role::Lead).is_ok());
        assert!(Closed.check_move(Draft, Role::Lead).is_err());
        assert_eq!(Draft.next(Role::Editor), vec![]);
        assert_eq!(Draft.next(Role::Lead), vec![Approved]);
    }

    #[test]
    fn case_machine() {
        use CaseStatus::*;
        assert!(Draft.check_move(Ready, Role::Editor).is_ok());
        assert!(Draft.check_move(Ready, Role::Viewer).is_err());
        assert!(Draft.check_move(Retired, Role::Lead).is_err());
        assert!(Ready.check_move(Retired, Role::Editor).is_err());
        assert!(Ready.check_move(Retired, Role::Lead).is_ok());
        assert!(Retired.check_move(Ready, Role::Lead).is_err());
        assert!(Retired.check_move(Draft, Role::Lead).is_ok());
    }

    #[test]
    fn defect_machine() {
        use DefectStatus::*;
        for (from, to, role, ok) in [
            (Open, InProgress, Role::Editor, true),
            (Open, Closed, Role::Lead, false),
            (InProgress, Resolved, Role::Editor, true),
            (Resolved, Closed, Role::Editor, true),
            (Closed, Resolved, Role::Lead, false),
            (Closed, Open, Role::Editor, false),
            (Closed, Open, Role::Lead, true),
            (Open, Rejected, Role::Editor, false),
            (Open, Rejected, Role::Lead, true),
            (Rejected, InProgress, Role::Lead, false),
        ] {
            assert_eq!(
                from.check_move(to, role).is_ok(),
                ok,
                "{from:?} → {to:?} as {role:?}"
            );
        }
        assert!(Resolved.is_open());
        assert!(!Rejected.is_open());
    }

    #[test]
    fn parse_names_the_choices() {
        assert_eq!(Verdict::parse("Not run").unwrap(), Verdict::NotRun);
        let e = Verdict::parse("passed").unwrap_err();
        assert!(
            e.contains("pass, fail, blocked, inconclusive, not_run"),
            "{e}"
        );
    }
}
