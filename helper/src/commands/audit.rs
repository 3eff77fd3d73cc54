//! `cargo buildplan audit`: the feature splits of every variant.

use std::collections::BTreeMap;
use std::path::Path;

use crate::cli::AuditArgs;
use buildplan::error::Outcome;
use buildplan::model::Variant;
use buildplan::plan::{compute, AuditMode};

/// Prints every variant's splits (or only `--variant`'s) and whether the
/// plan's unified builds resolve them; fails if a split is not resolved.
pub fn run(manifest_path: Option<&Path>, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Run)?;
    let plan = &planned.plan;
    let variants: BTreeMap<&str, &Variant> = match &args.variant {
        Some(only) => BTreeMap::from([(only.as_str(), plan.variant(only)?)]),
        None => plan.variants.iter().map(|(n, v)| (n.as_str(), v)).collect(),
    };
    let targets = buildplan::audit::audit_targets(&plan.targets);
    let mut any = false;
    let mut text = String::new();
    for (name, variant) in variants {
        let splits = &variant.feature_splits;
        text.push_str(&buildplan::audit::describe(name, splits));
        if !splits.is_empty() {
            text.push_str(&buildplan::audit::verdict(variant));
            any |= !variant.unified;
        }
    }
    text.push_str(&format!(
        "(features resolved as cargo does, for target(s): {})\n",
        targets.join(", ")
    ));
    buildplan::output::print_stdout(&text)?;
    Ok(if any {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}
