//! `cargo buildplan audit`: the feature splits of every variant, or with `--compiles` the
//! third-party crates the variant's builds compiled twice ([`buildplan::compiles`]).

use std::fmt::Write;
use std::path::Path;
use std::process::Stdio;

use anyhow::Context;

use crate::cli::AuditArgs;
use buildplan::build::{assemble, Selection};
use buildplan::compiles::{compiled_in, duplicates, host_copies, third_party};
use buildplan::error::Outcome;
use buildplan::exec::Machine;
use buildplan::plan::{compute, AuditMode};

/// Prints every variant's splits (or only `--variant`'s) and whether the
/// plan's unified builds resolve them; fails if a split is not resolved.
pub fn run(manifest_path: Option<&Path>, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let plan = compute(manifest_path, AuditMode::Run)?.plan;
    if let Some(only) = &args.variant {
        plan.variant(only)?;
    }
    let mut failed = false;
    let mut text = String::new();
    for (name, variant) in &plan.variants {
        if args.variant.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        let splits = &variant.feature_splits;
        text.push_str(&buildplan::audit::describe(name, splits));
        if !splits.is_empty() {
            text.push_str(&buildplan::audit::verdict(variant));
            failed |= !variant.unified;
        }
    }
    let targets = buildplan::audit::audit_targets(&plan.targets).join(", ");
    writeln!(
        text,
        "(features resolved as cargo does, for target(s): {targets})"
    )?;
    buildplan::output::print_stdout(&text)?;
    Ok(Outcome::failed_if(failed))
}

/// Builds every root of the variant (unified, or alone with `--as-shipped`) into one target
/// directory and reports the duplicates (exit 1 on any); the plan is computed, not read.
pub fn compiles(manifest_path: Option<&Path>, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Skip)?;
    let (plan, root) = (&planned.plan, &planned.workspace.root);
    let ws = &plan.workspace;
    let variant_name = args.variant.as_deref().unwrap_or(&ws.default_variant);
    let variant = plan.variant(variant_name)?;
    let profile = args.profile.as_deref().unwrap_or(&ws.default_profile);
    plan.profile(profile)?;
    let cfg = buildplan::config::run_config(root)?;
    let machine = Machine::detect()?;
    let subcommand = if args.build { "build" } else { "check" };
    // Unless given, a scratch target directory (removed at the end).
    let scratch = tempfile::TempDir::with_prefix("buildplan-compiles-")
        .context("cannot create a scratch target directory")?;
    let target_dir = args.target_dir.as_deref().unwrap_or(scratch.path());
    let target_dir = target_dir.display().to_string();
    let extra = ["--message-format", "json", "--target-dir", &target_dir].map(String::from);
    let mut extra = Vec::from(extra);
    if root.join("Cargo.lock").is_file() {
        extra.push("--locked".into());
    }
    let how = if args.as_shipped {
        "each root alone (as shipped)"
    } else if variant.unified {
        "the plan's unified build"
    } else {
        "the plan's builds (not unified)"
    };
    let mut text = format!(
        "audit --compiles: variant `{variant_name}`, profile `{profile}`, cargo {subcommand}, \
         {how}\n"
    );
    let (mut stdout, mut lines) = (String::new(), Vec::new());
    for (i, package) in variant.packages.iter().enumerate() {
        let sel = Selection {
            subcommand,
            alone: args.as_shipped,
            cargo_config: Some(&cfg),
            ..Selection::new(package, variant_name, "host", profile)
        };
        let (cmd, _) = assemble(plan, root, &sel, &machine, &extra)?;
        let (n, of, line) = (i + 1, variant.packages.len(), cmd.shell_line());
        eprintln!("audit --compiles: build #{n} of {of}: {line}");
        // Standard output (the JSON messages) captured, cargo's progress shown.
        let out = cmd
            .to_command()
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("could not run `{}`", cmd.program))?;
        if !out.status.success() {
            let status = out.status;
            anyhow::bail!("build #{n} (`{package}`) failed ({status}): nothing can be concluded");
        }
        stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        if !stdout.ends_with('\n') {
            stdout.push('\n');
        }
        lines.push(format!("  build #{n} `{package}`: {line}"));
    }
    if let Some(path) = &args.messages {
        std::fs::write(path, &stdout)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let compiles = third_party(&stdout)?;
    for (i, line) in lines.iter().enumerate() {
        let n = compiled_in(&compiles, i);
        let fresh = if n == 0 { " (all fresh)" } else { "" };
        writeln!(text, "{line}\n    {n} third-party unit(s) compiled{fresh}")?;
    }
    let duplicates = duplicates(&compiles);
    let copies = host_copies(&compiles);
    writeln!(
        text,
        "third-party crates compiled more than once with different features: {}",
        duplicates.len()
    )?;
    for d in &duplicates {
        writeln!(text, "  {d}")?;
    }
    if !copies.is_empty() {
        writeln!(
            text,
            "host/target copies within one build (not counted above: cargo resolves build \
             dependencies and proc-macros apart from the rest, in every build alike): {}",
            copies.len()
        )?;
        for d in &copies {
            writeln!(text, "  {d}")?;
        }
    }
    if !duplicates.is_empty() && !args.as_shipped && !variant.unified {
        writeln!(text, "{}", buildplan::audit::verdict(variant).trim_start())?;
    }
    buildplan::output::print_stdout(&text)?;
    Ok(Outcome::failed_if(!duplicates.is_empty()))
}
