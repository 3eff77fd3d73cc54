//! `cargo buildplan why`: why each unit of a build compiled, and the
//! freshness gate.

use std::path::{Path, PathBuf};

use crate::cli::WhyArgs;
use buildplan::error::Error;
use buildplan::error::Outcome;
use buildplan::why::{self, BuildDirs, Report, RunOptions};

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The workspace root of `manifest_path` (or of the current directory).
fn workspace_root(manifest_path: Option<&Path>) -> Result<(PathBuf, PathBuf), Error> {
    let m = buildplan::workspace::metadata(manifest_path)?;
    Ok((
        m.workspace_root.into_std_path_buf(),
        m.target_directory.into_std_path_buf(),
    ))
}

/// Runs the build (or reads a saved one), prints the report, and with
/// `--fresh` applies the gate: a compiled third-party crate fails it.
/// A saved standard error that is not from `cargo -v`, or messages that
/// are not cargo's, are bad input (exit 2); a failed cargo fails the
/// command (exit 1).
pub fn run(manifest_path: Option<&Path>, args: &WhyArgs) -> anyhow::Result<Outcome> {
    let (root, target_dir) = workspace_root(manifest_path)?;
    let (report, cargo_ok) = match (&args.log, &args.messages) {
        (Some(log), Some(messages)) => {
            let units = why::units(&read(messages)?)?;
            let dirs = BuildDirs {
                workspace_root: Some(root),
                target_dir: Some(target_dir.clone()),
                build_dir: Some(target_dir.clone()),
                before: None,
                record: why::record::SourceRecord::load(&target_dir),
            };
            (why::explain(&read(log)?, &units, &dirs)?, true)
        }
        (None, None) => {
            let mut cargo_args = args.cargo_args.clone();
            if cargo_args.is_empty() {
                cargo_args.push("build".into());
            }
            let run = why::run(&RunOptions {
                cargo: None,
                dir: root,
                args: cargo_args,
                env: Vec::new(),
                env_remove: Vec::new(),
                echo: true,
            })?;
            if let Some(e) = &run.record_error {
                eprintln!("cargo-buildplan why: warning: {e}");
            }
            let ok = run.success();
            (run.report, ok)
        }
        _ => {
            return Err(Error::invalid("--log and --messages go together").into());
        }
    };
    print_report(&report, args.json)?;
    if !cargo_ok {
        eprintln!("cargo-buildplan why: cargo failed");
        return Ok(Outcome::Failed);
    }
    if args.fresh {
        if let Err(failure) = why::gate(&report) {
            eprintln!("cargo-buildplan why: {failure}");
            return Ok(Outcome::Failed);
        }
        eprintln!("cargo-buildplan why: fresh: no third-party crate compiled");
    }
    Ok(Outcome::Success)
}

fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    if let Some(e) = &report.log_error {
        eprintln!("cargo-buildplan why: why is unknown: {e}");
    }
    let text = if json {
        serde_json::to_string_pretty(report)? + "\n"
    } else {
        report.to_string()
    };
    buildplan::output::print_stdout(&text)?;
    Ok(())
}
