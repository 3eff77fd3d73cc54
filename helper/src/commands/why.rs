//! `cargo buildplan why`: why each unit of a build compiled, and the
//! freshness gate.

use std::path::Path;

use crate::cli::WhyArgs;
use buildplan::error::{Error, Outcome};
use buildplan::why::{self, BuildDirs, RunOptions};

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Runs the build (or reads a saved one), prints the report, and with `--fresh` fails
/// (exit 1) on a compiled third-party crate; a failed cargo also fails the command.
pub fn run(manifest_path: Option<&Path>, args: &WhyArgs) -> anyhow::Result<Outcome> {
    let meta = buildplan::workspace::metadata(manifest_path)?;
    let (report, cargo_ok) = match (&args.log, &args.messages) {
        (Some(log), Some(messages)) => {
            let units = why::units(&read(messages)?)?;
            let dirs = BuildDirs::new(meta, None);
            (why::explain(&read(log)?, &units, &dirs)?, true)
        }
        (None, None) => {
            let mut cargo_args = args.cargo_args.clone();
            if cargo_args.is_empty() {
                cargo_args.push("build".into());
            }
            let run = why::run(&RunOptions {
                dir: meta.workspace_root.into(),
                args: cargo_args,
                echo: true,
                ..RunOptions::default()
            })?;
            if let Some(e) = &run.record_error {
                eprintln!("cargo-buildplan why: warning: {e}");
            }
            (run.report, run.success)
        }
        _ => return Err(Error::invalid("--log and --messages go together").into()),
    };
    if let Some(e) = &report.log_error {
        eprintln!("cargo-buildplan why: why is unknown: {e}");
    }
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        report.to_string()
    };
    buildplan::output::print_stdout(&text)?;
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
