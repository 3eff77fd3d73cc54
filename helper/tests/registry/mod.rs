//! Real crates.io packages for fixture builds, offline: a private
//! `CARGO_HOME` filled from the user's registry cache.

#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::path::{Path, PathBuf};

/// Versions of `name` in the repository's Cargo.lock, sorted.
pub fn locked_versions(name: &str) -> Vec<String> {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let lock: toml::Table = fs::read_to_string(&lock).unwrap().parse().unwrap();
    let mut versions: Vec<String> = lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str() == Some(name))
        .map(|p| p["version"].as_str().unwrap().to_string())
        .collect();
    versions.sort_by_key(|v| {
        v.split('.')
            .map(|n| n.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    versions
}

/// The user's cargo home (`$CARGO_HOME` or `~/.cargo`).
pub fn user_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"))
}

/// The sparse index's cache path of a package name.
fn index_path(name: &str) -> PathBuf {
    match name.len() {
        1 => PathBuf::from("1").join(name),
        2 => PathBuf::from("2").join(name),
        3 => PathBuf::from("3").join(&name[..1]).join(name),
        _ => PathBuf::from(&name[..2]).join(&name[2..4]).join(name),
    }
}

/// A private cargo home holding the index entries and `.crate` files of
/// `crates` (name, version), copied from the user's registry cache.
pub fn private_cargo_home(home: &Path, crates: &[(&str, &str)]) {
    let registry = user_cargo_home().join("registry");
    let index = fs::read_dir(registry.join("index"))
        .expect("a cargo registry index cache (run `cargo fetch` in the repository)")
        .flatten()
        .map(|e| e.file_name())
        .find(|n| n.to_string_lossy().starts_with("index.crates.io-"))
        .expect("the crates.io index in the registry cache");
    let src_index = registry.join("index").join(&index);
    let dst_index = home.join("registry/index").join(&index);
    fs::create_dir_all(dst_index.join(".cache")).unwrap();
    fs::copy(src_index.join("config.json"), dst_index.join("config.json")).unwrap();
    let dst_cache = home.join("registry/cache").join(&index);
    fs::create_dir_all(&dst_cache).unwrap();
    for (name, version) in crates {
        let entry = index_path(name);
        fs::create_dir_all(dst_index.join(".cache").join(entry.parent().unwrap())).unwrap();
        fs::copy(
            src_index.join(".cache").join(&entry),
            dst_index.join(".cache").join(&entry),
        )
        .unwrap_or_else(|e| panic!("index entry of {name}: {e} (run `cargo fetch`)"));
        let file = format!("{name}-{version}.crate");
        fs::copy(
            registry.join("cache").join(&index).join(&file),
            dst_cache.join(&file),
        )
        .unwrap_or_else(|e| panic!("{file} not in the registry cache: {e} (run `cargo fetch`)"));
    }
}

/// A one-package workspace `app` at `<dir>/ws` whose `src/main.rs` is
/// `main`, depending on the locked `itoa`, which a private cargo home at
/// `<dir>/cargo-home` holds: (ws, home, itoa's version).
pub fn itoa_app(dir: &Path, main: &str) -> (PathBuf, PathBuf, String) {
    let itoa = locked_versions("itoa").pop().expect("itoa in Cargo.lock");
    let (ws, home) = (dir.join("ws"), dir.join("cargo-home"));
    private_cargo_home(&home, &[("itoa", itoa.as_str())]);
    fs::create_dir_all(ws.join("src")).unwrap();
    let manifest = format!(
        "[workspace]\n\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nitoa = \"={itoa}\"\n"
    );
    fs::write(ws.join("Cargo.toml"), manifest).unwrap();
    fs::write(ws.join("src/main.rs"), main).unwrap();
    (ws, home, itoa)
}
