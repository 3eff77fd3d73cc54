//! Unified builds on real cargo: a variant's roots need one third-party
//! crate with different features (a real split). Built each alone (as
//! shipped) the crate is compiled twice; built as the plan's unified builds
//! it is compiled once and the second root's build compiles no third-party
//! crate at all. Proven from cargo's JSON messages (`buildplan::compiles`),
//! and through `audit --compiles`, whose exit code is the finding.
//!
//! The fixture (written at test time) has two binary members, `app` and
//! `tool`. `app` takes `memchr` without default features, `tool` with
//! `alloc`. `memchr` comes from the local registry cache (the version the
//! repository's Cargo.lock pins) through a private `CARGO_HOME`; every
//! cargo run is offline. `cargo check` keeps it cheap: check compiles each
//! feature set separately, like build.

mod common;
mod registry;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use buildplan::compiles;
use common::CARGO_NOISE;
use registry::{locked_versions, private_cargo_home};

struct Fixture {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    home: PathBuf,
    scratch: PathBuf,
}

impl Fixture {
    /// The workspace; `policy` is appended to the root manifest.
    fn new(policy: &str) -> Fixture {
        let memchr = locked_versions("memchr")
            .pop()
            .expect("memchr in Cargo.lock");
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let home = tmp.path().join("cargo-home");
        private_cargo_home(&home, &[("memchr", memchr.as_str())]);
        let write = |rel: &str, text: &str| {
            let p = ws.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        write(
            "Cargo.toml",
            &format!(
                "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"3\"\n\n\
                 [workspace.metadata.buildplan]\ntargets = {{}}\n{policy}"
            ),
        );
        write(
            "app/Cargo.toml",
            &format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nmemchr = {{ version = \"={memchr}\", default-features = false }}\n\n\
                 [features]\ndefault = [\"fast\"]\nfast = []\nstd = [\"memchr/std\"]\n"
            ),
        );
        write(
            "app/src/main.rs",
            "fn main() {\n    println!(\"{:?}\", memchr::memchr(b'a', b\"xa\"));\n}\n",
        );
        write(
            "tool/Cargo.toml",
            &format!(
                "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nmemchr = {{ version = \"={memchr}\", default-features = false, \
                 features = [\"alloc\"] }}\n\n[features]\ndefault = [\"loud\"]\nloud = []\n"
            ),
        );
        write(
            "tool/src/main.rs",
            "fn main() {\n    println!(\"{:?}\", memchr::memrchr(b'a', b\"ax\"));\n}\n",
        );
        let fixture = Fixture {
            scratch: tmp.path().join("scratch"),
            _tmp: tmp,
            ws,
            home,
        };
        let out = fixture.cargo(&["generate-lockfile", "--offline"]);
        assert!(out.status.success(), "{}", text(&out));
        fixture
    }

    fn env(&self, cmd: &mut Command) {
        cmd.current_dir(&self.ws)
            .env("CARGO_HOME", &self.home)
            .env("CARGO_NET_OFFLINE", "true");
        for var in CARGO_NOISE {
            cmd.env_remove(var);
        }
    }

    fn cargo(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args);
        self.env(&mut cmd);
        cmd.output().unwrap()
    }

    fn helper(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
        cmd.args(args);
        self.env(&mut cmd);
        cmd.output().unwrap()
    }

    /// The plan, written by `plan` to the fixture's nix/plan.json.
    fn plan(&self) -> serde_json::Value {
        let out = self.helper(&["plan"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_str(&fs::read_to_string(self.ws.join("nix/plan.json")).unwrap()).unwrap()
    }

    /// `cargo check --message-format json` of each argument list in order,
    /// into one target directory; the concatenated stdout.
    fn checks(&self, dir: &str, lists: &[Vec<String>]) -> String {
        let target = self.scratch.join(dir).display().to_string();
        let mut all = String::new();
        for list in lists {
            let mut args = vec!["check", "--locked", "--message-format", "json"];
            args.extend(["--target-dir", target.as_str()]);
            args.extend(list.iter().map(String::as_str));
            let out = self.cargo(&args);
            assert!(out.status.success(), "{args:?}: {}", text(&out));
            all.push_str(&String::from_utf8(out.stdout).unwrap());
        }
        all
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The features each workspace member's bin unit was compiled with.
fn member_features(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let msg: serde_json::Value = serde_json::from_str(line).unwrap();
        if msg["reason"] == "compiler-artifact"
            && msg["package_id"].as_str().unwrap().starts_with("path+")
        {
            let mut f = strings(&msg["features"]);
            f.sort();
            out.push((msg["target"]["name"].as_str().unwrap().to_string(), f));
        }
    }
    out.sort();
    out
}

#[test]
fn unified_builds_compile_the_split_crate_once() {
    let fx = Fixture::new("");
    let plan = fx.plan();
    let variant = &plan["variants"]["default"];
    assert_eq!(variant["unified"], true, "{variant:#}");
    assert_eq!(
        strings(&variant["cargo_args"]),
        ["--package", "app", "--package", "tool"]
    );
    // The audit still finds the split, and says the plan resolves it.
    let splits = variant["feature_splits"].as_array().unwrap();
    assert!(
        splits.iter().any(|s| s["package"] == "memchr"),
        "{splits:?}"
    );
    let roots = ["app", "tool"];
    let alone: Vec<Vec<String>> = roots
        .iter()
        .map(|r| strings(&variant["builds"][r]["alone_cargo_args"]))
        .collect();
    let planned: Vec<Vec<String>> = roots
        .iter()
        .map(|r| strings(&variant["builds"][r]["cargo_args"]))
        .collect();
    assert_eq!(
        planned[1],
        ["--package", "app", "--package", "tool", "--bin", "tool"]
    );

    // As shipped: memchr twice, with different features.
    let shipped = compiles::third_party(&fx.checks("shipped", &alone)).unwrap();
    let memchr = shipped.values().find(|p| p.name == "memchr").unwrap();
    let sets: Vec<&Vec<String>> = memchr.compiled().map(|c| &c.features).collect();
    assert_eq!(sets.len(), 2, "{memchr:?}");
    assert_ne!(sets[0], sets[1]);
    let dups = compiles::duplicates(&shipped);
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0].name, "memchr");

    // The plan's unified builds: once, and the second build is all fresh.
    let unified_json = fx.checks("unified", &planned);
    let unified = compiles::third_party(&unified_json).unwrap();
    let memchr = unified.values().find(|p| p.name == "memchr").unwrap();
    let compiled: Vec<_> = memchr.compiled().collect();
    assert_eq!(compiled.len(), 1, "{memchr:?}");
    assert_eq!(compiled[0].invocation, 0);
    assert_eq!(compiled[0].features, ["alloc"]);
    assert!(compiles::duplicates(&unified).is_empty());
    assert_eq!(
        compiles::compiled_in(&unified, 1),
        0,
        "second root: all fresh"
    );
    assert!(
        memchr.compiles.iter().any(|c| c.invocation == 1 && c.fresh),
        "the second build reused memchr: {memchr:?}"
    );
    // Each build compiled its own root's binary only, with its defaults.
    assert_eq!(
        member_features(&unified_json),
        [
            (
                "app".to_string(),
                vec!["default".to_string(), "fast".into()]
            ),
            (
                "tool".to_string(),
                vec!["default".to_string(), "loud".into()]
            ),
        ]
    );

    // The same through the command: 0 for the plan, 1 as shipped.
    let out = fx.helper(&["audit", "--compiles", "--variant", "default"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("different features: 0"), "{stdout}");
    assert!(
        stdout.contains("0 third-party unit(s) compiled (all fresh)"),
        "{stdout}"
    );
    let out = fx.helper(&[
        "audit",
        "--compiles",
        "--variant",
        "default",
        "--as-shipped",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("different features: 1"), "{stdout}");
    assert!(stdout.contains("memchr@"), "{stdout}");
    // The feature audit says the split is resolved and passes.
    let out = fx.helper(&["audit", "--variant", "default"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("resolved: the plan builds"));
    // Nothing in the workspace changed but the plan file.
    assert!(!fx.ws.join("target").exists());
}

#[test]
fn a_mixed_selection_gives_each_root_its_own_features() {
    let fx = Fixture::new(
        "default-variant = \"mixed\"\n\
         [workspace.metadata.buildplan.variants.mixed]\n\
         features.app = { default-features = false, features = [\"std\"] }\n",
    );
    let plan = fx.plan();
    let variant = &plan["variants"]["mixed"];
    assert_eq!(
        strings(&variant["cargo_args"]),
        [
            "--package",
            "app",
            "--package",
            "tool",
            "--no-default-features",
            "--features",
            "app/std,tool/default"
        ]
    );
    let roots = ["app", "tool"];
    let list = |key: &str| -> Vec<Vec<String>> {
        roots
            .iter()
            .map(|r| strings(&variant["builds"][r][key]))
            .collect()
    };
    let alone = member_features(&fx.checks("alone", &list("alone_cargo_args")));
    let unified_json = fx.checks("unified", &list("cargo_args"));
    let unified = member_features(&unified_json);
    assert_eq!(
        alone,
        [
            ("app".to_string(), vec!["std".to_string()]),
            (
                "tool".to_string(),
                vec!["default".to_string(), "loud".into()]
            ),
        ]
    );
    assert_eq!(unified, alone, "each root gets what it gets alone");
    let c = compiles::third_party(&unified_json).unwrap();
    assert!(compiles::duplicates(&c).is_empty());
    let memchr = c.values().find(|p| p.name == "memchr").unwrap();
    assert_eq!(memchr.compiled().count(), 1);
    // app asks for memchr/std, tool for alloc: the union, once.
    assert_eq!(memchr.compiles[0].features, ["alloc", "std"]);
}

#[test]
fn with_unification_off_the_duplicate_is_reported() {
    let fx = Fixture::new("unify-features = false\n");
    let plan = fx.plan();
    let variant = &plan["variants"]["default"];
    assert_eq!(variant["unified"], false);
    assert!(variant["unify_note"]
        .as_str()
        .unwrap()
        .contains("unify-features = false"));
    let out = fx.helper(&["audit", "--compiles", "--variant", "default"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("different features: 1"), "{stdout}");
    assert!(stdout.contains("NOT resolved"), "{stdout}");
    let out = fx.helper(&["audit", "--variant", "default"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unify-features = true"));
}

#[test]
fn build_selects_the_unified_build_unless_alone() {
    let fx = Fixture::new("");
    fx.plan();
    let line = |args: &[&str]| {
        let out = fx.helper(args);
        assert!(out.status.success(), "{}", text(&out));
        (
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Default: every root's features, only this package's binary.
    let (unified, err) = line(&["build", "tool", "--profile", "dev", "--dry-run"]);
    assert!(
        unified.contains("--package app --package tool --bin tool"),
        "{unified}"
    );
    assert!(err.contains("unified build of 2 roots"), "{err}");
    // --alone: the package by itself, as a build without the plan.
    let (alone, err) = line(&["build", "tool", "--profile", "dev", "--dry-run", "--alone"]);
    assert!(alone.contains("--package tool"), "{alone}");
    assert!(!alone.contains("--package app"), "{alone}");
    assert!(!alone.contains("--bin"), "{alone}");
    assert!(
        err.contains("--alone: this package's own features only"),
        "{err}"
    );
}
