//! Profiles as cargo resolves them: every layer that can set a profile
//! key, in cargo's precedence order, then `inherits`.
//!
//! For one profile name the layers are, lowest first: the manifest's
//! `[profile.NAME]`, each config file's `[profile.NAME]` (farthest first),
//! the `CARGO_PROFILE_NAME_*` variables, then `--config` values. A key set
//! in a higher layer replaces the same key from a lower one; `package.SPEC`
//! and `build-override` tables merge key by key. The merged table of a
//! profile is then laid over the effective settings of its parent: a key
//! the child sets anywhere (even only in the manifest) beats the parent's
//! key from any layer, as cargo does. Package overrides cannot be set from
//! the environment (cargo ignores `CARGO_PROFILE_<NAME>_PACKAGE_*`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::keys::KEYS;
use super::layers::Layer;
use super::tables::{env_key, env_part, env_prefix, parse_profiles, Part};
use crate::error::Error;
use crate::model::{Overrides, Setting, Settings, BUILTIN_PROFILES as BUILTIN};

/// A profile after every layer and `inherits` are applied.
///
/// Only keys some layer sets are present: cargo's built-in defaults
/// (release: `opt-level = 3`, ...) are not restated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedProfile {
    /// The profile's name.
    pub name: String,
    /// The parent it inherits from: declared, or built in (`test` from
    /// `dev`, `bench` from `release`); `None` for `dev` and `release`.
    pub inherits: Option<String>,
    /// The `inherits` key as written, if any layer wrote one.
    pub declared_inherits: Option<Setting>,
    /// Whole-profile settings.
    pub settings: Settings,
    /// `[profile.NAME.build-override]`.
    pub build_override: Settings,
    /// `[profile.NAME.package.SPEC]`, by spec (`"*"` included).
    pub package: BTreeMap<String, Settings>,
}

