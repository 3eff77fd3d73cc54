//! `buildplan`, the library core of `cargo-buildplan`: turns a Cargo
//! workspace and its policy (`[workspace.metadata.buildplan]`) into one
//! build plan (`nix/plan.json`) for Nix and plain cargo. Here, this
//! repository's plan and the explanation of one package:
//!
//! ```
//! use buildplan::plan::{compute, AuditMode};
//!
//! # fn main() -> anyhow::Result<()> {
//! let planned = compute(Some("../../Cargo.toml".as_ref()), AuditMode::Skip)?;
//! let text = buildplan::output::render(&planned.plan); // nix/plan.json's text
//! println!("{} packages, {} bytes", planned.plan.packages.len(), text.len());
//! assert!(text.contains("\"chronik-server\""));
//! let words = buildplan::explain::explain(&planned.plan, "chronik-server", None)?;
//! assert!(words.contains("x86_64-unknown-linux-musl"));
//! # Ok(())
//! # }
//! ```
//!
//! [`error`] and [`model`] (the plan file) are the vocabulary, [`plan`]
//! assembles the plan, and the other modules read inputs for it or use it;
//! there is no import circle (`helper/tests/module_graph.rs` checks it).

pub mod audit;
pub mod base_lock;
pub mod build;
pub mod cargo_config;
pub mod compiles;
pub mod config;
pub mod dep_info;
pub mod deps_cache;
pub mod doctor;
pub mod error;
pub mod exec;
pub mod explain;
pub mod jobs;
pub mod layout;
pub mod manifest;
pub mod memory;
pub mod model;
pub mod output;
pub mod plan;
pub mod policy;
pub mod render;
pub mod repro;
pub mod targets;
pub mod toolchain;
pub mod tree;
pub mod tuned;
pub mod variants;
pub mod why;
pub mod workspace;
