//! The cargo command of one build: package, variant, target and profile
//! from the plan, rendered for cargo ([`crate::render`]) and completed with
//! the facts of this machine ([`crate::exec::Machine`]).
//!
//! Two things are decided on this machine, and reported in [`BuildNotes`]:
//!
//! - the host linker, when the plan leaves it open: mold if installed, else
//!   the system lld (`ld.lld`), else rustc's default (which, since Rust 1.90,
//!   is the bundled rust-lld on x86_64 Linux gnu);
//! - the number of parallel jobs, capped so that every job gets the plan's
//!   `mem_per_job_mib` of the memory available now (`--jobs N`).
//!
//! `bench` builds its commands with [`assemble`] too.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::exec::{self, CargoCommand, Linker, Machine};
use crate::model::{Plan, Target};

/// The workspace and its plan, loaded.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// Workspace root directory.
    pub root: PathBuf,
    /// The plan file that was read.
    pub plan_path: PathBuf,
    /// The plan.
    pub plan: Plan,
}

/// Finds the workspace (from `manifest_path` or the current directory) and
/// loads its plan from the policy's `output` path (read from `cargo
/// metadata`'s `workspace_metadata`, so without the plan command's full
/// policy parsing). Unknown schema versions are refused.
pub fn load_context(manifest_path: Option<&Path>) -> anyhow::Result<PlanContext> {
    let mut cmd = cargo_metadata::MetadataCommand::new();
    cmd.no_deps();
    if let Some(path) = manifest_path {
        cmd.manifest_path(path);
    }
    let metadata = cmd
        .exec()
        .map_err(|e| Error::invalid(format!("cannot read the workspace: {e}")))?;
    let root = metadata.workspace_root.into_std_path_buf();
    let relative = metadata
        .workspace_metadata
        .get("buildplan")
        .and_then(|b| b.get("output"))
        .and_then(|o| o.as_str())
        .unwrap_or(crate::policy::DEFAULT_OUTPUT)
        .to_string();
    let plan_path = root.join(relative);
    let plan = crate::output::read_plan(&plan_path)?;
    Ok(PlanContext {
        root,
        plan_path,
        plan,
    })
}

/// What `build` decided, for the messages on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildNotes {
    /// The linker line, e.g. `linker: mold (...)`.
    pub linker: String,
    /// The jobs line.
    pub jobs: String,
}

/// The resolved choices of one build.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// Package name.
    pub package: &'a str,
    /// Variant name.
    pub variant: &'a str,
    /// Target name (`host` or a triple).
    pub target: &'a str,
    /// Profile name.
    pub profile: &'a str,
    /// Host linker to use instead of the plan's or the automatic choice
    /// (the benchmark compares linkers this way).
    pub linker: Option<Linker>,
}

