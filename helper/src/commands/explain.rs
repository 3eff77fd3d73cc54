//! `cargo buildplan explain`: what one package gets, in words.

use std::fmt::Write;
use std::path::Path;

use buildplan::build::{graph_packages, Selection};
use buildplan::error::Outcome;
use buildplan::plan::{compute, AuditMode};

/// Prints the explanation of `package`, with each profile's memory estimate when it is a root
/// of the default variant (its host build graph read with `--locked`; a note when that fails).
pub fn run(manifest_path: Option<&Path>, package: &str) -> anyhow::Result<Outcome> {
    let planned = compute(manifest_path, AuditMode::Skip)?;
    let (plan, root) = (&planned.plan, &planned.workspace.root);
    plan.package(package)?;
    let variant = &plan.workspace.default_variant;
    let packages = if plan.variant(variant)?.builds.contains_key(package) {
        let sel = Selection::new(package, variant, "host", &plan.workspace.default_profile);
        graph_packages(plan, root, &sel, true)
            .inspect_err(|e| {
                eprintln!("note: no memory estimates: sizing the build graph failed: {e}")
            })
            .ok()
    } else {
        None
    };
    let mut text = buildplan::explain::explain(plan, package, packages)?;
    let cfg = buildplan::config::run_config(root)?;
    let local = buildplan::config::machine_local_differences(&cfg, &plan.profiles)?;
    let sources = match cfg.sources().as_slice() {
        [] => "no config file".to_string(),
        sources => sources.join(", "),
    };
    writeln!(
        text,
        "\ncargo configuration read on this machine: {sources}"
    )?;
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
            writeln!(text, "  {line}")?;
        }
    }
    buildplan::output::print_stdout(&text)?;
    Ok(Outcome::Success)
}
