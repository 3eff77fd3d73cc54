//! `cargo buildplan audit`: the feature splits of every variant.

use std::fmt::Write;
use std::path::Path;

use crate::cli::AuditArgs;
use buildplan::error::Outcome;
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
    Ok(super::failed_if(failed))
}
