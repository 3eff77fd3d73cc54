//! Shared helpers for the process tests: the test support shared with the
//! bench harness's tests ([`fixtures`]), running the built
//! `cargo-buildplan` binary, and the `cargo_config_*` tests' workspaces
//! ([`cargo_ws`]).

#![allow(dead_code)] // each test binary uses a different subset

pub mod cargo_ws;
mod fixtures;

use std::path::Path;
use std::process::{Command, Output};

pub use fixtures::*;

/// Variables that would change what (or where) a fixture's cargo builds.
pub const CARGO_NOISE: [&str; 8] = [
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_INCREMENTAL",
];

/// Writes `text` to `root/rel`, creating its directory.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a file in a directory")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Gives `path` the current time as its mtime (a touch).
pub fn touch(path: &Path) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(std::time::SystemTime::now())
        .expect("touch");
}

/// The helper binary, with `--manifest-path <dir>/Cargo.toml` and `args`,
/// run from `dir`.
pub fn helper(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
    cmd.args(args)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .current_dir(dir);
    cmd
}

/// Runs the helper and returns its output.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    helper(dir, args).output().expect("the helper binary runs")
}

/// Runs the helper, asserting exit code `code`, and returns its output.
pub fn run_expect(dir: &Path, args: &[&str], code: i32) -> Output {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "cargo-buildplan {args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
    out
}

/// Reads a file as bytes.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses the plan written in `dir/nix/plan.json`.
pub fn plan_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(&dir.join("nix/plan.json"))).expect("the plan is JSON")
}

/// Replaces `from` with `to` in a file, asserting that `from` occurs.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read for edit");
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write edit");
}

/// The helper binary with no arguments yet.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"))
}
