//! `cargo buildplan build`: run cargo with exactly the plan's flags.
//!
//! The command is assembled from `nix/plan.json` alone: the variant's cargo
//! arguments for the package, the plan profile's `--config` values, the
//! target's triple and environment. Two things are decided on this machine,
//! and said on stderr:
//!
//! - the host linker, when the plan leaves it open: mold if installed, else
//!   the system lld (`ld.lld`), else rustc's default (which, since Rust 1.90,
//!   is the bundled rust-lld on x86_64 Linux gnu);
//! - the number of parallel jobs, capped so that every job gets the plan's
//!   `mem_per_job_mib` of the memory available now (`--jobs N`).
//!
//! The pieces (plan loading, host facts, linker choice, job cap, command
//! assembly) are public because `bench` builds its commands the same way.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};

use crate::cli::{BuildArgs, GlobalArgs};
use crate::model::{Plan, Target};

/// A problem with the user's input (plan, names, installed tools): printed
/// as one message and reported with exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns early with a [`UsageError`].
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(UsageError(format!($($arg)*)).into())
    };
}

/// Prints an error and turns it into the process exit code: 2 for every
/// error (bad input, missing tools, failed I/O), as the other commands do.
pub fn report_error(command: &str, err: &anyhow::Error) -> ExitCode {
    if err.downcast_ref::<UsageError>().is_some() {
        eprintln!("cargo-buildplan {command}: error: {err}");
    } else {
        eprintln!("cargo-buildplan {command}: error: {err:#}");
    }
    ExitCode::from(2)
}

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

/// Finds the workspace (from `--manifest-path` or the current directory)
/// and loads its plan from the policy's `output` path (read from `cargo
/// metadata`'s `workspace_metadata`, so without the plan command's full
/// policy parsing). Unknown schema versions are refused.
pub fn load_context(global: &GlobalArgs) -> anyhow::Result<PlanContext> {
    let mut cmd = cargo_metadata::MetadataCommand::new();
    cmd.no_deps();
    if let Some(path) = &global.manifest_path {
        cmd.manifest_path(path);
    }
    let metadata = cmd
        .exec()
        .map_err(|e| UsageError(format!("cannot read the workspace: {e}")))?;
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

/// Facts about the Rust toolchain on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// Host target triple (`rustc -vV`'s `host:`).
    pub triple: String,
    /// rustc's version line (`rustc -V`).
    pub rustc_version: String,
    /// `(major, minor)` of rustc.
    pub rustc_release: (u32, u32),
}

impl HostInfo {
    /// Asks rustc (`$RUSTC`, else `rustc`).
    pub fn detect() -> anyhow::Result<Self> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let out = Command::new(&rustc)
            .arg("-vV")
            .output()
            .with_context(|| format!("running `{} -vV`", rustc.to_string_lossy()))?;
        if !out.status.success() {
            bail!("`{} -vV` failed", rustc.to_string_lossy());
        }
        Self::parse(&String::from_utf8_lossy(&out.stdout))
            .ok_or_else(|| anyhow::anyhow!("cannot parse `rustc -vV` output"))
    }

    /// Parses `rustc -vV` output.
    pub fn parse(text: &str) -> Option<Self> {
        let rustc_version = text.lines().next()?.trim().to_string();
        let triple = text
            .lines()
            .find_map(|l| l.strip_prefix("host: "))?
            .trim()
            .to_string();
        let release = text.lines().find_map(|l| l.strip_prefix("release: "))?;
        let mut parts = release.trim().split(['.', '-']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(HostInfo {
            triple,
            rustc_version,
            rustc_release: (major, minor),
        })
    }

    /// Whether rustc links this host with its bundled rust-lld by default
    /// (x86_64 Linux gnu since Rust 1.90). On such hosts an explicit linker
    /// choice also passes `-C linker-features=-lld`, the documented opt-out,
    /// so that `-fuse-ld=` alone decides.
    pub fn default_is_rust_lld(&self) -> bool {
        self.triple == "x86_64-unknown-linux-gnu" && self.rustc_release >= (1, 90)
    }

    /// The `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` variable name for a triple.
    pub fn rustflags_var(triple: &str) -> String {
        format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace(['-', '.'], "_")
        )
    }
}

