//! One function per subcommand: plain arguments from [`crate::cli`] in,
//! calls of the library core and text on stdout and stderr out, and an
//! [`Outcome`] or an error back to `main` (the exit code).

mod audit;
mod bench;
mod build;
mod cache;
mod doctor;
mod explain;
mod plan;
mod rebase;
mod why;

use crate::cli::{Cli, Command, WhyArgs};
use buildplan::error::Outcome;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let manifest_path = cli.manifest_path.as_deref();
    match cli.command {
        Command::Plan { output, no_audit } => plan::run(manifest_path, output.as_deref(), no_audit),
        Command::Check { plan } => plan::check(manifest_path, plan.as_deref()),
        Command::Explain { package } => explain::run(manifest_path, &package),
        Command::Doctor(args) => doctor::run(manifest_path, &args),
        Command::Audit(args) if args.fresh => {
            let why_args = WhyArgs {
                fresh: true,
                cargo_args: args.cargo_args,
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
