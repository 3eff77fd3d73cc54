//! The state every handler works on.

use std::sync::Arc;

use anyhow::Context;
use chronik_common::{BrokerConfig, FsyncPolicy};
use chronik_coordinator::{CoordinatorConfig, GroupCoordinator};
use chronik_ingest::{Ingest, IngestConfig};
use chronik_storage::{LogManager, StorageConfig};
use tokio::sync::watch;

use crate::subsystems::{storage_view, Subsystems};
use crate::Options;

/// Cluster id reported in metadata. A single node is its own cluster; the
/// value only needs to be stable.
pub const CLUSTER_ID: &str = "chronik-single-node";

/// Shared broker state: configuration and the logs.
#[derive(Debug)]
pub struct Broker {
    /// Resolved configuration, with the advertised port already fixed up
    /// when listening on port 0.
    pub config: BrokerConfig,
    /// All topics and partitions.
    pub logs: Arc<LogManager>,
    /// The produce path (validation, idempotence, group commit).
    pub ingest: Arc<Ingest>,
    /// Consumer groups and committed offsets (`<data-dir>/groups`).
    pub groups: GroupCoordinator,
    /// Optional subsystems (metrics, SASL, search, backup); see
    /// [`crate::subsystems`].
    pub subsystems: Subsystems,
    /// Flips to `true` when shutdown begins.
    stop: watch::Sender<bool>,
}

impl Broker {
    /// Opens (and if needed recovers) the data directory and starts the
    /// optional subsystems `options` asks for.
    pub async fn open(config: BrokerConfig, options: &Options) -> anyhow::Result<Self> {
        options.check_available()?;
        // With backup on, retention moves to the backup glue, which applies
        // it only to partitions whose sealed segments are all uploaded.
        let storage = StorageConfig::from_broker(&storage_view(&config, options));
        let dir = storage.data_dir.clone();
        let logs = tokio::task::spawn_blocking(move || LogManager::open(storage))
            .await
            .context("log recovery task failed")?
            .with_context(|| format!("opening data directory {}", dir.display()))?;
        let logs = Arc::new(logs);
        let ingest = Ingest::open(Arc::clone(&logs), IngestConfig::from_broker(&config))
            .await
            .context("starting the produce path")?;
        let groups_dir = config.data_dir.join("groups");
        let groups_config = CoordinatorConfig {
            // Offset commits follow the log's policy: with `interval` or
            // `never`, a machine crash may lose recent commits.
            fsync: config.fsync == FsyncPolicy::Always,
            ..CoordinatorConfig::default()
        };
        let groups =
            tokio::task::spawn_blocking(move || GroupCoordinator::open(&groups_dir, groups_config))
                .await
                .context("group coordinator open task failed")?
                .context("opening the group coordinator")?;
        let subsystems = Subsystems::start(options, &config, &logs, &ingest, &groups)
            .await
            .context("starting optional subsystems")?;
        Ok(Broker {
            config,
            logs,
            ingest,
            groups,
            subsystems,
            stop: watch::Sender::new(false),
        })
    }

    /// A receiver that sees `true` once shutdown has begun. Connections stop
    /// reading new requests and long polls return early.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Starts shutdown: see [`Broker::stop_signal`]. Group requests parked
    /// for a rebalance are answered (NOT_COORDINATOR) so connections drain.
    pub fn begin_shutdown(&self) {
        self.stop.send_replace(true);
        self.groups.shutdown();
    }

    /// Flushes and closes every log (the ingest path's final flush and
    /// clean-shutdown marker). Called once, after the last request.
    pub async fn shutdown(&self) {
        self.subsystems.shutdown().await;
        self.ingest.shutdown().await;
    }
}
