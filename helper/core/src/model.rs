//! The plan file's data model (`docs/plan-format.md`). Every map is a
//! [`BTreeMap`], so the file is byte-identical across runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The profiles cargo defines itself, with their built-in parents.
pub const BUILTIN_PROFILES: [(&str, Option<&str>); 4] = [
    ("dev", None),
    ("release", None),
    ("test", Some("dev")),
    ("bench", Some("release")),
];

/// The `dev` or `release` that `name`'s chain of `inherits` (declared parents) ends in.
pub fn root_profile<'a>(name: &str, inherits: impl Fn(&str) -> Option<&'a str>) -> String {
    let builtin = |n: &str| BUILTIN_PROFILES.iter().find(|(b, _)| *b == n)?.1;
    let mut current = name.to_string();
    for _ in 0..64 {
        match inherits(&current).or_else(|| builtin(&current)) {
            Some(p) => current = p.to_string(),
            None => break,
        }
    }
    current
}

/// Version of the plan format; bumped with the Nix side (`nix/`).
pub const SCHEMA_VERSION: u32 = 3;

/// The whole build plan, as written to `nix/plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `"cargo-buildplan"`.
    pub generator: String,
    /// Workspace-wide facts.
    pub workspace: WorkspaceInfo,
    /// Every workspace member, by package name.
    pub packages: BTreeMap<String, PackageInfo>,
    /// Feature variants, by name.
    pub variants: BTreeMap<String, Variant>,
    /// Compilation targets, by name (`host` and target triples).
    pub targets: BTreeMap<String, Target>,
    /// Cargo profiles, by name.
    pub profiles: BTreeMap<String, Profile>,
}

impl Plan {
    /// The root (`dev` or `release`) of plan profile `name`.
    pub fn root_profile(&self, name: &str) -> String {
        root_profile(name, |n| self.profiles.get(n)?.inherits.as_deref())
    }

    /// The variant `name`, or an error naming the ones the plan has.
    pub fn variant(&self, name: &str) -> Result<&Variant, Error> {
        lookup(&self.variants, "variant", name)
    }

    /// The profile `name`, or an error naming the ones the plan has.
    pub fn profile(&self, name: &str) -> Result<&Profile, Error> {
        lookup(&self.profiles, "profile", name)
    }

    /// The target `name` (`host` or a triple), or an error naming the ones.
    pub fn target(&self, name: &str) -> Result<&Target, Error> {
        lookup(&self.targets, "target", name)
    }

    /// The package `name`, or an error naming the ones the plan has.
    pub fn package(&self, name: &str) -> Result<&PackageInfo, Error> {
        lookup(&self.packages, "package", name)
    }

    /// How root `package` is built in `variant`, or an error.
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
fn lookup<'a, T>(map: &'a BTreeMap<String, T>, kind: &str, name: &str) -> Result<&'a T, Error> {
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
    /// Memory one compile or link job is assumed to need.
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
    /// Paths of the members it needs to build (transitively), sorted.
    pub workspace_deps: Vec<String>,
    /// As `workspace_deps`, with dev-dependencies (for testing).
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
    /// Whether every root's invocation selects all roots (`cargo_args`).
    pub unified: bool,
    /// Why a variant with several roots is not unified, if it is not.
    pub unify_note: Option<String>,
    /// Every root with its own features in one cargo invocation.
    pub cargo_args: Vec<String>,
    /// The cargo invocations of a dependency-only build, in order.
    pub deps_cargo_args: Vec<Vec<String>>,
    /// Third-party packages compiled twice with different features.
    pub feature_splits: Vec<FeatureSplit>,
}

/// How one package is built in one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageBuild {
    /// Whether the package's default features are on.
    pub default_features: bool,
    /// Features requested, as `package/feature`, sorted.
    pub features: Vec<String>,
    /// This root's cargo arguments (the variant's when unified).
    pub cargo_args: Vec<String>,
    /// The package and its features alone, as without the plan.
    pub alone_cargo_args: Vec<String>,
}

/// A third-party package compiled twice with different features.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeatureSplit {
    /// The third-party package name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The targets (triples, or `all`) it splits for, sorted.
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

/// A compilation target: facts only, which each consumer renders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Target {
    /// Target triple; `None` for the host.
    pub triple: Option<String>,
    /// The cc-style driver cargo calls as the linker (`clang`), if any.
    pub linker_driver: Option<String>,
    /// `-fuse-ld=` value (`mold`, `lld`), if set.
    pub fuse_ld: Option<String>,
    /// `-C target-cpu` value, if set.
    pub target_cpu: Option<String>,
    /// `+crt-static` when true, `-crt-static` when false (not the host).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// The triple to pass as `--target=<it>` to a bare clang driver, if any.
    pub link_target: Option<String>,
    /// C compiler build scripts use (cc-rs `CC_<triple>`), if set.
    pub cc: Option<String>,
    /// C++ compiler build scripts use (cc-rs `CXX_<triple>`), if set.
    pub cxx: Option<String>,
    /// Archiver build scripts use (cc-rs `AR_<triple>`), if set.
    pub ar: Option<String>,
    /// Flags for the target's C and C++ compiler (cc-rs `CFLAGS_<triple>`).
    pub c_flags: Vec<String>,
    /// The build machine's C tools (cc-rs `HOST_CC`, `HOST_CXX`, `HOST_AR`).
    pub host_tools: Option<HostTools>,
    /// Debian packages providing this target's tools and headers.
    pub packages: Vec<String>,
    /// nixpkgs `pkgsCross` attribute providing the C toolchain, if any.
    pub nix_cross: Option<String>,
    /// The policy's extra rustflags, after the rendered ones.
    pub extra_rustflags: Vec<String>,
}

/// One effective profile setting and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The value, as cargo reads it (a TOML scalar or array, as JSON).
    pub value: serde_json::Value,
    /// Where: `Cargo.toml`, a config file, `env:VAR`, `--config ARG`, `policy`.
    pub source: String,
}

/// Settings by cargo key.
pub type Settings = BTreeMap<String, Setting>;

/// Plain values by cargo key.
pub type Values = BTreeMap<String, serde_json::Value>;

/// A cargo profile: its effective settings with their sources.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The parent it inherits from, declared or built in (`test`: `dev`).
    pub inherits: Option<String>,
    /// The `inherits` key as a layer wrote it (not in the plan file).
    #[serde(skip)]
    pub declared_inherits: Option<Setting>,
    /// Effective settings (cargo's built-in defaults are not restated).
    pub settings: Settings,
    /// Effective `build-override` settings.
    pub build_override: Settings,
    /// Effective per-package settings, by package name (or `*`).
    pub package: BTreeMap<String, Settings>,
    /// What the plan adds on top of cargo's own resolution (empty in that).
    pub overrides: Overrides,
}

/// Profile values cargo's own resolution does not give (`--config` values).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// Whole-profile settings (and `inherits` for a policy-only profile).
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
    }
}
