//! Profile tables as written: a `[profile.NAME]` table (manifest, config
//! file, `--config` value, the policy's `profiles`) and the
//! `CARGO_PROFILE_<NAME>_*` variables, each key checked and tagged with its
//! source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keys::{check, known_keys, to_json};
use crate::error::Error;
use crate::model::{Profile, Setting, Settings};

/// A `[profile.NAME]` table as written. Serialised, it is the same table
/// again (the policy's profiles become a `--config` layer that way).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProfileTable {
    /// The profile it inherits from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherits: Option<String>,
    /// Settings such as `opt-level`, `lto` or `codegen-units` (checked by
    /// [`ProfileTable::check`]: `deny_unknown_fields` cannot be combined
    /// with a flattened map).
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Per-package overrides, by package spec (`"*"` included).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub package: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Overrides for build scripts and proc-macros.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub build_override: BTreeMap<String, toml::Value>,
}

impl ProfileTable {
    /// Each table with its dotted prefix (`""`, `build-override.`,
    /// `package.SPEC.`) and whether it is the whole profile's.
    fn tables(&self) -> impl Iterator<Item = (String, &BTreeMap<String, toml::Value>, bool)> {
        [
            (String::new(), &self.settings, true),
            ("build-override.".into(), &self.build_override, false),
        ]
        .into_iter()
        .chain(
            self.package
                .iter()
                .map(|(spec, t)| (format!("package.{spec}."), t, false)),
        )
    }

    /// Checks every setting; on error, the key's dotted path below the
    /// profile (`lto`, `package.foo.lto`) and what is wrong with it.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (prefix, table, top_level) in self.tables() {
            for (key, value) in table {
                check(key, value, top_level).map_err(|m| (format!("{prefix}{key}"), m))?;
            }
        }
        Ok(())
    }
}

/// Lays `top`, one layer's table of a profile (its `inherits` in
/// `declared_inherits`), over `base`, key by key.
pub(crate) fn overlay(base: &mut Profile, top: &Profile) {
    if top.declared_inherits.is_some() {
        base.declared_inherits = top.declared_inherits.clone();
    }
    base.settings.extend(top.settings.clone());
    base.build_override.extend(top.build_override.clone());
    for (spec, s) in &top.package {
        let table = base.package.entry(spec.clone()).or_default();
        table.extend(s.clone());
    }
}

/// Reads a `[profile]` table (manifest or config file) written in `file`,
/// checking every key.
pub(crate) fn parse_profiles(
    table: &toml::Table,
    file: &str,
) -> Result<Vec<(String, Profile)>, Error> {
    let tag = |t: &BTreeMap<String, toml::Value>| -> Settings {
        let setting = |v: &toml::Value| Setting {
            value: to_json(v),
            source: file.to_string(),
        };
        t.iter().map(|(k, v)| (k.clone(), setting(v))).collect()
    };
    let mut out = Vec::new();
    for (name, value) in table {
        let prefix = format!("profile.{name}");
        let profile: ProfileTable = value
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| Error::key(file, &prefix, e.message()))?;
        profile
            .check()
            .map_err(|(key, m)| Error::key(file, format!("{prefix}.{key}"), m))?;
        let part = Profile {
            declared_inherits: profile.inherits.map(|parent| Setting {
                value: parent.into(),
                source: file.to_string(),
            }),
            settings: tag(&profile.settings),
            build_override: tag(&profile.build_override),
            package: profile
                .package
                .iter()
                .map(|(s, t)| (s.clone(), tag(t)))
                .collect(),
            ..Profile::default()
        };
        out.push((name.clone(), part));
    }
    Ok(out)
}

/// The `CARGO_PROFILE_<NAME>_*` variables for one profile (cargo ignores
/// `CARGO_PROFILE_<NAME>_PACKAGE_*`).
pub(crate) fn env_part(env: &BTreeMap<String, String>, name: &str) -> Result<Profile, Error> {
    let prefix = env_prefix(name);
    let setting = |var: &str, value: &toml::Value| Setting {
        value: to_json(value),
        source: format!("env:{var}"),
    };
    let mut part = Profile::default();
    let var = format!("{prefix}INHERITS");
    if let Some(parent) = env.get(&var) {
        part.declared_inherits = Some(setting(&var, &toml::Value::String(parent.clone())));
    }
    for key in known_keys() {
        let tables = [
            (&mut part.settings, "", true),
            (&mut part.build_override, "build-override.", false),
        ];
        for (table, infix, top_level) in tables {
            let var = format!("{prefix}{}", env_key(&format!("{infix}{key}")));
            let Some(text) = env.get(&var) else {
                continue;
            };
            let value = if key == "rustflags" {
                // A list: cargo splits the variable on whitespace.
                text.split_whitespace().collect::<Vec<_>>().into()
            } else {
                env_value(text)
            };
            check(key, &value, top_level).map_err(|m| {
                Error::key(
                    &format!("env:{var}"),
                    format!("profile.{name}.{infix}{key}"),
                    m,
                )
            })?;
            table.insert(key.to_string(), setting(&var, &value));
        }
    }
    Ok(part)
}

/// `CARGO_PROFILE_<NAME>_`, as cargo spells it: upper case, `-` as `_`.
pub(crate) fn env_prefix(profile: &str) -> String {
    format!("CARGO_PROFILE_{}_", env_key(profile))
}

/// A key as a part of a variable name: upper case, `-` and `.` as `_`.
pub(crate) fn env_key(key: &str) -> String {
    key.to_uppercase().replace(['-', '.'], "_")
}

/// An environment variable's text as cargo reads it for a profile key:
/// `true`/`false` are booleans, whole numbers integers, anything else a
/// string (docs/helper-notes.md).
fn env_value(text: &str) -> toml::Value {
    match text {
        "true" | "false" => toml::Value::Boolean(text == "true"),
        _ => text.parse::<i64>().map_or_else(|_| text.into(), Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_and_values_follow_cargo() {
        assert_eq!(env_prefix("release-fast"), "CARGO_PROFILE_RELEASE_FAST_");
        assert_eq!(env_value("true"), toml::Value::Boolean(true));
        assert_eq!(env_value("3"), toml::Value::Integer(3));
        assert_eq!(env_value("thin"), toml::Value::String("thin".into()));
    }
}
