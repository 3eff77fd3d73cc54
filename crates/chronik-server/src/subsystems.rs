//! Optional subsystems, each compiled in by a cargo feature:
//!
//! * `monitoring`: Prometheus metrics at `/metrics` on the HTTP listener
//!   (`--http`), OpenTelemetry trace export (`--otlp-endpoint`);
//! * `auth`: SASL/PLAIN and SCRAM-SHA-256 (`--sasl-credentials FILE`; then
//!   every connection must authenticate before anything but ApiVersions);
//! * `search`: full-text search over the topics named by `--search-topics`,
//!   at `/search` on the HTTP listener;
//! * `backup`: sealed segments and topic metadata uploaded to `--backup URL`;
//!   `chronik-server restore` rebuilds a data directory from it.
//!
//! Everything here compiles in every build: without a feature its part is
//! absent, and asking for it on the command line is an error naming the
//! feature. The rest of the broker calls only [`Subsystems`] and
//! [`Session`], whose methods cost nothing in a build without the features.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[allow(unused_imports)]
use anyhow::{bail, Context};
use chronik_common::BrokerConfig;
use chronik_coordinator::GroupCoordinator;
use chronik_protocol::{ApiKey, RequestFrame, RequestKind, ResponseKind};
use chronik_storage::LogManager;
#[allow(unused_imports)]
use kafka_protocol::messages::{SaslAuthenticateResponse, SaslHandshakeResponse};
#[allow(unused_imports)]
use kafka_protocol::protocol::StrBytes;

/// Command-line settings of the optional subsystems.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubsystemArgs {
    /// SASL credentials file; when set, clients must authenticate with
    /// SCRAM-SHA-256 or PLAIN (`auth` feature). Create it with `user add`.
    #[arg(long, env = "CHRONIK_SASL_CREDENTIALS", value_name = "FILE")]
    pub sasl_credentials: Option<PathBuf>,
    /// Topics to index for full-text search, comma-separated (`search` feature)
    #[arg(
        long,
        env = "CHRONIK_SEARCH_TOPICS",
        value_name = "TOPICS",
        value_delimiter = ','
    )]
    pub search_topics: Vec<String>,
    /// Back up sealed segments to fs:///DIR or s3://BUCKET/PREFIX?region=R&endpoint=URL (`backup` feature)
    #[arg(long, env = "CHRONIK_BACKUP", value_name = "URL")]
    pub backup: Option<String>,
    /// How often the data directory is scanned for newly sealed segments, in ms [default: 5000]
    #[arg(long, env = "CHRONIK_BACKUP_SCAN_MS", value_name = "MS")]
    pub backup_scan_ms: Option<u64>,
    /// Export traces over OTLP/HTTP to this endpoint, e.g. http://127.0.0.1:4318 (`monitoring` feature)
    #[arg(long, env = "CHRONIK_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

impl SubsystemArgs {
    /// Fails if a setting asks for a subsystem this build lacks.
    pub fn check_available(&self) -> anyhow::Result<()> {
        let missing = |flag: &str, feature: &str| {
            anyhow::anyhow!("{flag} needs a chronik-server built with the `{feature}` feature")
        };
        if self.sasl_credentials.is_some() && !cfg!(feature = "auth") {
            return Err(missing("--sasl-credentials", "auth"));
        }
        if !self.search_topics.is_empty() && !cfg!(feature = "search") {
            return Err(missing("--search-topics", "search"));
        }
        if self.backup.is_some() && !cfg!(feature = "backup") {
            return Err(missing("--backup", "backup"));
        }
        if self.otlp_endpoint.is_some() && !cfg!(feature = "monitoring") {
            return Err(missing("--otlp-endpoint", "monitoring"));
        }
        Ok(())
    }
}

/// The configuration storage is opened with. With backup enabled, storage's
/// own retention is switched off: [`Subsystems`] applies the configured
/// policy itself, and only to partitions whose sealed segments are all in
/// the backup, so data not yet uploaded is never deleted.
#[allow(unused_variables, unused_mut)]
pub fn storage_view(config: &BrokerConfig, args: &SubsystemArgs) -> BrokerConfig {
    let mut view = config.clone();
    #[cfg(feature = "backup")]
    if args.backup.is_some() {
        view.retention_bytes = None;
        view.retention = None;
    }
    view
}

