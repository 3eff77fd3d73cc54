//! The plan's promise to builders: after the dependency-only invocations
//! (`deps_cargo_args`), building each root with its planned arguments (in a
//! unified variant: every root selected, its own targets built) compiles no
//! third-party unit again. And the audit's claim is real: a
//! variant it flags does recompile when its roots are built together first.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Runs `cargo build --message-format=json` with `args` and returns the
/// names of the third-party units it compiled (not fresh).
fn build(dir: &Path, target_dir: &Path, config: &[String], args: &[String]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args([
            "build",
            "--locked",
            "--message-format=json",
            "--profile",
            "release",
        ]);
    for value in config {
        cmd.arg("--config").arg(value);
    }
    cmd.args(args);
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo build {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut compiled = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let id = msg["package_id"].as_str().unwrap_or_default();
        if id.starts_with("path+") {
            continue;
        }
        if msg["fresh"] != true {
            compiled.push(format!("{id} {}", msg["target"]["name"]));
        }
    }
    compiled
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn roots_built_after_the_deps_build_compile_no_third_party_unit() {
    let (tmp, dir) = copy_fixture("basic", "ws");
    run_expect(&dir, &["plan"], 0);
    let plan = plan_json(&dir);
    let target_dir = tmp.path().join("target");
    // What the helper hands cargo on top of the manifest: the policy's part.
    let overrides = serde_json::from_value(plan["profiles"]["release"]["overrides"].clone())
        .expect("the overrides parse");
    let config = buildplan::render::profile_config("release", &overrides);
    assert_eq!(
        config,
        [
            "profile.release.codegen-units=8",
            "profile.release.package.app.codegen-units=1"
        ]
    );

    // `split` is the hard case: its roots disagree about memchr's features.
    let variant = &plan["variants"]["split"];
    let mut first = Vec::new();
    for args in variant["deps_cargo_args"].as_array().unwrap() {
        first.extend(build(&dir, &target_dir, &config, &strings(args)));
    }
    assert!(
        first.iter().any(|u| u.contains("memchr")),
        "the deps build compiles third-party units: {first:?}"
    );
    for root in strings(&variant["packages"]) {
        let args = strings(&variant["builds"][&root]["cargo_args"]);
        let again = build(&dir, &target_dir, &config, &args);
        assert!(
            again.is_empty(),
            "building {root} recompiled third-party units: {again:?}"
        );
    }
}

#[test]
fn a_flagged_split_really_recompiles_after_a_together_build() {
    let (tmp, dir) = copy_fixture("basic", "ws");
    let target_dir = tmp.path().join("target");
    let together: Vec<String> = [
        "--package",
        "app",
        "--package",
        "tool",
        "--no-default-features",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["--features".to_string(), "app/search".to_string()])
    .collect();
    build(&dir, &target_dir, &[], &together);
    let alone: Vec<String> = [
        "--package",
        "app",
        "--no-default-features",
        "--features",
        "app/search",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let again = build(&dir, &target_dir, &[], &alone);
    assert!(
        again.iter().any(|u| u.contains("memchr")),
        "memchr should be compiled again with fewer features: {again:?}"
    );
}
