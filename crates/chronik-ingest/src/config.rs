//! Settings of the produce path.

use std::time::Duration;

use chronik_common::{BrokerConfig, FsyncPolicy};

use crate::validate::DEFAULT_MAX_BATCH_BYTES;

/// Settings of the produce path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// When appended data is fsynced.
    pub fsync: FsyncPolicy,
    /// Largest record batch accepted (MESSAGE_TOO_LARGE above it).
    pub max_batch_bytes: usize,
    /// Stamp batches with the broker's clock (LogAppendTime) instead of
    /// keeping the producer's timestamps.
    pub log_append_time: bool,
    /// How often retention (and producer-state expiry) runs.
    pub retention_check_interval: Duration,
    /// Idempotent producers silent for this long are forgotten (Kafka's
    /// `producer.id.expiration.ms`, default one day).
    pub producer_id_expiration: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            fsync: FsyncPolicy::Always,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            log_append_time: false,
            retention_check_interval: Duration::from_secs(300),
            producer_id_expiration: Duration::from_secs(24 * 3600),
        }
    }
}

impl IngestConfig {
    /// The produce-path part of the broker configuration. The batch limit
    /// is Kafka's default `message.max.bytes`, capped by the frame limit.
    pub fn from_broker(config: &BrokerConfig) -> Self {
        IngestConfig {
            fsync: config.fsync,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES.min(config.max_frame_bytes),
            retention_check_interval: config.retention_check_interval,
            ..IngestConfig::default()
        }
    }
}
