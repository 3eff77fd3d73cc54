//! The plan file's data model: the Rust side of `docs/plan-format.md`.
//!
//! Every map is a [`BTreeMap`] so that serialisation is sorted and the file
//! is byte-identical across runs. Consumers of the plan (the `build` and
//! `bench` commands) deserialise the same types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The profiles cargo defines itself, with the parent each inherits from
/// when it does not say otherwise.
pub const BUILTIN_PROFILES: [(&str, Option<&str>); 4] = [
    ("dev", None),
    ("release", None),
    ("test", Some("dev")),
    ("bench", Some("release")),
];

/// The parent of a built-in profile (`None` for `dev` and `release`, and
/// for a name that is not built in).
pub fn builtin_parent(name: &str) -> Option<&'static str> {
    BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, p)| *p)
}

/// The profile the `inherits` chain of `name` ends in (`dev` or
/// `release`); `inherits` gives a profile's declared parent, and built-in
/// profiles fall back to their own.
pub fn root_profile<'a>(name: &str, inherits: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut current = name.to_string();
    for _ in 0..64 {
        match inherits(&current).or_else(|| builtin_parent(&current)) {
            Some(p) => current = p.to_string(),
            None => break,
        }
    }
    current
}

impl Plan {
    /// The root (`dev` or `release`) of plan profile `name`.
    pub fn root_profile(&self, name: &str) -> String {
        root_profile(name, |n| self.profiles.get(n)?.inherits.as_deref())
    }
}

/// Version of the plan format written by this helper. Bump on any
/// incompatible change, together with the Nix side (`nix/`).
pub const SCHEMA_VERSION: u32 = 3;

/// The whole build plan, as written to `nix/plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Format version; see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"cargo-buildplan"`.
    pub generator: String,
    /// Workspace-wide facts.
    pub workspace: WorkspaceInfo,
    /// Every workspace member, by package name.
    pub packages: BTreeMap<String, PackageInfo>,
    /// Feature variants, by name (`minimal`, `default`, `full`, ...).
    pub variants: BTreeMap<String, Variant>,
    /// Compilation targets, by name (`host` and target triples).
    pub targets: BTreeMap<String, Target>,
    /// Cargo profiles, by name.
    pub profiles: BTreeMap<String, Profile>,
}

impl Plan {
    /// The variant `name`, or an error naming the ones the plan has.
    pub fn variant(&self, name: &str) -> Result<&Variant, Error> {
        lookup(&self.variants, "variant", name)
    }

    /// The profile `name`, or an error naming the ones the plan has.
    pub fn profile(&self, name: &str) -> Result<&Profile, Error> {
        lookup(&self.profiles, "profile", name)
    }

    /// The target `name` (`host` or a triple), or an error naming the ones
    /// the plan has.
    pub fn target(&self, name: &str) -> Result<&Target, Error> {
        lookup(&self.targets, "target", name)
    }

    /// The package `name`, or an error naming the ones the plan has.
    pub fn package(&self, name: &str) -> Result<&PackageInfo, Error> {
        lookup(&self.packages, "package", name)
    }

    /// How `package` is built in `variant`: an error when either is unknown
    /// or the package is not one of the variant's roots.
    pub fn root_build(&self, variant: &str, package: &str) -> Result<&PackageBuild, Error> {
        let v = self.variant(variant)?;
        self.package(package)?;
        v.builds.get(package).ok_or_else(|| {
            Error::invalid(format!(
                "package `{package}` is not a root of variant `{variant}` (its roots: {})",
                v.packages.join(", ")
            ))
        })
    }
}

/// `map[name]`, or the error naming the `kind`s `map` has.
fn lookup<'a, T>(
    map: &'a BTreeMap<String, T>,
    kind: &'static str,
    name: &str,
) -> Result<&'a T, Error> {
    map.get(name)
        .ok_or_else(|| Error::unknown(kind, name, map.keys()))
}

