//! The configurations as defined: the defaults, the policy's `configs`
//! and `--define`, and the selection `--configs` makes.

use std::path::Path;

use crate::policy::{self, BenchConfigPolicy};
use buildplan::error::Error;
use buildplan::exec::Linker;
use buildplan::policy::Policy;

/// The default shipped configuration's name.
pub const SHIPPED: &str = "shipped";
/// The default planned configuration's name.
pub const TUNED: &str = "tuned";

/// The kind of a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Plain cargo, the workspace as shipped.
    Shipped,
    /// The plan's command.
    Planned,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "shipped" => Some(Kind::Shipped),
            "planned" => Some(Kind::Planned),
            _ => None,
        }
    }
}

/// A configuration as defined (by default, the policy or `--define`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Name in the results.
    pub name: String,
    /// Shipped or planned.
    pub kind: Kind,
    /// Cargo profile.
    pub profile: String,
    /// Linker asked for, if any.
    pub linker: Option<Linker>,
    /// Extra `--config` settings (shipped only).
    pub settings: Vec<String>,
}

fn parse_linker(s: &str) -> Option<Linker> {
    match s {
        "default" => Some(Linker::Default),
        other => Linker::from_fuse_ld(other),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// The default configurations under `policy`: `tuned` (the plan's tuned CI
/// profile, when the policy has not turned the tuned profiles off) and
/// `shipped` (`release` as shipped), in that run order.
pub fn defaults(policy: &Policy) -> Vec<Spec> {
    let mut specs = Vec::new();
    if let Some((_, ci)) = buildplan::tuned::names(policy)
        .into_iter()
        .find(|(which, _)| *which == "ci")
    {
        specs.push(Spec {
            name: TUNED.into(),
            kind: Kind::Planned,
            profile: ci,
            linker: None,
            settings: Vec::new(),
        });
    }
    specs.push(Spec {
        name: SHIPPED.into(),
        kind: Kind::Shipped,
        profile: "release".into(),
        linker: None,
        settings: Vec::new(),
    });
    specs
}

/// The policy's configurations, checked; `file` names the manifest.
pub fn from_policy(list: &[BenchConfigPolicy], file: &Path) -> Result<Vec<Spec>, Error> {
    let mut specs: Vec<Spec> = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let bad = |key: &str, message| policy::entry_error(file, "configs", i, key, message);
        if !valid_name(&c.name) {
            return Err(bad("name", format!("`{}` is not a valid name", c.name)));
        }
        if specs.iter().any(|s| s.name == c.name) {
            return Err(bad("name", format!("`{}` is defined twice", c.name)));
        }
        let kind = Kind::parse(&c.kind).ok_or_else(|| {
            bad(
                "kind",
                format!("unknown kind `{}`; known: shipped, planned", c.kind),
            )
        })?;
        let linker = match &c.linker {
            None => None,
            Some(l) => Some(parse_linker(l).ok_or_else(|| {
                bad(
                    "linker",
                    format!("unknown linker `{l}`; known: mold, lld, bfd, default"),
                )
            })?),
        };
        if kind == Kind::Planned && !c.settings.is_empty() {
            return Err(bad(
                "settings",
                "only a shipped configuration takes settings; a planned one gets the plan's \
                 (define a policy profile instead)"
                    .into(),
            ));
        }
        if let Some(s) = c.settings.iter().find(|s| !s.starts_with("profile.")) {
            return Err(bad(
                "settings",
                format!("`{s}` is not a profile setting (`profile.NAME.KEY=VALUE`)"),
            ));
        }
        specs.push(Spec {
            name: c.name.clone(),
            kind,
            profile: c.profile.clone(),
            linker,
            settings: c.settings.clone(),
        });
    }
    Ok(specs)
}

/// Parses `--define NAME=shipped:PROFILE` or `NAME=planned:PROFILE[:LINKER]`.
pub fn parse_define(text: &str) -> Result<Spec, Error> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "--define `{text}`: {why} (expected NAME=shipped:PROFILE or \
             NAME=planned:PROFILE[:LINKER], LINKER one of mold, lld, bfd, default)"
        ))
    };
    let (name, rest) = text.split_once('=').ok_or_else(|| bad("no `=`"))?;
    if !valid_name(name) {
        return Err(bad("not a valid name"));
    }
    let mut parts = rest.split(':');
    let kind = parts
        .next()
        .and_then(Kind::parse)
        .ok_or_else(|| bad("unknown kind"))?;
    let profile = parts
        .next()
        .filter(|p| valid_name(p))
        .ok_or_else(|| bad("no profile"))?;
    let linker = match parts.next() {
        None => None,
        Some(_) if kind == Kind::Shipped => {
            return Err(bad("a shipped configuration uses the workspace's linker"))
        }
        Some(l) => Some(parse_linker(l).ok_or_else(|| bad("unknown linker"))?),
    };
    if parts.next().is_some() {
        return Err(bad("too many fields"));
    }
    Ok(Spec {
        name: name.into(),
        kind,
        profile: profile.into(),
        linker,
        settings: Vec::new(),
    })
}

