//! The Tokio runtime, listener, accept loop and graceful shutdown: every
//! generic piece of serving is instantiated here, behind [`serve`].

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chronik_common::BrokerConfig;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::broker::Broker;
use crate::connection;
use crate::Options;

/// How long shutdown waits for connections to finish their in-flight
/// requests before giving up on them (the logs are flushed either way).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a broker with `config` and the optional subsystems `options` asks
/// for, on a new multi-threaded Tokio runtime, until SIGINT or SIGTERM
/// (Ctrl-C elsewhere); then shuts down gracefully: stops accepting, lets
/// every connection finish the request it is serving, flushes all logs.
///
/// Prints `chronik-server listening on <addr>` to stdout once the listener is
/// bound (with the real port when the configured port is 0); the signal
/// handlers are in place by then.
///
/// # Errors
/// When the runtime, the signal handlers, the listener, the data directory
/// or a requested subsystem cannot be set up, or writing to stdout fails.
pub fn serve(config: BrokerConfig, options: &Options) -> crate::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("chronik")
        .build()
        .context("cannot start the async runtime")?;
    // The signal handlers go in before `run` prints the listening line.
    let served = runtime.block_on(async {
        let shutdown = shutdown_signal().context("installing signal handlers")?;
        run(config, options, shutdown).await
    });
    Ok(served?)
}

/// Runs the broker until `shutdown` resolves, then shuts down gracefully
/// (see [`serve`]).
async fn run(
    mut config: BrokerConfig,
    options: &Options,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding the Kafka listener on {}", config.listen))?;
    let local = listener.local_addr().context("reading the bound address")?;
    if config.advertised.1 == 0 {
        config.advertised.1 = local.port();
    }
    if config.listen.ip().is_unspecified() && config.advertised.0 == config.listen.ip().to_string()
    {
        tracing::warn!(
            "listening on {local} and advertising {}; set --advertised to an address clients can reach",
            config.advertised.0
        );
    }
    let broker = Arc::new(Broker::open(config, options).await?);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "chronik-server listening on {local}").context("writing to stdout")?;
        out.flush().context("flushing stdout")?;
    }
    tracing::info!(
        advertised = %format!("{}:{}", broker.config.advertised.0, broker.config.advertised.1),
        data_dir = %broker.config.data_dir.display(),
        "broker started"
    );

    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let broker = Arc::clone(&broker);
                    connections.spawn(connection::serve(stream, peer, broker));
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(joined) = connections.join_next(), if !connections.is_empty() => {
                if let Err(e) = joined {
                    if e.is_panic() {
                        tracing::error!("a connection task panicked: {e}");
                    }
                }
            }
        }
    }

    tracing::info!(
        connections = connections.len(),
        "shutting down: no longer accepting connections"
    );
    drop(listener);
    broker.begin_shutdown();
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            remaining = connections.len(),
            "connections still busy after {DRAIN_TIMEOUT:?}; closing them"
        );
        connections.shutdown().await;
    }
    broker.shutdown().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers (Ctrl-C elsewhere) now and
/// returns a future that resolves when one of those signals arrives.
///
/// Call it before [`run`], inside the runtime: the handlers must be in
/// place before the broker prints its listening line, or a signal sent right
/// after that line would find the default action (death by the signal)
/// instead of a graceful shutdown. A signal that arrives between this call
/// and the first poll of the future is kept, not lost.
///
/// # Errors
/// When the handlers cannot be installed (for example outside a Tokio
/// runtime with I/O enabled).
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => tracing::info!("received SIGINT"),
                _ = term.recv() => tracing::info!("received SIGTERM"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
        Ok(async move {
            let _ = ctrl_c.recv().await;
        })
    }
}
