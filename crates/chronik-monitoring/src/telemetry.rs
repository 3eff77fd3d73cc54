//! Logging and OpenTelemetry trace export.

use std::io::IsTerminal;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::{SdkTracerProvider, Tracer};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::MonitoringError;

/// How long one OTLP export may take before it is abandoned.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Logging and tracing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `service.name` resource attribute of exported spans.
    pub service_name: String,
    /// Base OTLP/HTTP endpoint, e.g. `http://127.0.0.1:4318`; spans go to
    /// `<endpoint>/v1/traces`. `None` disables trace export.
    pub otlp_endpoint: Option<String>,
    /// `tracing` filter directives (`RUST_LOG` syntax), e.g. `info,chronik=debug`.
    pub log_filter: String,
}

impl TelemetryConfig {
    /// Reads the standard environment: the endpoint from
    /// `CHRONIK_OTLP_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT`; the
    /// filter from `RUST_LOG`, else `info`.
    pub fn from_env(service_name: &str) -> Self {
        let non_empty = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        TelemetryConfig {
            service_name: service_name.to_string(),
            otlp_endpoint: non_empty("CHRONIK_OTLP_ENDPOINT")
                .or_else(|| non_empty("OTEL_EXPORTER_OTLP_ENDPOINT")),
            log_filter: non_empty("RUST_LOG").unwrap_or_else(|| "info".into()),
        }
    }
}

/// Keeps the span exporter alive; dropping it (or calling
/// [`TelemetryGuard::shutdown`]) flushes spans still buffered.
#[derive(Debug, Default)]
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether spans are being exported.
    pub fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Flushes buffered spans and stops the exporter. Blocks until the last
    /// export finished or timed out, so call it outside async code (or in
    /// `spawn_blocking`).
    pub fn shutdown(mut self) -> Result<(), MonitoringError> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), MonitoringError> {
        match self.provider.take() {
            Some(p) => p.shutdown().map_err(|e| MonitoringError::Exporter {
                endpoint: String::new(),
                message: format!("shutting down: {e}"),
            }),
            None => Ok(()),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown_inner() {
            eprintln!("chronik: flushing traces failed: {e}");
        }
    }
}

/// `<base>/v1/traces`, unless `base` already names the traces path.
fn traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    }
}

/// A `tracing` layer exporting spans over OTLP/HTTP (protobuf) in batches,
/// for callers that assemble their own subscriber.
///
/// In builds that also contain `chronik-backup`, reqwest's TLS comes
/// without a built-in crypto provider: call
/// `chronik_backup::install_tls_provider()` before this, or building the
/// exporter's HTTP client fails.
pub fn otel_layer<S>(
    service_name: &str,
    endpoint: &str,
) -> Result<(OpenTelemetryLayer<S, Tracer>, TelemetryGuard), MonitoringError>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let url = traces_url(endpoint);
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| MonitoringError::Exporter {
            endpoint: url,
            message: e.to_string(),
        })?;
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_string())
                .build(),
        )
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("chronik");
    let layer = tracing_opentelemetry::layer().with_tracer(tracer);
    Ok((
        layer,
        TelemetryGuard {
            provider: Some(provider),
        },
    ))
}

/// Installs the global subscriber: structured (key-value) logs on stderr
/// filtered by `config.log_filter`, plus span export when an OTLP endpoint
/// is configured. Keep the returned guard until shutdown.
pub fn init_tracing(config: &TelemetryConfig) -> Result<TelemetryGuard, MonitoringError> {
    let filter = EnvFilter::try_new(&config.log_filter).map_err(|e| MonitoringError::Filter {
        filter: config.log_filter.clone(),
        message: e.to_string(),
    })?;
    // Colour only on a terminal: log files and collectors get plain text.
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    match &config.otlp_endpoint {
        Some(endpoint) => {
            let (layer, guard) = otel_layer(&config.service_name, endpoint)?;
            registry
                .with(layer)
                .try_init()
                .map_err(|_| MonitoringError::AlreadyInstalled)?;
            tracing::info!(endpoint = %traces_url(endpoint), "exporting traces over OTLP/HTTP");
            Ok(guard)
        }
        None => {
            registry
                .try_init()
                .map_err(|_| MonitoringError::AlreadyInstalled)?;
            Ok(TelemetryGuard::default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fake_collector;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn spans_are_exported_over_otlp_http() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (endpoint, requests) = fake_collector();
        let (layer, guard) = otel_layer("chronik-telemetry-test", &format!("{endpoint}/")).unwrap();
        assert!(guard.is_exporting());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("produce_request_span", topic = "orders");
            let _entered = span.enter();
            tracing::info!("inside the span");
        });
        // Shutdown flushes the batch synchronously.
        guard.shutdown().unwrap();

        let crate::test_support::Export {
            path,
            content_type,
            body,
        } = requests
            .recv_timeout(Duration::from_secs(60))
            .expect("the collector received no export");
        assert_eq!(path, "/v1/traces");
        assert_eq!(content_type, "application/x-protobuf");
        assert!(contains(&body, b"produce_request_span"));
        assert!(contains(&body, b"chronik-telemetry-test"));
        assert!(contains(&body, b"orders"));
    }

    #[test]
    fn traces_url_appends_the_signal_path_once() {
        assert_eq!(traces_url("http://h:4318"), "http://h:4318/v1/traces");
        assert_eq!(traces_url("http://h:4318/"), "http://h:4318/v1/traces");
        assert_eq!(
            traces_url("http://h:4318/v1/traces"),
            "http://h:4318/v1/traces"
        );
    }

    #[test]
    fn bad_filter_is_reported() {
        let config = TelemetryConfig {
            service_name: "x".into(),
            otlp_endpoint: None,
            log_filter: "info,=[".into(),
        };
        let err = init_tracing(&config).unwrap_err();
        assert!(matches!(err, MonitoringError::Filter { .. }), "{err}");
    }
}
