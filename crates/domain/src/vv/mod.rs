//! Verification and validation: plans and their activities, verification cases and case
//! sets, immutable execution results with evidence, defects and verification snapshots.
//! The rules live here; storage and use cases are elsewhere.

pub mod model;
pub mod snapshot;
pub mod status;

pub use model::{
    Activity, ActivityInput, Case, CaseInput, CaseSet, Defect, DefectInput, Evidence, Plan,
    PlanInput, Step, StepResult, TestResult,
};
pub use status::{CaseStatus, DefectStatus, PlanStatus, Severity, Verdict};

/// Human-id prefixes of verification artefacts; requirement modules may not use them, so a
/// human id names one artefact in a project.
pub const RESERVED_PREFIXES: [&str; 4] = ["VC", "VP", "DEF", "VS"];
pub const CASE_PREFIX: &str = "VC";
pub const PLAN_PREFIX: &str = "VP";
pub const DEFECT_PREFIX: &str = "DEF";
pub const SNAPSHOT_PREFIX: &str = "VS";