/// Workspace-wide facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceInfo {
    /// Lockfile path relative to the workspace root.
    pub lockfile: String,
    /// Member paths relative to the root, sorted.
    pub members: Vec<String>,
    /// Variant used when none is named.
    pub default_variant: String,
    /// Profile used when none is named.
    pub default_profile: String,
    /// Memory one compile or link job is assumed to need, for the job cap.
    pub mem_per_job_mib: u64,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageInfo {
    /// Package version.
    pub version: String,
    /// Directory relative to the workspace root (`"."` for a root package).
    pub path: String,
    /// Names of its binary targets, sorted.
    pub binaries: Vec<String>,
    /// Declared feature names, sorted.
    pub features: Vec<String>,
    /// Paths of the workspace members it needs to build (normal and build
    /// dependencies, transitively), sorted; excludes itself.
    pub workspace_deps: Vec<String>,
    /// As `workspace_deps`, adding dev-dependencies (what testing needs).
    pub workspace_test_deps: Vec<String>,
}

/// A feature variant: which packages are built, with which features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// One line for people.
    pub description: String,
    /// Root packages this variant builds, sorted.
    pub packages: Vec<String>,
    /// Per root package: features and cargo arguments.
    pub builds: BTreeMap<String, PackageBuild>,
    /// Whether the roots are built as one unified build: every root's
    /// invocation selects all roots (`cargo_args`), so cargo resolves each
    /// dependency's features once over the whole variant, and adds only its
    /// own targets. `false` for a single root and when turned off.
    pub unified: bool,
    /// Why a variant with several roots is not unified (the policy key that
    /// turned it off, or a conflict), `None` otherwise.
    pub unify_note: Option<String>,
    /// Every root with its own features in one cargo invocation (the
    /// unified selection U); for a single root, its own selection.
    pub cargo_args: Vec<String>,
    /// Argument lists a dependency-only build runs, one cargo invocation
    /// each, in order: `[cargo_args]` when unified or single-root, one per
    /// root otherwise.
    pub deps_cargo_args: Vec<Vec<String>>,
    /// Third-party packages compiled more than once with different features
    /// in this variant; empty when the plan is sound.
    pub feature_splits: Vec<FeatureSplit>,
}

/// How one package is built in one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageBuild {
    /// Whether the package's default features are on.
    pub default_features: bool,
    /// Features requested, as `package/feature`, sorted.
    pub features: Vec<String>,
    /// The exact cargo arguments of this root's build: in a unified
    /// variant the variant's `cargo_args` plus this root's targets
    /// (`--bin` each binary, or `--lib`), else `alone_cargo_args`.
    pub cargo_args: Vec<String>,
    /// The package and its features alone (`--package p` and its feature
    /// flags): what a build without the plan runs.
    pub alone_cargo_args: Vec<String>,
}

/// A third-party package that would be compiled twice with different
/// features within one variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeatureSplit {
    /// The third-party package name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The plan targets (triples, or `all`) for which the audit found
    /// this split, sorted.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Each distinct feature set, with the root packages that resolve it.
    pub resolutions: Vec<FeatureResolution>,
}

/// One of the feature sets a split package is compiled with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeatureResolution {
    /// The enabled features, sorted.
    pub features: Vec<String>,
    /// Root packages (or `"<together>"`) whose build resolves this set.
    pub roots: Vec<String>,
}

