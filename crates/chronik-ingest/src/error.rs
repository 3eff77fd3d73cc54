//! Produce errors and their Kafka error codes.

use chronik_storage::StorageError;

/// Kafka protocol error codes used by the produce path.
pub mod codes {
    /// NONE: success.
    pub const NONE: i16 = 0;
    /// CORRUPT_MESSAGE: CRC mismatch, bad lengths, trailing bytes.
    pub const CORRUPT_MESSAGE: i16 = 2;
    /// UNKNOWN_TOPIC_OR_PARTITION.
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    /// NOT_LEADER_OR_FOLLOWER: the partition went away (deleted, shutting down).
    pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
    /// MESSAGE_TOO_LARGE: a batch exceeds the size limit.
    pub const MESSAGE_TOO_LARGE: i16 = 10;
    /// INVALID_REQUIRED_ACKS: acks other than -1, 0 or 1.
    pub const INVALID_REQUIRED_ACKS: i16 = 21;
    /// UNSUPPORTED_FOR_MESSAGE_FORMAT: magic 0 or 1 message sets.
    pub const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;
    /// OUT_OF_ORDER_SEQUENCE_NUMBER: an idempotent producer skipped sequences.
    pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
    /// INVALID_PRODUCER_EPOCH: the batch's producer epoch is stale.
    pub const INVALID_PRODUCER_EPOCH: i16 = 47;
    /// KAFKA_STORAGE_ERROR: the log could not be written or synced.
    pub const KAFKA_STORAGE_ERROR: i16 = 56;
    /// INVALID_RECORD: record count inconsistent, control batch from a client.
    pub const INVALID_RECORD: i16 = 87;
}

/// Why a produce was rejected. [`ProduceError::code`] gives the Kafka error
/// code to put in the Produce response.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    /// The records are not well-formed batches or a CRC is wrong.
    #[error("corrupt message: {0}")]
    CorruptMessage(String),
    /// The topic or partition does not exist.
    #[error("unknown topic or partition")]
    UnknownTopicOrPartition,
    /// The partition was closed (topic deleted, broker shutting down).
    #[error("partition is no longer served here")]
    NotLeader,
    /// A batch is larger than the configured limit.
    #[error("batch of {size} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// Size of the offending batch.
        size: usize,
        /// Configured limit.
        max: usize,
    },
    /// `acks` is not -1, 0 or 1.
    #[error("invalid required acks {0}")]
    InvalidRequiredAcks(i16),
    /// The batch uses the v0/v1 message format.
    #[error("message format with magic {0} is not supported")]
    UnsupportedForMessageFormat(i8),
    /// An idempotent producer's sequence does not follow the last one.
    #[error("out of order sequence for producer {producer_id}: expected {expected}, got {got}")]
    OutOfOrderSequence {
        /// The producer.
        producer_id: i64,
        /// The next sequence the broker expected.
        expected: i32,
        /// The batch's base sequence.
        got: i32,
    },
    /// The producer epoch is older than the newest one seen.
    #[error("producer {producer_id} epoch {epoch} is older than current epoch {current}")]
    InvalidProducerEpoch {
        /// The producer.
        producer_id: i64,
        /// The batch's epoch.
        epoch: i16,
        /// The newest epoch seen for this producer.
        current: i16,
    },
    /// A batch's records are inconsistent with its header, or not allowed.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// Writing or syncing the log failed.
    #[error("storage error: {0}")]
    Storage(#[source] StorageError),
}

impl ProduceError {
    /// The Kafka error code for this error (see [`codes`]).
    pub fn code(&self) -> i16 {
        match self {
            ProduceError::CorruptMessage(_) => codes::CORRUPT_MESSAGE,
            ProduceError::UnknownTopicOrPartition => codes::UNKNOWN_TOPIC_OR_PARTITION,
            ProduceError::NotLeader => codes::NOT_LEADER_OR_FOLLOWER,
            ProduceError::MessageTooLarge { .. } => codes::MESSAGE_TOO_LARGE,
            ProduceError::InvalidRequiredAcks(_) => codes::INVALID_REQUIRED_ACKS,
            ProduceError::UnsupportedForMessageFormat(_) => codes::UNSUPPORTED_FOR_MESSAGE_FORMAT,
            ProduceError::OutOfOrderSequence { .. } => codes::OUT_OF_ORDER_SEQUENCE_NUMBER,
            ProduceError::InvalidProducerEpoch { .. } => codes::INVALID_PRODUCER_EPOCH,
            ProduceError::InvalidRecord(_) => codes::INVALID_RECORD,
            ProduceError::Storage(_) => codes::KAFKA_STORAGE_ERROR,
        }
    }
}

impl From<StorageError> for ProduceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Closed => ProduceError::NotLeader,
            StorageError::UnknownTopic(_) => ProduceError::UnknownTopicOrPartition,
            StorageError::InvalidBatch(b) => ProduceError::CorruptMessage(b.to_string()),
            other => ProduceError::Storage(other),
        }
    }
}
