//! The command line (clap): the argument types of every subcommand, turned
//! into plain arguments for the core by [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Turn a Cargo workspace into one build plan (nix/plan.json), and build
/// with it (helper/README.md). Exit status: 0 success; 1 a check or gate
/// failed; 2 bad input.
#[derive(Debug, Parser)]
#[command(name = "cargo-buildplan", bin_name = "cargo buildplan", version)]
pub struct Cli {
    /// Path to the workspace's root Cargo.toml [default: found from the current directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the plan and write it (atomically) to the policy's output file
    Plan {
        /// Write here instead of the policy's output path.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Skip the feature audit (which runs cargo once per package).
        #[arg(long)]
        no_audit: bool,
    },
    /// Exit non-zero, with a diff, if the plan file is out of date
    Check {
        /// Check this file instead of the policy's output path.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
    },
    /// Show what one package gets per variant, target and profile
    Explain {
        /// The workspace package to explain.
        package: String,
    },
    /// Name the workspace's own settings that cost build time and buy no runtime
    Doctor(DoctorArgs),
    /// Report third-party crates a variant would compile twice with other features
    Audit(AuditArgs),
    /// Run cargo with exactly the plan's flags (for people without Nix)
    Build(BuildArgs),
    /// Build benchmarks (runs `cargo-buildplan-bench`; see its --help)
    #[command(disable_help_flag = true)]
    Bench {
        /// Arguments passed to `cargo-buildplan-bench` unchanged.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Why each unit of a build compiled, from cargo's `Dirty` lines (`-v`)
    Why(WhyArgs),
    /// Refresh nix/base.lock (the dependency base) from Cargo.lock
    Rebase {
        /// Change nothing: exit 1 when nix/base.lock is missing or no longer fits.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Default, Args)]
pub struct WhyArgs {
    /// Fail (exit 1) when a third-party crate was compiled.
    #[arg(long)]
    pub fresh: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Explain a saved build: its `cargo -v` standard error (needs --messages).
    #[arg(long, value_name = "FILE", requires = "messages")]
    pub log: Option<PathBuf>,
    /// The saved build's standard output (cargo's JSON messages).
    #[arg(long, value_name = "FILE", requires = "log")]
    pub messages: Option<PathBuf>,
    /// cargo's subcommand and arguments [default: build].
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Write the fixes into the files the settings live in.
    #[arg(long)]
    pub write: bool,
    /// With --write, also write the trade-offs' fixes.
    #[arg(long, requires = "write")]
    pub trade_offs: bool,
    /// Exit 1 when there is any finding (for CI).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit only this variant [default: every variant].
    #[arg(long)]
    pub variant: Option<String>,
    /// The freshness gate instead: `why --fresh`.
    #[arg(long, conflicts_with = "variant")]
    pub fresh: bool,
    /// With --fresh: cargo's subcommand and arguments [default: build].
    #[arg(last = true, requires = "fresh")]
    pub cargo_args: Vec<String>,
    /// Run the variant's builds and fail when a third-party crate compiled twice.
    #[arg(long, conflicts_with = "fresh")]
    pub compiles: bool,
    /// With --compiles: each root alone, as a build without the plan does.
    #[arg(long, requires = "compiles")]
    pub as_shipped: bool,
    /// With --compiles: `cargo build` instead of `cargo check`.
    #[arg(long, requires = "compiles")]
    pub build: bool,
    /// With --compiles: the profile [default: the plan's default profile].
    #[arg(long, requires = "compiles")]
    pub profile: Option<String>,
    /// With --compiles: the target directory [default: a scratch one].
    #[arg(long, requires = "compiles")]
    pub target_dir: Option<PathBuf>,
    /// With --compiles: also write cargo's JSON messages to this file.
    #[arg(long, requires = "compiles")]
    pub messages: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The workspace package to build.
    pub package: String,
    /// Feature variant [default: the plan's default variant].
    #[arg(long)]
    pub variant: Option<String>,
    /// Target name from the plan (`host`, or a triple) [default: host].
    #[arg(long)]
    pub target: Option<String>,
    /// Cargo profile [default: the plan's default profile].
    #[arg(long)]
    pub profile: Option<String>,
    /// Print the cargo command and environment instead of running it.
    #[arg(long)]
    pub dry_run: bool,
    /// Build even when the memory estimate says it will not fit.
    #[arg(long)]
    pub force: bool,
    /// The package alone with its own features, not the unified build.
    #[arg(long)]
    pub alone: bool,
    /// Build reproducibly also for a profile not inheriting `release`.
    #[arg(long, conflicts_with = "no_reproducible")]
    pub reproducible: bool,
    /// Do not add the reproducible-build flags to a release-like profile.
    #[arg(long)]
    pub no_reproducible: bool,
    /// Start from saved dependency artifacts in DIR, and save them there.
    #[arg(long, value_name = "DIR")]
    pub deps_cache: Option<PathBuf>,
    /// With --deps-cache: keep the workspace members too (docs/deps-cache.md).
    #[arg(long, requires = "deps_cache")]
    pub members: bool,
    /// Extra arguments passed to cargo after the plan's own.
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}
