//! The build policy, `[workspace.metadata.buildplan]` in the root
//! Cargo.toml: every key optional, unknown keys rejected.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

use crate::{cargo_config::ProfileTable, error::Error};

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
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    /// Where the plan is written, relative to the workspace root.
    pub output: Option<String>,
    /// Variant used when none is named.
    pub default_variant: Option<String>,
    /// Profile used when none is named.
    pub default_profile: Option<String>,
    /// Memory one rustc or linker job is assumed to need.
    pub mem_per_job_mib: Option<u64>,
    /// Whether several roots are built as one unified build (default yes).
    pub unify_features: Option<bool>,
    /// Variants by name; `None` means the built-in minimal/default/full.
    pub variants: Option<BTreeMap<String, VariantPolicy>>,
    /// Targets by triple; `None` means the built-in musl targets.
    pub targets: Option<BTreeMap<String, TargetPolicy>>,
    /// Profile settings layered over the manifest's `[profile.*]`.
    pub profiles: BTreeMap<String, ProfileTable>,
    /// The plan's tuned profiles ([`crate::tuned`]): off, on or renamed.
    pub tuned_profiles: Option<TunedProfiles>,
    /// `[workspace.metadata.buildplan.bench]`, read by the benchmark.
    pub bench: Option<toml::Value>,
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
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VariantPolicy {
    /// One line for people.
    pub description: Option<String>,
    /// Root packages; `None` means every workspace member.
    pub packages: Option<Vec<String>>,
    /// Unified build of the roots; `None` follows `unify-features`.
    pub unify: Option<bool>,
    /// Feature selection per root (default: its default features).
    pub features: BTreeMap<String, FeatureSelection>,
}

/// The features one package is built with.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct FeatureSelection {
    /// Whether the package's `default` feature is on.
    pub default_features: bool,
    /// Features of the package to turn on (declared or implicit ones).
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

/// One compilation target in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetPolicy {
    /// Linker driver cargo calls, e.g. `clang`.
    pub linker: Option<String>,
    /// `-fuse-ld=` value, e.g. `mold` or `lld`.
    pub fuse_ld: Option<String>,
    /// `-C target-cpu` value.
    pub target_cpu: Option<String>,
    /// Link the C runtime statically (`+crt-static`; false: `-crt-static`).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// nixpkgs `pkgsCross` attribute providing the C toolchain.
    pub nix_cross: Option<String>,
    /// Pass `--target=<triple>` to the linker driver (a cross clang).
    pub link_target: bool,
    /// C compiler for build scripts (cc-rs), e.g. `clang`.
    pub cc: Option<String>,
    /// C++ compiler for build scripts (cc-rs), e.g. `clang++`.
    pub cxx: Option<String>,
    /// Archiver for build scripts (cc-rs), e.g. `llvm-ar`.
    pub ar: Option<String>,
    /// Flags for the target's C/C++ compiler, e.g. its libc's headers.
    pub c_flags: Vec<String>,
    /// The build machine's C tools (`HOST_CC`, `HOST_CXX`, `HOST_AR`).
    pub host_tools: Option<crate::model::HostTools>,
    /// Debian packages providing the target's tools and headers.
    pub packages: Vec<String>,
    /// Extra rustflags appended after the generated ones.
    pub rustflags: Vec<String>,
}

impl Policy {
    /// Checks what serde cannot; `file` names the manifest.
    pub fn validate(&self, file: &Path) -> Result<(), Error> {
        let bad = |key: &str, message: &str| {
            let key = format!("workspace.metadata.buildplan.{key}");
            Err(Error::key(&file.display().to_string(), key, message))
        };
        if let Some(output) = &self.output {
            if output.is_empty() || Path::new(output).is_absolute() {
                return bad("output", "must be a path relative to the workspace root");
            }
        }
        if self.mem_per_job_mib == Some(0) {
            return bad("mem-per-job-mib", "must be at least 1");
        }
        for (name, profile) in &self.profiles {
            if let Err((key, message)) = profile.check() {
                return bad(&format!("profiles.{name}.{key}"), &message);
            }
        }
        for name in self.targets.iter().flat_map(|t| t.keys()) {
            if name == "host" {
                let message = "the host target is always present and has no settings; \
                               name target triples only";
                return bad("targets.host", message);
            }
            if !looks_like_triple(name) {
                let message = "is not a target triple (expected e.g. x86_64-unknown-linux-musl)";
                return bad(&format!("targets.{name}"), message);
            }
        }
        Ok(())
    }
}

/// Whether `name` looks like a target triple (`arch-vendor-os[-env]`).
pub fn looks_like_triple(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let part = |p: &&str| !p.is_empty() && p.chars().all(allowed);
    (2..=4).contains(&parts.len()) && parts.iter().all(part)
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
