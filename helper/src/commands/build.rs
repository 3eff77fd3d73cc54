//! `cargo buildplan build`: run cargo with exactly the plan's flags.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::outcome::Outcome;
use crate::build::{
    assemble, check_memory, check_target_std, graph_packages, load_context, Selection,
};
use crate::cli::BuildArgs;
use crate::exec::Machine;

/// Assembles the command from the plan and this machine, checks its memory
/// estimate, prints what was decided, and runs it (or prints it, with
/// `--dry-run`). A refused or failed build is a failed gate (exit 1).
pub fn run(manifest_path: Option<&Path>, args: &BuildArgs) -> anyhow::Result<Outcome> {
    let ctx = load_context(manifest_path)?;
    let plan = &ctx.plan;
    let machine = Machine::detect()?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let files = crate::jobs::config_files(&ctx.root, cargo_home.as_deref());
    let env_jobs = std::env::var("CARGO_BUILD_JOBS").ok();
    let user_jobs = crate::jobs::from_env_and_config(env_jobs.as_deref(), &files, machine.cpus)?;
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
        user_jobs,
    };
    let (cmd, notes) = assemble(plan, &ctx.root, &sel, &machine, &args.cargo_args)?;
    if let Some(triple) = &plan.target(sel.target)?.triple {
        check_target_std(triple)?;
    }
    let packages = graph_packages(plan, &ctx.root, &sel, false)?;
    let memory = check_memory(plan, &sel, &machine, packages)?;
    eprintln!("cargo-buildplan build: {}", notes.linker);
    eprintln!("cargo-buildplan build: {}", notes.jobs);
    eprintln!("cargo-buildplan build: {}", memory.note);
    if let Some(warning) = &memory.warning {
        eprintln!("cargo-buildplan build: {warning}");
    }
    if let Some(refusal) = &memory.refusal {
        if !args.force {
            eprintln!("cargo-buildplan build: {refusal}");
            return Ok(Outcome::Failed);
        }
        eprintln!("cargo-buildplan build: warning: --force: building anyway; {refusal}");
    }
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
        return Ok(Outcome::Success);
    }
    eprintln!("cargo-buildplan build: running {}", cmd.shell_line());
    let status = cmd
        .to_command()
        .status()
        .with_context(|| format!("could not run `{}`", cmd.program))?;
    if status.success() {
        Ok(Outcome::Success)
    } else {
        eprintln!("cargo-buildplan build: cargo failed ({status})");
        Ok(Outcome::Failed)
    }
}