/// Keeps trace export running; drop it last.
#[derive(Debug, Default)]
pub struct LogGuard {
    #[cfg(feature = "monitoring")]
    _telemetry: Option<chronik_monitoring::TelemetryGuard>,
}

/// Installs the global `tracing` subscriber: logs on stderr filtered by
/// `CHRONIK_LOG` (default `info`), plus OTLP trace export when configured.
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

/// The running optional subsystems of a broker.
#[derive(Default)]
pub struct Subsystems {
    #[cfg(feature = "monitoring")]
    metrics: Option<Arc<chronik_monitoring::Metrics>>,
    #[cfg(feature = "auth")]
    credentials: Option<Arc<chronik_auth::CredentialStore>>,
    #[cfg(feature = "search")]
    search: Option<Arc<chronik_search::SearchEngine>>,
    #[cfg(feature = "backup")]
    backup: Option<chronik_backup::Backup>,
    /// Whether spans are exported (an OTLP endpoint is configured).
    #[cfg(feature = "monitoring")]
    traced: bool,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for Subsystems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Subsystems");
        #[cfg(feature = "monitoring")]
        d.field("metrics", &self.metrics.is_some());
        #[cfg(feature = "auth")]
        d.field("sasl", &self.credentials.is_some());
        #[cfg(feature = "search")]
        d.field("search", &self.search.as_ref().map(|s| s.topics()));
        #[cfg(feature = "backup")]
        d.field("backup", &self.backup.is_some());
        d.finish()
    }
}

