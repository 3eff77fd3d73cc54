//! The configurations a benchmark compares, and their cargo commands.
//!
//! - `baseline`: the "before": `cargo build --release` of the same package
//!   and features, with cargo's default release settings (opt-level 3) plus
//!   fat LTO, one codegen unit and full debug info ([`BASELINE_SETTINGS`],
//!   which override the workspace's own `[profile.release]`), the system
//!   linker (GNU ld through `cc`), cargo's default job count and no plan.
//! - `release-mold`, `release-lld`, `release-fast-mold`, `release-fast-lld`:
//!   the plan's profiles with the plan's job cap, linked with mold or lld.
//!   "lld" is rustc's default linker where that is the bundled rust-lld
//!   (x86_64 Linux gnu since Rust 1.90), otherwise the system `ld.lld`.
//! - `dev`: the plan's dev profile, linked as `cargo buildplan build` would
//!   (mold if installed).
//!
//! `release-optimized` (fat LTO) is never benchmarked: it can exhaust memory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::build::{self, Selection};
use crate::error::Error;
use crate::exec::{CargoCommand, HostInfo, Linker, Machine};
use crate::model::Plan;

/// Every configuration name, in run order.
///
/// The planned configurations run first and the baseline (the slowest, with
/// fat LTO) last, so that a run stopped early has already evaluated the
/// goals that need no baseline.
pub const ALL: &[&str] = &[
    "release-fast-mold",
    "release-fast-lld",
    "dev",
    "release-mold",
    "release-lld",
    "baseline",
];

/// Variables removed from the environment of every benchmarked command, so
/// that the user's settings cannot change what is measured (a compiler
/// cache, extra rustflags, a job count, incremental on or off).
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

/// One configuration, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Name (`baseline`, `release-fast-mold`, ...).
    pub name: String,
    /// Cargo profile it builds with.
    pub profile: String,
    /// Whether it follows the plan (everything but the baseline).
    pub planned: bool,
    /// Linker, for people.
    pub linker: String,
    /// The build command as one shell line (target dir included).
    pub command: String,
    /// The build command.
    #[serde(skip)]
    pub cargo: Option<CargoCommand>,
}

/// Expands `--configs` values: exact names, or a profile name standing for
/// its linker variants (`release-fast` = `release-fast-mold` and
/// `release-fast-lld`). Empty means all. Order follows [`ALL`].
pub fn select(requested: &[String]) -> anyhow::Result<Vec<&'static str>> {
    if requested.is_empty() {
        return Ok(ALL.to_vec());
    }
    let mut chosen = Vec::new();
    for r in requested {
        let r = r.trim();
        if r == "release-optimized" || r.starts_with("release-optimized-") {
            return Err(Error::invalid(
                "`release-optimized` is never benchmarked: fat LTO over the whole binary can \
                 exhaust memory",
            )
            .into());
        }
        let matched: Vec<&'static str> = ALL
            .iter()
            .copied()
            .filter(|name| {
                *name == r
                    || name
                        .strip_prefix(r)
                        .is_some_and(|rest| rest == "-mold" || rest == "-lld")
            })
            .collect();
        if matched.is_empty() {
            return Err(Error::invalid(format!(
                "unknown configuration `{r}`; known: {} (or a profile: release, release-fast)",
                ALL.join(", ")
            ))
            .into());
        }
        chosen.extend(matched);
    }
    Ok(ALL.iter().copied().filter(|n| chosen.contains(n)).collect())
}

/// The linker a configuration name asks for on this host.
fn linker_for(name: &str, host: &HostInfo, auto: Linker) -> Linker {
    if name == "baseline" {
        Linker::Bfd
    } else if name.ends_with("-mold") {
        Linker::Mold
    } else if name.ends_with("-lld") {
        if host.default_is_rust_lld() {
            Linker::Default
        } else {
            Linker::Lld
        }
    } else {
        auto
    }
}

/// The profile a configuration name builds with.
pub fn profile_of(name: &str) -> &str {
    if name == "baseline" {
        "release"
    } else {
        name.strip_suffix("-mold")
            .or_else(|| name.strip_suffix("-lld"))
            .unwrap_or(name)
    }
}

