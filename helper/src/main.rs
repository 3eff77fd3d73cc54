//! The `cargo-buildplan` binary, a thin layer over the `buildplan` library:
//! parses the command line (the only code that knows clap) and runs the
//! command. Exit codes ([`Outcome::exit`]): 0 fine; 1 a check or gate
//! failed; 2 bad input (a usage error, a bad manifest or policy, an unknown
//! name, a missing tool), the error printed with its context chain.

use std::process::ExitCode;

use buildplan::error::Outcome;
use clap::Parser;

mod cli;
mod commands;

fn main() -> ExitCode {
    // Run as `cargo buildplan ...`, cargo passes the subcommand name first.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "buildplan") {
        args.remove(1);
    }
    // A usage error exits 2, `--help` and `--version` 0 (clap's codes).
    Outcome::exit(commands::run(&cli::Cli::parse_from(args)))
}
