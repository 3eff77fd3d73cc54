//! `chronik-server`: a single-node, Kafka-compatible broker.

use std::process::ExitCode;

use anyhow::Context;
use chronik_common::config::{BrokerArgs, BrokerConfig};
use chronik_protocol::alloc_guard::HugeAllocGuard;
use chronik_server::cli::SubsystemArgs;
use chronik_server::commands::restore::{self, RestoreArgs};
use chronik_server::commands::user::{self, UserCommand};
use chronik_server::logging::init_logging;
use clap::Parser;

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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chronik")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chronik-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The signal handlers go in before `run_with` prints the listening line.
    let served = runtime.block_on(async {
        let shutdown = chronik_server::shutdown_signal().context("installing signal handlers")?;
        chronik_server::run_with(config, &cli.subsystems, shutdown).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("chronik-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
