//! Reading the profile tables of one layer: a `[profile]` table (manifest,
//! config file, `--config` value) or the `CARGO_PROFILE_<NAME>_*`
//! variables, each key checked and tagged with its source.

use std::collections::BTreeMap;

use serde_json::Value;

use super::keys::{check, to_json, KEYS};
use crate::error::Error;
use crate::model::{Setting, Settings};

/// One layer's table for one profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    pub inherits: Option<Setting>,
    pub settings: Settings,
    pub build_override: Settings,
    pub package: BTreeMap<String, Settings>,
}

impl Part {
    pub fn overlay(&mut self, top: &Part) {
        if top.inherits.is_some() {
            self.inherits = top.inherits.clone();
        }
        self.settings.extend(top.settings.clone());
        self.build_override.extend(top.build_override.clone());
        for (spec, s) in &top.package {
            self.package
                .entry(spec.clone())
                .or_default()
                .extend(s.clone());
        }
    }
}

/// The `CARGO_PROFILE_<NAME>_*` variables for one profile.
pub(crate) fn env_part(env: &BTreeMap<String, String>, name: &str) -> Result<Part, Error> {
    let prefix = env_prefix(name);
    let mut part = Part::default();
    let var = format!("{prefix}INHERITS");
    if let Some(value) = env.get(&var) {
        part.inherits = Some(Setting {
            value: Value::String(value.clone()),
            source: format!("env:{var}"),
        });
    }
    for (key, _) in KEYS {
        for build_override in [false, true] {
            let var = if build_override {
                format!("{prefix}BUILD_OVERRIDE_{}", env_key(key))
            } else {
                format!("{prefix}{}", env_key(key))
            };
            let Some(text) = env.get(&var) else {
                continue;
            };
            let value = if *key == "rustflags" {
                // A list: cargo splits the variable on whitespace.
                toml::Value::Array(
                    text.split_whitespace()
                        .map(|f| toml::Value::String(f.to_string()))
                        .collect(),
                )
            } else {
                env_value(text)
            };
            let source = format!("env:{var}");
            let dotted = if build_override {
                format!("profile.{name}.build-override.{key}")
            } else {
                format!("profile.{name}.{key}")
            };
            check(key, &value, !build_override).map_err(|m| Error::key(&source, dotted, m))?;
            let setting = Setting {
                value: to_json(&value),
                source,
            };
            if build_override {
                part.build_override.insert(key.to_string(), setting);
            } else {
                part.settings.insert(key.to_string(), setting);
            }
        }
    }
    Ok(part)
}

/// `CARGO_PROFILE_<NAME>_`, as cargo spells it: upper case, `-` as `_`.
pub fn env_prefix(profile: &str) -> String {
    format!("CARGO_PROFILE_{}_", env_key(profile))
}

pub(crate) fn env_key(key: &str) -> String {
    key.to_uppercase().replace(['-', '.'], "_")
}

/// An environment variable's text as cargo reads it for a profile key:
/// `true`/`false` are booleans, whole numbers are integers, anything else
/// is a string (cargo 1.95: `CARGO_PROFILE_RELEASE_LTO=true` gives
/// `-C lto`, `..._OPT_LEVEL=1` gives `-C opt-level=1`, `..._OPT_LEVEL=s`
/// gives `-C opt-level=s`).
fn env_value(text: &str) -> toml::Value {
    match text {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => match text.parse::<i64>() {
            Ok(i) => toml::Value::Integer(i),
            Err(_) => toml::Value::String(text.to_string()),
        },
    }
}

/// Reads a `[profile]` table (manifest or config file), checking every key.
pub(crate) fn parse_profiles(
    table: &toml::Table,
    file: &str,
) -> Result<Vec<(String, Part)>, Error> {
    let mut out = Vec::new();
    for (name, value) in table {
        let prefix = format!("profile.{name}");
        let table = value
            .as_table()
            .ok_or_else(|| Error::key(file, &prefix, "must be a table"))?;
        let mut part = Part::default();
        for (key, value) in table {
            let dotted = format!("{prefix}.{key}");
            match key.as_str() {
                "inherits" => {
                    let parent = value
                        .as_str()
                        .ok_or_else(|| Error::key(file, &dotted, "must be a string"))?;
                    part.inherits = Some(Setting {
                        value: Value::String(parent.to_string()),
                        source: file.to_string(),
                    });
                }
                "package" => {
                    let specs = value
                        .as_table()
                        .ok_or_else(|| Error::key(file, &dotted, "must be a table"))?;
                    for (spec, t) in specs {
                        let dotted = format!("{dotted}.{spec}");
                        let t = t
                            .as_table()
                            .ok_or_else(|| Error::key(file, &dotted, "must be a table"))?;
                        part.package
                            .insert(spec.clone(), settings(t, false, file, &dotted)?);
                    }
                }
                "build-override" => {
                    let t = value
                        .as_table()
                        .ok_or_else(|| Error::key(file, &dotted, "must be a table"))?;
                    part.build_override = settings(t, false, file, &dotted)?;
                }
                _ => {
                    check(key, value, true).map_err(|m| Error::key(file, &dotted, m))?;
                    part.settings.insert(
                        key.clone(),
                        Setting {
                            value: to_json(value),
                            source: file.to_string(),
                        },
                    );
                }
            }
        }
        out.push((name.clone(), part));
    }
    Ok(out)
}

fn settings(
    table: &toml::Table,
    top_level: bool,
    file: &str,
    prefix: &str,
) -> Result<Settings, Error> {
    let mut out = Settings::new();
    for (key, value) in table {
        check(key, value, top_level).map_err(|m| Error::key(file, format!("{prefix}.{key}"), m))?;
        out.insert(
            key.clone(),
            Setting {
                value: to_json(value),
                source: file.to_string(),
            },
        );
    }
    Ok(out)
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
