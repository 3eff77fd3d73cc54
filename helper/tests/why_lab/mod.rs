//! The `why` tests' fixture: real cargo builds of a small workspace.
//!
//! The fixture (written at test time) has two members, `app` (a binary)
//! and `util` (a library), and two real crates.io packages, `itoa` and
//! `cpufeatures`, taken from the local registry cache into a private
//! `CARGO_HOME` so the builds run `--offline` and never touch the user's
//! cargo home. The versions are the ones the repository's own Cargo.lock
//! pins (its `cargo fetch` puts them in the cache).

#![allow(dead_code)] // shared by tests/why.rs and tests/why_more.rs

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{self, CARGO_NOISE};
use crate::registry::{locked_versions, private_cargo_home};

use buildplan::why::{self, Run, RunOptions};

pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub ws: PathBuf,
    pub home: PathBuf,
    pub target: PathBuf,
    pub itoa: String,
    pub cpufeatures: Vec<String>,
    /// A rustup toolchain to build with (`cargo +<toolchain>`) instead of
    /// `$CARGO`.
    pub toolchain: Option<String>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let itoa = locked_versions("itoa").pop().expect("itoa in Cargo.lock");
        let cpufeatures = locked_versions("cpufeatures");
        assert!(
            cpufeatures.len() >= 2,
            "two cpufeatures versions in Cargo.lock: {cpufeatures:?}"
        );
        let libc = locked_versions("libc").pop().expect("libc in Cargo.lock");
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let home = tmp.path().join("cargo-home");
        let mut crates = vec![("itoa", itoa.as_str()), ("libc", libc.as_str())];
        crates.extend(cpufeatures.iter().map(|v| ("cpufeatures", v.as_str())));
        private_cargo_home(&home, &crates);
        let write = |rel: &str, text: &str| common::write(&ws, rel, text);
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"util\"]\nresolver = \"3\"\n",
        );
        write(
            "app/Cargo.toml",
            &format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nutil = {{ path = \"../util\" }}\nitoa = \"={itoa}\"\n\
                 cpufeatures = \"={}\"\n\n[features]\nfancy = []\n",
                cpufeatures[0]
            ),
        );
        write(
            "app/src/main.rs",
            "fn main() {\n    let mut b = itoa::Buffer::new();\n    \
             println!(\"{} {}\", b.format(util::value()), cfg!(feature = \"fancy\"));\n}\n",
        );
        write(
            "util/Cargo.toml",
            "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nextra = []\n",
        );
        write("util/src/lib.rs", "pub fn value() -> u32 {\n    1\n}\n");
        let target = ws.join("target");
        Fixture {
            _tmp: tmp,
            ws,
            home,
            target,
            itoa,
            cpufeatures,
            toolchain: None,
        }
    }

    /// `cargo build --offline` through `why::run`, with `args` and `env`.
    pub fn build(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<String> = self.toolchain.iter().map(|t| format!("+{t}")).collect();
        all.extend(["build".to_string(), "--offline".into()]);
        all.extend([
            "--target-dir".to_string(),
            self.target.display().to_string(),
        ]);
        all.extend(args.iter().map(|a| a.to_string()));
        let mut vars = vec![("CARGO_HOME".to_string(), self.home.display().to_string())];
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let run = why::run(&RunOptions {
            cargo: self.toolchain.as_ref().map(|_| "cargo".into()),
            dir: self.ws.clone(),
            args: all,
            env: vars,
            env_remove: CARGO_NOISE
                .iter()
                .chain(&["CARGO_PROFILE_DEV_OPT_LEVEL"])
                .map(|v| v.to_string())
                .collect(),
            ..RunOptions::default()
        })
        .expect("why::run");
        assert!(run.success(), "cargo failed:\n{}", run.stderr);
        assert_eq!(run.report.log_error, None, "stderr:\n{}", run.stderr);
        assert_eq!(run.record_error, None);
        run
    }

    pub fn write(&self, rel: &str, text: &str) {
        fs::write(self.ws.join(rel), text).unwrap();
    }
}

/// The reason of the compiled unit of package `name`.
pub fn reason<'a>(run: &'a Run, name: &str) -> &'a why::Explained {
    let found: Vec<_> = run
        .report
        .compiled
        .iter()
        .filter(|e| e.unit.name == name)
        .collect();
    assert_eq!(found.len(), 1, "{name} compiled once in:\n{}", run.report);
    found[0]
}

/// The reason of the compiled unit of package `name`, target `target`.
pub fn reason_of<'a>(run: &'a Run, name: &str, target: &str) -> &'a why::Explained {
    run.report
        .compiled
        .iter()
        .find(|e| e.unit.name == name && e.unit.target == target)
        .unwrap_or_else(|| panic!("{name} {target} compiled in:\n{}", run.report))
}

/// `app` compiled because its dependency `dep` was rebuilt.
pub fn app_follows(run: &Run, dep: &str) {
    let expected = why::Reason::DependencyChanged {
        names: vec![dep.into()],
    };
    assert_eq!(reason(run, "app").reason, expected, "{}", run.report);
}

/// The reason of package `name`'s compiled unit is in `category`.
pub fn assert_group(run: &Run, name: &str, category: why::Category) {
    let found = reason(run, name).category;
    assert_eq!(found, category, "{name}:\n{}", run.report);
}

/// Every file under `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(files_under(&p));
        } else {
            files.push(p);
        }
    }
    files
}

pub fn compiled_names(run: &Run) -> Vec<&str> {
    let mut names: Vec<&str> = run
        .report
        .compiled
        .iter()
        .map(|e| e.unit.name.as_str())
        .collect();
    names.sort();
    names
}

/// Whether rustup has `toolchain`; a missing one skips a test with a
/// message, except under CI=true, where it fails.
pub fn toolchain_or_skip(toolchain: &str) -> bool {
    let ok = std::process::Command::new("cargo")
        .args([&format!("+{toolchain}"), "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let message = format!("toolchain {toolchain} is not installed (rustup toolchain install {toolchain} --profile minimal)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
    }
    ok
}
