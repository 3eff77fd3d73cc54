//! `cargo buildplan doctor`: the workspace's own settings that cost build
//! time or memory and buy no runtime, and (with `--write`) their fixes.

use std::path::Path;

use crate::cli::DoctorArgs;
use buildplan::doctor::{self, Machine};
use buildplan::error::Outcome;
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
    let cfg = buildplan::config::run_config(&workspace.root)?;
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
    let plan_path = workspace.root.join(
        manifest
            .policy
            .output
            .as_deref()
            .unwrap_or(buildplan::policy::DEFAULT_OUTPUT),
    );
    if let Ok(plan) = buildplan::output::read_plan(&plan_path) {
        buildplan::output::print_stdout(&toolchains(&plan))?;
    }
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

/// The plan's cross targets and whether this machine has each one's
/// toolchain ([`buildplan::toolchain`]), with the packages and the
/// install command for what is missing. Informational: a machine's
/// missing toolchain is not a finding of the workspace, so `--check`
/// ignores it (`build` refuses such a target).
fn toolchains(plan: &buildplan::model::Plan) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut text = String::from("\ncross targets' toolchains on this machine:\n");
    for (name, target) in plan.targets.iter().filter(|(_, t)| t.triple.is_some()) {
        match buildplan::toolchain::report(name, target, &path) {
            Some(report) => text.push_str(&format!("  missing: {report}\n")),
            None => text.push_str(&format!("  ok: target {name}\n")),
        }
    }
    text
}
