//! `cargo buildplan explain`: what one package gets, in words.

use std::path::Path;

use crate::cli::ExplainArgs;
use buildplan::build::{graph_packages, Selection};
use buildplan::error::Outcome;
use buildplan::plan::{compute, AuditMode};

/// Prints the explanation of `args.package` for the workspace, with the
/// memory estimate of each profile when the package is a root of the
/// default variant (sized by its build graph on the host, read with
/// `--locked` so that explaining never touches Cargo.lock; when that fails,
/// a note says why and the estimates are left out).
pub fn run(manifest_path: Option<&Path>, args: &ExplainArgs) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Skip)?;
    let plan = &planned.plan;
    plan.package(&args.package)?;
    let variant = &plan.workspace.default_variant;
    let packages = if plan.variant(variant)?.builds.contains_key(&args.package) {
        let sel = Selection::new(
            &args.package,
            variant,
            "host",
            &plan.workspace.default_profile,
        );
        match graph_packages(plan, &planned.workspace.root, &sel, true) {
            Ok(n) => Some(n),
            Err(e) => {
                eprintln!("note: no memory estimates: sizing the build graph failed: {e}");
                None
            }
        }
    } else {
        None
    };
    let mut text = buildplan::explain::explain(plan, &args.package, packages)?;
    let root = &planned.workspace.root;
    let cfg = buildplan::config::run_config(root)?;
    let local = buildplan::config::machine_local_differences(&cfg, &plan.profiles)?;
    text.push_str(&format!(
        "\ncargo configuration read on this machine: {}\n",
        if cfg.sources().is_empty() {
            "no config file".to_string()
        } else {
            cfg.sources().join(", ")
        }
    ));
    if local.is_empty() {
        text.push_str(
            "no machine-local layer ($CARGO_HOME, a parent directory, CARGO_PROFILE_*) changes a \
             profile: builds here get the committed plan's settings\n",
        );
    } else {
        text.push_str(
            "machine-local layers (not in the committed plan, which reads only the workspace's \
             own files) change these settings on this machine:\n",
        );
        for line in local {
            text.push_str(&format!("  {line}\n"));
        }
    }
    buildplan::output::print_stdout(&text)?;
    Ok(Outcome::Success)
}
