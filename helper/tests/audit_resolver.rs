//! The feature audit's in-process resolution (guppy over one `cargo
//! metadata`) against cargo's own answer: `cargo tree -e normal,build
//! --target T` for every selection the audit makes on the `basic` fixture
//! (`dep:` and weak `?` features, a `cfg(unix)` dependency, build
//! dependencies, a proc-macro). The copy used here adds a Windows-only
//! dependency and gives the proc-macro a third-party dependency with other
//! features than the target's, so host and target copies differ.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use buildplan::audit::{options, resolve, selection, Resolution, Resolver, Selection};
use buildplan::plan::{compute, AuditMode};
use buildplan::workspace::Workspace;
use common::*;

/// `cargo tree`'s answer, read from `--prefix none -f '{p}|{f}'`: every
/// package outside the workspace with its feature sets.
fn cargo_tree(dir: &Path, target: &str, args: &[String]) -> Resolution {
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args(["tree", "-e", "normal,build", "--prefix", "none"])
        .args(["-f", "{p}|{f}", "--target", target])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut found = Resolution::new();
    for line in stdout(&out).lines() {
        // Blank lines separate the trees of several roots.
        let Some((package, features)) = line.trim_end_matches(" (*)").rsplit_once('|') else {
            continue;
        };
        if package.contains(" (/") {
            continue; // a workspace member: `name vX (/path)`
        }
        let mut words = package.split_whitespace();
        let name = words.next().unwrap().to_string();
        let version = words.next().unwrap().trim_start_matches('v').to_string();
        let mut features: Vec<String> = features
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        features.sort();
        found.entry((name, version)).or_default().insert(features);
    }
    found
}

#[test]
fn guppy_resolves_every_audit_selection_as_cargo_tree_does() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    edit(
        &dir.join("crates/macros/Cargo.toml"),
        "proc-macro = true\n",
        "proc-macro = true\n\n[dependencies]\nmemchr = { workspace = true, features = [\"std\"] }\n",
    );
    edit(
        &dir.join("crates/corelib/Cargo.toml"),
        "[build-dependencies]",
        "[target.'cfg(windows)'.dependencies]\ncfg-if = \"1\"\n\n[build-dependencies]",
    );
    let manifest = dir.join("Cargo.toml");
    let plan = compute(Some(&manifest), AuditMode::Skip).unwrap().plan;
    let (_, graph) = Workspace::load_graph(Some(&manifest), false).unwrap();

    let mut compared = BTreeSet::new();
    let mut host_and_target_differ = false;
    for target in ["all", "x86_64-unknown-linux-gnu", "x86_64-pc-windows-msvc"] {
        let opts = options(target, Resolver::V2).unwrap();
        for variant in plan.variants.values() {
            let alone: Vec<(Selection, &Vec<String>)> = variant
                .builds
                .iter()
                .map(|(root, b)| (selection(root, b), &b.alone_cargo_args))
                .collect();
            let mut cases: Vec<(Vec<&Selection>, &Vec<String>)> =
                alone.iter().map(|(s, args)| (vec![s], *args)).collect();
            cases.push((alone.iter().map(|(s, _)| s).collect(), &variant.cargo_args));
            for (roots, args) in cases {
                if !compared.insert((target, args.clone())) {
                    continue;
                }
                let ours = resolve(&graph, &roots, &opts).unwrap();
                let cargo = cargo_tree(&dir, target, args);
                assert_eq!(ours, cargo, "--target {target} {}", args.join(" "));
                host_and_target_differ |= ours.values().any(|sets| sets.len() > 1);
            }
        }
    }
    // The fixture exercises what it claims: several selections, a package
    // with host and target copies, a platform-specific dependency.
    assert!(compared.len() >= 15, "{compared:?}");
    assert!(host_and_target_differ);
    let only_on = |target: &str| {
        let opts = options(target, Resolver::V2).unwrap();
        let app = &plan.variants["default"];
        let roots: Vec<Selection> = app.builds.iter().map(|(r, b)| selection(r, b)).collect();
        let refs: Vec<&Selection> = roots.iter().collect();
        let found: BTreeMap<_, _> = resolve(&graph, &refs, &opts).unwrap();
        found
            .keys()
            .map(|(name, _)| name.clone())
            .collect::<BTreeSet<_>>()
    };
    assert!(only_on("x86_64-unknown-linux-gnu").contains("itoa"));
    assert!(!only_on("x86_64-pc-windows-msvc").contains("itoa"));
}

/// The one place guppy and `cargo tree` differ, found on iggy: a package
/// without a build script (`build = false`, as crates.io's packaging writes
/// when no build.rs ships) that declares build-dependencies. `cargo tree`
/// lists them; a build never compiles them, and guppy leaves them out. The
/// build's own JSON messages decide.
#[test]
fn build_dependencies_without_a_build_script_are_not_compiled() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    edit(
        &dir.join("crates/macros/Cargo.toml"),
        "publish = false\n",
        "publish = false\nbuild = false\n\n[build-dependencies]\ncfg-if = \"1\"\n",
    );
    let manifest = dir.join("Cargo.toml");
    let (_, graph) = Workspace::load_graph(Some(&manifest), false).unwrap();
    let macros = Selection {
        package: "macros".into(),
        all: false,
        default: true,
        features: BTreeSet::new(),
    };
    let target = "x86_64-unknown-linux-gnu";
    let ours = resolve(&graph, &[&macros], &options(target, Resolver::V2).unwrap()).unwrap();
    assert!(ours.is_empty(), "{ours:?}");
    let args = ["--package".to_string(), "macros".to_string()];
    let listed = cargo_tree(&dir, target, &args);
    assert!(
        listed.keys().any(|(name, _)| name == "cfg-if"),
        "{listed:?}"
    );
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args(["check", "--message-format", "json", "--target", target])
        .args(&args)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let messages = stdout(&out);
    assert!(messages.contains("\"compiler-artifact\""), "{messages}");
    assert!(!messages.contains("cfg-if"), "{messages}");
}
