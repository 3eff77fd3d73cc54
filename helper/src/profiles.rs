//! Cargo profiles: cargo's own layers (today the root manifest's
//! `[profile.*]` tables), resolved through `inherits`, with the policy's
//! settings layered on top.
//!
//! **What "effective settings" means here.** The plan records only values
//! somebody wrote down: keys some layer sets, for the profile itself or for
//! a profile it inherits from, each with the layer it came from. Cargo's
//! built-in defaults (dev: `opt-level = 0`, release: `opt-level = 3`, ...)
//! are not restated, because they belong to the cargo version that runs the
//! build; [`crate::settings::builtin_default`] knows them for `explain`.
//!
//! **Layers.** [`resolve`] takes cargo's own layers as plain input, lowest
//! precedence first ([`Layer`]: a source name and the profile tables it
//! defines). [`manifest_layer`] reads the manifest's; a resolver of cargo's
//! configuration files and `CARGO_PROFILE_*` variables (issue 10) adds its
//! layers after it, and nothing else here changes. The policy is always the
//! top layer: what it sets is the profile's [`Overrides`], which consumers
//! that let cargo read the workspace's own files pass as `--config`.
//!
//! Per profile, lowest first: the parent's effective profile, then every
//! cargo layer's table for this profile, then the policy's. This is the
//! order cargo itself applies when the policy's values come as `--config`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;
use crate::model::{Overrides, Profile, Setting, Settings, Values};
use crate::policy::Policy;
use crate::settings;

/// The source name of the manifest layer.
pub const MANIFEST_SOURCE: &str = "Cargo.toml";
/// The source name of the policy layer.
pub const POLICY_SOURCE: &str = "policy";

/// One profile as one layer writes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileTable {
    /// `inherits`, if the layer sets it.
    pub inherits: Option<String>,
    /// Whole-profile settings.
    pub settings: Values,
    /// `package.<name>` settings.
    pub package: BTreeMap<String, Values>,
    /// `build-override` settings.
    pub build_override: Values,
}

/// The profile tables one source defines.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The source as the plan records it (`Cargo.toml`, a config file
    /// path relative to the workspace root, `env:CARGO_PROFILE_...`).
    pub source: String,
    /// The file named in error messages about this layer.
    pub file: PathBuf,
    /// Profiles by name.
    pub profiles: BTreeMap<String, ProfileTable>,
}

fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

fn values_from(table: &BTreeMap<String, toml::Value>) -> Values {
    table.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()
}

/// Reads a manifest's `[profile]` value (as [`crate::manifest::RootManifest`]
/// holds it) into the manifest layer, checking every key. `file` names the
/// manifest in errors.
pub fn manifest_layer(profile: Option<&toml::Value>, file: &Path) -> Result<Layer, Error> {
    let err = |key: String, message: String| Error::Profile {
        file: file.display().to_string(),
        key,
        message,
    };
    let mut layer = Layer {
        source: MANIFEST_SOURCE.to_string(),
        file: file.to_path_buf(),
        profiles: BTreeMap::new(),
    };
    let Some(profiles) = profile else {
        return Ok(layer);
    };
    let profiles = profiles
        .as_table()
        .ok_or_else(|| err("profile".into(), "must be a table".into()))?;
    let table_at = |value: &toml::Value, key: &str| {
        value
            .as_table()
            .map(|t| t.clone().into_iter().collect::<BTreeMap<_, _>>())
            .ok_or_else(|| err(key.to_string(), "must be a table".into()))
    };
    for (name, table) in profiles {
        let prefix = format!("profile.{name}");
        let mut own = ProfileTable::default();
        let mut plain = BTreeMap::new();
        for (key, value) in table_at(table, &prefix)? {
            match key.as_str() {
                "inherits" => {
                    let parent = value.as_str().ok_or_else(|| {
                        err(format!("{prefix}.inherits"), "must be a string".into())
                    })?;
                    own.inherits = Some(parent.to_string());
                }
                "package" => {
                    for (pkg, t) in table_at(&value, &format!("{prefix}.package"))? {
                        let t = table_at(&t, &format!("{prefix}.package.{pkg}"))?;
                        settings::check(&t, false)
                            .map_err(|(k, m)| err(format!("{prefix}.package.{pkg}.{k}"), m))?;
                        own.package.insert(pkg, values_from(&t));
                    }
                }
                "build-override" => {
                    let t = table_at(&value, &format!("{prefix}.build-override"))?;
                    settings::check(&t, false)
                        .map_err(|(k, m)| err(format!("{prefix}.build-override.{k}"), m))?;
                    own.build_override = values_from(&t);
                }
                _ => {
                    plain.insert(key, value);
                }
            }
        }
        settings::check(&plain, true).map_err(|(k, m)| err(format!("{prefix}.{k}"), m))?;
        own.settings = values_from(&plain);
        layer.profiles.insert(name.clone(), own);
    }
    Ok(layer)
}

