//! Cargo profiles in the plan: the profiles themselves are resolved by
//! [`crate::config`] from cargo's configuration ([`crate::cargo_config`]);
//! this module answers questions about the resolved set.

use std::collections::BTreeMap;

use crate::model::Profile;
use crate::settings;

/// The profile cargo's built-in chain ends in (`dev` or `release`).
pub fn root_of(name: &str, profiles: &BTreeMap<String, Profile>) -> String {
    let mut current = name.to_string();
    for _ in 0..profiles.len() + 4 {
        let parent = profiles
            .get(&current)
            .and_then(|p| p.inherits.clone())
            .or_else(|| settings::builtin_parent(&current).map(str::to_string));
        match parent {
            Some(p) => current = p,
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_end_in_dev_or_release() {
        let p = |inherits: Option<&str>| Profile {
            inherits: inherits.map(str::to_string),
            settings: Default::default(),
            build_override: Default::default(),
            package: Default::default(),
            overrides: Default::default(),
        };
        let profiles = BTreeMap::from([
            ("release-fast".to_string(), p(Some("release"))),
            ("release-lean".to_string(), p(Some("release-fast"))),
            ("ci".to_string(), p(Some("test"))),
        ]);
        assert_eq!(root_of("release-lean", &profiles), "release");
        assert_eq!(root_of("ci", &profiles), "dev");
        assert_eq!(root_of("bench", &profiles), "release");
        assert_eq!(root_of("dev", &profiles), "dev");
    }
}
