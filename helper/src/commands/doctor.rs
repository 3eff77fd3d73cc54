//! `cargo buildplan doctor`: the workspace's own settings that cost build
//! time or memory and buy no runtime, and (with `--write`) their fixes.

use std::path::Path;

use super::outcome::Outcome;
use crate::cli::DoctorArgs;
use buildplan::doctor::{self, Machine};
use buildplan::manifest::RootManifest;
use buildplan::workspace::Workspace;

/// Counts the packages in the workspace's Cargo.lock (0 without one): the
/// size of the largest build graph, for the memory estimate.
fn locked_packages(root: &Path) -> u64 {
    std::fs::read_to_string(root.join("Cargo.lock"))
        .map(|t| t.lines().filter(|l| l.trim() == "[[package]]").count() as u64)
        .unwrap_or(0)
}

/// Prints the findings; writes fixes with `--write`; fails with `--check`
/// when there is any finding.
pub fn run(manifest_path: Option<&Path>, args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let workspace = Workspace::load(manifest_path)?;
    let manifest = RootManifest::read(&workspace.root_manifest)?;
    let inputs = buildplan::config::run_inputs(&workspace.root, manifest.profile.as_ref());
    let cfg = buildplan::config::load(&inputs)?;
    let machine = Machine {
        cpus: buildplan::exec::cpu_count(),
        packages: locked_packages(&workspace.root),
        mem_per_job_mib: manifest
            .policy
            .mem_per_job_mib
            .unwrap_or(buildplan::policy::DEFAULT_MEM_PER_JOB_MIB),
    };
    let findings = doctor::diagnose(&cfg, &machine)?;
    buildplan::output::print_stdout(&doctor::render(&findings))?;
    if args.write {
        for line in doctor::apply(&workspace.root, &findings, args.trade_offs)? {
            eprintln!("{line}");
        }
    } else if findings.iter().any(|f| f.fix.is_some()) {
        eprintln!("nothing written; `cargo buildplan doctor --write` writes the fixes with no runtime change");
    }
    Ok(if args.check && !findings.is_empty() {
        Outcome::Failed
    } else {
        Outcome::Success
    })
}