impl ResolvedProfile {
    /// Of the values `wanted` lists, those cargo's own resolution does not
    /// already give: what the plan must pass on top (as `--config`). A value
    /// equal to the effective one is dropped, so lower-precedence layers
    /// are never restated.
    pub fn overrides(&self, wanted: &Overrides) -> Overrides {
        fn diff(have: &Settings, want: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
            want.iter()
                .filter(|(k, v)| have.get(*k).map(|s| &s.value) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        let empty = Settings::new();
        Overrides {
            settings: diff(&self.settings, &wanted.settings),
            build_override: diff(&self.build_override, &wanted.build_override),
            package: wanted
                .package
                .iter()
                .map(|(spec, want)| {
                    (
                        spec.clone(),
                        diff(self.package.get(spec).unwrap_or(&empty), want),
                    )
                })
                .filter(|(_, d)| !d.is_empty())
                .collect(),
        }
    }
}

/// Every profile table cargo would read, by profile name.
#[derive(Debug, Clone)]
pub(crate) struct Profiles {
    /// Manifest and config files, lowest first.
    below_env: BTreeMap<String, Vec<Part>>,
    /// `--config` values, lowest first.
    above_env: BTreeMap<String, Vec<Part>>,
    env: BTreeMap<String, String>,
}

impl Profiles {
    /// Reads (and checks) the manifest's `[profile]` table and every
    /// layer's.
    pub fn new(
        manifest: Option<&toml::Table>,
        layers: &[Layer],
        env: &BTreeMap<String, String>,
    ) -> Result<Self, Error> {
        let mut below_env: BTreeMap<String, Vec<Part>> = BTreeMap::new();
        let mut above_env: BTreeMap<String, Vec<Part>> = BTreeMap::new();
        if let Some(table) = manifest {
            for (name, part) in parse_profiles(table, "Cargo.toml")? {
                below_env.entry(name).or_default().push(part);
            }
        }
        for layer in layers {
            let Some(value) = layer.table.get("profile") else {
                continue;
            };
            let table = value
                .as_table()
                .ok_or_else(|| Error::key(&layer.source, "profile", "must be a table"))?;
            let into = match layer.kind {
                super::layers::Kind::File => &mut below_env,
                super::layers::Kind::Cli => &mut above_env,
            };
            for (name, part) in parse_profiles(table, &layer.source)? {
                into.entry(name).or_default().push(part);
            }
        }
        Ok(Profiles {
            below_env,
            above_env,
            env: env.clone(),
        })
    }

    /// Built-in profiles and every profile a manifest, config file or
    /// `--config` value defines. Profiles defined only by environment
    /// variables are not listed (their names cannot be told from the
    /// variables' names, and cargo does not list them either), but
    /// [`Profiles::resolve`] finds them by name.
    pub fn names(&self) -> BTreeSet<String> {
        BUILTIN
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(self.below_env.keys().cloned())
            .chain(self.above_env.keys().cloned())
            .collect()
    }

    /// The profiles a manifest, config file or `--config` value writes a
    /// table for (built-in ones only when some layer configures them).
    pub fn defined_names(&self) -> BTreeSet<String> {
        self.below_env
            .keys()
            .chain(self.above_env.keys())
            .cloned()
            .collect()
    }

    fn defined(&self, name: &str) -> bool {
        if self.names().contains(name) {
            return true;
        }
        let prefix = env_prefix(name);
        self.env.contains_key(&format!("{prefix}INHERITS"))
            || KEYS
                .iter()
                .any(|(k, _)| self.env.contains_key(&format!("{prefix}{}", env_key(k))))
    }

    /// The merged table of one profile, without inheritance.
    fn own(&self, name: &str) -> Result<Part, Error> {
        let mut merged = Part::default();
        for part in self.below_env.get(name).into_iter().flatten() {
            merged.overlay(part);
        }
        merged.overlay(&env_part(&self.env, name)?);
        for part in self.above_env.get(name).into_iter().flatten() {
            merged.overlay(part);
        }
        Ok(merged)
    }

    /// Resolves one profile through every layer and its `inherits` chain.
    pub fn resolve(&self, name: &str) -> Result<ResolvedProfile, Error> {
        self.effective(name, &mut Vec::new())
    }

    fn effective(&self, name: &str, stack: &mut Vec<String>) -> Result<ResolvedProfile, Error> {
        let own = self.own(name)?;
        let builtin = BUILTIN.iter().find(|(n, _)| *n == name);
        let declared = own.inherits.clone();
        let inherits_key = format!("profile.{name}.inherits");
        let parent = match (builtin, &declared) {
            (Some((_, None)), Some(d)) => {
                return Err(Error::key(
                    &d.source,
                    inherits_key,
                    "must not be set: `dev` and `release` are root profiles",
                ));
            }
            (Some((_, default)), _) => declared
                .as_ref()
                .and_then(|d| d.value.as_str().map(str::to_string))
                .or(default.map(str::to_string)),
            (None, Some(d)) => Some(d.value.as_str().unwrap_or_default().to_string()),
            (None, None) => {
                let source = self.first_source(name);
                return Err(Error::key(
                    &source,
                    inherits_key,
                    "is missing: a profile other than dev and release must say which profile it inherits from",
                ));
            }
        };
        let mut effective = Part::default();
        if let Some(parent) = &parent {
            let file = declared
                .as_ref()
                .map(|d| d.source.clone())
                .unwrap_or_else(|| "cargo".into());
            stack.push(name.to_string());
            if stack.iter().any(|n| n == parent) {
                stack.push(parent.clone());
                return Err(Error::key(
                    &file,
                    inherits_key,
                    format!("forms a cycle: {}", stack.join(" -> ")),
                ));
            }
            if !self.defined(parent) {
                let known: Vec<String> = self.names().into_iter().collect();
                return Err(Error::key(
                    &file,
                    inherits_key,
                    format!(
                        "names profile `{parent}`, which is not defined (known: {})",
                        known.join(", ")
                    ),
                ));
            }
            let resolved = self.effective(parent, stack)?;
            stack.pop();
            effective.settings = resolved.settings;
            effective.build_override = resolved.build_override;
            effective.package = resolved.package;
        }
        effective.overlay(&own);
        Ok(ResolvedProfile {
            name: name.to_string(),
            inherits: parent,
            declared_inherits: declared,
            settings: effective.settings,
            build_override: effective.build_override,
            package: effective.package,
        })
    }

    /// The lowest layer that defines a profile, for errors about it.
    fn first_source(&self, name: &str) -> String {
        self.below_env
            .get(name)
            .or_else(|| self.above_env.get(name))
            .and_then(|parts| parts.first())
            .and_then(|p| {
                p.settings
                    .values()
                    .chain(p.build_override.values())
                    .chain(p.package.values().flat_map(|s| s.values()))
                    .next()
                    .map(|s| s.source.clone())
            })
            .unwrap_or_else(|| format!("env:{}*", env_prefix(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(manifest: &str, env: &[(&str, &str)]) -> Profiles {
        let manifest: toml::Table = toml::from_str(manifest).unwrap();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Profiles::new(Some(&manifest), &[], &env).unwrap()
    }

    #[test]
    fn bench_inherits_release_and_env_beats_the_manifest() {
        let p = profiles(
            "[release]\nlto = true\n[release.package.\"*\"]\nopt-level = 1\n",
            &[("CARGO_PROFILE_RELEASE_LTO", "thin")],
        );
        let bench = p.resolve("bench").unwrap();
        assert_eq!(bench.inherits.as_deref(), Some("release"));
        assert_eq!(bench.settings["lto"].value, Value::from("thin"));
        assert_eq!(
            bench.settings["lto"].source,
            "env:CARGO_PROFILE_RELEASE_LTO"
        );
        assert_eq!(bench.package["*"]["opt-level"].source, "Cargo.toml");
    }

    #[test]
    fn a_cycle_and_a_missing_parent_are_errors() {
        let p = profiles("[a]\ninherits = \"b\"\n[b]\ninherits = \"a\"\n", &[]);
        let err = p.resolve("a").unwrap_err().to_string();
        assert!(err.contains("a -> b -> a"), "{err}");
        let p = profiles("[a]\ninherits = \"zzz\"\n", &[]);
        let err = p.resolve("a").unwrap_err().to_string();
        assert!(
            err.contains("`zzz`") && err.contains("profile.a.inherits"),
            "{err}"
        );
    }
}
