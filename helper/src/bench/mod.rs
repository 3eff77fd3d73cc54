//! `cargo buildplan bench`: build time and peak memory of a workspace's
//! package across scenarios (clean, no-op, edits, cached dependencies,
//! link) and configurations (a "before" baseline, the plan's profiles with
//! mold and lld, dev).
//!
//! The workspace is copied into a work directory first, so that the edits
//! the scenarios make never touch the user's tree; each configuration
//! builds into its own target directory there. Results go to JSON
//! (`--json`) and to a Markdown report (`--markdown`) that evaluates the
//! project's goals on the same run.
//!
//! - [`config`]: the configurations and their cargo commands.
//! - [`scenarios`]: what each scenario does, and running a configuration's.
//! - [`measure`]: running one command, its wall time and peak memory.
//! - [`workspace`]: the copy, the edited crates, the edits.
//! - [`report`]: the results document and the goals; [`markdown`]: the
//!   report.
//!
//! Bench sits on the core's public API (the plan, [`crate::build`],
//! [`crate::exec`]); nothing in the core imports it.

pub mod config;
pub mod markdown;
pub mod measure;
pub mod report;
pub mod scenarios;
pub mod workspace;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use crate::build::load_context;
use crate::error::Error;
use crate::exec::{self, CargoCommand, Machine};
use config::Config;
use measure::Cgroup;
use report::{Results, ScenarioInfo, Setup};
use scenarios::{parse_skip, run_config, select_scenarios, skipped, RunContext};
use workspace::EditTarget;

pub use scenarios::SCENARIOS;

/// What to measure and where the results go (the `bench` command's
/// options, without the command line).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Package whose build is measured; `None`: the variant's first root
    /// with a binary.
    pub package: Option<String>,
    /// Variant; `None`: the plan's default.
    pub variant: Option<String>,
    /// Runs per scenario and configuration (at least 1).
    pub runs: u32,
    /// Scenarios to run; empty: all.
    pub scenarios: Vec<String>,
    /// Configurations to run; empty: all.
    pub configs: Vec<String>,
    /// Cells to leave out, as `CONFIG:SCENARIO`.
    pub skip: Vec<String>,
    /// Where to write the JSON results.
    pub json: Option<PathBuf>,
    /// The Markdown report to regenerate.
    pub markdown: Option<PathBuf>,
    /// Work directory; `None`: a temporary one.
    pub work_dir: Option<PathBuf>,
    /// Caveats recorded with the results.
    pub notes: Vec<String>,
}

/// Measures nothing: reads earlier results from `from` and writes the
/// outputs `options` names (`json`, `markdown`), adding its notes.
pub fn regenerate(from: &Path, options: &Options) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(from)
        .map_err(|e| Error::invalid(format!("{}: {e}", from.display())))?;
    let mut results: Results = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(format!("{}: not a bench results file: {e}", from.display()))
    })?;
    results.notes.extend(options.notes.iter().cloned());
    write_outputs(&results, options)
}

/// File in the workspace copy that marks it as ours (so that a re-run may
/// delete it).
const COPY_MARKER: &str = ".buildplan-bench-copy";

