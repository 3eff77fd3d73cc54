//! `cargo-buildplan`: turn a Cargo workspace and its build policy into one
//! build plan (`nix/plan.json`) that both the Nix flake and plain cargo use.
//!
//! The flow, one module per step:
//!
//! - [`workspace`]: members, binaries, features and member dependencies
//!   (`cargo metadata --no-deps`).
//! - [`policy`]: `[workspace.metadata.buildplan]`, strictly parsed.
//! - [`profiles`], [`targets`], [`variants`]: the three axes of the plan.
//! - [`audit`]: third-party packages a variant would compile twice.
//! - [`plan`]: assembles the [`model::Plan`]; [`output`] writes it.
//! - [`check`] and [`explain`]: inspect it.
//!
//! [`model`] is the plan file's data model (the contract with `nix/`,
//! documented in `docs/plan-format.md`) and [`cli`] the command line.
//!
//! Every command's `run` returns `anyhow::Result<ExitCode>`: `Ok` carries
//! 0, or [`error::EXIT_FINDING`] when the command found a problem (a stale
//! plan, a feature split); an `Err` is printed and exits with
//! [`error::EXIT_ERROR`].

pub mod audit;
pub mod bench;
pub mod build;
pub mod cargo;
pub mod check;
pub mod cli;
pub mod error;
pub mod explain;
pub mod model;
pub mod output;
pub mod plan;
pub mod policy;
pub mod profiles;
pub mod repro;
pub mod targets;
pub mod variants;
pub mod why;
pub mod workspace;
