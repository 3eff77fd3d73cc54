//! `cargo buildplan audit --compiles`: runs a variant's builds and counts,
//! from cargo's JSON messages, the third-party crates compiled more than
//! once with different features ([`buildplan::compiles`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;

use crate::cli::AuditArgs;
use buildplan::build::{assemble, Selection};
use buildplan::error::Outcome;
use buildplan::exec::Machine;
use buildplan::plan::{compute, AuditMode};

/// Builds every root of the variant in order (the plan's unified builds,
/// or each root alone with `--as-shipped`) into one target directory, then
/// reports the duplicates; exit 1 when there is any. The plan is computed,
/// not read, so the workspace needs no plan file and nothing in it changes.
pub fn run(manifest_path: Option<&Path>, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Skip)?;
    let plan = &planned.plan;
    let root = &planned.workspace.root;
    let variant_name = args
        .variant
        .as_deref()
        .unwrap_or(&plan.workspace.default_variant);
    let variant = plan.variant(variant_name)?;
    let profile = args
        .profile
        .as_deref()
        .unwrap_or(&plan.workspace.default_profile);
    plan.profile(profile)?;
    let cfg = buildplan::config::run_config(root)?;
    let machine = Machine::detect()?;
    let scratch;
    let target_dir: PathBuf = match &args.target_dir {
        Some(dir) => dir.clone(),
        None => {
            scratch = tempfile::Builder::new()
                .prefix("buildplan-compiles-")
                .tempdir()
                .context("cannot create a scratch target directory")?;
            scratch.path().to_path_buf()
        }
    };
    let subcommand = if args.build { "build" } else { "check" };
    let mut extra = vec![
        "--message-format".to_string(),
        "json".into(),
        "--target-dir".into(),
        target_dir.display().to_string(),
    ];
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
    let mut stdout = String::new();
    let mut lines = Vec::new();
    for (i, package) in variant.packages.iter().enumerate() {
        let sel = Selection {
            subcommand,
            alone: args.as_shipped,
            cargo_config: Some(&cfg),
            ..Selection::new(package, variant_name, "host", profile)
        };
        let (cmd, _) = assemble(plan, root, &sel, &machine, &extra)?;
        eprintln!(
            "audit --compiles: build #{} of {}: {}",
            i + 1,
            variant.packages.len(),
            cmd.shell_line()
        );
        let out = cmd
            .to_command()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("could not run `{}`", cmd.program))?;
        if !out.status.success() {
            anyhow::bail!(
                "build #{} (`{package}`) failed ({}): nothing can be concluded",
                i + 1,
                out.status
            );
        }
        let part = String::from_utf8_lossy(&out.stdout);
        stdout.push_str(&part);
        if !part.ends_with('\n') {
            stdout.push('\n');
        }
        lines.push(format!(
            "  build #{} `{package}`: {}",
            i + 1,
            cmd.shell_line()
        ));
    }
    if let Some(path) = &args.messages {
        std::fs::write(path, &stdout)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let compiles = buildplan::compiles::third_party(&stdout)?;
    for (i, line) in lines.iter().enumerate() {
        let n = buildplan::compiles::compiled_in(&compiles, i);
        text.push_str(&format!(
            "{line}\n    {n} third-party unit(s) compiled{}\n",
            if n == 0 { " (all fresh)" } else { "" }
        ));
    }
    let duplicates = buildplan::compiles::duplicates(&compiles);
    text.push_str(&format!(
        "third-party crates compiled more than once with different features: {}\n",
        duplicates.len()
    ));
    for d in &duplicates {
        text.push_str(&format!("  {d}\n"));
    }
    let copies = buildplan::compiles::host_copies(&compiles);
    if !copies.is_empty() {
        text.push_str(&format!(
            "host/target copies within one build (not counted above: cargo resolves build \
             dependencies and proc-macros apart from the rest, in every build alike): {}\n",
            copies.len()
        ));
        for d in &copies {
            text.push_str(&format!("  {d}\n"));
        }
    }
    if !duplicates.is_empty() && !args.as_shipped && !variant.unified {
        text.push_str(&format!(
            "{}\n",
            buildplan::audit::verdict(variant).trim_start()
        ));
    }
    buildplan::output::print_stdout(&text)?;
    Ok(if duplicates.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}
