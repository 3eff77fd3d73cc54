//! The build policy: `[workspace.metadata.buildplan]` in the root Cargo.toml.
//!
//! Every key is optional. Unknown keys are rejected (`deny_unknown_fields`)
//! so that a misspelt key is an error naming the file and the key, never a
//! setting that silently does nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cargo_config;
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
    /// Whether variants with several roots are built as one unified build
    /// (one compile per third-party package); `None` means yes.
    pub unify_features: Option<bool>,
    /// Variants by name; `None` means the built-in minimal/default/full.
    pub variants: Option<BTreeMap<String, VariantPolicy>>,
    /// Targets by triple; `None` means the built-in musl targets.
    pub targets: Option<BTreeMap<String, TargetPolicy>>,
    /// Profile settings layered over the manifest's `[profile.*]`.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfilePolicy>,
    /// The plan's tuned profiles ([`crate::tuned`]): `false` turns them
    /// off, a table renames them; absent means on, default names.
    pub tuned_profiles: Option<TunedProfiles>,
    /// What `cargo buildplan bench` compares by default (read by the
    /// benchmark only; its names are checked there).
    pub bench: Option<BenchPolicy>,
}

/// `[workspace.metadata.buildplan.bench]`: the benchmark's package,
/// configurations and goals. Every key is optional; left out, the benchmark
/// compares the workspace as shipped with the plan's tuned CI profile.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchPolicy {
    /// Package measured when `--package` is not given.
    pub package: Option<String>,
    /// Variant measured when `--variant` is not given.
    pub variant: Option<String>,
    /// The configuration ratios are taken against when `--against` is not
    /// given (default goals only).
    pub against: Option<String>,
    /// The configurations, in run order; `None` means the defaults
    /// (`tuned`, `shipped`).
    pub configs: Option<Vec<BenchConfigPolicy>>,
    /// The goals; `None` means the defaults.
    pub goals: Option<Vec<BenchGoalPolicy>>,
}

/// One benchmark configuration in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchConfigPolicy {
    /// Its name in the results.
    pub name: String,
    /// `shipped` (plain cargo, the workspace's own settings) or `planned`
    /// (the command `cargo buildplan build` runs).
    pub kind: String,
    /// The cargo profile it builds with.
    pub profile: String,
    /// `mold`, `lld`, `bfd` or `default`; absent: the plan's choice for a
    /// planned configuration, the workspace's own for a shipped one.
    pub linker: Option<String>,
    /// Extra `--config` profile settings (`profile.release.lto=true`) for a
    /// shipped configuration that deliberately departs from the workspace.
    #[serde(default)]
    pub settings: Vec<String>,
}

/// One benchmark goal in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchGoalPolicy {
    /// Short id.
    pub id: String,
    /// The goal for people; absent: generated from the other keys.
    pub text: Option<String>,
    /// Scenario measured.
    pub scenario: String,
    /// `wall-time`, `peak-memory` or `duplicate-compiles`.
    pub metric: String,
    /// The configuration(s) measured (the worst counts).
    pub config: StringOrList,
    /// The configuration compared against; absent with no
    /// `against-scenario`: `limit` is absolute (seconds, MiB or a count).
    pub against: Option<String>,
    /// The scenario of the comparison; absent: `scenario`.
    pub against_scenario: Option<String>,
    /// The highest figure (ratio or absolute) that passes.
    pub limit: f64,
}

/// A string or a list of strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    /// One.
    One(String),
    /// Several.
    List(Vec<String>),
}

impl Default for StringOrList {
    fn default() -> Self {
        StringOrList::List(Vec::new())
    }
}

impl StringOrList {
    /// The names, in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            StringOrList::One(s) => vec![s.clone()],
            StringOrList::List(l) => l.clone(),
        }
    }
}

/// `tuned-profiles = false | true | { dev = "NAME", ci = "NAME" }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    untagged,
    expecting = "`tuned-profiles` must be false, true or a table { dev = \"NAME\", ci = \"NAME\" } (no other keys)"
)]
pub enum TunedProfiles {
    /// On (default names) or off.
    Enabled(bool),
    /// On, under these names (a name left out keeps its default).
    Names(TunedNames),
}

/// The names of the tuned profiles.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunedNames {
    /// The fast dev profile's name.
    pub dev: Option<String>,
    /// The CI / release-fast profile's name.
    pub ci: Option<String>,
}

