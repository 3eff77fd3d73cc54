//! The vocabulary of cargo profile settings: the keys a `[profile.*]` table
//! may hold (the policy's `profiles` table has the same keys), the values
//! each accepts, and cargo's built-in defaults.

use std::collections::BTreeMap;

use serde_json::Value;

/// How many of [`KEYS`] (stable ones first) are stable settings that
/// `explain` lists.
const STABLE_KEYS: usize = 11;

/// Which TOML value kinds a key accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Int,
    Str,
    Bool,
    Array,
}

/// The settings cargo 1.95 knows in a profile table (besides `inherits`,
/// `package` and `build-override`), with the kinds each accepts. The last
/// four are unstable (cargo 1.95 accepts `hint-mostly-unused` silently and
/// wants nightly features for the other three); they are known here and
/// reported as written.
pub(crate) const KEYS: &[(&str, &[Kind])] = &[
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
    ("trim-paths", &[Kind::Bool, Kind::Str, Kind::Array]),
    ("codegen-backend", &[Kind::Str]),
    ("rustflags", &[Kind::Array]),
    ("hint-mostly-unused", &[Kind::Bool]),
];

/// The setting names cargo 1.95 knows in a profile table, stable ones
/// first (`inherits`, `package` and `build-override` are not settings).
pub fn known_keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|(k, _)| *k)
}

/// Keys cargo refuses in `package.*` and `build-override` tables.
pub(crate) const WHOLE_PROFILE_ONLY: &[&str] = &["lto", "panic", "rpath"];

/// Checks one setting's key, type and value; the message says what is
/// wrong. `top_level` is false for `package.*` and `build-override` tables.
pub fn check(key: &str, value: &toml::Value, top_level: bool) -> Result<(), String> {
    let Some((_, kinds)) = KEYS.iter().find(|(k, _)| *k == key) else {
        let mut known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        if top_level {
            known.extend(["inherits", "package", "build-override"]);
        }
        return Err(format!(
            "is not a profile setting cargo knows (known: {})",
            known.join(", ")
        ));
    };
    if !top_level && WHOLE_PROFILE_ONLY.contains(&key) {
        return Err(
            "can only be set for a whole profile, not per package or for build-override".into(),
        );
    }
    let kind = match value {
        toml::Value::Integer(_) => Some(Kind::Int),
        toml::Value::String(_) => Some(Kind::Str),
        toml::Value::Boolean(_) => Some(Kind::Bool),
        toml::Value::Array(_) => Some(Kind::Array),
        _ => None,
    };
    if !kind.is_some_and(|k| kinds.contains(&k)) {
        return Err(format!("has a value of the wrong type: {value}"));
    }
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
        return Ok(());
    }
    let allowed = match key {
        "opt-level" => r#"0, 1, 2, 3, "s" or "z""#,
        "debug" => {
            r#"a boolean, 0, 1, 2, "none", "line-directives-only", "line-tables-only", "limited" or "full""#
        }
        "split-debuginfo" => r#""off", "packed" or "unpacked""#,
        "strip" => r#"a boolean, "none", "debuginfo" or "symbols""#,
        "lto" => r#"a boolean, "thin", "fat" or "off""#,
        "panic" => r#""unwind" or "abort""#,
        _ => "a positive number",
    };
    Err(format!("is {value}; expected {allowed}"))
}

/// Checks the keys and value types of a settings table. `top_level` is false
/// for package overrides and `build-override`. On error returns the key and
/// what is wrong with it.
pub fn check_table(
    settings: &BTreeMap<String, toml::Value>,
    top_level: bool,
) -> Result<(), (String, String)> {
    for (key, value) in settings {
        check(key, value, top_level).map_err(|message| (key.clone(), message))?;
    }
    Ok(())
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
        "debug-assertions" | "overflow-checks" if release => "false",
        "debug-assertions" | "overflow-checks" => "true",
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
    known_keys().take(STABLE_KEYS)
}

/// A TOML value as JSON.
pub(crate) fn to_json(value: &toml::Value) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str::<toml::Table>(text)
            .unwrap()
            .into_iter()
            .collect()
    }

    #[test]
    fn keys_types_and_values_are_checked() {
        assert!(check_table(&table("opt-level = 2\nlto = \"thin\"\n"), true).is_ok());
        let (key, msg) = check_table(&table("opt-levle = 1\n"), true).unwrap_err();
        assert_eq!(key, "opt-levle");
        assert!(msg.contains("known: opt-level"), "{msg}");
        let (_, msg) = check_table(&table("codegen-units = \"x\"\n"), true).unwrap_err();
        assert!(msg.contains("wrong type"), "{msg}");
        let (_, msg) = check_table(&table("lto = \"thinn\"\n"), true).unwrap_err();
        assert!(msg.contains("expected a boolean, \"thin\""), "{msg}");
        let (key, msg) = check_table(&table("lto = true\n"), false).unwrap_err();
        assert_eq!(key, "lto");
        assert!(msg.contains("whole profile"), "{msg}");
    }

    #[test]
    fn builtin_defaults_are_known() {
        assert_eq!(builtin_default("release", "opt-level"), Some("3"));
        assert_eq!(builtin_default("dev", "codegen-units"), Some("256"));
        assert_eq!(builtin_default("dev", "overflow-checks"), Some("true"));
        assert_eq!(builtin_default("dev", "bogus"), None);
        assert_eq!(displayed_keys().count(), 11);
    }
}
