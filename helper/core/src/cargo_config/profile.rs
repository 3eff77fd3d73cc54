//! Profiles as cargo resolves them: one name's tables from the manifest and
//! config files (farthest first), its `CARGO_PROFILE_<NAME>_*` variables and
//! `--config` values, merged key by key over its parent's effective settings.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::{known_keys, ProfileTable, Tables};
use super::layers::{env_var, CargoConfig, Layer};
use crate::error::Error;
use crate::model::{Overrides, Profile, Setting, Settings, Values, BUILTIN_PROFILES as BUILTIN};

/// A profile as cargo resolves it: a [`Profile`] without `overrides`.
pub type ResolvedProfile = Profile;

/// Reads and checks the manifest's `[profile]` table and every layer's.
pub(crate) fn tables(manifest: Option<&toml::Table>, layers: &[Layer]) -> Result<Tables, Error> {
    let manifest = manifest.cloned().map(toml::Value::Table);
    let manifest = manifest.as_ref().map(|p| (false, "Cargo.toml", p));
    let layers =
        (layers.iter()).filter_map(|l| Some((l.cli, l.source.as_str(), l.table.get("profile")?)));
    let mut out = Tables::new();
    for (cli, source, profiles) in manifest.into_iter().chain(layers) {
        let profiles = (profiles.as_table())
            .ok_or_else(|| Error::key(source, "profile", "must be a table"))?;
        for (name, value) in profiles {
            let prefix = format!("profile.{name}");
            let table: ProfileTable = (value.clone().try_into())
                .map_err(|e: toml::de::Error| Error::key(source, &prefix, e.message()))?;
            (table.check()).map_err(|(key, m)| Error::key(source, format!("{prefix}.{key}"), m))?;
            let entry = out.entry(name.clone()).or_default();
            entry.push((cli, source.to_string(), table));
        }
    }
    Ok(out)
}

impl CargoConfig {
    /// Built-in profiles and every one a layer defines (one defined only by
    /// variables is not listed, but [`CargoConfig::profile`] resolves it).
    pub fn profile_names(&self) -> BTreeSet<String> {
        let builtin = BUILTIN.iter().map(|(n, _)| n.to_string());
        builtin.chain(self.defined_profile_names()).collect()
    }

    /// The profiles some layer (manifest, config file, `--config` value)
    /// writes a table for.
    pub fn defined_profile_names(&self) -> BTreeSet<String> {
        self.profile_tables.keys().cloned().collect()
    }

    /// One profile's effective settings with their sources.
    pub fn profile(&self, name: &str) -> Result<ResolvedProfile, Error> {
        self.effective(name, &mut Vec::new())
    }

    /// Every known profile, resolved.
    pub fn profiles(&self) -> Result<BTreeMap<String, ResolvedProfile>, Error> {
        let names = self.profile_names().into_iter();
        names.map(|n| Ok((n.clone(), self.profile(&n)?))).collect()
    }

    /// The `CARGO_PROFILE_<NAME>_*` variables (not `..._PACKAGE_*`, as cargo)
    /// as a checked table, typed as cargo reads them.
    fn env_table(&self, name: &str) -> Result<ProfileTable, Error> {
        let var = |key: &str| env_var(&["profile", name, key]);
        let mut table = ProfileTable {
            inherits: self.env.get(&var("inherits")).cloned(),
            ..ProfileTable::default()
        };
        let into = [
            ("", &mut table.settings),
            ("build-override.", &mut table.build_override),
        ];
        for (infix, into) in into {
            for key in known_keys() {
                let Some(text) = self.env.get(&var(&format!("{infix}{key}"))) else {
                    continue;
                };
                let value = match text.as_str() {
                    _ if key == "rustflags" => text.split_whitespace().collect::<Vec<_>>().into(),
                    "true" | "false" => toml::Value::Boolean(text == "true"),
                    _ => text
                        .parse::<i64>()
                        .map_or_else(|_| text.as_str().into(), Into::into),
                };
                into.insert(key.to_string(), value);
            }
        }
        table.check().map_err(|(key, m)| {
            let source = format!("env:{}", var(&key));
            Error::key(&source, format!("profile.{name}.{key}"), m)
        })?;
        Ok(table)
    }

    /// Lays the tables of profile `name` over `base`: config files, the
    /// variables, then `--config` values.
    fn own(&self, name: &str, mut base: Profile) -> Result<Profile, Error> {
        let tables = self.profile_tables.get(name).map_or(&[][..], Vec::as_slice);
        for (_, source, table) in tables.iter().filter(|t| !t.0) {
            overlay(&mut base, table, |_| source.clone());
        }
        let env_source = |key: &str| format!("env:{}", env_var(&["profile", name, key]));
        overlay(&mut base, &self.env_table(name)?, env_source);
        for (_, source, table) in tables.iter().filter(|t| t.0) {
            overlay(&mut base, table, |_| source.clone());
        }
        Ok(base)
    }

