//! The configurations a benchmark compares, and their cargo commands.
//!
//! A configuration is a name, a kind and a profile:
//!
//! - **shipped**: plain cargo, exactly as the user would run it: `cargo
//!   build -p PKG <its features in the variant> --profile P` (the
//!   package's `alone_cargo_args`), with no `--config`,
//!   no rustflags in the environment and nothing of the plan, so the
//!   workspace's own `.cargo/config.toml`, manifest profiles and configured
//!   rustflags apply. A shipped configuration may deliberately depart from
//!   the workspace with `settings` (extra `--config` profile settings) or a
//!   `linker`; it is then labelled so.
//! - **planned**: the command `cargo buildplan build` runs for that profile
//!   ([`buildplan::build::assemble`] with cargo's configuration as it is read on
//!   this machine): the plan's overrides and flags are added to the
//!   workspace's own, never put in their place. Optionally with a linker
//!   (`mold`, `lld`, `bfd` or `default`) instead of the plan's choice.
//!
//! Without a policy and without options there are two: `tuned`, the plan's
//! tuned CI profile ([`buildplan::tuned`], `buildplan-ci` unless renamed), and
//! `shipped`, the workspace's `release` profile as shipped. The policy's
//! `[workspace.metadata.buildplan.bench]` `configs` replaces them;
//! `--define NAME=KIND:PROFILE[:LINKER]` adds to (or redefines in) either.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::policy::BenchConfigPolicy;
use buildplan::build::{self, Selection};
use buildplan::cargo_config::{self, CargoConfig};
use buildplan::error::Error;
use buildplan::exec::{CargoCommand, Linker, Machine};
use buildplan::model::Plan;
use buildplan::policy::Policy;

/// The default shipped configuration's name.
pub const SHIPPED: &str = "shipped";
/// The default planned configuration's name.
pub const TUNED: &str = "tuned";

/// Variables removed from the environment of every benchmarked command, so
/// that the user's shell cannot change what is measured (a compiler cache,
/// extra rustflags, a job count, incremental on or off). The workspace's
/// own configuration files are not affected.
pub const ENV_REMOVED: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_INCREMENTAL",
    "CARGO_BUILD_JOBS",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_INCREMENTAL",
];

/// Whether a variable is removed from the benchmarked commands'
/// environment ([`ENV_REMOVED`] and every `CARGO_PROFILE_*`).
pub fn env_removed(name: &str) -> bool {
    ENV_REMOVED.contains(&name) || name.starts_with("CARGO_PROFILE_")
}

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
        let bad = |key: &str, message: String| Error::Key {
            file: file.display().to_string(),
            key: format!("workspace.metadata.buildplan.bench.configs[{i}].{key}"),
            message,
        };
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

/// One configuration, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Name (`shipped`, `tuned`, ...).
    pub name: String,
    /// Cargo profile it builds with.
    pub profile: String,
    /// Whether it follows the plan (kind `planned`) or is plain cargo
    /// (kind `shipped`).
    pub planned: bool,
    /// The linker it uses, for people.
    pub linker: String,
    /// The build command as one shell line (target dir included).
    pub command: String,
    /// The build command.
    #[serde(skip)]
    pub cargo: Option<CargoCommand>,
    /// The same as `cargo rustc` selecting the package alone (the `link`
    /// scenario records the binary's link with it; `cargo rustc` takes one
    /// package, where a unified variant's build selects every root).
    #[serde(skip)]
    pub rustc: Option<CargoCommand>,
}

/// What every configuration of a run is resolved against.
pub struct Context<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The workspace copy the commands run in.
    pub copy_root: &'a Path,
    /// Package measured.
    pub package: &'a str,
    /// Its variant.
    pub variant: &'a str,
    /// This machine.
    pub machine: &'a Machine,
    /// Cargo's configuration as the copy's builds read it.
    pub cargo_config: &'a CargoConfig,
    /// Planned configurations select the variant's unified build (every
    /// root's features) instead of the package alone.
    pub unified: bool,
}

