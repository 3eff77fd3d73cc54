//! The `cargo-buildplan` command line: parses arguments and dispatches.

use std::process::ExitCode;

use clap::Parser;

use buildplan::cli::{Cli, Command};
use buildplan::error::EXIT_ERROR;

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
    let global = &cli.global;
    let result = match &cli.command {
        Command::Plan(args) => buildplan::plan::run(global, args),
        Command::Check(args) => buildplan::check::run(global, args),
        Command::Explain(args) => buildplan::explain::run(global, args),
        Command::Audit(args) => buildplan::audit::run(global, args),
        Command::Build(args) => buildplan::build::run(global, args),
        Command::Bench(args) => buildplan::bench::run(global, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
