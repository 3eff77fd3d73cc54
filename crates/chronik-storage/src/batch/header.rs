//! The batch header: layout constants, parsing and validation, CRC, the
//! fields the broker rewrites, and iteration over a buffer of batches.

use std::fmt;

/// Bytes before `batchLength`'s counted region: baseOffset (8) + batchLength (4).
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed v2 batch header, up to and including `recordCount`.
pub const HEADER_LEN: usize = 61;
/// Smallest legal `batchLength` value (a header with no records).
pub const MIN_BATCH_LENGTH: i32 = (HEADER_LEN - LOG_OVERHEAD) as i32;
/// The only supported magic value.
pub const MAGIC_V2: i8 = 2;
/// Byte offset of the magic byte (the same in the v0/v1 message formats).
pub const MAGIC_OFFSET: usize = 16;
/// Byte offset of the CRC field.
pub const CRC_OFFSET: usize = 17;
/// Byte offset where the CRC-covered region starts (`attributes`).
pub const ATTRIBUTES_OFFSET: usize = 21;
/// Byte offset of `maxTimestamp`.
pub const MAX_TIMESTAMP_OFFSET: usize = 35;
/// `producerId` value of a batch written by a non-idempotent producer.
pub const NO_PRODUCER_ID: i64 = -1;

const TIMESTAMP_TYPE_BIT: i16 = 1 << 3;
pub(super) const TRANSACTIONAL_BIT: i16 = 1 << 4;
const CONTROL_BIT: i16 = 1 << 5;

/// Why a buffer does not hold a valid record batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The buffer ends before the batch does (a torn or truncated write).
    #[error("truncated batch: need {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the batch needs (at least the header, or the whole batch).
        needed: usize,
        /// Bytes present in the buffer.
        available: usize,
    },
    /// The batch uses a magic value other than 2 (v0/v1 message sets).
    #[error("unsupported record batch magic {0}; only magic 2 is supported")]
    UnsupportedMagic(i8),
    /// `batchLength` is smaller than a header or otherwise impossible.
    #[error("invalid batch length {0}")]
    InvalidLength(i32),
    /// The stored CRC does not match the batch contents.
    #[error("batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// CRC found in the header.
        stored: u32,
        /// CRC-32C computed over attributes..end.
        computed: u32,
    },
}

/// Compression codec named by the low three attribute bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Records are stored uncompressed.
    None,
    /// gzip.
    Gzip,
    /// snappy (xerial framing).
    Snappy,
    /// lz4 frame.
    Lz4,
    /// zstd.
    Zstd,
    /// A codec id this broker does not know (it still stores the bytes).
    Unknown(u8),
}

/// Which clock a batch's timestamps come from (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// Timestamps were set by the producer.
    CreateTime,
    /// `maxTimestamp` was set by the broker when the batch was appended.
    LogAppendTime,
}

/// The fixed header of a v2 record batch, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Length in bytes of everything after the `batchLength` field.
    pub batch_length: i32,
    /// Leader epoch of the partition when the batch was appended.
    pub partition_leader_epoch: i32,
    /// Format version; always 2 for a successfully parsed header.
    pub magic: i8,
    /// CRC-32C of bytes `attributes..end` as stored in the batch.
    pub crc: u32,
    /// Attribute bits (compression, timestamp type, transactional, control).
    pub attributes: i16,
    /// Offset of the last record minus `base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Idempotent producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records in the batch.
    pub record_count: i32,
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}
fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}

