//! Shared helpers for the harness's process tests: the helper's test
//! support (fixture copies, process output), and the built
//! `cargo-buildplan-bench` binary.

#![allow(dead_code)] // each test binary uses a different subset

#[path = "../../../helper/tests/common/fixtures.rs"]
mod fixtures;

pub use fixtures::*;

/// The harness binary with no arguments yet.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_cargo-buildplan-bench"))
}
