//! Identifiers. Primary keys are UUIDv7 (time-ordered, so B-tree inserts stay local); each kind
//! of id is its own type so a project id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    UserId,
    ProjectId,
    ProgramId,
    PhaseId,
    OrganisationId,
    TokenId,
    EventId,
    RevisionId,
    JobId,
    ModuleId,
    RequirementId,
    LinkId,
    CommentId,
    ReviewRoundId,
    ImportId,
    PlanId,
    ActivityId,
    CaseId,
    CaseSetId,
    ResultId,
    RunId,
    DefectId,
    SnapshotId,
    BaselineId,
    PackId,
    ActionId,
    DecisionId,
    OpsItemId,
    MilestoneId,
    DependencyId
);
