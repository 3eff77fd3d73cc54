//! `cargo buildplan build`: run cargo with exactly the plan's flags.

use std::path::Path;

use anyhow::Context;

use crate::cli::BuildArgs;
use buildplan::build::{assemble, graph_packages, load_context, write_cmake_toolchain, Selection};
use buildplan::error::Outcome;
use buildplan::exec::Machine;
use buildplan::repro::ReproSettings;

/// Assembles the command from the plan and this machine, checks its memory
/// estimate, prints what was decided, and runs it (or prints it, with
/// `--dry-run`). A refused or failed build is a failed gate (exit 1).
pub fn run(manifest_path: Option<&Path>, args: &BuildArgs) -> anyhow::Result<Outcome> {
    let ctx = load_context(manifest_path)?;
    let plan = &ctx.plan;
    let machine = Machine::detect()?;
    let cfg = buildplan::config::run_config(&ctx.root)?;
    let profile = args
        .profile
        .as_deref()
        .unwrap_or(&plan.workspace.default_profile);
    plan.profile(profile)?;
    let reproducible =
        args.reproducible || (!args.no_reproducible && plan.root_profile(profile) == "release");
    let mut repro_env = Vec::new();
    let mut repro_flags = Vec::new();
    if reproducible {
        let inputs = buildplan::repro::discover(&ctx.root, &ctx.target_dir, None)?;
        let settings = ReproSettings::new(&inputs);
        if std::env::var_os("SOURCE_DATE_EPOCH").is_none() {
            let epoch = settings.source_date_epoch.to_string();
            repro_env.push(("SOURCE_DATE_EPOCH".to_string(), epoch));
        }
        repro_flags = settings.rustflags()?;
    }
    // Cross targets' CMake toolchain files (for the cmake crate).
    let cmake_dir = ctx.target_dir.join("buildplan").join("cmake");
    let variant = args
        .variant
        .as_deref()
        .unwrap_or(&plan.workspace.default_variant);
    let target = args.target.as_deref().unwrap_or("host");
    let sel = Selection {
        alone: args.alone,
        user_jobs: cfg.jobs()?,
        cargo_config: Some(&cfg),
        extra_rustflags: &repro_flags,
        cmake_dir: Some(&cmake_dir),
        ..Selection::new(&args.package, variant, target, profile)
    };
    let planned = plan.variant(variant)?;
    let (mut cmd, notes) = assemble(plan, &ctx.root, &sel, &machine, &args.cargo_args)?;
    if planned.unified {
        eprintln!(
            "cargo-buildplan build: variant `{variant}` is a unified build of {} roots: {}",
            planned.builds.len(),
            if args.alone {
                "--alone: this package's own features only"
            } else {
                "every root's features, this package's targets (--alone: its own features only)"
            }
        );
    }
    cmd.env.extend(repro_env);
    if let Some(triple) = &plan.target(target)?.triple {
        buildplan::build::check_target_std(triple)?;
    }
    let packages = graph_packages(plan, &ctx.root, &sel, false)?;
    let memory = buildplan::memory::check_memory(plan, profile, &args.package, &machine, packages)?;
    let repro_note = if reproducible {
        "yes (paths remapped, SOURCE_DATE_EPOCH set unless given)"
    } else if args.no_reproducible {
        "no (--no-reproducible)"
    } else {
        "no (not a release-like profile; --reproducible turns it on)"
    };
    let reproducible = format!("reproducible: {repro_note}");
    for line in [&notes.linker, &notes.jobs, &memory.note, &reproducible] {
        eprintln!("cargo-buildplan build: {line}");
    }
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
    let cache = match &args.deps_cache {
        Some(dir) => Some(super::cache::prepare(
            &ctx,
            &sel,
            &cmd,
            dir,
            args.members,
            args.dry_run,
        )?),
        None => None,
    };
    if args.dry_run {
        println!("{}", cmd.shell_line());
        return Ok(Outcome::Success);
    }
    write_cmake_toolchain(&cmake_dir, plan.target(target)?)?;
    eprintln!("cargo-buildplan build: running {}", cmd.shell_line());
    let status = cmd
        .to_command()
        .status()
        .with_context(|| format!("could not run `{}`", cmd.program))?;
    if !status.success() {
        eprintln!("cargo-buildplan build: cargo failed ({status})");
        return Ok(Outcome::Failed);
    }
    if let Some(cache) = &cache {
        cache.save(&ctx)?;
    }
    Ok(Outcome::Success)
}
