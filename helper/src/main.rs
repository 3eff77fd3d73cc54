//! The `cargo-buildplan` command line: parses arguments and dispatches.

use std::process::ExitCode;

use clap::Parser;

use buildplan::cli::Cli;

fn main() -> ExitCode {
    // Run as `cargo buildplan ...`, cargo passes the subcommand name first.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "buildplan") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    eprintln!("cargo-buildplan: {:?} is not implemented yet", cli.command);
    ExitCode::from(2)
}
