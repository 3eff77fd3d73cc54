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
//! - [`measure`]: running one command, its wall time and peak memory.
//! - [`workspace`]: the copy, the edited crates, the edits.
//! - [`report`]: the results document, the goals, the Markdown.

pub mod config;
pub mod measure;
pub mod report;
pub mod workspace;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::build::{self, CargoCommand, UsageError};
use crate::cli::{BenchArgs, GlobalArgs};
use config::Config;
use measure::{Cgroup, Label, Sample};
use report::{Measurement, Results, ScenarioInfo, Setup};
use workspace::{EditTarget, SourceEdit};

/// Every scenario, in run order (each leaves the target directory in the
/// state the next one starts from, as far as possible).
pub const SCENARIOS: &[&str] = &[
    "clean",
    "noop",
    "leaf",
    "root",
    "deps-cached",
    "link",
    "link-bfd",
];

/// File in the workspace copy that marks it as ours (so that a re-run may
/// delete it).
const COPY_MARKER: &str = ".buildplan-bench-copy";

/// How each scenario is produced, for the report.
pub fn method(scenario: &str) -> &'static str {
    match scenario {
        "clean" => "`cargo build` with an empty target directory (removed before each run).",
        "noop" => "`cargo build` again right after a complete build: nothing to do but check fingerprints.",
        "leaf" => "a real code edit of the measured package (a new function returning a different constant \
                   is appended to its library root, or binary root if it has no library; restored after), \
                   then `cargo build`.",
        "root" => "the same edit in the workspace crate the most members depend on (among the measured \
                   package's dependencies), then `cargo build`: everything above it recompiles.",
        "deps-cached" => "after a complete build, the fingerprints of the measured package and of every \
                          workspace member it depends on are removed, and the incremental state (not \
                          `cargo clean -p`, which also deletes dependencies that share a name with a \
                          test target), then `cargo build`: third-party dependencies are cached, \
                          workspace crates build from scratch (what CI sees with a binary cache of \
                          dependencies).",
        "link" => "the final link alone. After a complete build, `cargo rustc --bin <bin> -- --print \
                   link-args -C save-temps` rebuilds the binary crate once, printing the exact linker \
                   command rustc runs and keeping its inputs (objects, rlibs, rustc's temporary \
                   directory); that command is then re-run as is and timed. No compilation is \
                   included (with LTO profiles the LTO work happens in rustc, before this step).",
        "link-bfd" => "the command recorded for `link`, on the same inputs, with GNU ld (`-fuse-ld=bfd`, \
                       the system linker) in place of the configuration's linker: a like-for-like \
                       comparison of linkers. Measured only where a C compiler driver runs the link.",
        _ => "",
    }
}

/// Validates `--scenarios` (empty means all), in run order.
pub fn select_scenarios(requested: &[String]) -> anyhow::Result<Vec<&'static str>> {
    for r in requested {
        if !SCENARIOS.contains(&r.trim()) {
            return Err(UsageError(format!(
                "unknown scenario `{r}`; known: {}",
                SCENARIOS.join(", ")
            ))
            .into());
        }
    }
    Ok(SCENARIOS
        .iter()
        .copied()
        .filter(|s| requested.is_empty() || requested.iter().any(|r| r.trim() == *s))
        .collect())
}

/// Runs `bench`.
pub fn run(global: &GlobalArgs, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    match run_inner(global, args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Ok(build::report_error("bench", &e)),
    }
}

