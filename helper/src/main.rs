//! The `cargo-buildplan` binary, a thin layer over the `buildplan` library:
//! the command line ([`cli`], the only code that knows clap) and one
//! function per command ([`commands`]). Exit codes: [`Outcome::exit`].

use buildplan::error::Outcome;
use clap::Parser;

use cli::{Cli, Command, WhyArgs};
use commands::*;

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    // Run as `cargo buildplan ...`, cargo passes the subcommand name first.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "buildplan") {
        args.remove(1);
    }
    // A usage error exits 2, `--help` and `--version` 0 (clap's codes).
    Outcome::exit(run(Cli::parse_from(args)))
}

/// Runs the command `cli` names.
fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let manifest_path = cli.manifest_path.as_deref();
    match cli.command {
        Command::Plan { output, no_audit } => plan::run(manifest_path, output.as_deref(), no_audit),
        Command::Check { plan } => plan::check(manifest_path, plan.as_deref()),
        Command::Explain { package } => explain::run(manifest_path, &package),
        Command::Doctor(args) => doctor::run(manifest_path, &args),
        Command::Audit(args) if args.fresh => {
            let cargo_args = args.cargo_args;
            let why_args = WhyArgs {
                fresh: true,
                cargo_args,
                ..WhyArgs::default()
            };
            why::run(manifest_path, &why_args)
        }
        Command::Audit(args) if args.compiles => audit::compiles(manifest_path, &args),
        Command::Audit(args) => audit::run(manifest_path, &args),
        Command::Build(args) => build::run(manifest_path, &args),
        Command::Bench { args } => bench::run(manifest_path, &args),
        Command::Why(args) => why::run(manifest_path, &args),
        Command::Rebase { check } => rebase::run(manifest_path, check),
    }
}
