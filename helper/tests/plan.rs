//! `plan`: what it writes for the fixtures, and that it is deterministic.

mod common;

use common::*;
use serde_json::json;

#[test]
fn basic_fixture_plan_has_packages_variants_targets_and_profiles() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    run_expect(&dir, &["plan"], 0);
    let plan = plan_json(&dir);

    assert_eq!(plan["schema_version"], 3);
    assert_eq!(plan["generator"], "cargo-buildplan");
    assert_eq!(
        plan["workspace"],
        json!({
            "default_profile": "release",
            "default_variant": "default",
            "lockfile": "Cargo.lock",
            "mem_per_job_mib": 1024,
            "members": ["crates/app", "crates/corelib", "crates/macros", "crates/testkit", "crates/tool"]
        })
    );

    let app = &plan["packages"]["app"];
    assert_eq!(app["path"], "crates/app");
    assert_eq!(app["binaries"], json!(["app", "app-admin"]));
    // `fmt` enables the optional itoa through `dep:`, so no implicit
    // `itoa` feature is declared.
    assert_eq!(app["features"], json!(["default", "fmt", "search", "std"]));
    // The proc-macro crate is a normal dependency; testkit only a dev one.
    assert_eq!(
        app["workspace_deps"],
        json!(["crates/corelib", "crates/macros"])
    );
    assert_eq!(
        app["workspace_test_deps"],
        json!(["crates/corelib", "crates/macros", "crates/testkit"])
    );
    assert_eq!(
        plan["packages"]["corelib"]["features"],
        json!(["default", "search", "std"])
    );
    assert_eq!(plan["packages"]["macros"]["binaries"], json!([]));

    let variants = plan["variants"].as_object().unwrap();
    assert_eq!(
        variants.keys().collect::<Vec<_>>(),
        ["default", "full", "minimal", "split"]
    );
    assert_eq!(
        plan["variants"]["default"]["packages"],
        json!(["app", "corelib", "macros", "testkit", "tool"])
    );
    assert_eq!(
        plan["variants"]["minimal"]["builds"]["app"],
        json!({
            "cargo_args": ["--package", "app", "--no-default-features"],
            "alone_cargo_args": ["--package", "app", "--no-default-features"],
            "default_features": false,
            "features": []
        })
    );
    assert_eq!(plan["variants"]["minimal"]["unified"], false);
    // Two roots: one unified build, U + each root's own binaries.
    let full = &plan["variants"]["full"];
    let u = json!([
        "--package",
        "app",
        "--package",
        "tool",
        "--features",
        "app/fmt,app/search"
    ]);
    assert_eq!(full["unified"], true);
    assert_eq!(full["cargo_args"], u);
    assert_eq!(full["deps_cargo_args"], json!([u]));
    assert_eq!(
        full["builds"]["tool"]["cargo_args"],
        json!([
            "--package",
            "app",
            "--package",
            "tool",
            "--features",
            "app/fmt,app/search",
            "--bin",
            "tool"
        ])
    );
    assert_eq!(
        full["builds"]["tool"]["alone_cargo_args"],
        json!(["--package", "tool"])
    );

    // The audit found the split the fixture was built to have, and only it.
    assert_eq!(plan["variants"]["default"]["feature_splits"], json!([]));
    assert_eq!(plan["variants"]["full"]["feature_splits"], json!([]));
    assert_eq!(
        plan["variants"]["split"]["feature_splits"],
        json!([{
            "package": "memchr",
            "version": "2.8.3",
            "targets": ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl"],
            "resolutions": [
                {"features": [], "roots": ["app"]},
                {"features": ["alloc", "std"], "roots": ["<together>", "tool"]}
            ]
        }])
    );

    let targets = plan["targets"].as_object().unwrap();
    assert_eq!(
        targets.keys().collect::<Vec<_>>(),
        [
            "aarch64-unknown-linux-musl",
            "host",
            "x86_64-unknown-linux-musl"
        ]
    );
    assert_eq!(plan["targets"]["host"]["triple"], serde_json::Value::Null);
    // Targets carry facts only; no rendered flags or variable names.
    assert_eq!(
        plan["targets"]["x86_64-unknown-linux-musl"],
        json!({
            "triple": "x86_64-unknown-linux-musl", "linker_driver": "clang",
            "fuse_ld": "mold", "target_cpu": "x86-64-v2", "static": true,
            "link_target": null, "cc": "clang", "cxx": "clang++", "ar": "llvm-ar",
            "c_flags": ["-nostdlibinc", "-isystem", "/usr/include/x86_64-linux-musl"],
            "host_tools": {"cc": "cc", "cxx": "c++", "ar": "ar"},
            "packages": ["clang", "llvm", "mold", "musl-dev"],
            "nix_cross": "musl64", "extra_rustflags": []
        })
    );
    assert_eq!(
        plan["targets"]["aarch64-unknown-linux-musl"]["link_target"],
        "aarch64-unknown-linux-musl"
    );

    // Profiles: effective settings with their source, and the policy's
    // part as overrides.
    let set = |value: serde_json::Value, source: &str| json!({"value": value, "source": source});
    let release = &plan["profiles"]["release"];
    assert_eq!(
        release["settings"],
        json!({
            "codegen-units": set(json!(8), "policy"),
            "lto": set(json!("thin"), "Cargo.toml"),
            "opt-level": set(json!(2), "Cargo.toml"),
            "strip": set(json!(true), "Cargo.toml")
        })
    );
    assert_eq!(
        release["package"],
        json!({"app": {"codegen-units": set(json!(1), "policy")}})
    );
    assert_eq!(
        release["build_override"],
        json!({"opt-level": set(json!(0), "Cargo.toml")})
    );
    assert_eq!(
        release["overrides"],
        json!({
            "settings": {"codegen-units": 8},
            "build_override": {},
            "package": {"app": {"codegen-units": 1}}
        })
    );
    let fast = &plan["profiles"]["release-fast"];
    assert_eq!(fast["inherits"], "release");
    assert_eq!(fast["settings"]["lto"], set(json!(false), "Cargo.toml"));
    assert_eq!(fast["settings"]["opt-level"], set(json!(2), "Cargo.toml"));
    // The policy's release values reach the child, restated under its name.
    assert_eq!(fast["overrides"], release["overrides"]);
    let dev = &plan["profiles"]["dev"];
    assert_eq!(
        dev["package"],
        json!({"*": {"opt-level": set(json!(1), "Cargo.toml")}})
    );
    assert_eq!(
        dev["overrides"],
        json!({"settings": {}, "build_override": {}, "package": {}})
    );
    // Nothing rendered is left in the plan.
    let text = serde_json::to_string(&plan).unwrap();
    for gone in [
        "CARGO_TARGET_",
        "CARGO_PROFILE_",
        "\"rustflags\"",
        "\"env\"",
        "\"config\"",
        "\"linker\"",
    ] {
        assert!(!text.contains(gone), "the plan still carries {gone}");
    }
}

