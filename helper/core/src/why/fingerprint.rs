//! cargo's fingerprint files, read to explain units that had none.
//!
//! A unit's fingerprint lives in `<build-dir>/<profile>/.fingerprint/<package>-<hash>/`,
//! where `<hash>` is cargo's unit hash. That hash covers the package id
//! (name, version, source), the features, the profile, the rustc version,
//! the target and the hashes of all dependencies, and the rustflags. A
//! change to any of them gives the unit a new directory, so cargo finds no
//! earlier fingerprint (`fingerprint error … failed to read`, its
//! `FreshBuild`) and logs no reason. We then compare the new unit's
//! fingerprint JSON (`<flavor><kind>-<target>.json`, written when the unit
//! finished) with an earlier one of the same package and target that
//! existed before the build: the one differing in the fewest fields (the
//! configuration this build replaced; several coexist, e.g. a host copy with
//! build-override settings), the newest on a tie. Fields are compared in
//! this order, the first difference is the reason:
//!
//! 1. `rustc`, `compile_kind` (toolchain, target);
//! 2. for a non-path package a different `path` (the hash of the source
//!    path, which holds `<name>-<version>`): a new version;
//! 3. `features`, `declared_features`, `profile`, `rustflags`, `config`,
//!    `target`, then `path` of a path package (it moved);
//! 4. `deps`: the dependencies whose package or fingerprint differ;
//! 5. nothing else differs: by elimination the package id (version or
//!    source), the only input of the unit hash the fingerprint does not
//!    record.
//!
//! No earlier fingerprint of the package and target at all: never built
//! here. The unit's own directory existed before the build but its
//! fingerprint file did not: the fingerprint was deleted (a missing
//! artifact).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value as Json;

use super::messages::Unit;
use super::reason::Reason;

/// The fingerprint directories that existed before a build.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every `<package>-<hash>` directory under a `.fingerprint` directory.
    pub dirs: BTreeSet<PathBuf>,
}

/// Every `.fingerprint` directory under `build_dir`
/// (`<profile>/.fingerprint` and `<triple>/<profile>/.fingerprint`).
pub fn fingerprint_roots(build_dir: &Path) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let mut stack = vec![(build_dir.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            let p = e.path();
            if e.file_name() == ".fingerprint" {
                roots.push(p);
            } else if depth < 2 && e.file_name() != "deps" && e.file_name() != "build" {
                stack.push((p, depth + 1));
            }
        }
    }
    roots.sort();
    roots
}