fn run_inner(global: &GlobalArgs, args: &BenchArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.from_json {
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        let mut results: Results = serde_json::from_str(&text).map_err(|e| {
            UsageError(format!("{}: not a bench results file: {e}", path.display()))
        })?;
        results.notes.extend(args.note.iter().cloned());
        return write_outputs(&results, args);
    }
    if args.runs == 0 {
        return Err(UsageError("--runs must be at least 1".into()).into());
    }
    if args.json.is_none() && args.markdown.is_none() {
        eprintln!("bench: note: neither --json nor --markdown given; results are only printed");
    }
    let scenarios = select_scenarios(&args.scenarios)?;
    let config_names = config::select(&args.configs)?;
    let skip = parse_skip(&args.skip)?;
    let ctx = build::load_context(global)?;
    let plan = &ctx.plan;
    let variant_name = args
        .variant
        .clone()
        .unwrap_or_else(|| plan.workspace.default_variant.clone());
    let variant = plan.variants.get(&variant_name).ok_or_else(|| {
        UsageError(format!(
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
                UsageError(format!(
                    "variant `{variant_name}` has no root package with a binary; name one with --package"
                ))
            })?,
    };
    if !variant.builds.contains_key(&package) {
        return Err(UsageError(format!(
            "package `{package}` is not a root of variant `{variant_name}` (its roots: {})",
            variant.packages.join(", ")
        ))
        .into());
    }
    let machine = build::detect_machine()?;
    let auto_linker = build::choose_host_linker(&machine.path);

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
            return Err(UsageError(format!(
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
    let mut notes: Vec<String> = args.note.clone();
    let root = match &root_crate {
        Some(name) => Some(workspace::edit_target(&copy_root, name)?),
        None => {
            if !args.scenarios.is_empty() && scenarios.contains(&"root") {
                return Err(UsageError(format!(
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
            return Err(UsageError(format!(
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
    let cargo_program = CargoCommand::cargo_program();
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
            mem_total_mib: mem_total_mib(),
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
                method: method(s).to_string(),
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

/// Parses `--skip` values: `config:scenario`, either side may be `*`.
pub fn parse_skip(values: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| {
            let (c, s) = v.trim().split_once(':').ok_or_else(|| {
                UsageError(format!(
                    "--skip `{v}`: expected CONFIG:SCENARIO (either may be `*`)"
                ))
            })?;
            if c != "*" && !config::ALL.contains(&c) {
                return Err(
                    UsageError(format!("--skip `{v}`: unknown configuration `{c}`")).into(),
                );
            }
            if s != "*" && !SCENARIOS.contains(&s) {
                return Err(UsageError(format!("--skip `{v}`: unknown scenario `{s}`")).into());
            }
            Ok((c.to_string(), s.to_string()))
        })
        .collect()
}

/// Whether a cell is left out by `--skip`.
fn skipped(skip: &[(String, String)], config: &str, scenario: &str) -> bool {
    skip.iter()
        .any(|(c, s)| (c == "*" || c == config) && (s == "*" || s == scenario))
}

/// Writes the JSON and Markdown outputs.
fn write_files(results: &Results, args: &BenchArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(results)?;
        text.push('\n');
        workspace::write_atomic(path, &text)?;
    }
    if let Some(path) = &args.markdown {
        let existing = std::fs::read_to_string(path).ok();
        let text = report::render_markdown(results, existing.as_deref());
        workspace::write_atomic(path, &text)?;
    }
    Ok(())
}

/// Writes the JSON and Markdown outputs and prints the figures and goals.
fn write_outputs(results: &Results, args: &BenchArgs) -> anyhow::Result<()> {
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

/// What every scenario of a configuration needs.
struct RunContext<'a> {
    binaries: &'a [String],
    units: &'a [String],
    leaf: &'a EditTarget,
    root: Option<&'a EditTarget>,
    runs: u32,
    log: &'a Path,
    cgroup: Option<&'a Cgroup>,
}

/// Runs every scenario of one configuration.
fn run_config(
    ctx: &RunContext<'_>,
    config: &Config,
    scenarios: &[&str],
    skip: &dyn Fn(&str) -> bool,
    done: &mut dyn FnMut(Measurement) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let cargo = config
        .cargo
        .as_ref()
        .context("configuration without a command")?;
    let target_dir = PathBuf::from(
        cargo
            .env
            .get("CARGO_TARGET_DIR")
            .context("configuration without a target directory")?,
    );
    let label = |scenario: &str, step: String| Label {
        scenario: scenario.to_string(),
        config: config.name.clone(),
        step,
    };
    let mut built = false;
    let mut edit_number = 0u64;
    // The link command recorded by `link`, whose inputs stay on disk until
    // the next build: `link-bfd` re-uses it (and must not build first).
    let mut recorded_link: Option<CargoCommand> = None;
    for &scenario in scenarios.iter().filter(|s| !skip(s)) {
        let reuse_link = scenario == "link-bfd" && recorded_link.is_some();
        let needs_build = scenario != "clean" && !reuse_link;
        if needs_build && !built {
            recorded_link = None;
            measure::run_step(cargo, &label(scenario, "preparing: build".into()), ctx.log)?;
        }
        let mut edit = match scenario {
            "leaf" => Some(SourceEdit::new(&ctx.leaf.file)?),
            "root" => match ctx.root {
                Some(r) => Some(SourceEdit::new(&r.file)?),
                None => continue,
            },
            _ => None,
        };
        let link = match (scenario, ctx.binaries.first()) {
            ("link" | "link-bfd", Some(bin)) => {
                let recorded = match recorded_link.take() {
                    Some(cmd) if reuse_link => cmd,
                    _ => {
                        eprintln!(
                            "bench: {:<12} {:<18} preparing: recording the link command of `{bin}`",
                            scenario, config.name
                        );
                        link_command(cargo, bin, &target_dir, &config.profile, ctx.log)?
                    }
                };
                recorded_link = Some(recorded.clone());
                if scenario == "link" {
                    Some(recorded)
                } else if let Some(bfd) = with_gnu_ld(&recorded) {
                    Some(bfd)
                } else {
                    eprintln!(
                        "bench: {:<12} {:<18} skipped: `{}` is not a C compiler driver, so the \
                         linker cannot be swapped with -fuse-ld",
                        scenario, config.name, recorded.program
                    );
                    continue;
                }
            }
            _ => None,
        };
        let mut samples: Vec<Sample> = Vec::new();
        for i in 1..=ctx.runs {
            let step = format!("run {i}/{}", ctx.runs);
            match scenario {
                "clean" => remove_dir_if_exists(&target_dir)?,
                "leaf" | "root" => {
                    if let Some(e) = edit.as_mut() {
                        e.apply(edit_number)?;
                        edit_number += 1;
                    }
                }
                "deps-cached" => {
                    let dir = target_dir.join(config::profile_dir(&config.profile));
                    forget_workspace_units(&dir, ctx.units, ctx.log)?;
                }
                _ => {}
            }
            let measured = link.as_ref().unwrap_or(cargo);
            let sample =
                measure::run_measured(measured, &label(scenario, step), ctx.log, ctx.cgroup)?;
            samples.push(sample);
        }
        built = true;
        if let Some(mut e) = edit.take() {
            e.restore()?;
            built = false;
        }
        if link.is_some() {
            // The binary crate was built with extra rustc flags: the next
            // `cargo build` rebuilds it.
            built = false;
        }
        done(Measurement::new(scenario, &config.name, samples))?;
    }
    Ok(())
}

/// Records the linker command of `bin`: `cargo rustc` with the
/// configuration's arguments, printing the link arguments and keeping the
/// linker's inputs (`-C save-temps`).
fn link_command(
    cargo: &CargoCommand,
    bin: &str,
    target_dir: &Path,
    profile: &str,
    log: &Path,
) -> anyhow::Result<CargoCommand> {
    let mut args = cargo.args.clone();
    if let Some(first) = args.first_mut() {
        "rustc".clone_into(first);
    }
    args.extend(
        [
            "--bin",
            bin,
            "--",
            "--print",
            "link-args",
            "-C",
            "save-temps",
        ]
        .map(String::from),
    );
    let cmd = CargoCommand {
        args,
        ..cargo.clone()
    };
    for _attempt in 0..2 {
        let out = cmd
            .to_command()
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not run `{}`", cmd.program))?;
        let mut file = measure::append_log(log, &format!("\n$ {}\n", cmd.shell_line()))?;
        std::io::Write::write_all(&mut file, &out.stderr)?;
        if !out.status.success() {
            anyhow::bail!(
                "`{}` failed ({}):\n{}",
                cmd.shell_line(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty()) {
            return parse_link_line(line, &cargo.cwd)
                .with_context(|| format!("cannot parse the link command rustc printed: {line}"));
        }
        // Nothing was linked (up to date), so nothing was printed: remove
        // the binary and try once more.
        remove_binaries(target_dir, profile, &[bin.to_string()])?;
    }
    anyhow::bail!("rustc printed no link command for `{bin}`")
}

/// The recorded link command with GNU ld in place of the configuration's
/// linker: every `-fuse-ld=` and the `-B` directory of rustc's self-contained
/// `gcc-ld` wrapper are dropped and `-fuse-ld=bfd` is added. `None` when the
/// program is not a C compiler driver (`cc`, `gcc`, `clang`, and their
/// prefixed or versioned names), which is what reads `-fuse-ld`.
pub fn with_gnu_ld(link: &CargoCommand) -> Option<CargoCommand> {
    let name = Path::new(&link.program).file_name()?.to_str()?;
    let driver = ["cc", "gcc", "clang", "c++", "g++", "clang++"]
        .iter()
        .any(|d| {
            name == *d || name.ends_with(&format!("-{d}")) || name.starts_with(&format!("{d}-"))
        });
    if !driver {
        return None;
    }
    let mut args: Vec<String> = link
        .args
        .iter()
        .filter(|a| !a.starts_with("-fuse-ld="))
        .filter(|a| !(a.starts_with("-B") && a.trim_end_matches('/').ends_with("gcc-ld")))
        .cloned()
        .collect();
    args.push("-fuse-ld=bfd".into());
    Some(CargoCommand {
        args,
        ..link.clone()
    })
}

/// Parses the command rustc prints for `--print link-args`:
/// `VAR="value" ... "cc" "arg" ...`, quoted like a shell would read it.
pub fn parse_link_line(line: &str, cwd: &Path) -> Option<CargoCommand> {
    let words = shlex::split(line.trim())?;
    let mut words = words.into_iter().peekable();
    let mut env = std::collections::BTreeMap::new();
    while let Some((key, value)) = words.peek().and_then(|w| w.split_once('=')) {
        let is_name = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            break;
        }
        env.insert(key.to_string(), value.to_string());
        words.next();
    }
    let program = words.next()?;
    Some(CargoCommand {
        program,
        args: words.collect(),
        env,
        env_remove: Vec::new(),
        cwd: cwd.to_path_buf(),
    })
}

/// `cargo clean -p` for the workspace units, with the configuration's
/// profile, environment and target directory.
/// Makes cargo rebuild the workspace `packages` (and nothing else) from
/// scratch in the profile directory `dir`: removes their fingerprint
/// directories (`.fingerprint/<package>-<16 hex digits>`; a unit without a
/// fingerprint is rebuilt, and so is every unit depending on it) and the
/// whole `incremental/` directory (cargo keeps incremental state only for
/// local packages, never for registry dependencies, and a cache of
/// dependencies would not hold it).
///
/// Not `cargo clean -p`: it removes files by *target* name, so a test
/// target named like a dependency (`tests/log.rs` beside the `log` crate)
/// also removes that dependency's artifacts, and the "cached" build then
/// recompiles it and all its dependents. Returns how many directories were
/// removed; none is an error (the scenario would measure nothing).
pub fn forget_workspace_units(
    dir: &Path,
    packages: &[String],
    log: &Path,
) -> anyhow::Result<usize> {
    let fingerprints = dir.join(".fingerprint");
    let entries = std::fs::read_dir(&fingerprints)
        .with_context(|| format!("reading {}", fingerprints.display()))?;
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((package, hash)) = name.rsplit_once('-') else {
            continue;
        };
        let is_hash = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        if is_hash && packages.iter().any(|p| p == package) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
            removed.push(name);
        }
    }
    if removed.is_empty() {
        anyhow::bail!(
            "no fingerprint of {} under {}: nothing to rebuild",
            packages.join(", "),
            fingerprints.display()
        );
    }
    removed.sort();
    remove_dir_if_exists(&dir.join("incremental"))?;
    measure::append_log(
        log,
        &format!(
            "\n$ # bench: removed the fingerprints {} under {}, and {}\n",
            removed.join(" "),
            fingerprints.display(),
            dir.join("incremental").display()
        ),
    )?;
    Ok(removed.len())
}

/// Deletes the package's final binaries; returns how many files went.
fn remove_binaries(target_dir: &Path, profile: &str, binaries: &[String]) -> anyhow::Result<usize> {
    let dir = target_dir.join(config::profile_dir(profile));
    let mut removed = 0;
    for bin in binaries {
        let uplifted = dir.join(bin);
        if uplifted.exists() {
            std::fs::remove_file(&uplifted)?;
            removed += 1;
        }
        let prefix = format!("{}-", bin.replace('-', "_"));
        if let Ok(entries) = std::fs::read_dir(dir.join("deps")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_binary = name.strip_prefix(&prefix).is_some_and(|hash| {
                    !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())
                });
                if is_binary {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
    }
    Ok(removed)
}

fn remove_dir_if_exists(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", dir.display())),
    }
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

fn mem_total_mib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024)
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
        line.push_str(&build::quote(&a));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_selection() {
        assert_eq!(select_scenarios(&[]).unwrap(), SCENARIOS);
        assert_eq!(
            select_scenarios(&["link".into(), "noop".into()]).unwrap(),
            ["noop", "link"]
        );
        let err = select_scenarios(&["touch".into()]).unwrap_err();
        assert!(err.to_string().contains("unknown scenario `touch`"));
        let skip = parse_skip(&["baseline:link".into(), "*:root".into()]).unwrap();
        assert!(skipped(&skip, "baseline", "link"));
        assert!(skipped(&skip, "dev", "root"));
        assert!(!skipped(&skip, "dev", "link"));
        assert!(parse_skip(&["baseline".into()]).is_err());
        assert!(parse_skip(&["base:link".into()]).is_err());
        assert!(parse_skip(&["dev:touch".into()]).is_err());
        for s in SCENARIOS {
            assert!(!method(s).is_empty());
        }
    }

    #[test]
    fn link_lines_are_parsed() {
        let line = r#"LC_ALL="C" PATH="/a b:/usr/bin" VSLANG="1033" "cc" "-m64" "/t/x.o" "-Wl,--version-script=/t/v" "-fuse-ld=mold" "-o" "/t/app-1""#;
        let cmd = parse_link_line(line, Path::new("/w")).unwrap();
        assert_eq!(cmd.program, "cc");
        assert_eq!(
            cmd.args,
            [
                "-m64",
                "/t/x.o",
                "-Wl,--version-script=/t/v",
                "-fuse-ld=mold",
                "-o",
                "/t/app-1"
            ]
        );
        assert_eq!(cmd.env.len(), 3);
        assert_eq!(cmd.env["PATH"], "/a b:/usr/bin");
        assert_eq!(cmd.cwd, Path::new("/w"));
        assert!(parse_link_line("\"unterminated", Path::new("/")).is_none());
        assert!(parse_link_line("A=1", Path::new("/")).is_none());
    }

    #[test]
    fn gnu_ld_replaces_the_configured_linker() {
        let mold = parse_link_line(
            r#""cc" "-m64" "/t/x.o" "-fuse-ld=mold" "-o" "/t/app""#,
            Path::new("/w"),
        )
        .unwrap();
        let bfd = with_gnu_ld(&mold).unwrap();
        assert_eq!(bfd.program, "cc");
        assert_eq!(bfd.args, ["-m64", "/t/x.o", "-o", "/t/app", "-fuse-ld=bfd"]);
        assert_eq!(bfd.cwd, mold.cwd);

        // rustc's self-contained rust-lld: a `gcc-ld` directory and -fuse-ld=lld.
        let lld = parse_link_line(
            r#""/usr/bin/x86_64-linux-gnu-gcc" "/t/x.o" "-B/r/lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld" "-fuse-ld=lld" "-B/other""#,
            Path::new("/w"),
        )
        .unwrap();
        let bfd = with_gnu_ld(&lld).unwrap();
        assert_eq!(bfd.args, ["/t/x.o", "-B/other", "-fuse-ld=bfd"]);

        // A linker run directly cannot be swapped.
        let direct =
            parse_link_line(r#""rust-lld" "-flavor" "gnu" "/t/x.o""#, Path::new("/w")).unwrap();
        assert!(with_gnu_ld(&direct).is_none());
        let clang = parse_link_line(r#""clang-14" "/t/x.o""#, Path::new("/w")).unwrap();
        assert!(with_gnu_ld(&clang).is_some());
    }

    #[test]
    fn forgetting_workspace_units_spares_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let fp = dir.path().join(".fingerprint");
        for d in [
            "smoke-core-0123456789abcdef",
            "smoke-core-fedcba9876543210",
            "smoke-app-00000000000000aa",
            "smoke-core-extra-0123456789abcdef",
            "itoa-0123456789abcdef",
            "smoke-core-notahash",
        ] {
            std::fs::create_dir_all(fp.join(d)).unwrap();
            std::fs::write(fp.join(d).join("lib-x"), "").unwrap();
        }
        let incremental = dir.path().join("incremental/smoke_core-1njszorudfcqn");
        std::fs::create_dir_all(&incremental).unwrap();
        let log = dir.path().join("log");
        let n =
            forget_workspace_units(dir.path(), &["smoke-core".into(), "smoke-app".into()], &log)
                .unwrap();
        assert_eq!(n, 3);
        let left: std::collections::BTreeSet<String> = std::fs::read_dir(&fp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left.into_iter().collect::<Vec<_>>(),
            [
                "itoa-0123456789abcdef",
                "smoke-core-extra-0123456789abcdef",
                "smoke-core-notahash"
            ]
        );
        assert!(!dir.path().join("incremental").exists());
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("smoke-app-00000000000000aa smoke-core-0123456789abcdef"),
            "{logged}"
        );
        // Nothing to forget is an error, not a silent no-op measurement.
        let err = forget_workspace_units(dir.path(), &["smoke-core".into()], &log).unwrap_err();
        assert!(err.to_string().contains("nothing to rebuild"), "{err}");
    }

    #[test]
    fn binaries_are_found_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let deps = dir.path().join("release-fast/deps");
        std::fs::create_dir_all(&deps).unwrap();
        for f in [
            "my_app-0123abcd",
            "my_app-0123abcd.d",
            "libmy_app-0123abcd.rlib",
            "my_app_extra-99",
        ] {
            std::fs::write(deps.join(f), "").unwrap();
        }
        std::fs::write(dir.path().join("release-fast/my-app"), "").unwrap();
        let n = remove_binaries(dir.path(), "release-fast", &["my-app".into()]).unwrap();
        assert_eq!(n, 2);
        assert!(deps.join("my_app-0123abcd.d").exists());
        assert!(deps.join("libmy_app-0123abcd.rlib").exists());
        assert!(deps.join("my_app_extra-99").exists());
        assert!(!deps.join("my_app-0123abcd").exists());
        assert_eq!(
            remove_binaries(dir.path(), "dev", &["my-app".into()]).unwrap(),
            0
        );
    }
}
