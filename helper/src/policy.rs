//! The build policy: `[workspace.metadata.buildplan]` in the root Cargo.toml.
//!
//! Every key is optional. Unknown keys are rejected (`deny_unknown_fields`)
//! so that a misspelt key is an error naming the file and the key, never a
//! setting that silently does nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::Error;

/// Default plan location, relative to the workspace root.
pub const DEFAULT_OUTPUT: &str = "nix/plan.json";
/// Default variant name.
pub const DEFAULT_VARIANT: &str = "default";
/// Default profile name.
pub const DEFAULT_PROFILE: &str = "release";
/// Default memory assumed per compile or link job, in MiB.
pub const DEFAULT_MEM_PER_JOB_MIB: u64 = 1536;

/// The parsed `[workspace.metadata.buildplan]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// Where the plan is written, relative to the workspace root.
    pub output: Option<String>,
    /// Variant used when none is named.
    pub default_variant: Option<String>,
    /// Profile used when none is named.
    pub default_profile: Option<String>,
    /// Memory one rustc or linker job is assumed to need.
    pub mem_per_job_mib: Option<u64>,
    /// Variants by name; `None` means the built-in minimal/default/full.
    pub variants: Option<BTreeMap<String, VariantPolicy>>,
    /// Targets by triple; `None` means the built-in musl targets.
    pub targets: Option<BTreeMap<String, TargetPolicy>>,
    /// Profile settings layered over the manifest's `[profile.*]`.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfilePolicy>,
}

/// One variant in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VariantPolicy {
    /// One line for people.
    pub description: Option<String>,
    /// Root packages; `None` means every workspace member.
    pub packages: Option<Vec<String>>,
    /// Feature selection per root package; roots not listed get their
    /// default features.
    #[serde(default)]
    pub features: BTreeMap<String, FeatureSelection>,
}

/// The features one package is built with.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FeatureSelection {
    /// Whether the package's `default` feature is on.
    #[serde(default = "yes")]
    pub default_features: bool,
    /// Features of the package to turn on (names declared in its
    /// `[features]` table, or implicit features of optional dependencies).
    #[serde(default)]
    pub features: Vec<String>,
}

