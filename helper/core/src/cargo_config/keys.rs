//! The vocabulary of cargo profile settings: the keys a `[profile.*]` table
//! may hold (the policy's `profiles` table has the same keys), the values
//! each accepts, and cargo's built-in defaults.

/// How many of [`KEYS`] (stable ones first) are stable settings that
/// `explain` lists.
const STABLE_KEYS: usize = 11;

/// Which TOML value kinds a key accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Str,
    Bool,
    Array,
}
use Kind::{Array, Bool, Int, Str};

/// A profile key: its name, kinds, integer range and allowed strings.
type Key = (
    &'static str,
    &'static [Kind],
    (i64, i64),
    &'static [&'static str],
);

/// No integer range (for keys that take no integer).
const NO_INT: (i64, i64) = (0, 0);

/// The settings cargo 1.95 knows in a profile table (besides `inherits`,
/// `package` and `build-override`): the kinds each accepts, the integers
/// it allows (a range) and the strings (empty: any). The last four are
/// unstable, known here and reported as written.
#[rustfmt::skip]
const KEYS: &[Key] = &[
    ("opt-level", &[Int, Str], (0, 3), &["s", "z"]),
    ("debug", &[Bool, Int, Str], (0, 2), &["none", "line-directives-only", "line-tables-only", "limited", "full"]),
    ("split-debuginfo", &[Str], NO_INT, &["off", "packed", "unpacked"]),
    ("strip", &[Bool, Str], NO_INT, &["none", "debuginfo", "symbols"]),
    ("debug-assertions", &[Bool], NO_INT, &[]),
    ("overflow-checks", &[Bool], NO_INT, &[]),
    ("lto", &[Bool, Str], NO_INT, &["thin", "fat", "off"]),
    ("panic", &[Str], NO_INT, &["unwind", "abort"]),
    ("incremental", &[Bool], NO_INT, &[]),
    ("codegen-units", &[Int], (1, i64::MAX), &[]),
    ("rpath", &[Bool], NO_INT, &[]),
    ("trim-paths", &[Bool, Str, Array], NO_INT, &[]),
    ("codegen-backend", &[Str], NO_INT, &[]),
    ("rustflags", &[Array], NO_INT, &[]),
    ("hint-mostly-unused", &[Bool], NO_INT, &[]),
];

/// The setting names cargo 1.95 knows in a profile table, stable ones
/// first (`inherits`, `package` and `build-override` are not settings).
pub fn known_keys() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.0)
}

/// Keys cargo refuses in `package.*` and `build-override` tables.
const WHOLE_PROFILE_ONLY: &[&str] = &["lto", "panic", "rpath"];

/// Checks one setting's key, type and value; the message says what is
/// wrong. `top_level` is false for `package.*` and `build-override` tables.
pub fn check(key: &str, value: &toml::Value, top_level: bool) -> Result<(), String> {
    let Some(&(_, kinds, ints, strings)) = KEYS.iter().find(|k| k.0 == key) else {
        let mut known: Vec<&str> = known_keys().collect();
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
        toml::Value::Integer(_) => Some(Int),
        toml::Value::String(_) => Some(Str),
        toml::Value::Boolean(_) => Some(Bool),
        toml::Value::Array(_) => Some(Array),
        _ => None,
    };
    if !kind.is_some_and(|k| kinds.contains(&k)) {
        return Err(format!("has a value of the wrong type: {value}"));
    }
    let ok = match value {
        toml::Value::Integer(i) => (ints.0..=ints.1).contains(i),
        toml::Value::String(s) => strings.is_empty() || strings.contains(&s.as_str()),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let mut allowed: Vec<String> = Vec::new();
    if kinds.contains(&Bool) {
        allowed.push("a boolean".into());
    }
    if kinds.contains(&Int) && ints.1 == i64::MAX {
        allowed.push("a positive number".into());
    } else if kinds.contains(&Int) {
        allowed.extend((ints.0..=ints.1).map(|i| i.to_string()));
    }
    allowed.extend(strings.iter().map(|s| format!("\"{s}\"")));
    let last = allowed.pop().unwrap_or_default();
    let allowed = if allowed.is_empty() {
        last
    } else {
        format!("{} or {last}", allowed.join(", "))
    };
    Err(format!("is {value}; expected {allowed}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every key of `text`; the first bad key and the message.
    fn check_table(text: &str, top_level: bool) -> Result<(), (String, String)> {
        let table: toml::Table = toml::from_str(text).unwrap();
        for (key, value) in &table {
            check(key, value, top_level).map_err(|m| (key.clone(), m))?;
        }
        Ok(())
    }

    #[test]
    fn keys_types_and_values_are_checked() {
        assert!(check_table("opt-level = 2\nlto = \"thin\"\n", true).is_ok());
        let (key, msg) = check_table("opt-levle = 1\n", true).unwrap_err();
        assert_eq!(key, "opt-levle");
        assert!(msg.contains("known: opt-level"), "{msg}");
        let (_, msg) = check_table("codegen-units = \"x\"\n", true).unwrap_err();
        assert!(msg.contains("wrong type"), "{msg}");
        let (_, msg) = check_table("lto = \"thinn\"\n", true).unwrap_err();
        assert!(msg.contains("expected a boolean, \"thin\""), "{msg}");
        let (key, msg) = check_table("lto = true\n", false).unwrap_err();
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