/// Which linker a build uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linker {
    /// mold, through `-fuse-ld=mold`.
    Mold,
    /// The system lld (`ld.lld`), through `-fuse-ld=lld`.
    Lld,
    /// GNU ld (bfd), through `-fuse-ld=bfd`: the classic system linker.
    Bfd,
    /// Whatever rustc does by default (no flags added).
    Default,
}

impl Linker {
    /// Short name used in messages and results.
    pub fn name(self) -> &'static str {
        match self {
            Linker::Mold => "mold",
            Linker::Lld => "lld",
            Linker::Bfd => "bfd",
            Linker::Default => "default",
        }
    }

    /// The rustflags selecting this linker on a host.
    pub fn rustflags(self, host: &HostInfo) -> Vec<String> {
        let fuse = match self {
            Linker::Mold => "mold",
            Linker::Lld => "lld",
            Linker::Bfd => "bfd",
            Linker::Default => return Vec::new(),
        };
        let mut flags = Vec::new();
        if host.default_is_rust_lld() {
            flags.extend(["-C".to_string(), "linker-features=-lld".to_string()]);
        }
        flags.extend(["-C".to_string(), format!("link-arg=-fuse-ld={fuse}")]);
        flags
    }

    /// One line for people: which linker, concretely.
    pub fn describe(self, host: &HostInfo) -> String {
        match self {
            Linker::Mold => "mold (-fuse-ld=mold)".into(),
            Linker::Lld => "the system lld (ld.lld, -fuse-ld=lld)".into(),
            Linker::Bfd => "GNU ld (bfd, -fuse-ld=bfd)".into(),
            Linker::Default if host.default_is_rust_lld() => format!(
                "rustc's default, which on {} since Rust 1.90 is the bundled rust-lld",
                host.triple
            ),
            Linker::Default => "rustc's default (the C compiler's default linker)".into(),
        }
    }
}

/// Finds an executable file called `name` in a `PATH`-style list.
pub fn find_in_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The host linker when the plan leaves it open: mold, else lld, else the
/// default, whichever is installed. mold counts if `ld.mold` or `mold` is on
/// the path (the compiler driver looks for `ld.mold`, which the mold package
/// installs next to `mold`).
pub fn choose_host_linker(path: &OsStr) -> Linker {
    if find_in_path("ld.mold", path).is_some() || find_in_path("mold", path).is_some() {
        Linker::Mold
    } else if find_in_path("ld.lld", path).is_some() {
        Linker::Lld
    } else {
        Linker::Default
    }
}

/// Reads `MemAvailable` from `/proc/meminfo` text, in MiB.
pub fn parse_mem_available_mib(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(value / 1024),
        _ => None,
    }
}

