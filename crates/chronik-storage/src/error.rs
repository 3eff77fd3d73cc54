//! Storage errors.

use std::path::PathBuf;

use crate::batch::BatchError;

/// Errors returned by the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The requested offset is below the log start or above the log end
    /// (Kafka's OFFSET_OUT_OF_RANGE). `log_end_offset` itself is in range:
    /// reading there returns no data.
    #[error("offset {requested} out of range [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        /// The offset asked for.
        requested: i64,
        /// First offset still stored.
        log_start_offset: i64,
        /// Offset the next appended record will get.
        log_end_offset: i64,
    },
    /// The data appended is not a sequence of whole v2 record batches.
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[from] BatchError),
    /// The topic does not exist.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// A topic with this name already exists.
    #[error("topic {0:?} already exists")]
    TopicExists(String),
    /// The topic name breaks Kafka's naming rules.
    #[error("invalid topic name: {0}")]
    InvalidTopicName(String),
    /// The partition count is outside 1..=[`MAX_PARTITIONS`](crate::MAX_PARTITIONS)
    /// or smaller than the current count.
    #[error("invalid partition count {0}")]
    InvalidPartitions(i32),
    /// A stored batch failed its CRC check when read: the disk corrupted it
    /// after it was written. It is never served.
    #[error(
        "stored batch at offset {offset} (file position {position}) of {partition} is corrupt"
    )]
    CorruptBatch {
        /// The partition, as `topic-partition`.
        partition: String,
        /// Offset the read was looking for.
        offset: i64,
        /// Position of the batch in its segment file.
        position: u64,
    },
    /// The partition was deleted or the log manager shut down.
    #[error("partition is closed (topic deleted or broker shutting down)")]
    Closed,
    /// An earlier fsync failed; the partition refuses writes because the
    /// page cache can no longer be trusted to match the disk.
    #[error("partition failed after an earlier I/O error; restart to recover")]
    Failed,
    /// On-disk metadata could not be understood.
    #[error("corrupt metadata in {path}: {message}")]
    CorruptMetadata {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Another process holds the data directory lock.
    #[error("data directory {0} is in use by another process")]
    Locked(PathBuf),
}

impl StorageError {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StorageError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias using [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
