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

mod header;
mod records;

pub use header::{
    compute_crc, set_base_offset, set_log_append_time, set_partition_leader_epoch, verify_crc,
    Batch, BatchError, BatchHeader, BatchIter, Compression, TimestampType, ATTRIBUTES_OFFSET,
    CRC_OFFSET, HEADER_LEN, LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V2, MAX_TIMESTAMP_OFFSET,
    MIN_BATCH_LENGTH, NO_PRODUCER_ID,
};
pub use records::{decode_records, records_framing_ok, BatchBuilder, Record};

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