/// Memory available now, in MiB (`MemAvailable`), if known.
pub fn mem_available_mib() -> Option<u64> {
    parse_mem_available_mib(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// Number of CPUs this process may use.
pub fn cpu_count() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// The job cap: `clamp(floor(available / per_job), 1, cpus)`.
pub fn job_cap(available_mib: u64, mem_per_job_mib: u64, cpus: u64) -> u64 {
    let by_memory = available_mib.checked_div(mem_per_job_mib).unwrap_or(cpus);
    by_memory.clamp(1, cpus.max(1))
}

/// A cargo invocation: program, arguments, extra environment, directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoCommand {
    /// The cargo program (`$CARGO` or `cargo`).
    pub program: String,
    /// Arguments, starting with the subcommand.
    pub args: Vec<String>,
    /// Variables set on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
    /// Working directory (the workspace root, so that its `.cargo/config.toml`
    /// applies).
    pub cwd: PathBuf,
}

impl CargoCommand {
    /// The cargo program this helper runs: `$CARGO` (set when run as
    /// `cargo buildplan`), else `cargo`.
    pub fn cargo_program() -> String {
        std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
    }

    /// A [`Command`] ready to spawn.
    pub fn to_command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(&self.cwd);
        for key in &self.env_remove {
            cmd.env_remove(key);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// The command as one shell line: `cd DIR && VAR=value ... cargo ...`.
    pub fn shell_line(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        if !self.env_remove.is_empty() {
            words.push("env".into());
            for key in &self.env_remove {
                words.push("-u".into());
                words.push(quote(key));
            }
        }
        for (key, value) in &self.env {
            words.push(format!("{key}={}", quote(value)));
        }
        words.push(quote(&self.program));
        words.extend(self.args.iter().map(|a| quote(a)));
        format!(
            "cd {} && {}",
            quote(&self.cwd.to_string_lossy()),
            words.join(" ")
        )
    }
}

/// Quotes one word for a POSIX shell (only when needed).
pub fn quote(word: &str) -> String {
    shlex::try_quote(word).map_or_else(|_| format!("{word:?}"), |q| q.into_owned())
}

/// What `build` decided, for the messages on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildNotes {
    /// The linker line, e.g. `linker: mold (...)`.
    pub linker: String,
    /// The jobs line.
    pub jobs: String,
}

/// Everything `assemble` needs besides the plan: the facts of this machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The toolchain.
    pub host: HostInfo,
    /// `PATH` used to look for linkers and C compilers.
    pub path: OsString,
    /// `MemAvailable` in MiB, if known.
    pub mem_available_mib: Option<u64>,
    /// CPUs usable.
    pub cpus: u64,
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
/// nothing. `extra` goes last, after `--`-free cargo arguments.
pub fn assemble(
    plan: &Plan,
    root: &Path,
    sel: &Selection<'_>,
    machine: &Machine,
    extra: &[String],
) -> anyhow::Result<(CargoCommand, BuildNotes)> {
    let variant = plan.variants.get(sel.variant).ok_or_else(|| {
        UsageError(format!(
            "unknown variant `{}`; the plan has: {}",
            sel.variant,
            names(plan.variants.keys())
        ))
    })?;
    let Some(build) = variant.builds.get(sel.package) else {
        if plan.packages.contains_key(sel.package) {
            usage!(
                "package `{}` is not a root of variant `{}` (its roots: {})",
                sel.package,
                sel.variant,
                names(variant.builds.keys())
            );
        }
        usage!(
            "unknown package `{}`; the workspace has: {}",
            sel.package,
            names(plan.packages.keys())
        );
    };
    let profile = plan.profiles.get(sel.profile).ok_or_else(|| {
        UsageError(format!(
            "unknown profile `{}`; the plan has: {}",
            sel.profile,
            names(plan.profiles.keys())
        ))
    })?;
    let target = plan.targets.get(sel.target).ok_or_else(|| {
        UsageError(format!(
            "unknown target `{}`; the plan has: {}",
            sel.target,
            names(plan.targets.keys())
        ))
    })?;

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
                let n = job_cap(avail, per_job, machine.cpus);
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
    Ok((
        CargoCommand {
            program: CargoCommand::cargo_program(),
            args,
            env,
            env_remove: Vec::new(),
            cwd: root.to_path_buf(),
        },
        BuildNotes { linker, jobs },
    ))
}

/// Adds the host linker choice to `env`, returning the message line. The
/// plan's own `fuse_ld` wins; otherwise mold, lld or the default.
fn host_linker_env(
    target: &Target,
    machine: &Machine,
    forced: Option<Linker>,
    env: &mut BTreeMap<String, String>,
) -> anyhow::Result<String> {
    let (linker, why) = match (forced, target.fuse_ld.as_deref()) {
        (Some(linker), _) => (linker, "requested"),
        (None, fuse) => match fuse {
            Some("mold") => (Linker::Mold, "the plan's choice"),
            Some("lld") => (Linker::Lld, "the plan's choice"),
            Some("bfd") => (Linker::Bfd, "the plan's choice"),
            Some(other) => usage!(
                "the plan's host target asks for -fuse-ld={other}, which this helper does not know"
            ),
            None => (
                choose_host_linker(&machine.path),
                "picked: mold, else lld, else the default, whichever is installed",
            ),
        },
    };
    if forced.is_some() || target.fuse_ld.is_some() {
        let tool = match linker {
            Linker::Mold => Some("ld.mold"),
            Linker::Lld => Some("ld.lld"),
            Linker::Bfd => Some("ld.bfd"),
            Linker::Default => None,
        };
        if let Some(tool) = tool.filter(|t| find_in_path(t, &machine.path).is_none()) {
            usage!(
                "linking the host with {} ({why}) needs `{tool}`, which is not on PATH; install it",
                linker.name()
            );
        }
    }
    let mut flags = crate::render::target_rustflags(target);
    flags.extend(linker.rustflags(&machine.host));
    if !flags.is_empty() {
        env.insert(
            HostInfo::rustflags_var(&machine.host.triple),
            flags.join(" "),
        );
    }
    Ok(format!(
        "linker: {} ({why})",
        linker.describe(&machine.host)
    ))
}

/// Checks that a cross target's linker driver, `-fuse-ld` linker and C
/// compilers are installed.
fn check_cross_tools(triple: &str, target: &Target, path: &OsStr) -> anyhow::Result<()> {
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
        if find_in_path(&tool, path).is_none() {
            usage!(
                "target {triple} needs `{tool}` ({role}) but it is not on PATH; install it first"
            );
        }
    }
    Ok(())
}