impl Subsystems {
    /// Starts what `args` and the build's features call for: loads the
    /// credentials, opens the search indexes (and catches them up with the
    /// logs in the background), starts the backup uploader and the HTTP
    /// listener.
    #[allow(unused_variables, unused_mut)]
    pub async fn start(
        args: &SubsystemArgs,
        config: &BrokerConfig,
        logs: &Arc<LogManager>,
        ingest: &chronik_ingest::Ingest,
        groups: &GroupCoordinator,
    ) -> anyhow::Result<Self> {
        args.check_available()?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut this = Subsystems {
            stop: Some(stop_tx),
            ..Subsystems::default()
        };
        let mut tasks = Vec::new();

        #[cfg(feature = "auth")]
        if let Some(path) = &args.sasl_credentials {
            let store = chronik_auth::CredentialStore::load(path)?;
            if store.is_empty() {
                tracing::warn!(file = %path.display(), "SASL credentials file has no users: every login will fail");
            }
            tracing::info!(users = store.len(), mechanisms = ?chronik_auth::Mechanism::names(), "SASL authentication required");
            this.credentials = Some(Arc::new(store));
        }

        #[cfg(feature = "monitoring")]
        {
            let metrics = chronik_monitoring::Metrics::new()?;
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
            this.metrics = Some(metrics);
            this.traced = args.otlp_endpoint.is_some();
        }

        #[cfg(feature = "search")]
        if !args.search_topics.is_empty() || config.data_dir.join("search").exists() {
            let engine = Arc::new(
                tokio::task::spawn_blocking({
                    let root = config.data_dir.join("search");
                    move || {
                        chronik_search::SearchEngine::open(chronik_search::SearchConfig::new(root))
                    }
                })
                .await
                .context("search open task failed")??,
            );
            for topic in &args.search_topics {
                engine
                    .enable_topic(topic.trim())
                    .with_context(|| format!("enabling search for topic {topic:?}"))?;
            }
            tracing::info!(topics = ?engine.topics(), "search enabled");
            tasks.push(tokio::spawn(search_indexer(
                Arc::clone(&engine),
                Arc::clone(logs),
                stop_rx.clone(),
            )));
            this.search = Some(engine);
        }

        #[cfg(feature = "backup")]
        if let Some(url) = &args.backup {
            let target = chronik_backup::BackupTarget::parse(url)?;
            let hooks = chronik_backup::BackupHooks {
                #[cfg(feature = "monitoring")]
                on_upload: this.metrics.clone().map(|m| {
                    Arc::new(move |ok: bool| m.record_backup_upload(ok))
                        as Arc<dyn Fn(bool) + Send + Sync>
                }),
                #[cfg(not(feature = "monitoring"))]
                on_upload: None,
            };
            let backup = chronik_backup::Backup::start(
                chronik_backup::BackupConfig::new(target.clone()),
                &config.data_dir,
                hooks,
            )?;
            tracing::info!(?target, "backup enabled");
            let interval = Duration::from_millis(args.backup_scan_ms.unwrap_or(5000).max(10));
            let retention = chronik_storage::RetentionPolicy {
                max_bytes: config.retention_bytes,
                max_age_ms: config
                    .retention
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            };
            tasks.push(tokio::spawn(backup_scanner(
                backup.clone(),
                Arc::clone(logs),
                config.data_dir.clone(),
                retention,
                interval,
                stop_rx.clone(),
            )));
            this.backup = Some(backup);
        }

        #[cfg(any(feature = "monitoring", feature = "search"))]
        {
            let services = chronik_http::HttpServices {
                #[cfg(feature = "monitoring")]
                metrics: this
                    .metrics
                    .clone()
                    .map(|m| Arc::new(MetricsAdapter(m)) as Arc<dyn chronik_http::MetricsSource>),
                #[cfg(not(feature = "monitoring"))]
                metrics: None,
                #[cfg(feature = "search")]
                search: this
                    .search
                    .clone()
                    .map(|s| Arc::new(SearchAdapter(s)) as Arc<dyn chronik_http::SearchSource>),
                #[cfg(not(feature = "search"))]
                search: None,
            };
            if services.metrics.is_some() || services.search.is_some() {
                match chronik_http::HttpListener::bind(config.http).await {
                    Ok(listener) => {
                        let mut stop = stop_rx.clone();
                        tasks.push(tokio::spawn(async move {
                            let shutdown = async move {
                                let _ = stop.wait_for(|s| *s).await;
                            };
                            if let Err(e) = listener.serve(services, shutdown).await {
                                tracing::error!(error = %e, "HTTP listener failed");
                            }
                        }));
                    }
                    // Not fatal: the broker itself is unaffected, and a
                    // second broker on one host must not fail to start.
                    Err(e) => tracing::error!(
                        addr = %config.http,
                        error = %e,
                        "cannot bind the HTTP listener; metrics and search are unavailable over HTTP"
                    ),
                }
            }
        }

        *this.tasks.lock().unwrap_or_else(|e| e.into_inner()) = tasks;
        Ok(this)
    }

    /// Per-connection state (SASL).
    pub fn session(&self) -> Session {
        Session {
            #[cfg(feature = "auth")]
            auth: self
                .credentials
                .as_ref()
                .map(|c| chronik_auth::Authenticator::new(Arc::clone(c))),
            authenticated: false,
        }
    }

    /// The span to run one request in when traces are exported (named after
    /// the API, e.g. `Produce`); a disabled span, which costs nothing,
    /// otherwise.
    #[inline]
    #[allow(unused_variables)]
    pub fn request_span(
        &self,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        client_id: &str,
    ) -> tracing::Span {
        #[cfg(feature = "monitoring")]
        if self.traced {
            return tracing::info_span!(
                "kafka_request",
                "otel.name" = api_name(api),
                "otel.kind" = "server",
                api_version = version,
                correlation_id,
                client_id
            );
        }
        tracing::Span::none()
    }

    /// Counts one request: its API, whether it was answered normally, and
    /// the bytes read and written for it.
    #[inline]
    #[allow(unused_variables)]
    pub fn on_request(&self, api: ApiKey, ok: bool, bytes_in: usize, bytes_out: usize) {
        #[cfg(feature = "monitoring")]
        if let Some(m) = &self.metrics {
            m.record_request(api_name(api), ok);
            m.add_bytes_in(bytes_in as u64);
            m.add_bytes_out(bytes_out as u64);
        }
    }

