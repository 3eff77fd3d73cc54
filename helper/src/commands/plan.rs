//! `cargo buildplan plan`: compute the plan and write it atomically.

use std::path::Path;

use buildplan::error::Outcome;
use buildplan::plan::{compute, plan_path, AuditMode};

/// Computes the plan (with the audit unless `no_audit`) and writes it to
/// `output` or the policy's output path.
pub fn run(
    manifest_path: Option<&Path>,
    output: Option<&Path>,
    no_audit: bool,
) -> anyhow::Result<Outcome> {
    let mode = if no_audit {
        AuditMode::Skip
    } else {
        AuditMode::Run
    };
    let planned = compute(manifest_path, mode)?;
    let path = plan_path(&planned.output, output);
    let changed =
        buildplan::output::write_atomic(&path, &buildplan::output::render(&planned.plan))?;
    let plan = &planned.plan;
    eprintln!(
        "{} {} ({} packages, {} variants, {} targets, {} profiles)",
        if changed { "wrote" } else { "up to date:" },
        super::shown(&planned.workspace.root, &path),
        plan.packages.len(),
        plan.variants.len(),
        plan.targets.len(),
        plan.profiles.len(),
    );
    for (name, variant) in &plan.variants {
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
    if no_audit {
        eprintln!("note: --no-audit: feature_splits were not computed and are empty");
    }
    Ok(Outcome::Success)
}
