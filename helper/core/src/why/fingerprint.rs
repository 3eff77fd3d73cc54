//! cargo's fingerprint files, read to explain units cargo compiled
//! without a `Dirty` line: units new in the build directory.
//!
//! A unit's fingerprint directory (both layouts: [`crate::layout`]) is
//! named by cargo's unit hash. That hash covers the package id (name,
//! version, source), the features, the profile, the rustc version, the
//! target and the hashes of all dependencies, and the rustflags. A change to
//! any of them gives the unit a new directory, so cargo finds no earlier
//! fingerprint and says nothing. We then compare the new unit's fingerprint
//! JSON (`<flavor><kind>-<target>.json`, written when the unit finished)
//! with an earlier one of the same package and target that existed before
//! the build: the one differing in the fewest fields (the configuration this
//! build replaced; several coexist, e.g. a host copy with build-override
//! settings), the newest on a tie. Fields are compared in this order, the
//! first difference is the reason:
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
//! here. The unit's own directory existed before the build but cargo
//! still compiled it without a `Dirty` line: its fingerprint was deleted (a
//! missing artifact).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value as Json;

use super::messages::Unit;
use super::reason::Reason;
use crate::layout::UnitDir;

/// The fingerprint directories that existed before a build.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every unit's fingerprint directory.
    pub dirs: BTreeSet<PathBuf>,
}

impl Snapshot {
    /// Lists the fingerprint directories under `build_dir` now.
    pub fn take(build_dir: &Path) -> Snapshot {
        let dirs = crate::layout::all_unit_dirs(build_dir)
            .into_iter()
            .map(|u| u.fingerprint)
            .collect();
        Snapshot { dirs }
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_json(path: &Path) -> Option<Json> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// The directories of `unit`'s package that hold its fingerprint JSON,
/// with the JSON's mtime, newest first.
fn candidates<'a>(unit: &Unit, all: &'a [UnitDir]) -> Vec<(SystemTime, &'a UnitDir)> {
    let json = format!("{}.json", file_stem(unit));
    let mut found: Vec<_> = all
        .iter()
        .filter(|d| d.package == unit.name)
        .filter_map(|d| Some((mtime(&d.fingerprint.join(&json))?, d)))
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found
}

/// The unit's own fingerprint directory among `all`: the one whose hash is
/// in an output's path, else the newest (this build just wrote it).
pub fn own<'a>(unit: &Unit, all: &'a [UnitDir]) -> Option<&'a UnitDir> {
    let found = candidates(unit, all);
    found
        .iter()
        .find(|(_, d)| {
            unit.filenames
                .iter()
                .any(|f| f.to_string_lossy().contains(&d.hash))
        })
        .or(found.first())
        .map(|(_, d)| *d)
}

/// Explains a unit cargo compiled without a `Dirty` line. `own` is its
/// fingerprint directory, `all` every unit directory after the build,
/// `before` the directories that existed before it (when the build ran
/// through `why`).
pub fn explain_new_unit(
    unit: &Unit,
    own: &UnitDir,
    all: &[UnitDir],
    before: Option<&Snapshot>,
) -> Reason {
    let stem = file_stem(unit);
    if before.is_some_and(|snap| snap.dirs.contains(&own.fingerprint)) {
        return Reason::ArtifactMissing {
            path: own.fingerprint.join(stem),
        };
    }
    let json = format!("{stem}.json");
    // Without a snapshot, "before the build" is "before this unit started"
    // (cargo's `invoked.timestamp`).
    let started = mtime(&own.fingerprint.join("invoked.timestamp"));
    let Some(new) = read_json(&own.fingerprint.join(&json)) else {
        return Reason::NeverBuilt;
    };
    // The closest earlier configuration of the unit: several can coexist
    // (a host copy with build-override settings, another feature set), and
    // the one that differs in the fewest fields is the one this build
    // replaced. Ties go to the newest.
    let closest = candidates(unit, all)
        .into_iter()
        .filter(|(t, d)| {
            d.fingerprint != own.fingerprint
                && match before {
                    Some(snap) => snap.dirs.contains(&d.fingerprint),
                    None => started.is_none_or(|s| *t < s),
                }
        })
        .filter_map(|(_, d)| read_json(&d.fingerprint.join(&json)))
        .enumerate()
        .min_by_key(|(newest_first, old)| (differing_fields(old, &new), *newest_first))
        .map(|(_, old)| old);
    match closest {
        Some(old) => compare(&old, &new, unit.source.is_third_party()),
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
/// `unit` among `all`.
pub fn recorded_deps(all: &[UnitDir], unit: &Unit) -> Vec<String> {
    let json = format!("{}.json", file_stem(unit));
    candidates(unit, all)
        .first()
        .and_then(|(_, d)| read_json(&d.fingerprint.join(json)))
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
}
