//! The workspace from `cargo metadata`: members, binaries, features, member
//! dependencies; paths relative to the root, with `/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cargo_metadata::DependencyKind::{self, Development};
use cargo_metadata::{MetadataCommand, TargetKind};

use crate::error::Error;

/// A loaded workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Absolute workspace root directory.
    pub root: PathBuf,
    /// Absolute path of the root Cargo.toml.
    pub root_manifest: PathBuf,
    /// Members by package name.
    pub members: BTreeMap<String, Member>,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Directory relative to the root, `/`-separated (`.` for the root).
    pub path: String,
    /// Binary target names, sorted.
    pub binaries: Vec<String>,
    /// Declared (and implicit) features with what each enables.
    pub features: BTreeMap<String, Vec<String>>,
    /// The members it depends on directly (optional ones too), with kinds.
    pub member_deps: Vec<(String, DependencyKind)>,
}

impl Workspace {
    /// Loads the workspace of `manifest_path` (or the current directory).
    pub fn load(manifest_path: Option<&Path>) -> anyhow::Result<Self> {
        Self::from_metadata(&metadata(manifest_path)?)
    }

    /// As [`Self::load`], from the full `cargo metadata` (with `--locked`
    /// if `locked`), also returned as guppy's graph for the feature audit.
    pub fn load_graph(
        manifest_path: Option<&Path>,
        locked: bool,
    ) -> anyhow::Result<(Self, guppy::graph::PackageGraph)> {
        // `--all-features`: the resolve graph then holds every optional
        // dependency, which guppy needs to simulate any feature selection.
        let mut extra = vec!["--all-features"];
        if locked {
            extra.push("--locked");
        }
        let stdout = metadata_json(manifest_path, &extra)?;
        let graph = guppy::CargoMetadata::parse_json(&stdout)
            .and_then(guppy::CargoMetadata::build_graph)
            .context("cargo metadata printed unexpected output")?;
        let metadata =
            MetadataCommand::parse(stdout).context("cargo metadata printed unexpected output")?;
        Ok((Self::from_metadata(&metadata)?, graph))
    }

    /// Builds the workspace model from parsed `cargo metadata` output.
    pub fn from_metadata(metadata: &cargo_metadata::Metadata) -> anyhow::Result<Self> {
        let root = metadata.workspace_root.clone().into_std_path_buf();
        let packages = metadata.workspace_packages();
        // Member directories by name, to recognise path dependencies.
        let by_dir: BTreeMap<_, _> = (packages.iter().copied())
            .filter_map(|p| Some((p.manifest_path.parent()?, p.name.to_string())))
            .collect();
        let mut members = BTreeMap::new();
        for p in packages {
            let dir = (p.manifest_path.parent())
                .context("a member's manifest path has no parent directory")?;
            let bins = (p.targets.iter()).filter(|t| t.kind.contains(&TargetKind::Bin));
            let mut binaries: Vec<String> = bins.map(|t| t.name.clone()).collect();
            binaries.sort();
            let member_deps = (p.dependencies.iter())
                .filter_map(|dep| {
                    let name = by_dir.get(dep.path.as_deref()?)?;
                    (name != p.name.as_str()).then(|| (name.clone(), dep.kind))
                })
                .collect();
            let name = p.name.to_string();
            let member = Member {
                name: name.clone(),
                version: p.version.to_string(),
                path: relative(&root, dir.as_std_path())?,
                binaries,
                features: p.features.clone(),
                member_deps,
            };
            members.insert(name, member);
        }
        Ok(Self {
            root_manifest: root.join("Cargo.toml"),
            root,
            members,
        })
    }

    /// The members `name` needs to build, transitively, without itself.
    pub fn build_closure(&self, name: &str) -> BTreeSet<String> {
        self.closure(name, false)
    }

    /// As [`Self::build_closure`], with the package's dev-dependencies.
    pub fn test_closure(&self, name: &str) -> BTreeSet<String> {
        self.closure(name, true)
    }

