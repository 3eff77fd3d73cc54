//! `cargo buildplan explain`: what one package gets, in words.

use std::path::Path;

use super::outcome::Outcome;
use crate::cli::ExplainArgs;
use crate::plan::{compute, AuditMode};

/// Prints the explanation of `args.package` for the workspace.
pub fn run(manifest_path: Option<&Path>, args: &ExplainArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Skip)?;
    let text = crate::explain::explain(&planned.plan, &args.package)?;
    crate::output::print_stdout(&text)?;
    Ok(Outcome::Success)
}
