//! Cargo profiles: the root manifest's `[profile.*]` tables, resolved
//! through `inherits`, with the policy's overrides layered on top.
//!
//! **What "effective settings" means here.** The plan records only values
//! somebody wrote down: keys set in the manifest or the policy, for the
//! profile itself or for a profile it inherits from. Cargo's built-in
//! defaults (dev: `opt-level = 0`, release: `opt-level = 3`, ...) are not
//! restated, because they belong to the cargo version that runs the build
//! and restating them would pin today's defaults into every plan. They are
//! known here ([`builtin_default`]) so that `explain` can show them.
//!
//! Layering, lowest first: the parent's effective profile, the manifest's
//! table for this profile, the policy's table for this profile. This is the
//! order cargo itself uses when the policy values are passed as `--config`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::error::Error;
use crate::model::Profile;
use crate::policy::Policy;

/// Settings of one profile (or one package override), by cargo key.
pub type Settings = BTreeMap<String, Value>;

/// The profiles cargo defines itself, with what they inherit from.
const BUILTIN: [(&str, Option<&str>); 4] = [
    ("dev", None),
    ("release", None),
    ("test", Some("dev")),
    ("bench", Some("release")),
];

/// Keys allowed in a profile table, with the value kinds each accepts.
const KEYS: &[(&str, &[Kind])] = &[
    ("opt-level", &[Kind::Int, Kind::Str]),
    ("debug", &[Kind::Bool, Kind::Int, Kind::Str]),
    ("split-debuginfo", &[Kind::Str]),
    ("strip", &[Kind::Bool, Kind::Str]),
    ("debug-assertions", &[Kind::Bool]),
    ("overflow-checks", &[Kind::Bool]),
    ("lto", &[Kind::Bool, Kind::Str]),
    ("panic", &[Kind::Str]),
    ("incremental", &[Kind::Bool]),
    ("codegen-units", &[Kind::Int]),
    ("rpath", &[Kind::Bool]),
    // Unstable keys, passed through for nightly users (keep them last:
    // `explain` lists the first STABLE_KEYS only).
    ("trim-paths", &[Kind::Bool, Kind::Str, Kind::Array]),
    ("codegen-backend", &[Kind::Str]),
    ("rustflags", &[Kind::Array]),
];

/// How many of [`KEYS`] are stable settings that `explain` lists.
const STABLE_KEYS: usize = 11;

/// Keys cargo refuses in `package.*` and `build-override` tables.
const WHOLE_PROFILE_ONLY: &[&str] = &["lto", "panic", "rpath"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Str,
    Bool,
    Array,
}

/// Checks the keys and value types of a settings table. `top_level` is false
/// for package overrides and `build-override`. On error returns the key and
/// what is wrong with it.
pub fn check_settings(
    settings: &BTreeMap<String, toml::Value>,
    top_level: bool,
) -> Result<(), (String, String)> {
    for (key, value) in settings {
        let Some((_, kinds)) = KEYS.iter().find(|(k, _)| k == key) else {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            return Err((
                key.clone(),
                format!("is not a profile setting (known: {})", known.join(", ")),
            ));
        };
        if !top_level && WHOLE_PROFILE_ONLY.contains(&key.as_str()) {
            return Err((
                key.clone(),
                "can only be set for a whole profile, not per package or for build-override".into(),
            ));
        }
        let kind = match value {
            toml::Value::Integer(_) => Some(Kind::Int),
            toml::Value::String(_) => Some(Kind::Str),
            toml::Value::Boolean(_) => Some(Kind::Bool),
            toml::Value::Array(_) => Some(Kind::Array),
            _ => None,
        };
        if !kind.is_some_and(|k| kinds.contains(&k)) {
            return Err((
                key.clone(),
                format!("has a value of the wrong type: {value}"),
            ));
        }
        if let Some(allowed) = allowed_values(key, value) {
            return Err((key.clone(), format!("is {value}; expected {allowed}")));
        }
    }
    Ok(())
}

