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
//! The modules read bottom-up; each step takes plain arguments and returns
//! typed values:
//!
//! - [`error`] (the one error type) and [`model`] (the plan file's data
//!   model, the contract with `nix/` in `docs/plan-format.md`): the
//!   vocabulary everything else uses.
//! - [`policy`]: `[workspace.metadata.buildplan]`, strictly parsed;
//!   [`manifest`]: the root Cargo.toml, parsed once.
//! - [`exec`]: running cargo and reading the machine (toolchain, linkers,
//!   memory, CPUs).
//! - [`workspace`]: members, binaries, features and member dependencies
//!   (`cargo metadata --no-deps`).
//! - [`cargo_config`]: cargo's configuration resolved as cargo does, and
//!   the profile keys it accepts;
//!   [`config`]: the plan's profiles from it (the workspace's own layers,
//!   the policy on top) and a build's additions on this machine.
//! - [`targets`], [`variants`] and the profiles of [`config`]: the three
//!   axes of the plan;
//!   [`tuned`]: the profiles the plan itself adds (`buildplan-dev`,
//!   `buildplan-ci`).
//! - [`audit`]: third-party packages a variant would compile twice;
//!   [`compiles`]: the packages builds did compile, from cargo's JSON messages.
//! - [`plan`]: assembles the [`model::Plan`]; [`output`] writes and reads it.
//! - [`render`]: the plan's facts in cargo's terms; [`explain`]: in words;
//!   [`memory`]: a profile's memory estimate; [`doctor`]: the workspace's
//!   own settings that cost build time and buy no runtime; [`jobs`]: the jobs setting;
//!   [`build`]: the cargo command of one build on this machine, and its
//!   memory check; [`repro`]: what a build adds for bit-identical binaries.
//! - [`why`]: the first reason cargo compiled each unit, and the freshness
//!   gate; [`deps_cache`] and [`base_lock`]: saved dependency artifacts and
//!   the base lock they are keyed by; [`layout`]: cargo's build directory,
//!   in both of its layouts.
//!
//! The module graph has no import circle (`tests/module_graph.rs` in the
//! `cargo-buildplan` package checks it).

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
