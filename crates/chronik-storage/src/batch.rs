//! Kafka record batches (magic v2): header parsing, validation, offset rewriting.
//!
//! A record batch is stored and served exactly as the producer sent it. The
//! broker only ever touches the header:
//!
//! ```text
//! offset  size  field
//!      0     8  baseOffset            rewritten by the broker on append
//!      8     4  batchLength           bytes after this field
//!     12     4  partitionLeaderEpoch  set by the broker on append
//!     16     1  magic                 must be 2
//!     17     4  crc                   CRC-32C of bytes 21..end
//!     21     2  attributes            bits 0-2 compression, 3 timestamp type,
//!                                     4 transactional, 5 control
//!     23     4  lastOffsetDelta
//!     27     8  baseTimestamp
//!     35     8  maxTimestamp
//!     43     8  producerId
//!     51     2  producerEpoch
//!     53     4  baseSequence
//!     57     4  recordCount
//!     61     -  records (possibly compressed)
//! ```
//!
//! All integers are big-endian. Because the CRC starts at `attributes`, the
//! base offset and the partition leader epoch can be rewritten without
//! recomputing it; setting LogAppendTime changes `attributes` and
//! `maxTimestamp` and so recomputes the CRC.

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
const TRANSACTIONAL_BIT: i16 = 1 << 4;
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

/// A record to put in a batch built by [`BatchBuilder`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Record timestamp in milliseconds since the epoch.
    pub timestamp: i64,
    /// Optional key.
    pub key: Option<Vec<u8>>,
    /// Optional value (`None` is a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers as (name, value) pairs.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Builds uncompressed v2 record batches, as a producer would.
///
/// The broker never builds batches itself; this exists for tests, tools and
/// benchmarks that need valid input.
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    records: Vec<Record>,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchBuilder {
    /// An empty builder for a non-idempotent batch.
    pub fn new() -> Self {
        BatchBuilder {
            records: Vec::new(),
            producer_id: NO_PRODUCER_ID,
            producer_epoch: -1,
            base_sequence: -1,
            transactional: false,
        }
    }

    /// Marks the batch as written by an idempotent producer.
    pub fn producer(mut self, producer_id: i64, epoch: i16, base_sequence: i32) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Sets the transactional attribute bit.
    pub fn transactional(mut self, yes: bool) -> Self {
        self.transactional = yes;
        self
    }

    /// Adds a record with the given timestamp, key and value.
    pub fn record(mut self, timestamp: i64, key: Option<&[u8]>, value: Option<&[u8]>) -> Self {
        self.records.push(Record {
            timestamp,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            headers: Vec::new(),
        });
        self
    }

    /// Adds a fully specified record.
    pub fn push(mut self, record: Record) -> Self {
        self.records.push(record);
        self
    }

    /// Encodes the batch with base offset 0 and a correct CRC.
    ///
    /// A builder with no records yields a header-only batch with
    /// `recordCount` 0 (invalid for produce, useful for negative tests).
    pub fn build(&self) -> Vec<u8> {
        let base_ts = self.records.first().map_or(-1, |r| r.timestamp);
        let max_ts = self.records.iter().map(|r| r.timestamp).max().unwrap_or(-1);
        let mut body = Vec::new();
        for (i, r) in self.records.iter().enumerate() {
            let mut rec = Vec::new();
            rec.push(0u8); // record attributes
            put_varlong(&mut rec, r.timestamp - base_ts);
            put_varlong(&mut rec, i as i64);
            put_bytes(&mut rec, r.key.as_deref());
            put_bytes(&mut rec, r.value.as_deref());
            put_varlong(&mut rec, r.headers.len() as i64);
            for (k, v) in &r.headers {
                put_bytes(&mut rec, Some(k.as_bytes()));
                put_bytes(&mut rec, v.as_deref());
            }
            put_varlong(&mut body, rec.len() as i64);
            body.extend_from_slice(&rec);
        }
        let mut attrs: i16 = 0;
        if self.transactional {
            attrs |= TRANSACTIONAL_BIT;
        }
        let count = self.records.len() as i32;
        let mut b = Vec::with_capacity(HEADER_LEN + body.len());
        b.extend_from_slice(&0i64.to_be_bytes());
        b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32).to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes()); // partition leader epoch
        b.push(MAGIC_V2 as u8);
        b.extend_from_slice(&0u32.to_be_bytes()); // crc placeholder
        b.extend_from_slice(&attrs.to_be_bytes());
        b.extend_from_slice(&(count - 1).max(0).to_be_bytes());
        b.extend_from_slice(&base_ts.to_be_bytes());
        b.extend_from_slice(&max_ts.to_be_bytes());
        b.extend_from_slice(&self.producer_id.to_be_bytes());
        b.extend_from_slice(&self.producer_epoch.to_be_bytes());
        b.extend_from_slice(&self.base_sequence.to_be_bytes());
        b.extend_from_slice(&count.to_be_bytes());
        b.extend_from_slice(&body);
        let crc = compute_crc(&b);
        b[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
        b
    }
}

