//! Smoke test of `cargo buildplan bench` with its defaults, on the tiny
//! fixture workspace (`tests/fixtures/bench-smoke`: a library, a binary
//! using it, `itoa`) turned into a workspace without policy or plan: the
//! workspace as shipped against the tuned profile. One run per cell; no
//! speed is asserted.
//!
//! The fixture is copied to a temporary directory first, so the
//! repository's tree is never written to.

use std::path::{Path, PathBuf};

mod common;
use common::{bin, copy_fixture, describe};

use buildplan_bench::report::{GoalStatus, Results};

/// The host triple (`rustc -vV`).
fn host() -> String {
    let out = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap()
        .trim()
        .to_string()
}

/// The bench-smoke fixture turned into a workspace that is not ours: no
/// policy and no plan file, its release profile only in
/// `.cargo/config.toml`, rustflags configured for the host in
/// `[target.<host>]`. Both are checked by the code itself: the crates fail
/// to compile unless the configured `--cfg` reaches rustc, and unless the
/// release profile of the config file (debug assertions on) applies.
fn foreign_fixture(dir: &Path) -> PathBuf {
    let ws = dir.join("ws");
    let (_tmp, copy) = copy_fixture("bench-smoke", "ws");
    std::fs::rename(&copy, &ws)
        .or_else(|_| {
            std::process::Command::new("cp")
                .arg("-a")
                .arg(&copy)
                .arg(&ws)
                .status()
                .map(drop)
        })
        .unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"smoke-app\", \"smoke-core\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join(".cargo")).unwrap();
    std::fs::write(
        ws.join(".cargo/config.toml"),
        format!(
            "[profile.release]\nopt-level = 2\ncodegen-units = 16\ndebug-assertions = true\n\n\
             [target.{}]\nrustflags = [\"--cfg\", \"smoke_configured\"]\n",
            host()
        ),
    )
    .unwrap();
    for lib in ["smoke-core/src/lib.rs", "smoke-app/src/lib.rs"] {
        let path = ws.join(lib);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(
            "\n#[cfg(not(smoke_configured))]\ncompile_error!(\"the workspace's configured rustflags were dropped\");\n\
             #[cfg(not(debug_assertions))]\ncompile_error!(\"the release profile of .cargo/config.toml was not applied\");\n",
        );
        std::fs::write(&path, text).unwrap();
    }
    assert!(!ws.join("nix/plan.json").exists());
    ws
}