/// For a value of the right type but outside what cargo accepts, the
/// accepted values in words; `None` when the value is fine.
fn allowed_values(key: &str, value: &toml::Value) -> Option<&'static str> {
    let ok = match (key, value) {
        ("opt-level", toml::Value::Integer(i)) => (0..=3).contains(i),
        ("opt-level", toml::Value::String(s)) => matches!(s.as_str(), "s" | "z"),
        ("debug", toml::Value::Integer(i)) => (0..=2).contains(i),
        ("debug", toml::Value::String(s)) => matches!(
            s.as_str(),
            "none" | "line-directives-only" | "line-tables-only" | "limited" | "full"
        ),
        ("split-debuginfo", toml::Value::String(s)) => {
            matches!(s.as_str(), "off" | "packed" | "unpacked")
        }
        ("strip", toml::Value::String(s)) => {
            matches!(s.as_str(), "none" | "debuginfo" | "symbols")
        }
        ("lto", toml::Value::String(s)) => matches!(s.as_str(), "thin" | "fat" | "off"),
        ("panic", toml::Value::String(s)) => matches!(s.as_str(), "unwind" | "abort"),
        ("codegen-units", toml::Value::Integer(i)) => *i >= 1,
        _ => true,
    };
    if ok {
        return None;
    }
    Some(match key {
        "opt-level" => r#"0, 1, 2, 3, "s" or "z""#,
        "debug" => {
            r#"a boolean, 0, 1, 2, "none", "line-directives-only", "line-tables-only", "limited" or "full""#
        }
        "split-debuginfo" => r#""off", "packed" or "unpacked""#,
        "strip" => r#"a boolean, "none", "debuginfo" or "symbols""#,
        "lto" => r#"a boolean, "thin", "fat" or "off""#,
        "panic" => r#""unwind" or "abort""#,
        _ => "a positive number",
    })
}

/// One profile as written in one place (manifest or policy).
#[derive(Debug, Clone, Default, PartialEq)]
struct Layer {
    inherits: Option<String>,
    settings: Settings,
    package: BTreeMap<String, Settings>,
    build_override: Settings,
}

