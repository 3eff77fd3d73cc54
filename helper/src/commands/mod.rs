//! One function per subcommand: the parsed command line ([`crate::cli`]) in,
//! calls of the library core and text on stdout and stderr out, and an
//! [`Outcome`] or an error back to `main` (the exit code). Nothing below
//! this layer knows about clap.

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

use std::path::Path;

use crate::cli::{Cli, Command, WhyArgs};

use buildplan::error::Outcome;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let manifest_path = cli.manifest_path.as_deref();
    match cli.command {
        Command::Plan { output, no_audit } => plan::run(manifest_path, output.as_deref(), no_audit),
        Command::Check { plan } => check::run(manifest_path, plan.as_deref()),
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
        Command::Audit(args) if args.compiles => compiles::run(manifest_path, &args),
        Command::Audit(args) => audit::run(manifest_path, &args),
        Command::Build(args) => build::run(manifest_path, &args),
        Command::Bench { args } => bench::run(manifest_path, &args),
        Command::Why(args) => why::run(manifest_path, &args),
        Command::Rebase { check } => rebase::run(manifest_path, check),
    }
}

/// A gate's outcome: exit 1 when it `failed`.
fn failed_if(failed: bool) -> Outcome {
    if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// `path` as shown to people: relative to the workspace `root` when it can be.
fn shown(root: &Path, path: &Path) -> String {
    buildplan::workspace::relative(root, path).unwrap_or_else(|_| path.display().to_string())
}