#[test]
fn defaults_compare_the_workspace_as_shipped_with_the_tuned_profile() {
    let dir = tempfile::tempdir().unwrap();
    let ws = foreign_fixture(dir.path());
    let lib_before = std::fs::read_to_string(ws.join("smoke-core/src/lib.rs")).unwrap();
    let json = dir.path().join("results.json");
    let md = dir.path().join("BENCHMARKS.md");
    let foreign = "<!-- broker-throughput:start -->\n## Broker throughput\n\n| x | 1 |\n<!-- broker-throughput:end -->";
    let analysis = "<!-- analysis:start -->\n## Why\n\nhand-written\n<!-- analysis:end -->";
    std::fs::write(&md, format!("# stale report\n\n{analysis}\n\n{foreign}\n")).unwrap();

    let out = bin()
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .args(["--runs", "1"])
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .args(["--note", "smoke test", "--skip", "shipped:link-bfd"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    let results: Results = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(results.setup.package, "smoke-app");
    assert_eq!(
        results.setup.root.as_ref().map(|r| r.0.as_str()),
        Some("smoke-core"),
        "the root crate is the member the others depend on"
    );
    assert_eq!(results.setup.against.as_deref(), Some("shipped"));
    let configs: Vec<&str> = results.configs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(configs, ["tuned", "shipped"]);

    // Shipped: plain cargo, as the user would run it.
    let shipped = &results.configs[1];
    assert!(!shipped.planned);
    assert_eq!(shipped.profile, "release");
    assert!(
        shipped.command.contains("--profile release"),
        "{}",
        shipped.command
    );
    assert!(!shipped.command.contains("--config"), "{}", shipped.command);
    assert!(
        !shipped.command.contains("RUSTFLAGS="),
        "{}",
        shipped.command
    );
    assert!(
        shipped
            .command
            .contains("--package smoke-app --profile release")
            && !shipped.command.contains("smoke-core"),
        "the package alone, not the plan's unified selection: {}",
        shipped.command
    );
    assert!(!shipped.linker.is_empty());
    // Tuned: the plan's CI profile, its flags added to the configured ones
    // (never a rustflags variable in their place).
    let tuned = &results.configs[0];
    assert!(tuned.planned);
    assert_eq!(tuned.profile, buildplan::tuned::CI);
    assert!(
        tuned.command.contains("--profile buildplan-ci"),
        "{}",
        tuned.command
    );
    assert!(!tuned.command.contains("RUSTFLAGS="), "{}", tuned.command);

    let default_scenarios = buildplan_bench::SCENARIOS
        .iter()
        .filter(|s| !buildplan_bench::pull_request::SCENARIOS.contains(s));
    for scenario in default_scenarios {
        for config in &configs {
            let found = results
                .measurements
                .iter()
                .find(|m| m.scenario == *scenario && m.config == *config);
            if (*config, *scenario) == ("shipped", "link-bfd") {
                assert!(found.is_none(), "a skipped cell is not measured");
                continue;
            }
            let m = found.unwrap_or_else(|| panic!("no measurement for {scenario} / {config}"));
            assert_eq!(m.runs.len(), 1);
            assert!(m.wall_s.min > 0.0, "{m:?}");
            assert!(m.wall_s.min <= m.wall_s.median && m.wall_s.median <= m.wall_s.max);
            assert!(m.tree_pss_mib.max > 0.0, "{m:?}");
            assert!(m.max_process_rss_mib.max > 0.0, "{m:?}");
            assert_eq!(
                m.duplicates.is_some(),
                *scenario == "clean",
                "only the clean build is counted: {m:?}"
            );
        }
    }
    assert!(results.machine.cpus >= 1);
    assert!(results.machine.mem_total_mib.unwrap_or(0) > 0);
    assert!(results.machine.load_avg.0.is_some());
    assert!(results.machine.rustc.starts_with("rustc "));
    assert!(results
        .machine
        .rustc_verbose
        .contains(&format!("host: {}", host())));
    assert!(results.machine.cargo.starts_with("cargo "));
    assert!(
        results.command_line.contains("cargo buildplan ")
            && results.command_line.contains(" bench ")
    );
    assert!(results.command_line.contains("--runs 1"));
    assert!(results.notes.iter().any(|n| n == "smoke test"));
    assert!(results.notes.iter().any(|n| n.contains("shipped:link-bfd")));
    assert!(
        !results.notes.iter().any(|n| n.contains("PARTIAL")),
        "a finished run is not marked partial"
    );
    // The default goals, each with figures.
    let ids: Vec<&str> = results.goals.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        ids,
        ["clean", "deps-cached", "leaf", "memory", "duplicates"]
    );
    for g in &results.goals {
        assert_ne!(g.status, GoalStatus::NotMeasured, "{g:?}");
        assert!(g.figure.is_some(), "{g:?}");
        if g.id != "duplicates" {
            assert!(
                g.detail.contains("tuned") && g.detail.contains("/ shipped"),
                "{g:?}"
            );
        }
    }
    // itoa is the only third-party crate, compiled once.
    let dup = &results.goals[4];
    assert_eq!(dup.figure, Some(0.0), "{dup:?}");
    assert_eq!(dup.status, GoalStatus::Pass);

    let report = std::fs::read_to_string(&md).unwrap();
    assert!(report.starts_with("# Build benchmarks"), "{report}");
    assert!(!report.contains("stale report"));
    assert!(
        report.contains(foreign),
        "foreign section kept verbatim:\n{report}"
    );
    let at = |needle: &str| {
        report
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing:\n{report}"))
    };
    assert!(
        at("## Goals") < at(analysis) && at(analysis) < at("## Wall time"),
        "the hand-written analysis is kept verbatim below the goals:\n{report}"
    );
    assert!(report.contains(&results.command_line));
    assert!(report.contains("| leaf |"));

    // deps-cached rebuilt the workspace crates and nothing else, although
    // smoke-core has a test target named `itoa`, like its dependency.
    let log = std::fs::read_to_string(dir.path().join("work/bench.log")).unwrap();
    let after_forget: Vec<&str> = log
        .split("\n$ ")
        .skip_while(|cmd| !cmd.starts_with("# bench: removed the fingerprints"))
        .take(2)
        .collect();
    assert_eq!(after_forget.len(), 2, "{log}");
    assert!(
        after_forget[0].contains("smoke-core-") && after_forget[0].contains("smoke-app-"),
        "{}",
        after_forget[0]
    );
    assert!(
        after_forget[1].contains("Compiling smoke-core")
            && !after_forget[1].contains("Compiling itoa"),
        "the deps-cached build recompiled a dependency:\n{}",
        after_forget[1]
    );

    // The plan's linker flag reached the tuned build on top of the configured
    // rustflags (which the crates' compile_error guards prove were kept):
    // mold signs the binaries it links in `.comment`; the shipped build,
    // with nothing of the plan, does not use it.
    let path = std::env::var_os("PATH").unwrap_or_default();
    if buildplan::exec::find_in_path("ld.mold", &path).is_some() {
        let signed_by_mold = |config: &str, profile: &str| {
            let bin = dir
                .path()
                .join("work/targets")
                .join(config)
                .join(profile)
                .join("smoke-app");
            let bytes = std::fs::read(&bin).unwrap();
            bytes.windows(5).any(|w| w == b"mold ")
        };
        assert!(signed_by_mold("tuned", "buildplan-ci"));
        assert!(!signed_by_mold("shipped", "release"));
    }

    // The user's tree is untouched: no edits, no target directory, no plan.
    let lib_after = std::fs::read_to_string(ws.join("smoke-core/src/lib.rs")).unwrap();
    assert_eq!(lib_before, lib_after);
    assert!(!ws.join("target").exists());
    assert!(!ws.join("nix").exists());
    // The copy's edits were undone as well.
    let copy = dir.path().join("work/workspace/smoke-core/src/lib.rs");
    assert_eq!(std::fs::read_to_string(copy).unwrap(), lib_before);

    // A second run in the same work directory updates the copy in place
    // (nothing differs) and reuses the first run's builds.
    let log = dir.path().join("work/bench.log");
    let log_len = std::fs::metadata(&log).unwrap().len() as usize;
    let out = bin()
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .args(["--runs", "1", "--configs", "tuned", "--scenarios", "noop"])
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(0 files written"), "{stderr}");
    let second = std::fs::read_to_string(&log).unwrap()[log_len..].to_string();
    assert!(
        !second.contains("Compiling itoa"),
        "dependencies were reused:\n{second}"
    );
}
