//! Command-line interface: the argument types of every subcommand (clap).
//!
//! Only this module, [`crate::commands`] and `main.rs` know about clap; the
//! commands turn these structs into plain arguments for the core.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Turn a Cargo workspace into one build plan, and build with it.
///
/// The plan (`nix/plan.json` by default) records, for every workspace
/// package, the features it gets in each variant (minimal, default, full),
/// the linker settings of each target (host, x86_64 and aarch64 musl), and
/// the exact profile overrides to hand cargo. The Nix flake and the `build`
/// and `bench` commands read only that file.
///
/// Policy comes from `[workspace.metadata.buildplan]` in the root
/// Cargo.toml; a workspace without one gets sensible defaults.
///
/// Typical use:
///
///   cargo buildplan plan                 # write nix/plan.json
///   cargo buildplan check                # fail if it is stale (CI)
///   cargo buildplan explain my-server    # what my-server gets, and why
///   cargo buildplan build my-server --variant full --profile release
///
/// Exit status: 0 on success; 1 when a command ran and its check or gate
/// failed (`check`: the plan is stale or missing; `audit`: a feature split;
/// `build`: cargo failed);
/// 2 on bad input (unknown package, variant or target, a misspelt policy
/// key, a malformed Cargo.toml, cargo not found). On any error an existing
/// plan file is left untouched.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-buildplan",
    bin_name = "cargo buildplan",
    version,
    verbatim_doc_comment
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the workspace's root Cargo.toml [default: found from the current directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the plan and write it (atomically) to the policy's output file
    ///
    /// Reads `cargo metadata`, the root Cargo.toml's `[profile.*]` tables and
    /// `[workspace.metadata.buildplan]`, then runs the feature audit (see
    /// `audit`) to fill each variant's `feature_splits`. The file is only
    /// rewritten when its content changes. Run it after every Cargo.toml
    /// edit and commit the result; `check` tells CI when someone forgot.
    #[command(verbatim_doc_comment)]
    Plan(PlanArgs),
    /// Exit non-zero, with a diff, if the plan file is out of date
    ///
    /// Recomputes the plan exactly as `plan` would (audit included) and
    /// compares it byte for byte with the file. Stale: prints a unified diff
    /// and exits 1. Missing: exits 1 and says how to create it. Cargo runs
    /// with --locked, so checking never changes Cargo.lock.
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// Show what one package gets per variant, target and profile
    ///
    /// For each variant: whether the package is a root, with which features
    /// and cargo arguments, or which roots pull it in. For each target: the
    /// linker, rustflags and environment. For each profile: every setting,
    /// marked when it is a per-package override or cargo's built-in default.
    #[command(verbatim_doc_comment)]
    Explain(ExplainArgs),
    /// Name the workspace's own settings that cost build time and buy no runtime
    ///
    /// Reads cargo's configuration as cargo does on this machine (the
    /// manifest's [profile.*], .cargo/config.toml files, $CARGO_HOME,
    /// CARGO_PROFILE_* variables) and names, with its source and cost:
    /// debug info that `strip` throws away; `incremental` in a release-like
    /// profile; more than 16 codegen units on a machine with up to 16 CPUs;
    /// fat LTO in the default release profile; optimised build scripts and
    /// proc-macros. Each fix is marked "no runtime change" or
    /// "trade-off". Nothing is written without --write, which edits the
    /// file the setting lives in (only fixes with no runtime change,
    /// unless --trade-offs). Exits 0 after advice; with --check, 1 when
    /// there is any finding.
    #[command(verbatim_doc_comment)]
    Doctor(DoctorArgs),
    /// Report third-party crates a variant would compile twice with other features
    ///
    /// Cargo unifies features over the packages of one invocation, so
    /// building a variant's roots together can give a dependency more
    /// features than building one root alone, and the second build then
    /// recompiles it. The audit resolves each root alone and all roots
    /// together with `cargo tree`, for every target triple in the plan, and
    /// lists each third-party package whose feature sets differ. A variant
    /// with several roots is built as one unified build by default (every
    /// root's invocation selects all roots), which resolves its splits; the
    /// audit says so, and exits 1 only for splits that are NOT resolved
    /// (unification turned off with `unify-features = false` or
    /// `variants.<v>.unify = false`, or two roots sharing a binary name).
    ///
    /// --compiles proves it from cargo's JSON messages: it runs the builds
    /// (the plan's, or --as-shipped each root alone) and exits 1 when a
    /// third-party crate was compiled twice with different features.
    #[command(verbatim_doc_comment)]
    Audit(AuditArgs),
    /// Run cargo with exactly the plan's flags (for people without Nix)
    ///
    /// Jobs: a -j given after `--`, CARGO_BUILD_JOBS or `[build] jobs` in
    /// cargo's config files is honoured, and only lowered (with a message)
    /// when the memory available now cannot give every job what one job of
    /// the profile needs; without one, jobs are capped by memory and CPUs.
    ///
    /// Memory: the profile's final step (the root binary's rustc) is
    /// estimated from its LTO, codegen units, debug info and the number of
    /// packages built. When it exceeds this machine's memory, the build is
    /// refused before anything is compiled (exit 1), naming the profiles
    /// that fit; --force builds anyway.
    #[command(verbatim_doc_comment)]
    Build(BuildArgs),
    /// Build benchmarks: the workspace as shipped against the plan's tuned
    /// builds (runs `cargo-buildplan-bench`, the separate buildplan-bench
    /// crate; `cargo buildplan bench --help` for its options)
    #[command(disable_help_flag = true)]
    Bench {
        /// Arguments passed to `cargo-buildplan-bench` unchanged.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Why each unit of a build compiled, from cargo's fingerprint log
    ///
    /// Runs `cargo <args>` (default `build`) in the workspace root with
    /// CARGO_LOG=cargo::core::compiler::fingerprint=info and JSON messages,
    /// and prints, for every unit cargo compiled, the first reason cargo
    /// found it dirty, grouped: changed source file, features, rustflags or
    /// profile, dependency, new version, missing artifact, mtime.
    ///
    /// --fresh is the gate for a build that should have reused the
    /// dependency artifacts (a member version bump, a workspace-only edit):
    /// exit 1 when any third-party crate compiled, naming it and why.
    ///
    ///   cargo buildplan why --fresh -- build --release -p my-server
    ///
    /// Exit status: 0 report printed (gate passed); 1 the gate failed or
    /// cargo failed; 2 bad input, e.g. a --log cargo did not write.
    #[command(verbatim_doc_comment)]
    Why(WhyArgs),
    /// Refresh nix/base.lock (the dependency base) from Cargo.lock
    ///
    /// nix/base.lock is the lock the base dependency layer is built from,
    /// in Nix and by `build --deps-cache`. It may lag behind Cargo.lock (a
    /// bumped crate is compiled on top of the base), but when a member's
    /// dependencies change it no longer fits: run this and commit it.
    /// Writes atomically; saved --deps-cache entries then miss as stale.
    ///
    ///   cargo buildplan rebase            # cp Cargo.lock nix/base.lock
    ///   cargo buildplan rebase --check    # CI: exit 1 when it no longer fits
    #[command(verbatim_doc_comment)]
    Rebase(RebaseArgs),
}

