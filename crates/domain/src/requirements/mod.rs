//! Requirements: modules (requirement documents), requirements with their review workflow,
//! custom attributes, trace links with suspect propagation, and quality rules.
//!
//! Everything here is pure: the use cases in `app` load, call these rules and store.

pub mod attributes;
pub mod links;
pub mod model;
pub mod quality;
pub mod workflow;

pub use attributes::{AttributeDef, AttributeKind};
pub use links::{LinkKind, TraceLink};
pub use model::{
    Module, ModuleInput, Priority, ReqKind, Requirement, RequirementInput, VerificationMethod,
};
pub use workflow::{ReqStatus, Transition};
