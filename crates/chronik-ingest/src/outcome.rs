//! What a produce returns: its outcome, and the wait for its durability.

use std::sync::Arc;

use chronik_storage::{Partition, StorageError};

use crate::commit::GroupCommit;
use crate::error::ProduceError;

/// The result of a successful produce to one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProduceOutcome {
    /// Offset of the first record (for a duplicate: of the original).
    pub base_offset: i64,
    /// Broker timestamp used for LogAppendTime, or -1 (CreateTime).
    pub log_append_time: i64,
    /// The partition's log start offset.
    pub log_start_offset: i64,
    /// Whether this was a retry of an already appended batch.
    pub duplicate: bool,
}

/// Records appended by `Ingest::append` whose acknowledgement may still
/// wait for a group commit.
#[derive(Debug)]
#[must_use = "the produce is only acknowledged once `wait` resolves"]
pub struct PendingProduce {
    pub(crate) outcome: ProduceOutcome,
    pub(crate) durability: Option<Durability>,
}

/// The fsync an `acks = -1` produce waits for.
#[derive(Debug)]
pub(crate) struct Durability {
    pub(crate) commit: Arc<GroupCommit>,
    pub(crate) ticket: u64,
    pub(crate) partition: Arc<Partition>,
    pub(crate) last_offset: i64,
}

impl PendingProduce {
    /// Whether [`PendingProduce::wait`] would resolve without waiting for
    /// an fsync.
    pub fn is_durable(&self) -> bool {
        self.durability
            .as_ref()
            .is_none_or(|d| d.partition.durable_offset() > d.last_offset)
    }

    /// Waits until the records are durable (for `acks = -1` under
    /// `FsyncPolicy::Always`: the group commit that covers them has run)
    /// and returns the outcome. Fails with a storage error if that fsync
    /// failed.
    pub async fn wait(self) -> Result<ProduceOutcome, ProduceError> {
        if let Some(d) = self.durability {
            d.commit.wait(d.ticket).await;
            if d.partition.durable_offset() <= d.last_offset {
                return Err(ProduceError::Storage(StorageError::Failed));
            }
        }
        Ok(self.outcome)
    }
}
