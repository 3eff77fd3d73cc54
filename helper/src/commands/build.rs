//! `cargo buildplan build`: run cargo with exactly the plan's flags.

use std::path::Path;

use anyhow::Context;

use super::outcome::Outcome;
use crate::build::{assemble, check_target_std, load_context, Selection};
use crate::cli::BuildArgs;
use crate::exec::Machine;

/// Assembles the command from the plan and this machine, prints what was
/// decided, and runs it (or prints it, with `--dry-run`). A failed cargo
/// build is a failed gate (exit 1), after cargo's own messages.
pub fn run(manifest_path: Option<&Path>, args: &BuildArgs) -> anyhow::Result<Outcome> {
    let ctx = load_context(manifest_path)?;
    let plan = &ctx.plan;
    let machine = Machine::detect()?;
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
    if let Some(triple) = &plan.target(sel.target)?.triple {
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
