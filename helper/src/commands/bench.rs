//! `cargo buildplan bench`: runs `cargo-buildplan-bench`, the benchmark harness in its own
//! crate (`bench/`, package `buildplan-bench`) so that this binary does not ship it.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use buildplan::error::Outcome;

/// The harness's executable name.
const HARNESS: &str = "cargo-buildplan-bench";

/// Runs the harness (beside this executable, else on PATH) with `args`; its exit code
/// becomes this command's outcome.
pub fn run(manifest_path: Option<&Path>, args: &[OsString]) -> anyhow::Result<Outcome> {
    let harness = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(HARNESS))
        .filter(|p| p.is_file())
        .or_else(|| buildplan::exec::find_in_path(HARNESS, &std::env::var_os("PATH")?))
        .with_context(|| {
            format!(
                "`{HARNESS}` is not installed: `cargo install --path bench` (from this repository), \
                 or `cargo run -p buildplan-bench -- <options>` in its checkout"
            )
        })?;
    let mut command = Command::new(&harness);
    if let Some(path) = manifest_path {
        command.arg("--manifest-path").arg(path);
    }
    let status = command
        .args(args)
        .status()
        .with_context(|| format!("running {}", harness.display()))?;
    match status.code() {
        Some(0) => Ok(Outcome::Success),
        Some(1) => Ok(Outcome::Failed),
        Some(code) => bail!("{HARNESS} exited with {code}"),
        None => bail!("{HARNESS} was killed by a signal"),
    }
}
