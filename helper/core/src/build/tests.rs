//! Unit tests of the build command's assembly and memory check.

use super::*;

use crate::exec::testing::{host, stub_dir};
use crate::jobs::{Jobs, JobsValue};

/// A small plan, written as the contract's JSON (so that fields added
/// to the model later with defaults do not break the test).
fn small_plan() -> Plan {
    let args = serde_json::json!(["--package", "app", "--features", "app/extra"]);
    let pkg = |path: &str| {
        serde_json::json!({
            "version": "0.1.0", "path": path, "binaries": [], "features": [],
            "workspace_deps": [], "workspace_test_deps": []
        })
    };
    let value = serde_json::json!({
        "schema_version": crate::model::SCHEMA_VERSION,
        "generator": "cargo-buildplan",
        "workspace": {
            "lockfile": "Cargo.lock", "members": ["app", "lib"],
            "default_variant": "default", "default_profile": "release",
            "mem_per_job_mib": 1024
        },
        "packages": { "app": pkg("app"), "lib": pkg("lib") },
        "variants": { "default": {
            "description": "d", "packages": ["app"],
            "builds": { "app": {
                "default_features": true, "features": ["app/extra"], "cargo_args": args,
                "alone_cargo_args": args
            }},
            "unified": false, "unify_note": null, "cargo_args": args,
            "deps_cargo_args": [args], "feature_splits": []
        }},
        "targets": {
            "host": {
                "triple": null, "linker_driver": null, "fuse_ld": null, "target_cpu": null,
                "static": false, "link_target": null, "cc": null, "ar": null,
                "nix_cross": null, "extra_rustflags": []
            },
            "x86_64-unknown-linux-musl": {
                "triple": "x86_64-unknown-linux-musl", "linker_driver": "clang",
                "fuse_ld": "mold", "target_cpu": "x86-64-v2", "static": true,
                "link_target": null, "cc": "clang", "ar": null, "nix_cross": "musl64",
                "extra_rustflags": []
            }
        },
        "profiles": {
          "heavy": {
            "inherits": "release",
            "settings": {
                "codegen-units": {"value": 1, "source": "Cargo.toml"},
                "debug": {"value": true, "source": "Cargo.toml"},
                "lto": {"value": "fat", "source": "Cargo.toml"}
            },
            "build_override": {}, "package": {},
            "overrides": {"settings": {}, "build_override": {}, "package": {}}
          },
          "release": {
            "inherits": null,
            "settings": {
                "codegen-units": {"value": 16, "source": "policy"},
                "lto": {"value": "thin", "source": "policy"},
                "opt-level": {"value": 2, "source": "Cargo.toml"}
            },
            "build_override": {}, "package": {},
            "overrides": {
                "settings": {"codegen-units": 16, "lto": "thin"},
                "build_override": {}, "package": {}
            }
        }}
    });
    serde_json::from_value(value).unwrap()
}

fn machine(path: &Path, mem: Option<u64>) -> Machine {
    Machine {
        host: host(),
        path: path.as_os_str().to_owned(),
        mem_available_mib: mem,
        mem_total_mib: Some(24_000),
        cpus: 2,
    }
}

fn sel<'a>(package: &'a str, target: &'a str) -> Selection<'a> {
    Selection::new(package, "default", target, "release")
}

#[test]
fn host_command_from_plan() {
    let plan = small_plan();
    let tools = stub_dir(&["ld.mold"]);
    let m = machine(tools.path(), Some(4096));
    let extra = vec!["--locked".to_string()];
    let (cmd, notes) = assemble(&plan, Path::new("/ws"), &sel("app", "host"), &m, &extra).unwrap();
    assert_eq!(
        cmd.args,
        [
            "build",
            "--package",
            "app",
            "--features",
            "app/extra",
            "--profile",
            "release",
            "--config",
            "profile.release.codegen-units=16",
            "--config",
            "profile.release.lto=\"thin\"",
            "--jobs",
            "2",
            "--locked"
        ]
    );
    assert_eq!(
        cmd.env
            .get("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS")
            .map(String::as_str),
        Some("-C linker-features=-lld -C link-arg=-fuse-ld=mold")
    );
    assert_eq!(cmd.cwd, Path::new("/ws"));
    assert!(notes.linker.contains("mold"), "{}", notes.linker);
    assert!(notes.jobs.contains("--jobs 2"), "{}", notes.jobs);
    let line = cmd.shell_line();
    assert!(line.contains("'profile.release.lto=\"thin\"'"), "{line}");
    assert!(
        line.starts_with("cd /ws && CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS='-C"),
        "{line}"
    );
}