impl Snapshot {
    /// Lists the fingerprint directories under `build_dir` now.
    pub fn take(build_dir: &Path) -> Snapshot {
        let mut dirs = BTreeSet::new();
        for root in fingerprint_roots(build_dir) {
            if let Ok(entries) = fs::read_dir(&root) {
                dirs.extend(entries.flatten().map(|e| e.path()));
            }
        }
        Snapshot { dirs }
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_json(path: &Path) -> Option<Json> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// `<package>-<16 hex digits>` → `<package>`.
fn package_of_dir(name: &str) -> Option<&str> {
    let (pkg, hash) = name.rsplit_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(pkg)
}

/// The JSON fingerprints of `file_name` (`lib-util.json`) in the other
/// `<package>-<hash>` directories of `root`, newest first.
fn siblings(root: &Path, package: &str, own: &Path, file_name: &str) -> Vec<(SystemTime, PathBuf)> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(root) else {
        return found;
    };
    for e in entries.flatten() {
        let dir = e.path();
        if dir == own {
            continue;
        }
        let name = e.file_name();
        if package_of_dir(&name.to_string_lossy()) != Some(package) {
            continue;
        }
        let json = dir.join(file_name);
        if let Some(t) = mtime(&json) {
            found.push((t, json));
        }
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found
}

/// Explains a unit cargo found no fingerprint for; `file` is the
/// fingerprint file cargo tried to read (from the log), `third_party`
/// whether the package is not a path package, `before` the directories
/// that existed before the build (when the build ran through `why`).
pub fn explain_new_unit(file: &Path, third_party: bool, before: Option<&Snapshot>) -> Reason {
    let (Some(own_dir), Some(file_name)) = (file.parent(), file.file_name()) else {
        return Reason::NeverBuilt;
    };
    let json_name = format!("{}.json", file_name.to_string_lossy());
    if let Some(snap) = before {
        if snap.dirs.contains(own_dir) {
            return Reason::ArtifactMissing {
                path: file.to_path_buf(),
            };
        }
    }
    let Some(root) = own_dir.parent() else {
        return Reason::NeverBuilt;
    };
    let Some(package) = own_dir
        .file_name()
        .and_then(|n| package_of_dir(&n.to_string_lossy()).map(str::to_string))
    else {
        return Reason::NeverBuilt;
    };
    // Without a snapshot, "before the build" is "before this unit started"
    // (cargo's `invoked.timestamp`).
    let started = mtime(&own_dir.join("invoked.timestamp"));
    let Some(new) = read_json(&own_dir.join(&json_name)) else {
        return Reason::NeverBuilt;
    };
    // The closest earlier configuration of the unit: several can coexist
    // (a host copy with build-override settings, another feature set), and
    // the one that differs in the fewest fields is the one this build
    // replaced. Ties go to the newest.
    let closest = siblings(root, &package, own_dir, &json_name)
        .into_iter()
        .filter(|(t, json)| match before {
            Some(snap) => json.parent().is_some_and(|d| snap.dirs.contains(d)),
            None => started.is_none_or(|s| *t < s),
        })
        .filter_map(|(_, json)| read_json(&json))
        .enumerate()
        .min_by_key(|(newest_first, old)| (differing_fields(old, &new), *newest_first))
        .map(|(_, old)| old);
    match closest {
        Some(old) => compare(&old, &new, third_party),
        None => Reason::NeverBuilt,
    }
}

/// The fingerprint fields [`compare`] reads.
const FIELDS: [&str; 10] = [
    "rustc",
    "compile_kind",
    "path",
    "features",
    "declared_features",
    "profile",
    "rustflags",
    "config",
    "target",
    "deps",
];

/// How many of [`FIELDS`] differ between two fingerprints.
fn differing_fields(old: &Json, new: &Json) -> usize {
    FIELDS
        .iter()
        .filter(|k| old.get(**k) != new.get(**k))
        .count()
}

fn deps_map(v: &Json) -> BTreeMap<String, Json> {
    let mut map = BTreeMap::new();
    for d in v.get("deps").and_then(Json::as_array).into_iter().flatten() {
        if let Some(name) = d.get(1).and_then(Json::as_str) {
            map.insert(name.to_string(), d.clone());
        }
    }
    map
}

fn string_list(v: Option<&Json>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The first difference between an earlier fingerprint and a new one, in
/// the order of the module documentation.
pub fn compare(old: &Json, new: &Json, third_party: bool) -> Reason {
    let differs = |key: &str| old.get(key) != new.get(key);
    let text = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).map(str::to_string);
    if differs("rustc") {
        return Reason::ToolchainChanged;
    }
    if differs("compile_kind") {
        return Reason::BuildConfigChanged {
            what: "compile target".into(),
        };
    }
    if third_party && differs("path") {
        return Reason::NewVersion {
            evidence: "its source path differs from the earlier build's".into(),
        };
    }
    if differs("features") {
        return Reason::FeaturesChanged {
            old: text(old, "features"),
            new: text(new, "features"),
        };
    }
    if differs("declared_features") {
        return Reason::DeclaredFeaturesChanged {
            old: text(old, "declared_features"),
            new: text(new, "declared_features"),
        };
    }
    if differs("profile") {
        return Reason::ProfileChanged;
    }
    if differs("rustflags") {
        return Reason::RustflagsChanged {
            old: string_list(old.get("rustflags")),
            new: string_list(new.get("rustflags")),
        };
    }
    if differs("config") {
        return Reason::BuildConfigChanged {
            what: "config settings".into(),
        };
    }
    if differs("target") {
        return Reason::BuildConfigChanged {
            what: "target settings".into(),
        };
    }
    if differs("path") {
        return Reason::SourceInputs {
            what: "its source path moved".into(),
        };
    }
    let (old_deps, new_deps) = (deps_map(old), deps_map(new));
    if old_deps != new_deps {
        let names: BTreeSet<&String> = old_deps.keys().chain(new_deps.keys()).collect();
        let changed = names
            .into_iter()
            .filter(|n| old_deps.get(*n) != new_deps.get(*n))
            .cloned()
            .collect();
        return Reason::DependencyChanged { names: changed };
    }
    Reason::NewVersion {
        evidence: "nothing cargo records in the fingerprint changed, so the package id did".into(),
    }
}

/// The fingerprint file name stem of a unit: `<flavor><kind>-<target>`
/// (`lib-util`, `test-lib-util`, `bin-app`, `build-script-build-script-build`).
pub fn file_stem(unit: &Unit) -> String {
    let kind = unit
        .kinds
        .first()
        .map(|k| match k.as_str() {
            "bin" => "bin",
            "test" => "integration-test",
            "example" => "example",
            "bench" => "bench",
            "custom-build" => "build-script",
            _ => "lib",
        })
        .unwrap_or("lib");
    let flavor = if unit.test { "test-" } else { "" };
    format!("{flavor}{kind}-{}", unit.target)
}

/// The dependencies (crate names) recorded in the newest fingerprint of
/// `unit` under `roots`.
pub fn recorded_deps(roots: &[PathBuf], unit: &Unit) -> Vec<String> {
    let json_name = format!("{}.json", file_stem(unit));
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for root in roots {
        for (t, p) in siblings(root, &unit.name, Path::new(""), &json_name) {
            if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                best = Some((t, p));
            }
        }
    }
    best.and_then(|(_, p)| read_json(&p))
        .map(|j| deps_map(&j).into_keys().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fp() -> Json {
        json!({"rustc": 1, "features": "[]", "declared_features": "[\"x\"]", "target": 2,
               "profile": 3, "path": 4, "deps": [[10, "dep", false, 11]], "rustflags": [],
               "config": 5, "compile_kind": 0})
    }

    #[test]
    fn first_difference_wins() {
        let old = fp();
        let mut new = fp();
        assert!(matches!(
            compare(&old, &new, false),
            Reason::NewVersion { .. }
        ));
        new["deps"] = json!([[10, "dep", false, 12]]);
        assert_eq!(
            compare(&old, &new, false),
            Reason::DependencyChanged {
                names: vec!["dep".into()]
            }
        );
        new["rustflags"] = json!(["-Cx"]);
        assert!(matches!(
            compare(&old, &new, false),
            Reason::RustflagsChanged { .. }
        ));
        new["profile"] = json!(9);
        assert_eq!(compare(&old, &new, false), Reason::ProfileChanged);
        new["features"] = json!("[\"x\"]");
        assert!(matches!(
            compare(&old, &new, false),
            Reason::FeaturesChanged { .. }
        ));
        new["path"] = json!(7);
        assert!(matches!(
            compare(&old, &new, true),
            Reason::NewVersion { .. }
        ));
        assert!(matches!(
            compare(&old, &new, false),
            Reason::FeaturesChanged { .. }
        ));
        new["rustc"] = json!(8);
        assert_eq!(compare(&old, &new, true), Reason::ToolchainChanged);
    }

    #[test]
    fn package_dirs() {
        assert_eq!(
            package_of_dir("serde_core-0123456789abcdef"),
            Some("serde_core")
        );
        assert_eq!(package_of_dir("cfg-if-0123456789abcdef"), Some("cfg-if"));
        assert_eq!(package_of_dir("cfg-if"), None);
    }
}