/// Resolves one configuration into its build command.
#[allow(clippy::too_many_arguments)]
pub fn resolve(
    name: &str,
    plan: &Plan,
    copy_root: &Path,
    target_dir: &Path,
    package: &str,
    variant: &str,
    machine: &Machine,
    auto_linker: Linker,
) -> anyhow::Result<Config> {
    let linker = linker_for(name, &machine.host, auto_linker);
    let profile = profile_of(name);
    let mut cmd = if name == "baseline" {
        baseline_command(plan, copy_root, package, variant)?
    } else {
        let sel = Selection {
            package,
            variant,
            target: "host",
            profile,
            linker: Some(linker),
            user_jobs: None,
            cargo_config: None,
            extra_rustflags: &[],
        };
        build::assemble(plan, copy_root, &sel, machine, &[])?.0
    };
    if name == "baseline" {
        let flags = linker.rustflags(&machine.host);
        cmd.env.insert(
            crate::render::target_var(&machine.host.triple, "RUSTFLAGS"),
            flags.join(" "),
        );
    }
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
    cmd.env_remove = removed;
    Ok(Config {
        name: name.to_string(),
        profile: profile.to_string(),
        planned: name != "baseline",
        linker: linker.describe(&machine.host),
        command: cmd.shell_line(),
        cargo: Some(cmd),
    })
}

/// The baseline's release profile, set key by key so that whatever the
/// measured workspace already tuned in `[profile.release]` (a lower
/// opt-level, stripping, thin LTO, an unoptimised `build-override`) does not
/// leak into the "before": cargo's built-in release defaults, plus the fat
/// LTO, single codegen unit and full debug info of the baseline.
/// (Per-package `[profile.release.package.*]` tables of the workspace still
/// apply: `--config` can add keys, not remove tables.)
pub const BASELINE_SETTINGS: &[&str] = &[
    "profile.release.opt-level=3",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.debug=true",
    "profile.release.strip=false",
    "profile.release.debug-assertions=false",
    "profile.release.overflow-checks=false",
    "profile.release.panic=\"unwind\"",
    "profile.release.incremental=false",
    // Cargo's defaults for build scripts and proc-macros in every profile.
    "profile.release.build-override.opt-level=0",
    "profile.release.build-override.codegen-units=256",
    "profile.release.build-override.debug=false",
];

/// The baseline's command: the package and features of the variant, and
/// nothing else of the plan.
fn baseline_command(
    plan: &Plan,
    copy_root: &Path,
    package: &str,
    variant: &str,
) -> anyhow::Result<CargoCommand> {
    let build = plan
        .variants
        .get(variant)
        .and_then(|v| v.builds.get(package))
        .ok_or_else(|| {
            Error::invalid(format!(
                "package `{package}` is not a root of variant `{variant}`"
            ))
        })?;
    let mut args = vec!["build".to_string(), "--release".to_string()];
    args.extend(build.cargo_args.iter().cloned());
    for setting in BASELINE_SETTINGS {
        args.extend(["--config".to_string(), setting.to_string()]);
    }
    let mut cmd = CargoCommand::cargo(args, copy_root);
    cmd.env = BTreeMap::new();
    Ok(cmd)
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
    fn selection_expands_profiles_and_refuses_fat_lto() {
        let all = select(&[]).unwrap();
        assert_eq!(all, ALL);
        let s = select(&["release".into(), "dev".into(), "release-fast".into()]).unwrap();
        assert_eq!(
            s,
            [
                "release-fast-mold",
                "release-fast-lld",
                "dev",
                "release-mold",
                "release-lld"
            ]
        );
        let s = select(&["release".into()]).unwrap();
        assert_eq!(s, ["release-mold", "release-lld"]);
        let s = select(&["baseline".into(), "release-lld".into()]).unwrap();
        assert_eq!(s, ["release-lld", "baseline"]);
        let err = select(&["release-optimized".into()]).unwrap_err();
        assert!(err.to_string().contains("never benchmarked"), "{err}");
        let err = select(&["fast".into()]).unwrap_err();
        assert!(
            err.to_string().contains("unknown configuration `fast`"),
            "{err}"
        );
    }

    #[test]
    fn profiles_and_directories() {
        assert_eq!(profile_of("baseline"), "release");
        assert_eq!(profile_of("release-fast-mold"), "release-fast");
        assert_eq!(profile_of("release-lld"), "release");
        assert_eq!(profile_of("dev"), "dev");
        assert_eq!(profile_dir("dev"), "debug");
        assert_eq!(profile_dir("release-fast"), "release-fast");
    }

    #[test]
    fn lld_means_the_default_where_the_default_is_rust_lld() {
        let host = HostInfo {
            triple: "x86_64-unknown-linux-gnu".into(),
            rustc_version: "rustc 1.95.0".into(),
            rustc_release: (1, 95),
        };
        assert_eq!(
            linker_for("release-lld", &host, Linker::Mold),
            Linker::Default
        );
        assert_eq!(linker_for("release-mold", &host, Linker::Lld), Linker::Mold);
        assert_eq!(linker_for("baseline", &host, Linker::Mold), Linker::Bfd);
        assert_eq!(linker_for("dev", &host, Linker::Lld), Linker::Lld);
        let arm = HostInfo {
            triple: "aarch64-unknown-linux-gnu".into(),
            ..host
        };
        assert_eq!(linker_for("release-lld", &arm, Linker::Mold), Linker::Lld);
    }
}