impl BatchHeader {
    /// Decodes the header at the start of `buf`.
    ///
    /// Checks that at least [`LOG_OVERHEAD`] + 5 bytes exist to read the magic
    /// byte, that the magic is 2 (reported before anything else, so old-format
    /// message sets get [`BatchError::UnsupportedMagic`]), that the length is
    /// at least a header, and that a whole header is present. It does not
    /// require the whole batch to be present and does not check the CRC.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, BatchError> {
        if buf.len() <= MAGIC_OFFSET {
            return Err(BatchError::Truncated {
                needed: HEADER_LEN,
                available: buf.len(),
            });
        }
        let magic = buf[MAGIC_OFFSET] as i8;
        if magic != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic(magic));
        }
        let batch_length = be_i32(buf, 8);
        if batch_length < MIN_BATCH_LENGTH {
            return Err(BatchError::InvalidLength(batch_length));
        }
        if buf.len() < HEADER_LEN {
            return Err(BatchError::Truncated {
                needed: HEADER_LEN,
                available: buf.len(),
            });
        }
        Ok(BatchHeader {
            base_offset: be_i64(buf, 0),
            batch_length,
            partition_leader_epoch: be_i32(buf, 12),
            magic,
            crc: be_i32(buf, CRC_OFFSET) as u32,
            attributes: be_i16(buf, ATTRIBUTES_OFFSET),
            last_offset_delta: be_i32(buf, 23),
            base_timestamp: be_i64(buf, 27),
            max_timestamp: be_i64(buf, MAX_TIMESTAMP_OFFSET),
            producer_id: be_i64(buf, 43),
            producer_epoch: be_i16(buf, 51),
            base_sequence: be_i32(buf, 53),
            record_count: be_i32(buf, 57),
        })
    }

    /// Total size of the batch in bytes, including offset and length fields.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }

    /// Offset of the last record in the batch.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    /// Sequence number of the last record (wrapping like Kafka at `i32::MAX`).
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return self.base_sequence;
        }
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        if last > i64::from(i32::MAX) {
            (last - i64::from(i32::MAX) - 1) as i32
        } else {
            last as i32
        }
    }

    /// The compression codec of the records.
    pub fn compression(&self) -> Compression {
        match (self.attributes & 0x07) as u8 {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            other => Compression::Unknown(other),
        }
    }

    /// Whether timestamps are producer-set or broker-set.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Whether the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_BIT != 0
    }

    /// Whether the batch is a control batch (transaction markers).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// Whether the batch was written by an idempotent producer.
    pub fn has_producer_id(&self) -> bool {
        self.producer_id >= 0
    }
}

/// Computes the CRC-32C a batch should carry (over `attributes..end`).
///
/// `batch` must hold at least [`HEADER_LEN`] bytes.
pub fn compute_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..])
}

/// Checks that `batch` (exactly one whole batch) carries a correct CRC.
pub fn verify_crc(batch: &[u8]) -> Result<(), BatchError> {
    if batch.len() < HEADER_LEN {
        return Err(BatchError::Truncated {
            needed: HEADER_LEN,
            available: batch.len(),
        });
    }
    let stored = be_i32(batch, CRC_OFFSET) as u32;
    let computed = compute_crc(batch);
    if stored == computed {
        Ok(())
    } else {
        Err(BatchError::CrcMismatch { stored, computed })
    }
}

/// Overwrites the base offset of the batch at the start of `batch`.
///
/// The CRC does not cover this field, so the batch stays valid.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Overwrites the partition leader epoch of the batch at the start of
/// `batch` (bytes 12..16, outside the CRC, so the batch stays valid).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    batch[12..16].copy_from_slice(&epoch.to_be_bytes());
}

/// Marks a batch as LogAppendTime with the given broker time and recomputes
/// its CRC. `batch` must be exactly one whole batch.
///
/// As in Kafka, only the timestamp-type bit and `maxTimestamp` change:
/// consumers then report `maxTimestamp` for every record of the batch.
pub fn set_log_append_time(batch: &mut [u8], timestamp: i64) {
    let attrs = be_i16(batch, ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_BIT;
    batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attrs.to_be_bytes());
    batch[MAX_TIMESTAMP_OFFSET..MAX_TIMESTAMP_OFFSET + 8].copy_from_slice(&timestamp.to_be_bytes());
    let crc = compute_crc(batch);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// One batch found in a buffer: its decoded header and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The decoded header.
    pub header: BatchHeader,
    /// The whole batch, from `baseOffset` to the end of its records.
    pub bytes: &'a [u8],
    /// Where the batch starts within the iterated buffer.
    pub position: usize,
}

impl Batch<'_> {
    /// Checks the batch CRC.
    pub fn verify_crc(&self) -> Result<(), BatchError> {
        verify_crc(self.bytes)
    }
}

/// Iterates over the whole batches laid back to back in a buffer.
///
/// Yields `Err` once, for the first batch that cannot be framed (bad magic,
/// bad length, or a batch running past the end of the buffer), and then
/// stops. It does not check CRCs; call [`Batch::verify_crc`] for that.
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> BatchIter<'a> {
    /// Starts iterating at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        BatchIter {
            buf,
            pos: 0,
            failed: false,
        }
    }

    /// Position just after the last batch yielded successfully.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<Batch<'a>, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let header = match BatchHeader::parse(rest) {
            Ok(h) => h,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        let len = header.total_len();
        if rest.len() < len {
            self.failed = true;
            return Some(Err(BatchError::Truncated {
                needed: len,
                available: rest.len(),
            }));
        }
        let batch = Batch {
            header,
            bytes: &rest[..len],
            position: self.pos,
        };
        self.pos += len;
        Some(Ok(batch))
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Gzip => f.write_str("gzip"),
            Compression::Snappy => f.write_str("snappy"),
            Compression::Lz4 => f.write_str("lz4"),
            Compression::Zstd => f.write_str("zstd"),
            Compression::Unknown(id) => write!(f, "unknown({id})"),
        }
    }
}
