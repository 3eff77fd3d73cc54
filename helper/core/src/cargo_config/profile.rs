//! Profiles as cargo resolves them: for one name, the manifest's
//! `[profile.NAME]`, each config file's (farthest first), the
//! `CARGO_PROFILE_NAME_*` variables, then `--config` values, key by key;
//! the merged table is then laid over its parent's effective settings (a
//! key the child sets anywhere beats the parent's from any layer).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::keys::known_keys;
use super::layers::{Kind, Layer};
use super::tables::{env_key, env_part, env_prefix, overlay, parse_profiles};
use crate::error::Error;
use crate::model::{Overrides, Profile, Settings, BUILTIN_PROFILES as BUILTIN};

/// A profile as cargo resolves it: a [`Profile`] without `overrides`.
pub type ResolvedProfile = Profile;

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
    /// Each layer's table, lowest first, with the layer's kind and source.
    parts: BTreeMap<String, Vec<(Kind, String, Profile)>>,
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
        let mut tables = vec![(Kind::File, "Cargo.toml", manifest)];
        for layer in layers {
            let table = layer.table.get("profile").map(|value| {
                let bad = || Error::key(&layer.source, "profile", "must be a table");
                value.as_table().ok_or_else(bad)
            });
            tables.push((layer.kind, layer.source.as_str(), table.transpose()?));
        }
        let mut parts: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for (kind, source, table) in tables {
            for (name, part) in parse_profiles(table.unwrap_or(&toml::Table::new()), source)? {
                parts
                    .entry(name)
                    .or_default()
                    .push((kind, source.to_string(), part));
            }
        }
        let env = env.clone();
        Ok(Profiles { parts, env })
    }

    /// Built-in profiles and every profile a manifest, config file or
    /// `--config` value defines. Profiles defined only by environment
    /// variables are not listed (cargo does not list them either), but
    /// [`Profiles::resolve`] finds them by name.
    pub fn names(&self) -> BTreeSet<String> {
        let builtin = BUILTIN.iter().map(|(n, _)| n.to_string());
        builtin.chain(self.defined_names()).collect()
    }

    /// The profiles a manifest, config file or `--config` value writes a
    /// table for.
    pub fn defined_names(&self) -> BTreeSet<String> {
        self.parts.keys().cloned().collect()
    }

    fn defined(&self, name: &str) -> bool {
        let prefix = env_prefix(name);
        let var = |key: &str| self.env.contains_key(&format!("{prefix}{}", env_key(key)));
        self.names().contains(name) || var("inherits") || known_keys().any(var)
    }

    /// The merged table of one profile, without inheritance: files, the
    /// environment, then `--config` values.
    fn own(&self, name: &str) -> Result<Profile, Error> {
        let parts = self.parts.get(name).into_iter().flatten();
        let mut merged = Profile::default();
        for (_, _, part) in parts.clone().filter(|p| p.0 == Kind::File) {
            overlay(&mut merged, part);
        }
        overlay(&mut merged, &env_part(&self.env, name)?);
        for (_, _, part) in parts.filter(|p| p.0 == Kind::Cli) {
            overlay(&mut merged, part);
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
        let declared = own.declared_inherits.clone();
        let key = format!("profile.{name}.inherits");
        let declared_parent = declared
            .as_ref()
            .map(|d| d.value.as_str().unwrap_or_default());
        let parent = match (builtin, &declared) {
            (Some((_, None)), Some(d)) => {
                let message = "must not be set: `dev` and `release` are root profiles";
                return Err(Error::key(&d.source, key, message));
            }
            (Some((_, default)), _) => declared_parent.or(*default).map(str::to_string),
            (None, Some(_)) => declared_parent.map(str::to_string),
            (None, None) => {
                let first = self.parts.get(name).and_then(|p| p.first());
                let source = (first.map(|p| p.1.clone()))
                    .unwrap_or_else(|| format!("env:{}*", env_prefix(name)));
                let message = "is missing: a profile other than dev and release must say which \
                               profile it inherits from";
                return Err(Error::key(&source, key, message));
            }
        };
        let mut effective = Profile::default();
        if let Some(parent) = &parent {
            let file = declared.as_ref().map_or("cargo", |d| d.source.as_str());
            stack.push(name.to_string());
            if stack.contains(parent) {
                stack.push(parent.clone());
                let message = format!("forms a cycle: {}", stack.join(" -> "));
                return Err(Error::key(file, key, message));
            }
            if !self.defined(parent) {
                let known: Vec<String> = self.names().into_iter().collect();
                let known = known.join(", ");
                let message =
                    format!("names profile `{parent}`, which is not defined (known: {known})");
                return Err(Error::key(file, key, message));
            }
            effective = self.effective(parent, stack)?;
            stack.pop();
        }
        overlay(&mut effective, &own);
        effective.inherits = parent;
        effective.declared_inherits = declared;
        Ok(effective)
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
