//! Test support shared by the helper's process tests and the bench
//! harness's (`bench/tests/common` includes this file): copies of the
//! fixture workspaces under `helper/tests/fixtures`, and process output.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Output;

/// The fixture directory `name` under `helper/tests/fixtures` (the same
/// path from the helper's and from the bench's package).
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../helper/tests/fixtures")
        .join(name)
}

/// A fresh copy of fixture `name` in a temporary directory (without any
/// `target/` or generated `nix/`). The copy lives at `<tempdir>/<subdir>`.
pub fn copy_fixture(name: &str, subdir: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dest = tmp.path().join(subdir);
    copy_tree(&fixture_dir(name), &dest);
    (tmp, dest)
}

/// Copies a directory tree, without `target/` and `nix/` directories.
pub fn copy_tree(from: &Path, to: &Path) {
    buildplan::tree::copy_tree(from, to, &|rel| {
        rel.ends_with("target") || rel.ends_with("nix")
    })
    .expect("copy the fixture");
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit status, standard output and standard error, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
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
    buildplan::output::write_atomic(&planned.output, &buildplan::output::render(&planned.plan))
        .expect("the plan is written");
    ws
}
