//! `cargo buildplan bench`: build time and peak memory of a workspace's
//! package across scenarios (clean, no-op, edits, cached dependencies,
//! link) and configurations: by default the workspace as shipped (plain
//! cargo, its own `release` profile) against the plan's tuned CI profile.
//!
//! The workspace is copied into a work directory first, so that the edits
//! the scenarios make never touch the user's tree; each configuration
//! builds into its own target directory there. Results go to JSON
//! (`--json`) and to a Markdown report (`--markdown`) that evaluates the
//! goals on the same run.
//!
//! - [`setup`]: configurations and goals chosen from the policy and the
//!   options, the copy, the memory check, the machine's facts.
//! - [`config`]: the configurations and their cargo commands.
//! - [`goals`]: the goals and their evaluation; [`policy`]: the policy's
//!   `bench` table they come from.
//! - [`scenarios`]: what each scenario does, and running a configuration's.
//! - [`measure`]: running one command, its wall time and peak memory.
//! - [`duplicates`]: crates compiled twice, from cargo's JSON messages.
//! - [`workspace`]: the copy, the edited crates, the edits.
//! - [`report`]: the results document; [`markdown`]: the report; `output`:
//!   writing both and printing the figures.
//!
//! Bench sits on the core's public API (the plan, [`buildplan::build`],
//! [`buildplan::exec`]); nothing in the core imports it.

pub mod config;
pub mod duplicates;
pub mod goals;
pub mod markdown;
pub mod measure;
mod options;
mod output;
pub mod policy;
pub mod pull_request;
pub mod report;
pub mod scenarios;
pub mod setup;
pub mod workspace;

use std::path::Path;

use anyhow::Context;

use buildplan::error::Error;
use buildplan::exec::Machine;
use config::Config;
use measure::Cgroup;
use report::{Results, ScenarioInfo, Setup};
use scenarios::{run_config, select_scenarios, skipped, RunContext};

pub use options::Options;
pub use scenarios::SCENARIOS;

/// Measures nothing: reads earlier results from `from` and writes the
/// outputs `options` names (`json`, `markdown`), adding its notes.
pub fn regenerate(from: &Path, options: &Options) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(from)
        .map_err(|e| Error::invalid(format!("{}: {e}", from.display())))?;
    let mut results: Results = serde_json::from_str(&text).map_err(|e| {
        Error::invalid(format!("{}: not a bench results file: {e}", from.display()))
    })?;
    results.notes.extend(options.notes.iter().cloned());
    output::write_outputs(&results, options)
}

