//! Smoke tests of `cargo buildplan bench` under a bench policy of the
//! fixture's own (`tests/fixtures/bench-smoke`): its configurations and
//! goals, and a bad policy naming the key. One run per cell; no speed is
//! asserted. The fixture is copied to a temporary directory first.

mod common;
use common::{bin, describe, planned_bench_fixture};

use buildplan_bench::report::Results;

/// The bench-smoke fixture with a bench policy of its own.
const POLICY: &str = r#"
[workspace.metadata.buildplan.bench]
package = "smoke-core"
variant = "default"

[[workspace.metadata.buildplan.bench.configs]]
name = "as-is"
kind = "shipped"
profile = "dev"

[[workspace.metadata.buildplan.bench.configs]]
name = "fast"
kind = "planned"
profile = "release-fast"
linker = "default"

[[workspace.metadata.buildplan.bench.goals]]
id = "noop-fast"
scenario = "noop"
metric = "wall-time"
config = "fast"
against = "as-is"
limit = 100.0

[[workspace.metadata.buildplan.bench.goals]]
id = "noop-memory"
scenario = "noop"
metric = "peak-memory"
config = ["fast", "as-is"]
limit = 100000
"#;

#[test]
fn a_policy_defines_its_own_configurations_and_goals() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    let manifest = ws.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(POLICY);
    std::fs::write(&manifest, text).unwrap();
    let json = dir.path().join("results.json");
    let out = bin()
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--runs", "1", "--scenarios", "noop", "--json"])
        .arg(&json)
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let results: Results = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(results.setup.package, "smoke-core", "the policy's package");
    let configs: Vec<(&str, &str, bool)> = results
        .configs
        .iter()
        .map(|c| (c.name.as_str(), c.profile.as_str(), c.planned))
        .collect();
    assert_eq!(
        configs,
        [("as-is", "dev", false), ("fast", "release-fast", true)]
    );
    assert!(!results.configs[0].command.contains("--config"));
    let ids: Vec<&str> = results.goals.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["noop-fast", "noop-memory"]);
    for g in &results.goals {
        assert!(g.figure.is_some(), "{g:?}");
    }
    assert!(
        results.goals[0].detail.contains("fast") && results.goals[0].detail.contains("/ as-is")
    );
    assert_eq!(results.goals[1].unit, "MiB");
    assert_eq!(
        results.setup.against, None,
        "the policy's goals name their own"
    );

    // --define adds a configuration; an unknown name lists the known ones.
    let out = bin()
        .arg("--manifest-path")
        .arg(&manifest)
        .args([
            "--runs",
            "1",
            "--configs",
            "turbo",
            "--define",
            "extra=planned:dev",
        ])
        .arg("--work-dir")
        .arg(dir.path().join("work"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown configuration `turbo`; known: as-is, fast, extra"),
        "{stderr}"
    );
}

#[test]
fn a_bad_bench_policy_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let ws = planned_bench_fixture(dir.path());
    let manifest = ws.join("Cargo.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    for (from, to, key) in [
        (
            "config = \"fast\"",
            "config = \"turbo\"",
            "workspace.metadata.buildplan.bench.goals[0].config",
        ),
        (
            "metric = \"peak-memory\"",
            "metric = \"speed\"",
            "workspace.metadata.buildplan.bench.goals[1].metric",
        ),
        (
            "kind = \"shipped\"",
            "kind = \"as-shipped\"",
            "workspace.metadata.buildplan.bench.configs[0].kind",
        ),
    ] {
        assert!(POLICY.contains(from));
        std::fs::write(
            &manifest,
            format!("{original}{}", POLICY.replacen(from, to, 1)),
        )
        .unwrap();
        let out = bin()
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--runs", "1"])
            .arg("--work-dir")
            .arg(dir.path().join("work"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}: {}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
        assert!(stderr.contains("Cargo.toml"), "{key}: {stderr}");
    }
    assert!(
        !dir.path().join("work/targets").exists(),
        "nothing was built"
    );
}
