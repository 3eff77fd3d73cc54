//! Observability for Chronik Stream: Prometheus metrics, OpenTelemetry
//! traces over OTLP, and structured logs through `tracing`.
//!
//! # Metrics
//!
//! [`Metrics`] owns a private Prometheus registry with the broker's series
//! (listed on the type). The hot-path calls are a few atomic adds
//! ([`Metrics::add_bytes_in`], [`Metrics::observe_fsync`]) or, for
//! [`Metrics::record_request`], a lookup of the `(api, result)` label pair in
//! a read-locked map followed by an atomic add. Values that are cheaper to
//! read than to track (log end offsets, consumer lag) are filled in at
//! scrape time by a hook the broker installs with [`Metrics::on_scrape`].
//! [`Metrics::render`] produces the Prometheus text exposition format
//! (version 0.0.4) served at `/metrics`.
//!
//! # Traces
//!
//! [`init_tracing`] installs the global `tracing` subscriber: human-readable
//! structured logs (key-value fields) filtered by `RUST_LOG`, plus, when an
//! OTLP endpoint is configured, an OpenTelemetry layer exporting spans in
//! batches to `<endpoint>/v1/traces` over HTTP with protobuf bodies.
//!
//! The exporter uses OTLP/HTTP with reqwest's blocking client rather than
//! gRPC: gRPC would add tonic, tower and h2 to the build, while the HTTP
//! transport shares hyper with the HTTP listener (`chronik-http`), and the
//! blocking client runs on the batch processor's own thread, off the async
//! runtime. Every OTLP collector accepts both transports (port 4318 for
//! HTTP).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use telemetry::{init_tracing, otel_layer, TelemetryConfig, TelemetryGuard};

