//! Bad input: exit code 2, a message naming the file and key, and the
//! existing plan left byte for byte as it was.

mod common;

use std::path::Path;

use common::*;

/// Writes a plan for the fixture copy, applies `break_it`, runs `args` and
/// checks exit code 2, that stderr contains every `needles`, and that the
/// plan file is unchanged.
fn assert_rejected(args: &[&str], break_it: impl FnOnce(&Path), needles: &[&str]) {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    run_expect(&dir, &["plan", "--no-audit"], 0);
    let plan = dir.join("nix/plan.json");
    let before = read(&plan);
    break_it(&dir);
    let out = run_expect(&dir, args, 2);
    let err = stderr(&out);
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(read(&plan), before, "the plan must be untouched");
    let entries = std::fs::read_dir(dir.join("nix")).unwrap().count();
    assert_eq!(entries, 1, "no temporary files left behind");
}

/// [`assert_rejected`] after replacing `from` with `to` in the root Cargo.toml.
fn rejected_manifest_edit(args: &[&str], from: &str, to: &str, needles: &[&str]) {
    assert_rejected(args, |dir| edit(&dir.join("Cargo.toml"), from, to), needles);
}

#[test]
fn misspelt_policy_key() {
    rejected_manifest_edit(
        &["plan"],
        "mem-per-job-mib = 1024",
        "mem-per-jobs-mib = 1024",
        &[
            "Cargo.toml",
            "mem-per-jobs-mib",
            "[workspace.metadata.buildplan]",
        ],
    );
}

#[test]
fn misspelt_profile_key_in_policy() {
    rejected_manifest_edit(
        &["plan"],
        "[workspace.metadata.buildplan.profiles.release]\ncodegen-units = 8",
        "[workspace.metadata.buildplan.profiles.release]\ncodegen-unit = 8",
        &["Cargo.toml", "profiles.release.codegen-unit"],
    );
}

#[test]
fn malformed_member_manifest() {
    assert_rejected(
        &["plan"],
        |dir| {
            edit(
                &dir.join("crates/tool/Cargo.toml"),
                "[dependencies]",
                "[dependencies\n",
            )
        },
        &["crates/tool/Cargo.toml"],
    );
}

#[test]
fn malformed_root_manifest_in_check() {
    rejected_manifest_edit(
        &["check"],
        "resolver = \"2\"",
        "resolver = ",
        &["Cargo.toml"],
    );
}

#[test]
fn unknown_feature_in_a_variant() {
    rejected_manifest_edit(
        &["plan"],
        "features = [\"fmt\", \"search\"]",
        "features = [\"fmt\", \"serach\"]",
        &["Cargo.toml", "variant `full`", "`serach`"],
    );
}

#[test]
fn unknown_package_in_a_variant() {
    rejected_manifest_edit(
        &["plan"],
        "packages = [\"app\", \"tool\"]",
        "packages = [\"app\", \"tools\"]",
        &["Cargo.toml", "variant `full`", "`tools`"],
    );
}

#[test]
fn unknown_default_variant() {
    rejected_manifest_edit(
        &["plan"],
        "default-variant = \"default\"",
        "default-variant = \"standard\"",
        &["Cargo.toml", "default-variant", "`standard`"],
    );
}

#[test]
fn custom_profile_without_inherits() {
    rejected_manifest_edit(
        &["plan"],
        "inherits = \"release\"\n",
        "",
        &["Cargo.toml", "profile.release-fast.inherits"],
    );
}

#[test]
fn unknown_package_and_variant_on_the_command_line() {
    assert_rejected(
        &["explain", "nope"],
        |_| {},
        &["unknown package `nope`", "app, corelib"],
    );
    assert_rejected(
        &["audit", "--variant", "nope"],
        |_| {},
        &["unknown variant `nope`", "default, full, minimal, split"],
    );
}

#[test]
fn missing_manifest_path() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_expect(tmp.path(), &["plan"], 2);
    assert!(stderr(&out).contains("Cargo.toml"), "{}", stderr(&out));
}

#[test]
fn cargo_not_on_path() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    run_expect(&dir, &["plan", "--no-audit"], 0);
    let before = read(&dir.join("nix/plan.json"));
    let empty = tempfile::tempdir().unwrap();
    let out = helper(&dir, &["plan"])
        .env_remove("CARGO")
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cargo") && err.contains("PATH"), "{err}");
    assert_eq!(read(&dir.join("nix/plan.json")), before);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let (_tmp, dir) = copy_fixture("single", "crate");
    let out = run_expect(&dir, &["plan", "--no-such-flag"], 2);
    assert!(stderr(&out).contains("--no-such-flag"));
}

fn write_config(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), text).unwrap();
}

#[test]
fn config_file_that_is_not_toml() {
    assert_rejected(
        &["plan"],
        |dir| write_config(dir, "[profile.release\nlto = true\n"),
        // cargo metadata (run first) already refuses it, naming the file.
        &[".cargo/config.toml", "TOML"],
    );
}

#[test]
fn config_profile_inheriting_an_unknown_one() {
    assert_rejected(
        &["plan"],
        |dir| write_config(dir, "[profile.fast]\ninherits = \"nope\"\n"),
        &[".cargo/config.toml", "profile.fast.inherits", "nope"],
    );
}

#[test]
fn unknown_profile_key_in_config() {
    assert_rejected(
        &["plan"],
        |dir| write_config(dir, "[profile.release]\ncodegen-unit = 4\n"),
        &[".cargo/config.toml", "profile.release.codegen-unit"],
    );
}

#[test]
fn unknown_profile_key_in_manifest() {
    assert_rejected(
        &["plan"],
        |dir| {
            let manifest = dir.join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            std::fs::write(&manifest, format!("{text}\n[profile.dev]\nopt-levle = 1\n")).unwrap();
        },
        &["Cargo.toml", "profile.dev.opt-levle"],
    );
}
