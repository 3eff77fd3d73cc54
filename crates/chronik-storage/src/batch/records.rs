//! The records inside a batch: building uncompressed batches (tests, tools)
//! and decoding their records.

use super::header::{
    compute_crc, BatchHeader, Compression, CRC_OFFSET, HEADER_LEN, LOG_OVERHEAD, MAGIC_V2,
    NO_PRODUCER_ID, TRANSACTIONAL_BIT,
};

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