/// Arguments of `why`.
#[derive(Debug, Clone, Args)]
pub struct WhyArgs {
    /// Fail (exit 1) when a third-party crate was compiled.
    #[arg(long)]
    pub fresh: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Explain a saved build instead of running one: its standard error
    /// (the fingerprint log; needs --messages).
    #[arg(long, value_name = "FILE", requires = "messages")]
    pub log: Option<PathBuf>,
    /// The saved build's standard output (cargo's JSON messages).
    #[arg(long, value_name = "FILE", requires = "log")]
    pub messages: Option<PathBuf>,
    /// cargo's subcommand and arguments [default: build].
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

/// Arguments of `plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Write here instead of the policy's output path.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Skip the feature audit (which runs cargo once per package).
    #[arg(long)]
    pub no_audit: bool,
}

/// Arguments of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Check this file instead of the policy's output path.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
}

/// Arguments of `explain`.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The workspace package to explain.
    pub package: String,
}

/// Arguments of `doctor`.
#[derive(Debug, Clone, Args)]
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

/// Arguments of `audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Audit only this variant [default: every variant].
    #[arg(long)]
    pub variant: Option<String>,
    /// Instead of the feature audit, the freshness gate: run the build
    /// given after `--` (default `cargo build`) and fail (exit 1) when it
    /// compiled a third-party crate; the same as `why --fresh`.
    #[arg(long, conflicts_with = "variant")]
    pub fresh: bool,
    /// With --fresh: cargo's subcommand and arguments [default: build].
    #[arg(last = true, requires = "fresh")]
    pub cargo_args: Vec<String>,
    /// Instead of resolving features with cargo tree, run the plan's build
    /// of every root of the variant, in order, into one scratch target
    /// directory with --message-format json, and fail (exit 1) when a
    /// third-party crate was compiled more than once with different
    /// features. Uses `cargo check` unless --build is given.
    #[arg(long, conflicts_with = "fresh")]
    pub compiles: bool,
    /// With --compiles: build each root alone (`-p root` with its own
    /// features), as a build without the plan does; same profile and flags.
    #[arg(long, requires = "compiles")]
    pub as_shipped: bool,
    /// With --compiles: `cargo build` instead of `cargo check` (check is
    /// several times cheaper and compiles each feature set separately too;
    /// build also links and runs the final codegen).
    #[arg(long, requires = "compiles")]
    pub build: bool,
    /// With --compiles: the profile [default: the plan's default profile].
    #[arg(long, requires = "compiles")]
    pub profile: Option<String>,
    /// With --compiles: the target directory [default: a scratch directory,
    /// removed afterwards]. Artifacts already there are reused (fresh), so
    /// use an empty one to count every compile.
    #[arg(long, requires = "compiles")]
    pub target_dir: Option<PathBuf>,
    /// With --compiles: also write cargo's JSON messages of every build,
    /// concatenated, to this file (for `buildplan::compiles` or a later look).
    #[arg(long, requires = "compiles")]
    pub messages: Option<PathBuf>,
}

