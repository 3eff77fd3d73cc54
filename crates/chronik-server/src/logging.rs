//! Logging setup: the global `tracing` subscriber.

use crate::cli::SubsystemArgs;

/// Keeps trace export running; drop it last.
#[derive(Debug, Default)]
pub struct LogGuard {
    #[cfg(feature = "monitoring")]
    _telemetry: Option<chronik_monitoring::TelemetryGuard>,
}

/// Installs the global `tracing` subscriber: logs on stderr filtered by
/// `CHRONIK_LOG` (default `info`), plus OTLP trace export when configured
/// (`monitoring` feature).
pub fn init_logging(args: &SubsystemArgs) -> anyhow::Result<LogGuard> {
    #[cfg(feature = "backup")]
    // Before any HTTP client is built (see chronik_backup::install_tls_provider).
    chronik_backup::install_tls_provider();
    let filter = std::env::var("CHRONIK_LOG")
        .ok()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "info".into());
    #[cfg(feature = "monitoring")]
    {
        let config = chronik_monitoring::TelemetryConfig {
            service_name: "chronik-server".into(),
            otlp_endpoint: args.otlp_endpoint.clone(),
            log_filter: filter,
        };
        let guard = chronik_monitoring::init_tracing(&config)?;
        Ok(LogGuard {
            _telemetry: Some(guard),
        })
    }
    #[cfg(not(feature = "monitoring"))]
    {
        use anyhow::Context;
        let _ = args;
        let filter = tracing_subscriber::EnvFilter::try_new(&filter)
            .with_context(|| format!("invalid CHRONIK_LOG filter {filter:?}"))?;
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .try_init()
            .map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))?;
        Ok(LogGuard::default())
    }
}
