//! What a benchmark run is set up from: the configurations and goals
//! (policy, defaults, options), the workspace copy, the memory check made
//! before anything is built, and the machine's facts for the results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::config::{self, Kind, Spec};
use super::goals::{self, GoalSpec};
use super::measure::Cgroup;
use super::policy::{self as bench_policy, BenchPolicy};
use super::report::MachineInfo;
use super::scenarios::parse_skip;
use super::workspace::{self, EditTarget};
use buildplan::build::{self, Selection};
use buildplan::error::Error;
use buildplan::exec::{self, CargoCommand, Machine};
use buildplan::model::Plan;
use buildplan::policy::Policy;

/// File in the workspace copy that marks it as ours (so that a re-run may
/// update it).
pub const COPY_MARKER: &str = ".buildplan-bench-copy";

/// The configurations, goals and cells of a run.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The policy's bench table (empty when there is none).
    pub policy: BenchPolicy,
    /// The configurations to run, in run order.
    pub configs: Vec<Spec>,
    /// The goals.
    pub goals: Vec<GoalSpec>,
    /// The configuration the default goals compare with, if they are used.
    pub against: Option<String>,
    /// Cells to leave out.
    pub skip: Vec<(String, String)>,
    /// Notes for the results.
    pub notes: Vec<String>,
}

/// The options [`select`] reads (`bench`'s, by the same names).
#[derive(Debug, Clone, Copy)]
pub struct Choices<'a> {
    /// `--configs`.
    pub configs: &'a [String],
    /// `--define`.
    pub defines: &'a [String],
    /// `--against`.
    pub against: Option<&'a str>,
    /// `--skip`.
    pub skip: &'a [String],
}

/// Chooses the configurations and goals from `policy` (read from `file`)
/// and the options. Bad names are errors (exit 2) listing the known ones.
pub fn select(policy: &Policy, file: &Path, args: Choices<'_>) -> anyhow::Result<Selected> {
    let bench = bench_policy::read(policy, file)?;
    let base = match &bench.configs {
        Some(list) => config::from_policy(list, file)?,
        None => config::defaults(policy),
    };
    let known = config::known(base, args.defines)?;
    let names: Vec<String> = known.iter().map(|s| s.name.clone()).collect();
    let against = args
        .against
        .map(String::from)
        .or_else(|| bench.against.clone());
    if let Some(a) = against.as_ref().filter(|a| !names.contains(a)) {
        let err = config::unknown(a, &known);
        return Err(match (args.against, &bench.against) {
            (None, Some(_)) => Error::Key {
                file: file.display().to_string(),
                key: "workspace.metadata.buildplan.bench.against".into(),
                message: err.to_string(),
            },
            _ => err,
        }
        .into());
    }
    let mut notes = Vec::new();
    let (goal_specs, against) = match &bench.goals {
        Some(list) => {
            if args.against.is_some() {
                notes.push(
                    "--against applies to the default goals only; the policy's goals name \
                     what each compares with."
                        .to_string(),
                );
            }
            (goals::policy::from_policy(list, &names, file)?, None)
        }
        None => {
            let measured = known
                .iter()
                .find(|s| s.name == config::TUNED)
                .or_else(|| known.iter().find(|s| s.kind == Kind::Planned));
            let base = against.clone().or_else(|| {
                known
                    .iter()
                    .find(|s| s.name == config::SHIPPED)
                    .or_else(|| known.iter().find(|s| s.kind == Kind::Shipped))
                    .map(|s| s.name.clone())
            });
            match (measured, base) {
                (Some(m), Some(a)) if m.name != a => (goals::defaults(&m.name, &a), Some(a)),
                _ => {
                    notes.push(
                        "No goals: the default goals need a planned and a shipped configuration."
                            .to_string(),
                    );
                    (Vec::new(), None)
                }
            }
        }
    };
    let configs = config::select(&known, args.configs)?;
    let skip = parse_skip(args.skip, &names)?;
    Ok(Selected {
        policy: bench,
        configs,
        goals: goal_specs,
        against,
        skip,
        notes,
    })
}