/// Runs the benchmark of the workspace at `manifest_path` (or the current
/// directory's) and writes its outputs.
pub fn run(manifest_path: Option<&Path>, args: &Options) -> anyhow::Result<()> {
    if args.runs == 0 {
        return Err(Error::invalid("--runs must be at least 1").into());
    }
    if args.json.is_none() && args.markdown.is_none() {
        eprintln!("bench: note: neither --json nor --markdown given; results are only printed");
    }
    let scenarios = select_scenarios(&args.scenarios)?;
    let config_names = config::select(&args.configs)?;
    let skip = parse_skip(&args.skip)?;
    let ctx = load_context(manifest_path)?;
    let plan = &ctx.plan;
    let variant_name = args
        .variant
        .clone()
        .unwrap_or_else(|| plan.workspace.default_variant.clone());
    let variant = plan.variants.get(&variant_name).ok_or_else(|| {
        Error::invalid(format!(
            "unknown variant `{variant_name}`; the plan has: {}",
            plan.variants.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let package = match &args.package {
        Some(p) => p.clone(),
        None => variant
            .packages
            .iter()
            .find(|p| plan.packages.get(*p).is_some_and(|i| !i.binaries.is_empty()))
            .cloned()
            .ok_or_else(|| {
                Error::invalid(format!(
                    "variant `{variant_name}` has no root package with a binary; name one with --package"
                ))
            })?,
    };
    if !variant.builds.contains_key(&package) {
        return Err(Error::invalid(format!(
            "package `{package}` is not a root of variant `{variant_name}` (its roots: {})",
            variant.packages.join(", ")
        ))
        .into());
    }
    let machine = Machine::detect()?;
    let auto_linker = exec::choose_host_linker(&machine.path);

    // The work directory and the copy.
    let temp;
    let work = match &args.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.canonicalize()?
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("buildplan-bench-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let copy_root = work.join("workspace");
    let excluded = vec![work.clone()];
    if copy_root.exists() {
        if !copy_root.join(COPY_MARKER).exists() {
            return Err(Error::invalid(format!(
                "{} exists and is not a copy made by the benchmark; choose another --work-dir",
                copy_root.display()
            ))
            .into());
        }
        let stats = workspace::sync_workspace(&ctx.root, &copy_root, &excluded, &[COPY_MARKER])?;
        eprintln!(
            "bench: updated the copy in {} ({} files written, {} unchanged, {} removed)",
            copy_root.display(),
            stats.written,
            stats.kept,
            stats.removed
        );
    } else {
        let files = workspace::copy_workspace(&ctx.root, &copy_root, &excluded)?;
        std::fs::write(
            copy_root.join(COPY_MARKER),
            "made by cargo buildplan bench\n",
        )?;
        eprintln!(
            "bench: copied {} ({files} files) to {}",
            ctx.root.display(),
            copy_root.display()
        );
    }

    let leaf = workspace::edit_target(&copy_root, &package)?;
    let root_crate = workspace::most_depended_upon(plan, &package);
    let mut scenarios = scenarios;
    let mut notes: Vec<String> = args.notes.clone();
    let root = match &root_crate {
        Some(name) => Some(workspace::edit_target(&copy_root, name)?),
        None => {
            if !args.scenarios.is_empty() && scenarios.contains(&"root") {
                return Err(Error::invalid(format!(
                    "scenario `root` needs a workspace crate that `{package}` depends on; it has none"
                ))
                .into());
            }
            scenarios.retain(|s| *s != "root");
            None
        }
    };
    let binaries = plan.packages[&package].binaries.clone();
    if binaries.is_empty() && scenarios.iter().any(|s| s.starts_with("link")) {
        if !args.scenarios.is_empty() {
            return Err(Error::invalid(format!(
                "scenarios `link` and `link-bfd` need a binary and `{package}` has none"
            ))
            .into());
        }
        scenarios.retain(|s| !s.starts_with("link"));
    }
    let mut units: Vec<String> = vec![package.clone()];
    units.extend(
        plan.packages[&package]
            .workspace_deps
            .iter()
            .filter_map(|path| {
                plan.packages
                    .iter()
                    .find(|(_, p)| &p.path == path)
                    .map(|(n, _)| n.clone())
            }),
    );

    let mut configs: Vec<Config> = Vec::new();
    for name in &config_names {
        configs.push(config::resolve(
            name,
            plan,
            &copy_root,
            &work.join("targets").join(name),
            &package,
            &variant_name,
            &machine,
            auto_linker,
        )?);
    }
    let cgroup = Cgroup::detect();
    let memory_method = format!(
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
        cgroup.as_ref().map_or(
            "not available (no writable memory cgroup)".to_string(),
            |c| format!("{}, which includes the page cache of files written, so it partly \
                         measures the artifacts written; recorded in the JSON only", c.describe())
        )
    );
    let jobs = configs
        .iter()
        .filter(|c| c.planned)
        .find_map(|c| jobs_arg(c.cargo.as_ref()?));

    let started_at = report::utc_now();
    let load_start = measure::load_average();
    let log = work.join("bench.log");
    eprintln!("bench: cargo output goes to {}", log.display());
    let mut linkers = std::collections::BTreeMap::new();
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
    let cargo_program = exec::cargo_program();
    let cells = configs
        .iter()
        .map(|c| {
            scenarios
                .iter()
                .filter(|s| !skipped(&skip, &c.name, s))
                .count()
        })
        .sum::<usize>();
    let mut results = Results {
        format: report::RESULTS_FORMAT,
        generator: format!("cargo-buildplan {} bench", env!("CARGO_PKG_VERSION")),
        started_at,
        finished_at: String::new(),
        command_line: command_line(),
        machine: report::MachineInfo {
            cpus: machine.cpus,
            mem_total_mib: machine.mem_total_mib,
            mem_available_mib: machine.mem_available_mib,
            host: machine.host.triple.clone(),
            rustc: machine.host.rustc_version.clone(),
            cargo: first_line(&[cargo_program.as_str(), "-V"]).unwrap_or_default(),
            linkers,
            memory_method,
            load_avg: (load_start, None),
        },
        setup: Setup {
            manifest: ctx.root.join("Cargo.toml").display().to_string(),
            package: package.clone(),
            variant: variant_name.clone(),
            runs: args.runs,
            jobs,
            mem_per_job_mib: plan.workspace.mem_per_job_mib,
            leaf: Some(describe_edit(&leaf, &copy_root)),
            root: root.as_ref().map(|r| describe_edit(r, &copy_root)),
            workspace_units: units.clone(),
        },
        goals: Vec::new(),
        configs: configs.clone(),
        scenarios: scenarios
            .iter()
            .map(|s| ScenarioInfo {
                name: s.to_string(),
                method: scenarios::method(s).to_string(),
            })
            .collect(),
        measurements: Vec::new(),
        notes: Vec::new(),
    };
    let lld_is_default = machine.host.default_is_rust_lld();
    let ctx_run = RunContext {
        binaries: &binaries,
        units: &units,
        leaf: &leaf,
        root: root.as_ref(),
        runs: args.runs,
        log: &log,
        cgroup: cgroup.as_ref(),
    };
    for c in &configs {
        let skip_here = |s: &str| skipped(&skip, &c.name, s);
        run_config(&ctx_run, c, &scenarios, &skip_here, &mut |m| {
            // Written after every cell, so that a run stopped early still
            // leaves its figures behind, marked as partial.
            results.measurements.push(m);
            results.finished_at = report::utc_now();
            results.goals = report::evaluate_goals(&results.measurements, &configs, lld_is_default);
            results.notes = notes.clone();
            results.notes.push(format!(
                "PARTIAL RESULTS: {} of {cells} cells measured so far; the run was still going or \
                 was stopped.",
                results.measurements.len()
            ));
            write_files(&results, args)
        })?;
    }
    results.machine.load_avg.1 = measure::load_average();
    results.finished_at = report::utc_now();

    let busy = results
        .measurements
        .iter()
        .flat_map(|m| m.runs.iter())
        .filter_map(|s| s.load_avg_start)
        .fold(load_start.unwrap_or(0.0), f64::max);
    if busy > machine.cpus as f64 * 0.5 {
        notes.push(format!(
            "The 1-minute load average reached {busy:.1} at the start of a run on this {}-CPU machine \
             (the benchmark itself contributes to it): other work may have competed for the CPUs, \
             so times are noisy.",
            machine.cpus
        ));
    }
    if !skip.is_empty() {
        let list: Vec<String> = skip.iter().map(|(c, s)| format!("{c}:{s}")).collect();
        notes.push(format!(
            "Cells left out on request (--skip): {}; shown as `-`.",
            list.join(", ")
        ));
    }
    results.notes = notes;
    results.goals = report::evaluate_goals(&results.measurements, &configs, lld_is_default);
    write_outputs(&results, args)
}

/// Writes the JSON and Markdown outputs.
fn write_files(results: &Results, args: &Options) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(results)?;
        text.push('\n');
        crate::output::write_atomic(path, &text)?;
    }
    if let Some(path) = &args.markdown {
        let existing = std::fs::read_to_string(path).ok();
        let text = markdown::render_markdown(results, existing.as_deref());
        crate::output::write_atomic(path, &text)?;
    }
    Ok(())
}

/// Writes the JSON and Markdown outputs and prints the figures and goals.
fn write_outputs(results: &Results, args: &Options) -> anyhow::Result<()> {
    write_files(results, args)?;
    for path in args.json.iter().chain(args.markdown.iter()) {
        eprintln!("bench: wrote {}", path.display());
    }
    for m in &results.measurements {
        println!(
            "{:<12} {:<18} wall {:>8.2} s (min {:>8.2})  tree PSS {:>6.0} MiB  largest process {:>6.0} MiB",
            m.scenario,
            m.config,
            m.wall_s.median,
            m.wall_s.min,
            m.tree_pss_mib.max,
            m.max_process_rss_mib.max
        );
    }
    for g in &results.goals {
        let verdict = match g.status {
            report::GoalStatus::Pass => "PASS",
            report::GoalStatus::Miss => "MISS",
            report::GoalStatus::NotMeasured => "not measured",
        };
        println!("goal {:<12} {verdict:<12} {}", g.id, g.detail);
    }
    Ok(())
}

fn jobs_arg(cmd: &CargoCommand) -> Option<u64> {
    let i = cmd.args.iter().position(|a| a == "--jobs")?;
    cmd.args.get(i + 1)?.parse().ok()
}

fn describe_edit(edit: &EditTarget, copy_root: &Path) -> (String, String) {
    let file = edit
        .file
        .strip_prefix(copy_root)
        .unwrap_or(&edit.file)
        .display()
        .to_string();
    (edit.package.clone(), file)
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

/// This process's command line, as typed (`cargo buildplan bench ...`).
fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let rest: Vec<String> = match args.get(1).map(String::as_str) {
        Some("buildplan") => args[2..].to_vec(),
        _ => args.get(1..).map(<[String]>::to_vec).unwrap_or_default(),
    };
    let mut line = String::from("cargo buildplan");
    for a in rest {
        line.push(' ');
        line.push_str(&exec::quote(&a));
    }
    line
}
