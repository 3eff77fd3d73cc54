//! `cargo-buildplan`: turn a Cargo workspace and its build policy into one
//! build plan (`nix/plan.json`) that both the Nix flake and plain cargo use.
//!
//! Where things are:
//! - [`model`]: the plan file's data model (the contract with `nix/`).
//! - [`cli`]: the command-line arguments of every subcommand.
//! - the `plan`, `check`, `explain` and `audit` commands compute and inspect
//!   the plan; `build` and `bench` consume it.

pub mod cli;
pub mod model;
