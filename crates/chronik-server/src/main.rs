//! `chronik-server`: a single-node, Kafka-compatible broker.
//!
//! This binary is the command line only: the serving code is the
//! `chronik-broker` library ([`chronik_broker::serve`]), which this package's
//! cargo features configure (`default`, `minimal`, `full`, `monitoring`,
//! `auth`, `search`, `backup`, `fault-injection`).
//!
//! Modules: [`cli`] (the optional subsystems' settings, and which of them
//! this build has), [`logging`] (log and trace export setup) and
//! [`commands`] (the `user add` and `restore` subcommands).

mod cli;
mod commands;
mod logging;

use std::process::ExitCode;

use chronik_common::config::{BrokerArgs, BrokerConfig};
use chronik_protocol::alloc_guard::HugeAllocGuard;
use clap::Parser;

use crate::cli::SubsystemArgs;
use crate::commands::restore::{self, RestoreArgs};
use crate::commands::user::{self, UserCommand};
use crate::logging::init_logging;

/// Keeps forged array lengths in requests from aborting the broker (see
/// `chronik_protocol::alloc_guard`).
#[global_allocator]
static ALLOCATOR: HugeAllocGuard = HugeAllocGuard;

/// Command line of the broker binary.
#[derive(Debug, Parser)]
#[command(
    name = "chronik-server",
    version,
    about = "Single-node Kafka-compatible broker"
)]
struct Cli {
    #[command(flatten)]
    broker: BrokerArgs,
    #[command(flatten)]
    subsystems: SubsystemArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Administrative commands; without one, the broker runs.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Manage SASL users in a credentials file.
    #[command(subcommand)]
    User(UserCommand),
    /// Rebuild a data directory from a backup (verifying checksums).
    Restore(RestoreArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::User(cmd)) => return exit(user::run(cmd)),
        Some(Command::Restore(args)) => return exit(restore::run(args)),
        None => {}
    }
    let _log_guard = match init_logging(&cli.subsystems) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("chronik-server: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = cli.subsystems.check_available() {
        eprintln!("chronik-server: {e:#}");
        return ExitCode::from(2);
    }
    serve(cli)
}

fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chronik-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cli: Cli) -> ExitCode {
    let config = match BrokerConfig::resolve(&cli.broker) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("chronik-server: {e}");
            return ExitCode::from(2);
        }
    };
    match chronik_broker::serve(config, &cli.subsystems.options()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("chronik-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
