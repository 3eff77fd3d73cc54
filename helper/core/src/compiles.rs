//! Third-party packages compiled by cargo builds (JSON messages), again with other
//! features ([`duplicates`]) or as host copies ([`host_copies`]); docs/helper-notes.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use cargo_metadata::Message;

use crate::error::Error;
use crate::why::messages::{read, Unit};

/// One `compiler-artifact` of a third-party package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Compile {
    /// Which invocation (0-based, in the order of the text) reported it.
    pub invocation: usize,
    /// Target name (`itoa`, `build-script-build`).
    pub target: String,
    /// The features the unit was compiled with, sorted.
    pub features: Vec<String>,
    /// `true` when cargo reused the artifact (no rustc run).
    pub fresh: bool,
}

/// Every compile of one third-party package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageCompiles {
    /// cargo's package id (`registry+https://…#itoa@1.0.19`).
    pub package_id: String,
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Its units, in message order.
    pub compiles: Vec<Compile>,
}

impl PackageCompiles {
    /// The invocations that have a unit of this package, sorted.
    pub fn invocations(&self) -> BTreeSet<usize> {
        self.compiles.iter().map(|c| c.invocation).collect()
    }

    /// Units cargo actually compiled (not fresh).
    pub fn compiled(&self) -> impl Iterator<Item = &Compile> {
        self.compiles.iter().filter(|c| !c.fresh)
    }

    /// The units of `invocation`.
    fn of(&self, invocation: usize) -> impl Iterator<Item = &Compile> {
        self.compiles
            .iter()
            .filter(move |c| c.invocation == invocation)
    }

    /// Each distinct feature set it was built with, and where.
    pub fn uses(&self) -> Vec<FeatureUse> {
        let mut by_set: BTreeMap<&Vec<String>, (BTreeSet<usize>, usize)> = BTreeMap::new();
        for c in &self.compiles {
            let e = by_set.entry(&c.features).or_default();
            e.0.insert(c.invocation);
            e.1 += usize::from(!c.fresh);
        }
        let uses = by_set.into_iter();
        uses.map(|(features, (inv, compiled))| FeatureUse {
            features: features.clone(),
            invocations: inv.into_iter().collect(),
            compiled,
        })
        .collect()
    }
}

/// Every third-party package's compiles in `stdout`, by package id.
pub fn third_party(stdout: &str) -> Result<BTreeMap<String, PackageCompiles>, Error> {
    let mut out: BTreeMap<String, PackageCompiles> = BTreeMap::new();
    let mut invocation = 0;
    for (line, msg) in read(stdout)? {
        if let Message::BuildFinished(_) = msg {
            invocation += 1;
        }
        let Message::CompilerArtifact(a) = msg else {
            continue;
        };
        let unit = Unit::from_artifact(&a, line)?;
        if !unit.source.is_third_party() {
            continue;
        }
        let mut features = a.features;
        features.sort();
        out.entry(unit.package_id.clone())
            .or_insert_with(|| PackageCompiles {
                package_id: unit.package_id,
                name: unit.name,
                version: unit.version,
                compiles: Vec::new(),
            })
            .compiles
            .push(Compile {
                invocation,
                target: unit.target,
                features,
                fresh: unit.fresh,
            });
    }
    Ok(out)
}

/// One feature set a package was built with, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureUse {
    /// The features, sorted.
    pub features: Vec<String>,
    /// The invocations that used this set, sorted.
    pub invocations: Vec<usize>,
    /// How many units with this set cargo compiled (not fresh).
    pub compiled: usize,
}

impl fmt::Display for PackageCompiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:", self.name, self.version)?;
        for (i, u) in self.uses().iter().enumerate() {
            let features = if u.features.is_empty() {
                "(no features)".to_string()
            } else {
                u.features.join(",")
            };
            let inv = u.invocations.iter().map(|i| format!("#{}", i + 1));
            let (inv, n) = (inv.collect::<Vec<_>>().join(","), u.compiled);
            let sep = if i == 0 { "" } else { ";" };
            write!(f, "{sep} [{features}] in build {inv} ({n} compile(s))")?;
        }
        Ok(())
    }
}

/// Packages compiled with different features across invocations (docs/helper-notes.md).
pub fn duplicates(compiles: &BTreeMap<String, PackageCompiles>) -> Vec<&PackageCompiles> {
    let key = |c: &Compile| (c.target.clone(), c.features.clone());
    compiles
        .values()
        .filter(|p| {
            let needed = p
                .invocations()
                .into_iter()
                .map(|i| p.of(i).map(key).collect::<BTreeSet<_>>().len());
            let compiled: BTreeSet<_> = p.compiled().map(key).collect();
            compiled.len() > needed.max().unwrap_or(0)
        })
        .collect()
}

/// Packages one invocation builds with two feature sets (host and target copies).
pub fn host_copies(compiles: &BTreeMap<String, PackageCompiles>) -> Vec<&PackageCompiles> {
    compiles
        .values()
        .filter(|p| {
            p.invocations().into_iter().any(|i| {
                let mut by_target: BTreeMap<&str, BTreeSet<&Vec<String>>> = BTreeMap::new();
                for c in p.of(i) {
                    by_target.entry(&c.target).or_default().insert(&c.features);
                }
                by_target.values().any(|sets| sets.len() > 1)
            })
        })
        .collect()
}

