//! `cargo buildplan audit`: the feature splits of every variant.

use std::collections::BTreeMap;
use std::path::Path;

use super::outcome::Outcome;
use crate::cli::AuditArgs;
use buildplan::plan::{compute, AuditMode};

/// Prints every variant's splits (or only `--variant`'s) and whether the
/// plan's unified builds resolve them; fails if a split is not resolved.
pub fn run(manifest_path: Option<&Path>, args: &AuditArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Skip)?;
    let plan = &planned.plan;
    let variants = match &args.variant {
        Some(only) => BTreeMap::from([(only.clone(), plan.variant(only)?.clone())]),
        None => plan.variants.clone(),
    };
    let targets = buildplan::audit::audit_targets(&plan.targets);
    let found = buildplan::audit::audit(&planned.workspace, &variants, &targets, false)?;
    let mut any = false;
    let mut text = String::new();
    for (name, splits) in &found {
        text.push_str(&buildplan::audit::describe(name, splits));
        if !splits.is_empty() {
            let variant = &variants[name];
            text.push_str(&buildplan::audit::verdict(variant));
            any |= !buildplan::audit::resolved(variant);
        }
    }
    text.push_str(&format!(
        "(resolved with cargo tree for target(s): {})\n",
        targets.join(", ")
    ));
    buildplan::output::print_stdout(&text)?;
    Ok(if any {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}
