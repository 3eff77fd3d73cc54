//! The doctor: the workspace's own profile settings that cost build time
//! or memory and buy no runtime, read from cargo's configuration resolved
//! with sources ([`crate::cargo_config`]), each with its cost and a fix.
//!
//! A finding is one of two kinds ([`Kind`]): a fix with no runtime change
//! (debug info that `strip` removes anyway, optimised build scripts and
//! proc-macros), or a trade-off (fat LTO, many codegen units, incremental
//! release builds: the code changes). `tests/doctor.rs` proves the first
//! kind on real builds (`docs/helper-notes.md`).
//!
//! Only settings a layer sets are findings (cargo's built-in defaults are
//! not the workspace's choice), each reported once, at the profile whose
//! table sets it (a profile inheriting the same value from the same source
//! is not repeated). [`apply`] writes fixes into the file the setting
//! lives in, with `toml_edit` so the rest of the file keeps its
//! formatting; settings from the environment or from files outside the
//! workspace are never written.

mod findings;
mod jobs;
mod write;

pub use findings::{Finding, Fix, Kind, Machine};
pub use write::{apply, writable};

/// The workspace's settings that cost build time or memory: its profiles'
/// (findings.rs) and a `[build] jobs` above the machine's CPUs (jobs.rs).
pub fn diagnose(
    cfg: &crate::cargo_config::CargoConfig,
    machine: &Machine,
) -> Result<Vec<Finding>, crate::error::Error> {
    let mut out = findings::diagnose(cfg, machine)?;
    out.extend(jobs::too_many_jobs(cfg, machine)?);
    Ok(out)
}

/// The findings in words, one block each, and a summary line.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}.{} = {} (from {})\n  {}\n  cost: {}\n",
            f.profile, f.key, f.value, f.source, f.why, f.cost
        ));
        match &f.fix {
            Some(fix) => out.push_str(&format!(
                "  fix: {} = {} in [profile.{}] of {}: {}\n",
                fix.key.join("."),
                fix.value,
                f.profile,
                f.source,
                f.kind.label()
            )),
            None => out.push_str(&format!("  fix: by hand: {}\n", f.kind.label())),
        }
    }
    let unchanged = findings.iter().filter(|f| f.kind == Kind::NoChange).count();
    out.push_str(&format!(
        "{} finding(s): {} with no runtime change, {} trade-off(s)\n",
        findings.len(),
        unchanged,
        findings.len() - unchanged
    ));
    out
}
