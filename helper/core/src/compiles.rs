//! Which third-party packages a series of cargo builds compiled, and with
//! which features, read from cargo's JSON messages
//! (`--message-format json`, standard output).
//!
//! Pure: text in, values out. Several invocations may be concatenated; each
//! one ends with a `build-finished` message, which is how they are told
//! apart (text after the last `build-finished`, e.g. a build that was cut
//! off, counts as one more invocation).
//!
//! Two kinds of "compiled more than once with different features":
//!
//! - **Between invocations** ([`duplicates`]): the same package gets a
//!   feature set in one invocation that another invocation did not use. A
//!   cache filled by the first misses for the second, so the package is
//!   compiled again: over all invocations cargo compiled more distinct
//!   (target, features) units than any one invocation needs. This is what
//!   unified builds remove.
//! - **Within one invocation** ([`host_copies`]): cargo's resolver (v2)
//!   resolves build dependencies and proc-macros separately from normal
//!   dependencies, so one invocation can compile a package once for the
//!   host (build scripts, proc-macros) and once for the target, with
//!   different features. Units are told apart by the `-C metadata` hash in
//!   their file names (`libitoa-<hash>.rlib`); with `--target`, host units
//!   also sit in `<target-dir>/<profile>/deps` and target units in
//!   `<target-dir>/<triple>/<profile>/deps`. Without `--target` both share
//!   one directory and only the hash differs. These copies are inherent to
//!   the invocation (the same in every one of them) and are reported
//!   apart; no build layout removes them short of giving the host and the
//!   target the same features.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use cargo_metadata::Message;

use crate::why::messages::{parse_package_id, read, SourceKind};
use crate::why::WhyError;

/// One `compiler-artifact` of a third-party package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Compile {
    /// Which invocation (0-based, in the order of the text) reported it.
    pub invocation: usize,
    /// Target name (`itoa`, `build-script-build`).
    pub target: String,
    /// Target kinds (`lib`, `proc-macro`, `custom-build`).
    pub kinds: Vec<String>,
    /// The features the unit was compiled with, sorted.
    pub features: Vec<String>,
    /// `true` when cargo reused the artifact (no rustc run).
    pub fresh: bool,
    /// The `-C metadata` hash from the first file name (`lib<name>-<hash>.<ext>`,
    /// `build_script_build-<hash>`), identifying the unit; `None` when the
    /// file name has none.
    pub metadata: Option<String>,
}

/// Every compile of one third-party package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The distinct feature sets of its units in `invocation`.
    pub fn feature_sets_in(&self, invocation: usize) -> BTreeSet<&Vec<String>> {
        self.compiles
            .iter()
            .filter(|c| c.invocation == invocation)
            .map(|c| &c.features)
            .collect()
    }

    /// The invocations that have a unit of this package, sorted.
    pub fn invocations(&self) -> BTreeSet<usize> {
        self.compiles.iter().map(|c| c.invocation).collect()
    }

    /// Units cargo actually compiled (not fresh).
    pub fn compiled(&self) -> impl Iterator<Item = &Compile> {
        self.compiles.iter().filter(|c| !c.fresh)
    }
}

