//! Smoke test of `cargo buildplan bench` on the tiny fixture workspace
//! (`tests/fixtures/bench-smoke`: a library, a binary using it, `itoa`).
//!
//! The fixture is copied to a temporary directory and planned there with
//! the `plan` command, so the repository's tree is never written to.

mod common;
use common::{bin, describe, planned_bench_fixture};

use buildplan::bench::report::{GoalStatus, Results};

#[test]
fn smoke_run_measures_every_scenario_and_keeps_the_foreign_section() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    // mold where it is installed (it is on the project's machines and CI),
    // else rustc's default linker, so that the test runs anywhere.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let release = if buildplan::exec::find_in_path("ld.mold", &path).is_some() {
        "release-fast-mold"
    } else {
        "release-fast-lld"
    };
    let lib_before = std::fs::read_to_string(ws.join("smoke-core/src/lib.rs")).unwrap();
    let json = dir.path().join("results.json");
    let md = dir.path().join("BENCHMARKS.md");
    let foreign = "<!-- broker-throughput:start -->\n## Broker throughput\n\n| x | 1 |\n<!-- broker-throughput:end -->";
    let analysis = "<!-- analysis:start -->\n## Why\n\nhand-written\n<!-- analysis:end -->";
    std::fs::write(&md, format!("# stale report\n\n{analysis}\n\n{foreign}\n")).unwrap();

    let out = bin()
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .args(["bench", "--runs", "1", "--configs"])
        .arg(format!("dev,{release}"))
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .args(["--note", "smoke test", "--skip", "dev:link"])
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
    let configs: Vec<&str> = results.configs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(configs, [release, "dev"]);
    for scenario in buildplan::bench::SCENARIOS {
        for config in &configs {
            if (*config, *scenario) == ("dev", "link") {
                assert!(
                    !results
                        .measurements
                        .iter()
                        .any(|m| m.config == "dev" && m.scenario == "link"),
                    "a skipped cell is not measured"
                );
                continue;
            }
            let m = results
                .measurements
                .iter()
                .find(|m| m.scenario == *scenario && m.config == *config)
                .unwrap_or_else(|| panic!("no measurement for {scenario} / {config}"));
            assert_eq!(m.runs.len(), 1);
            assert!(m.wall_s.min > 0.0, "{m:?}");
            assert!(m.wall_s.min <= m.wall_s.median && m.wall_s.median <= m.wall_s.max);
            assert!(m.tree_pss_mib.max > 0.0, "{m:?}");
            assert!(m.max_process_rss_mib.max > 0.0, "{m:?}");
        }
    }
    assert!(results.machine.cpus >= 1);
    assert!(results.machine.mem_total_mib.unwrap_or(0) > 0);
    assert!(results.machine.rustc.starts_with("rustc "));
    assert!(results.command_line.starts_with("cargo buildplan "));
    assert!(results.command_line.contains("--runs 1"));
    assert!(results.notes.iter().any(|n| n == "smoke test"));
    assert!(results.notes.iter().any(|n| n.contains("dev:link")));
    assert!(
        !results.notes.iter().any(|n| n.contains("PARTIAL")),
        "a finished run is not marked partial"
    );
    let ids: Vec<&str> = results.goals.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["clean", "leaf", "deps-cached", "memory", "link"]);
    // Without a baseline the ratio goals cannot be judged; memory can.
    assert_eq!(results.goals[0].status, GoalStatus::NotMeasured);
    assert_ne!(results.goals[3].status, GoalStatus::NotMeasured);

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
        after_forget[0].contains("smoke-core-"),
        "{}",
        after_forget[0]
    );
    assert!(
        after_forget[1].contains("Compiling smoke-core")
            && !after_forget[1].contains("Compiling itoa"),
        "the deps-cached build recompiled a dependency:\n{}",
        after_forget[1]
    );

    // The user's tree is untouched: no edits, no target directory.
    let lib_after = std::fs::read_to_string(ws.join("smoke-core/src/lib.rs")).unwrap();
    assert_eq!(lib_before, lib_after);
    assert!(!ws.join("target").exists());
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
        .args([
            "bench",
            "--runs",
            "1",
            "--configs",
            "dev",
            "--scenarios",
            "noop",
        ])
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

#[test]
fn bad_arguments_exit_2_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    for (args, message) in [
        (&["--scenarios", "touch"][..], "unknown scenario `touch`"),
        (&["--configs", "release-optimized"][..], "never benchmarked"),
        (&["--configs", "turbo"][..], "unknown configuration `turbo`"),
        (&["--runs", "0"][..], "--runs must be at least 1"),
        (&["--variant", "nope"][..], "unknown variant `nope`"),
        (
            &["--variant", "app", "--package", "smoke-core"][..],
            "not a root of variant `app`",
        ),
    ] {
        let out = bin()
            .arg("--manifest-path")
            .arg(ws.join("Cargo.toml"))
            .arg("bench")
            .args(args)
            .arg("--work-dir")
            .arg(dir.path().join("work"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    assert!(
        !dir.path().join("work/targets").exists(),
        "nothing was built"
    );
}

#[test]
fn report_can_be_regenerated_from_json() {
    let dir = tempfile::tempdir().unwrap();
    let results = serde_json::json!({
        "format": 1,
        "generator": "cargo-buildplan 0.1.0 bench",
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T01:00:00Z",
        "command_line": "cargo buildplan bench --runs 1",
        "machine": {
            "cpus": 2, "mem_total_mib": 1000, "mem_available_mib": 900,
            "host": "x86_64-unknown-linux-gnu", "rustc": "rustc 1.95.0", "cargo": "cargo 1.95.0",
            "linkers": {}, "memory_method": "test", "load_avg": [0.5, 0.7]
        },
        "setup": {
            "manifest": "/ws/Cargo.toml", "package": "app", "variant": "default", "runs": 1,
            "jobs": 2, "mem_per_job_mib": 1536, "leaf": ["app", "src/lib.rs"], "root": null,
            "workspace_units": ["app"]
        },
        "configs": [],
        "scenarios": [],
        "measurements": [],
        "goals": [],
        "notes": []
    });
    let json = dir.path().join("in.json");
    std::fs::write(&json, results.to_string()).unwrap();
    let md = dir.path().join("out.md");
    let out = bin()
        .args(["bench", "--from-json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .args(["--note", "regenerated"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let report = std::fs::read_to_string(&md).unwrap();
    assert!(report.contains("cargo buildplan bench --runs 1"));
    assert!(report.contains("- regenerated"));
    assert!(report.contains("<!-- broker-throughput:start -->"));

    std::fs::write(&json, "{\"format\": 1}").unwrap();
    let out = bin()
        .args(["bench", "--from-json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}
