//! `cargo buildplan check`: recompute the plan and compare it with the file.

use std::path::Path;

use crate::cli::CheckArgs;
use buildplan::error::Outcome;
use buildplan::plan::{compute, AuditMode};

/// Recomputes the plan (with the audit, as `plan` does, but with cargo's
/// `--locked` so that checking never changes Cargo.lock) and compares it
/// byte for byte with the plan file. Fails with a unified diff when they
/// differ, and with a hint when the file is missing.
pub fn run(manifest_path: Option<&Path>, args: &CheckArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Locked)?;
    let path = args.plan.clone().unwrap_or_else(|| planned.output.clone());
    let shown = buildplan::workspace::relative(&planned.workspace.root, &path)
        .unwrap_or_else(|_| path.display().to_string());
    let fresh = buildplan::output::render(&planned.plan);
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