impl Layer {
    fn overlay(&mut self, top: &Layer) {
        self.settings.extend(top.settings.clone());
        for (pkg, settings) in &top.package {
            self.package
                .entry(pkg.clone())
                .or_default()
                .extend(settings.clone());
        }
        self.build_override.extend(top.build_override.clone());
    }
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

fn settings_from(table: &BTreeMap<String, toml::Value>) -> Settings {
    table.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()
}

/// Reads the `[profile.*]` tables of a manifest's text.
fn manifest_layers(text: &str, file: &Path) -> Result<BTreeMap<String, Layer>, Error> {
    let err = |key: String, message: String| Error::Profile {
        file: file.display().to_string(),
        key,
        message,
    };
    let doc: toml::Table = toml::from_str(text).map_err(|e| Error::Manifest {
        file: file.display().to_string(),
        message: e.to_string(),
    })?;
    let mut layers = BTreeMap::new();
    let Some(profiles) = doc.get("profile") else {
        return Ok(layers);
    };
    let profiles = profiles
        .as_table()
        .ok_or_else(|| err("profile".into(), "must be a table".into()))?;
    for (name, table) in profiles {
        let prefix = format!("profile.{name}");
        let table = table
            .as_table()
            .ok_or_else(|| err(prefix.clone(), "must be a table".into()))?;
        let mut layer = Layer::default();
        let mut settings = BTreeMap::new();
        for (key, value) in table {
            match key.as_str() {
                "inherits" => {
                    layer.inherits = Some(
                        value
                            .as_str()
                            .ok_or_else(|| {
                                err(format!("{prefix}.inherits"), "must be a string".into())
                            })?
                            .to_string(),
                    )
                }
                "package" => {
                    let packages = value.as_table().ok_or_else(|| {
                        err(format!("{prefix}.package"), "must be a table".into())
                    })?;
                    for (pkg, t) in packages {
                        let t = t.as_table().ok_or_else(|| {
                            err(format!("{prefix}.package.{pkg}"), "must be a table".into())
                        })?;
                        let t: BTreeMap<_, _> = t.clone().into_iter().collect();
                        check_settings(&t, false)
                            .map_err(|(k, m)| err(format!("{prefix}.package.{pkg}.{k}"), m))?;
                        layer.package.insert(pkg.clone(), settings_from(&t));
                    }
                }
                "build-override" => {
                    let t = value.as_table().ok_or_else(|| {
                        err(format!("{prefix}.build-override"), "must be a table".into())
                    })?;
                    let t: BTreeMap<_, _> = t.clone().into_iter().collect();
                    check_settings(&t, false)
                        .map_err(|(k, m)| err(format!("{prefix}.build-override.{k}"), m))?;
                    layer.build_override = settings_from(&t);
                }
                _ => {
                    settings.insert(key.clone(), value.clone());
                }
            }
        }
        check_settings(&settings, true).map_err(|(k, m)| err(format!("{prefix}.{k}"), m))?;
        layer.settings = settings_from(&settings);
        layers.insert(name.clone(), layer);
    }
    Ok(layers)
}

fn policy_layers(policy: &Policy) -> BTreeMap<String, Layer> {
    policy
        .profiles
        .iter()
        .map(|(name, p)| {
            let layer = Layer {
                inherits: p.inherits.clone(),
                settings: settings_from(&p.settings),
                package: p
                    .package
                    .iter()
                    .map(|(k, v)| (k.clone(), settings_from(v)))
                    .collect(),
                build_override: settings_from(&p.build_override),
            };
            (name.clone(), layer)
        })
        .collect()
}

/// Resolves every profile named in the manifest or the policy, plus `dev`
/// and `release`, into the plan's form. `manifest_text` is the root
/// manifest; `file` names it in errors.
pub fn resolve(
    manifest_text: &str,
    file: &Path,
    policy: &Policy,
) -> Result<BTreeMap<String, Profile>, Error> {
    let manifest = manifest_layers(manifest_text, file)?;
    let policy = policy_layers(policy);
    let names: BTreeSet<&String> = manifest.keys().chain(policy.keys()).collect();
    let mut out = BTreeMap::new();
    for name in ["dev", "release"]
        .iter()
        .map(|s| s.to_string())
        .chain(names.into_iter().cloned())
    {
        if out.contains_key(&name) {
            continue;
        }
        let (inherits, layer) = effective(&name, &manifest, &policy, file, &mut Vec::new())?;
        out.insert(name.clone(), render(&name, inherits, layer));
    }
    Ok(out)
}

/// The parent a profile inherits from: declared, or built in.
fn parent_of(
    name: &str,
    manifest: &BTreeMap<String, Layer>,
    policy: &BTreeMap<String, Layer>,
    file: &Path,
) -> Result<Option<String>, Error> {
    let declared = policy
        .get(name)
        .and_then(|l| l.inherits.clone())
        .or_else(|| manifest.get(name).and_then(|l| l.inherits.clone()));
    let builtin = BUILTIN.iter().find(|(n, _)| *n == name);
    let err = |message: String| Error::Profile {
        file: file.display().to_string(),
        key: format!("profile.{name}.inherits"),
        message,
    };
    match (builtin, declared) {
        (Some((_, None)), Some(_)) => Err(err(
            "is not allowed: dev and release are root profiles".into()
        )),
        (Some((_, parent)), _) => Ok(parent.map(str::to_string)),
        (None, Some(parent)) => Ok(Some(parent)),
        (None, None) => Err(err(
            "is missing: a custom profile must say which profile it inherits from".into(),
        )),
    }
}

fn effective(
    name: &str,
    manifest: &BTreeMap<String, Layer>,
    policy: &BTreeMap<String, Layer>,
    file: &Path,
    stack: &mut Vec<String>,
) -> Result<(Option<String>, Layer), Error> {
    if stack.iter().any(|n| n == name) {
        stack.push(name.to_string());
        return Err(Error::Profile {
            file: file.display().to_string(),
            key: format!("profile.{}.inherits", stack[0]),
            message: format!("forms a cycle: {}", stack.join(" -> ")),
        });
    }
    let is_known = BUILTIN.iter().any(|(n, _)| *n == name)
        || manifest.contains_key(name)
        || policy.contains_key(name);
    if !is_known {
        let from = stack.last().cloned().unwrap_or_default();
        return Err(Error::Profile {
            file: file.display().to_string(),
            key: format!("profile.{from}.inherits"),
            message: format!("names profile `{name}`, which is not defined"),
        });
    }
    stack.push(name.to_string());
    let parent = parent_of(name, manifest, policy, file)?;
    let mut layer = match &parent {
        Some(p) => effective(p, manifest, policy, file, stack)?.1,
        None => Layer::default(),
    };
    stack.pop();
    if let Some(own) = manifest.get(name) {
        layer.overlay(own);
    }
    if let Some(own) = policy.get(name) {
        layer.overlay(own);
    }
    layer.inherits = parent.clone();
    Ok((parent, layer))
}

/// A value as it is written in TOML (for `--config`).
fn toml_literal(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).expect("strings serialise"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_literal).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A value as an environment variable holds it.
fn env_literal(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(env_literal).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// A TOML key, quoted unless it is a bare key.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        serde_json::to_string(key).expect("strings serialise")
    }
}

