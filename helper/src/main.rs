//! The `cargo-buildplan` binary, a thin layer over the `buildplan` library:
//! parses the command line (the only code that knows clap), runs the command,
//! and turns its outcome or error into the exit code. The one error path:
//! every error is printed here, with its context chain.
//!
//! Exit codes: 0 fine; 1 a check or gate failed ([`Outcome::Failed`]);
//! 2 bad input (a usage error, a bad manifest or policy, an unknown name,
//! a missing tool).

use std::process::ExitCode;

use clap::Parser;

use buildplan::error::{EXIT_ERROR, EXIT_FINDING};

use cli::Cli;
use commands::Outcome;

mod cli;
mod commands;

fn main() -> ExitCode {
    // Run as `cargo buildplan ...`, cargo passes the subcommand name first.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "buildplan") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match commands::run(&cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(EXIT_FINDING),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
