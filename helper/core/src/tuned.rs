//! The plan's tuned profiles, `buildplan-dev` and `buildplan-ci` unless
//! renamed: new profile names the plan adds for any workspace, that make
//! everyday builds fast on a small machine (what they set and why:
//! `docs/helper-notes.md`). The policy key `tuned-profiles` turns them off
//! or renames them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use toml::Value;

use crate::cargo_config::ProfileTable;
use crate::error::Error;
use crate::policy::{Policy, TunedProfiles};

/// The fast dev profile's default name.
pub const DEV: &str = "buildplan-dev";
/// The CI / release-fast profile's default name.
pub const CI: &str = "buildplan-ci";

fn table<const N: usize>(pairs: [(&str, Value); N]) -> BTreeMap<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A profile inheriting `inherits` with `settings`, and build scripts and
/// proc-macros at opt-level 0 without debug info.
fn profile(inherits: &str, settings: BTreeMap<String, Value>) -> ProfileTable {
    ProfileTable {
        inherits: Some(inherits.into()),
        settings,
        package: BTreeMap::new(),
        build_override: table([
            ("opt-level", Value::Integer(0)),
            ("debug", Value::Boolean(false)),
        ]),
    }
}

/// The fast dev profile's settings.
pub fn dev_profile() -> ProfileTable {
    let debug = Value::String("line-tables-only".into());
    profile(
        "dev",
        table([("debug", debug), ("incremental", Value::Boolean(true))]),
    )
}

/// The CI / release-fast profile's settings.
pub fn ci_profile() -> ProfileTable {
    let settings = table([
        ("lto", Value::String("off".into())),
        ("debug", Value::Boolean(false)),
        ("codegen-units", Value::Integer(16)),
        ("incremental", Value::Boolean(false)),
    ]);
    ProfileTable {
        package: BTreeMap::from([("*".into(), table([("codegen-units", Value::Integer(1))]))]),
        ..profile("release", settings)
    }
}

/// The tuned profiles' names under `policy` (empty when it turns them
/// off), as (policy key, name) pairs.
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

/// `policy` with the tuned profiles added; a name in `taken` (cargo's own
/// layers) or the policy's is an error naming `file` and the key to set.
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
        if taken.contains(&name)
            || policy.profiles.contains_key(&name)
            || !used.insert(name.clone())
        {
            return Err(bad(format!(
                "the tuned profile name `{name}` is already a profile of the workspace or the policy; \
                 rename it (tuned-profiles = {{ {which} = \"other-name\" }}) or turn the tuned \
                 profiles off (tuned-profiles = false)"
            )));
        }
        let profile = if which == "dev" {
            dev_profile()
        } else {
            ci_profile()
        };
        out.profiles.insert(name, profile);
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
            Value::String("off".into())
        );
        assert_eq!(
            added.profiles[CI].package["*"]["codegen-units"],
            Value::Integer(1)
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
        for p in [dev_profile(), ci_profile()] {
            let lto = p.settings.get("lto");
            assert!(
                lto.is_none()
                    || lto == Some(&Value::Boolean(false))
                    || lto == Some(&Value::String("off".into())),
                "{lto:?}"
            );
            assert_eq!(p.build_override["opt-level"], Value::Integer(0));
        }
    }
}
