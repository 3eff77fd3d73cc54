//! `cargo buildplan build --deps-cache DIR` end to end, on a workspace with
//! one crates.io dependency (`itoa`, offline from the local registry cache
//! into a private `CARGO_HOME`): the first build saves; after the target
//! directory is wiped, the second restores and cargo's JSON messages show
//! itoa fresh (not compiled); a corrupt entry is reported and ignored, and
//! the full build still makes the right binary. Also `rebase [--check]`.

mod common;
mod registry;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{describe as text, CARGO_NOISE};

fn helper(ws: &Path, home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
    cmd.args(args)
        .current_dir(ws)
        .env("CARGO_HOME", home)
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_TARGET_DIR", ws.join("target"));
    for var in CARGO_NOISE.iter().filter(|v| **v != "CARGO_TARGET_DIR") {
        cmd.env_remove(var);
    }
    cmd.output().unwrap()
}

fn itoa_fresh(out: &Output) -> bool {
    let units = common::artifacts(&out.stdout);
    let itoa: Vec<bool> = units
        .iter()
        .filter(|(n, _)| n == "itoa")
        .map(|(_, f)| *f)
        .collect();
    assert_eq!(itoa.len(), 1, "{units:?}\n{}", text(out));
    itoa[0]
}

/// The one saved rlib of itoa under the cache `dir`.
fn saved_itoa_rlib(dir: &Path) -> std::path::PathBuf {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libitoa-")
                && p.extension().is_some_and(|x| x == "rlib")
            {
                found.push(p);
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

fn run_app(ws: &Path) -> String {
    let out = Command::new(ws.join("target/debug/app")).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_saved_cache_is_restored_fresh_and_a_corrupt_one_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let main = "fn main() {\n    println!(\"{}\", itoa::Buffer::new().format(4242u16));\n}\n";
    let (ws, home, itoa) = registry::itoa_app(tmp.path(), main);
    let cache = tmp.path().join("cache");
    let plan = helper(&ws, &home, &["plan", "--no-audit"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    // `build app --profile dev --deps-cache DIR`, then `more`.
    let build_with = |dir: &Path, more: &[&str]| {
        let args = ["build", "app", "--profile", "dev", "--deps-cache"];
        let args = [&args[..], &[dir.to_str().unwrap()], more].concat();
        helper(&ws, &home, &args)
    };
    let build = || build_with(&cache, &["--", "--message-format=json"]);
    // First build: empty cache, itoa compiled, the target dir saved.
    let first = build();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(
        err.contains("deps cache: no saved dependency artifacts"),
        "{}",
        text(&first)
    );
    assert!(err.contains("deps cache: saved "), "{}", text(&first));
    assert!(!itoa_fresh(&first), "{}", text(&first));
    assert_eq!(run_app(&ws), "4242\n");

    // Wiped target: restored, itoa not compiled; nothing saved again.
    fs::remove_dir_all(ws.join("target")).unwrap();
    let second = build();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("deps cache: restored "), "{}", text(&second));
    assert!(!err.contains("deps cache: saved "), "{}", text(&second));
    assert!(itoa_fresh(&second), "{}", text(&second));
    assert_eq!(run_app(&ws), "4242\n");

    // A truncated rlib in the entry: reported as corrupt, ignored, and the
    // full build compiles itoa and makes the right binary.
    let rlib = saved_itoa_rlib(&cache);
    fs::write(&rlib, b"oops").unwrap();
    fs::remove_dir_all(ws.join("target")).unwrap();
    let third = build();
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    let err = String::from_utf8_lossy(&third.stderr);
    assert!(
        err.contains("is corrupt (")
            && err.contains("libitoa-")
            && err.contains("building from scratch"),
        "{}",
        text(&third)
    );
    assert!(!itoa_fresh(&third), "{}", text(&third));
    assert_eq!(run_app(&ws), "4242\n");

    // A base lock with another itoa: the entry is stale, named as such
    // (dry run: the lookup only).
    let lock = fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    fs::create_dir_all(ws.join("nix")).unwrap();
    fs::write(
        ws.join("nix/base.lock"),
        lock.replace(&format!("version = \"{itoa}\""), "version = \"0.0.1\""),
    )
    .unwrap();
    fs::remove_dir_all(ws.join("target")).unwrap();
    let stale = build_with(&cache, &["--dry-run"]);
    assert_eq!(stale.status.code(), Some(0), "{}", text(&stale));
    assert!(
        String::from_utf8_lossy(&stale.stderr).contains("stale (base lock differ)"),
        "{}",
        text(&stale)
    );

    // A file where the cache directory should be: bad input before any
    // build, the file untouched.
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, "x").unwrap();
    let bad = build_with(&file, &[]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a directory"),
        "{}",
        text(&bad)
    );
    assert!(!ws.join("target").exists(), "{}", text(&bad));
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
}

/// Writes (or updates) the workspace's Cargo.lock.
fn write_lock(ws: &Path, home: &Path) {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["generate-lockfile", "--offline"])
        .current_dir(ws)
        .env("CARGO_HOME", home)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn rebase_writes_the_base_lock_and_check_says_when_it_no_longer_fits() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let home = tmp.path().join("cargo-home");
    fs::create_dir_all(ws.join("src")).unwrap();
    fs::create_dir_all(ws.join("dep/src")).unwrap();
    fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\n\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\ndep = { path = \"dep\" }\n",
    )
    .unwrap();
    fs::write(ws.join("src/main.rs"), "fn main() {}\n").unwrap();
    fs::write(
        ws.join("dep/Cargo.toml"),
        "[package]\nname = \"dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs::write(ws.join("dep/src/lib.rs"), "").unwrap();
    let plan = helper(&ws, &home, &["plan", "--no-audit"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    let no_lock = helper(&ws, &home, &["rebase"]);
    assert_eq!(no_lock.status.code(), Some(2), "{}", text(&no_lock));
    assert!(!ws.join("nix/base.lock").exists());
    write_lock(&ws, &home);
    let missing = helper(&ws, &home, &["rebase", "--check"]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing"));

    let rebase = helper(&ws, &home, &["rebase"]);
    assert_eq!(rebase.status.code(), Some(0), "{}", text(&rebase));
    let lock = fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    assert_eq!(fs::read_to_string(ws.join("nix/base.lock")).unwrap(), lock);
    let fits = helper(&ws, &home, &["rebase", "--check"]);
    assert_eq!(fits.status.code(), Some(0), "{}", text(&fits));

    // app no longer depends on dep: the base lock does not fit.
    fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"dep\"]\n\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    write_lock(&ws, &home);
    let misfit = helper(&ws, &home, &["rebase", "--check"]);
    assert_eq!(misfit.status.code(), Some(1), "{}", text(&misfit));
    assert!(
        String::from_utf8_lossy(&misfit.stderr)
            .contains("member app: dependencies differ (added: none; removed: dep)"),
        "{}",
        text(&misfit)
    );

    // A base lock that is not TOML: bad input, exit 2, file untouched.
    fs::write(ws.join("nix/base.lock"), "[[package]\n").unwrap();
    let bad = helper(&ws, &home, &["rebase", "--check"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert_eq!(
        fs::read_to_string(ws.join("nix/base.lock")).unwrap(),
        "[[package]\n"
    );
}
