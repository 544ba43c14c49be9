//! Requirements: modules, requirements, review workflow, trace links, quality rules.
pub mod quality;