/// The policy's `profiles` table as the top layer. `file` is the manifest
/// holding the policy.
pub fn policy_layer(policy: &Policy, file: &Path) -> Layer {
    let profiles = policy
        .profiles
        .iter()
        .map(|(name, p)| {
            let table = ProfileTable {
                inherits: p.inherits.clone(),
                settings: values_from(&p.settings),
                package: p
                    .package
                    .iter()
                    .map(|(k, v)| (k.clone(), values_from(v)))
                    .collect(),
                build_override: values_from(&p.build_override),
            };
            (name.clone(), table)
        })
        .collect();
    Layer {
        source: POLICY_SOURCE.to_string(),
        file: file.to_path_buf(),
        profiles,
    }
}

/// A profile's effective settings with sources, while resolving.
#[derive(Debug, Clone, Default)]
struct Effective {
    settings: Settings,
    package: BTreeMap<String, Settings>,
    build_override: Settings,
}

impl Effective {
    fn overlay(&mut self, table: &ProfileTable, source: &str) {
        let tag = |values: &Values| -> Settings {
            values
                .iter()
                .map(|(k, v)| {
                    let setting = Setting {
                        value: v.clone(),
                        source: source.to_string(),
                    };
                    (k.clone(), setting)
                })
                .collect()
        };
        self.settings.extend(tag(&table.settings));
        for (pkg, values) in &table.package {
            self.package
                .entry(pkg.clone())
                .or_default()
                .extend(tag(values));
        }
        self.build_override.extend(tag(&table.build_override));
    }
}

/// Resolves every profile named by any layer, plus `dev` and `release`.
/// `cargo_layers` are cargo's own, lowest precedence first; the policy is
/// layered on top of them.
pub fn resolve(
    cargo_layers: &[Layer],
    policy: &Policy,
    policy_file: &Path,
) -> Result<BTreeMap<String, Profile>, Error> {
    let mut layers = cargo_layers.to_vec();
    layers.push(policy_layer(policy, policy_file));
    let names: BTreeSet<&String> = layers.iter().flat_map(|l| l.profiles.keys()).collect();
    let mut out = BTreeMap::new();
    for name in ["dev", "release"]
        .iter()
        .map(|s| s.to_string())
        .chain(names.into_iter().cloned())
    {
        if out.contains_key(&name) {
            continue;
        }
        let (inherits, effective) = effective(&name, &layers, &mut Vec::new())?;
        let known_to_cargo = settings::is_builtin(&name)
            || cargo_layers.iter().any(|l| l.profiles.contains_key(&name));
        let mut overrides = Overrides {
            settings: policy_values(&effective.settings),
            build_override: policy_values(&effective.build_override),
            package: effective
                .package
                .iter()
                .map(|(pkg, s)| (pkg.clone(), policy_values(s)))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        };
        if let (false, Some(parent)) = (known_to_cargo, &inherits) {
            overrides
                .settings
                .insert("inherits".into(), Value::String(parent.clone()));
        }
        out.insert(
            name.clone(),
            Profile {
                inherits,
                settings: effective.settings,
                build_override: effective.build_override,
                package: effective.package,
                overrides,
            },
        );
    }
    Ok(out)
}

/// The values among `settings` that the policy set.
fn policy_values(settings: &Settings) -> Values {
    settings
        .iter()
        .filter(|(_, s)| s.source == POLICY_SOURCE)
        .map(|(k, s)| (k.clone(), s.value.clone()))
        .collect()
}

/// The parent a profile inherits from: the highest layer's `inherits`, or
/// cargo's built-in parent.
fn parent_of(name: &str, layers: &[Layer]) -> Result<Option<String>, Error> {
    let declared = layers.iter().rev().find_map(|l| {
        l.profiles
            .get(name)
            .and_then(|t| t.inherits.clone())
            .map(|p| (p, &l.file))
    });
    let err = |file: &Path, message: String| Error::Profile {
        file: file.display().to_string(),
        key: format!("profile.{name}.inherits"),
        message,
    };
    let first_file = || {
        layers
            .iter()
            .find(|l| l.profiles.contains_key(name))
            .map_or_else(PathBuf::new, |l| l.file.clone())
    };
    match (settings::is_builtin(name), declared) {
        (true, Some((_, file))) if settings::builtin_parent(name).is_none() => Err(err(
            file,
            "is not allowed: dev and release are root profiles".into(),
        )),
        (true, _) => Ok(settings::builtin_parent(name).map(str::to_string)),
        (false, Some((parent, _))) => Ok(Some(parent)),
        (false, None) => Err(err(
            &first_file(),
            "is missing: a custom profile must say which profile it inherits from".into(),
        )),
    }
}