fn env_part(name: &str) -> String {
    name.to_ascii_uppercase().replace(['-', '.'], "_")
}

fn render(name: &str, inherits: Option<String>, layer: Layer) -> Profile {
    let base = format!("profile.{}", toml_key(name));
    let env_base = format!("CARGO_PROFILE_{}", env_part(name));
    let mut config = Vec::new();
    let mut env = BTreeMap::new();
    let is_builtin = BUILTIN.iter().any(|(n, _)| *n == name);
    if let (Some(parent), false) = (&inherits, is_builtin) {
        config.push(format!(
            "{base}.inherits={}",
            toml_literal(&parent.clone().into())
        ));
        env.insert(format!("{env_base}_INHERITS"), parent.clone());
    }
    for (key, value) in &layer.settings {
        config.push(format!("{base}.{key}={}", toml_literal(value)));
        env.insert(format!("{env_base}_{}", env_part(key)), env_literal(value));
    }
    for (key, value) in &layer.build_override {
        config.push(format!(
            "{base}.build-override.{key}={}",
            toml_literal(value)
        ));
        env.insert(
            format!("{env_base}_BUILD_OVERRIDE_{}", env_part(key)),
            env_literal(value),
        );
    }
    // Cargo reads per-package overrides from --config but not from the
    // environment, so they appear in `config` only.
    for (pkg, settings) in &layer.package {
        for (key, value) in settings {
            config.push(format!(
                "{base}.package.{}.{key}={}",
                toml_key(pkg),
                toml_literal(value)
            ));
        }
    }
    config.sort();
    Profile {
        inherits,
        settings: layer.settings,
        package: layer.package,
        build_override: layer.build_override,
        config,
        env,
    }
}

/// The profile cargo's built-in chain ends in (`dev` or `release`).
pub fn root_of(name: &str, profiles: &BTreeMap<String, Profile>) -> String {
    let mut current = name.to_string();
    for _ in 0..profiles.len() + 4 {
        let parent = profiles
            .get(&current)
            .and_then(|p| p.inherits.clone())
            .or_else(|| {
                BUILTIN
                    .iter()
                    .find(|(n, _)| *n == current)
                    .and_then(|(_, p)| p.map(str::to_string))
            });
        match parent {
            Some(p) => current = p,
            None => break,
        }
    }
    current
}