impl Default for FeatureSelection {
    fn default() -> Self {
        Self {
            default_features: true,
            features: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// One compilation target in the policy. Keys left out are absent (a
/// target named here does not inherit the built-in settings of the same
/// triple).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetPolicy {
    /// Linker driver cargo calls, e.g. `clang`.
    pub linker: Option<String>,
    /// `-fuse-ld=` value, e.g. `mold` or `lld`.
    pub fuse_ld: Option<String>,
    /// `-C target-cpu` value.
    pub target_cpu: Option<String>,
    /// Link the C runtime statically (`+crt-static`).
    #[serde(default, rename = "static")]
    pub is_static: bool,
    /// nixpkgs `pkgsCross` attribute providing the C toolchain.
    pub nix_cross: Option<String>,
    /// Pass `--target=<triple>` to the linker driver (needed when clang
    /// links for another architecture than its default).
    #[serde(default)]
    pub link_target: bool,
    /// C compiler for build scripts (cc-rs), e.g. `clang`.
    pub cc: Option<String>,
    /// Archiver for build scripts (cc-rs), e.g. `llvm-ar`.
    pub ar: Option<String>,
    /// Extra rustflags appended after the generated ones.
    #[serde(default)]
    pub rustflags: Vec<String>,
}

/// Profile settings in the policy: the same keys as a `[profile.NAME]`
/// table in Cargo.toml. Keys are checked by [`crate::profiles`] (serde's
/// `deny_unknown_fields` cannot be combined with the flattened settings).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProfilePolicy {
    /// Profile to inherit from (only for a profile the manifest lacks).
    pub inherits: Option<String>,
    /// Settings such as `opt-level`, `lto` or `codegen-units`.
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Per-package overrides.
    #[serde(default)]
    pub package: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Overrides for build scripts and proc-macros.
    #[serde(default)]
    pub build_override: BTreeMap<String, toml::Value>,
}

/// Just enough of a manifest to reach the policy table, so that errors
/// inside it carry the manifest's line and column.
#[derive(Deserialize)]
struct ManifestShell {
    workspace: Option<WorkspaceShell>,
}

#[derive(Deserialize)]
struct WorkspaceShell {
    metadata: Option<MetadataShell>,
}

#[derive(Deserialize)]
struct MetadataShell {
    buildplan: Option<Policy>,
}

impl Policy {
    /// Parses the policy out of a root manifest's text. `file` is used only
    /// in error messages.
    pub fn from_manifest_str(text: &str, file: &Path) -> Result<Self, Error> {
        // Syntax first, so that a broken manifest is not reported as a bad
        // policy; then the policy, parsed from the text to keep line numbers.
        text.parse::<toml::Table>().map_err(|e| Error::Manifest {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
        let shell: ManifestShell = toml::from_str(text).map_err(|e| Error::Policy {
            file: file.display().to_string(),
            message: e.to_string(),
        })?;
        let policy = shell
            .workspace
            .and_then(|w| w.metadata)
            .and_then(|m| m.buildplan)
            .unwrap_or_default();
        policy.validate(file)?;
        Ok(policy)
    }

    /// Reads and parses the policy from a root manifest file.
    pub fn load(manifest: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(manifest).map_err(|e| Error::Io {
            path: manifest.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_manifest_str(&text, manifest)
    }

    /// Checks what serde cannot: profile keys, names and values that must
    /// be non-empty.
    fn validate(&self, file: &Path) -> Result<(), Error> {
        let bad = |key: String, message: String| Error::PolicyKey {
            file: file.display().to_string(),
            key,
            message,
        };
        if let Some(output) = &self.output {
            if output.is_empty() || Path::new(output).is_absolute() {
                return Err(bad(
                    "workspace.metadata.buildplan.output".into(),
                    "must be a path relative to the workspace root".into(),
                ));
            }
        }
        if self.mem_per_job_mib == Some(0) {
            return Err(bad(
                "workspace.metadata.buildplan.mem-per-job-mib".into(),
                "must be at least 1".into(),
            ));
        }
        for (name, profile) in &self.profiles {
            let prefix = format!("workspace.metadata.buildplan.profiles.{name}");
            crate::profiles::check_settings(&profile.settings, true)
                .map_err(|(key, msg)| bad(format!("{prefix}.{key}"), msg))?;
            crate::profiles::check_settings(&profile.build_override, false)
                .map_err(|(key, msg)| bad(format!("{prefix}.build-override.{key}"), msg))?;
            for (package, settings) in &profile.package {
                crate::profiles::check_settings(settings, false)
                    .map_err(|(key, msg)| bad(format!("{prefix}.package.{package}.{key}"), msg))?;
            }
        }
        if let Some(targets) = &self.targets {
            for name in targets.keys() {
                if name == "host" {
                    return Err(bad(
                        "workspace.metadata.buildplan.targets.host".into(),
                        "the host target is always present and has no settings; \
                         name target triples only"
                            .into(),
                    ));
                }
                if !crate::targets::looks_like_triple(name) {
                    return Err(bad(
                        format!("workspace.metadata.buildplan.targets.{name}"),
                        "is not a target triple (expected e.g. x86_64-unknown-linux-musl)".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, Error> {
        Policy::from_manifest_str(text, Path::new("ws/Cargo.toml"))
    }

    #[test]
    fn no_policy_is_default() {
        let p = parse("[workspace]\nmembers = []\n").unwrap();
        assert_eq!(p, Policy::default());
        let p = parse("[package]\nname = \"x\"\n").unwrap();
        assert_eq!(p, Policy::default());
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
        .unwrap();
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
    fn misspelt_key_names_file_and_key() {
        let err = parse("[workspace.metadata.buildplan]\ndefault-varaint = \"x\"\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ws/Cargo.toml"), "{msg}");
        assert!(msg.contains("default-varaint"), "{msg}");
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
    fn misspelt_profile_key_is_named() {
        let err = parse("[workspace.metadata.buildplan.profiles.release]\ncodegen-unit = 4\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("profiles.release.codegen-unit"), "{msg}");
    }

    #[test]
    fn broken_toml_is_a_manifest_error() {
        let err = parse("[workspace\n").unwrap_err();
        assert!(matches!(err, Error::Manifest { .. }), "{err}");
        assert!(
            err.to_string().starts_with("ws/Cargo.toml: not valid TOML"),
            "{err}"
        );
    }

    #[test]
    fn host_and_non_triples_are_rejected() {
        assert!(parse("[workspace.metadata.buildplan.targets.host]\n").is_err());
        assert!(parse("[workspace.metadata.buildplan.targets.musl]\n").is_err());
    }

    #[test]
    fn absolute_output_is_rejected() {
        let err =
            parse("[workspace.metadata.buildplan]\noutput = \"/tmp/plan.json\"\n").unwrap_err();
        assert!(err.to_string().contains("output"), "{err}");
    }
}
