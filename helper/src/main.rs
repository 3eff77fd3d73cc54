//! The `cargo-buildplan` binary, a thin layer over the `buildplan` library:
//! the command line ([`cli`], the only code that knows clap) and one
//! function per command ([`commands`]). Exit codes: [`Outcome::exit`].

use buildplan::error::Outcome;
use clap::Parser;

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    // Run as `cargo buildplan ...`, cargo passes the subcommand name first.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "buildplan") {
        args.remove(1);
    }
    // A usage error exits 2, `--help` and `--version` 0 (clap's codes).
    Outcome::exit(commands::run(cli::Cli::parse_from(args)))
}
