//! Optional subsystems, each compiled in by a cargo feature of this crate
//! (forwarded from chronik-server's feature of the same name) and living in
//! its own module:
//!
//! * `monitoring` (feature `monitoring`): Prometheus metrics at `/metrics`
//!   on the HTTP listener (`--http`), request spans for OpenTelemetry trace
//!   export (`--otlp-endpoint`, whose exporter chronik-server's logging
//!   sets up);
//! * `auth` (feature `auth`): SASL/PLAIN and SCRAM-SHA-256 (`--sasl-credentials
//!   FILE`; then every connection must authenticate before anything but
//!   ApiVersions, see [`crate::session`]);
//! * `search` (feature `search`): full-text search over the topics named by
//!   `--search-topics`, at `/search` on the HTTP listener;
//! * `backup` (feature `backup`): sealed segments and topic metadata uploaded to
//!   `--backup URL` (`chronik-server restore` rebuilds a data directory
//!   from it);
//! * `http` (either `monitoring` or `search`): the HTTP listener.
//!
//! Without a feature its module is absent, and asking for it in the
//! [`Options`] is an error naming the feature
//! ([`Options::check_available`]).
//! The rest of the broker calls only [`Subsystems`], whose methods cost
//! nothing in a build without the features.

#[cfg(feature = "auth")]
mod auth;
#[cfg(feature = "backup")]
mod backup;
#[cfg(any(feature = "monitoring", feature = "search"))]
mod http;
#[cfg(feature = "monitoring")]
mod monitoring;
#[cfg(feature = "search")]
mod search;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chronik_common::BrokerConfig;
use chronik_coordinator::GroupCoordinator;
use chronik_ingest::Ingest;
use chronik_protocol::{ApiKey, RequestFrame};
use chronik_storage::LogManager;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::session::Session;
use crate::Options;

/// The configuration storage is opened with. With backup enabled, storage's
/// own retention is switched off: the backup subsystem applies the
/// configured policy itself, and only to partitions whose sealed segments
/// are all in the backup, so data not yet uploaded is never deleted.
pub fn storage_view(config: &BrokerConfig, options: &Options) -> BrokerConfig {
    #[cfg(feature = "backup")]
    if options.backup.is_some() {
        return backup::storage_view(config);
    }
    let _ = options;
    config.clone()
}

/// The running optional subsystems of a broker.
#[derive(Default)]
pub struct Subsystems {
    #[cfg(feature = "monitoring")]
    monitoring: Option<monitoring::Monitoring>,
    #[cfg(feature = "auth")]
    credentials: Option<Arc<chronik_auth::CredentialStore>>,
    #[cfg(feature = "search")]
    search: Option<Arc<chronik_search::SearchEngine>>,
    #[cfg(feature = "backup")]
    backup: Option<chronik_backup::Backup>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    stop: Option<watch::Sender<bool>>,
}

impl std::fmt::Debug for Subsystems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Subsystems");
        #[cfg(feature = "monitoring")]
        d.field("metrics", &self.monitoring.is_some());
        #[cfg(feature = "auth")]
        d.field("sasl", &self.credentials.is_some());
        #[cfg(feature = "search")]
        d.field("search", &self.search.as_ref().map(|s| s.topics()));
        #[cfg(feature = "backup")]
        d.field("backup", &self.backup.is_some());
        d.finish_non_exhaustive()
    }
}

impl Subsystems {
    /// Starts what `options` and the build's features call for: loads the
    /// credentials, registers the metrics, opens the search indexes (and
    /// catches them up with the logs in the background), starts the backup
    /// uploader and the HTTP listener.
    #[allow(unused_variables, unused_mut)]
    pub async fn start(
        options: &Options,
        config: &BrokerConfig,
        logs: &Arc<LogManager>,
        ingest: &Ingest,
        groups: &GroupCoordinator,
    ) -> anyhow::Result<Self> {
        options.check_available()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut this = Subsystems {
            stop: Some(stop_tx),
            ..Subsystems::default()
        };
        let mut tasks = Vec::new();

        #[cfg(feature = "auth")]
        if let Some(path) = &options.sasl_credentials {
            this.credentials = Some(auth::load(path)?);
        }

        #[cfg(feature = "monitoring")]
        {
            let traced = options.trace_requests;
            this.monitoring = Some(monitoring::Monitoring::start(logs, ingest, groups, traced)?);
        }

        #[cfg(feature = "search")]
        if let Some((engine, task)) =
            search::start(&options.search_topics, config, logs, stop_rx.clone()).await?
        {
            tasks.push(task);
            this.search = Some(engine);
        }

        #[cfg(feature = "backup")]
        if let Some(url) = &options.backup {
            let on_upload = this.upload_hook();
            let (backup, task) = backup::start(
                url,
                options.backup_scan_ms,
                config,
                logs,
                on_upload,
                stop_rx.clone(),
            )?;
            tasks.push(task);
            this.backup = Some(backup);
        }

        #[cfg(any(feature = "monitoring", feature = "search"))]
        {
            #[cfg(feature = "monitoring")]
            let metrics = this.monitoring.as_ref().map(|m| m.http_source());
            #[cfg(not(feature = "monitoring"))]
            let metrics = None;
            #[cfg(feature = "search")]
            let search = this.search.as_ref().map(search::http_source);
            #[cfg(not(feature = "search"))]
            let search = None;
            tasks.extend(http::start(config.http, metrics, search, stop_rx.clone()).await);
        }

        *this.tasks.lock().unwrap_or_else(|e| e.into_inner()) = tasks;
        Ok(this)
    }

    /// Counts backup uploads in the metrics, when there are metrics.
    #[cfg(feature = "backup")]
    fn upload_hook(&self) -> Option<Arc<dyn Fn(bool) + Send + Sync>> {
        #[cfg(feature = "monitoring")]
        if let Some(m) = &self.monitoring {
            return Some(m.upload_hook());
        }
        None
    }

    /// A new connection's state: it must authenticate when SASL is on.
    pub fn session(&self) -> Session {
        #[cfg(feature = "auth")]
        if let Some(store) = &self.credentials {
            return Session::authenticating(auth::server(store));
        }
        Session::open()
    }

    /// The span to run one request in when traces are exported (named after
    /// the API, e.g. `Produce`); a disabled span, which costs nothing,
    /// otherwise.
    #[inline]
    #[allow(unused_variables)]
    pub fn request_span(&self, request: &RequestFrame) -> tracing::Span {
        #[cfg(feature = "monitoring")]
        if let Some(m) = &self.monitoring {
            return m.request_span(request);
        }
        tracing::Span::none()
    }

    /// Counts one request: its API, whether it was answered normally, and
    /// the bytes read and written for it.
    #[inline]
    #[allow(unused_variables)]
    pub fn on_request(&self, api: ApiKey, ok: bool, bytes_in: usize, bytes_out: usize) {
        #[cfg(feature = "monitoring")]
        if let Some(m) = &self.monitoring {
            m.on_request(api, ok, bytes_in, bytes_out);
        }
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
            search::commit(engine).await;
        }
    }
}
