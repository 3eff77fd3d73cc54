//! The doctor: the workspace's own settings that cost build time or memory
//! and buy no runtime, from cargo's configuration resolved with sources
//! ([`crate::cargo_config`]), each with its cost and fix ([`Kind`]: no
//! runtime change, proven on real builds by `tests/doctor.rs`, or a
//! trade-off). Only settings a layer sets count, each once, at the profile
//! whose table sets it; [`apply`] writes fixes into the workspace's own files.

mod findings;
mod write;

pub use findings::{diagnose, Finding, Fix, Kind, Machine};
pub use write::apply;

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