/// Errors setting up monitoring.
#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    /// A metric could not be registered (a name clash; a bug).
    #[error("registering metrics: {0}")]
    Prometheus(#[from] prometheus::Error),
    /// The OTLP exporter could not be built.
    #[error("building the OTLP span exporter for {endpoint}: {message}")]
    Exporter {
        /// The configured endpoint.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// The log filter did not parse.
    #[error("invalid log filter {filter:?}: {message}")]
    Filter {
        /// The filter text.
        filter: String,
        /// What was wrong.
        message: String,
    },
    /// A global subscriber was already installed.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

type ScrapeHook = Box<dyn Fn(&Metrics) + Send + Sync>;

/// The broker's metrics. Cheap to share: wrap in an `Arc`.
///
/// Series (all prefixed `chronik_`):
///
/// | name | type | labels |
/// |---|---|---|
/// | `requests_total` | counter | `api`, `result` (`ok` / `error`) |
/// | `bytes_in_total`, `bytes_out_total` | counter | |
/// | `log_end_offset` | gauge | `topic`, `partition` |
/// | `consumer_group_lag` | gauge | `group`, `topic`, `partition` |
/// | `fsync_duration_seconds` | histogram | |
/// | `backup_uploads_total` | counter | `result` |
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    bytes_in: IntCounter,
    bytes_out: IntCounter,
    log_end_offset: IntGaugeVec,
    consumer_lag: IntGaugeVec,
    fsync_seconds: Histogram,
    backup_uploads: IntCounterVec,
    scrape_hooks: RwLock<Vec<ScrapeHook>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates the registry and every series.
    pub fn new() -> Result<Arc<Self>, MonitoringError> {
        let registry = Registry::new_custom(Some("chronik".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "requests_total",
                "Kafka requests handled, by API and result",
            ),
            &["api", "result"],
        )?;
        let bytes_in = IntCounter::new("bytes_in_total", "Bytes received from clients")?;
        let bytes_out = IntCounter::new("bytes_out_total", "Bytes sent to clients")?;
        let log_end_offset = IntGaugeVec::new(
            Opts::new("log_end_offset", "Next offset to be written, per partition"),
            &["topic", "partition"],
        )?;
        let consumer_lag = IntGaugeVec::new(
            Opts::new(
                "consumer_group_lag",
                "Log end offset minus the group's committed offset",
            ),
            &["group", "topic", "partition"],
        )?;
        let fsync_seconds = Histogram::with_opts(
            HistogramOpts::new("fsync_duration_seconds", "Time spent in fsync of log data")
                .buckets(vec![
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                    0.5, 1.0, 2.5,
                ]),
        )?;
        let backup_uploads = IntCounterVec::new(
            Opts::new(
                "backup_uploads_total",
                "Segment uploads to the backup store, by result",
            ),
            &["result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(bytes_in.clone()))?;
        registry.register(Box::new(bytes_out.clone()))?;
        registry.register(Box::new(log_end_offset.clone()))?;
        registry.register(Box::new(consumer_lag.clone()))?;
        registry.register(Box::new(fsync_seconds.clone()))?;
        registry.register(Box::new(backup_uploads.clone()))?;
        Ok(Arc::new(Metrics {
            registry,
            requests,
            bytes_in,
            bytes_out,
            log_end_offset,
            consumer_lag,
            fsync_seconds,
            backup_uploads,
            scrape_hooks: RwLock::new(Vec::new()),
        }))
    }

    /// Counts one handled request of `api` (e.g. `Produce`).
    pub fn record_request(&self, api: &str, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.requests.with_label_values(&[api, result]).inc();
    }

    /// Adds bytes read from clients.
    pub fn add_bytes_in(&self, n: u64) {
        self.bytes_in.inc_by(n);
    }

    /// Adds bytes written to clients.
    pub fn add_bytes_out(&self, n: u64) {
        self.bytes_out.inc_by(n);
    }

    /// Records one fsync's duration.
    pub fn observe_fsync(&self, elapsed: Duration) {
        self.fsync_seconds.observe(elapsed.as_secs_f64());
    }

    /// Counts a backup upload attempt (the backup crate's metrics hook).
    pub fn record_backup_upload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.backup_uploads.with_label_values(&[result]).inc();
    }

    /// Sets a partition's log end offset.
    pub fn set_log_end_offset(&self, topic: &str, partition: i32, offset: i64) {
        self.log_end_offset
            .with_label_values(&[topic, &partition.to_string()])
            .set(offset);
    }

    /// Sets a group's lag on a partition.
    pub fn set_consumer_lag(&self, group: &str, topic: &str, partition: i32, lag: i64) {
        self.consumer_lag
            .with_label_values(&[group, topic, &partition.to_string()])
            .set(lag);
    }

    /// Drops every consumer-lag series, so a scrape hook can rebuild them
    /// without leaving series of deleted groups behind.
    pub fn clear_consumer_lag(&self) {
        self.consumer_lag.reset();
    }

    /// Drops every log-end-offset series (for the same reason).
    pub fn clear_log_end_offsets(&self) {
        self.log_end_offset.reset();
    }

    /// Installs a function run at the start of every [`Metrics::render`],
    /// to set gauges from the broker's state.
    pub fn on_scrape(&self, hook: impl Fn(&Metrics) + Send + Sync + 'static) {
        self.scrape_hooks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(hook));
    }

    /// The underlying registry, to register further collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Runs the scrape hooks and encodes every series in the Prometheus
    /// text format.
    pub fn render(&self) -> String {
        for hook in self
            .scrape_hooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            hook(self);
        }
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("the text encoder writes to a Vec and our metric names are valid");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }

    /// The `Content-Type` of [`Metrics::render`]'s output.
    pub const CONTENT_TYPE: &'static str = "text/plain; version=0.0.4; charset=utf-8";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finds the value of one sample line, e.g. `chronik_bytes_in_total`.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn requests_and_bytes_are_exposed() {
        let m = Metrics::new().unwrap();
        m.record_request("Produce", true);
        m.record_request("Produce", true);
        m.record_request("Fetch", false);
        m.add_bytes_in(100);
        m.add_bytes_in(23);
        m.add_bytes_out(7);
        let text = m.render();
        assert!(
            text.contains("# TYPE chronik_requests_total counter"),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                r#"chronik_requests_total{api="Produce",result="ok"}"#
            ),
            Some(2.0)
        );
        assert_eq!(
            sample(
                &text,
                r#"chronik_requests_total{api="Fetch",result="error"}"#
            ),
            Some(1.0)
        );
        assert_eq!(sample(&text, "chronik_bytes_in_total"), Some(123.0));
        assert_eq!(sample(&text, "chronik_bytes_out_total"), Some(7.0));
    }

    #[test]
    fn fsync_histogram_buckets_count_observations() {
        let m = Metrics::new().unwrap();
        m.observe_fsync(Duration::from_micros(300));
        m.observe_fsync(Duration::from_millis(30));
        let text = m.render();
        assert_eq!(
            sample(
                &text,
                r#"chronik_fsync_duration_seconds_bucket{le="0.0005"}"#
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, r#"chronik_fsync_duration_seconds_bucket{le="0.05"}"#),
            Some(2.0)
        );
        assert_eq!(
            sample(&text, "chronik_fsync_duration_seconds_count"),
            Some(2.0)
        );
    }

    #[test]
    fn scrape_hooks_fill_gauges_and_can_clear_stale_series() {
        let m = Metrics::new().unwrap();
        let groups = Arc::new(RwLock::new(vec![("g1", 5_i64)]));
        let g = groups.clone();
        m.on_scrape(move |m| {
            m.clear_consumer_lag();
            for (group, lag) in g.read().unwrap().iter() {
                m.set_consumer_lag(group, "orders", 0, *lag);
            }
            m.set_log_end_offset("orders", 0, 42);
        });
        let text = m.render();
        assert_eq!(
            sample(
                &text,
                r#"chronik_consumer_group_lag{group="g1",partition="0",topic="orders"}"#
            ),
            Some(5.0)
        );
        assert_eq!(
            sample(
                &text,
                r#"chronik_log_end_offset{partition="0",topic="orders"}"#
            ),
            Some(42.0)
        );
        *groups.write().unwrap() = vec![("g2", 1)];
        let text = m.render();
        assert!(!text.contains(r#"group="g1""#), "{text}");
        assert!(text.contains(r#"group="g2""#), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new().unwrap();
        m.record_request("we\"ird\n", true);
        let text = m.render();
        assert!(text.contains(r#"api="we\"ird\n""#), "{text}");
    }
}
