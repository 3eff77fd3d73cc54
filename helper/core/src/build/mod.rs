//! The cargo command of one build from the plan ([`crate::render`]),
//! completed on this machine: host linker and jobs. `bench` uses it too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cargo_config::{AddRustflags, CargoConfig};
use crate::error::Error;
use crate::exec::{self, CargoCommand, Linker, Machine};
use crate::memory::{self, Drivers};
use crate::model::{Plan, Target};

/// The workspace and its plan, loaded.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// Workspace root directory.
    pub root: PathBuf,
    /// The plan.
    pub plan: Plan,
    /// cargo's target directory for the workspace.
    pub target_dir: PathBuf,
}

/// Loads the workspace's plan from the policy's `output`; unknown schemas are refused.
pub fn load_context(manifest_path: Option<&Path>) -> anyhow::Result<PlanContext> {
    let metadata = crate::workspace::metadata(manifest_path)?;
    let root = metadata.workspace_root.clone().into_std_path_buf();
    let output = metadata.workspace_metadata["buildplan"]["output"].as_str();
    let plan_path = root.join(output.unwrap_or(crate::policy::DEFAULT_OUTPUT));
    Ok(PlanContext {
        plan: crate::output::read_plan(&plan_path)?,
        root,
        target_dir: metadata.target_directory.clone().into_std_path_buf(),
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
#[derive(Debug, Clone, Default)]
pub struct Selection<'a> {
    /// Package name.
    pub package: &'a str,
    /// Variant name.
    pub variant: &'a str,
    /// Target name (`host` or a triple).
    pub target: &'a str,
    /// Profile name.
    pub profile: &'a str,
    /// cargo's subcommand: `build` (the default), `check` or `rustc`.
    pub subcommand: &'a str,
    /// Build the root alone (`alone_cargo_args`), not the variant's unified build.
    pub alone: bool,
    /// Host linker instead of the plan's or the automatic choice (bench).
    pub linker: Option<Linker>,
    /// The user's jobs setting from the environment or config (`-j` outranks it).
    pub user_jobs: Option<crate::jobs::Jobs>,
    /// Cargo's configuration, to add overrides and rustflags to the workspace's
    /// own; `None`: the plan's overrides and `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`.
    pub cargo_config: Option<&'a CargoConfig>,
    /// Flags after the target's, in the same layer ([`crate::repro`]'s).
    pub extra_rustflags: &'a [String],
    /// Where the CMake toolchain file goes ([`write_cmake_toolchain`]), if any.
    pub cmake_dir: Option<&'a Path>,
}

impl<'a> Selection<'a> {
    /// A `cargo build` of the planned selection, with nothing else set.
    pub fn new(package: &'a str, variant: &'a str, target: &'a str, profile: &'a str) -> Self {
        Selection {
            package,
            variant,
            target,
            profile,
            subcommand: "build",
            ..Default::default()
        }
    }
}

/// The cargo command of `sel` from the plan and the machine (runs nothing); `extra` last.
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
    let selection = if sel.alone {
        &build.alone_cargo_args
    } else {
        &build.cargo_args
    };
    let mut cmd = CargoCommand::cargo(vec![sel.subcommand.to_string()], root);
    // Colour as the user's cargo has it; the target's variables.
    cmd.env = crate::render::target_env(target, sel.cmake_dir);
    let args = &mut cmd.args;
    args.extend(selection.iter().cloned());
    args.extend(["--profile".to_string(), sel.profile.to_string()]);
    let overrides = match sel.cargo_config {
        Some(cfg) => crate::config::run_overrides(cfg, sel.profile, profile)?,
        None => profile.overrides.clone(),
    };
    for value in crate::render::profile_config(sel.profile, &overrides) {
        args.extend(["--config".to_string(), value]);
    }
    let mut flags = crate::render::target_rustflags(target);
    let linker = match &target.triple {
        Some(triple) => {
            if let Some(report) = crate::toolchain::report(triple, target, &machine.path) {
                return Err(Error::invalid(report));
            }
            args.extend(["--target".to_string(), triple.clone()]);
            let driver = target.linker_driver.as_deref();
            let how = match &target.fuse_ld {
                Some(fuse) => format!("{} with -fuse-ld={fuse}", driver.unwrap_or("cc")),
                None => driver.unwrap_or("the default").to_string(),
            };
            format!("linker: {how} (the plan's choice for {triple})")
        }
        None => host_linker(target, machine, sel.linker, &mut flags)?,
    };
    flags.extend(sel.extra_rustflags.iter().cloned());
    let triple = target.triple.as_deref().unwrap_or(&machine.host.triple);
    let var = crate::render::target_var(triple, "RUSTFLAGS");
    cmd.env.remove(&var);
    match sel.cargo_config {
        Some(cfg) => add_rustflags(cfg, target.triple.as_deref(), triple, &flags, &mut cmd)?,
        None if !flags.is_empty() => {
            cmd.env.insert(var, flags.join(" "));
        }
        None => {}
    }

    let drivers = Drivers::of(plan, sel.profile, sel.package).expect("the profile exists");
    let per_job = memory::per_job_mib(drivers.full_debug, plan.workspace.mem_per_job_mib);
    let (from_args, without_jobs) = crate::jobs::from_args(extra)?;
    let user = from_args.or_else(|| sel.user_jobs.clone());
    let (mem, cpus) = (machine.mem_available_mib, machine.cpus);
    let decision = crate::jobs::decide(user.as_ref(), mem, per_job, cpus);
    // A `--jobs` the build passes replaces any `-j` among the extra arguments.
    if let Some(n) = decision.pass {
        cmd.args.extend(["--jobs".to_string(), n.to_string()]);
        cmd.args.extend(without_jobs);
    } else {
        cmd.args.extend(extra.iter().cloned());
    }
    let jobs = decision.note;
    Ok((cmd, BuildNotes { linker, jobs }))
}

/// Adds `flags` to `cmd`'s rustflags over the workspace's own for `plan_triple` (or default).
pub fn add_rustflags(
    cfg: &CargoConfig,
    plan_triple: Option<&str>,
    host_triple: &str,
    flags: &[String],
    cmd: &mut CargoCommand,
) -> Result<(), Error> {
    let configured = match plan_triple {
        Some(_) => None,
        None => cfg.build_target()?.map(|(triples, _)| triples),
    };
    let triples = configured.unwrap_or_else(|| vec![plan_triple.unwrap_or(host_triple).into()]);
    for triple in triples {
        let cfgs = crate::cargo_config::rustc_cfg(Some(&triple))?;
        match cfg.rustflags(&triple, &cfgs)?.add(flags)? {
            AddRustflags::Nothing => {}
            AddRustflags::Env { name, value } => {
                cmd.env.insert(name, value);
            }
            AddRustflags::Config { arg } => cmd.args.extend(["--config".to_string(), arg]),
        }
    }
    Ok(())
}

/// Adds the linker's flags (forced, else plan's, else best installed); returns the message.
fn host_linker(
    target: &Target,
    machine: &Machine,
    forced: Option<Linker>,
    flags: &mut Vec<String>,
) -> Result<String, Error> {
    let (linker, why) = match (forced, target.fuse_ld.as_deref()) {
        (Some(linker), _) => (linker, "requested"),
        (None, Some(fuse)) => (
            Linker::from_fuse_ld(fuse).ok_or_else(|| {
                Error::invalid(format!(
                    "the plan's host target asks for -fuse-ld={fuse}, which this helper does not know"
                ))
            })?,
            "the plan's choice",
        ),
        // mold (`ld.mold`, which the compiler driver looks for, or `mold`),
        // else lld, else the default.
        (None, None) => {
            let found = |tool| exec::find_in_path(tool, &machine.path).is_some();
            let linker = if found("ld.mold") || found("mold") {
                Linker::Mold
            } else if found("ld.lld") {
                Linker::Lld
            } else {
                Linker::Default
            };
            let why = "picked: mold, else lld, else the default, whichever is installed";
            (linker, why)
        }
    };
    let chosen = forced.is_some() || target.fuse_ld.is_some();
    let missing = |t: &String| chosen && exec::find_in_path(t, &machine.path).is_none();
    if let Some(tool) = linker.tool().filter(missing) {
        return Err(Error::invalid(format!(
            "linking the host with {} ({why}) needs `{tool}`, which is not on PATH; install it",
            linker.name()
        )));
    }
    flags.extend(linker.rustflags(&machine.host));
    Ok(format!(
        "linker: {} ({why})",
        linker.describe(&machine.host)
    ))
}

/// Packages the root alone compiles for the target (`cargo tree`), for the memory estimate.
pub fn graph_packages(
    plan: &Plan,
    root: &Path,
    sel: &Selection<'_>,
    locked: bool,
) -> Result<u64, Error> {
    let build = plan.root_build(sel.variant, sel.package)?;
    let mut args: Vec<&str> = "tree -e normal,build --prefix none --format {p}"
        .split(' ')
        .collect();
    if let Some(triple) = &plan.target(sel.target)?.triple {
        args.extend(["--target", triple.as_str()]);
    }
    if locked {
        args.push("--locked");
    }
    args.extend(build.alone_cargo_args.iter().map(String::as_str));
    let out = CargoCommand::cargo(args.into_iter().map(String::from).collect(), root).output()?;
    let lines = out.lines().map(|l| l.trim_end().trim_end_matches(" (*)"));
    let packages: BTreeSet<&str> = lines.filter(|l| !l.is_empty()).collect();
    Ok(packages.len() as u64)
}

/// Writes a cross target's [`crate::render::cmake_toolchain`] file into `dir`.
pub fn write_cmake_toolchain(dir: &Path, target: &Target) -> Result<(), Error> {
    let (Some(triple), Some(text)) = (&target.triple, crate::render::cmake_toolchain(target))
    else {
        return Ok(());
    };
    let path = dir.join(format!("{triple}.cmake"));
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| Error::invalid(format!("cannot write {}: {e}", path.display())))
}

/// Checks that `triple`'s standard library is installed (a `libstd-*.rlib` in its libdir).
pub fn check_target_std(triple: &str) -> Result<(), Error> {
    let dir = match exec::rustc(&["--print", "target-libdir", "--target", triple]) {
        Ok(dir) => dir,
        Err(Error::CargoFailed(_)) => String::new(),
        Err(e) => return Err(e),
    };
    let is_std = |n: &str| n.starts_with("libstd-") && n.ends_with(".rlib");
    let mut files = std::fs::read_dir(dir.trim())
        .into_iter()
        .flatten()
        .flatten();
    if files.any(|e| is_std(&e.file_name().to_string_lossy())) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "the standard library for {triple} is not installed; run `rustup target add {triple}`"
    )))
}

#[cfg(test)]
mod tests;
