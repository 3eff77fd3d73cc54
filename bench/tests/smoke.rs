//! Smoke tests of `cargo buildplan bench` runs that build nothing, on the
//! tiny fixture workspace (`tests/fixtures/bench-smoke`): bad arguments, a
//! report regenerated from JSON, a configuration refused for its memory
//! estimate.
//!
//! The fixture is copied to a temporary directory first, so the
//! repository's tree is never written to.

mod common;
use common::{bin, describe, planned_bench_fixture};

#[test]
fn bad_arguments_exit_2_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    for (args, message) in [
        (&["--scenarios", "touch"][..], "unknown scenario `touch`"),
        (
            &["--configs", "turbo"][..],
            "unknown configuration `turbo`; known: tuned, shipped",
        ),
        (&["--against", "old"][..], "unknown configuration `old`"),
        (
            &["--define", "x=fast:release"][..],
            "--define `x=fast:release`",
        ),
        (
            &["--skip", "turbo:link"][..],
            "unknown configuration `turbo`",
        ),
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
        .args(["--from-json"])
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
    let out = bin().args(["--from-json"]).arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn a_configuration_that_cannot_fit_in_memory_is_refused_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    // A policy that says every job needs about a thousand terabytes: the
    // estimate of every profile exceeds this machine's memory.
    let manifest = ws.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "[workspace.metadata.buildplan]\n",
        "[workspace.metadata.buildplan]\nmem-per-job-mib = 1000000000\n",
    );
    std::fs::write(&manifest, text).unwrap();
    let out = bin()
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--runs", "1", "--scenarios", "noop"])
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bench: tuned: memory: profile `buildplan-ci`"),
        "the estimate is printed first: {stderr}"
    );
    assert!(stderr.contains("refusing"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(
        !dir.path().join("work/targets").exists(),
        "nothing was built"
    );
}