/// Builds the cargo command for one package, variant, target and profile,
/// from the plan and the machine's facts. Pure: checks names and tools, runs
/// nothing. `extra` goes last.
pub fn assemble(
    plan: &Plan,
    root: &Path,
    sel: &Selection<'_>,
    machine: &Machine,
    extra: &[String],
) -> Result<(CargoCommand, BuildNotes), Error> {
    let build = plan.root_build(sel.variant, sel.package)?;
    let profile = plan.profile(sel.profile)?;
    let target = plan.target(sel.target)?;

    let mut args = vec!["build".to_string()];
    args.extend(build.cargo_args.iter().cloned());
    args.extend(["--profile".to_string(), sel.profile.to_string()]);
    for value in crate::render::profile_config(sel.profile, &profile.overrides) {
        args.extend(["--config".to_string(), value]);
    }
    let mut env = crate::render::target_env(target);
    let linker = match &target.triple {
        Some(triple) => {
            check_cross_tools(triple, target, &machine.path)?;
            args.extend(["--target".to_string(), triple.clone()]);
            match &target.fuse_ld {
                Some(fuse) => format!(
                    "linker: {} with -fuse-ld={fuse} (the plan's choice for {triple})",
                    target.linker_driver.as_deref().unwrap_or("cc")
                ),
                None => format!(
                    "linker: {} (the plan's choice for {triple})",
                    target.linker_driver.as_deref().unwrap_or("the default")
                ),
            }
        }
        None => host_linker_env(target, machine, sel.linker, &mut env)?,
    };

    let user_jobs = extra
        .iter()
        .any(|a| a == "-j" || a.starts_with("--jobs") || (a.starts_with("-j") && a.len() > 2));
    let jobs = if user_jobs {
        "jobs: as given on the command line".to_string()
    } else {
        let per_job = plan.workspace.mem_per_job_mib;
        match machine.mem_available_mib {
            Some(avail) => {
                let n = exec::job_cap(avail, per_job, machine.cpus);
                args.extend(["--jobs".to_string(), n.to_string()]);
                format!(
                    "jobs: --jobs {n} (MemAvailable {avail} MiB / {per_job} MiB per job, \
                     between 1 and {} CPUs)",
                    machine.cpus
                )
            }
            None => "jobs: cargo's default (MemAvailable unknown, no cap)".to_string(),
        }
    };
    args.extend(extra.iter().cloned());
    let mut cmd = CargoCommand::cargo(args, root);
    cmd.env.remove("CARGO_TERM_COLOR");
    cmd.env.extend(env);
    Ok((cmd, BuildNotes { linker, jobs }))
}

/// Adds the host linker choice to `env`, returning the message line. The
/// plan's own `fuse_ld` wins; otherwise mold, lld or the default.
fn host_linker_env(
    target: &Target,
    machine: &Machine,
    forced: Option<Linker>,
    env: &mut BTreeMap<String, String>,
) -> Result<String, Error> {
    let (linker, why) = match (forced, target.fuse_ld.as_deref()) {
        (Some(linker), _) => (linker, "requested"),
        (None, Some(fuse)) => match Linker::from_fuse_ld(fuse) {
            Some(linker) => (linker, "the plan's choice"),
            None => {
                return Err(Error::invalid(format!(
                "the plan's host target asks for -fuse-ld={fuse}, which this helper does not know"
            )))
            }
        },
        (None, None) => (
            exec::choose_host_linker(&machine.path),
            "picked: mold, else lld, else the default, whichever is installed",
        ),
    };
    if forced.is_some() || target.fuse_ld.is_some() {
        if let Some(tool) = linker
            .tool()
            .filter(|t| exec::find_in_path(t, &machine.path).is_none())
        {
            return Err(Error::invalid(format!(
                "linking the host with {} ({why}) needs `{tool}`, which is not on PATH; install it",
                linker.name()
            )));
        }
    }
    let mut flags = crate::render::target_rustflags(target);
    flags.extend(linker.rustflags(&machine.host));
    if !flags.is_empty() {
        env.insert(
            crate::render::target_var(&machine.host.triple, "RUSTFLAGS"),
            flags.join(" "),
        );
    }
    Ok(format!(
        "linker: {} ({why})",
        linker.describe(&machine.host)
    ))
}

/// Checks that a cross target's linker driver, `-fuse-ld` linker and C
/// tools are installed.
fn check_cross_tools(triple: &str, target: &Target, path: &OsStr) -> Result<(), Error> {
    let mut needed: Vec<(String, &str)> = Vec::new();
    if let Some(linker) = &target.linker_driver {
        needed.push((linker.clone(), "linker driver"));
    }
    if let Some(fuse) = &target.fuse_ld {
        needed.push((format!("ld.{fuse}"), "linker"));
    }
    for tool in target.cc.iter().chain(&target.ar) {
        if let Some(tool) = tool.split_whitespace().next() {
            needed.push((tool.to_string(), "C toolchain"));
        }
    }
    for (tool, role) in needed {
        if exec::find_in_path(&tool, path).is_none() {
            return Err(Error::invalid(format!(
                "target {triple} needs `{tool}` ({role}) but it is not on PATH; install it first"
            )));
        }
    }
    Ok(())
}