/// How many third-party units cargo compiled (not fresh) in `invocation`.
pub fn compiled_in(compiles: &BTreeMap<String, PackageCompiles>, invocation: usize) -> usize {
    compiles
        .values()
        .flat_map(|p| p.compiled())
        .filter(|c| c.invocation == invocation)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn message(id: &str, name: &str, features: &[&str], file: &str, fresh: bool) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": id,
            "target": {"kind": ["lib"], "crate_types": ["lib"], "name": name, "src_path": "/r/src/lib.rs"},
            "manifest_path": "/r/Cargo.toml",
            "profile": {"opt_level": "3", "debug_assertions": false, "overflow_checks": false, "test": false},
            "executable": null,
            "features": features,
            "filenames": [file],
            "fresh": fresh,
        })
        .to_string()
    }

    fn artifact(pkg: &str, features: &[&str], hash: &str, fresh: bool) -> String {
        let id = format!("{REG}#{pkg}@1.0.0");
        let file = format!("/t/release/deps/lib{pkg}-{hash}.rlib");
        message(&id, pkg, features, &file, fresh)
    }

    fn member() -> String {
        message(
            "path+file:///w/app#0.1.0",
            "app",
            &[],
            "/t/release/app",
            false,
        )
    }

    const DONE: &str = r#"{"reason":"build-finished","success":true}"#;

    /// Two builds of one artifact each.
    fn two_builds(first: String, second: String) -> String {
        [first, DONE.into(), second, DONE.into()].join("\n")
    }

    #[test]
    fn splits_between_invocations_are_duplicates() {
        let text = [
            artifact("dep", &["a"], "00112233aabbccdd", false),
            member(),
            DONE.into(),
            artifact("dep", &["a", "b"], "4455667788990011", false),
            member(),
            DONE.into(),
        ]
        .join("\n");
        let c = third_party(&text).unwrap();
        assert_eq!(c.len(), 1, "the member is not third-party");
        let d = duplicates(&c);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].name, "dep");
        assert_eq!(d[0].uses().len(), 2);
        assert_eq!(d[0].uses()[1].features, ["a", "b"]);
        assert_eq!(d[0].uses()[1].invocations, [1]);
        assert!(host_copies(&c).is_empty());
        assert_eq!(compiled_in(&c, 1), 1);
        assert!(d[0].to_string().starts_with("dep@1.0.0: [a] in build #1"));
    }

    #[test]
    fn same_features_fresh_in_the_second_build_is_no_duplicate() {
        let text = two_builds(
            artifact("dep", &["b", "a"], "00112233aabbccdd", false),
            artifact("dep", &["a", "b"], "00112233aabbccdd", true),
        );
        let c = third_party(&text).unwrap();
        assert!(duplicates(&c).is_empty());
        assert_eq!(compiled_in(&c, 1), 0);
    }

    #[test]
    fn host_and_target_copies_in_every_invocation_are_reported_apart() {
        let one = [
            artifact("dep", &["a"], "00112233aabbccdd", false),
            artifact("dep", &["a", "std"], "ffeeddccbbaa0011", false),
            DONE.into(),
        ]
        .join("\n");
        let c = third_party(&format!("{one}\n{one}")).unwrap();
        assert!(duplicates(&c).is_empty());
        assert_eq!(host_copies(&c).len(), 1);
    }

    #[test]
    fn a_host_copy_a_later_build_does_not_need_is_no_duplicate() {
        let text = [
            artifact("dep", &["a"], "00112233aabbccdd", false),
            artifact("dep", &["a", "b"], "ffeeddccbbaa0011", false),
            DONE.into(),
            artifact("dep", &["a", "b"], "ffeeddccbbaa0011", true),
            DONE.into(),
        ]
        .join("\n");
        let c = third_party(&text).unwrap();
        assert!(duplicates(&c).is_empty());
        assert_eq!(host_copies(&c).len(), 1);
        // A third set in the second build is one compile too many.
        let text = format!(
            "{text}\n{}\n{DONE}",
            artifact("dep", &["a", "c"], "0000111122223333", false)
        );
        assert_eq!(duplicates(&third_party(&text).unwrap()).len(), 1);
    }

    #[test]
    fn a_prebuilt_set_that_is_fresh_is_no_compile() {
        let text = two_builds(
            artifact("dep", &["a"], "00112233aabbccdd", true),
            artifact("dep", &["a", "b"], "4455667788990011", false),
        );
        assert!(duplicates(&third_party(&text).unwrap()).is_empty());
    }

    #[test]
    fn bad_text_is_an_error() {
        let none = third_party("Compiling x\n").unwrap_err().to_string();
        assert!(none.starts_with("no cargo JSON message"), "{none}");
        let cut = third_party("{\"reason\": \n").unwrap_err().to_string();
        assert!(cut.starts_with("cargo JSON message on line 1: "), "{cut}");
    }
}
