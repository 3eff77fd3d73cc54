//! The root Cargo.toml, read and parsed once: its build policy and its raw
//! `[profile]` table (checked later by [`crate::cargo_config`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{error::Error, policy::Policy};

/// What the helper needs from the root manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct RootManifest {
    /// The manifest's path (used in messages).
    pub path: PathBuf,
    /// `[workspace.metadata.buildplan]`, validated; the default when absent.
    pub policy: Policy,
    /// The `[profile]` value as written, if any.
    pub profile: Option<toml::Value>,
    /// Cargo's feature resolver: as written, else the edition's default.
    pub resolver: crate::audit::Resolver,
}

/// Just enough of a manifest for one parse to yield policy and profiles.
#[derive(Deserialize)]
struct ManifestShell {
    workspace: Option<WorkspaceShell>,
    package: Option<PackageShell>,
    profile: Option<toml::Value>,
}

#[derive(Deserialize)]
struct WorkspaceShell {
    metadata: Option<MetadataShell>,
    resolver: Option<String>,
    package: Option<PackageShell>,
}

/// `[package]` or `[workspace.package]`.
#[derive(Deserialize)]
struct PackageShell {
    resolver: Option<String>,
    edition: Option<toml::Value>,
}

#[derive(Deserialize)]
struct MetadataShell {
    buildplan: Option<Policy>,
}

impl RootManifest {
    /// Reads and parses the manifest at `path`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses a manifest's text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let shell: ManifestShell = toml::from_str(text).map_err(|e| {
            // Only on failure: tell a broken manifest from a bad policy.
            match text.parse::<toml::Table>() {
                Err(syntax) => Error::toml(&file, syntax),
                Ok(_) => Error::invalid(format!(
                    "{file}: invalid build policy [workspace.metadata.buildplan]:\n{e}"
                )),
            }
        })?;
        let resolver = resolver(&shell);
        let metadata = shell.workspace.and_then(|w| w.metadata);
        let policy = metadata.and_then(|m| m.buildplan).unwrap_or_default();
        policy.validate(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            policy,
            profile: shell.profile,
            resolver,
        })
    }
}

/// [`RootManifest::resolver`] of a manifest.
fn resolver(shell: &ManifestShell) -> crate::audit::Resolver {
    let (workspace, package) = (shell.workspace.as_ref(), shell.package.as_ref());
    let named = workspace
        .and_then(|w| w.resolver.as_deref())
        .or_else(|| package.and_then(|p| p.resolver.as_deref()));
    let edition = package.and_then(|p| match &p.edition {
        Some(toml::Value::String(e)) => Some(e.as_str()),
        Some(_) => workspace
            .and_then(|w| w.package.as_ref())
            .and_then(|p| p.edition.as_ref())
            .and_then(toml::Value::as_str),
        None => Some("2015"),
    });
    match (named, edition) {
        (Some("1"), _) | (None, None | Some("2015" | "2018")) => crate::audit::Resolver::V1,
        _ => crate::audit::Resolver::V2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RootManifest, Error> {
        RootManifest::parse(text, Path::new("ws/Cargo.toml"))
    }

    #[test]
    fn the_feature_resolver_follows_cargos_defaults() {
        use crate::audit::Resolver::{V1, V2};
        let cases = [
            ("[workspace]\nmembers = []\n", V1),
            ("[workspace]\nresolver = \"2\"\n", V2),
            ("[workspace]\nresolver = \"3\"\n", V2),
            ("[package]\nname = \"x\"\n", V1),
            ("[package]\nname = \"x\"\nedition = \"2018\"\n", V1),
            ("[package]\nname = \"x\"\nedition = \"2021\"\n", V2),
            (
                "[package]\nname = \"x\"\nedition = \"2021\"\nresolver = \"1\"\n",
                V1,
            ),
            (
                "[workspace.package]\nedition = \"2024\"\n[package]\nname = \"x\"\nedition.workspace = true\n",
                V2,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap().resolver, want, "{text}");
        }
    }

    #[test]
    fn no_policy_is_default() {
        let m = parse("[workspace]\nmembers = []\n").unwrap();
        assert_eq!(m.policy, Policy::default());
        assert_eq!(m.profile, None);
        let m = parse("[package]\nname = \"x\"\n[profile.dev]\nopt-level = 1\n").unwrap();
        assert_eq!(m.policy, Policy::default());
        assert!(m.profile.unwrap().get("dev").is_some());
    }

    #[test]
    fn full_policy_parses() {
        let p = parse(
            r#"
[workspace.metadata.buildplan]
output = "out/plan.json"
default-variant = "lean"
mem-per-job-mib = 2048
[workspace.metadata.buildplan.variants.lean]
packages = ["a"]
features.a = { default-features = false, features = ["x"] }
[workspace.metadata.buildplan.targets.x86_64-unknown-linux-musl]
linker = "clang"
fuse-ld = "mold"
static = true
[workspace.metadata.buildplan.profiles.release]
codegen-units = 4
package.a = { opt-level = 3 }
"#,
        )
        .unwrap()
        .policy;
        assert_eq!(p.output.as_deref(), Some("out/plan.json"));
        assert_eq!(p.mem_per_job_mib, Some(2048));
        let lean = &p.variants.as_ref().unwrap()["lean"];
        assert_eq!(lean.packages.as_deref(), Some(&["a".to_string()][..]));
        assert!(!lean.features["a"].default_features);
        let t = &p.targets.as_ref().unwrap()["x86_64-unknown-linux-musl"];
        assert!(t.is_static);
        assert_eq!(t.fuse_ld.as_deref(), Some("mold"));
        let rel = &p.profiles["release"];
        assert_eq!(rel.settings["codegen-units"], toml::Value::Integer(4));
        assert_eq!(rel.package["a"]["opt-level"], toml::Value::Integer(3));
    }

    #[test]
    fn misspelt_key_names_file_key_and_line() {
        let err = parse("[workspace.metadata.buildplan]\ndefault-varaint = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("invalid build policy"), "{msg}");
        assert!(msg.contains("ws/Cargo.toml"), "{msg}");
        assert!(msg.contains("default-varaint"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn misspelt_nested_key_is_named() {
        let err = parse(
            "[workspace.metadata.buildplan.targets.x86_64-unknown-linux-musl]\nfuse_ld = \"mold\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("fuse_ld"), "{err}");
        let err =
            parse("[workspace.metadata.buildplan.variants.v]\npackage = [\"a\"]\n").unwrap_err();
        assert!(err.to_string().contains("package"), "{err}");
    }

    #[test]
    fn broken_toml_is_a_manifest_error() {
        let err = parse("[workspace\n").unwrap_err();
        assert!(matches!(err, Error::Toml { .. }), "{err}");
        assert!(
            err.to_string().starts_with("ws/Cargo.toml: not valid TOML"),
            "{err}"
        );
    }

    #[test]
    fn policy_values_are_validated() {
        let err =
            parse("[workspace.metadata.buildplan]\noutput = \"/tmp/plan.json\"\n").unwrap_err();
        assert!(err.to_string().contains("output"), "{err}");
    }
}