    fn closure(&self, name: &str, dev: bool) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        self.walk(name, &mut seen);
        for (dep, _) in self.deps(name).filter(|(_, k)| dev && *k == Development) {
            self.walk(dep, &mut seen);
        }
        seen.remove(name);
        seen
    }

    /// The direct member dependencies of `name`.
    fn deps(&self, name: &str) -> impl Iterator<Item = &(String, DependencyKind)> {
        let member = self.members.get(name);
        member.into_iter().flat_map(|m| &m.member_deps)
    }

    fn walk(&self, name: &str, seen: &mut BTreeSet<String>) {
        if seen.insert(name.to_string()) {
            for (dep, _) in self.deps(name).filter(|(_, k)| *k != Development) {
                self.walk(dep, seen);
            }
        }
    }

    /// Paths of the named members, sorted.
    pub fn paths<'a>(&self, names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        let path = |n: &String| Some(self.members.get(n)?.path.clone());
        let mut paths: Vec<String> = names.into_iter().filter_map(path).collect();
        paths.sort();
        paths
    }
}

/// `cargo metadata --no-deps` of `manifest_path` (or the current directory).
pub fn metadata(manifest_path: Option<&Path>) -> Result<cargo_metadata::Metadata, Error> {
    MetadataCommand::parse(metadata_json(manifest_path, &["--no-deps"])?)
        .map_err(|e| Error::invalid(format!("cargo metadata printed unexpected output: {e}")))
}

/// The output of `cargo metadata --format-version 1 <extra>`.
fn metadata_json(manifest_path: Option<&Path>, extra: &[&str]) -> Result<String, Error> {
    let mut cmd = MetadataCommand::new();
    if let Some(path) = manifest_path {
        if !path.is_file() {
            return Err(Error::io(path, "no such file (given with --manifest-path)"));
        }
        cmd.manifest_path(path);
    }
    cmd.other_options(extra.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    crate::exec::capture(cmd.cargo_command().env("CARGO_TERM_COLOR", "never"))
}

/// `path` relative to `root`, `/`-separated; `.` when they are equal.
pub fn relative(root: &Path, path: &Path) -> anyhow::Result<String> {
    let rel = path.strip_prefix(root).map_err(|_| {
        let (path, root) = (path.display(), root.display());
        anyhow::anyhow!("workspace member {path} lies outside the workspace root {root}")
    })?;
    Ok(if rel.as_os_str().is_empty() {
        ".".to_string()
    } else {
        rel.to_string_lossy().into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use DependencyKind::{Build, Development as Dev, Normal};

    fn member(name: &str, deps: &[(&str, DependencyKind)]) -> Member {
        Member {
            name: name.into(),
            version: "0.1.0".into(),
            path: format!("crates/{name}"),
            binaries: vec![],
            features: BTreeMap::new(),
            member_deps: deps.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
        }
    }

    fn ws(members: Vec<Member>) -> Workspace {
        Workspace {
            root: "/r".into(),
            root_manifest: "/r/Cargo.toml".into(),
            members: members.into_iter().map(|m| (m.name.clone(), m)).collect(),
        }
    }

    #[test]
    fn closures_follow_normal_and_build_but_dev_only_at_the_top() {
        let w = ws(vec![
            member("app", &[("lib", Normal), ("testkit", Dev)]),
            member("lib", &[("gen", Build), ("bench", Dev)]),
            member("gen", &[]),
            member("testkit", &[("lib", Normal)]),
            member("bench", &[]),
        ]);
        let names = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
        assert_eq!(names(w.build_closure("app")), ["gen", "lib"]);
        assert_eq!(names(w.test_closure("app")), ["gen", "lib", "testkit"]);
        assert_eq!(names(w.build_closure("gen")), Vec::<String>::new());
        assert_eq!(names(w.test_closure("lib")), ["bench", "gen"]);
    }

    #[test]
    fn cycles_through_dev_dependencies_terminate() {
        let w = ws(vec![
            member("a", &[("b", Dev)]),
            member("b", &[("a", Normal)]),
        ]);
        assert!(w.build_closure("a").is_empty());
        assert_eq!(w.test_closure("a").into_iter().collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn relative_paths_use_slashes_and_dot_for_root() {
        let root = Path::new("/w");
        assert_eq!(relative(root, Path::new("/w")).unwrap(), ".");
        assert_eq!(
            relative(root, Path::new("/w/crates/a")).unwrap(),
            "crates/a"
        );
        assert!(relative(root, Path::new("/elsewhere")).is_err());
    }
}
