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
    let say = |line: &str| eprintln!("cargo-buildplan build: {line}");
    let ctx = load_context(manifest_path)?;
    let (plan, ws) = (&ctx.plan, &ctx.plan.workspace);
    let machine = Machine::detect()?;
    let cfg = buildplan::config::run_config(&ctx.root)?;
    let profile = args.profile.as_deref().unwrap_or(&ws.default_profile);
    plan.profile(profile)?;
    let reproducible =
        args.reproducible || (!args.no_reproducible && plan.root_profile(profile) == "release");
    let repro = reproducible
        .then(|| buildplan::repro::discover(&ctx.root, &ctx.target_dir, None))
        .transpose()?
        .map(|inputs| ReproSettings::new(&inputs));
    let repro_flags = repro.as_ref().map(ReproSettings::rustflags).transpose()?;
    // Cross targets' CMake toolchain files (for the cmake crate).
    let cmake_dir = ctx.target_dir.join("buildplan").join("cmake");
    let variant = args.variant.as_deref().unwrap_or(&ws.default_variant);
    let target_name = args.target.as_deref().unwrap_or("host");
    let sel = Selection {
        alone: args.alone,
        user_jobs: cfg.jobs()?,
        cargo_config: Some(&cfg),
        extra_rustflags: repro_flags.as_deref().unwrap_or_default(),
        cmake_dir: Some(&cmake_dir),
        ..Selection::new(&args.package, variant, target_name, profile)
    };
    let planned = plan.variant(variant)?;
    let (mut cmd, notes) = assemble(plan, &ctx.root, &sel, &machine, &args.cargo_args)?;
    if planned.unified {
        let n = planned.builds.len();
        say(&format!(
            "variant `{variant}` is a unified build of {n} roots: {}",
            if args.alone {
                "--alone: this package's own features only"
            } else {
                "every root's features, this package's targets (--alone: its own features only)"
            }
        ));
    }
    if let Some(repro) = repro.filter(|_| std::env::var_os("SOURCE_DATE_EPOCH").is_none()) {
        let epoch = repro.source_date_epoch.to_string();
        cmd.env.insert("SOURCE_DATE_EPOCH".to_string(), epoch);
    }
    let target = plan.target(target_name)?;
    if let Some(triple) = &target.triple {
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
    let repro_line = format!("reproducible: {repro_note}");
    let lines = [&notes.linker, &notes.jobs, &memory.note, &repro_line];
    for line in lines.into_iter().chain(&memory.warning) {
        say(line);
    }
    match &memory.refusal {
        Some(refusal) if !args.force => {
            say(refusal);
            return Ok(Outcome::Failed);
        }
        Some(refusal) => say(&format!("warning: --force: building anyway; {refusal}")),
        None => {}
    }
    let prepare =
        |dir: &Path| super::cache::prepare(&ctx, &sel, &cmd, dir, args.members, args.dry_run);
    let cache = args.deps_cache.as_deref().map(prepare).transpose()?;
    if args.dry_run {
        println!("{}", cmd.shell_line());
        return Ok(Outcome::Success);
    }
    write_cmake_toolchain(&cmake_dir, target)?;
    say(&format!("running {}", cmd.shell_line()));
    let status = cmd
        .to_command()
        .status()
        .with_context(|| format!("could not run `{}`", cmd.program))?;
    if !status.success() {
        say(&format!("cargo failed ({status})"));
        return Ok(Outcome::Failed);
    }
    if let Some(cache) = &cache {
        cache.save(&ctx)?;
    }
    Ok(Outcome::Success)
}
