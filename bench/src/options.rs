//! The `bench` command's options.

use std::path::PathBuf;

/// What to measure and where the results go (the `bench` command's
/// options, without the command line).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Package whose build is measured; `None`: the policy's, else the
    /// variant's first root with a binary.
    pub package: Option<String>,
    /// Variant; `None`: the policy's, else the plan's default.
    pub variant: Option<String>,
    /// Runs per scenario and configuration (at least 1).
    pub runs: u32,
    /// Scenarios to run; empty: all.
    pub scenarios: Vec<String>,
    /// Configurations to run, by name; empty: all known.
    pub configs: Vec<String>,
    /// Extra configurations, `NAME=KIND:PROFILE[:LINKER]`.
    pub defines: Vec<String>,
    /// The configuration the default goals compare with.
    pub against: Option<String>,
    /// Run configurations whose memory estimate exceeds the machine's.
    pub force: bool,
    /// Planned configurations select the variant's unified build instead
    /// of the package alone.
    pub unified: bool,
    /// Build nothing: print the configurations' commands, the memory
    /// estimates and the goals.
    pub dry_run: bool,
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