#[test]
fn plan_is_byte_identical_across_runs_and_checkout_paths() {
    let (_a, first) = copy_fixture("basic", "one");
    let (_b, second) = copy_fixture("basic", "somewhere/else/entirely");
    run_expect(&first, &["plan"], 0);
    let bytes = read(&first.join("nix/plan.json"));
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
    assert!(text.starts_with("{\n  \""), "two-space indentation");
    assert!(!text.contains(first.to_str().unwrap()), "no absolute paths");
    assert!(!text.contains("/tmp"), "no absolute paths");

    // Again in place: same bytes, and no temporary files left behind.
    run_expect(&first, &["plan"], 0);
    assert_eq!(read(&first.join("nix/plan.json")), bytes);
    let entries: Vec<_> = std::fs::read_dir(first.join("nix"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries, ["plan.json"]);

    // Elsewhere, run as the cargo subcommand would be: same bytes.
    let out = helper(&second, &["buildplan", "plan"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(read(&second.join("nix/plan.json")), bytes);
}

#[test]
fn output_flag_writes_elsewhere() {
    let (tmp, dir) = copy_fixture("basic", "ws");
    let target = tmp.path().join("out/custom.json");
    run_expect(
        &dir,
        &["plan", "--no-audit", "--output", target.to_str().unwrap()],
        0,
    );
    assert!(target.is_file());
    assert!(!dir.join("nix/plan.json").exists());
    run_expect(&dir, &["check", "--plan", target.to_str().unwrap()], 1);
}

#[test]
fn single_package_without_policy_gets_the_defaults() {
    let (_tmp, dir) = copy_fixture("single", "crate");
    run_expect(&dir, &["plan"], 0);
    let plan = plan_json(&dir);
    assert_eq!(plan["workspace"]["members"], json!(["."]));
    assert_eq!(plan["workspace"]["mem_per_job_mib"], 1536);
    assert_eq!(plan["packages"]["single"]["path"], ".");
    assert_eq!(plan["packages"]["single"]["binaries"], json!(["single"]));
    let variants = plan["variants"].as_object().unwrap();
    assert_eq!(
        variants.keys().collect::<Vec<_>>(),
        ["default", "full", "minimal"]
    );
    assert_eq!(
        plan["variants"]["full"]["builds"]["single"]["cargo_args"],
        json!(["--package", "single", "--all-features"])
    );
    assert_eq!(
        plan["variants"]["minimal"]["builds"]["single"]["cargo_args"],
        json!(["--package", "single", "--no-default-features"])
    );
    let profiles = plan["profiles"].as_object().unwrap();
    assert_eq!(
        profiles.keys().collect::<Vec<_>>(),
        ["buildplan-ci", "buildplan-dev", "dev", "release"],
        "dev, release and the plan's two tuned profiles"
    );
    assert_eq!(plan["profiles"]["release"]["settings"], json!({}));
    assert_eq!(
        plan["targets"].as_object().unwrap().len(),
        3,
        "host plus the two musl targets"
    );
}

#[test]
fn help_teaches_the_commands() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    for word in [
        "plan",
        "check",
        "explain",
        "audit",
        "doctor",
        "build",
        "bench",
        "--manifest-path",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
}

#[test]
fn a_crate_without_any_workspace_table_is_planned() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lonely");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"lonely\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n\
         [features]\ndefault = [\"a\"]\na = []\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "//! Nothing.\n").unwrap();
    run_expect(&dir, &["plan"], 0);
    let plan = plan_json(&dir);
    assert_eq!(plan["workspace"]["members"], json!(["."]));
    assert_eq!(plan["packages"]["lonely"]["version"], "0.3.0");
    assert_eq!(
        plan["packages"]["lonely"]["features"],
        json!(["a", "default"])
    );
    assert_eq!(plan["variants"]["default"]["feature_splits"], json!([]));
    run_expect(&dir, &["check"], 0);
}
