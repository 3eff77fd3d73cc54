//! The tuned profiles (`buildplan-dev`, `buildplan-ci`; policy key `tuned-profiles`)
//! for fast everyday builds on a small machine (why: `docs/helper-notes.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::cargo_config::ProfileTable;
use crate::error::Error;
use crate::policy::{Policy, TunedProfiles};

/// The fast dev profile's default name.
pub const DEV: &str = "buildplan-dev";
/// The CI / release-fast profile's default name.
pub const CI: &str = "buildplan-ci";

/// The tuned profiles' settings, by policy key.
const PROFILES: &str = r#"
[dev]
inherits = "dev"
debug = "line-tables-only"
incremental = true
build-override = { opt-level = 0, debug = false }

[ci]
inherits = "release"
lto = "off"
debug = false
codegen-units = 16
incremental = false
build-override = { opt-level = 0, debug = false }
package."*" = { codegen-units = 1 }
"#;

/// The tuned profile of policy key `which` (`dev` or `ci`).
pub fn profile(which: &str) -> ProfileTable {
    let mut all: BTreeMap<String, ProfileTable> =
        toml::from_str(PROFILES).expect("the tuned profiles parse");
    all.remove(which).expect("`dev` or `ci`")
}

/// The tuned profiles' (policy key, name) pairs under `policy`.
pub fn names(policy: &Policy) -> Vec<(&'static str, String)> {
    match &policy.tuned_profiles {
        Some(TunedProfiles::Enabled(false)) => Vec::new(),
        Some(TunedProfiles::Names(n)) => vec![
            ("dev", n.dev.clone().unwrap_or_else(|| DEV.into())),
            ("ci", n.ci.clone().unwrap_or_else(|| CI.into())),
        ],
        _ => vec![("dev", DEV.into()), ("ci", CI.into())],
    }
}

/// `policy` with the tuned profiles added; a `taken` name is an error naming `file`.
pub fn with_tuned(policy: &Policy, taken: &BTreeSet<String>, file: &Path) -> Result<Policy, Error> {
    let mut out = policy.clone();
    let mut used = BTreeSet::new();
    for (which, name) in names(policy) {
        let bad = |message: String| {
            let key = format!("workspace.metadata.buildplan.tuned-profiles.{which}");
            Error::key(&file.display().to_string(), key, message)
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || !name.chars().all(valid) {
            return Err(bad(format!("`{name}` is not a valid profile name")));
        }
        let clash = taken.contains(&name) || policy.profiles.contains_key(&name);
        if clash || !used.insert(name.clone()) {
            return Err(bad(format!(
                "the tuned profile name `{name}` is already a profile of the workspace or the policy; \
                 rename it (tuned-profiles = {{ {which} = \"other-name\" }}) or turn the tuned \
                 profiles off (tuned-profiles = false)"
            )));
        }
        out.profiles.insert(name, profile(which));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::TunedNames;

    #[test]
    fn default_names_and_off_and_renamed() {
        let p = Policy::default();
        let added = with_tuned(&p, &BTreeSet::new(), Path::new("Cargo.toml")).unwrap();
        assert_eq!(added.profiles.keys().collect::<Vec<_>>(), [CI, DEV]);
        assert_eq!(
            added.profiles[CI].settings["lto"],
            toml::Value::String("off".into())
        );
        assert_eq!(
            added.profiles[CI].package["*"]["codegen-units"],
            toml::Value::Integer(1)
        );
        let off = Policy {
            tuned_profiles: Some(TunedProfiles::Enabled(false)),
            ..Policy::default()
        };
        assert!(with_tuned(&off, &BTreeSet::new(), Path::new("C"))
            .unwrap()
            .profiles
            .is_empty());
        let renamed = Policy {
            tuned_profiles: Some(TunedProfiles::Names(TunedNames {
                dev: None,
                ci: Some("fast-ci".into()),
            })),
            ..Policy::default()
        };
        let got = with_tuned(&renamed, &BTreeSet::new(), Path::new("C")).unwrap();
        assert_eq!(got.profiles.keys().collect::<Vec<_>>(), [DEV, "fast-ci"]);
    }

    #[test]
    fn a_taken_name_is_refused_naming_the_key() {
        let taken = BTreeSet::from([CI.to_string()]);
        let err = with_tuned(&Policy::default(), &taken, Path::new("Cargo.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("tuned-profiles.ci"), "{msg}");
        assert!(msg.contains("already a profile"), "{msg}");
    }

    #[test]
    fn no_tuned_profile_switches_fat_lto_on() {
        for p in [profile("dev"), profile("ci")] {
            let lto = p.settings.get("lto");
            assert!(
                lto.is_none()
                    || lto == Some(&toml::Value::Boolean(false))
                    || lto == Some(&toml::Value::String("off".into())),
                "{lto:?}"
            );
            assert_eq!(p.build_override["opt-level"], toml::Value::Integer(0));
        }
    }
}
