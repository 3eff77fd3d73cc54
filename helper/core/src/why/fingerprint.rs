//! A unit compiled without a `Dirty` line (new in the build directory): its
//! fingerprint JSON against the closest earlier one (docs/helper-notes.md).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value as Json;

use super::messages::Unit;
use super::reason::{Reason, FIELDS};
use crate::layout::UnitDir;

/// The fingerprint directories that existed before a build.
pub type Snapshot = BTreeSet<PathBuf>;

/// The fingerprint directories under `build_dir` now.
pub fn snapshot(build_dir: &Path) -> Snapshot {
    let units = crate::layout::all_unit_dirs(build_dir);
    units.into_iter().map(|u| u.fingerprint).collect()
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The fingerprint JSON of `unit` in `dir`.
fn read_json(unit: &Unit, dir: &UnitDir) -> Option<Json> {
    let path = dir.fingerprint.join(format!("{}.json", file_stem(unit)));
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// The directories holding `unit`'s fingerprint JSON, with its mtime, newest first.
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

/// The unit's own fingerprint directory: the one named in an output's path, else the newest.
pub fn own<'a>(unit: &Unit, all: &'a [UnitDir]) -> Option<&'a UnitDir> {
    let found = candidates(unit, all);
    let names = |d: &UnitDir| {
        unit.filenames
            .iter()
            .any(|f| f.to_string_lossy().contains(&d.hash))
    };
    let own = found.iter().find(|(_, d)| names(d)).or(found.first());
    own.map(|(_, d)| *d)
}

/// Explains a unit compiled without a `Dirty` line from its directory `own` and the others.
pub fn explain_new_unit(
    unit: &Unit,
    own: &UnitDir,
    all: &[UnitDir],
    before: Option<&Snapshot>,
) -> Reason {
    if before.is_some_and(|snap| snap.contains(&own.fingerprint)) {
        let path = own.fingerprint.join(file_stem(unit));
        return Reason::ArtifactMissing { path };
    }
    let Some(new) = read_json(unit, own) else {
        return Reason::NeverBuilt;
    };
    // Without a snapshot, "before the build" is "before this unit started"
    // (cargo's `invoked.timestamp`).
    let started = mtime(&own.fingerprint.join("invoked.timestamp"));
    let existed = |t: &SystemTime, d: &UnitDir| match before {
        Some(snap) => snap.contains(&d.fingerprint),
        None => started.is_none_or(|s| *t < s),
    };
    // Several configurations of a unit coexist (a host copy, another
    // feature set): this build replaced the one that differs in the fewest
    // fields. Ties go to the newest.
    let fields = FIELDS.iter().map(|f| f.0).chain(["path", "deps"]);
    let differing = |old: &Json| fields.clone().filter(|k| old.get(k) != new.get(k)).count();
    let closest = candidates(unit, all)
        .into_iter()
        .filter(|(t, d)| d.fingerprint != own.fingerprint && existed(t, d))
        .filter_map(|(_, d)| read_json(unit, d))
        .enumerate()
        .min_by_key(|(newest_first, old)| (differing(old), *newest_first));
    match closest {
        Some((_, old)) => compare(&old, &new, unit.source.is_third_party()),
        None => Reason::NeverBuilt,
    }
}

/// A fingerprint's dependencies by crate name.
fn deps(fingerprint: &Json) -> BTreeMap<&str, &Json> {
    let all = fingerprint.get("deps").and_then(Json::as_array);
    let all = all.into_iter().flatten();
    all.filter_map(|d| Some((d.get(1)?.as_str()?, d))).collect()
}

/// The first difference between an earlier fingerprint and a new one (docs/helper-notes.md).
pub fn compare(old: &Json, new: &Json, third_party: bool) -> Reason {
    let mut order: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
    order.insert(if third_party { 2 } else { order.len() }, "path");
    let (old_deps, new_deps) = (deps(old), deps(new));
    let names: BTreeSet<&&str> = old_deps.keys().chain(new_deps.keys()).collect();
    let changed: Vec<String> = names
        .into_iter()
        .filter(|n| old_deps.get(*n) != new_deps.get(*n))
        .map(|n| n.to_string())
        .collect();
    match order.into_iter().find(|k| old.get(k) != new.get(k)) {
        Some("path") if third_party => Reason::NewVersion {
            evidence: "its source path differs from the earlier build's".into(),
        },
        Some("path") => Reason::SourceInputs {
            what: "its source path moved".into(),
        },
        Some(k) => Reason::field_changed(k, old.get(k), new.get(k)),
        None if !changed.is_empty() => Reason::DependencyChanged { names: changed },
        None => Reason::NewVersion {
            evidence: "nothing cargo records in the fingerprint changed, so the package id did"
                .into(),
        },
    }
}

/// A unit's fingerprint file name stem: `<flavor><kind>-<target>` (`lib-util`, `test-lib-util`).
pub fn file_stem(unit: &Unit) -> String {
    let kind = match unit.kinds.first().map(String::as_str) {
        Some("bin") => "bin",
        Some("test") => "integration-test",
        Some(k @ ("example" | "bench")) => k,
        Some("custom-build") => "build-script",
        _ => "lib",
    };
    let flavor = if unit.test { "test-" } else { "" };
    format!("{flavor}{kind}-{}", unit.target)
}

/// The dependencies (crate names) in `unit`'s fingerprint in `own`.
pub fn recorded_deps(unit: &Unit, own: &UnitDir) -> Vec<String> {
    let json = read_json(unit, own).unwrap_or_default();
    deps(&json).into_keys().map(str::to_string).collect()
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
