//! The profile keys cargo 1.95 knows, and the check of one setting.

use serde_json::Value;

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
