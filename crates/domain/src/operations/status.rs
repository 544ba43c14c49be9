//! The states of readiness items and milestones and which role may take which step (tables of
//! edges, as for V&V: a step not listed is refused).

use crate::access::Role;
use crate::requirements::model::text_enum;
use crate::vv::status::{check, edge, next_of, Edge};
use serde::{Deserialize, Serialize};

text_enum!(
    /// open → in progress → done, blocked ⇄ open / in progress; a lead reopens a done item.
    ItemStatus {
        Open => "open",
        InProgress => "in_progress",
        Done => "done",
        Blocked => "blocked",
    }
);

text_enum!(
    /// planned ⇄ at risk → achieved | missed; a lead reopens an achieved or missed milestone.
    MilestoneStatus {
        Planned => "planned",
        AtRisk => "at_risk",
        Achieved => "achieved",
        Missed => "missed",
    }
);

const ITEM_EDGES: [Edge<ItemStatus>; 8] = [
    edge(ItemStatus::Open, ItemStatus::InProgress, Role::Editor),
    edge(ItemStatus::InProgress, ItemStatus::Open, Role::Editor),
    edge(ItemStatus::InProgress, ItemStatus::Done, Role::Editor),
    edge(ItemStatus::Open, ItemStatus::Blocked, Role::Editor),
    edge(ItemStatus::InProgress, ItemStatus::Blocked, Role::Editor),
    edge(ItemStatus::Blocked, ItemStatus::Open, Role::Editor),
    edge(ItemStatus::Blocked, ItemStatus::InProgress, Role::Editor),
    edge(ItemStatus::Done, ItemStatus::Open, Role::Lead),
];

const MILESTONE_EDGES: [Edge<MilestoneStatus>; 8] = [
    edge(
        MilestoneStatus::Planned,
        MilestoneStatus::AtRisk,
        Role::Editor,
    ),
    edge(
        MilestoneStatus::AtRisk,
        MilestoneStatus::Planned,
        Role::Editor,
    ),
    // Achieving is also bound by the gating rule (every gating item done, or a lead's
    // override with a reason); missing by the target date having passed.
    edge(
        MilestoneStatus::Planned,
        MilestoneStatus::Achieved,
        Role::Editor,
    ),
    edge(
        MilestoneStatus::AtRisk,
        MilestoneStatus::Achieved,
        Role::Editor,
    ),
    edge(
        MilestoneStatus::Planned,
        MilestoneStatus::Missed,
        Role::Editor,
    ),
    edge(
        MilestoneStatus::AtRisk,
        MilestoneStatus::Missed,
        Role::Editor,
    ),
    edge(
        MilestoneStatus::Achieved,
        MilestoneStatus::Planned,
        Role::Lead,
    ),
    edge(
        MilestoneStatus::Missed,
        MilestoneStatus::Planned,
        Role::Lead,
    ),
];

impl ItemStatus {
    pub fn check_move(self, to: Self, role: Role) -> Result<(), String> {
        check(&ITEM_EDGES, self, to, role, Self::as_str)
    }
    pub fn next(self, role: Role) -> Vec<Self> {
        next_of(&ITEM_EDGES, self, role)
    }
    pub fn is_done(self) -> bool {
        self == ItemStatus::Done
    }
    pub fn label(self) -> &'static str {
        match self {
            ItemStatus::Open => "Open",
            ItemStatus::InProgress => "In progress",
            ItemStatus::Done => "Done",
            ItemStatus::Blocked => "Blocked",
        }
    }
}

impl MilestoneStatus {
    pub fn check_move(self, to: Self, role: Role) -> Result<(), String> {
        check(&MILESTONE_EDGES, self, to, role, Self::as_str)
    }
    pub fn next(self, role: Role) -> Vec<Self> {
        next_of(&MILESTONE_EDGES, self, role)
    }
    /// Achieved and missed milestones are settled: they no longer constrain the plan.
    pub fn is_settled(self) -> bool {
        matches!(self, MilestoneStatus::Achieved | MilestoneStatus::Missed)
    }
    pub fn label(self) -> &'static str {
        match self {
            MilestoneStatus::Planned => "Planned",
            MilestoneStatus::AtRisk => "At risk",
            MilestoneStatus::Achieved => "Achieved",
            MilestoneStatus::Missed => "Missed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_machine() {
        use ItemStatus::*;
        for (from, to, role, ok) in [
            (Open, InProgress, Role::Editor, true),
            (Open, InProgress, Role::Viewer, false),
            (Open, Done, Role::Lead, false),
            (InProgress, Done, Role::Editor, true),
            (InProgress, Blocked, Role::Editor, true),
            (Open, Blocked, Role::Editor, true),
            (Blocked, InProgress, Role::Editor, true),
            (Blocked, Open, Role::Editor, true),
            (Blocked, Done, Role::Lead, false),
            (Done, Open, Role::Editor, false),
            (Done, Open, Role::Lead, true),
            (Done, InProgress, Role::Lead, false),
        ] {
            assert_eq!(
                from.check_move(to, role).is_ok(),
                ok,
                "{from:?} → {to:?} as {role:?}"
            );
        }
        let e = Done.check_move(Open, Role::Editor).unwrap_err();
        assert!(e.contains("only a project lead"), "{e}");
        let e = Open.check_move(Done, Role::Editor).unwrap_err();
        assert!(e.contains("cannot go from open to done"), "{e}");
        assert_eq!(Done.next(Role::Editor), vec![]);
        assert_eq!(Done.next(Role::Lead), vec![Open]);
    }

    #[test]
    fn milestone_machine() {
        use MilestoneStatus::*;
        for (from, to, role, ok) in [
            (Planned, AtRisk, Role::Editor, true),
            (AtRisk, Planned, Role::Editor, true),
            (Planned, Achieved, Role::Editor, true),
            (AtRisk, Achieved, Role::Viewer, false),
            (Planned, Missed, Role::Editor, true),
            (Achieved, Missed, Role::Lead, false),
            (Missed, Achieved, Role::Lead, false),
            (Achieved, Planned, Role::Editor, false),
            (Achieved, Planned, Role::Lead, true),
            (Missed, Planned, Role::Lead, true),
            (Missed, AtRisk, Role::Lead, false),
        ] {
            assert_eq!(
                from.check_move(to, role).is_ok(),
                ok,
                "{from:?} → {to:?} as {role:?}"
            );
        }
        assert!(Achieved.is_settled() && Missed.is_settled() && !AtRisk.is_settled());
    }
}
