//! Running cargo: which binary, and errors that say what failed.

use std::path::Path;
use std::process::Command;

use crate::error::Error;

/// The cargo to run: `$CARGO` (set when we run as `cargo buildplan`) or
/// `cargo` from `PATH`.
pub fn program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// A cargo command with `args`, colour off, run from `dir`.
pub fn command(args: &[String], dir: &Path) -> Command {
    let mut cmd = Command::new(program());
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never");
    cmd
}

/// Runs `cmd` to completion and returns its standard output; a failure to
/// start or a non-zero exit becomes an [`Error`] quoting cargo's stderr.
pub fn output(mut cmd: Command) -> Result<String, Error> {
    let shown = describe(&cmd);
    let out = cmd.output().map_err(|e| Error::CargoMissing {
        program: cmd.get_program().to_string_lossy().into_owned(),
        message: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(Error::CargoFailed {
            command: shown,
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The command line of `cmd`, for messages (program name without its
/// directory, arguments as given).
pub fn describe(cmd: &Command) -> String {
    let program = cmd.get_program().to_string_lossy();
    let program = program.rsplit('/').next().unwrap_or("cargo");
    let mut text = program.to_string();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