fn put_varlong(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        if z < 0x80 {
            out.push(z as u8);
            return;
        }
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
}

fn put_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => put_varlong(out, -1),
        Some(b) => {
            put_varlong(out, b.len() as i64);
            out.extend_from_slice(b);
        }
    }
}

fn get_varlong(buf: &[u8], pos: &mut usize) -> Option<i64> {
    let mut z: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos)?;
        *pos += 1;
        z |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(((z >> 1) as i64) ^ -((z & 1) as i64));
        }
    }
    None
}

fn get_bytes(buf: &[u8], pos: &mut usize) -> Option<Option<Vec<u8>>> {
    let len = get_varlong(buf, pos)?;
    if len < 0 {
        return Some(None);
    }
    let len = usize::try_from(len).ok()?;
    let end = pos.checked_add(len)?;
    let v = buf.get(*pos..end)?.to_vec();
    *pos = end;
    Some(Some(v))
}

/// Checks the record framing of an uncompressed batch: exactly
/// `recordCount` length-prefixed records that fill the batch body. Returns
/// `true` for compressed batches, whose records the broker never reads.
///
/// `batch` must be one whole batch. Fields inside each record are not
/// decoded; this only catches lengths that disagree with each other.
pub fn records_framing_ok(batch: &[u8]) -> bool {
    let Ok(header) = BatchHeader::parse(batch) else {
        return false;
    };
    if header.compression() != Compression::None {
        return true;
    }
    let Some(body) = batch.get(HEADER_LEN..header.total_len()) else {
        return false;
    };
    let mut pos = 0usize;
    for _ in 0..header.record_count.max(0) {
        let Some(len) = get_varlong(body, &mut pos) else {
            return false;
        };
        let Some(end) = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)) else {
            return false;
        };
        if len == 0 || end > body.len() {
            return false;
        }
        pos = end;
    }
    pos == body.len()
}