#[test]
fn memory_caps_jobs_and_user_jobs_are_only_lowered() {
    let plan = small_plan();
    let tools = stub_dir(&[]);
    let low = machine(tools.path(), Some(1500));
    let (cmd, notes) = assemble(&plan, Path::new("/ws"), &sel("app", "host"), &low, &[]).unwrap();
    assert!(cmd.args.ends_with(&["--jobs".to_string(), "1".to_string()]));
    assert!(cmd.env.is_empty(), "default linker adds no flags");
    assert!(notes.linker.contains("rust-lld"), "{}", notes.linker);

    // The user's -j is lowered by the memory cap, and said so.
    let extra = vec!["-j3".to_string(), "--locked".to_string()];
    let (cmd, notes) =
        assemble(&plan, Path::new("/ws"), &sel("app", "host"), &low, &extra).unwrap();
    assert!(!cmd.args.contains(&"-j3".to_string()), "{:?}", cmd.args);
    assert!(cmd
        .args
        .ends_with(&["--jobs".into(), "1".into(), "--locked".into()]));
    assert!(notes.jobs.contains("lowered from 3"), "{}", notes.jobs);

    // With memory to spare it is honoured as given, above the CPUs too.
    let high = machine(tools.path(), Some(8192));
    let (cmd, notes) =
        assemble(&plan, Path::new("/ws"), &sel("app", "host"), &high, &extra).unwrap();
    assert!(!cmd.args.contains(&"--jobs".to_string()), "{:?}", cmd.args);
    assert!(cmd.args.ends_with(&extra));
    assert!(notes.jobs.contains("3 as set by -j"), "{}", notes.jobs);

    // CARGO_BUILD_JOBS (or [build] jobs) is left to cargo, unless a -j
    // on the command line outranks it.
    let mut s = sel("app", "host");
    s.user_jobs = Some(Jobs {
        value: JobsValue::Count(2),
        source: "env:CARGO_BUILD_JOBS".into(),
    });
    let (cmd, notes) = assemble(&plan, Path::new("/ws"), &s, &high, &[]).unwrap();
    assert!(!cmd.args.contains(&"--jobs".to_string()), "{:?}", cmd.args);
    assert!(
        notes.jobs.contains("2 as set by CARGO_BUILD_JOBS"),
        "{}",
        notes.jobs
    );
    let one = vec!["-j1".to_string()];
    let (_, notes) = assemble(&plan, Path::new("/ws"), &s, &high, &one).unwrap();
    assert!(notes.jobs.contains("1 as set by -j"), "{}", notes.jobs);
    let (cmd, notes) = assemble(&plan, Path::new("/ws"), &s, &low, &[]).unwrap();
    assert!(cmd.args.ends_with(&["--jobs".to_string(), "1".to_string()]));
    assert!(
        notes.jobs.contains("lowered from 2 (CARGO_BUILD_JOBS)"),
        "{}",
        notes.jobs
    );
}

#[test]
fn a_build_that_cannot_fit_is_refused_with_what_fits_instead() {
    let plan = small_plan();
    let tools = stub_dir(&[]);
    let m = Machine {
        mem_total_mib: Some(4096),
        mem_available_mib: Some(3000),
        ..machine(tools.path(), None)
    };
    let mut s = sel("app", "host");
    s.profile = "heavy";
    let check = memory::check_memory(&plan, s.profile, "app", &m, 1000).unwrap();
    assert_eq!(check.estimate.class, memory::MemoryClass::Extreme);
    let refusal = check.refusal.expect("32 GiB of fat LTO does not fit in 4");
    for needle in [
        "refusing to build `app` with profile `heavy`",
        "fat LTO over 1000 packages",
        "full debug info",
        "more than this machine's 4.0 GiB",
        "use --profile release (about 3.9 GiB) instead",
        "--force",
    ] {
        assert!(refusal.contains(needle), "{needle:?} in {refusal}");
    }
    // Thin LTO fits the machine, but not what is available now.
    let check = memory::check_memory(&plan, "release", "app", &m, 1000).unwrap();
    assert_eq!(check.refusal, None);
    assert!(check.warning.unwrap().contains("available now"));
    assert!(
        check.note.contains("profile `release` is light"),
        "{}",
        check.note
    );
    // Nothing fits a tiny machine: said so.
    let tiny = Machine {
        mem_total_mib: Some(512),
        ..m
    };
    let refusal = memory::check_memory(&plan, s.profile, "app", &tiny, 1000)
        .unwrap()
        .refusal
        .unwrap();
    assert!(refusal.contains("no profile of the plan fits"), "{refusal}");
    // Unknown memory: no verdict.
    let unknown = Machine {
        mem_total_mib: None,
        ..tiny
    };
    assert_eq!(
        memory::check_memory(&plan, s.profile, "app", &unknown, 1000)
            .unwrap()
            .refusal,
        None
    );
}