/// Resolves one configuration into its build command, building into
/// `target_dir`.
pub fn resolve(spec: &Spec, ctx: &Context<'_>, target_dir: &Path) -> anyhow::Result<Config> {
    let host = &ctx.machine.host;
    let (mut cmd, mut rustc, linker) = match spec.kind {
        Kind::Planned => {
            // Like for like with a shipped configuration: the package
            // alone with its own features, unless the run asks for the
            // variant's unified selection.
            let sel = Selection {
                alone: !ctx.unified,
                linker: spec.linker,
                user_jobs: ctx.cargo_config.jobs()?,
                cargo_config: Some(ctx.cargo_config),
                ..Selection::new(ctx.package, ctx.variant, "host", &spec.profile)
            };
            let (cmd, notes) = build::assemble(ctx.plan, ctx.copy_root, &sel, ctx.machine, &[])?;
            let rustc = Selection {
                subcommand: "rustc",
                alone: true,
                ..sel.clone()
            };
            let (rustc, _) = build::assemble(ctx.plan, ctx.copy_root, &rustc, ctx.machine, &[])?;
            let linker = notes
                .linker
                .strip_prefix("linker: ")
                .unwrap_or(&notes.linker)
                .to_string();
            (cmd, rustc, linker)
        }
        Kind::Shipped => {
            let build = ctx.plan.root_build(ctx.variant, ctx.package)?;
            // The package and its features alone, as a build without the
            // plan selects them (not a unified variant's selection).
            let mut args = vec!["build".to_string()];
            args.extend(build.alone_cargo_args.iter().cloned());
            args.extend(["--profile".to_string(), spec.profile.clone()]);
            for s in &spec.settings {
                args.extend(["--config".to_string(), s.clone()]);
            }
            let mut cmd = CargoCommand::cargo(args, ctx.copy_root);
            let linker = match spec.linker {
                Some(l) => {
                    let flags = l.rustflags(host);
                    build::add_rustflags(ctx.cargo_config, None, &host.triple, &flags, &mut cmd)?;
                    format!(
                        "{} (requested, added to the workspace's flags)",
                        l.describe(host)
                    )
                }
                None => {
                    let cfgs = cargo_config::rustc_cfg(Path::new("rustc"), Some(&host.triple))
                        .map_err(|e| Error::invalid(format!("`rustc --print cfg`: {e}")))?;
                    let configured = ctx.cargo_config.rustflags(&host.triple, &cfgs)?;
                    shipped_linker(&configured.flags, host)
                }
            };
            let mut rustc = cmd.clone();
            "rustc".clone_into(&mut rustc.args[0]);
            (cmd, rustc, linker)
        }
    };
    cmd.env.insert(
        "CARGO_TARGET_DIR".into(),
        target_dir.to_string_lossy().into_owned(),
    );
    let mut removed: Vec<String> = ENV_REMOVED.iter().map(|s| s.to_string()).collect();
    // A profile set through the environment would override the one measured.
    removed.extend(
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.starts_with("CARGO_PROFILE_")),
    );
    // What the command sets itself stays (a rustflags variable that holds
    // the workspace's flags and the plan's).
    removed.retain(|k| !cmd.env.contains_key(k));
    cmd.env_remove = removed;
    rustc.env.clone_from(&cmd.env);
    rustc.env_remove.clone_from(&cmd.env_remove);
    Ok(Config {
        name: spec.name.clone(),
        profile: spec.profile.clone(),
        planned: spec.kind == Kind::Planned,
        linker,
        command: cmd.shell_line(),
        cargo: Some(cmd),
        rustc: Some(rustc),
    })
}

/// The linker a shipped build uses, from the rustflags the workspace
/// configures for the host.
pub fn shipped_linker(flags: &[String], host: &buildplan::exec::HostInfo) -> String {
    let fuse = flags
        .iter()
        .filter_map(|f| f.split("-fuse-ld=").nth(1))
        .next_back();
    match fuse.and_then(Linker::from_fuse_ld) {
        Some(l) => format!("{} (the workspace's rustflags)", l.describe(host)),
        None => match fuse {
            Some(other) => format!("-fuse-ld={other} (the workspace's rustflags)"),
            None => format!(
                "{} (the workspace configures no linker flag)",
                Linker::Default.describe(host)
            ),
        },
    }
}

/// The directory cargo puts a profile's outputs in (`debug` for dev).
pub fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
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

    #[test]
    fn shipped_linker_reads_the_workspace_flags() {
        let host = buildplan::exec::HostInfo::parse(
            "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e\n\
             commit-date: 2026-04-14\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n",
        )
        .unwrap();
        let flags = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            shipped_linker(&flags(&["-C", "link-arg=-fuse-ld=mold"]), &host).starts_with("mold")
        );
        assert!(shipped_linker(&flags(&[]), &host).contains("rust-lld"));
        assert!(shipped_linker(&flags(&["-Clink-arg=-fuse-ld=gold"]), &host).contains("gold"));
    }

    #[test]
    fn profiles_and_directories() {
        assert_eq!(profile_dir("dev"), "debug");
        assert_eq!(profile_dir("release-fast"), "release-fast");
    }
}
