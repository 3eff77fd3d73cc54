//! cargo's fingerprint files, read to explain units cargo compiled
//! without a `Dirty` line: units new in the build directory (cargo's unit
//! hash changed). The new unit's fingerprint JSON is compared with the
//! closest earlier one of the same package and target that existed before
//! the build; the first differing field, in the order of [`compare`], is
//! the reason. The method: docs/helper-notes.md, "Why a unit compiled".

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value as Json;

use super::messages::Unit;
use super::reason::Reason;
use crate::layout::UnitDir;

/// The fingerprint directories that existed before a build.
pub type Snapshot = BTreeSet<PathBuf>;

/// The fingerprint directories under `build_dir` now.
pub fn snapshot(build_dir: &Path) -> Snapshot {
    let units = crate::layout::all_unit_dirs(build_dir).into_iter();
    units.map(|u| u.fingerprint).collect()
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
    if before.is_some_and(|snap| snap.contains(&own.fingerprint)) {
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
                    Some(snap) => snap.contains(&d.fingerprint),
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

/// The fingerprint fields [`compare`] reads, in its order: `path` comes
/// early for a non-path package (its source path holds its version), late
/// for a path package (it moved).
const ORDER: [&str; 11] = [
    "rustc",
    "compile_kind",
    "path",
    "features",
    "declared_features",
    "profile",
    "rustflags",
    "config",
    "target",
    "path",
    "deps",
];

/// How many fingerprint fields differ between two fingerprints.
fn differing_fields(old: &Json, new: &Json) -> usize {
    let fields = ORDER.iter().enumerate().filter(|&(i, _)| i != 2);
    fields.filter(|(_, k)| old.get(**k) != new.get(**k)).count()
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

/// The first difference between an earlier fingerprint and a new one:
/// toolchain and target; for a non-path package its source path (a new
/// version); features, declared features, profile, rustflags, config,
/// target settings, a path package's path; the dependencies; and with
/// nothing else differing, by elimination the package id.
pub fn compare(old: &Json, new: &Json, third_party: bool) -> Reason {
    let text = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).map(str::to_string);
    let config = |what: &str| Reason::BuildConfigChanged { what: what.into() };
    let first = ORDER[..10]
        .iter()
        .enumerate()
        .find(|&(i, k)| (i != 2 || third_party) && old.get(*k) != new.get(*k));
    match first.map(|(i, k)| (i, *k)) {
        Some((_, "rustc")) => Reason::ToolchainChanged,
        Some((_, "compile_kind")) => config("compile target"),
        Some((2, _)) => {
            let evidence = "its source path differs from the earlier build's".into();
            Reason::NewVersion { evidence }
        }
        Some((_, k @ "features")) => {
            let (old, new) = (text(old, k), text(new, k));
            Reason::FeaturesChanged { old, new }
        }
        Some((_, k @ "declared_features")) => {
            let (old, new) = (text(old, k), text(new, k));
            Reason::DeclaredFeaturesChanged { old, new }
        }
        Some((_, "profile")) => Reason::ProfileChanged,
        Some((_, k @ "rustflags")) => {
            let (old, new) = (string_list(old.get(k)), string_list(new.get(k)));
            Reason::RustflagsChanged { old, new }
        }
        Some((_, "config")) => config("config settings"),
        Some((_, "target")) => config("target settings"),
        Some(_) => {
            let what = "its source path moved".into();
            Reason::SourceInputs { what }
        }
        None => deps_or_version(old, new),
    }
}

/// The dependencies that differ; none: the package id (version or source).
fn deps_or_version(old: &Json, new: &Json) -> Reason {
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