    /// The backup uploader's view of `topic`/`partition`: offsets below the
    /// returned value are safely in the backup. `None` when backup is off
    /// (nothing to wait for) or nothing of the partition is uploaded yet.
    #[allow(unused_variables)]
    pub fn backed_up_to(&self, topic: &str, partition: i32) -> Option<i64> {
        #[cfg(feature = "backup")]
        if let Some(b) = &self.backup {
            return b.uploaded_up_to(topic, partition);
        }
        None
    }

    /// Stops the background tasks and the HTTP listener, and commits the
    /// search indexes.
    pub async fn shutdown(&self) {
        if let Some(stop) = &self.stop {
            stop.send_replace(true);
        }
        #[cfg(feature = "backup")]
        if let Some(b) = &self.backup {
            b.shutdown();
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        #[cfg(feature = "search")]
        if let Some(engine) = &self.search {
            let engine = Arc::clone(engine);
            let _ = tokio::task::spawn_blocking(move || engine.commit_all()).await;
        }
    }
}

/// What the connection should do with a request, as far as SASL goes.
#[derive(Debug)]
pub enum Gate {
    /// Dispatch it normally.
    Pass,
    /// Send this response instead; close the connection after it if
    /// `close` (a failed authentication).
    Reply {
        /// The response to send (boxed: `ResponseKind` is large).
        response: Box<ResponseKind>,
        /// Close after sending.
        close: bool,
    },
    /// Close the connection without answering (a request before
    /// authentication completed, as Kafka does).
    Close(String),
}

/// SASL state of one connection.
pub struct Session {
    #[cfg(feature = "auth")]
    auth: Option<chronik_auth::Authenticator>,
    authenticated: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("authenticated", &self.authenticated)
            .finish_non_exhaustive()
    }
}

/// Kafka's ILLEGAL_SASL_STATE.
#[cfg(not(feature = "auth"))]
const ILLEGAL_SASL_STATE: i16 = 34;
/// Kafka's UNSUPPORTED_SASL_MECHANISM.
#[cfg(not(feature = "auth"))]
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;

impl Session {
    /// Whether this connection must still authenticate.
    pub fn needs_auth(&self) -> bool {
        #[cfg(feature = "auth")]
        if self.auth.is_some() {
            return !self.authenticated;
        }
        false
    }

    /// Handles SASL requests, and refuses everything but ApiVersions before
    /// authentication when SASL is required.
    pub fn gate(&mut self, request: &RequestFrame) -> Gate {
        match &request.body {
            RequestKind::SaslHandshake(req) => self.handshake(req.mechanism.as_str()),
            RequestKind::SaslAuthenticate(req) => self.authenticate(&req.auth_bytes),
            _ if request.api_key == ApiKey::ApiVersions || !self.needs_auth() => Gate::Pass,
            _ => Gate::Close(format!(
                "{:?} request before SASL authentication",
                request.api_key
            )),
        }
    }

    #[cfg(not(feature = "auth"))]
    fn handshake(&mut self, _mechanism: &str) -> Gate {
        Gate::Reply {
            response: Box::new(ResponseKind::SaslHandshake(
                SaslHandshakeResponse::default().with_error_code(UNSUPPORTED_SASL_MECHANISM),
            )),
            close: true,
        }
    }

    #[cfg(not(feature = "auth"))]
    fn authenticate(&mut self, _bytes: &[u8]) -> Gate {
        sasl_failure(ILLEGAL_SASL_STATE, "SASL is not enabled on this broker")
    }

    #[cfg(feature = "auth")]
    fn handshake(&mut self, mechanism: &str) -> Gate {
        let Some(auth) = &mut self.auth else {
            return Gate::Reply {
                response: Box::new(ResponseKind::SaslHandshake(
                    SaslHandshakeResponse::default()
                        .with_error_code(chronik_auth::UNSUPPORTED_SASL_MECHANISM),
                )),
                close: true,
            };
        };
        let mechanisms = chronik_auth::Mechanism::names()
            .into_iter()
            .map(StrBytes::from_string)
            .collect();
        let (code, close) = match auth.handshake(mechanism) {
            Ok(_) => (0, false),
            Err(e) => {
                tracing::info!(error = %e, "SASL handshake refused");
                (e.kafka_error_code(), true)
            }
        };
        Gate::Reply {
            response: Box::new(ResponseKind::SaslHandshake(
                SaslHandshakeResponse::default()
                    .with_error_code(code)
                    .with_mechanisms(mechanisms),
            )),
            close,
        }
    }

