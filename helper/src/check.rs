//! The `check` command: recompute the plan and compare it with the file.

use std::process::ExitCode;

use crate::cli::{CheckArgs, GlobalArgs};
use crate::error::EXIT_FINDING;

/// Recomputes the plan (with the audit, as `plan` does, but with cargo's
/// `--locked` so that checking never changes Cargo.lock) and compares it
/// byte for byte with the plan file. Exits 1 with a unified diff when they
/// differ, and 1 with a hint when the file is missing.
pub fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let planned = crate::plan::compute(
        global.manifest_path.as_deref(),
        crate::plan::AuditMode::Locked,
    )?;
    let path = crate::plan::plan_path(&planned.output, args.plan.as_deref());
    let shown = crate::workspace::relative(&planned.workspace.root, &path)
        .unwrap_or_else(|_| path.display().to_string());
    let fresh = crate::output::render(&planned.plan);
    let on_disk = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("{shown}: missing; write it with `cargo buildplan plan`");
            return Ok(ExitCode::from(EXIT_FINDING));
        }
        Err(e) => anyhow::bail!("{shown}: {e}"),
    };
    if on_disk == fresh.as_bytes() {
        eprintln!("{shown} is up to date");
        return Ok(ExitCode::SUCCESS);
    }
    let old = String::from_utf8_lossy(&on_disk);
    crate::output::print_stdout(&diff(&old, &fresh, &shown))?;
    eprintln!("{shown} is stale; regenerate it with `cargo buildplan plan` and commit it");
    Ok(ExitCode::from(EXIT_FINDING))
}

/// A unified diff from the file's text to the recomputed one.
pub fn diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{name} (on disk)"),
            &format!("{name} (recomputed)"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines_only_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        let d = diff(old, new, "plan.json");
        assert!(d.contains("--- plan.json (on disk)"), "{d}");
        assert!(d.contains("+++ plan.json (recomputed)"), "{d}");
        assert!(d.contains("-e\n") && d.contains("+E\n"), "{d}");
        assert!(d.contains("@@"), "{d}");
        assert!(!d.contains(" a\n"), "context is three lines: {d}");
    }
}
