//! `cargo buildplan build`: run cargo with exactly the plan's flags.

use std::path::Path;

use anyhow::Context;

use crate::cli::BuildArgs;
use buildplan::build::{
    assemble, assemble_as, check_target_std, graph_packages, load_context, write_cmake_toolchain,
    Selection,
};
use buildplan::error::Outcome;
use buildplan::exec::Machine;
use buildplan::repro::{BuildId, ReproSettings};

/// Assembles the command from the plan and this machine, checks its memory
/// estimate, prints what was decided, and runs it (or prints it, with
/// `--dry-run`). A refused or failed build is a failed gate (exit 1).
pub fn run(manifest_path: Option<&Path>, args: &BuildArgs) -> anyhow::Result<Outcome> {
    let ctx = load_context(manifest_path)?;
    let plan = &ctx.plan;
    let machine = Machine::detect()?;
    let cfg = buildplan::config::run_config(&ctx.root)?;
    let profile_name = args
        .profile
        .as_deref()
        .unwrap_or(&plan.workspace.default_profile);
    plan.profile(profile_name)?;
    let reproducible = match (args.reproducible, args.no_reproducible) {
        (true, _) => true,
        (_, true) => false,
        _ => plan.root_profile(profile_name) == "release",
    };
    let mut repro_env = Vec::new();
    let repro_flags = if reproducible {
        let inputs = buildplan::repro::discover(&ctx.root, &ctx.target_dir, None)?;
        let settings = ReproSettings::new(&inputs, BuildId::LinkerDefault);
        if std::env::var_os("SOURCE_DATE_EPOCH").is_none() {
            repro_env.push((
                "SOURCE_DATE_EPOCH".to_string(),
                settings.source_date_epoch.to_string(),
            ));
        }
        settings.rustflags()?
    } else {
        Vec::new()
    };
    // Cross targets' CMake toolchain files (for the cmake crate).
    let cmake_dir = ctx.target_dir.join("buildplan").join("cmake");
    let sel = Selection {
        package: &args.package,
        variant: args
            .variant
            .as_deref()
            .unwrap_or(&plan.workspace.default_variant),
        target: args.target.as_deref().unwrap_or("host"),
        profile: profile_name,
        linker: None,
        user_jobs: cfg.jobs()?,
        cargo_config: Some(&cfg),
        extra_rustflags: &repro_flags,
        cmake_dir: Some(&cmake_dir),
    };
    let variant = plan.variant(sel.variant)?;
    let (mut cmd, notes) = if args.alone {
        let alone = plan
            .root_build(sel.variant, sel.package)?
            .alone_cargo_args
            .clone();
        assemble_as(
            plan,
            &ctx.root,
            &sel,
            &machine,
            &args.cargo_args,
            "build",
            Some(&alone),
        )?
    } else {
        assemble(plan, &ctx.root, &sel, &machine, &args.cargo_args)?
    };
    if variant.unified {
        eprintln!(
            "cargo-buildplan build: variant `{}` is a unified build of {} roots: {}",
            sel.variant,
            variant.builds.len(),
            if args.alone {
                "--alone: this package's own features only"
            } else {
                "every root's features, this package's targets (--alone: its own features only)"
            }
        );
    }
    cmd.env.extend(repro_env);
    if let Some(triple) = &plan.target(sel.target)?.triple {
        check_target_std(triple)?;
    }
    let packages = graph_packages(plan, &ctx.root, &sel, false)?;
    let memory =
        buildplan::memory::check_memory(plan, sel.profile, sel.package, &machine, packages)?;
    eprintln!("cargo-buildplan build: {}", notes.linker);
    eprintln!("cargo-buildplan build: {}", notes.jobs);
    eprintln!("cargo-buildplan build: {}", memory.note);
    eprintln!(
        "cargo-buildplan build: reproducible: {}",
        if reproducible {
            "yes (paths remapped, SOURCE_DATE_EPOCH set unless given)"
        } else if args.no_reproducible {
            "no (--no-reproducible)"
        } else {
            "no (not a release-like profile; --reproducible turns it on)"
        }
    );
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
    write_cmake_toolchain(&cmake_dir, plan.target(sel.target)?)?;
    eprintln!("cargo-buildplan build: running {}", cmd.shell_line());
    let status = cmd
        .to_command()
        .status()
        .with_context(|| format!("could not run `{}`", cmd.program))?;
    if status.success() {
        if let Some(cache) = &cache {
            cache.save(&ctx)?;
        }
        Ok(Outcome::Success)
    } else {
        eprintln!("cargo-buildplan build: cargo failed ({status})");
        Ok(Outcome::Failed)
    }
}
