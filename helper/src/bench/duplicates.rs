//! Third-party crates a build compiled twice with different features,
//! counted from cargo's `--message-format json` output of the clean build.
//!
//! A small counter of the benchmark's own (issue 10 asks for the figure;
//! a shared parser of cargo's messages did not exist when it was written):
//! every `compiler-artifact` message of a package that is not a local path
//! package is grouped by package id and target name, and a target built
//! with more than one feature set counts once.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One third-party target compiled with several feature sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    /// `name version`.
    pub package: String,
    /// The target's name (the library, or `build-script-build`).
    pub target: String,
    /// Each feature set it was compiled with.
    pub features: Vec<Vec<String>>,
}

impl Duplicate {
    /// One line for people: `libc 0.2.170 [std] / []`.
    pub fn describe(&self) -> String {
        let sets: Vec<String> = self
            .features
            .iter()
            .map(|f| format!("[{}]", f.join(",")))
            .collect();
        format!("{} {}", self.package, sets.join(" / "))
    }
}

/// `name version` from a package id, in either of cargo's formats
/// (`registry+https://...#name@1.2.3`, `name 1.2.3 (registry+...)`).
fn name_version(id: &str) -> String {
    if let Some((_, frag)) = id.rsplit_once('#') {
        if let Some((name, version)) = frag.split_once('@') {
            return format!("{name} {version}");
        }
    }
    id.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Whether a package id names a local path package (a workspace member).
fn is_local(id: &str) -> bool {
    id.starts_with("path+") || id.contains("(path+")
}

/// The duplicates in cargo's JSON messages (one per line; other lines are
/// ignored), sorted by package.
pub fn from_messages(text: &str) -> Vec<Duplicate> {
    let mut seen: BTreeMap<(String, String), BTreeSet<Vec<String>>> = BTreeMap::new();
    for line in text.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(id) = msg["package_id"].as_str() else {
            continue;
        };
        if is_local(id) {
            continue;
        }
        let target = msg["target"]["name"].as_str().unwrap_or("").to_string();
        let mut features: Vec<String> = msg["features"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        features.sort();
        seen.entry((name_version(id), target))
            .or_default()
            .insert(features);
    }
    seen.into_iter()
        .filter(|(_, sets)| sets.len() > 1)
        .map(|((package, target), sets)| Duplicate {
            package,
            target,
            features: sets.into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(id: &str, target: &str, features: &[&str]) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": id,
            "target": { "name": target, "kind": ["lib"] },
            "features": features,
        })
        .to_string()
    }

    #[test]
    fn counts_third_party_targets_with_several_feature_sets() {
        let libc = "registry+https://github.com/rust-lang/crates.io-index#libc@0.2.170";
        let itoa = "itoa 1.0.11 (registry+https://github.com/rust-lang/crates.io-index)";
        let local = "path+file:///ws/core#0.1.0";
        let text = [
            artifact(libc, "libc", &["std"]),
            artifact(libc, "libc", &["default", "std"]),
            artifact(libc, "build_script_build", &["std"]),
            artifact(itoa, "itoa", &[]),
            artifact(itoa, "itoa", &[]),
            artifact(local, "core", &["a"]),
            artifact(local, "core", &["b"]),
            "not json".into(),
            "{\"reason\":\"build-finished\",\"success\":true}".into(),
        ]
        .join("\n");
        let d = from_messages(&text);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].package, "libc 0.2.170");
        assert_eq!(d[0].target, "libc");
        assert_eq!(d[0].describe(), "libc 0.2.170 [default,std] / [std]");
        assert!(from_messages(&artifact(itoa, "itoa", &[])).is_empty());
    }
}
