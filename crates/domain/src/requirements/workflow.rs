//! The review workflow of a requirement: draft → in review → approved | rejected (→ draft);
//! obsolete. Which role may take which transition is decided here, once.

use crate::access::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReqStatus {
    Draft,
    InReview,
    Approved,
    Rejected,
    Obsolete,
}

impl ReqStatus {
    pub const ALL: [ReqStatus; 5] = [
        ReqStatus::Draft,
        ReqStatus::InReview,
        ReqStatus::Approved,
        ReqStatus::Rejected,
        ReqStatus::Obsolete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReqStatus::Draft => "draft",
            ReqStatus::InReview => "in_review",
            ReqStatus::Approved => "approved",
            ReqStatus::Rejected => "rejected",
            ReqStatus::Obsolete => "obsolete",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReqStatus::Draft => "Draft",
            ReqStatus::InReview => "In review",
            ReqStatus::Approved => "Approved",
            ReqStatus::Rejected => "Rejected",
            ReqStatus::Obsolete => "Obsolete",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().to_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == t)
            .ok_or_else(|| {
                format!("unknown status {s:?}; expected draft, in_review, approved, rejected or obsolete")
            })
    }

    /// The status after a content edit: an approved or rejected requirement goes back to
    /// draft (the approved revision stays readable); an obsolete one cannot be edited.
    pub fn after_edit(self) -> Result<Self, String> {
        match self {
            ReqStatus::Approved | ReqStatus::Rejected => Ok(ReqStatus::Draft),
            ReqStatus::Obsolete => {
                Err("an obsolete requirement cannot be edited; reinstate it first".into())
            }
            s => Ok(s),
        }
    }
}

/// A named workflow step a person asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// draft → in review
    Submit,
    /// in review → draft
    Withdraw,
    /// in review → approved (leads only)
    Approve,
    /// in review → rejected (leads only)
    Reject,
    /// rejected → draft
    Rework,
    /// any → obsolete (leads only)
    Obsolete,
    /// obsolete → draft (leads only)
    Reinstate,
}

impl Transition {
    pub const ALL: [Transition; 7] = [
        Transition::Submit,
        Transition::Withdraw,
        Transition::Approve,
        Transition::Reject,
        Transition::Rework,
        Transition::Obsolete,
        Transition::Reinstate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::Withdraw => "withdraw",
            Transition::Approve => "approve",
            Transition::Reject => "reject",
            Transition::Rework => "rework",
            Transition::Obsolete => "obsolete",
            Transition::Reinstate => "reinstate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Transition::Submit => "Submit for review",
            Transition::Withdraw => "Withdraw from review",
            Transition::Approve => "Approve",
            Transition::Reject => "Reject",
            Transition::Rework => "Back to draft",
            Transition::Obsolete => "Make obsolete",
            Transition::Reinstate => "Reinstate",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| format!("unknown transition {s:?}"))
    }

    /// The least role that may take this step.
    pub fn required_role(self) -> Role {
        match self {
            Transition::Submit | Transition::Withdraw | Transition::Rework => Role::Editor,
            Transition::Approve
            | Transition::Reject
            | Transition::Obsolete
            | Transition::Reinstate => Role::Lead,
        }
    }

    /// The state this step leads to from `from`, or why it is refused.
    pub fn apply(self, from: ReqStatus) -> Result<ReqStatus, String> {
        use ReqStatus::*;
        let to = match (self, from) {
            (Transition::Submit, Draft) => InReview,
            (Transition::Withdraw, InReview) => Draft,
            (Transition::Approve, InReview) => Approved,
            (Transition::Reject, InReview) => Rejected,
            (Transition::Rework, Rejected) => Draft,
            (Transition::Obsolete, s) if s != Obsolete => Obsolete,
            (Transition::Reinstate, Obsolete) => Draft,
            _ => {
                return Err(format!(
                    "cannot {} a requirement that is {}",
                    self.as_str(),
                    from.label().to_lowercase()
                ))
            }
        };
        Ok(to)
    }

    /// The steps that are possible from `from` for someone with `role` (for buttons).
    pub fn available(from: ReqStatus, role: Option<Role>) -> Vec<Transition> {
        Self::ALL
            .into_iter()
            .filter(|t| t.apply(from).is_ok())
            .filter(|t| role.is_none_or(|r| r >= t.required_role()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReqStatus::*;

    #[test]
    fn legal_and_refused_transitions() {
        assert_eq!(Transition::Submit.apply(Draft), Ok(InReview));
        assert_eq!(Transition::Approve.apply(InReview), Ok(Approved));
        assert_eq!(Transition::Reject.apply(InReview), Ok(Rejected));
        assert_eq!(Transition::Rework.apply(Rejected), Ok(Draft));
        assert_eq!(Transition::Obsolete.apply(Approved), Ok(Obsolete));
        assert_eq!(Transition::Reinstate.apply(Obsolete), Ok(Draft));
        assert!(Transition::Approve.apply(Draft).is_err());
        assert!(Transition::Submit.apply(Approved).is_err());
        assert!(Transition::Rework.apply(InReview).is_err());
        assert!(Transition::Obsolete.apply(Obsolete).is_err());
    }

    #[test]
    fn only_leads_approve() {
        assert_eq!(Transition::Approve.required_role(), Role::Lead);
        let editor = Transition::available(InReview, Some(Role::Editor));
        assert!(!editor.contains(&Transition::Approve));
        assert!(editor.contains(&Transition::Withdraw));
        assert!(Transition::available(InReview, Some(Role::Lead)).contains(&Transition::Approve));
    }

    #[test]
    fn editing_reopens_approved() {
        assert_eq!(Approved.after_edit(), Ok(Draft));
        assert_eq!(InReview.after_edit(), Ok(InReview));
        assert!(Obsolete.after_edit().is_err());
    }
}
