//! `cargo buildplan build --deps-cache DIR --members` with real cargo builds
//! of `tests/fixtures/members` (bottom <- middle <- top; `side` reads a file
//! outside its directory; `lone` has a build script without rerun-if
//! directives; `middle`'s build script reruns on a directory and a variable).
//!
//! Each case warms nothing itself: it starts from a fresh copy of the
//! workspace (every file with a new mtime, as a checkout gives) and a copy of
//! the cache warmed once from the pristine workspace, makes one change, and
//! builds. What compiled is read by `cargo buildplan why --fresh --json`
//! from the build's fingerprint log and JSON messages; the binary's output
//! shows the change arrived (no stale unit).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every unit of the fixture's build, as `package:target`.
const ALL: &[&str] = &[
    "bottom:bottom",
    "lone:build-script-build",
    "lone:lone",
    "middle:build-script-build",
    "middle:middle",
    "side:side",
    "top:top",
];

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Copies a tree with new mtimes (a checkout), without `target/`.
fn checkout(from: &Path, to: &Path) {
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
fn copy_cache(from: &Path, to: &Path) {
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

struct Lab {
    _tmp: tempfile::TempDir,
    /// The pristine workspace, with its plan.
    src: PathBuf,
    /// The cache warmed from `src`.
    warm: PathBuf,
    /// Where each case's checkout lives.
    ws: PathBuf,
    /// Each case's cache copy.
    cache: PathBuf,
    toolchain: &'static str,
}

/// One build's outcome: the helper's output, the units compiled.
struct Built {
    out: Output,
    compiled: BTreeSet<String>,
}

impl Built {
    fn compiled(&self) -> Vec<&str> {
        self.compiled.iter().map(String::as_str).collect()
    }
}

fn cmd(ws: &Path, toolchain: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
    cmd.current_dir(ws)
        .env("RUSTUP_TOOLCHAIN", toolchain)
        .env("CARGO_NET_OFFLINE", "true");
    for var in [
        "CARGO",
        "RUSTC",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_RUSTC_WRAPPER",
        "CARGO_INCREMENTAL",
        "MIDDLE_FLAVOR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

impl Lab {
    /// Plans the fixture and warms the cache with `toolchain`.
    fn new(toolchain: &'static str) -> Lab {
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
    fn case(&self, ws: &Path, edit: impl FnOnce(&Path)) {
        checkout(&self.src, ws);
        copy_cache(&self.warm, &self.cache);
        edit(ws);
    }

    /// `build top --deps-cache CACHE --members` in `ws`, explained by `why`.
    fn build_in(&self, ws: &Path, cache: &Path, env: &[(&str, &str)]) -> Built {
        let out = cmd(ws, self.toolchain)
            .args(["build", "top", "--deps-cache"])
            .arg(cache)
            .args(["--members", "--", "--message-format=json"])
            .env("CARGO_LOG", "cargo::core::compiler::fingerprint=info")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let compiled = from_messages(&out.stdout);
        if self.toolchain == WHY_READS {
            assert_eq!(self.why(ws, &out), compiled, "{}", text(&out));
        }
        Built { out, compiled }
    }

    /// What `why --fresh --json` says the build compiled (it must pass:
    /// no third-party unit compiled).
    fn why(&self, ws: &Path, out: &Output) -> BTreeSet<String> {
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

    fn build(&self, env: &[(&str, &str)]) -> Built {
        self.build_in(&self.ws, &self.cache, env)
    }

    /// The fixture binary's output line.
    fn run_top(&self, ws: &Path) -> String {
        let out = Command::new(ws.join("target/debug/top")).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// The toolchain whose fingerprint log `why` reads (cargo 1.100 logs its
/// fingerprint decisions elsewhere; there the JSON messages alone count).
const WHY_READS: &str = "1.95.0";

fn unit_name(u: &serde_json::Value) -> String {
    format!(
        "{}:{}",
        u["name"].as_str().unwrap(),
        u["target"].as_str().unwrap()
    )
}

/// The units compiled (not fresh) according to cargo's JSON messages.
fn from_messages(stdout: &[u8]) -> BTreeSet<String> {
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

fn stderr(b: &Built) -> String {
    String::from_utf8_lossy(&b.out.stderr).into_owned()
}

fn append(path: &Path, line: &str) {
    let mut s = fs::read_to_string(path).unwrap();
    s.push_str(line);
    fs::write(path, s).unwrap();
}

fn edits_at_the_same_path(toolchain: &'static str) {
    let lab = Lab::new(toolchain);
    let ws = lab.ws.clone();

    // No change: nothing compiles, nothing is saved again.
    lab.case(&ws, |_| {});
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), Vec::<&str>::new(), "{}", text(&b.out));
    assert!(stderr(&b).contains("unchanged source files given their recorded mtimes, 0 changed"));
    assert!(
        !stderr(&b).contains("deps cache: saved"),
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 2 plain 7 11:shared-one lone");

    // Same size, new content, and the old mtime back (a copy that keeps
    // times): still an edit.
    lab.case(&ws, |ws| {
        let util = ws.join("bottom/src/util.rs");
        let old = fs::metadata(lab.src.join("bottom/src/util.rs"))
            .unwrap()
            .modified()
            .unwrap();
        let before = fs::read_to_string(&util).unwrap();
        let after = before.replace("ONE: u32 = 1", "ONE: u32 = 2");
        assert_eq!(before.len(), after.len());
        fs::write(&util, after).unwrap();
        fs::File::options()
            .write(true)
            .open(&util)
            .unwrap()
            .set_modified(old)
            .unwrap();
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["bottom:bottom", "middle:middle", "side:side", "top:top"],
        "{}",
        text(&b.out)
    );
    assert!(stderr(&b).contains("deps cache: saved"), "{}", text(&b.out));
    assert_eq!(lab.run_top(&ws), "24 2 plain 7 12:shared-one lone");

    // A build script edit: the script is compiled and run again.
    lab.case(&ws, |ws| {
        let script = ws.join("middle/build.rs");
        let s = fs::read_to_string(&script)
            .unwrap()
            .replace("SCRIPT: u32 = 7", "SCRIPT: u32 = 8");
        fs::write(script, s).unwrap();
    });
    let b = lab.build(&[]);
    let middle_and_top = ["middle:build-script-build", "middle:middle", "top:top"];
    assert_eq!(b.compiled(), middle_and_top, "{}", text(&b.out));
    assert_eq!(lab.run_top(&ws), "22 2 plain 8 11:shared-one lone");

    // A rerun-if-env-changed variable: the script reruns (not recompiled).
    lab.case(&ws, |_| {});
    let b = lab.build(&[("MIDDLE_FLAVOR", "spicy")]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "top:top"],
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 2 spicy 7 11:shared-one lone");

    // A file added to a rerun-if-changed directory, and one removed.
    lab.case(&ws, |ws| {
        fs::write(ws.join("middle/assets/c.txt"), "c\n").unwrap()
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "top:top"],
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 3 plain 7 11:shared-one lone");
    lab.case(&ws, |ws| {
        fs::remove_file(ws.join("middle/assets/b.txt")).unwrap()
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "top:top"],
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 1 plain 7 11:shared-one lone");

    // A file added to a package whose build script names no inputs: cargo
    // reruns it (any package file), so lone compiles; a removed source file
    // that is still named fails the build instead of passing as fresh.
    lab.case(&ws, |ws| {
        fs::write(ws.join("lone/notes.txt"), "new\n").unwrap()
    });
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), ["lone:lone", "top:top"], "{}", text(&b.out));
    lab.case(&ws, |ws| {
        append(&ws.join("lone/README.md"), "More notes.\n")
    });
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), ["lone:lone", "top:top"], "{}", text(&b.out));
    lab.case(&ws, |ws| {
        fs::remove_file(ws.join("bottom/src/util.rs")).unwrap()
    });
    let gone = cmd(&ws, toolchain)
        .args(["build", "top", "--deps-cache"])
        .arg(&lab.cache)
        .arg("--members")
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(1), "{}", text(&gone));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(
        err.contains("1 gone") && err.contains("util.rs"),
        "{}",
        text(&gone)
    );
}

#[test]
fn unchanged_members_are_fresh_after_a_checkout_and_changed_ones_never() {
    edits_at_the_same_path("1.95.0");
}

/// cargo 1.100's build-directory layout keeps rustc's dep-info elsewhere.
#[test]
fn the_same_with_cargo_1_100s_layout() {
    let lab = Lab::new("1.100.0");
    let ws = lab.ws.clone();
    lab.case(&ws, |_| {});
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), Vec::<&str>::new(), "{}", text(&b.out));
    lab.case(&ws, |ws| {
        append(&ws.join("bottom/src/lib.rs"), "pub fn more() {}\n")
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["bottom:bottom", "middle:middle", "side:side", "top:top"],
        "{}",
        text(&b.out)
    );
    // Another toolchain: the entry is stale and everything compiles.
    let other = Lab {
        toolchain: "1.95.0",
        ..lab
    };
    other.case(&ws, |_| {});
    let b = other.build(&[]);
    assert!(
        stderr(&b).contains("stale (toolchain differ)"),
        "{}",
        text(&b.out)
    );
    assert_eq!(b.compiled(), ALL, "{}", text(&b.out));
}

/// At another path, with the warm checkout still in place: cargo records
/// `side`'s `../shared.txt` by absolute path, so side is held back (and
/// compiles) while the rest is fresh; an edit of shared.txt reaches the
/// binary.
#[test]
fn a_checkout_at_another_path() {
    let lab = Lab::new("1.95.0");
    let elsewhere = lab.ws.parent().unwrap().join("elsewhere/ws");
    // The warm checkout stays where it was built, untouched.
    lab.case(&elsewhere, |_| {});
    let b = lab.build_in(&elsewhere, &lab.cache, &[]);
    assert_eq!(b.compiled(), ["side:side", "top:top"], "{}", text(&b.out));
    assert!(
        stderr(&b).contains("left new: the checkout moved"),
        "{}",
        text(&b.out)
    );

    lab.case(&elsewhere, |ws| {
        fs::write(ws.join("shared.txt"), "shared-two\n").unwrap()
    });
    let b = lab.build_in(&elsewhere, &lab.cache, &[]);
    assert_eq!(b.compiled(), ["side:side", "top:top"], "{}", text(&b.out));
    assert_eq!(lab.run_top(&elsewhere), "22 2 plain 7 11:shared-two lone");

    lab.case(&elsewhere, |ws| {
        append(&ws.join("middle/src/lib.rs"), "pub fn more() {}\n")
    });
    let b = lab.build_in(&elsewhere, &lab.cache, &[]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "side:side", "top:top"],
        "{}",
        text(&b.out)
    );
}
