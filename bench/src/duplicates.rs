//! Third-party crates a build compiled twice with different features,
//! counted from cargo's `--message-format json` output of the clean build
//! with the core's [`buildplan::compiles`]: packages built with different
//! features across invocations ([`buildplan::compiles::duplicates`]) and, in
//! the one invocation a benchmark cell is, a host copy (build scripts,
//! proc-macros) and a target copy with different features
//! ([`buildplan::compiles::host_copies`]).

use serde::{Deserialize, Serialize};

use buildplan::compiles;

/// One third-party package compiled with several feature sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    /// `name version`.
    pub package: String,
    /// Each feature set it was compiled with.
    pub features: Vec<Vec<String>>,
    /// Whether the copies come from one cargo invocation: a host copy (for
    /// build scripts and proc-macros) beside a target copy, which cargo's
    /// resolver makes and no unified build removes.
    #[serde(default)]
    pub host_and_target: bool,
}

impl Duplicate {
    /// One line for people: `libc 0.2.170 [default,std] / []`.
    pub fn describe(&self) -> String {
        let sets: Vec<String> = self
            .features
            .iter()
            .map(|f| format!("[{}]", f.join(",")))
            .collect();
        format!(
            "{} {}{}",
            self.package,
            sets.join(" / "),
            if self.host_and_target {
                " (host and target copies)"
            } else {
                ""
            }
        )
    }
}

/// The duplicates in cargo's JSON messages, sorted by package id.
pub fn from_messages(text: &str) -> Result<Vec<Duplicate>, buildplan::error::Error> {
    let all = compiles::third_party(text)?;
    let mut found: Vec<(&compiles::PackageCompiles, bool)> = compiles::duplicates(&all)
        .into_iter()
        .map(|d| (d, false))
        .collect();
    for d in compiles::host_copies(&all) {
        if !found.iter().any(|(f, _)| f.package_id == d.package_id) {
            found.push((d, true));
        }
    }
    found.sort_by(|a, b| a.0.package_id.cmp(&b.0.package_id));
    Ok(found
        .into_iter()
        .map(|(d, host_and_target)| Duplicate {
            package: format!("{} {}", d.name, d.version),
            features: d.uses().into_iter().map(|u| u.features).collect(),
            host_and_target,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(id: &str, target: &str, kind: &str, features: &[&str], hash: &str) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": id,
            "target": { "name": target, "kind": [kind], "src_path": "/r/src/lib.rs" },
            "manifest_path": "/r/Cargo.toml",
            "profile": {"opt_level": "3", "debug_assertions": false, "overflow_checks": false, "test": false},
            "executable": null,
            "features": features,
            "filenames": [format!("/t/release/deps/lib{target}-{hash}.rlib")],
            "fresh": false,
        })
        .to_string()
    }

    #[test]
    fn a_host_and_a_target_copy_with_different_features_count_once() {
        let libc = "registry+https://github.com/rust-lang/crates.io-index#libc@0.2.170";
        let itoa = "registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.11";
        let local = "path+file:///ws/core#0.1.0";
        let text = [
            artifact(libc, "libc", "lib", &["std"], "aaaaaaaaaaaaaaaa"),
            artifact(libc, "libc", "lib", &["default", "std"], "bbbbbbbbbbbbbbbb"),
            artifact(itoa, "itoa", "lib", &[], "cccccccccccccccc"),
            artifact(local, "core", "lib", &["a"], "dddddddddddddddd"),
            artifact(local, "core", "lib", &["b"], "eeeeeeeeeeeeeeee"),
            "{\"reason\":\"build-finished\",\"success\":true}".into(),
        ]
        .join("\n");
        let d = from_messages(&text).unwrap();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].package, "libc 0.2.170");
        assert!(
            d[0].host_and_target,
            "one invocation: a host and a target copy"
        );
        assert_eq!(
            d[0].describe(),
            "libc 0.2.170 [default,std] / [std] (host and target copies)"
        );
        let one = [
            artifact(itoa, "itoa", "lib", &[], "cccccccccccccccc"),
            "{\"reason\":\"build-finished\",\"success\":true}".into(),
        ]
        .join("\n");
        assert!(from_messages(&one).unwrap().is_empty());
        assert!(from_messages("not json").is_err());
    }
}
