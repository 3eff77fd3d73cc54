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

/// How many of cargo's profile keys ([`crate::cargo_config::known_keys`],
/// stable ones first) are stable settings that `explain` lists.
const STABLE_KEYS: usize = 11;

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
    // One list of cargo's keys and their values, shared with the resolver of
    // cargo's configuration (which checks the manifest and config files).
    for (key, value) in settings {
        crate::cargo_config::check_setting(key, value, top_level)
            .map_err(|message| (key.clone(), message))?;
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
    crate::cargo_config::known_keys().take(STABLE_KEYS)
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