/// The messages could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompilesError {
    /// No cargo JSON message at all: not `--message-format json` output.
    #[error("no cargo JSON message in the text (was cargo run with --message-format json?)")]
    NoMessages,
    /// A line that should be a message is not.
    #[error("cargo's JSON messages, line {line}: {problem}")]
    Messages {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

/// Reads `stdout` (one or more invocations' JSON messages, with
/// [`crate::why::messages::read`], i.e. `cargo_metadata::Message`) and
/// returns every third-party package's compiles (package id source not
/// `path+`), by package id.
pub fn third_party(stdout: &str) -> Result<BTreeMap<String, PackageCompiles>, CompilesError> {
    let messages = read(stdout).map_err(|e| match e {
        WhyError::Messages { line, problem } => CompilesError::Messages { line, problem },
        _ => CompilesError::NoMessages,
    })?;
    let mut out: BTreeMap<String, PackageCompiles> = BTreeMap::new();
    let mut invocation = 0usize;
    for (line, msg) in &messages {
        let a = match msg {
            Message::BuildFinished(_) => {
                invocation += 1;
                continue;
            }
            Message::CompilerArtifact(a) => a,
            _ => continue,
        };
        let id = &a.package_id.repr;
        let (source, name, version) =
            parse_package_id(id).ok_or_else(|| CompilesError::Messages {
                line: *line,
                problem: format!("unreadable package id `{id}`"),
            })?;
        if source == SourceKind::Path {
            continue;
        }
        let mut features = a.features.clone();
        features.sort();
        let compile = Compile {
            invocation,
            target: a.target.name.clone(),
            kinds: a.target.kind.iter().map(ToString::to_string).collect(),
            features,
            fresh: a.fresh,
            metadata: a.filenames.first().and_then(|f| metadata_hash(f.as_str())),
        };
        out.entry(id.clone())
            .or_insert_with(|| PackageCompiles {
                package_id: id.clone(),
                name,
                version,
                compiles: Vec::new(),
            })
            .compiles
            .push(compile);
    }
    Ok(out)
}

/// The unit hash of an artifact path: the part after the last `-` of the
/// file stem (`libitoa-0a1b2c.rlib` → `0a1b2c`), when it is hex, else the
/// unit directory of the newer build-dir layout
/// (`build/<package>/<hash>/out/build_script_build`).
fn metadata_hash(path: &str) -> Option<String> {
    let mut parts = path.rsplit(['/', '\\']);
    let file = parts.next()?;
    let stem = file.split('.').next()?;
    let in_name = stem
        .rsplit_once('-')
        .map(|(_, h)| h)
        .filter(|h| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()));
    let in_dir = || parts.nth(1).filter(|d| crate::layout::is_hash(d));
    in_name.or_else(in_dir).map(str::to_string)
}

/// One feature set a package was built with, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureUse {
    /// The features, sorted.
    pub features: Vec<String>,
    /// The invocations that used this set, sorted.
    pub invocations: Vec<usize>,
    /// How many units with this set cargo compiled (not fresh).
    pub compiled: usize,
}

/// A package built with more than one feature set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    /// cargo's package id.
    pub package_id: String,
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Each distinct feature set.
    pub uses: Vec<FeatureUse>,
}

impl std::fmt::Display for Duplicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:", self.name, self.version)?;
        for (i, u) in self.uses.iter().enumerate() {
            let features = if u.features.is_empty() {
                "(no features)".to_string()
            } else {
                u.features.join(",")
            };
            let inv: Vec<String> = u
                .invocations
                .iter()
                .map(|i| format!("#{}", i + 1))
                .collect();
            write!(
                f,
                "{} [{features}] in build {} ({} compile(s))",
                if i == 0 { "" } else { ";" },
                inv.join(","),
                u.compiled
            )?;
        }
        Ok(())
    }
}

fn uses(p: &PackageCompiles) -> Vec<FeatureUse> {
    let mut by_set: BTreeMap<&Vec<String>, (BTreeSet<usize>, usize)> = BTreeMap::new();
    for c in &p.compiles {
        let e = by_set.entry(&c.features).or_default();
        e.0.insert(c.invocation);
        if !c.fresh {
            e.1 += 1;
        }
    }
    by_set
        .into_iter()
        .map(|(features, (inv, compiled))| FeatureUse {
            features: features.clone(),
            invocations: inv.into_iter().collect(),
            compiled,
        })
        .collect()
}

fn duplicate(p: &PackageCompiles) -> Duplicate {
    Duplicate {
        package_id: p.package_id.clone(),
        name: p.name.clone(),
        version: p.version.clone(),
        uses: uses(p),
    }
}

/// A unit's identity for counting: its target (lib, build script, ...) and
/// its features.
fn unit_key(c: &Compile) -> (&str, &Vec<String>) {
    (&c.target, &c.features)
}

/// The most distinct (target, features) units any one invocation of the
/// package used (compiled or fresh): what one build needs anyway, host and
/// target copies included.
fn needed_per_invocation(p: &PackageCompiles) -> usize {
    p.invocations()
        .iter()
        .map(|&i| {
            p.compiles
                .iter()
                .filter(|c| c.invocation == i)
                .map(unit_key)
                .collect::<BTreeSet<_>>()
                .len()
        })
        .max()
        .unwrap_or(0)
}

