//! The crates the scenarios edit, and the edits themselves (undone when
//! done with).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use buildplan::model::Plan;

/// A crate whose source the benchmark edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditTarget {
    /// Package name.
    pub package: String,
    /// The file edited: its library root if it has one, else its first
    /// binary's root.
    pub file: PathBuf,
}

/// Picks the "root" crate: among the workspace members `package` needs, the
/// one that the most workspace members depend on (ties: by name). `None`
/// when `package` has no workspace dependencies.
pub fn most_depended_upon(plan: &Plan, package: &str) -> Option<String> {
    let by_path: BTreeMap<&str, &str> = plan
        .packages
        .iter()
        .map(|(name, p)| (p.path.as_str(), name.as_str()))
        .collect();
    let needed = &plan.packages.get(package)?.workspace_deps;
    needed
        .iter()
        .filter_map(|path| by_path.get(path.as_str()).copied())
        .map(|name| {
            let path = &plan.packages[name].path;
            let users = plan
                .packages
                .values()
                .filter(|p| p.workspace_deps.contains(path))
                .count();
            (users, name)
        })
        // Highest count first; among equals, the alphabetically first name.
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, name)| name.to_string())
}

/// Finds the file to edit for `package` in the copy at `root`.
pub fn edit_target(root: &Path, package: &str) -> anyhow::Result<EditTarget> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .no_deps()
        .manifest_path(root.join("Cargo.toml"))
        .exec()
        .with_context(|| format!("reading the workspace copy at {}", root.display()))?;
    let pkg = metadata
        .workspace_packages()
        .into_iter()
        .find(|p| p.name.as_str() == package)
        .with_context(|| format!("package `{package}` is not in the workspace copy"))?;
    let of_kind = |kind: &str| {
        pkg.targets
            .iter()
            .find(|t| t.kind.iter().any(|k| k.to_string() == kind))
    };
    let target = of_kind("lib")
        .or_else(|| of_kind("bin"))
        .with_context(|| format!("package `{package}` has neither a library nor a binary"))?;
    Ok(EditTarget {
        package: package.to_string(),
        file: target.src_path.clone().into_std_path_buf(),
    })
}

/// A real code edit of one file, undone on [`SourceEdit::restore`] or drop.
///
/// Each [`SourceEdit::apply`] appends a new function returning a different
/// constant, so every run changes the crate's code (a bare `touch` would let
/// incremental compilation reuse everything).
#[derive(Debug)]
pub struct SourceEdit {
    path: PathBuf,
    original: String,
    applied: bool,
}

impl SourceEdit {
    /// Remembers the file's content.
    pub fn new(path: &Path) -> anyhow::Result<Self> {
        let original =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(SourceEdit {
            path: path.to_path_buf(),
            original,
            applied: false,
        })
    }

    /// The file's content with edit number `n` applied.
    pub fn edited_text(&self, n: u64) -> String {
        let mut text = self.original.clone();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "\n// Added by `cargo buildplan bench` (edit {n}); removed after the run.\n\
             #[doc(hidden)]\n#[allow(dead_code)]\npub fn buildplan_bench_edit() -> u64 {{\n    {}\n}}\n",
            1_000_003u64.wrapping_mul(n + 1)
        ));
        text
    }

    /// Writes edit number `n`.
    pub fn apply(&mut self, n: u64) -> anyhow::Result<()> {
        self.applied = true;
        buildplan::output::write_atomic(&self.path, &self.edited_text(n)).map(drop)
    }

    /// Puts the original content back.
    pub fn restore(&mut self) -> anyhow::Result<()> {
        if self.applied {
            buildplan::output::write_atomic(&self.path, &self.original)?;
            self.applied = false;
        }
        Ok(())
    }
}

impl Drop for SourceEdit {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            eprintln!(
                "bench: warning: could not restore {}: {e:#}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buildplan::model::{PackageInfo, WorkspaceInfo, SCHEMA_VERSION};

    fn plan_with(deps: &[(&str, &[&str])]) -> Plan {
        let packages = deps
            .iter()
            .map(|(name, d)| {
                (
                    name.to_string(),
                    PackageInfo {
                        version: "0.1.0".into(),
                        path: format!("crates/{name}"),
                        binaries: vec![],
                        features: vec![],
                        workspace_deps: d.iter().map(|x| format!("crates/{x}")).collect(),
                        workspace_test_deps: vec![],
                    },
                )
            })
            .collect();
        Plan {
            schema_version: SCHEMA_VERSION,
            generator: "cargo-buildplan".into(),
            workspace: WorkspaceInfo {
                lockfile: "Cargo.lock".into(),
                members: vec![],
                default_variant: "default".into(),
                default_profile: "release".into(),
                mem_per_job_mib: 1536,
            },
            packages,
            variants: Default::default(),
            targets: Default::default(),
            profiles: Default::default(),
        }
    }

    #[test]
    fn root_crate_is_the_most_depended_upon_dependency() {
        let plan = plan_with(&[
            ("common", &[]),
            ("proto", &["common"]),
            ("storage", &["common", "proto"]),
            ("server", &["common", "proto", "storage"]),
            ("other", &["common"]),
        ]);
        assert_eq!(
            most_depended_upon(&plan, "server").as_deref(),
            Some("common")
        );
        assert_eq!(
            most_depended_upon(&plan, "storage").as_deref(),
            Some("common")
        );
        assert_eq!(most_depended_upon(&plan, "common"), None);
        assert_eq!(most_depended_upon(&plan, "missing"), None);
        // A tie is broken by name.
        let plan = plan_with(&[("a", &[]), ("b", &[]), ("app", &["a", "b"])]);
        assert_eq!(most_depended_upon(&plan, "app").as_deref(), Some("a"));
    }
    #[test]
    fn edits_change_code_and_are_undone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lib.rs");
        std::fs::write(&file, "pub fn f() {}").unwrap();
        {
            let mut edit = SourceEdit::new(&file).unwrap();
            edit.apply(0).unwrap();
            let first = std::fs::read_to_string(&file).unwrap();
            assert!(first.starts_with("pub fn f() {}\n"));
            assert!(first.contains("pub fn buildplan_bench_edit() -> u64"));
            edit.apply(1).unwrap();
            let second = std::fs::read_to_string(&file).unwrap();
            assert_ne!(first, second, "each run is a different edit");
            edit.restore().unwrap();
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "pub fn f() {}");
            edit.apply(2).unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "pub fn f() {}",
            "dropping the edit restores the file"
        );
    }
}