/// A compilation target: facts only. Each consumer renders its own strings
/// from them (the helper cargo's rustflags and variables, `nix/lib` the
/// Nix ones).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Target triple; `None` for the host.
    pub triple: Option<String>,
    /// The cc-style driver cargo calls as the linker (`clang`); `None`
    /// leaves rustc's default.
    pub linker_driver: Option<String>,
    /// `-fuse-ld=` value (`mold`, `lld`), if set.
    pub fuse_ld: Option<String>,
    /// `-C target-cpu` value, if set.
    pub target_cpu: Option<String>,
    /// Whether the C runtime is linked statically: `+crt-static` when
    /// true, `-crt-static` when false (for a target with a triple; the
    /// host keeps cargo's defaults).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// The triple to pass as `--target=<it>` to a bare clang driver, if any.
    pub link_target: Option<String>,
    /// C compiler build scripts use (cc-rs `CC_<triple>`), if set.
    pub cc: Option<String>,
    /// C++ compiler build scripts use (cc-rs `CXX_<triple>`), if set.
    #[serde(default)]
    pub cxx: Option<String>,
    /// Archiver build scripts use (cc-rs `AR_<triple>`), if set.
    pub ar: Option<String>,
    /// Flags for the target's C and C++ compiler after the `--target` a
    /// clang gets (cc-rs `CFLAGS_<triple>`/`CXXFLAGS_<triple>`), e.g. the
    /// target libc's headers. Absolute paths in them must exist.
    #[serde(default)]
    pub c_flags: Vec<String>,
    /// The build machine's C compiler, C++ compiler and archiver for build
    /// scripts' host-side C (cc-rs `HOST_CC`, `HOST_CXX`, `HOST_AR`).
    #[serde(default)]
    pub host_tools: Option<HostTools>,
    /// Debian packages that provide this target's tools and headers
    /// (`name:arch` for another dpkg architecture), named when one is
    /// missing.
    #[serde(default)]
    pub packages: Vec<String>,
    /// nixpkgs `pkgsCross` attribute providing the C toolchain, if any.
    pub nix_cross: Option<String>,
    /// The policy's verbatim extra rustflags, appended after the rendered
    /// ones.
    pub extra_rustflags: Vec<String>,
}

/// One effective profile setting and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The value, as cargo reads it (a TOML scalar or array, as JSON).
    pub value: serde_json::Value,
    /// Where it was set: `Cargo.toml`, a config file path relative to the
    /// workspace root (`.cargo/config.toml`, `../.cargo/config.toml`),
    /// `$CARGO_HOME/config.toml`, `env:CARGO_PROFILE_...`, `--config ARG`,
    /// or `policy`.
    pub source: String,
}

/// Settings by cargo key.
pub type Settings = BTreeMap<String, Setting>;

/// Plain values by cargo key.
pub type Values = BTreeMap<String, serde_json::Value>;

/// A cargo profile: its effective settings with their sources, and what the
/// plan adds on top of cargo's own resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The profile it inherits from, if any.
    pub inherits: Option<String>,
    /// Effective settings after inheritance, from every layer (only keys
    /// some layer sets; cargo's built-in defaults are not restated).
    pub settings: Settings,
    /// Effective settings for build scripts and proc-macros
    /// (`build-override`).
    pub build_override: Settings,
    /// Effective per-package settings, by package name (or `*`).
    pub package: BTreeMap<String, Settings>,
    /// What the plan adds on top of cargo's own resolution.
    pub overrides: Overrides,
}

/// Profile values in plain form: the policy's part of a profile (what a
/// consumer that lets cargo read the workspace's own files passes as
/// `--config`), or the part of it cargo's own resolution does not give.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// Whole-profile settings (with `inherits` for a profile only the
    /// policy defines).
    pub settings: Values,
    /// `build-override` settings.
    pub build_override: Values,
    /// Per-package settings, by package name (or `*`).
    pub package: BTreeMap<String, Values>,
}

/// The build machine's C tools, for the host side of a cross build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostTools {
    /// C compiler (`HOST_CC`).
    pub cc: String,
    /// C++ compiler (`HOST_CXX`).
    pub cxx: String,
    /// Archiver (`HOST_AR`).
    pub ar: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_end_in_dev_or_release() {
        let parents = BTreeMap::from([
            ("release-fast", "release"),
            ("release-lean", "release-fast"),
            ("ci", "test"),
        ]);
        let root = |name| root_profile(name, |n| parents.get(n).copied());
        assert_eq!(root("release-lean"), "release");
        assert_eq!(root("ci"), "dev");
        assert_eq!(root("bench"), "release");
        assert_eq!(root("dev"), "dev");
        assert_eq!(builtin_parent("test"), Some("dev"));
        assert_eq!(builtin_parent("release"), None);
    }
}