fn effective(
    name: &str,
    layers: &[Layer],
    stack: &mut Vec<String>,
) -> Result<(Option<String>, Effective), Error> {
    let blame = |profile: &str| {
        layers
            .iter()
            .find(|l| l.profiles.contains_key(profile))
            .map_or_else(String::new, |l| l.file.display().to_string())
    };
    if stack.iter().any(|n| n == name) {
        stack.push(name.to_string());
        return Err(Error::Profile {
            file: blame(&stack[0]),
            key: format!("profile.{}.inherits", stack[0]),
            message: format!("forms a cycle: {}", stack.join(" -> ")),
        });
    }
    let is_known =
        settings::is_builtin(name) || layers.iter().any(|l| l.profiles.contains_key(name));
    if !is_known {
        let from = stack.last().cloned().unwrap_or_default();
        return Err(Error::Profile {
            file: blame(&from),
            key: format!("profile.{from}.inherits"),
            message: format!("names profile `{name}`, which is not defined"),
        });
    }
    stack.push(name.to_string());
    let parent = parent_of(name, layers)?;
    let mut resolved = match &parent {
        Some(p) => effective(p, layers, stack)?.1,
        None => Effective::default(),
    };
    stack.pop();
    for layer in layers {
        if let Some(own) = layer.profiles.get(name) {
            resolved.overlay(own, &layer.source);
        }
    }
    Ok((parent, resolved))
}

