//! This repository's benchmark baseline (the `baseline` configuration of
//! its `[workspace.metadata.buildplan.bench]` policy) is the "before":
//! cargo's default release settings plus fat LTO, one codegen unit and full
//! debug info, whatever the measured workspace has tuned in its own
//! `[profile.release]`.
//!
//! The bench-smoke fixture tunes its release profile (opt-level 2, 16
//! codegen units); building it with the baseline's settings must still hand
//! rustc the baseline's flags.

use std::path::Path;

mod common;
use common::{copy_fixture, describe};

/// The `settings` of the `baseline` configuration in the repository's
/// bench policy.
fn baseline_settings() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let manifest = buildplan::manifest::RootManifest::read(&root).unwrap();
    let configs = buildplan_bench::policy::read(&manifest.policy, &root)
        .unwrap()
        .configs
        .expect("the repository's policy defines its bench configurations");
    let baseline = configs
        .into_iter()
        .find(|c| c.name == "baseline")
        .expect("a `baseline` configuration");
    assert_eq!(baseline.kind, "shipped");
    baseline.settings
}

/// The `rustc` line cargo prints (with `-v`) for crate `name`.
fn rustc_line<'a>(log: &'a str, name: &str) -> &'a str {
    let needle = format!("--crate-name {name} ");
    log.lines()
        .find(|l| l.contains("Running") && l.contains(&needle))
        .unwrap_or_else(|| panic!("no rustc line for {name} in:\n{log}"))
}

/// `cargo build --release -v` of smoke-app in `ws` with `--config` for
/// each of `settings`, into `target`; returns cargo's stderr.
fn release_build(ws: &Path, target: &Path, settings: &[String]) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args(["build", "--release", "-v", "--package", "smoke-app"]);
    for setting in settings {
        cmd.args(["--config", setting]);
    }
    let out = cmd
        .env("CARGO_TARGET_DIR", target)
        .current_dir(ws)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn baseline_settings_override_a_tuned_release_profile() {
    let (tmp, ws) = copy_fixture("bench-smoke", "ws");
    let manifest = std::fs::read_to_string(ws.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("opt-level = 2") && manifest.contains("codegen-units = 16"),
        "the fixture tunes its release profile, which is the point of this test"
    );

    // The fixture's tuned release profile, as a control.
    let log = release_build(&ws, &tmp.path().join("tuned"), &[]);
    let core = rustc_line(&log, "smoke_core");
    assert!(core.contains("-C opt-level=2"), "{core}");
    assert!(core.contains("-C codegen-units=16"), "{core}");

    let log = release_build(&ws, &tmp.path().join("baseline"), &baseline_settings());
    for name in ["smoke_core", "itoa", "smoke_app"] {
        let line = rustc_line(&log, name);
        assert!(line.contains("-C opt-level=3"), "{line}");
        assert!(line.contains("-C codegen-units=1"), "{line}");
        assert!(line.contains("-C debuginfo=2"), "{line}");
        assert!(!line.contains("-C strip="), "{line}");
    }
    // Fat LTO: the binary is linked with `-C lto`, its libraries carry bitcode.
    let app = log
        .lines()
        .find(|l| l.contains("--crate-name smoke_app ") && l.contains("--crate-type bin"))
        .unwrap_or_else(|| panic!("no rustc line for the smoke-app binary in:\n{log}"));
    let words: Vec<&str> = app.split_whitespace().collect();
    assert!(
        words.windows(2).any(|w| w == ["-C", "lto"]),
        "fat LTO is a bare `-C lto`: {app}"
    );
}