/// Copies the workspace at `src` to `copy` (without `target/`, `.git` and
/// `excluded`), or brings an earlier copy of the benchmark up to date, so
/// that a `--work-dir` can be reused with its builds.
pub fn copy_or_sync(src: &Path, copy: &Path, excluded: &[PathBuf]) -> anyhow::Result<()> {
    if copy.exists() {
        if !copy.join(COPY_MARKER).exists() {
            return Err(Error::invalid(format!(
                "{} exists and is not a copy made by the benchmark; choose another --work-dir",
                copy.display()
            ))
            .into());
        }
        let stats = workspace::sync_workspace(src, copy, excluded, &[COPY_MARKER])?;
        eprintln!(
            "bench: updated the copy in {} ({} files written, {} unchanged, {} removed)",
            copy.display(),
            stats.written,
            stats.kept,
            stats.removed
        );
    } else {
        let files = workspace::copy_workspace(src, copy, excluded)?;
        std::fs::write(copy.join(COPY_MARKER), "made by cargo buildplan bench\n")?;
        eprintln!(
            "bench: copied {} ({files} files) to {}",
            src.display(),
            copy.display()
        );
    }
    Ok(())
}

/// Prints each configuration's memory estimate ([`buildplan::memory`], as
/// `build` does, with a shipped configuration's own settings applied) and refuses, before anything is built, one whose final
/// step is estimated to need more than the machine's memory, unless
/// `force`. `Ok(false)`: refused.
pub fn check_memory(
    plan: &Plan,
    copy_root: &Path,
    package: &str,
    variant: &str,
    specs: &[Spec],
    machine: &Machine,
    force: bool,
) -> anyhow::Result<bool> {
    let sel = Selection::new(package, variant, "host", "release");
    let packages = build::graph_packages(plan, copy_root, &sel, false)?;
    let mut ok = true;
    for spec in specs {
        let with_settings;
        let estimated = if spec.settings.is_empty() {
            plan
        } else {
            with_settings = apply_settings(plan, &spec.profile, &spec.settings);
            &with_settings
        };
        let check =
            buildplan::memory::check_memory(estimated, &spec.profile, package, machine, packages)?;
        eprintln!("bench: {}: {}", spec.name, check.note);
        if let Some(refusal) = &check.refusal {
            if force {
                eprintln!(
                    "bench: {}: warning: --force: measuring anyway; {refusal}",
                    spec.name
                );
            } else {
                eprintln!(
                    "bench: {}: {} (leave the configuration out with --configs, or pass --force)",
                    spec.name, refusal
                );
                ok = false;
            }
        }
    }
    Ok(ok)
}

/// `plan` with a shipped configuration's `--config` settings of `profile`
/// (`profile.NAME.KEY=VALUE`, top-level keys only) applied to its profile,
/// so that the memory estimate sees what the configuration builds with.
fn apply_settings(plan: &Plan, profile: &str, settings: &[String]) -> Plan {
    let mut out = plan.clone();
    let prefix = format!("profile.{profile}.");
    for s in settings {
        let Some((key, value)) = s.strip_prefix(&prefix).and_then(|r| r.split_once('=')) else {
            continue;
        };
        let key = key.trim();
        if key.contains('.') {
            continue;
        }
        let Ok(table) = format!("v = {value}").parse::<toml::Table>() else {
            continue;
        };
        let Some(value) = table.get("v").and_then(|v| serde_json::to_value(v).ok()) else {
            continue;
        };
        if let Some(p) = out.profiles.get_mut(profile) {
            p.settings.insert(
                key.to_string(),
                buildplan::model::Setting {
                    value,
                    source: "--config".into(),
                },
            );
        }
    }
    out
}

/// The `--jobs` value of a command, if it has one.
pub fn jobs_arg(cmd: &CargoCommand) -> Option<u64> {
    let i = cmd.args.iter().position(|a| a == "--jobs")?;
    cmd.args.get(i + 1)?.parse().ok()
}

/// The edited crate and its file, relative to the copy.
pub fn describe_edit(edit: &EditTarget, copy_root: &Path) -> (String, String) {
    let file = edit
        .file
        .strip_prefix(copy_root)
        .unwrap_or(&edit.file)
        .display()
        .to_string();
    (edit.package.clone(), file)
}