/// Checks that the standard library for `triple` is installed.
pub fn check_target_std(triple: &str) -> anyhow::Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", triple])
        .output()
        .with_context(|| {
            format!(
                "running `{} --print target-libdir`",
                rustc.to_string_lossy()
            )
        })?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let has_std = out.status.success()
        && std::fs::read_dir(&dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libstd-") && name.ends_with(".rlib")
            })
        });
    if !has_std {
        usage!(
            "the standard library for {triple} is not installed; run `rustup target add {triple}`"
        );
    }
    Ok(())
}

fn names<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<&str> = keys.map(String::as_str).collect();
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

/// The facts of this machine, read now.
pub fn detect_machine() -> anyhow::Result<Machine> {
    Ok(Machine {
        host: HostInfo::detect()?,
        path: std::env::var_os("PATH").unwrap_or_default(),
        mem_available_mib: mem_available_mib(),
        cpus: cpu_count(),
    })
}

/// Runs `build`.
pub fn run(global: &GlobalArgs, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    match run_inner(global, args) {
        Ok(code) => Ok(code),
        Err(e) => Ok(report_error("build", &e)),
    }
}

fn run_inner(global: &GlobalArgs, args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let ctx = load_context(global)?;
    let plan = &ctx.plan;
    let machine = detect_machine()?;
    let sel = Selection {
        package: &args.package,
        variant: args
            .variant
            .as_deref()
            .unwrap_or(&plan.workspace.default_variant),
        target: args.target.as_deref().unwrap_or("host"),
        profile: args
            .profile
            .as_deref()
            .unwrap_or(&plan.workspace.default_profile),
        linker: None,
    };
    let (cmd, notes) = assemble(plan, &ctx.root, &sel, &machine, &args.cargo_args)?;
    if let Some(triple) = plan.targets.get(sel.target).and_then(|t| t.triple.as_ref()) {
        check_target_std(triple)?;
    }
    eprintln!("cargo-buildplan build: {}", notes.linker);
    eprintln!("cargo-buildplan build: {}", notes.jobs);
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
    ] {
        if std::env::var_os(var).is_some() {
            eprintln!(
                "cargo-buildplan build: warning: {var} is set in the environment; cargo then \
                 ignores the plan's target rustflags (linker choice included)"
            );
        }
    }
    if args.dry_run {
        println!("{}", cmd.shell_line());
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("cargo-buildplan build: running {}", cmd.shell_line());
    let status = cmd
        .to_command()
        .status()
        .with_context(|| format!("could not run `{}`", cmd.program))?;
    Ok(exit_code_of(status))
}