    #[cfg(feature = "auth")]
    fn authenticate(&mut self, bytes: &[u8]) -> Gate {
        let Some(auth) = &mut self.auth else {
            return sasl_failure(
                chronik_auth::ILLEGAL_SASL_STATE,
                "SASL is not enabled on this broker",
            );
        };
        match auth.authenticate(bytes) {
            chronik_auth::Step::Continue(reply) => Gate::Reply {
                response: Box::new(ResponseKind::SaslAuthenticate(
                    SaslAuthenticateResponse::default().with_auth_bytes(reply.into()),
                )),
                close: false,
            },
            chronik_auth::Step::Done {
                principal,
                response,
            } => {
                tracing::info!(%principal, mechanism = %principal.mechanism, "client authenticated");
                self.authenticated = true;
                Gate::Reply {
                    response: Box::new(ResponseKind::SaslAuthenticate(
                        SaslAuthenticateResponse::default().with_auth_bytes(response.into()),
                    )),
                    close: false,
                }
            }
            chronik_auth::Step::Failed(e) => {
                tracing::warn!(error = %e, "SASL authentication failed");
                sasl_failure(e.kafka_error_code(), &e.to_string())
            }
        }
    }
}

fn sasl_failure(code: i16, message: &str) -> Gate {
    Gate::Reply {
        response: Box::new(ResponseKind::SaslAuthenticate(
            SaslAuthenticateResponse::default()
                .with_error_code(code)
                .with_error_message(Some(StrBytes::from_string(message.to_string()))),
        )),
        close: true,
    }
}

/// The `api` label of a request metric.
#[cfg(feature = "monitoring")]
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

#[cfg(feature = "monitoring")]
struct MetricsAdapter(Arc<chronik_monitoring::Metrics>);

#[cfg(feature = "monitoring")]
impl chronik_http::MetricsSource for MetricsAdapter {
    fn render(&self) -> String {
        self.0.render()
    }
}

#[cfg(feature = "search")]
struct SearchAdapter(Arc<chronik_search::SearchEngine>);

#[cfg(feature = "search")]
impl chronik_http::SearchSource for SearchAdapter {
    fn search(
        &self,
        topic: &str,
        query: &str,
        limit: usize,
    ) -> Result<serde_json::Value, chronik_http::SearchFailure> {
        use chronik_http::SearchFailure;
        use chronik_search::SearchError;
        match self.0.search(topic, query, limit) {
            Ok(hits) => {
                serde_json::to_value(hits).map_err(|e| SearchFailure::Internal(e.to_string()))
            }
            Err(e @ (SearchError::InvalidQuery(_) | SearchError::InvalidTopic(_))) => {
                Err(SearchFailure::BadRequest(e.to_string()))
            }
            Err(e @ SearchError::TopicNotIndexed(_)) => Err(SearchFailure::NotFound(e.to_string())),
            Err(e) => Err(SearchFailure::Internal(e.to_string())),
        }
    }
}