/// Packages compiled more than once with DIFFERENT features across
/// invocations: cargo compiled (not fresh) more distinct (target, features)
/// units of the package, over all invocations, than any single invocation
/// needs. A host and a target copy inside one invocation therefore do not
/// count (see [`host_copies`]), even when a later invocation needs only one
/// of them; a feature set one invocation adds on top of another's does.
pub fn duplicates(compiles: &BTreeMap<String, PackageCompiles>) -> Vec<Duplicate> {
    compiles
        .values()
        .filter(|p| {
            let compiled: BTreeSet<_> = p.compiled().map(unit_key).collect();
            compiled.len() > needed_per_invocation(p)
        })
        .map(duplicate)
        .collect()
}

/// Packages that one invocation builds with more than one feature set for
/// the same target (a host copy for build scripts and proc-macros and a
/// target copy).
pub fn host_copies(compiles: &BTreeMap<String, PackageCompiles>) -> Vec<Duplicate> {
    compiles
        .values()
        .filter(|p| {
            p.invocations().iter().any(|&i| {
                let mut by_target: BTreeMap<&str, BTreeSet<&Vec<String>>> = BTreeMap::new();
                for c in p.compiles.iter().filter(|c| c.invocation == i) {
                    by_target.entry(&c.target).or_default().insert(&c.features);
                }
                by_target.values().any(|sets| sets.len() > 1)
            })
        })
        .map(duplicate)
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

    fn artifact(pkg: &str, features: &[&str], hash: &str, fresh: bool) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": format!("{REG}#{pkg}@1.0.0"),
            "target": {"kind": ["lib"], "crate_types": ["lib"], "name": pkg, "src_path": "/r/src/lib.rs"},
            "manifest_path": "/r/Cargo.toml",
            "profile": {"opt_level": "3", "debug_assertions": false, "overflow_checks": false, "test": false},
            "executable": null,
            "features": features,
            "filenames": [format!("/t/release/deps/lib{pkg}-{hash}.rlib")],
            "fresh": fresh,
        })
        .to_string()
    }

    fn member() -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": "path+file:///w/app#0.1.0",
            "target": {"kind": ["bin"], "crate_types": ["bin"], "name": "app", "src_path": "/w/src/main.rs"},
            "manifest_path": "/w/Cargo.toml",
            "profile": {"opt_level": "3", "debug_assertions": false, "overflow_checks": false, "test": false},
            "executable": "/t/release/app",
            "features": [],
            "filenames": ["/t/release/app"],
            "fresh": false,
        })
        .to_string()
    }

    const DONE: &str = r#"{"reason":"build-finished","success":true}"#;

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
        assert_eq!(d[0].uses.len(), 2);
        assert_eq!(d[0].uses[1].features, ["a", "b"]);
        assert_eq!(d[0].uses[1].invocations, [1]);
        assert!(host_copies(&c).is_empty());
        assert_eq!(compiled_in(&c, 1), 1);
        assert_eq!(
            c.values().next().unwrap().compiles[0].metadata.as_deref(),
            Some("00112233aabbccdd")
        );
        assert!(d[0].to_string().starts_with("dep@1.0.0: [a] in build #1"));
    }

    #[test]
    fn same_features_fresh_in_the_second_build_is_no_duplicate() {
        let text = [
            artifact("dep", &["b", "a"], "00112233aabbccdd", false),
            DONE.into(),
            artifact("dep", &["a", "b"], "00112233aabbccdd", true),
            DONE.into(),
        ]
        .join("\n");
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
        let text = [
            artifact("dep", &["a"], "00112233aabbccdd", true),
            DONE.into(),
            artifact("dep", &["a", "b"], "4455667788990011", false),
            DONE.into(),
        ]
        .join("\n");
        assert!(duplicates(&third_party(&text).unwrap()).is_empty());
    }

    #[test]
    fn bad_text_is_an_error() {
        assert_eq!(
            third_party("Compiling x\n").unwrap_err(),
            CompilesError::NoMessages
        );
        assert!(matches!(
            third_party("{\"reason\": \n").unwrap_err(),
            CompilesError::Messages { line: 1, .. }
        ));
    }

    #[test]
    fn unit_hashes_in_both_build_dir_layouts() {
        let h = "0123456789abcdef";
        assert_eq!(
            metadata_hash(&format!("/t/release/deps/libitoa-{h}.rlib")).as_deref(),
            Some(h)
        );
        let new = format!("/t/release/build/ring/{h}/out/build_script_build");
        assert_eq!(metadata_hash(&new).as_deref(), Some(h));
        assert_eq!(metadata_hash("/t/release/app"), None);
    }
}
