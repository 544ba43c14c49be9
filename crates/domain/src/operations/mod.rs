//! Operations readiness: readiness items, milestones with their gating items, finish-to-start
//! dependencies between them, and the plan analyses (cycle check, critical path, earliest
//! finish, lateness, burn-down, layered layout of the dependency diagram). Pure rules; storage
//! and use cases are elsewhere.

pub mod graph;
pub mod model;
pub mod status;

pub use graph::{NodeRef, OpsGraph};
pub use model::{Dependency, ItemInput, Milestone, MilestoneInput, ReadinessItem};
pub use status::{ItemStatus, MilestoneStatus};

/// Human-id prefixes of operations artefacts; requirement modules may not use them.
pub const RESERVED_PREFIXES: [&str; 2] = ["OPS", "MS"];
pub const ITEM_PREFIX: &str = "OPS";
pub const MILESTONE_PREFIX: &str = "MS";