/// Keeps every search-enabled topic's index in step with its log: a pass
/// over the partitions every 200 ms indexes what was appended since (the
/// first pass after start-up is the catch-up), and a commit every second
/// makes it searchable and durable.
#[cfg(feature = "search")]
async fn search_indexer(
    engine: Arc<chronik_search::SearchEngine>,
    logs: Arc<LogManager>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    const PASS: Duration = Duration::from_millis(200);
    const COMMIT: Duration = Duration::from_secs(1);
    let mut last_commit = tokio::time::Instant::now();
    loop {
        let (engine2, logs2) = (Arc::clone(&engine), Arc::clone(&logs));
        let pass = tokio::task::spawn_blocking(move || index_pass(&engine2, &logs2)).await;
        if let Err(e) = pass {
            tracing::error!(error = %e, "search indexing task failed");
        }
        if last_commit.elapsed() >= COMMIT {
            let engine2 = Arc::clone(&engine);
            let _ = tokio::task::spawn_blocking(move || engine2.commit_all()).await;
            last_commit = tokio::time::Instant::now();
        }
        tokio::select! {
            _ = tokio::time::sleep(PASS) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(feature = "search")]
fn index_pass(engine: &chronik_search::SearchEngine, logs: &LogManager) {
    for topic in engine.topics() {
        let (Some(index), Some(partitions)) = (engine.topic(&topic), logs.topic_partitions(&topic))
        else {
            continue;
        };
        for p in partitions {
            let partition = p.topic_partition().partition;
            let end = p.log_end_offset();
            if index.next_offset(partition) == end {
                continue;
            }
            let read = |from: i64| -> chronik_search::LogReadResult {
                // Records below the log start were deleted by retention.
                let from = from.max(p.log_start_offset());
                if from >= p.log_end_offset() {
                    return Ok(None);
                }
                let read = p.read(from, 1 << 20)?;
                Ok((!read.records.is_empty()).then_some(read.records))
            };
            if let Err(e) = index.sync_with_log(partition, end, read) {
                tracing::warn!(topic, partition, error = %e, "indexing records for search failed");
            }
        }
    }
}

/// Finds sealed segments (every `.log` file of a partition but the newest)
/// and topic metadata files, and queues each once for backup; then applies
/// the retention policy to the partitions whose sealed segments are all
/// uploaded (see [`storage_view`]).
#[cfg(feature = "backup")]
async fn backup_scanner(
    backup: chronik_backup::Backup,
    logs: Arc<LogManager>,
    data_dir: PathBuf,
    retention: chronik_storage::RetentionPolicy,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut queued: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    loop {
        let (logs2, dir2, seen) = (Arc::clone(&logs), data_dir.clone(), queued.clone());
        let found = tokio::task::spawn_blocking(move || scan_sealed(&logs2, &dir2, &seen)).await;
        match found {
            Ok(items) => {
                for item in items {
                    match item {
                        ScanItem::Segment(s) => {
                            queued.insert(s.relative_path.clone());
                            backup.enqueue_segment(s);
                        }
                        ScanItem::File(path) => {
                            queued.insert(path.clone());
                            backup.enqueue_file(path);
                        }
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "backup scan task failed"),
        }
        if retention.max_bytes.is_some() || retention.max_age_ms.is_some() {
            let (logs2, backup2, policy) = (Arc::clone(&logs), backup.clone(), retention);
            let deleted =
                tokio::task::spawn_blocking(move || gated_retention(&logs2, &backup2, &policy))
                    .await;
            if let Err(e) = deleted {
                tracing::error!(error = %e, "retention task failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Applies `policy` to every partition whose closed segments are all in
/// the backup (uploaded up to the active segment's base offset).
///
/// One narrow race remains: a segment that rolls between the check and the
/// deletion is not yet uploaded, and would go only if the policy wants even
/// the newest closed segment gone (a size limit below one segment, or
/// record timestamps older than the age limit).
#[cfg(feature = "backup")]
fn gated_retention(
    logs: &LogManager,
    backup: &chronik_backup::Backup,
    policy: &chronik_storage::RetentionPolicy,
) -> usize {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut deleted = 0;
    for p in logs.all_partitions() {
        let tp = p.topic_partition().clone();
        let Some(active_base) = segment_bases(p.dir()).last().map(|(b, _)| *b) else {
            continue;
        };
        if active_base <= p.log_start_offset() {
            continue; // no closed segment
        }
        match backup.uploaded_up_to(&tp.topic, tp.partition) {
            Some(up_to) if up_to >= active_base => match p.apply_retention(policy, now_ms) {
                Ok(n) => deleted += n,
                Err(e) => tracing::warn!(partition = %tp, error = %e, "retention failed"),
            },
            up_to => {
                tracing::debug!(partition = %tp, ?up_to, active_base, "retention waits for the backup")
            }
        }
    }
    deleted
}

/// `(base offset, path)` of a partition directory's segment files, sorted.
#[cfg(feature = "backup")]
fn segment_bases(dir: &std::path::Path) -> Vec<(i64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut bases: Vec<(i64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let base = name.strip_suffix(".log")?.parse::<i64>().ok()?;
            Some((base, e.path()))
        })
        .collect();
    bases.sort();
    bases
}

#[cfg(feature = "backup")]
enum ScanItem {
    Segment(chronik_backup::SegmentUpload),
    File(PathBuf),
}

#[cfg(feature = "backup")]
fn scan_sealed(
    logs: &LogManager,
    data_dir: &std::path::Path,
    seen: &std::collections::HashSet<PathBuf>,
) -> Vec<ScanItem> {
    let mut out = Vec::new();
    let relative = |p: &std::path::Path| p.strip_prefix(data_dir).ok().map(|r| r.to_path_buf());
    for p in logs.all_partitions() {
        let tp = p.topic_partition().clone();
        if let Some(meta) = p
            .dir()
            .parent()
            .map(|d| d.join(chronik_storage::TOPIC_META_FILE))
            .and_then(|m| relative(&m))
        {
            if !seen.contains(&meta) && data_dir.join(&meta).exists() {
                out.push(ScanItem::File(meta));
            }
        }
        let bases = segment_bases(p.dir());
        // The newest segment is the active one; every earlier one is sealed
        // and ends where the next begins.
        for pair in bases.windows(2) {
            let ((base, path), (next_base, _)) = (&pair[0], &pair[1]);
            let Some(rel) = relative(path) else { continue };
            if seen.contains(&rel) {
                continue;
            }
            out.push(ScanItem::Segment(chronik_backup::SegmentUpload {
                topic: tp.topic.clone(),
                partition: tp.partition,
                base_offset: *base,
                end_offset: *next_base,
                relative_path: rel,
            }));
        }
    }
    out
}

/// `chronik-server user ...`
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user, or replace its password, in a credentials file.
    Add(UserAddArgs),
}

/// Arguments of `chronik-server user add`.
#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    /// Credentials file (created if missing)
    #[arg(long, env = "CHRONIK_SASL_CREDENTIALS", value_name = "FILE")]
    pub credentials: PathBuf,
    /// Username
    #[arg(long)]
    pub username: String,
    /// Password (visible in the process list and shell history: prefer
    /// --password-stdin)
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// PBKDF2 iterations (4096 to 16384)
    #[arg(long, default_value_t = 4096)]
    pub iterations: u32,
}

/// Runs a `user` subcommand.
pub fn user_command(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add(args) => {
            let password = match (args.password, args.password_stdin) {
                (Some(p), false) => p,
                (None, true) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
                _ => bail!("give the password with --password or --password-stdin"),
            };
            #[cfg(feature = "auth")]
            {
                chronik_auth::add_user(
                    &args.credentials,
                    &args.username,
                    &password,
                    args.iterations,
                )?;
                println!(
                    "user {:?} saved in {}",
                    args.username,
                    args.credentials.display()
                );
                Ok(())
            }
            #[cfg(not(feature = "auth"))]
            {
                let _ = password;
                bail!("`user add` needs a chronik-server built with the `auth` feature")
            }
        }
    }
}

/// Arguments of `chronik-server restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// Backup to restore from: fs:///DIR or s3://BUCKET/PREFIX?region=R&endpoint=URL
    #[arg(long, env = "CHRONIK_BACKUP", value_name = "URL")]
    pub from: String,
    /// Data directory to create (must not exist or be empty)
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

/// Runs `chronik-server restore`.
pub fn restore_command(args: RestoreArgs) -> anyhow::Result<()> {
    #[cfg(feature = "backup")]
    {
        chronik_backup::install_tls_provider();
        let target = chronik_backup::BackupTarget::parse(&args.from)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let report = runtime.block_on(chronik_backup::restore(&target, &args.data_dir))?;
        println!(
            "restored {} files ({} bytes) into {}",
            report.files,
            report.bytes,
            args.data_dir.display()
        );
        Ok(())
    }
    #[cfg(not(feature = "backup"))]
    {
        let _ = args;
        bail!("`restore` needs a chronik-server built with the `backup` feature")
    }
}