/// Decodes the records of an uncompressed batch.
///
/// Returns `None` if the batch is compressed or its records are malformed.
/// Timestamps are absolute (base timestamp plus delta); offsets are returned
/// alongside as `base_offset + offsetDelta`. Meant for tests, tools and
/// timestamp lookups inside uncompressed batches.
pub fn decode_records(batch: &[u8]) -> Option<Vec<(i64, Record)>> {
    let header = BatchHeader::parse(batch).ok()?;
    if header.compression() != Compression::None || batch.len() < header.total_len() {
        return None;
    }
    let buf = &batch[HEADER_LEN..header.total_len()];
    let mut pos = 0usize;
    // Each record takes at least one byte: never trust recordCount for the
    // allocation.
    let mut out = Vec::with_capacity((header.record_count.max(0) as usize).min(buf.len()));
    for _ in 0..header.record_count.max(0) {
        let len = usize::try_from(get_varlong(buf, &mut pos)?).ok()?;
        let end = pos.checked_add(len)?;
        let rec = buf.get(pos..end)?;
        let mut p = 1usize; // skip attributes
        let ts_delta = get_varlong(rec, &mut p)?;
        let off_delta = get_varlong(rec, &mut p)?;
        let key = get_bytes(rec, &mut p)?;
        let value = get_bytes(rec, &mut p)?;
        let n_headers = get_varlong(rec, &mut p)?;
        let mut headers = Vec::new();
        for _ in 0..n_headers.max(0) {
            let k = get_bytes(rec, &mut p)??;
            let v = get_bytes(rec, &mut p)?;
            headers.push((String::from_utf8(k).ok()?, v));
        }
        out.push((
            header.base_offset + off_delta,
            Record {
                timestamp: header.base_timestamp + ts_delta,
                key,
                value,
                headers,
            },
        ));
        pos = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        BatchBuilder::new()
            .record(1000, Some(b"k1"), Some(b"v1"))
            .record(1005, None, Some(b"v2"))
            .record(1003, Some(b"k3"), None)
            .build()
    }

    #[test]
    fn parses_built_batch() {
        let b = sample();
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.total_len(), b.len());
        assert_eq!(h.record_count, 3);
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!(h.base_timestamp, 1000);
        assert_eq!(h.max_timestamp, 1005);
        assert_eq!(h.producer_id, -1);
        assert_eq!(h.compression(), Compression::None);
        assert_eq!(h.timestamp_type(), TimestampType::CreateTime);
        verify_crc(&b).unwrap();
    }

    #[test]
    fn base_offset_rewrite_keeps_crc_valid() {
        let mut b = sample();
        set_base_offset(&mut b, 12345);
        verify_crc(&b).unwrap();
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.base_offset, 12345);
        assert_eq!(h.last_offset(), 12347);
    }

    #[test]
    fn leader_epoch_rewrite_keeps_crc_valid() {
        let mut b = sample();
        set_partition_leader_epoch(&mut b, 7);
        verify_crc(&b).unwrap();
        assert_eq!(BatchHeader::parse(&b).unwrap().partition_leader_epoch, 7);
    }

    #[test]
    fn flipped_byte_fails_crc() {
        let mut b = sample();
        let last = b.len() - 1;
        b[last] ^= 0x40;
        assert!(matches!(
            verify_crc(&b),
            Err(BatchError::CrcMismatch { .. })
        ));
    }

    #[test]
    fn log_append_time_sets_flag_and_crc() {
        let mut b = sample();
        set_log_append_time(&mut b, 99_999);
        verify_crc(&b).unwrap();
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.timestamp_type(), TimestampType::LogAppendTime);
        assert_eq!(h.max_timestamp, 99_999);
    }

    #[test]
    fn old_magic_is_reported_first() {
        let mut b = sample();
        b[MAGIC_OFFSET] = 1;
        assert_eq!(BatchHeader::parse(&b), Err(BatchError::UnsupportedMagic(1)));
    }

    #[test]
    fn short_length_is_invalid() {
        let mut b = sample();
        b[8..12].copy_from_slice(&10i32.to_be_bytes());
        assert_eq!(BatchHeader::parse(&b), Err(BatchError::InvalidLength(10)));
    }

    #[test]
    fn iterator_frames_batches_and_reports_torn_tail() {
        let a = sample();
        let mut buf = a.clone();
        buf.extend_from_slice(&a);
        buf.extend_from_slice(&a[..a.len() - 3]);
        let mut it = BatchIter::new(&buf);
        assert_eq!(it.next().unwrap().unwrap().position, 0);
        assert_eq!(it.next().unwrap().unwrap().position, a.len());
        assert!(matches!(
            it.next().unwrap(),
            Err(BatchError::Truncated { .. })
        ));
        assert!(it.next().is_none());
        assert_eq!(it.position(), 2 * a.len());
    }

    #[test]
    fn records_round_trip() {
        let mut b = sample();
        set_base_offset(&mut b, 10);
        let recs = decode_records(&b).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].0, 10);
        assert_eq!(recs[1].1.timestamp, 1005);
        assert_eq!(recs[2].1.value, None);
        assert_eq!(recs[0].1.key.as_deref(), Some(&b"k1"[..]));
    }

    #[test]
    fn record_framing_is_checked() {
        let b = sample();
        assert!(records_framing_ok(&b));
        // Claim one record more than present.
        let mut more = b.clone();
        more[57..61].copy_from_slice(&4i32.to_be_bytes());
        assert!(!records_framing_ok(&more));
        // Claim one fewer: bytes are left over.
        let mut fewer = b.clone();
        fewer[57..61].copy_from_slice(&2i32.to_be_bytes());
        assert!(!records_framing_ok(&fewer));
        // Inflate the first record's length prefix.
        let mut long = b.clone();
        long[HEADER_LEN] = 0x7e;
        assert!(!records_framing_ok(&long));
        // Compressed batches are not inspected.
        let mut gz = b;
        gz[ATTRIBUTES_OFFSET + 1] |= 1;
        assert!(records_framing_ok(&gz));
    }

    #[test]
    fn sequence_wraps_like_kafka() {
        let b = BatchBuilder::new()
            .producer(7, 0, i32::MAX)
            .record(1, None, Some(b"a"))
            .record(1, None, Some(b"b"))
            .build();
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.last_sequence(), 0);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// xorshift64*: a tiny deterministic generator, so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Mutated and random buffers never make the parsers panic, and
    /// anything they accept is internally consistent.
    #[test]
    fn mutated_input_never_panics() {
        let valid = BatchBuilder::new()
            .record(5, Some(b"key"), Some(b"value"))
            .record(9, None, Some(b"second value"))
            .build();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let mut buf = if round % 10 == 0 {
                (0..rng.below(200)).map(|_| rng.next() as u8).collect()
            } else {
                let mut b = valid.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
                if rng.below(4) == 0 {
                    let crc = compute_crc(&b);
                    b[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
                }
                b.truncate(b.len() - rng.below(8));
                b
            };
            for batch in BatchIter::new(&buf).flatten() {
                assert_eq!(batch.bytes.len(), batch.header.total_len());
                let _ = batch.verify_crc();
                let _ = records_framing_ok(batch.bytes);
                let _ = decode_records(batch.bytes);
            }
            let _ = BatchHeader::parse(&buf);
            if buf.len() >= HEADER_LEN {
                set_base_offset(&mut buf, 1);
            }
        }
    }
}
