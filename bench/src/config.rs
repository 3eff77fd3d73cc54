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

mod spec;

use std::path::Path;

use serde::{Deserialize, Serialize};

use buildplan::build::{self, Selection};
use buildplan::cargo_config::{self, CargoConfig};
use buildplan::exec::{CargoCommand, Linker, Machine};
use buildplan::model::Plan;

pub use spec::{
    defaults, from_policy, known, parse_define, select, unknown, Kind, Spec, SHIPPED, TUNED,
};

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
                    let cfgs = cargo_config::rustc_cfg(Some(&host.triple))?;
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
