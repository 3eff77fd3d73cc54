//! Prometheus metrics (served at `/metrics` by [`super::http`]) and request
//! spans for OTLP trace export.

use std::sync::Arc;

use chronik_coordinator::GroupCoordinator;
use chronik_ingest::Ingest;
use chronik_monitoring::Metrics;
use chronik_protocol::{ApiKey, RequestFrame};
use chronik_storage::LogManager;

/// The running metrics of a broker.
#[derive(Debug)]
pub(super) struct Monitoring {
    metrics: Arc<Metrics>,
    /// Whether spans are exported (an OTLP endpoint is configured).
    traced: bool,
}

impl Monitoring {
    /// Registers the metrics: log end offsets and consumer lag are refreshed
    /// on each scrape, fsync latency is observed by the produce path.
    pub(super) fn start(
        logs: &Arc<LogManager>,
        ingest: &Ingest,
        groups: &GroupCoordinator,
        traced: bool,
    ) -> anyhow::Result<Self> {
        let metrics = Metrics::new()?;
        let (logs, groups) = (Arc::clone(logs), groups.clone());
        metrics.on_scrape(move |m| {
            m.clear_log_end_offsets();
            m.clear_consumer_lag();
            for p in logs.all_partitions() {
                let tp = p.topic_partition();
                m.set_log_end_offset(&tp.topic, tp.partition, p.log_end_offset());
            }
            for (group, offsets) in groups.committed_offsets() {
                for (tp, committed) in offsets {
                    if let Some(p) = logs.partition(&tp) {
                        let lag = (p.log_end_offset() - committed.offset).max(0);
                        m.set_consumer_lag(&group, &tp.topic, tp.partition, lag);
                    }
                }
            }
        });
        let observer = Arc::clone(&metrics);
        ingest.set_fsync_observer(Arc::new(move |elapsed| observer.observe_fsync(elapsed)));
        Ok(Monitoring { metrics, traced })
    }

    /// The span one request runs in when traces are exported.
    pub(super) fn request_span(&self, request: &RequestFrame) -> tracing::Span {
        if !self.traced {
            return tracing::Span::none();
        }
        tracing::info_span!(
            "kafka_request",
            "otel.name" = api_name(request.api_key),
            "otel.kind" = "server",
            api_version = request.version(),
            correlation_id = request.correlation_id(),
            client_id = request.client_id()
        )
    }

    /// Counts one request and its bytes.
    pub(super) fn on_request(&self, api: ApiKey, ok: bool, bytes_in: usize, bytes_out: usize) {
        self.metrics.record_request(api_name(api), ok);
        self.metrics.add_bytes_in(bytes_in as u64);
        self.metrics.add_bytes_out(bytes_out as u64);
    }

    /// Counts backup uploads (handed to the backup uploader).
    #[cfg(feature = "backup")]
    pub(super) fn upload_hook(&self) -> Arc<dyn Fn(bool) + Send + Sync> {
        let metrics = Arc::clone(&self.metrics);
        Arc::new(move |ok: bool| metrics.record_backup_upload(ok))
    }

    /// `/metrics` for the HTTP listener.
    pub(super) fn http_source(&self) -> Arc<dyn chronik_http::MetricsSource> {
        Arc::new(MetricsAdapter(Arc::clone(&self.metrics)))
    }
}

/// The `api` label of a request metric.
fn api_name(api: ApiKey) -> &'static str {
    match api {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::Metadata => "Metadata",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        ApiKey::DeleteTopics => "DeleteTopics",
        ApiKey::InitProducerId => "InitProducerId",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        _ => "Other",
    }
}

struct MetricsAdapter(Arc<Metrics>);

impl chronik_http::MetricsSource for MetricsAdapter {
    fn render(&self) -> String {
        self.0.render()
    }
}
