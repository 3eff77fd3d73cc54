//! `check`: stale, missing and fresh plans.

mod common;

use std::path::PathBuf;

use common::*;

#[test]
fn check_fails_without_a_plan_and_hints_at_plan() {
    let (_tmp, dir) = copy_fixture("single", "crate");
    let out = run_expect(&dir, &["check"], 1);
    let err = stderr(&out);
    assert!(err.contains("nix/plan.json"), "{err}");
    assert!(err.contains("cargo buildplan plan"), "{err}");
}

/// A planned copy of `basic` (fresh: `check` passes), then `from` replaced
/// with `to` in `file`: the copy, and the stale `check`'s output.
fn stale_after_edit(
    file: &str,
    from: &str,
    to: &str,
) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let (tmp, dir) = copy_fixture("basic", "ws");
    run_expect(&dir, &["plan"], 0);
    run_expect(&dir, &["check"], 0);
    edit(&dir.join(file), from, to);
    let out = run_expect(&dir, &["check"], 1);
    (tmp, dir, out)
}

#[test]
fn check_catches_an_edited_feature_and_passes_after_plan() {
    let (_tmp, dir, out) = stale_after_edit(
        "crates/corelib/Cargo.toml",
        "search = [\"dep:memchr\"]",
        "search = [\"dep:memchr\"]\nsimd = []",
    );
    let diff = stdout(&out);
    assert!(diff.contains("--- nix/plan.json (on disk)"), "{diff}");
    assert!(diff.contains("+++ nix/plan.json (recomputed)"), "{diff}");
    assert!(diff.contains("+        \"simd\","), "{diff}");
    assert!(diff.contains("@@"), "{diff}");
    assert!(stderr(&out).contains("stale"), "{}", stderr(&out));

    run_expect(&dir, &["plan"], 0);
    run_expect(&dir, &["check"], 0);
}

#[test]
fn check_catches_a_profile_edit() {
    let (_tmp, _dir, out) =
        stale_after_edit("Cargo.toml", "codegen-units = 8", "codegen-units = 4");
    let diff = stdout(&out);
    let changed = |sign: char, text: &str| {
        diff.lines()
            .any(|l| l.starts_with(sign) && l.trim_start_matches(sign).trim() == text)
    };
    // The policy's value, in the overrides and as the effective setting.
    assert!(changed('-', "\"codegen-units\": 8"), "{diff}");
    assert!(changed('+', "\"codegen-units\": 4"), "{diff}");
    assert!(changed('-', "\"value\": 8"), "{diff}");
    assert!(changed('+', "\"value\": 4"), "{diff}");
}

#[test]
fn check_never_touches_a_stale_lockfile() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    run_expect(&dir, &["plan"], 0);
    edit(
        &dir.join("crates/tool/Cargo.toml"),
        "[dependencies]",
        "[dependencies]\ncfg-if = \"1\"",
    );
    let lock = read(&dir.join("Cargo.lock"));
    let out = run_expect(&dir, &["check"], 2);
    let err = stderr(&out);
    assert!(err.contains("--locked"), "{err}");
    assert_eq!(read(&dir.join("Cargo.lock")), lock);

    // `plan` may update the lockfile, as any cargo command would.
    run_expect(&dir, &["plan"], 0);
    run_expect(&dir, &["check"], 0);
}
