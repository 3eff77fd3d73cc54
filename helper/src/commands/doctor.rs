//! `cargo buildplan doctor`: the workspace's own settings that cost build
//! time or memory and buy no runtime, and (with `--write`) their fixes.

use std::fmt::Write;
use std::path::Path;

use crate::cli::DoctorArgs;
use buildplan::doctor::{self, Machine};
use buildplan::error::Outcome;
use buildplan::policy::{DEFAULT_MEM_PER_JOB_MIB, DEFAULT_OUTPUT};

/// Prints the findings and the cross targets' toolchains; writes fixes with
/// `--write`; fails with `--check` when there is any finding.
pub fn run(manifest_path: Option<&Path>, args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let workspace = buildplan::workspace::Workspace::load(manifest_path)?;
    let policy = buildplan::manifest::RootManifest::read(&workspace.root_manifest)?.policy;
    let root = &workspace.root;
    // The size of the largest build graph, for the memory estimate.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    let machine = Machine {
        cpus: buildplan::exec::cpu_count(),
        packages: lock.lines().filter(|l| l.trim() == "[[package]]").count() as u64,
        mem_per_job_mib: policy.mem_per_job_mib.unwrap_or(DEFAULT_MEM_PER_JOB_MIB),
    };
    let findings = doctor::diagnose(&buildplan::config::run_config(root)?, &machine)?;
    let mut text = doctor::render(&findings);
    let plan_path = root.join(policy.output.as_deref().unwrap_or(DEFAULT_OUTPUT));
    if let Ok(plan) = buildplan::output::read_plan(&plan_path) {
        // Informational: a machine's missing toolchain is no finding of the
        // workspace, so `--check` ignores it (`build` refuses such a target).
        let path = std::env::var_os("PATH").unwrap_or_default();
        text.push_str("\ncross targets' toolchains on this machine:\n");
        for (name, target) in plan.targets.iter().filter(|(_, t)| t.triple.is_some()) {
            match buildplan::toolchain::report(name, target, &path) {
                Some(report) => writeln!(text, "  missing: {report}")?,
                None => writeln!(text, "  ok: target {name}")?,
            }
        }
    }
    buildplan::output::print_stdout(&text)?;
    if args.write {
        for line in doctor::apply(root, &findings, args.trade_offs)? {
            eprintln!("{line}");
        }
    } else if findings.iter().any(|f| f.fix.is_some()) {
        eprintln!("nothing written; `cargo buildplan doctor --write` writes the fixes with no runtime change");
    }
    Ok(Outcome::failed_if(args.check && !findings.is_empty()))
}