/// Checks that the standard library for `triple` is installed.
pub fn check_target_std(triple: &str) -> Result<(), Error> {
    if exec::has_target_std(triple)? {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "the standard library for {triple} is not installed; run `rustup target add {triple}`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::exec::HostInfo;
    use std::os::unix::fs::PermissionsExt;

    fn host() -> HostInfo {
        HostInfo::parse(
            "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n",
        )
        .unwrap()
    }

    fn stub_dir(tools: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for tool in tools {
            let p = dir.path().join(tool);
            std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    /// A small plan, written as the contract's JSON (so that fields added
    /// to the model later with defaults do not break the test).
    fn small_plan() -> Plan {
        let args = serde_json::json!(["--package", "app", "--features", "app/extra"]);
        let pkg = |path: &str| {
            serde_json::json!({
                "version": "0.1.0", "path": path, "binaries": [], "features": [],
                "workspace_deps": [], "workspace_test_deps": []
            })
        };
        let value = serde_json::json!({
            "schema_version": crate::model::SCHEMA_VERSION,
            "generator": "cargo-buildplan",
            "workspace": {
                "lockfile": "Cargo.lock", "members": ["app", "lib"],
                "default_variant": "default", "default_profile": "release",
                "mem_per_job_mib": 1024
            },
            "packages": { "app": pkg("app"), "lib": pkg("lib") },
            "variants": { "default": {
                "description": "d", "packages": ["app"],
                "builds": { "app": {
                    "default_features": true, "features": ["app/extra"], "cargo_args": args
                }},
                "deps_cargo_args": [args], "feature_splits": []
            }},
            "targets": {
                "host": {
                    "triple": null, "linker_driver": null, "fuse_ld": null, "target_cpu": null,
                    "static": false, "link_target": null, "cc": null, "ar": null,
                    "nix_cross": null, "extra_rustflags": []
                },
                "x86_64-unknown-linux-musl": {
                    "triple": "x86_64-unknown-linux-musl", "linker_driver": "clang",
                    "fuse_ld": "mold", "target_cpu": "x86-64-v2", "static": true,
                    "link_target": null, "cc": "clang", "ar": null, "nix_cross": "musl64",
                    "extra_rustflags": []
                }
            },
            "profiles": { "release": {
                "inherits": null,
                "settings": {
                    "codegen-units": {"value": 16, "source": "policy"},
                    "lto": {"value": "thin", "source": "policy"},
                    "opt-level": {"value": 2, "source": "Cargo.toml"}
                },
                "build_override": {}, "package": {},
                "overrides": {
                    "settings": {"codegen-units": 16, "lto": "thin"},
                    "build_override": {}, "package": {}
                }
            }}
        });
        serde_json::from_value(value).unwrap()
    }

    fn machine(path: &Path, mem: Option<u64>) -> Machine {
        Machine {
            host: host(),
            path: path.as_os_str().to_owned(),
            mem_available_mib: mem,
            mem_total_mib: Some(24_000),
            cpus: 2,
        }
    }

    fn sel<'a>(package: &'a str, target: &'a str) -> Selection<'a> {
        Selection {
            package,
            variant: "default",
            target,
            profile: "release",
            linker: None,
        }
    }

    #[test]
    fn host_command_from_plan() {
        let plan = small_plan();
        let tools = stub_dir(&["ld.mold"]);
        let m = machine(tools.path(), Some(4096));
        let extra = vec!["--locked".to_string()];
        let (cmd, notes) =
            assemble(&plan, Path::new("/ws"), &sel("app", "host"), &m, &extra).unwrap();
        assert_eq!(
            cmd.args,
            [
                "build",
                "--package",
                "app",
                "--features",
                "app/extra",
                "--profile",
                "release",
                "--config",
                "profile.release.codegen-units=16",
                "--config",
                "profile.release.lto=\"thin\"",
                "--jobs",
                "2",
                "--locked"
            ]
        );
        assert_eq!(
            cmd.env
                .get("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS")
                .map(String::as_str),
            Some("-C linker-features=-lld -C link-arg=-fuse-ld=mold")
        );
        assert_eq!(cmd.cwd, Path::new("/ws"));
        assert!(notes.linker.contains("mold"), "{}", notes.linker);
        assert!(notes.jobs.contains("--jobs 2"), "{}", notes.jobs);
        let line = cmd.shell_line();
        assert!(line.contains("'profile.release.lto=\"thin\"'"), "{line}");
        assert!(
            line.starts_with("cd /ws && CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS='-C"),
            "{line}"
        );
    }

    #[test]
    fn memory_caps_jobs_and_user_jobs_win() {
        let plan = small_plan();
        let tools = stub_dir(&[]);
        let m = machine(tools.path(), Some(1500));
        let (cmd, notes) = assemble(&plan, Path::new("/ws"), &sel("app", "host"), &m, &[]).unwrap();
        assert!(cmd.args.ends_with(&["--jobs".to_string(), "1".to_string()]));
        assert!(cmd.env.is_empty(), "default linker adds no flags");
        assert!(notes.linker.contains("rust-lld"), "{}", notes.linker);
        let extra = vec!["-j3".to_string()];
        let (cmd, _) = assemble(&plan, Path::new("/ws"), &sel("app", "host"), &m, &extra).unwrap();
        assert!(!cmd.args.contains(&"--jobs".to_string()));
        assert_eq!(cmd.args.last().unwrap(), "-j3");
    }

    #[test]
    fn musl_target_uses_plan_env_and_checks_tools() {
        let plan = small_plan();
        let tools = stub_dir(&["clang", "ld.mold"]);
        let m = machine(tools.path(), Some(8192));
        let (cmd, notes) = assemble(
            &plan,
            Path::new("/ws"),
            &sel("app", "x86_64-unknown-linux-musl"),
            &m,
            &[],
        )
        .unwrap();
        let pos = cmd.args.iter().position(|a| a == "--target").unwrap();
        assert_eq!(cmd.args[pos + 1], "x86_64-unknown-linux-musl");
        assert_eq!(
            cmd.env,
            crate::render::target_env(&plan.targets["x86_64-unknown-linux-musl"])
        );
        assert_eq!(
            cmd.env["CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS"],
            "-C link-arg=-fuse-ld=mold -C target-cpu=x86-64-v2 -C target-feature=+crt-static"
        );
        assert!(
            !cmd.args.iter().any(|a| a.contains("opt-level")),
            "a value cargo reads from Cargo.toml itself is not restated: {:?}",
            cmd.args
        );
        assert!(
            notes.linker.contains("clang with -fuse-ld=mold"),
            "{}",
            notes.linker
        );

        let no_mold = stub_dir(&["clang"]);
        let m = machine(no_mold.path(), Some(8192));
        let err = assemble(
            &plan,
            Path::new("/ws"),
            &sel("app", "x86_64-unknown-linux-musl"),
            &m,
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)));
        assert!(err.to_string().contains("ld.mold"), "{err}");
    }

    #[test]
    fn bad_names_are_usage_errors() {
        let plan = small_plan();
        let tools = stub_dir(&[]);
        let m = machine(tools.path(), Some(8192));
        let err = assemble(&plan, Path::new("/ws"), &sel("lib", "host"), &m, &[]).unwrap_err();
        assert!(
            err.to_string().contains("not a root of variant `default`"),
            "{err}"
        );
        let err = assemble(&plan, Path::new("/ws"), &sel("nope", "host"), &m, &[]).unwrap_err();
        assert!(err.to_string().contains("unknown package `nope`"), "{err}");
        let err = assemble(&plan, Path::new("/ws"), &sel("app", "mips"), &m, &[]).unwrap_err();
        assert!(err.to_string().contains("unknown target `mips`"), "{err}");
        let mut s = sel("app", "host");
        s.profile = "release-optimized";
        let err = assemble(&plan, Path::new("/ws"), &s, &m, &[]).unwrap_err();
        assert!(err.to_string().contains("unknown profile"), "{err}");
    }
}
