//! A `[profile.*]` table as written ([`ProfileTable`]): the keys it (and the
//! policy's `profiles`) may hold, the values each accepts, cargo's defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many of [`KEYS`] (the stable ones, first) `explain` lists.
const STABLE_KEYS: usize = 11;

/// TOML value kinds, as [`toml::Value::type_str`] names them.
const INT: &str = "integer";
const STR: &str = "string";
const BOOL: &str = "boolean";
const ARRAY: &str = "array";
/// A key: its name, kinds, integer range and allowed strings.
type Key = (&'static str, Strs, (i64, i64), Strs);
type Strs = &'static [&'static str];
/// No integer range (for keys that take no integer).
const NO_INT: (i64, i64) = (1, 0);

/// The settings cargo 1.95 knows in a profile table, stable first (the last
/// four unstable, reported as written); strings empty: any.
#[rustfmt::skip]
const KEYS: &[Key] = &[
    ("opt-level", &[INT, STR], (0, 3), &["s", "z"]),
    ("debug", &[BOOL, INT, STR], (0, 2), &["none", "line-directives-only", "line-tables-only", "limited", "full"]),
    ("split-debuginfo", &[STR], NO_INT, &["off", "packed", "unpacked"]),
    ("strip", &[BOOL, STR], NO_INT, &["none", "debuginfo", "symbols"]),
    ("debug-assertions", &[BOOL], NO_INT, &[]),
    ("overflow-checks", &[BOOL], NO_INT, &[]),
    ("lto", &[BOOL, STR], NO_INT, &["thin", "fat", "off"]),
    ("panic", &[STR], NO_INT, &["unwind", "abort"]),
    ("incremental", &[BOOL], NO_INT, &[]),
    ("codegen-units", &[INT], (1, i64::MAX), &[]),
    ("rpath", &[BOOL], NO_INT, &[]),
    ("trim-paths", &[BOOL, STR, ARRAY], NO_INT, &[]),
    ("codegen-backend", &[STR], NO_INT, &[]),
    ("rustflags", &[ARRAY], NO_INT, &[]),
    ("hint-mostly-unused", &[BOOL], NO_INT, &[]),
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
    let Some(&(_, kinds, (lo, hi), strings)) = KEYS.iter().find(|k| k.0 == key) else {
        let tables = ["inherits", "package", "build-override"].into_iter();
        let known: Vec<&str> = known_keys().chain(tables.filter(|_| top_level)).collect();
        let known = known.join(", ");
        return Err(format!(
            "is not a profile setting cargo knows (known: {known})"
        ));
    };
    if !top_level && WHOLE_PROFILE_ONLY.contains(&key) {
        let message = "can only be set for a whole profile, not per package or for build-override";
        return Err(message.into());
    }
    if !kinds.contains(&value.type_str()) {
        return Err(format!("has a value of the wrong type: {value}"));
    }
    let ok = match value {
        toml::Value::Integer(i) => (lo..=hi).contains(i),
        toml::Value::String(s) => strings.is_empty() || strings.contains(&s.as_str()),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let ints: Vec<String> = match hi {
        i64::MAX => vec!["a positive number".into()],
        _ => (lo..=hi).map(|i| i.to_string()).collect(),
    };
    let boolean = kinds.contains(&BOOL).then(|| "a boolean".to_string());
    let quoted = strings.iter().map(|s| format!("\"{s}\""));
    let mut allowed: Vec<String> = boolean.into_iter().chain(ints).chain(quoted).collect();
    let last = allowed.pop().unwrap_or_default();
    let allowed = match allowed.is_empty() {
        true => last,
        false => format!("{} or {last}", allowed.join(", ")),
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

/// A `[profile.NAME]` table as written. Serialised, it is the same table
/// again (the policy's profiles become a `--config` layer that way).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProfileTable {
    /// The profile it inherits from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherits: Option<String>,
    /// Settings such as `opt-level` or `lto` (checked by
    /// [`ProfileTable::check`]: serde cannot deny them in a flattened map).
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
    /// Checks every setting; on error, the key's dotted path below the
    /// profile (`lto`, `package.foo.lto`) and what is wrong with it.
    pub fn check(&self) -> Result<(), (String, String)> {
        let tables = [
            (String::new(), &self.settings, true),
            ("build-override.".into(), &self.build_override, false),
        ];
        let packages =
            (self.package.iter()).map(|(spec, t)| (format!("package.{spec}."), t, false));
        for (prefix, table, top_level) in tables.into_iter().chain(packages) {
            for (key, value) in table {
                check(key, value, top_level).map_err(|m| (format!("{prefix}{key}"), m))?;
            }
        }
        Ok(())
    }
}

/// Each layer's table of a profile, lowest first: whether the layer is a
/// `--config` value, its source and the table.
pub(super) type Tables = BTreeMap<String, Vec<(bool, String, ProfileTable)>>;

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
