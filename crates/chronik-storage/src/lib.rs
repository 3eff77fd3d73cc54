//! Log storage for Chronik Stream: Kafka record batches in segment files.
//!
//! The broker stores record batches exactly as producers send them (magic v2,
//! possibly compressed) and serves the same bytes on fetch; the only change
//! is the base offset, which [`Partition::append`] assigns. The on-disk
//! format, the recovery rules and the durability argument are described in
//! [`format`](mod@format) (the crate's `FORMAT.md`).
//!
//! # Using it
//!
//! ```no_run
//! use chronik_common::TopicPartition;
//! use chronik_storage::{LogManager, StorageConfig, batch::BatchBuilder};
//!
//! # fn main() -> Result<(), chronik_storage::StorageError> {
//! let logs = LogManager::open(StorageConfig::new("/tmp/chronik-data"))?;
//! logs.create_topic("orders", 3)?;
//! let p = logs.partition(&TopicPartition::new("orders", 0)).unwrap();
//!
//! // Append whole batches; offsets are assigned by rewriting baseOffset.
//! let mut batch = BatchBuilder::new().record(1_700_000_000_000, None, Some(b"hi")).build();
//! let info = p.append(&mut batch)?;
//! assert_eq!(info.base_offset, 0);
//!
//! // Fetch: whole batches from the one holding the offset, up to max bytes.
//! let read = p.read(0, 1 << 20)?;
//! assert_eq!(&read.records[..], &batch[..]);
//!
//! // Wait for data (in async code): `rx.changed().await` fires after appends.
//! let rx = p.subscribe();
//! assert_eq!(*rx.borrow(), 1);
//!
//! p.flush()?;        // fsync (the ingest crate group-commits these)
//! logs.close()?;     // on shutdown: flush, seal, write the clean marker
//! # Ok(()) }
//! ```
//!
//! # API at a glance
//!
//! * [`LogManager`]: [`open`](LogManager::open), [`create_topic`](LogManager::create_topic),
//!   [`create_partitions`](LogManager::create_partitions),
//!   [`delete_topic`](LogManager::delete_topic), [`topics`](LogManager::topics),
//!   [`partition_count`](LogManager::partition_count), [`partition`](LogManager::partition),
//!   [`all_partitions`](LogManager::all_partitions),
//!   [`enforce_retention`](LogManager::enforce_retention), [`close`](LogManager::close).
//! * [`Partition`] (Produce): [`append`](Partition::append).
//!   (Fetch): [`read`](Partition::read), [`subscribe`](Partition::subscribe),
//!   [`log_end_offset`](Partition::log_end_offset) (= high watermark and last
//!   stable offset on this single node), [`log_start_offset`](Partition::log_start_offset).
//!   (ListOffsets): [`offset_for_timestamp`](Partition::offset_for_timestamp),
//!   [`max_timestamp_offset`](Partition::max_timestamp_offset) (timestamp -3).
//!   (Durability): [`flush`](Partition::flush), [`durable_offset`](Partition::durable_offset),
//!   [`is_dirty`](Partition::is_dirty).
//! * [`batch`]: v2 batch header parsing, CRC checks, and [`batch::BatchBuilder`]
//!   for building valid batches in tests and tools.
//!
//! # Concurrency
//!
//! [`LogManager`] and [`Partition`] are `Send + Sync`; share them in `Arc`s.
//! All methods are synchronous and may block on file I/O (page-cache writes
//! and positional reads; fsync only in [`Partition::flush`], when a segment
//! rolls, and on close). Async callers may call `append`/`read` directly
//! (they are short) but should run `flush`, `close`, `create_topic`,
//! `delete_topic` and `enforce_retention` (all of which fsync or delete
//! files) in `tokio::task::spawn_blocking`.
//!
//! # Error mapping for the server
//!
//! * [`StorageError::OffsetOutOfRange`] -> OFFSET_OUT_OF_RANGE (1)
//! * [`StorageError::UnknownTopic`] -> UNKNOWN_TOPIC_OR_PARTITION (3)
//! * [`StorageError::TopicExists`] -> TOPIC_ALREADY_EXISTS (36)
//! * [`StorageError::InvalidTopicName`] -> INVALID_TOPIC_EXCEPTION (17)
//! * [`StorageError::InvalidPartitions`] -> INVALID_PARTITIONS (37)
//! * [`StorageError::InvalidBatch`] -> CORRUPT_MESSAGE (2)
//! * [`StorageError::Closed`] -> NOT_LEADER_OR_FOLLOWER (6) (the partition
//!   went away; clients refresh metadata)
//! * [`StorageError::CorruptBatch`] and anything else -> KAFKA_STORAGE_ERROR (56)

pub mod batch;
pub mod error;
pub mod fault;
mod index;
mod manager;
mod partition;
mod segment;

#[doc = include_str!("../FORMAT.md")]
pub mod format {}

use std::fs::File;
use std::io::Write;
use std::path::Path;

pub use error::{Result, StorageError};
pub use manager::{
    LogManager, StorageConfig, TopicInfo, CLEAN_SHUTDOWN_FILE, DEFAULT_SEGMENT_AGE, LOCK_FILE,
    MAX_PARTITIONS, TOPIC_META_FILE,
};
pub use partition::{
    AppendInfo, LogConfig, Partition, ReadResult, RetentionPolicy, TimestampOffset,
};

/// Leader epoch of every partition of this single-node broker; appended
/// batches carry it in their `partitionLeaderEpoch` field, as Kafka does,
/// and the server reports it in Metadata and ListOffsets.
pub const LEADER_EPOCH: i32 = 0;

/// fsyncs a directory so that entries created, renamed or removed in it
/// survive a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(format!("syncing directory {}", dir.display()), e))?;
    fault::dir_synced(dir);
    Ok(())
}

/// Writes `data` to `path` atomically: a temporary file in the same
/// directory is written and fsynced, renamed over `path`, and the directory
/// is fsynced. Readers see the old or the new contents, never a mix.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    let mut f = File::create(&tmp).map_err(|e| StorageError::io(ctx("creating"), e))?;
    fault::created(&tmp);
    f.write_all(data)
        .map_err(|e| StorageError::io(ctx("writing"), e))?;
    f.sync_all()
        .map_err(|e| StorageError::io(ctx("syncing"), e))?;
    fault::synced(&tmp, data.len() as u64);
    drop(f);
    fault::rename(&tmp, path).map_err(|e| {
        StorageError::io(
            format!("renaming {} to {}", tmp.display(), path.display()),
            e,
        )
    })?;
    sync_dir(dir)
}