#[test]
fn musl_target_uses_plan_env_and_checks_tools() {
    let plan = small_plan();
    let tools = stub_dir(&["clang", "ld.mold"]);
    let m = machine(tools.path(), Some(8192));
    let (cmd, notes) = assemble(
        &plan,
        Path::new("/ws"),
        &sel("app", "x86_64-unknown-linux-musl"),
        &m,
        &[],
    )
    .unwrap();
    let pos = cmd.args.iter().position(|a| a == "--target").unwrap();
    assert_eq!(cmd.args[pos + 1], "x86_64-unknown-linux-musl");
    assert_eq!(
        cmd.env,
        crate::render::target_env(&plan.targets["x86_64-unknown-linux-musl"], None)
    );
    assert_eq!(
        cmd.env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS"],
        "-C link-arg=-fuse-ld=mold -C target-cpu=x86-64-v2 -C target-feature=+crt-static"
    );
    assert!(
        !cmd.args.iter().any(|a| a.contains("opt-level")),
        "a value cargo reads from Cargo.toml itself is not restated: {:?}",
        cmd.args
    );
    assert!(
        notes.linker.contains("clang with -fuse-ld=mold"),
        "{}",
        notes.linker
    );

    let no_mold = stub_dir(&["clang"]);
    let m = machine(no_mold.path(), Some(8192));
    let err = assemble(
        &plan,
        Path::new("/ws"),
        &sel("app", "x86_64-unknown-linux-musl"),
        &m,
        &[],
    )
    .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
    assert!(err.to_string().contains("ld.mold"), "{err}");
}

#[test]
fn bad_names_are_usage_errors() {
    let plan = small_plan();
    let tools = stub_dir(&[]);
    let m = machine(tools.path(), Some(8192));
    let err = assemble(&plan, Path::new("/ws"), &sel("lib", "host"), &m, &[]).unwrap_err();
    assert!(
        err.to_string().contains("not a root of variant `default`"),
        "{err}"
    );
    let err = assemble(&plan, Path::new("/ws"), &sel("nope", "host"), &m, &[]).unwrap_err();
    assert!(err.to_string().contains("unknown package `nope`"), "{err}");
    let err = assemble(&plan, Path::new("/ws"), &sel("app", "mips"), &m, &[]).unwrap_err();
    assert!(err.to_string().contains("unknown target `mips`"), "{err}");
    let mut s = sel("app", "host");
    s.profile = "release-optimized";
    let err = assemble(&plan, Path::new("/ws"), &s, &m, &[]).unwrap_err();
    assert!(err.to_string().contains("unknown profile"), "{err}");
}

/// The description of the host linker picked with `dir` as PATH.
fn picked(dir: &tempfile::TempDir) -> String {
    let (target, m) = (Target::default(), machine(dir.path(), None));
    let line = host_linker(&target, &m, None, &mut Vec::new()).unwrap();
    line.strip_prefix("linker: ")
        .unwrap()
        .split(" (picked")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn linker_prefers_mold_then_lld_then_default() {
    let describe = |l: Linker| l.describe(&host());
    assert_eq!(
        picked(&stub_dir(&["ld.mold", "ld.lld"])),
        describe(Linker::Mold)
    );
    assert_eq!(picked(&stub_dir(&["mold"])), describe(Linker::Mold));
    assert_eq!(picked(&stub_dir(&["ld.lld"])), describe(Linker::Lld));
    assert_eq!(picked(&stub_dir(&["cc"])), describe(Linker::Default));
}

#[test]
fn non_executable_files_do_not_count() {
    let dir = stub_dir(&[]);
    std::fs::write(dir.path().join("ld.mold"), "").unwrap();
    assert_eq!(picked(&dir), Linker::Default.describe(&host()));
}
