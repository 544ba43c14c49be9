//! The `opensesa` binary's library: configuration, wiring of the ports to their adapters,
//! the demo data, and the subcommands' work, so tests can drive the same code.

pub mod backup;
pub mod checks;
pub mod collectstatic;
pub mod config;
pub mod demo;
mod demo_baselines;
mod demo_ops;
mod demo_vv;
pub mod generate;
pub mod generate_ops;
pub mod generate_vv;
pub mod runtime;
pub mod verify;
