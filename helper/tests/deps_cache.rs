//! `deps_cache` with real cargo: a target directory saved and restored into
//! another (empty) target directory is one cargo reuses, unit for unit; a
//! corrupt entry is never restored.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use buildplan::deps_cache::{self, CacheKey, DepsCache, LockIdentity, Miss};

/// A workspace with a binary and a path dependency (a stand-in for a
/// third-party crate: no network here), and its lock.
fn workspace(root: &Path) {
    fs::create_dir_all(root.join("app/src")).unwrap();
    fs::create_dir_all(root.join("dep/src")).unwrap();
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"app\", \"dep\"]\n",
    )
    .unwrap();
    fs::write(
        root.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ndep = { path = \"../dep\" }\n",
    )
    .unwrap();
    fs::write(
        root.join("app/src/main.rs"),
        "fn main() { println!(\"{}\", dep::answer()); }\n",
    )
    .unwrap();
    fs::write(
        root.join("dep/Cargo.toml"),
        "[package]\nname = \"dep\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs::write(
        root.join("dep/src/lib.rs"),
        "pub fn answer() -> u32 { 42 }\n",
    )
    .unwrap();
}

/// `cargo build` with JSON messages; (unit name, fresh) of every artifact.
fn build(root: &Path, target: &Path) -> Vec<(String, bool)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--offline", "--message-format=json"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::artifacts(&out.stdout)
}

fn key(root: &Path) -> CacheKey {
    CacheKey {
        toolchain: deps_cache::toolchain().unwrap(),
        target: "host".into(),
        profile: "dev".into(),
        variant: "default".into(),
        cargo_args: vec![],
        members: vec!["app".into(), "dep".into()],
        base_lock: LockIdentity::read(&root.join("Cargo.lock")).unwrap(),
    }
}

#[test]
fn a_restored_target_dir_is_reused_by_cargo_and_a_corrupt_one_is_not_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ws");
    workspace(&root);
    let first = tmp.path().join("target-a");
    let built = build(&root, &first);
    assert!(
        built.iter().any(|(n, fresh)| n == "dep" && !fresh),
        "{built:?}"
    );

    let cache = DepsCache::new(tmp.path().join("cache"));
    let k = key(&root);
    assert!(matches!(cache.lookup(&k), Err(Miss::Empty)));
    cache.save(&k, &first, k.base_lock.clone(), None).unwrap();

    // Restored into another, empty target dir: cargo compiles nothing.
    let entry = cache.lookup(&k).expect("a hit after a save");
    let second = tmp.path().join("target-b");
    assert!(cache.restore(&entry, &second).unwrap() > 0);
    let rebuilt = build(&root, &second);
    assert!(
        !rebuilt.is_empty() && rebuilt.iter().all(|(_, fresh)| *fresh),
        "{rebuilt:?}"
    );

    // A damaged artifact: the entry is reported corrupt and not used. The
    // rlib sits beside its unit's dep-info, in `deps/` or in the unit's
    // `build/<package>/<hash>/out/` (the layout of the cargo running this).
    let rlib = buildplan::dep_info::find(&entry.target.join("debug"), &root)
        .iter()
        .filter_map(|d| fs::read_dir(d.path.parent().unwrap()).ok())
        .flat_map(|entries| entries.map(|e| e.unwrap().path()))
        .find(|p| p.extension().is_some_and(|x| x == "rlib"))
        .unwrap();
    fs::write(&rlib, b"truncated").unwrap();
    match cache.lookup(&k) {
        Err(m @ Miss::Corrupt { .. }) => assert!(m.to_string().contains("corrupt"), "{m}"),
        other => panic!("a damaged entry was not refused: {other:?}"),
    }
}