/// Runs the benchmark of the workspace at `manifest_path` (or the current
/// directory's) and writes its outputs. `Ok(false)`: a configuration was
/// refused before anything was built, because its memory estimate exceeds
/// the machine's memory (and `force` was not given).
pub fn run(manifest_path: Option<&Path>, args: &Options) -> anyhow::Result<bool> {
    if args.runs == 0 {
        return Err(Error::invalid("--runs must be at least 1").into());
    }
    if args.json.is_none() && args.markdown.is_none() {
        eprintln!("bench: note: neither --json nor --markdown given; results are only printed");
    }
    let scenarios = select_scenarios(&args.scenarios)?;
    // The plan is computed from the workspace as it is now (the same plan
    // `cargo buildplan plan` would write, without the feature audit), so
    // that a workspace without a plan file can be measured too.
    let planned = buildplan::plan::compute(manifest_path, buildplan::plan::AuditMode::Skip)?;
    let plan = &planned.plan;
    let source_root = planned.workspace.root.clone();
    let policy_file = planned.workspace.root_manifest.clone();
    let mut sel = setup::select(
        &planned.policy,
        &policy_file,
        setup::Choices {
            configs: &args.configs,
            defines: &args.defines,
            against: args.against.as_deref(),
            skip: &args.skip,
        },
    )?;

    let variant_name = args
        .variant
        .clone()
        .or_else(|| sel.policy.variant.clone())
        .unwrap_or_else(|| plan.workspace.default_variant.clone());
    let variant = plan.variants.get(&variant_name).ok_or_else(|| {
        Error::invalid(format!(
            "unknown variant `{variant_name}`; the plan has: {}",
            plan.variants.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let package = match args.package.clone().or_else(|| sel.policy.package.clone()) {
        Some(p) => p,
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
    setup::copy_or_sync(&source_root, &copy_root, std::slice::from_ref(&work))?;

    let leaf = workspace::edit_target(&copy_root, &package)?;
    let root_crate = workspace::most_depended_upon(plan, &package);
    let mut scenarios = scenarios;
    let mut notes: Vec<String> = args.notes.clone();
    notes.extend(sel.notes.iter().cloned());
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
    let pr_targets = if scenarios
        .iter()
        .any(|s| pull_request::SCENARIOS.contains(s))
    {
        let middle = root_crate
            .as_deref()
            .and_then(|b| pull_request::middle_member(plan, &package, b));
        Some(pull_request::Targets {
            top: leaf.clone(),
            middle: middle
                .map(|m| workspace::edit_target(&copy_root, &m))
                .transpose()?,
            bottom: root.clone(),
            members: pull_request::members_of(&copy_root)?,
            main_root: copy_root.clone(),
            work: work.clone(),
        })
    } else {
        None
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
    // deps-cached forgets every workspace member (those the build does not
    // compile have no fingerprint to forget).
    let units: Vec<String> = plan.packages.keys().cloned().collect();

    // Cargo's configuration as the copy's builds read it: the workspace's
    // files, $CARGO_HOME, and this environment without what the benchmark
    // removes from it.
    let mut inputs = buildplan::config::run_inputs(&copy_root)?;
    inputs.env.retain(|k, _| !config::env_removed(k));
    let cargo_config = buildplan::cargo_config::load(&inputs)?;
    let resolve_ctx = config::Context {
        plan,
        copy_root: &copy_root,
        package: &package,
        variant: &variant_name,
        machine: &machine,
        cargo_config: &cargo_config,
        unified: args.unified,
    };
    let mut configs: Vec<Config> = Vec::new();
    for spec in &sel.configs {
        let target_dir = work.join("targets").join(&spec.name);
        configs.push(config::resolve(spec, &resolve_ctx, &target_dir)?);
    }
    if !setup::check_memory(
        plan,
        &copy_root,
        &package,
        &variant_name,
        &sel.configs,
        &machine,
        args.force,
    )? {
        return Ok(false);
    }
    if pr_targets.is_some() && !sel.goals.iter().any(|g| g.scenario.starts_with("pr-")) {
        let names: Vec<String> = configs.iter().map(|c| c.name.clone()).collect();
        sel.goals.extend(goals::pull_request(&names));
    }
    if args.dry_run {
        for c in &configs {
            let kind = if c.planned { "planned" } else { "shipped" };
            println!(
                "config {} ({kind}, profile {}, linker: {})",
                c.name, c.profile, c.linker
            );
            println!("  {}", c.command);
        }
        for g in &sel.goals {
            println!("goal {}: {}", g.id, g.text);
        }
        println!("scenarios: {}", scenarios.join(", "));
        let pr = pr_targets.as_ref();
        for (what, edit) in [
            ("leaf", Some(&leaf)),
            ("root", root.as_ref()),
            ("pr-middle", pr.and_then(|p| p.middle.as_ref())),
        ] {
            if let Some(e) = edit {
                let (crate_name, file) = setup::describe_edit(e, &copy_root);
                println!("{what} edits {crate_name} ({file})");
            }
        }
        return Ok(true);
    }

    let cgroup = Cgroup::detect();
    let jobs = configs
        .iter()
        .filter(|c| c.planned)
        .find_map(|c| setup::jobs_arg(c.cargo.as_ref()?));

    let started_at = report::utc_now();
    let load_start = measure::load_average();
    let log = work.join("bench.log");
    eprintln!("bench: cargo output goes to {}", log.display());
    let cells = configs
        .iter()
        .map(|c| {
            scenarios
                .iter()
                .filter(|s| !skipped(&sel.skip, &c.name, s))
                .count()
        })
        .sum::<usize>();
    let mut results = Results {
        format: report::RESULTS_FORMAT,
        generator: format!("cargo-buildplan {} bench", env!("CARGO_PKG_VERSION")),
        started_at,
        finished_at: String::new(),
        command_line: setup::command_line(),
        machine: setup::machine_info(&machine, cgroup.as_ref(), load_start),
        setup: Setup {
            manifest: source_root.join("Cargo.toml").display().to_string(),
            package: package.clone(),
            variant: variant_name.clone(),
            runs: args.runs,
            jobs,
            mem_per_job_mib: plan.workspace.mem_per_job_mib,
            leaf: Some(setup::describe_edit(&leaf, &copy_root)),
            root: root.as_ref().map(|r| setup::describe_edit(r, &copy_root)),
            workspace_units: units.clone(),
            against: sel.against.clone(),
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
    let ctx_run = RunContext {
        pr: pr_targets.as_ref(),
        binaries: &binaries,
        units: &units,
        leaf: &leaf,
        root: root.as_ref(),
        runs: args.runs,
        log: &log,
        cgroup: cgroup.as_ref(),
    };
    let skip = &sel.skip;
    for c in &configs {
        let skip_here = |s: &str| skipped(skip, &c.name, s);
        run_config(&ctx_run, c, &scenarios, &skip_here, &mut |m| {
            // Written after every cell, so that a run stopped early still
            // leaves its figures behind, marked as partial.
            results.measurements.push(m);
            results.finished_at = report::utc_now();
            results.goals = goals::evaluation::evaluate(&sel.goals, &results.measurements);
            results.notes = notes.clone();
            results.notes.push(format!(
                "PARTIAL RESULTS: {} of {cells} cells measured so far; the run was still going or \
                 was stopped.",
                results.measurements.len()
            ));
            output::write_files(&results, args)
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
    results.goals = goals::evaluation::evaluate(&sel.goals, &results.measurements);
    output::write_outputs(&results, args)?;
    Ok(true)
}