/// One variant in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VariantPolicy {
    /// One line for people.
    pub description: Option<String>,
    /// Root packages; `None` means every workspace member.
    pub packages: Option<Vec<String>>,
    /// Unified build of the roots for this variant; `None` follows
    /// `unify-features`.
    pub unify: Option<bool>,
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
    /// Link the C runtime statically (`+crt-static`; false: `-crt-static`).
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
    /// C++ compiler for build scripts (cc-rs), e.g. `clang++`.
    pub cxx: Option<String>,
    /// Archiver for build scripts (cc-rs), e.g. `llvm-ar`.
    pub ar: Option<String>,
    /// Flags for the target's C/C++ compiler, e.g. its libc's headers.
    #[serde(default)]
    pub c_flags: Vec<String>,
    /// The build machine's C tools (`HOST_CC`, `HOST_CXX`, `HOST_AR`).
    pub host_tools: Option<crate::model::HostTools>,
    /// Debian packages providing the target's tools and headers.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Extra rustflags appended after the generated ones.
    #[serde(default)]
    pub rustflags: Vec<String>,
}

/// Profile settings in the policy: the same keys as a `[profile.NAME]`
/// table in Cargo.toml. Keys are checked with [`crate::cargo_config::check_table`] (serde's
/// `deny_unknown_fields` cannot be combined with the flattened settings).
/// Serialised, it is the same table again (a `--config` layer).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProfilePolicy {
    /// Profile to inherit from (only for a profile the manifest lacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherits: Option<String>,
    /// Settings such as `opt-level`, `lto` or `codegen-units`.
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Per-package overrides.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub package: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Overrides for build scripts and proc-macros.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build_override: BTreeMap<String, toml::Value>,
}

impl Policy {
    /// Checks what serde cannot: profile keys, names and values that must
    /// be non-empty. `file` names the manifest holding the policy.
    pub fn validate(&self, file: &Path) -> Result<(), Error> {
        let bad = |key: String, message: String| Error::Key {
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
            cargo_config::check_table(&profile.settings, true)
                .map_err(|(key, msg)| bad(format!("{prefix}.{key}"), msg))?;
            cargo_config::check_table(&profile.build_override, false)
                .map_err(|(key, msg)| bad(format!("{prefix}.build-override.{key}"), msg))?;
            for (package, settings) in &profile.package {
                cargo_config::check_table(settings, false)
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
                if !looks_like_triple(name) {
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

/// Whether `name` looks like a target triple (`arch-vendor-os[-env]`).
pub fn looks_like_triple(name: &str) -> bool {
    let parts = name.split('-').count();
    (2..=4).contains(&parts)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy table's own text (without the `[workspace.metadata.buildplan]`
    /// prefix), parsed and validated.
    fn policy(text: &str) -> Result<Policy, String> {
        let p: Policy = toml::from_str(text).map_err(|e| e.to_string())?;
        p.validate(Path::new("ws/Cargo.toml"))
            .map_err(|e| e.to_string())?;
        Ok(p)
    }

    #[test]
    fn misspelt_profile_key_is_named() {
        let err = policy("[profiles.release]\ncodegen-unit = 4\n").unwrap_err();
        assert!(err.contains("ws/Cargo.toml"), "{err}");
        assert!(err.contains("profiles.release.codegen-unit"), "{err}");
        let err = policy("[profiles.release.package.a]\nlto = true\n").unwrap_err();
        assert!(err.contains("profiles.release.package.a.lto"), "{err}");
    }

    #[test]
    fn host_and_non_triples_are_rejected() {
        assert!(policy("[targets.host]\n").unwrap_err().contains("host"));
        assert!(policy("[targets.musl]\n")
            .unwrap_err()
            .contains("not a target triple"));
        assert!(policy("[targets.x86_64-unknown-linux-musl]\n").is_ok());
    }

    #[test]
    fn absolute_output_and_zero_memory_are_rejected() {
        let err = policy("output = \"/tmp/plan.json\"\n").unwrap_err();
        assert!(err.contains("output"), "{err}");
        let err = policy("mem-per-job-mib = 0\n").unwrap_err();
        assert!(err.contains("mem-per-job-mib"), "{err}");
    }

    #[test]
    fn triples_are_recognised() {
        assert!(looks_like_triple("x86_64-unknown-linux-musl"));
        assert!(looks_like_triple("wasm32-wasip1"));
        assert!(!looks_like_triple("musl"));
        assert!(!looks_like_triple("x86_64 linux"));
        assert!(!looks_like_triple("-a-b"));
    }
}