/// Arguments of `build`.
#[derive(Debug, Clone, Args)]
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
    /// Build even when the memory estimate says the final step will not
    /// fit in this machine's memory.
    #[arg(long)]
    pub force: bool,
    /// Select the package alone with its own features, not the variant's
    /// unified build.
    ///
    /// In a variant with several roots, `build` selects every root's
    /// features and compiles only this package's targets, so each
    /// third-party crate is compiled once for the whole variant and a later
    /// build of another root (or the flake's shared dependency derivation)
    /// finds it fresh. Features that only other roots need are compiled
    /// too. --alone compiles only what this package needs: cheapest for a
    /// one-off build of one binary, but a later build of another root in
    /// the same target directory recompiles the crates whose features
    /// differ (`cargo buildplan audit` lists them).
    #[arg(long)]
    pub alone: bool,
    /// Build reproducibly even for a profile that does not inherit from
    /// `release` (release-like profiles always are, unless
    /// --no-reproducible): path prefixes remapped, SOURCE_DATE_EPOCH set.
    #[arg(long, conflicts_with = "no_reproducible")]
    pub reproducible: bool,
    /// Do not add the reproducible-build flags to a release-like profile.
    #[arg(long)]
    pub no_reproducible: bool,
    /// Start from saved dependency artifacts in DIR, and save them there.
    ///
    /// Before building, when the target directory is empty, the entry whose
    /// key matches this build (toolchain, target, profile, variant, cargo
    /// settings, members, and the third-party packages of nix/base.lock, or
    /// Cargo.lock without one) is copied into it; cargo then compiles only
    /// what the current Cargo.lock changed. A stale, foreign or corrupt
    /// entry is ignored with a one-line reason and the build starts from
    /// scratch. After a successful build without a usable entry, the target
    /// directory is saved (atomically) under the key. The cache never
    /// changes what is built; removing DIR is always safe.
    ///
    ///   cargo buildplan build my-server --deps-cache ~/.cache/buildplan
    #[arg(long, value_name = "DIR", verbatim_doc_comment)]
    pub deps_cache: Option<PathBuf>,
    /// Extra arguments passed to cargo after the plan's own.
    #[arg(last = true)]
    pub cargo_args: Vec<String>,
}

/// Arguments of `rebase`.
#[derive(Debug, Clone, Args)]
pub struct RebaseArgs {
    /// Change nothing: exit 1 when nix/base.lock is missing or no longer
    /// fits the workspace (a member's dependency names differ from
    /// Cargo.lock's), 0 when it fits.
    #[arg(long)]
    pub check: bool,
}
