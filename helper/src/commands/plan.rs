//! `cargo buildplan plan`: compute the plan and write it atomically.

use std::path::Path;

use crate::cli::PlanArgs;
use buildplan::error::Outcome;
use buildplan::plan::{compute, AuditMode};

/// Computes the plan (with the audit unless `--no-audit`) and writes it.
pub fn run(manifest_path: Option<&Path>, args: &PlanArgs) -> anyhow::Result<Outcome> {
    let mode = if args.no_audit {
        AuditMode::Skip
    } else {
        AuditMode::Run
    };
    let planned = compute(manifest_path, mode)?;
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| planned.output.clone());
    let text = buildplan::output::render(&planned.plan);
    let changed = buildplan::output::write_atomic(&path, &text)?;
    let shown = buildplan::workspace::relative(&planned.workspace.root, &path)
        .unwrap_or_else(|_| path.display().to_string());
    eprintln!(
        "{} {shown} ({} packages, {} variants, {} targets, {} profiles)",
        if changed { "wrote" } else { "up to date:" },
        planned.plan.packages.len(),
        planned.plan.variants.len(),
        planned.plan.targets.len(),
        planned.plan.profiles.len(),
    );
    for (name, variant) in &planned.plan.variants {
        let splits = &variant.feature_splits;
        if !splits.is_empty() {
            let head = if variant.unified { "note" } else { "warning" };
            let text = buildplan::audit::describe(name, splits);
            eprint!("{head}: {text}{}", buildplan::audit::verdict(variant));
        } else if let Some(note) = variant
            .unify_note
            .as_ref()
            .filter(|_| variant.packages.len() > 1)
        {
            eprintln!("note: variant `{name}`: {note}");
        }
    }
    if args.no_audit {
        eprintln!("note: --no-audit: feature_splits were not computed and are empty");
    }
    Ok(Outcome::Success)
}