/// The profile cargo's built-in chain ends in (`dev` or `release`).
pub fn root_of(name: &str, profiles: &BTreeMap<String, Profile>) -> String {
    let mut current = name.to_string();
    for _ in 0..profiles.len() + 4 {
        let parent = profiles
            .get(&current)
            .and_then(|p| p.inherits.clone())
            .or_else(|| settings::builtin_parent(&current).map(str::to_string));
        match parent {
            Some(p) => current = p,
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RootManifest;

    const MANIFEST: &str = r#"
[workspace]
[profile.dev]
debug = "line-tables-only"
[profile.dev.package."*"]
opt-level = 2
[profile.release]
opt-level = 2
lto = "thin"
codegen-units = 16
[profile.release.build-override]
opt-level = 0
[profile.release-fast]
inherits = "release"
lto = false
codegen-units = 256
[profile.release-lean]
inherits = "release-fast"
strip = true
"#;

    fn resolve_with(manifest: &str, policy: &str) -> Result<BTreeMap<String, Profile>, Error> {
        let file = Path::new("Cargo.toml");
        let m = RootManifest::parse(&format!("{manifest}\n{policy}"), file).unwrap();
        let layer = manifest_layer(m.profile.as_ref(), file)?;
        resolve(&[layer], &m.policy, file)
    }

    fn value(p: &Profile, key: &str) -> Value {
        p.settings[key].value.clone()
    }

    #[test]
    fn inheritance_layers_parent_then_own() {
        let p = resolve_with(MANIFEST, "").unwrap();
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["dev", "release", "release-fast", "release-lean"]
        );
        let fast = &p["release-fast"];
        assert_eq!(fast.inherits.as_deref(), Some("release"));
        assert_eq!(value(fast, "opt-level"), 2);
        assert_eq!(value(fast, "lto"), false);
        assert_eq!(value(fast, "codegen-units"), 256);
        assert_eq!(fast.settings["codegen-units"].source, "Cargo.toml");
        assert_eq!(fast.build_override["opt-level"].value, 0);
        let lean = &p["release-lean"];
        assert_eq!(value(lean, "lto"), false);
        assert_eq!(value(lean, "strip"), true);
        assert_eq!(root_of("release-lean", &p), "release");
        assert_eq!(root_of("dev", &p), "dev");
        assert_eq!(p["dev"].package["*"]["opt-level"].value, 2);
    }

    #[test]
    fn only_written_values_are_recorded_and_nothing_is_overridden() {
        let p = resolve_with("[workspace]\n", "").unwrap();
        assert!(p["dev"].settings.is_empty());
        assert_eq!(p["release"].overrides, Overrides::default());
        let p = resolve_with(MANIFEST, "").unwrap();
        assert!(p.values().all(|p| p.overrides == Overrides::default()));
    }

    #[test]
    fn policy_overrides_manifest_reaches_children_and_is_the_override() {
        let p = resolve_with(
            MANIFEST,
            r#"
[workspace.metadata.buildplan.profiles.release]
opt-level = 3
package.server = { codegen-units = 4 }
[workspace.metadata.buildplan.profiles.ci]
inherits = "dev"
incremental = false
"#,
        )
        .unwrap();
        let rel = &p["release"];
        assert_eq!(
            rel.settings["opt-level"],
            Setting {
                value: 3.into(),
                source: "policy".into()
            }
        );
        assert_eq!(rel.settings["lto"].source, "Cargo.toml");
        assert_eq!(rel.package["server"]["codegen-units"].value, 4);
        assert_eq!(
            serde_json::to_value(&rel.overrides).unwrap(),
            serde_json::json!({
                "settings": {"opt-level": 3},
                "build_override": {},
                "package": {"server": {"codegen-units": 4}}
            })
        );
        // A child of release gets the policy's value, restated under its
        // own name: cargo reads only the child's table for `--profile`.
        let fast = &p["release-fast"];
        assert_eq!(value(fast, "opt-level"), 3);
        assert_eq!(fast.overrides.settings["opt-level"], 3);
        assert!(!fast.overrides.settings.contains_key("lto"));
        // A profile only the policy defines carries its `inherits`.
        let ci = &p["ci"];
        assert_eq!(value(ci, "incremental"), false);
        assert_eq!(ci.settings["debug"].source, "Cargo.toml");
        assert_eq!(ci.overrides.settings["inherits"], "dev");
        assert_eq!(ci.overrides.settings["incremental"], false);
        assert!(!ci.overrides.settings.contains_key("debug"));
    }

    #[test]
    fn later_cargo_layers_win_and_keep_their_source() {
        let file = Path::new("Cargo.toml");
        let manifest = manifest_layer(
            Some(&toml::from_str::<toml::Value>("[release]\nlto = true\nopt-level = 3\n").unwrap()),
            file,
        )
        .unwrap();
        let mut config = manifest.clone();
        config.source = ".cargo/config.toml".into();
        config.profiles = BTreeMap::from([(
            "release".to_string(),
            ProfileTable {
                settings: Values::from([("lto".to_string(), Value::from("thin"))]),
                ..ProfileTable::default()
            },
        )]);
        let p = resolve(&[manifest, config], &Policy::default(), file).unwrap();
        let rel = &p["release"];
        assert_eq!(rel.settings["lto"].value, "thin");
        assert_eq!(rel.settings["lto"].source, ".cargo/config.toml");
        assert_eq!(rel.settings["opt-level"].source, "Cargo.toml");
        assert_eq!(rel.overrides, Overrides::default());
    }

    #[test]
    fn bad_profiles_name_the_key() {
        let cases = [
            (
                "[profile.custom]\nopt-level = 1\n",
                "profile.custom.inherits",
            ),
            (
                "[profile.release]\ninherits = \"dev\"\n",
                "profile.release.inherits",
            ),
            (
                "[profile.a]\ninherits = \"b\"\n[profile.b]\ninherits = \"a\"\n",
                "cycle",
            ),
            ("[profile.a]\ninherits = \"nope\"\n", "`nope`"),
            (
                "[profile.release]\nopt-levle = 1\n",
                "profile.release.opt-levle",
            ),
            ("[profile.release]\ncodegen-units = \"x\"\n", "wrong type"),
            (
                "[profile.release]\nlto = \"thinn\"\n",
                "expected a boolean, \"thin\"",
            ),
            (
                "[profile.release]\nopt-level = 4\n",
                "profile.release.opt-level",
            ),
            ("[profile.dev]\ncodegen-units = 0\n", "positive"),
            (
                "[profile.dev]\npanic = \"crash\"\n",
                "\"unwind\" or \"abort\"",
            ),
            (
                "[profile.release.package.x]\nlto = true\n",
                "profile.release.package.x.lto",
            ),
        ];
        for (manifest, needle) in cases {
            let err = resolve_with(manifest, "").unwrap_err().to_string();
            assert!(err.contains(needle), "{manifest}: {err}");
            assert!(err.starts_with("Cargo.toml: "), "{manifest}: {err}");
        }
    }
}
