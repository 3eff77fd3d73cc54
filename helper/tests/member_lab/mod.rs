//! The member-cache tests' harness: fresh checkouts of
//! `tests/fixtures/members`, a warmed cache, builds through the helper, and
//! the units each compiled.

#![allow(dead_code)] // shared by the tests of tests/member_cache.rs

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;

/// Every unit of the fixture's build, as `package:target`.
pub const ALL: &[&str] = &[
    "bottom:bottom",
    "lone:build-script-build",
    "lone:lone",
    "middle:build-script-build",
    "middle:middle",
    "side:side",
    "top:top",
];

pub use crate::common::describe as text;

/// Copies a tree with new mtimes (a checkout), without `target/`.
pub fn checkout(from: &Path, to: &Path) {
    if to.exists() {
        fs::remove_dir_all(to).unwrap();
    }
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let (s, d) = (e.path(), to.join(e.file_name()));
        if e.file_name() == "target" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            checkout(&s, &d);
        } else {
            fs::write(&d, fs::read(&s).unwrap()).unwrap();
        }
    }
}

/// Copies a cache with its mtimes.
pub fn copy_cache(from: &Path, to: &Path) {
    if to.exists() {
        fs::remove_dir_all(to).unwrap();
    }
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

pub struct Lab {
    pub _tmp: tempfile::TempDir,
    /// The pristine workspace, with its plan.
    pub src: PathBuf,
    /// The cache warmed from `src`.
    pub warm: PathBuf,
    /// Where each case's checkout lives.
    pub ws: PathBuf,
    /// Each case's cache copy.
    pub cache: PathBuf,
    pub toolchain: &'static str,
}

/// One build's outcome: the helper's output, the units compiled.
pub struct Built {
    pub out: Output,
    pub compiled: BTreeSet<String>,
}

impl Built {
    pub fn compiled(&self) -> Vec<&str> {
        self.compiled.iter().map(String::as_str).collect()
    }
}

pub fn cmd(ws: &Path, toolchain: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
    cmd.current_dir(ws)
        .env("RUSTUP_TOOLCHAIN", toolchain)
        .env("CARGO_NET_OFFLINE", "true");
    for var in common::CARGO_NOISE
        .iter()
        .chain(&["CARGO", "RUSTC", "MIDDLE_FLAVOR"])
    {
        cmd.env_remove(var);
    }
    cmd
}

impl Lab {
    /// Plans the fixture and warms the cache with `toolchain`.
    pub fn new(toolchain: &'static str) -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        checkout(&common::fixture_dir("members"), &src);
        let plan = cmd(&src, toolchain)
            .args(["plan", "--no-audit"])
            .output()
            .unwrap();
        assert!(plan.status.success(), "{}", text(&plan));
        let lab = Lab {
            ws: tmp.path().join("ws"),
            warm: tmp.path().join("warm"),
            cache: tmp.path().join("cache"),
            src,
            _tmp: tmp,
            toolchain,
        };
        checkout(&lab.src, &lab.ws);
        let first = lab.build_in(&lab.ws, &lab.warm, &[]);
        assert_eq!(first.compiled(), ALL, "{}", text(&first.out));
        let err = String::from_utf8_lossy(&first.out.stderr);
        assert!(err.contains("deps cache: saved "), "{}", text(&first.out));
        lab
    }

    /// A fresh checkout at `ws` and a copy of the warm cache; `edit` changes
    /// the checkout.
    pub fn case(&self, ws: &Path, edit: impl FnOnce(&Path)) {
        checkout(&self.src, ws);
        copy_cache(&self.warm, &self.cache);
        edit(ws);
    }

    /// `build top --deps-cache CACHE --members` in `ws`, explained by `why`.
    pub fn build_in(&self, ws: &Path, cache: &Path, env: &[(&str, &str)]) -> Built {
        let out = cmd(ws, self.toolchain)
            .args(["build", "top", "--deps-cache"])
            .arg(cache)
            .args(["--members", "--", "--message-format=json", "-v"])
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let compiled = from_messages(&out.stdout);
        assert_eq!(self.why(ws, &out), compiled, "{}", text(&out));
        Built { out, compiled }
    }

    /// What `why --fresh --json` says the build compiled (it must pass:
    /// no third-party unit compiled).
    pub fn why(&self, ws: &Path, out: &Output) -> BTreeSet<String> {
        let log = ws.join("target/build.log");
        let messages = ws.join("target/build.json");
        fs::write(&log, &out.stderr).unwrap();
        fs::write(&messages, &out.stdout).unwrap();
        let why = cmd(ws, self.toolchain)
            .args(["why", "--fresh", "--json", "--log"])
            .arg(&log)
            .arg("--messages")
            .arg(&messages)
            .output()
            .unwrap();
        assert!(why.status.success(), "{}", text(&why));
        let report: serde_json::Value = serde_json::from_slice(&why.stdout).unwrap();
        report["compiled"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| unit_name(&e["unit"]))
            .collect()
    }

    pub fn build(&self, env: &[(&str, &str)]) -> Built {
        self.build_in(&self.ws, &self.cache, env)
    }

    /// A case at `ws` ([`Lab::case`]) built with `env`, asserting the units
    /// that compiled.
    pub fn expect(
        &self,
        ws: &Path,
        edit: impl FnOnce(&Path),
        env: &[(&str, &str)],
        compiled: &[&str],
    ) -> Built {
        self.case(ws, edit);
        let b = self.build_in(ws, &self.cache, env);
        assert_eq!(b.compiled(), compiled, "{}", text(&b.out));
        b
    }

    /// The fixture binary's output line.
    pub fn run_top(&self, ws: &Path) -> String {
        let out = Command::new(ws.join("target/debug/top")).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

pub fn unit_name(u: &serde_json::Value) -> String {
    format!(
        "{}:{}",
        u["name"].as_str().unwrap(),
        u["target"].as_str().unwrap()
    )
}

/// The units compiled (not fresh) according to cargo's JSON messages.
pub fn from_messages(stdout: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] == false)
        .map(|m| {
            let id = m["package_id"].as_str().unwrap();
            // `path+file:///…/bottom#0.1.0` or `…#name@0.1.0`.
            let frag = id.rsplit_once('#').unwrap().1;
            let name = match frag.split_once('@') {
                Some((n, _)) => n.to_string(),
                None => id
                    .rsplit_once('#')
                    .unwrap()
                    .0
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
            };
            unit_name(&serde_json::json!({"name": name, "target": m["target"]["name"]}))
        })
        .collect()
}

pub fn stderr(b: &Built) -> String {
    String::from_utf8_lossy(&b.out.stderr).into_owned()
}

pub fn append(path: &Path, line: &str) {
    let mut s = fs::read_to_string(path).unwrap();
    s.push_str(line);
    fs::write(path, s).unwrap();
}