/// The machine and toolchain, for the results.
pub fn machine_info(machine: &Machine, cgroup: Option<&Cgroup>, load: Option<f64>) -> MachineInfo {
    let mut linkers = BTreeMap::new();
    for (name, cmd) in [
        ("mold", vec!["mold", "--version"]),
        ("ld.lld", vec!["ld.lld", "--version"]),
        ("ld.bfd", vec!["ld.bfd", "--version"]),
    ] {
        if let Some(v) = first_line(&cmd) {
            linkers.insert(name.to_string(), v);
        }
    }
    if let Some(v) = rust_lld_version(&machine.host.triple) {
        linkers.insert("rust-lld".to_string(), v);
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_verbose = Command::new(&rustc)
        .arg("-vV")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cargo_program = exec::cargo_program();
    MachineInfo {
        cpus: machine.cpus,
        mem_total_mib: machine.mem_total_mib,
        mem_available_mib: machine.mem_available_mib,
        host: machine.host.triple.clone(),
        rustc: machine.host.rustc_version.clone(),
        rustc_verbose,
        cargo: first_line(&[cargo_program.as_str(), "-V"]).unwrap_or_default(),
        linkers,
        memory_method: memory_method(cgroup),
        load_avg: (load, None),
    }
}

fn memory_method(cgroup: Option<&Cgroup>) -> String {
    format!(
        "process-tree PSS: sum of the proportional set sizes (smaps_rollup Pss; shared pages such as \
         the compiler's libraries split among the processes mapping them) of the build's \
         processes{}, walked at most every 250 ms and only while the RSS sum (read every 50 ms) \
         exceeds the peak so far, peak reported (the goal figure); largest single \
         process: highest VmHWM seen (what getrusage ru_maxrss of the children would give); \
         cgroup peak: {}",
        if cgroup.is_some() {
            " (the processes of a fresh memory cgroup)"
        } else {
            " (the command and its descendants from /proc)"
        },
        cgroup.map_or(
            "not available (no writable memory cgroup)".to_string(),
            |c| format!("{}, which includes the page cache of files written, so it partly \
                         measures the artifacts written; recorded in the JSON only", c.describe())
        )
    )
}

fn first_line(cmd: &[&str]) -> Option<String> {
    let (program, args) = cmd.split_first()?;
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

fn rust_lld_version(host: &str) -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = first_line(&[rustc.as_str(), "--print", "sysroot"])?;
    let lld = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(host)
        .join("bin/rust-lld");
    first_line(&[lld.to_str()?, "-flavor", "gnu", "--version"])
}

/// This process's command line, as typed (`cargo buildplan bench ...`),
/// with the variables that decide the toolchain in front.
pub fn command_line() -> String {
    let rest: Vec<String> = std::env::args()
        .skip(1)
        .skip_while(|a| a == "buildplan" || a == "bench" || a == "buildplan-bench")
        .collect();
    let mut line = String::new();
    for var in ["RUSTUP_TOOLCHAIN"] {
        if let Ok(v) = std::env::var(var) {
            line.push_str(&format!("{var}={} ", exec::quote(&v)));
        }
    }
    line.push_str("cargo buildplan bench");
    for a in rest {
        line.push(' ');
        line.push_str(&exec::quote(&a));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_reach_the_memory_estimate() {
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "schema_version": buildplan::model::SCHEMA_VERSION,
            "generator": "t",
            "workspace": { "lockfile": "Cargo.lock", "members": ["app"], "default_variant": "d",
                           "default_profile": "release", "mem_per_job_mib": 1536 },
            "packages": {}, "variants": {}, "targets": {},
            "profiles": { "release": { "inherits": null, "settings": {
                "lto": { "value": "thin", "source": "Cargo.toml" } },
                "build_override": {}, "package": {},
                "overrides": { "settings": {}, "build_override": {}, "package": {} } } }
        }))
        .unwrap();
        let settings = [
            "profile.release.lto=true".to_string(),
            "profile.release.codegen-units=1".to_string(),
            "profile.release.build-override.opt-level=0".to_string(),
            "profile.other.lto=false".to_string(),
        ];
        let out = apply_settings(&plan, "release", &settings);
        let d = buildplan::memory::Drivers::of(&out, "release", "app").unwrap();
        assert_eq!(d.lto, buildplan::memory::Lto::Fat);
        assert_eq!(d.codegen_units, 1);
        assert_eq!(out.profiles["release"].settings["lto"].source, "--config");
        assert_eq!(out.profiles["release"].settings.len(), 2);
    }
}
