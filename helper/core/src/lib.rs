//! `buildplan`: the library core of `cargo-buildplan`. It turns a Cargo
//! workspace and its build policy (`[workspace.metadata.buildplan]`) into one
//! build plan (`nix/plan.json`) that the Nix flake and plain cargo both use,
//! and renders that plan as cargo commands. It knows nothing of a command
//! line: the `cargo-buildplan` binary and the `buildplan-bench`
//! harness are thin layers over it.
//!
//! Compute the plan of a workspace, then the cargo arguments of one of its
//! packages (here this repository's workspace, two levels up from this
//! crate; any workspace works, with or without a policy):
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
//! The modules read bottom-up: [`error`] and [`model`] (the plan file,
//! `docs/plan-format.md`) are the vocabulary; [`policy`] and [`manifest`]
//! read the root Cargo.toml, [`workspace`] `cargo metadata`, and
//! [`cargo_config`] cargo's configuration, which [`config`] turns into the
//! plan's profiles; [`targets`], [`variants`] and [`tuned`] give the plan's
//! other axes, [`audit`] its feature splits, and [`plan`] assembles it
//! ([`output`] writes and reads it). [`render`], [`explain`], [`memory`],
//! [`doctor`], [`build`], [`repro`], [`why`], [`compiles`] and
//! [`deps_cache`] use it. There is no import circle
//! (`tests/module_graph.rs` in `cargo-buildplan` checks it).

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