/// The exit code mirroring a child's status (128 + signal when killed).
pub fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        (None, Some(sig)) => ExitCode::from(u8::try_from(128 + sig).unwrap_or(1)),
        (None, None) => ExitCode::from(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn linker_prefers_mold_then_lld_then_default() {
        let both = stub_dir(&["ld.mold", "ld.lld"]);
        assert_eq!(choose_host_linker(both.path().as_os_str()), Linker::Mold);
        let only_mold_binary = stub_dir(&["mold"]);
        assert_eq!(
            choose_host_linker(only_mold_binary.path().as_os_str()),
            Linker::Mold
        );
        let lld = stub_dir(&["ld.lld"]);
        assert_eq!(choose_host_linker(lld.path().as_os_str()), Linker::Lld);
        let none = stub_dir(&["cc"]);
        assert_eq!(choose_host_linker(none.path().as_os_str()), Linker::Default);
    }

    #[test]
    fn non_executable_files_do_not_count() {
        let dir = stub_dir(&[]);
        std::fs::write(dir.path().join("ld.mold"), "").unwrap();
        assert_eq!(choose_host_linker(dir.path().as_os_str()), Linker::Default);
    }

    #[test]
    fn linker_flags_opt_out_of_rust_lld_only_where_it_is_the_default() {
        let h = host();
        assert!(h.default_is_rust_lld());
        assert_eq!(
            Linker::Mold.rustflags(&h),
            ["-C", "linker-features=-lld", "-C", "link-arg=-fuse-ld=mold"]
        );
        assert!(Linker::Default.rustflags(&h).is_empty());
        let arm = HostInfo {
            triple: "aarch64-unknown-linux-gnu".into(),
            ..h.clone()
        };
        assert_eq!(Linker::Lld.rustflags(&arm), ["-C", "link-arg=-fuse-ld=lld"]);
        let old = HostInfo {
            rustc_release: (1, 89),
            ..h
        };
        assert!(!old.default_is_rust_lld());
    }

    #[test]
    fn job_cap_arithmetic() {
        assert_eq!(job_cap(24_000, 1536, 2), 2);
        assert_eq!(job_cap(24_000, 1536, 64), 15);
        assert_eq!(job_cap(1000, 1536, 8), 1);
        assert_eq!(job_cap(3071, 1536, 8), 1);
        assert_eq!(job_cap(3072, 1536, 8), 2);
        assert_eq!(job_cap(0, 1536, 8), 1);
        assert_eq!(job_cap(10_000, 0, 4), 4);
    }

    #[test]
    fn meminfo_parsing() {
        let text = "MemTotal:       24684084 kB\nMemFree: 1 kB\nMemAvailable:   23773644 kB\n";
        assert_eq!(parse_mem_available_mib(text), Some(23216));
        assert_eq!(parse_mem_available_mib("MemTotal: 5 kB\n"), None);
        assert_eq!(parse_mem_available_mib("MemAvailable: x kB\n"), None);
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
        assert!(err.downcast_ref::<UsageError>().is_some());
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

    #[test]
    fn rustc_version_parsing() {
        let h = host();
        assert_eq!(h.triple, "x86_64-unknown-linux-gnu");
        assert_eq!(h.rustc_release, (1, 95));
        assert_eq!(
            HostInfo::rustflags_var("aarch64-unknown-linux-musl"),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS"
        );
    }
}
