//! The plan's tuned profiles: profiles the plan itself defines, for any
//! workspace and without any policy, that make everyday builds fast on a
//! small machine. They never change the workspace's own profiles: they
//! are new names (`buildplan-dev`, `buildplan-ci` by default), added as
//! policy profiles, so cargo gets them as `--config profile.<name>.*`
//! overrides (no lower layer defines them).
//!
//! - `buildplan-dev` inherits `dev`: line tables only instead of full
//!   debug info (backtraces keep file and line), incremental on, build
//!   scripts and proc-macros at opt-level 0 without debug info.
//! - `buildplan-ci` inherits `release`: no LTO at all (`lto = "off"`: not
//!   even the per-crate ThinLTO over codegen units that `lto = false`
//!   runs; fat LTO is never switched on), no debug info, not incremental,
//!   build scripts and proc-macros at opt-level 0. Third-party packages
//!   get one codegen unit and workspace members 16 (why, with the
//!   measurements: `docs/helper-notes.md`). `strip` is inherited from
//!   `release`, so the binary is stripped exactly as the workspace's
//!   release binary is.
//!
//! The policy key `tuned-profiles` turns them off (`false`) or renames
//! them (`{ dev = "...", ci = "..." }`). A name the workspace or the
//! policy already uses is refused with an error naming the key to set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::cargo_config::ProfileTable;
use crate::error::Error;
use crate::policy::{Policy, TunedProfiles};

/// The fast dev profile's default name.
pub const DEV: &str = "buildplan-dev";
/// The CI / release-fast profile's default name.
pub const CI: &str = "buildplan-ci";

fn table(pairs: &[(&str, toml::Value)]) -> BTreeMap<String, toml::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn build_scripts_unoptimised() -> BTreeMap<String, toml::Value> {
    table(&[
        ("opt-level", toml::Value::Integer(0)),
        ("debug", toml::Value::Boolean(false)),
    ])
}

/// The fast dev profile's settings.
pub fn dev_profile() -> ProfileTable {
    ProfileTable {
        inherits: Some("dev".into()),
        settings: table(&[
            ("debug", toml::Value::String("line-tables-only".into())),
            ("incremental", toml::Value::Boolean(true)),
        ]),
        package: BTreeMap::new(),
        build_override: build_scripts_unoptimised(),
    }
}

/// The CI / release-fast profile's settings.
pub fn ci_profile() -> ProfileTable {
    ProfileTable {
        inherits: Some("release".into()),
        settings: table(&[
            ("lto", toml::Value::String("off".into())),
            ("debug", toml::Value::Boolean(false)),
            ("codegen-units", toml::Value::Integer(16)),
            ("incremental", toml::Value::Boolean(false)),
        ]),
        package: BTreeMap::from([(
            "*".to_string(),
            table(&[("codegen-units", toml::Value::Integer(1))]),
        )]),
        build_override: build_scripts_unoptimised(),
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

/// `policy` with the tuned profiles added to its `profiles`. `taken` are
/// the profile names cargo already knows for the workspace (its own
/// layers); a tuned name that is taken, or that the policy's `profiles`
/// defines, is an error naming `file` and the key that renames it.
pub fn with_tuned(policy: &Policy, taken: &BTreeSet<String>, file: &Path) -> Result<Policy, Error> {
    let mut out = policy.clone();
    let mut used = BTreeSet::new();
    for (which, name) in names(policy) {
        let key = format!("workspace.metadata.buildplan.tuned-profiles.{which}");
        let bad = |message: String| Error::Key {
            file: file.display().to_string(),
            key: key.clone(),
            message,
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
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
        for p in [dev_profile(), ci_profile()] {
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