/// Cargo's built-in default for `key` in the `dev` or `release` profile, as
/// documented in the Cargo book (used by `explain`, never written to the
/// plan).
pub fn builtin_default(root: &str, key: &str) -> Option<&'static str> {
    let release = root == "release";
    Some(match key {
        "opt-level" if release => "3",
        "opt-level" => "0",
        "debug" if release => "false",
        "debug" => "true (full)",
        "split-debuginfo" => "platform default",
        "strip" if release => "\"none\" (debuginfo is stripped when debug is off)",
        "strip" => "\"none\"",
        "debug-assertions" | "overflow-checks" => {
            if release {
                "false"
            } else {
                "true"
            }
        }
        "lto" => "false (thin-local)",
        "panic" => "\"unwind\"",
        "incremental" if release => "false",
        "incremental" => "true",
        "codegen-units" if release => "16",
        "codegen-units" => "256",
        "rpath" => "false",
        _ => return None,
    })
}

/// The settings `explain` lists for every profile, in order.
pub fn displayed_keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().take(STABLE_KEYS).map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let policy = Policy::from_manifest_str(policy, file).unwrap();
        resolve(manifest, file, &policy)
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
        assert_eq!(fast.settings["opt-level"], 2);
        assert_eq!(fast.settings["lto"], false);
        assert_eq!(fast.settings["codegen-units"], 256);
        assert_eq!(fast.build_override["opt-level"], 0);
        let lean = &p["release-lean"];
        assert_eq!(lean.settings["lto"], false);
        assert_eq!(lean.settings["strip"], true);
        assert_eq!(root_of("release-lean", &p), "release");
        assert_eq!(root_of("dev", &p), "dev");
    }

    #[test]
    fn only_written_values_are_recorded() {
        let p = resolve_with("[workspace]\n", "").unwrap();
        assert!(p["dev"].settings.is_empty());
        assert!(p["release"].config.is_empty());
        assert!(p["release"].env.is_empty());
    }

    #[test]
    fn config_and_env_are_rendered() {
        let p = resolve_with(MANIFEST, "").unwrap();
        let rel = &p["release"];
        assert_eq!(
            rel.config,
            [
                "profile.release.build-override.opt-level=0",
                "profile.release.codegen-units=16",
                "profile.release.lto=\"thin\"",
                "profile.release.opt-level=2",
            ]
        );
        assert_eq!(rel.env["CARGO_PROFILE_RELEASE_LTO"], "thin");
        assert_eq!(
            rel.env["CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_OPT_LEVEL"],
            "0"
        );
        let dev = &p["dev"];
        assert!(dev
            .config
            .contains(&"profile.dev.package.\"*\".opt-level=2".to_string()));
        assert!(!dev.env.keys().any(|k| k.contains("PACKAGE")));
        let fast = &p["release-fast"];
        assert!(fast
            .config
            .contains(&"profile.release-fast.inherits=\"release\"".to_string()));
        assert_eq!(fast.env["CARGO_PROFILE_RELEASE_FAST_CODEGEN_UNITS"], "256");
    }

    #[test]
    fn policy_overrides_manifest_and_reaches_children() {
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
        assert_eq!(p["release"].settings["opt-level"], 3);
        assert_eq!(p["release-fast"].settings["opt-level"], 3);
        assert_eq!(p["release"].package["server"]["codegen-units"], 4);
        assert_eq!(p["ci"].settings["incremental"], false);
        assert_eq!(p["ci"].settings["debug"], "line-tables-only");
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
        }
    }

    #[test]
    fn builtin_defaults_are_known() {
        assert_eq!(builtin_default("release", "opt-level"), Some("3"));
        assert_eq!(builtin_default("dev", "codegen-units"), Some("256"));
        assert_eq!(builtin_default("dev", "bogus"), None);
        assert_eq!(displayed_keys().count(), 11);
    }
}
