//! The doctor: the workspace's own settings that cost build time or memory
//! and buy no runtime ([`diagnose`]), each with its cost and fix ([`apply`]).

mod findings;
mod write;

pub use findings::{diagnose, Finding, Fix, Kind, Machine};
pub use write::apply;

/// The findings in words, one block each, and a summary line.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let (profile, source, kind) = (&f.profile, &f.source, f.kind.label());
        out += &format!("{profile}.{} = {} (from {source})\n", f.key, f.value);
        out += &format!("  {}\n  cost: {}\n", f.why, f.cost);
        out += &match &f.fix {
            Some(fix) => format!(
                "  fix: {} = {} in [profile.{profile}] of {source}: {kind}\n",
                fix.key.join("."),
                fix.value
            ),
            None => format!("  fix: by hand: {kind}\n"),
        };
    }
    let unchanged = findings.iter().filter(|f| f.kind == Kind::NoChange).count();
    let trade_offs = findings.len() - unchanged;
    out += &format!(
        "{} finding(s): {unchanged} with no runtime change, {trade_offs} trade-off(s)\n",
        findings.len()
    );
    out
}