    /// Resolves one profile through every layer and its `inherits` chain.
    fn effective(&self, name: &str, stack: &mut Vec<String>) -> Result<ResolvedProfile, Error> {
        let declared = self.own(name, Profile::default())?.declared_inherits;
        let key = format!("profile.{name}.inherits");
        let parent = match (BUILTIN.iter().find(|(n, _)| *n == name), &declared) {
            (Some((_, None)), Some(d)) => {
                let message = "must not be set: `dev` and `release` are root profiles";
                return Err(Error::key(&d.source, key, message));
            }
            (_, Some(d)) => d.value.as_str().unwrap_or_default().to_string(),
            (Some((_, Some(parent))), None) => parent.to_string(),
            (Some((_, None)), None) => return self.own(name, Profile::default()),
            (None, None) => {
                let first = self.profile_tables.get(name).and_then(|t| t.first());
                let source = (first.map(|t| t.1.clone()))
                    .unwrap_or_else(|| format!("env:{}*", env_var(&["profile", name, ""])));
                let message = "is missing: a profile other than dev and release must say which \
                               profile it inherits from";
                return Err(Error::key(&source, key, message));
            }
        };
        let file = declared.as_ref().map_or("cargo", |d| d.source.as_str());
        stack.push(name.to_string());
        if stack.contains(&parent) {
            stack.push(parent);
            let message = format!("forms a cycle: {}", stack.join(" -> "));
            return Err(Error::key(file, key, message));
        }
        let known = self.profile_names();
        if !known.contains(&parent) && self.env_table(&parent)? == ProfileTable::default() {
            let known = Vec::from_iter(known).join(", ");
            let message =
                format!("names profile `{parent}`, which is not defined (known: {known})");
            return Err(Error::key(file, key, message));
        }
        let base = self.effective(&parent, stack)?;
        stack.pop();
        let mut effective = self.own(name, base)?;
        effective.inherits = Some(parent);
        effective.declared_inherits = declared;
        Ok(effective)
    }
}

/// Lays one layer's table of a profile over `base`, key by key; `source`
/// names where a key (`inherits`, `lto`, `package.foo.lto`) was written.
fn overlay(base: &mut Profile, top: &ProfileTable, source: impl Fn(&str) -> String) {
    let tag = |prefix: &str, from: &BTreeMap<String, toml::Value>, into: &mut Settings| {
        for (key, value) in from {
            let value = serde_json::to_value(value).expect("a TOML value serialises");
            let source = source(&format!("{prefix}{key}"));
            into.insert(key.clone(), Setting { value, source });
        }
    };
    if let Some(parent) = &top.inherits {
        let (value, source) = (parent.as_str().into(), source("inherits"));
        base.declared_inherits = Some(Setting { value, source });
    }
    let (settings, build_override) = (&mut base.settings, &mut base.build_override);
    tag("", &top.settings, settings);
    tag("build-override.", &top.build_override, build_override);
    for (spec, table) in &top.package {
        let into = base.package.entry(spec.clone()).or_default();
        tag(&format!("package.{spec}."), table, into);
    }
}

impl ResolvedProfile {
    /// Of the values `wanted` lists, those cargo's own resolution does not
    /// already give: what the plan must pass on top (as `--config`), so
    /// lower-precedence layers are never restated.
    pub fn overrides(&self, wanted: &Overrides) -> Overrides {
        fn diff(have: Option<&Settings>, want: &Values) -> Values {
            let have = |k: &String| have.and_then(|h| h.get(k)).map(|s| &s.value);
            let new = want.iter().filter(|(k, v)| have(k) != Some(*v));
            new.map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        let package = (wanted.package.iter())
            .map(|(spec, want)| (spec.clone(), diff(self.package.get(spec), want)));
        Overrides {
            settings: diff(Some(&self.settings), &wanted.settings),
            build_override: diff(Some(&self.build_override), &wanted.build_override),
            package: package.filter(|(_, d)| !d.is_empty()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn config(manifest: &str, env: &[(&str, &str)]) -> CargoConfig {
        let manifest: toml::Table = toml::from_str(manifest).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        CargoConfig {
            layers: Vec::new(),
            profile_tables: tables(Some(&manifest), &[]).unwrap(),
            env: env.collect(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn bench_inherits_release_and_env_beats_the_manifest() {
        let p = config(
            "[release]\nlto = true\n[release.package.\"*\"]\nopt-level = 1\n",
            &[("CARGO_PROFILE_RELEASE_LTO", "thin")],
        );
        let bench = p.profile("bench").unwrap();
        assert_eq!(bench.inherits.as_deref(), Some("release"));
        assert_eq!(bench.settings["lto"].value, Value::from("thin"));
        assert_eq!(
            bench.settings["lto"].source,
            "env:CARGO_PROFILE_RELEASE_LTO"
        );
        assert_eq!(bench.package["*"]["opt-level"].source, "Cargo.toml");
    }

    #[test]
    fn env_names_and_values_follow_cargo() {
        let env = [
            ("CARGO_PROFILE_RELEASE_FAST_INHERITS", "release"),
            ("CARGO_PROFILE_RELEASE_FAST_DEBUG_ASSERTIONS", "true"),
            ("CARGO_PROFILE_RELEASE_FAST_CODEGEN_UNITS", "3"),
            ("CARGO_PROFILE_RELEASE_FAST_LTO", "thin"),
        ];
        let fast = config("", &env).profile("release-fast").unwrap();
        let value = |key: &str| fast.settings[key].value.clone();
        assert_eq!(value("debug-assertions"), Value::from(true));
        assert_eq!(value("codegen-units"), Value::from(3));
        assert_eq!(value("lto"), Value::from("thin"));
    }

    #[test]
    fn a_cycle_and_a_missing_parent_are_errors() {
        let p = config("[a]\ninherits = \"b\"\n[b]\ninherits = \"a\"\n", &[]);
        let err = p.profile("a").unwrap_err().to_string();
        assert!(err.contains("a -> b -> a"), "{err}");
        let p = config("[a]\ninherits = \"zzz\"\n", &[]);
        let err = p.profile("a").unwrap_err().to_string();
        assert!(
            err.contains("`zzz`") && err.contains("profile.a.inherits"),
            "{err}"
        );
    }
}
