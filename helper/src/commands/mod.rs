//! The command layer: one function per subcommand, turning the parsed
//! command line ([`crate::cli`]) into calls of the library core and text on
//! stdout and stderr. Nothing below this layer knows about clap.
//!
//! Every command returns an [`Outcome`] or an error; `main` turns both into
//! the exit code (0, 1, 2, [`Outcome::exit`]), and prints the error. There is no other path.

mod audit;
mod bench;
mod build;
mod cache;
mod check;
mod compiles;
mod doctor;
mod explain;
mod plan;
mod rebase;
mod why;

use crate::cli::{Cli, Command};

use buildplan::error::Outcome;

/// Runs the command `cli` names.
pub fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let manifest_path = cli.manifest_path.as_deref();
    match &cli.command {
        Command::Plan(args) => plan::run(manifest_path, args),
        Command::Check(args) => check::run(manifest_path, args),
        Command::Explain(args) => explain::run(manifest_path, args),
        Command::Doctor(args) => doctor::run(manifest_path, args),
        Command::Audit(args) if args.fresh => {
            let why_args = crate::cli::WhyArgs {
                fresh: true,
                json: false,
                log: None,
                messages: None,
                cargo_args: args.cargo_args.clone(),
            };
            why::run(manifest_path, &why_args)
        }
        Command::Audit(args) if args.compiles => compiles::run(manifest_path, args),
        Command::Audit(args) => audit::run(manifest_path, args),
        Command::Build(args) => build::run(manifest_path, args),
        Command::Bench { args } => bench::run(manifest_path, args),
        Command::Why(args) => why::run(manifest_path, args),
        Command::Rebase(args) => rebase::run(manifest_path, args),
    }
}
