//! `cargo buildplan build` on the tiny fixture workspace: the command it
//! prints, the errors it reports, and a real build.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{bin, describe, planned_bench_fixture};

fn build(ws: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .arg("build")
        .args(args)
        .env("CARGO_TARGET_DIR", ws.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap()
}

#[test]
fn dry_run_prints_the_plans_flags() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    let out = build(
        &ws,
        &[
            "smoke-app",
            "--variant",
            "app",
            "--profile",
            "release-fast",
            "--dry-run",
            "--",
            "--locked",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "cargo build --package smoke-app --features smoke-app/loud --profile release-fast ",
        " --jobs ",
        " --locked",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in {stdout}");
    }
    // The fixture's policy adds no profile settings: cargo reads the
    // manifest's own, and the helper restates none of them.
    assert!(!stdout.contains("profile."), "{stdout}");
    // Target flags are added to the workspace's (a `--config` array cargo
    // appends), never by replacing them through CARGO_TARGET_*_RUSTFLAGS;
    // release-fast inherits release, so the build is reproducible.
    assert!(!stdout.contains("_RUSTFLAGS="), "{stdout}");
    assert!(stdout.contains("--remap-path-prefix="), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("linker: "), "{stderr}");
    assert!(stderr.contains("jobs: --jobs "), "{stderr}");
    assert!(!ws.join("target").exists(), "a dry run builds nothing");
}

#[test]
fn errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    for (args, message) in [
        (
            &["smoke-core", "--variant", "app"][..],
            "not a root of variant `app`",
        ),
        (&["nope"][..], "unknown package `nope`"),
        (
            &["smoke-app", "--variant", "full"][..],
            "unknown variant `full`",
        ),
        (
            &["smoke-app", "--profile", "release-optimized"][..],
            "unknown profile",
        ),
        (
            &["smoke-app", "--target", "mips-unknown-linux-gnu"][..],
            "unknown target",
        ),
    ] {
        let out = build(&ws, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }

    // A plan from the future is refused.
    let plan_path = ws.join("nix/plan.json");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    std::fs::write(
        &plan_path,
        plan.replace("\"schema_version\": 3", "\"schema_version\": 7"),
    )
    .unwrap();
    let out = build(&ws, &["smoke-app", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema_version 7 is not supported"));

    std::fs::remove_file(&plan_path).unwrap();
    let out = build(&ws, &["smoke-app", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo buildplan plan"));
}

#[test]
fn builds_for_real_and_a_failed_cargo_fails_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    let out = build(&ws, &["smoke-app", "--variant", "app", "--profile", "dev"]);
    assert!(out.status.success(), "{}", describe(&out));
    let binary = ws.join("target/debug/smoke-app");
    let run = Command::new(&binary).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "HELLO 42\n",
        "the variant's feature is on"
    );

    // cargo's own failure is the build gate failing: exit 1, said so,
    // after cargo's message.
    let out = build(
        &ws,
        &["smoke-app", "--profile", "dev", "--", "--no-such-flag"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--no-such-flag"),
        "cargo's own message: {stderr}"
    );
    assert!(stderr.contains("cargo failed"), "{stderr}");
}

#[test]
fn the_users_jobs_are_honoured_and_only_lowered_by_memory() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    let dry = |env_jobs: Option<&str>, extra: &[&str]| {
        let mut cmd = bin();
        cmd.arg("--manifest-path")
            .arg(ws.join("Cargo.toml"))
            .args(["build", "smoke-app", "--profile", "dev", "--dry-run", "--"])
            .args(extra)
            .env_remove("CARGO_BUILD_JOBS");
        if let Some(j) = env_jobs {
            cmd.env("CARGO_BUILD_JOBS", j);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", describe(&out));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // CARGO_BUILD_JOBS: left to cargo, not overridden by --jobs.
    let (stdout, stderr) = dry(Some("1"), &[]);
    assert!(!stdout.contains("--jobs"), "{stdout}");
    assert!(
        stderr.contains("jobs: 1 as set by CARGO_BUILD_JOBS"),
        "{stderr}"
    );
    // [build] jobs in the workspace's config file: the same.
    std::fs::create_dir_all(ws.join(".cargo")).unwrap();
    std::fs::write(ws.join(".cargo/config.toml"), "[build]\njobs = 1\n").unwrap();
    let (stdout, stderr) = dry(None, &[]);
    assert!(!stdout.contains("--jobs"), "{stdout}");
    assert!(
        stderr.contains("jobs: 1 as set by [build] jobs in"),
        "{stderr}"
    );
    // A -j no machine here has the memory for: lowered, with a message.
    let (stdout, stderr) = dry(None, &["-j", "100000"]);
    assert!(stdout.contains("--jobs "), "{stdout}");
    assert!(!stdout.contains("100000"), "{stdout}");
    assert!(
        stderr.contains("lowered from 100000 (-j on the command line) by the memory cap"),
        "{stderr}"
    );
}

#[test]
fn a_build_that_cannot_fit_is_refused_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    // Every job is said to need 100 TiB: no machine here has that.
    let manifest = ws.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "default-profile = \"release\"",
            "default-profile = \"release\"\nmem-per-job-mib = 104857600",
        ),
    )
    .unwrap();
    let out = bin()
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["plan", "--no-audit"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    let out = build(&ws, &["smoke-app", "--profile", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "refusing to build `smoke-app` with profile `dev`",
        "more than this machine's",
        "no profile of the plan fits",
        "--force",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    assert!(!ws.join("target").exists(), "nothing was compiled");

    let out = build(
        &ws,
        &["smoke-app", "--profile", "dev", "--force", "--dry-run"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force: building anyway"));
}

#[test]
fn a_missing_cross_toolchain_is_named_with_its_packages() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    // PATH with cargo and rustc only: none of the musl targets' C tools.
    let tools = dir.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    for tool in ["cargo", "rustc"] {
        let real = String::from_utf8(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        std::os::unix::fs::symlink(real.trim(), tools.join(tool)).unwrap();
    }
    let out = bin()
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .args(["build", "smoke-app", "--dry-run", "--target"])
        .arg("aarch64-unknown-linux-musl")
        .env("PATH", &tools)
        .env("CARGO_TARGET_DIR", ws.join("target"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "target aarch64-unknown-linux-musl: `clang` (linker driver, C compiler) is not on PATH",
        "`ld.lld` (linker) is not on PATH",
        "comes from the Debian packages clang llvm lld musl-dev:arm64",
        "sudo dpkg --add-architecture arm64 && sudo apt-get update && \
         sudo apt-get install clang llvm lld musl-dev:arm64",
    ] {
        assert!(stderr.contains(needle), "lacks {needle:?}: {stderr}");
    }
}
