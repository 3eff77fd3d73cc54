//! The vocabulary of cargo profile settings: which keys a `[profile.*]`
//! table may hold, the values each accepts, and cargo's built-in defaults.
//!
//! It sits below [`crate::policy`] and [`crate::profiles`] because both
//! check profile tables with it (the policy's `profiles` table has the same
//! keys as a manifest's `[profile.NAME]`).

use std::collections::BTreeMap;

/// The profiles cargo defines itself, with what they inherit from.
pub const BUILTIN_PROFILES: [(&str, Option<&str>); 4] = [
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

/// Whether `name` is one of cargo's built-in profiles.
pub fn is_builtin(name: &str) -> bool {
    BUILTIN_PROFILES.iter().any(|(n, _)| *n == name)
}

/// The parent of a built-in profile (`None` for `dev` and `release`, and
/// for a name that is not built in).
pub fn builtin_parent(name: &str) -> Option<&'static str> {
    BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, p)| *p)
}

/// Checks the keys and value types of a settings table. `top_level` is false
/// for package overrides and `build-override`. On error returns the key and
/// what is wrong with it.
pub fn check(
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

    fn table(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str::<toml::Table>(text)
            .unwrap()
            .into_iter()
            .collect()
    }

    #[test]
    fn keys_types_and_values_are_checked() {
        assert!(check(&table("opt-level = 2\nlto = \"thin\"\n"), true).is_ok());
        let (key, msg) = check(&table("opt-levle = 1\n"), true).unwrap_err();
        assert_eq!(key, "opt-levle");
        assert!(msg.contains("known: opt-level"), "{msg}");
        let (_, msg) = check(&table("codegen-units = \"x\"\n"), true).unwrap_err();
        assert!(msg.contains("wrong type"), "{msg}");
        let (_, msg) = check(&table("lto = \"thinn\"\n"), true).unwrap_err();
        assert!(msg.contains("expected a boolean, \"thin\""), "{msg}");
        let (key, msg) = check(&table("lto = true\n"), false).unwrap_err();
        assert_eq!(key, "lto");
        assert!(msg.contains("whole profile"), "{msg}");
    }

    #[test]
    fn builtins_are_known() {
        assert!(is_builtin("bench") && !is_builtin("release-fast"));
        assert_eq!(builtin_parent("test"), Some("dev"));
        assert_eq!(builtin_parent("release"), None);
        assert_eq!(builtin_default("release", "opt-level"), Some("3"));
        assert_eq!(builtin_default("dev", "codegen-units"), Some("256"));
        assert_eq!(builtin_default("dev", "bogus"), None);
        assert_eq!(displayed_keys().count(), 11);
    }
}
