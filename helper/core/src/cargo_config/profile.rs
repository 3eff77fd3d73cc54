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
//! key from any layer, which is how cargo 1.95 behaves (see the fixture
//! `config-disagree` in `tests/cargo_config.rs`).
//!
//! Package overrides cannot be set from the environment: cargo 1.95
//! ignores `CARGO_PROFILE_RELEASE_PACKAGE_<X>_OPT_LEVEL` (checked by hand:
//! with it set to 0 and `.cargo/config.toml` saying 1, rustc got
//! `-C opt-level=1`), so this module ignores them too.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::error::ConfigError;
use super::keys::{check, to_json, KEYS};
use super::layers::Layer;

/// The profiles cargo defines itself, with the parent each inherits from
/// when it does not say otherwise.
pub const BUILTIN: [(&str, Option<&str>); 4] = [
    ("dev", None),
    ("release", None),
    ("test", Some("dev")),
    ("bench", Some("release")),
];

/// One effective setting and the place that set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    /// The value, as JSON (the plan's form).
    pub value: Value,
    /// Where it was set: `Cargo.toml`, `.cargo/config.toml`,
    /// `../.cargo/config.toml`, `$CARGO_HOME/config.toml`,
    /// `env:CARGO_PROFILE_RELEASE_LTO` or `--config ARG`.
    pub source: String,
}

/// Settings by cargo key.
pub type Settings = BTreeMap<String, Setting>;

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

/// Values a policy wants for one profile, in plain form.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Wanted {
    /// Whole-profile settings.
    pub settings: BTreeMap<String, Value>,
    /// `build-override` settings.
    pub build_override: BTreeMap<String, Value>,
    /// Package overrides, by spec.
    pub package: BTreeMap<String, BTreeMap<String, Value>>,
}

impl ResolvedProfile {
    /// Of the values `wanted` lists, those cargo's own resolution does not
    /// already give: what the plan must pass on top (as `--config`). A value
    /// equal to the effective one is dropped, so lower-precedence layers
    /// are never restated.
    pub fn overrides(&self, wanted: &Wanted) -> Wanted {
        fn diff(have: &Settings, want: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
            want.iter()
                .filter(|(k, v)| have.get(*k).map(|s| &s.value) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        let empty = Settings::new();
        Wanted {
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

/// One layer's table for one profile.
#[derive(Debug, Clone, Default)]
struct Part {
    inherits: Option<Setting>,
    settings: Settings,
    build_override: Settings,
    package: BTreeMap<String, Settings>,
}

impl Part {
    fn overlay(&mut self, top: &Part) {
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
    ) -> Result<Self, ConfigError> {
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
                .ok_or_else(|| ConfigError::key(&layer.source, "profile", "must be a table"))?;
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
    fn own(&self, name: &str) -> Result<Part, ConfigError> {
        let mut merged = Part::default();
        for part in self.below_env.get(name).into_iter().flatten() {
            merged.overlay(part);
        }
        merged.overlay(&self.env_part(name)?);
        for part in self.above_env.get(name).into_iter().flatten() {
            merged.overlay(part);
        }
        Ok(merged)
    }

    /// The `CARGO_PROFILE_<NAME>_*` variables for one profile.
    fn env_part(&self, name: &str) -> Result<Part, ConfigError> {
        let prefix = env_prefix(name);
        let mut part = Part::default();
        let var = format!("{prefix}INHERITS");
        if let Some(value) = self.env.get(&var) {
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
                let Some(text) = self.env.get(&var) else {
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
                check(key, &value, !build_override)
                    .map_err(|m| ConfigError::key(&source, dotted, m))?;
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

    /// Resolves one profile through every layer and its `inherits` chain.
    pub fn resolve(&self, name: &str) -> Result<ResolvedProfile, ConfigError> {
        self.effective(name, &mut Vec::new())
    }

    fn effective(
        &self,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Result<ResolvedProfile, ConfigError> {
        let own = self.own(name)?;
        let builtin = BUILTIN.iter().find(|(n, _)| *n == name);
        let declared = own.inherits.clone();
        let inherits_key = format!("profile.{name}.inherits");
        let parent = match (builtin, &declared) {
            (Some((_, None)), Some(d)) => {
                return Err(ConfigError::key(
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
                return Err(ConfigError::key(
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
                return Err(ConfigError::key(
                    &file,
                    inherits_key,
                    format!("forms a cycle: {}", stack.join(" -> ")),
                ));
            }
            if !self.defined(parent) {
                let known: Vec<String> = self.names().into_iter().collect();
                return Err(ConfigError::key(
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

/// `CARGO_PROFILE_<NAME>_`, as cargo spells it: upper case, `-` as `_`.
pub fn env_prefix(profile: &str) -> String {
    format!("CARGO_PROFILE_{}_", env_key(profile))
}

fn env_key(key: &str) -> String {
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
fn parse_profiles(table: &toml::Table, file: &str) -> Result<Vec<(String, Part)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in table {
        let prefix = format!("profile.{name}");
        let table = value
            .as_table()
            .ok_or_else(|| ConfigError::key(file, &prefix, "must be a table"))?;
        let mut part = Part::default();
        for (key, value) in table {
            let dotted = format!("{prefix}.{key}");
            match key.as_str() {
                "inherits" => {
                    let parent = value
                        .as_str()
                        .ok_or_else(|| ConfigError::key(file, &dotted, "must be a string"))?;
                    part.inherits = Some(Setting {
                        value: Value::String(parent.to_string()),
                        source: file.to_string(),
                    });
                }
                "package" => {
                    let specs = value
                        .as_table()
                        .ok_or_else(|| ConfigError::key(file, &dotted, "must be a table"))?;
                    for (spec, t) in specs {
                        let dotted = format!("{dotted}.{spec}");
                        let t = t
                            .as_table()
                            .ok_or_else(|| ConfigError::key(file, &dotted, "must be a table"))?;
                        part.package
                            .insert(spec.clone(), settings(t, false, file, &dotted)?);
                    }
                }
                "build-override" => {
                    let t = value
                        .as_table()
                        .ok_or_else(|| ConfigError::key(file, &dotted, "must be a table"))?;
                    part.build_override = settings(t, false, file, &dotted)?;
                }
                _ => {
                    check(key, value, true).map_err(|m| ConfigError::key(file, &dotted, m))?;
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
) -> Result<Settings, ConfigError> {
    let mut out = Settings::new();
    for (key, value) in table {
        check(key, value, top_level)
            .map_err(|m| ConfigError::key(file, format!("{prefix}.{key}"), m))?;
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