/// Every configuration known to this run: the policy's (or the defaults),
/// with each `--define` replacing the one of the same name or added last.
pub fn known(base: Vec<Spec>, defines: &[String]) -> Result<Vec<Spec>, Error> {
    let mut specs = base;
    for d in defines {
        let spec = parse_define(d.trim())?;
        match specs.iter_mut().find(|s| s.name == spec.name) {
            Some(slot) => *slot = spec,
            None => specs.push(spec),
        }
    }
    Ok(specs)
}

/// The configurations `--configs` names (empty: all known), in the known
/// order. An unknown name is an error listing the known ones.
pub fn select(known: &[Spec], requested: &[String]) -> Result<Vec<Spec>, Error> {
    for r in requested {
        if !known.iter().any(|s| s.name == r.trim()) {
            return Err(unknown(r.trim(), known));
        }
    }
    Ok(known
        .iter()
        .filter(|s| requested.is_empty() || requested.iter().any(|r| r.trim() == s.name))
        .cloned()
        .collect())
}

/// The error for an unknown configuration name.
pub fn unknown(name: &str, known: &[Spec]) -> Error {
    Error::invalid(format!(
        "unknown configuration `{name}`; known: {} (define one with --define \
         NAME=shipped:PROFILE or NAME=planned:PROFILE[:LINKER], or in \
         [workspace.metadata.buildplan.bench] configs)",
        known
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use buildplan::policy::{TunedNames, TunedProfiles};

    #[test]
    fn defaults_follow_the_tuned_profile_names() {
        let d = defaults(&Policy::default());
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].name.as_str(), d[0].kind, d[0].profile.as_str()),
            (TUNED, Kind::Planned, buildplan::tuned::CI)
        );
        assert_eq!(
            (d[1].name.as_str(), d[1].kind, d[1].profile.as_str()),
            (SHIPPED, Kind::Shipped, "release")
        );
        let renamed = Policy {
            tuned_profiles: Some(TunedProfiles::Names(TunedNames {
                dev: None,
                ci: Some("fast-ci".into()),
            })),
            ..Policy::default()
        };
        assert_eq!(defaults(&renamed)[0].profile, "fast-ci");
        let off = Policy {
            tuned_profiles: Some(TunedProfiles::Enabled(false)),
            ..Policy::default()
        };
        let d = defaults(&off);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].name, SHIPPED);
    }

    #[test]
    fn defines_add_and_replace() {
        let s = parse_define("fat=shipped:release-optimized").unwrap();
        assert_eq!(
            (s.kind, s.profile.as_str(), s.linker),
            (Kind::Shipped, "release-optimized", None)
        );
        let s = parse_define("fm=planned:release-fast:mold").unwrap();
        assert_eq!(s.linker, Some(Linker::Mold));
        for bad in [
            "x",
            "x=fast:release",
            "x=planned:",
            "x=planned:release:gold",
            "x=shipped:release:mold",
            "x=planned:release:mold:extra",
        ] {
            assert!(parse_define(bad).is_err(), "{bad}");
        }
        let all = known(
            defaults(&Policy::default()),
            &["shipped=shipped:dev".into(), "more=planned:dev".into()],
        )
        .unwrap();
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [TUNED, SHIPPED, "more"]);
        assert_eq!(all[1].profile, "dev");
        let err = select(&all, &["nope".into()]).unwrap_err().to_string();
        assert!(
            err.contains("unknown configuration `nope`; known: tuned, shipped, more"),
            "{err}"
        );
        let picked = select(&all, &["more".into(), "tuned".into()]).unwrap();
        assert_eq!(picked[0].name, TUNED, "known order");
    }

    #[test]
    fn policy_configs_are_checked_naming_the_key() {
        let c = |kind: &str, linker: Option<&str>, settings: &[&str]| BenchConfigPolicy {
            name: "a".into(),
            kind: kind.into(),
            profile: "release".into(),
            linker: linker.map(String::from),
            settings: settings.iter().map(|s| s.to_string()).collect(),
        };
        let file = Path::new("ws/Cargo.toml");
        let ok = from_policy(
            &[c("shipped", Some("bfd"), &["profile.release.lto=true"])],
            file,
        )
        .unwrap();
        assert_eq!(ok[0].linker, Some(Linker::Bfd));
        for (list, key) in [
            (vec![c("fast", None, &[])], "configs[0].kind"),
            (vec![c("planned", Some("gold"), &[])], "configs[0].linker"),
            (
                vec![c("planned", None, &["profile.release.lto=true"])],
                "configs[0].settings",
            ),
            (
                vec![c("shipped", None, &["lto=true"])],
                "configs[0].settings",
            ),
            (
                vec![c("shipped", None, &[]), c("planned", None, &[])],
                "configs[1].name",
            ),
        ] {
            let err = from_policy(&list, file).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains("ws/Cargo.toml"), "{err}");
        }
    }
}
