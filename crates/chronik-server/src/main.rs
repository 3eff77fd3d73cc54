//! `chronik-server`: a single-node, Kafka-compatible broker.

use std::process::ExitCode;

use chronik_common::config::{BrokerArgs, BrokerConfig};
use chronik_protocol::alloc_guard::HugeAllocGuard;
use clap::Parser;
use tracing_subscriber::EnvFilter;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CHRONIK_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
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
    match runtime.block_on(chronik_server::run(
        config,
        chronik_server::shutdown_signal(),
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("chronik-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
