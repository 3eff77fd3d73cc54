//! `cargo-buildplan-bench` (run as `cargo buildplan bench`): build time and
//! peak memory of a workspace's package, as shipped against the plan's tuned
//! builds. Options are parsed here; the measuring is the library
//! ([`buildplan_bench`]). Scenarios, configurations, goals and examples:
//! docs/bench.md.
//!
//! Exit codes: 0 every goal met (or nothing to judge); 1 a goal missed or a
//! configuration refused; 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser};

use buildplan::error::Outcome;
use buildplan_bench::Options;

/// Build benchmarks: the workspace as shipped against the plan's tuned
/// builds (scenarios, configurations and goals: docs/bench.md).
#[derive(Debug, Parser)]
#[command(
    name = "cargo-buildplan-bench",
    bin_name = "cargo buildplan bench",
    version
)]
struct Cli {
    /// Path to the workspace's root Cargo.toml [default: found from the current directory]
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    #[command(flatten)]
    args: BenchArgs,
}

/// Arguments of `bench`.
#[derive(Debug, Clone, Args)]
struct BenchArgs {
    /// Package whose build is measured [default: the policy's bench
    /// `package`, else the variant's first root with a binary].
    #[arg(long)]
    package: Option<String>,
    /// Variant to measure [default: the policy's bench `variant`, else the
    /// plan's default variant].
    #[arg(long)]
    variant: Option<String>,
    /// Runs per scenario and configuration.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Only these scenarios (comma-separated) [default: all].
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Only these configurations, by name (comma-separated) [default: all
    /// known: the policy's, else `tuned` and `shipped`, plus --define's].
    #[arg(long, alias = "config", value_delimiter = ',', value_name = "NAME")]
    configs: Vec<String>,
    /// Define a configuration (repeatable): NAME=shipped:PROFILE (plain
    /// cargo, the workspace's own settings) or NAME=planned:PROFILE[:LINKER]
    /// (the plan's command; LINKER: mold, lld, bfd or default). Replaces a
    /// known one of the same name.
    #[arg(long, value_name = "NAME=KIND:PROFILE[:LINKER]")]
    define: Vec<String>,
    /// The configuration the default goals compare with [default: the
    /// policy's `against`, else `shipped`].
    #[arg(long, value_name = "NAME")]
    against: Option<String>,
    /// Measure a configuration even when its memory estimate exceeds this
    /// machine's memory.
    #[arg(long)]
    force: bool,
    /// Planned configurations build the variant's unified build, as `build`
    /// does, not the package alone (docs/bench.md).
    #[arg(long)]
    unified: bool,
    /// Build nothing: copy the workspace, print each configuration's
    /// command and memory estimate, the goals and the scenarios, and stop.
    #[arg(long, conflicts_with = "from_json")]
    dry_run: bool,
    /// Leave out these cells, as CONFIG:SCENARIO (comma-separated; either
    /// side may be `*`), e.g. `shipped:link` to save a fat-LTO rebuild.
    #[arg(long, value_delimiter = ',', value_name = "CONFIG:SCENARIO")]
    skip: Vec<String>,
    /// Write JSON results here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Regenerate this Markdown report (e.g. BENCHMARKS.md).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Work in this directory (a copy of the workspace is made there)
    /// [default: a temporary directory, removed afterwards].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// A caveat to record with the results (repeatable), e.g. other work
    /// running on the machine.
    #[arg(long, value_name = "TEXT")]
    note: Vec<String>,
    /// Measure nothing: read these earlier results and only write the
    /// `--json` and `--markdown` outputs from them.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["package", "variant", "scenarios", "configs", "define", "against", "skip", "work_dir"])]
    from_json: Option<PathBuf>,
}

fn main() -> ExitCode {
    // Run as `cargo buildplan bench ...` through `cargo-buildplan`, or as
    // `cargo buildplan-bench ...` by cargo: drop the subcommand name.
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    while argv
        .get(1)
        .is_some_and(|a| a == "buildplan" || a == "bench" || a == "buildplan-bench")
    {
        argv.remove(1);
    }
    // A usage error exits 2, `--help` and `--version` 0 (clap's codes).
    Outcome::exit(run(&Cli::parse_from(argv)))
}

/// Measures (or, with `--from-json`, only regenerates the outputs); failed
/// when a goal was missed or a configuration refused.
fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let args = &cli.args;
    let options = Options {
        package: args.package.clone(),
        variant: args.variant.clone(),
        runs: args.runs,
        scenarios: args.scenarios.clone(),
        configs: args.configs.clone(),
        defines: args.define.clone(),
        against: args.against.clone(),
        force: args.force,
        unified: args.unified,
        dry_run: args.dry_run,
        skip: args.skip.clone(),
        json: args.json.clone(),
        markdown: args.markdown.clone(),
        work_dir: args.work_dir.clone(),
        notes: args.note.clone(),
    };
    let met = match &args.from_json {
        Some(from) => {
            buildplan_bench::regenerate(from, &options)?;
            true
        }
        None => buildplan_bench::run(cli.manifest_path.as_deref(), &options)?,
    };
    Ok(Outcome::failed_if(!met))
}
