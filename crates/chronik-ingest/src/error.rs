//! Produce errors and their Kafka error codes: the one place where
//! storage and produce errors become Kafka errors ([`storage_error_code`],
//! [`ProduceError::error_code`]). Kafka error codes are spelled one way in
//! the whole workspace, as `kafka_protocol`'s [`ResponseError`].

use chronik_storage::StorageError;
pub use kafka_protocol::ResponseError;

/// The Kafka error for a storage error, wherever the broker reports one
/// (produce, fetch, list offsets, topic administration).
pub fn storage_error_code(e: &StorageError) -> ResponseError {
    match e {
        StorageError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange,
        StorageError::UnknownTopic(_) => ResponseError::UnknownTopicOrPartition,
        StorageError::TopicExists(_) => ResponseError::TopicAlreadyExists,
        StorageError::InvalidTopicName(_) => ResponseError::InvalidTopicException,
        StorageError::InvalidPartitions(_) => ResponseError::InvalidPartitions,
        StorageError::InvalidBatch(_) => ResponseError::CorruptMessage,
        // The partition went away (topic deleted, broker shutting down).
        StorageError::Closed => ResponseError::NotLeaderOrFollower,
        _ => ResponseError::KafkaStorageError,
    }
}

/// Why a produce was rejected. [`ProduceError::error_code`] gives the Kafka
/// error to put in the Produce response.
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
    /// The Kafka error for this error.
    pub fn error_code(&self) -> ResponseError {
        match self {
            ProduceError::CorruptMessage(_) => ResponseError::CorruptMessage,
            ProduceError::UnknownTopicOrPartition => ResponseError::UnknownTopicOrPartition,
            ProduceError::NotLeader => ResponseError::NotLeaderOrFollower,
            ProduceError::MessageTooLarge { .. } => ResponseError::MessageTooLarge,
            ProduceError::InvalidRequiredAcks(_) => ResponseError::InvalidRequiredAcks,
            ProduceError::UnsupportedForMessageFormat(_) => {
                ResponseError::UnsupportedForMessageFormat
            }
            ProduceError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
            ProduceError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
            ProduceError::InvalidRecord(_) => ResponseError::InvalidRecord,
            ProduceError::Storage(e) => storage_error_code(e),
        }
    }

    /// The error code to put in the Produce response: [`Self::error_code`]
    /// on the wire.
    pub fn code(&self) -> i16 {
        self.error_code().code()
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
