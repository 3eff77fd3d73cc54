//! `cargo buildplan plan` and `check`: compute the plan and write it
//! atomically, or compare it with the file.

use std::path::Path;

use buildplan::error::Outcome;
use buildplan::output::{render, write_atomic};
use buildplan::plan::{compute, AuditMode};

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
    let path = output.map_or_else(|| planned.output.clone(), Path::to_path_buf);
    let changed = write_atomic(&path, &render(&planned.plan))?;
    let plan = &planned.plan;
    eprintln!(
        "{} {} ({} packages, {} variants, {} targets, {} profiles)",
        if changed { "wrote" } else { "up to date:" },
        shown(&planned.workspace.root, &path),
        plan.packages.len(),
        plan.variants.len(),
        plan.targets.len(),
        plan.profiles.len(),
    );
    for (name, variant) in &plan.variants {
        let (splits, several) = (&variant.feature_splits, variant.packages.len() > 1);
        if !splits.is_empty() {
            let head = if variant.unified { "note" } else { "warning" };
            let text = buildplan::audit::describe(name, splits);
            eprint!("{head}: {text}{}", buildplan::audit::verdict(variant));
        } else if let Some(note) = variant.unify_note.as_ref().filter(|_| several) {
            eprintln!("note: variant `{name}`: {note}");
        }
    }
    if no_audit {
        eprintln!("note: --no-audit: feature_splits were not computed and are empty");
    }
    Ok(Outcome::Success)
}

/// Recomputes the plan (audit with `--locked`) and compares it byte for byte with the plan
/// file; fails with a unified diff when they differ, with a hint when it is missing.
pub fn check(manifest_path: Option<&Path>, plan: Option<&Path>) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Locked)?;
    let path = plan.map_or_else(|| planned.output.clone(), Path::to_path_buf);
    let shown = shown(&planned.workspace.root, &path);
    let fresh = render(&planned.plan);
    let on_disk = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("{shown}: missing; write it with `cargo buildplan plan`");
            return Ok(Outcome::Failed);
        }
        Err(e) => anyhow::bail!("{shown}: {e}"),
    };
    if on_disk == fresh.as_bytes() {
        eprintln!("{shown} is up to date");
        return Ok(Outcome::Success);
    }
    let old = String::from_utf8_lossy(&on_disk);
    buildplan::output::print_stdout(&buildplan::output::diff(&old, &fresh, &shown))?;
    eprintln!("{shown} is stale; regenerate it with `cargo buildplan plan` and commit it");
    Ok(Outcome::Failed)
}

/// `path` as shown to people: relative to the workspace `root` when it can be.
fn shown(root: &Path, path: &Path) -> String {
    buildplan::workspace::relative(root, path).unwrap_or_else(|_| path.display().to_string())
}
