//! The plan's tuned profiles (`buildplan-dev`, `buildplan-ci`) on real
//! fixture workspaces: defined without any policy, handed to cargo as
//! `--config` overrides, never touching the workspace's own profiles;
//! turned off or renamed by the policy; a name collision refused.

mod common;

use std::path::Path;

use common::{plan_json, run_expect, stderr};
use serde_json::json;

/// A one-crate workspace without dependencies; `extra` goes at the end of
/// its Cargo.toml.
fn workspace(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[workspace]\n\n[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[profile.release]\nlto = \"fat\"\ndebug = 2\n{extra}"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() { println!(\"hi\"); }\n").unwrap();
    (tmp, dir)
}

fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("Cargo.toml")).unwrap()
}

#[test]
fn without_policy_the_plan_defines_both_and_leaves_release_alone() {
    let (_tmp, dir) = workspace("");
    run_expect(&dir, &["plan"], 0);
    let plan = plan_json(&dir);
    let ci = &plan["profiles"]["buildplan-ci"];
    assert_eq!(ci["inherits"], "release");
    assert_eq!(
        ci["overrides"]["settings"],
        json!({"codegen-units": 16, "debug": false, "incremental": false,
               "inherits": "release", "lto": "off"})
    );
    // Third-party packages: one codegen unit each.
    assert_eq!(
        ci["overrides"]["package"],
        json!({"*": {"codegen-units": 1}})
    );
    assert_eq!(
        ci["overrides"]["build_override"],
        json!({"debug": false, "opt-level": 0})
    );
    assert_eq!(ci["settings"]["lto"]["source"], "policy");
    let dev = &plan["profiles"]["buildplan-dev"];
    assert_eq!(dev["inherits"], "dev");
    assert_eq!(dev["settings"]["debug"]["value"], "line-tables-only");
    assert_eq!(dev["build_override"]["opt-level"]["value"], 0);
    // The workspace's own release profile keeps its fat LTO: no override.
    let release = &plan["profiles"]["release"];
    assert_eq!(
        release["settings"]["lto"],
        json!({"source": "Cargo.toml", "value": "fat"})
    );
    assert_eq!(release["overrides"]["settings"], json!({}));
}

#[test]
fn a_real_build_of_the_ci_profile_gets_its_settings_from_the_flags() {
    let (_tmp, dir) = workspace("");
    run_expect(&dir, &["plan"], 0);
    let before = manifest(&dir);
    // The binary is looked for in the workspace's own target directory,
    // whatever target directory the test run itself uses.
    let out = common::helper(
        &dir,
        &["build", "tiny", "--profile", "buildplan-ci", "--", "-v"],
    )
    .env_remove("CARGO_TARGET_DIR")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let rustc = err
        .lines()
        .find(|l| l.contains("rustc") && l.contains("--crate-name tiny"))
        .unwrap_or_else(|| panic!("no rustc line for tiny:\n{err}"));
    assert!(rustc.contains("-C codegen-units=16"), "{rustc}");
    assert!(rustc.contains("-C lto=off"), "no LTO at all: {rustc}");
    assert!(
        !rustc.contains("-C lto=fat"),
        "fat LTO must stay off: {rustc}"
    );
    assert!(!rustc.contains("debuginfo=2"), "{rustc}");
    assert!(dir.join("target/buildplan-ci/tiny").is_file());
    assert_eq!(
        manifest(&dir),
        before,
        "the workspace's files are untouched"
    );
}

#[test]
fn the_policy_turns_them_off_or_renames_them() {
    let cases = [
        ("tuned-profiles = false", &["dev", "release"][..]),
        (
            "tuned-profiles = { ci = \"fast-ci\" }",
            &["buildplan-dev", "dev", "fast-ci", "release"],
        ),
    ];
    for (policy, expected) in cases {
        let (_tmp, dir) = workspace(&format!("\n[workspace.metadata.buildplan]\n{policy}\n"));
        run_expect(&dir, &["plan"], 0);
        let plan = plan_json(&dir);
        let names: Vec<_> = plan["profiles"].as_object().unwrap().keys().collect();
        assert_eq!(names, expected, "{policy}");
    }
}

#[test]
fn a_name_the_workspace_uses_is_refused_and_the_plan_untouched() {
    let (_tmp, dir) = workspace("\n[profile.buildplan-ci]\ninherits = \"release\"\n");
    let out = run_expect(&dir, &["plan"], 2);
    let err = stderr(&out);
    assert!(err.contains("tuned-profiles.ci"), "{err}");
    assert!(err.contains("`buildplan-ci` is already a profile"), "{err}");
    assert!(!dir.join("nix/plan.json").exists());
    // Renamed by the policy, the same workspace plans, with its own
    // buildplan-ci as it is.
    let (_tmp, dir) = workspace(
        "\n[profile.buildplan-ci]\ninherits = \"release\"\n\n[workspace.metadata.buildplan]\ntuned-profiles = { ci = \"tuned-ci\" }\n",
    );
    run_expect(&dir, &["plan"], 0);
    let plan = plan_json(&dir);
    assert_eq!(
        plan["profiles"]["buildplan-ci"]["overrides"]["settings"],
        json!({})
    );
    assert_eq!(
        plan["profiles"]["tuned-ci"]["settings"]["codegen-units"]["value"],
        16
    );
}

#[test]
fn a_bad_tuned_profiles_value_exits_2_naming_the_key() {
    for (value, expect) in [
        ("\"yes\"", "`tuned-profiles` must be false, true or a table"),
        (
            "{ qa = \"x\" }",
            "`tuned-profiles` must be false, true or a table",
        ),
        ("{ ci = \"release\" }", "`release` is already a profile"),
        ("{ ci = \"a b\" }", "`a b` is not a valid profile name"),
        ("{ dev = \"same\", ci = \"same\" }", "tuned-profiles.ci"),
    ] {
        let (_tmp, dir) = workspace(&format!(
            "\n[workspace.metadata.buildplan]\ntuned-profiles = {value}\n"
        ));
        let out = run_expect(&dir, &["plan"], 2);
        let err = stderr(&out);
        assert!(err.contains("Cargo.toml"), "{value}: {err}");
        assert!(err.contains(expect), "{value}: {err}");
        assert!(!dir.join("nix/plan.json").exists());
    }
}
