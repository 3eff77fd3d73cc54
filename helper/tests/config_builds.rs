//! Issue 10 item 1 against real cargo: in each config fixture, a build
//! through `cargo buildplan build` gives every crate of the fixture the
//! same rustc arguments as a plain `cargo build` of the same profile,
//! apart from what the plan adds (its linker and target flags). The
//! fixtures keep their profiles, rustflags and jobs in `.cargo/config.toml`
//! (and, for `config-parent`, in a parent directory and `$CARGO_HOME`),
//! which the helper must neither restate nor replace.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment both builds share: a private cargo home, nothing that
/// sets rustflags or profiles from outside.
fn clean(cmd: &mut Command, home: &Path) {
    cmd.env("CARGO_HOME", home).env("CARGO_TERM_COLOR", "never");
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_PROFILE_")
            || k.starts_with("CARGO_TARGET_")
            || k.starts_with("CARGO_BUILD_")
            || k.contains("RUSTFLAGS")
            || k == "RUSTC_WRAPPER"
        {
            cmd.env_remove(k);
        }
    }
}

/// Flags the plan adds to a target (never the workspace's own).
fn added_by_plan(flag: &str) -> bool {
    [
        "linker-features=",
        "link-arg=-fuse-ld=",
        "link-arg=--target=",
        "target-cpu=",
        "target-feature=+crt-static",
    ]
    .iter()
    .any(|p| flag.starts_with(p))
}

/// `word` with every `-<16 hex digits>` or `/<16 hex digits>` (cargo's
/// unit hashes in file names, and in the unit directories of the
/// `build/<package>/<hash>/` layout) replaced by `-HASH` or `/HASH`.
fn without_hashes(word: &str) -> String {
    let b = word.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b.len() >= i + 17
            && (b[i] == b'-' || (b[i] == b'/' && b.get(i + 17).is_none_or(|c| *c == b'/')))
            && b[i + 1..i + 17].iter().all(|c| c.is_ascii_hexdigit());
        if hex {
            out.push(b[i] as char);
            out.push_str("HASH");
            i += 17;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// rustc's arguments per unit (`crate-name crate-type`), from `-v`
/// output, with the target directory, hashes and (when `strip_plan`) the
/// plan's own flags taken out.
fn rustc_args(stderr: &str, target: &Path, strip_plan: bool) -> BTreeMap<String, Vec<String>> {
    let target = target.display().to_string();
    let mut units = BTreeMap::new();
    for line in stderr.lines() {
        let Some(start) = line.find("Running `") else {
            continue;
        };
        let cmd = line[start + 9..].trim_end_matches('`');
        if !cmd.contains(" --crate-name ") {
            continue;
        }
        let words: Vec<String> = cmd
            .split_whitespace()
            .skip(1)
            .map(|w| without_hashes(&w.replace(&target, "TARGET")))
            .collect();
        let mut args = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            let next = words.get(i + 1).cloned().unwrap_or_default();
            if w == "-C"
                && (next.starts_with("metadata=")
                    || next.starts_with("extra-filename=")
                    || (strip_plan && added_by_plan(&next)))
            {
                i += 2;
                continue;
            }
            if w == "--extern" {
                args.push(format!("--extern {}", next.split('=').next().unwrap()));
                i += 2;
                continue;
            }
            args.push(w.clone());
            i += 1;
        }
        let name = words[words.iter().position(|w| w == "--crate-name").unwrap() + 1].clone();
        let kind = words
            .iter()
            .position(|w| w == "--crate-type")
            .map(|p| words[p + 1].clone())
            .unwrap_or_default();
        units.insert(format!("{name} {kind}"), args);
    }
    units
}

fn compare(fixture: &str, package: &str, profile: &str) {
    let src = common::fixture_dir(fixture);
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let home = tmp.path().join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    if src.join("ws").is_dir() {
        common::copy_tree(&src.join("ws"), &ws);
        std::fs::create_dir_all(tmp.path().join(".cargo")).unwrap();
        std::fs::copy(
            src.join("parent.toml"),
            tmp.path().join(".cargo/config.toml"),
        )
        .unwrap();
        std::fs::copy(src.join("home.toml"), home.join("config.toml")).unwrap();
    } else {
        common::copy_tree(&src, &ws);
    }
    let helper = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
        cmd.current_dir(&ws);
        clean(&mut cmd, &home);
        cmd
    };
    let plan = helper().args(["plan", "--no-audit"]).output().unwrap();
    assert!(
        plan.status.success(),
        "{fixture}: {}",
        common::describe(&plan)
    );

    let plain_dir: PathBuf = tmp.path().join("plain");
    let mut plain = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    plain
        .current_dir(&ws)
        .args(["build", "-v", "--offline", "--profile", profile]);
    plain.arg("--target-dir").arg(&plain_dir);
    clean(&mut plain, &home);
    let plain = plain.output().unwrap();
    assert!(
        plain.status.success(),
        "{fixture}: {}",
        common::describe(&plain)
    );

    let planned_dir = tmp.path().join("planned");
    let planned = helper()
        .args([
            "build",
            package,
            "--profile",
            profile,
            "--no-reproducible",
            "--",
        ])
        .args(["-v", "--offline", "--target-dir"])
        .arg(&planned_dir)
        .output()
        .unwrap();
    assert!(
        planned.status.success(),
        "{fixture}: {}",
        common::describe(&planned)
    );

    let want = rustc_args(&String::from_utf8_lossy(&plain.stderr), &plain_dir, false);
    let got = rustc_args(
        &String::from_utf8_lossy(&planned.stderr),
        &planned_dir,
        true,
    );
    assert!(
        !want.is_empty(),
        "{fixture}: no rustc line in {}",
        common::describe(&plain)
    );
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{fixture}: units differ"
    );
    for (unit, args) in &want {
        assert_eq!(
            args,
            &got[unit],
            "{fixture}: {unit}\nplanned:\n{}",
            common::describe(&planned)
        );
    }
}

#[test]
fn profiles_only_in_config() {
    compare("config-only", "cfgonly", "release");
    compare("config-only", "cfgonly", "release-fast");
}

#[test]
fn manifest_and_config_disagree() {
    compare("config-disagree", "disagree", "release");
    compare("config-disagree", "disagree", "dev");
}

#[test]
fn config_in_a_parent_directory_and_cargo_home() {
    compare("config-parent", "parentcfg", "release");
}

#[test]
fn custom_profile_only_in_config() {
    compare("config-custom", "custom", "ci");
}

#[test]
fn target_rustflags_in_config() {
    compare("config-rustflags", "flags", "dev");
    compare("config-rustflags", "flags", "release");
}
