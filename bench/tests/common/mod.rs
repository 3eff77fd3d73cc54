//! Shared helpers for the harness's process tests: copies of the helper's
//! fixture workspaces (`helper/tests/fixtures`) and running the built
//! `cargo-buildplan-bench` binary.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixture directory `name` under the helper's `tests/fixtures`.
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../helper/tests/fixtures")
        .join(name)
}

/// A fresh copy of fixture `name` at `<tempdir>/<subdir>` (without any
/// `target/` or generated `nix/`).
pub fn copy_fixture(name: &str, subdir: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dest = tmp.path().join(subdir);
    copy_tree(&fixture_dir(name), &dest);
    (tmp, dest)
}

fn copy_tree(from: &Path, to: &Path) {
    buildplan::tree::copy_tree(from, to, &|rel| {
        rel.ends_with("target") || rel.ends_with("nix")
    })
    .expect("copy the fixture");
}

/// The harness binary with no arguments yet.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-buildplan-bench"))
}

/// Exit status, standard output and standard error, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A copy of the `bench-smoke` fixture at `<dir>/ws`, planned there (as
/// `cargo buildplan plan --no-audit` would), so the repository's tree is
/// never written to.
pub fn planned_bench_fixture(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    copy_tree(&fixture_dir("bench-smoke"), &ws);
    let planned = buildplan::plan::compute(
        Some(&ws.join("Cargo.toml")),
        buildplan::plan::AuditMode::Skip,
    )
    .expect("the fixture plans");
    let path = buildplan::plan::plan_path(&planned.output, None);
    buildplan::output::write_atomic(&path, &buildplan::output::render(&planned.plan))
        .expect("the plan is written");
    ws
}
