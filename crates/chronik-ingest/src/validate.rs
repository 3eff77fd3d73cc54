//! Validation of produced records before they reach the log.

use chronik_storage::batch::{self, BatchError, BatchHeader, BatchIter};

use crate::error::ProduceError;

/// Kafka's default `message.max.bytes`: the largest batch accepted.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 1_048_588;

/// Checks that `records` is one or more whole v2 record batches, each valid,
/// and returns each batch's position and header.
///
/// In order, per batch: framing (magic 2 else UNSUPPORTED_FOR_MESSAGE_FORMAT;
/// lengths consistent and no trailing bytes else CORRUPT_MESSAGE), size
/// (MESSAGE_TOO_LARGE above `max_batch_bytes`), CRC (CORRUPT_MESSAGE), and
/// record accounting (`recordCount >= 1` and `lastOffsetDelta ==
/// recordCount - 1`, for uncompressed batches record lengths that exactly
/// fill the batch, not a control batch, else INVALID_RECORD). Compressed
/// records are never decompressed.
pub fn validate_records(
    records: &[u8],
    max_batch_bytes: usize,
) -> Result<Vec<(usize, BatchHeader)>, ProduceError> {
    if records.is_empty() {
        return Err(ProduceError::CorruptMessage("no record batches".into()));
    }
    let mut out = Vec::new();
    for b in BatchIter::new(records) {
        let b = b.map_err(|e| match e {
            BatchError::UnsupportedMagic(m) => ProduceError::UnsupportedForMessageFormat(m),
            other => ProduceError::CorruptMessage(other.to_string()),
        })?;
        let h = b.header;
        if b.bytes.len() > max_batch_bytes {
            return Err(ProduceError::MessageTooLarge {
                size: b.bytes.len(),
                max: max_batch_bytes,
            });
        }
        b.verify_crc()
            .map_err(|e| ProduceError::CorruptMessage(e.to_string()))?;
        if h.record_count < 1 {
            return Err(ProduceError::InvalidRecord(format!(
                "batch has record count {}",
                h.record_count
            )));
        }
        if i64::from(h.last_offset_delta) != i64::from(h.record_count) - 1 {
            return Err(ProduceError::InvalidRecord(format!(
                "record count {} does not match last offset delta {}",
                h.record_count, h.last_offset_delta
            )));
        }
        if !batch::records_framing_ok(b.bytes) {
            return Err(ProduceError::InvalidRecord(
                "record lengths do not fill the batch".into(),
            ));
        }
        if h.is_control() {
            return Err(ProduceError::InvalidRecord(
                "clients may not write control batches".into(),
            ));
        }
        out.push((b.position, h));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chronik_storage::batch::{compute_crc, BatchBuilder, CRC_OFFSET, MAGIC_OFFSET};

    fn one() -> Vec<u8> {
        BatchBuilder::new()
            .record(5, Some(b"k"), Some(b"v"))
            .record(6, None, Some(b"w"))
            .build()
    }

    fn fix_crc(b: &mut [u8]) {
        let crc = compute_crc(b);
        b[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    }

    #[test]
    fn accepts_several_valid_batches() {
        let mut buf = one();
        buf.extend_from_slice(&one());
        assert_eq!(validate_records(&buf, 1 << 20).unwrap().len(), 2);
    }

    #[test]
    fn codes_per_failure() {
        let code = |b: &[u8], max: usize| validate_records(b, max).unwrap_err().code();
        assert_eq!(code(&[], 1 << 20), 2);

        let mut old = one();
        old[MAGIC_OFFSET] = 1;
        assert_eq!(code(&old, 1 << 20), 43);

        let mut bad_crc = one();
        *bad_crc.last_mut().unwrap() ^= 1;
        assert_eq!(code(&bad_crc, 1 << 20), 2);

        let mut trailing = one();
        trailing.extend_from_slice(&[0, 0, 0]);
        assert_eq!(code(&trailing, 1 << 20), 2);

        let short = one();
        assert_eq!(code(&short[..short.len() - 1], 1 << 20), 2);

        assert_eq!(code(&one(), 20), 10);

        let empty = BatchBuilder::new().build();
        assert_eq!(code(&empty, 1 << 20), 87);

        let mut mismatch = one();
        mismatch[57..61].copy_from_slice(&5i32.to_be_bytes());
        fix_crc(&mut mismatch);
        assert_eq!(code(&mismatch, 1 << 20), 87);

        let mut bad_len = one();
        bad_len[61] = 0x7e; // first record's length prefix
        fix_crc(&mut bad_len);
        assert_eq!(code(&bad_len, 1 << 20), 87);

        let mut control = one();
        control[22] |= 1 << 5;
        fix_crc(&mut control);
        assert_eq!(code(&control, 1 << 20), 87);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use chronik_storage::batch::{compute_crc, verify_crc, BatchBuilder, CRC_OFFSET};

    /// Random corruptions of valid input are rejected or accepted, never a
    /// panic; whatever is accepted has correct CRCs and record counts.
    #[test]
    fn corrupted_produce_input_never_panics() {
        let mut valid = BatchBuilder::new()
            .record(1, Some(b"k"), Some(b"v"))
            .record(2, Some(b"k2"), None)
            .build();
        valid.extend_from_slice(&BatchBuilder::new().record(3, None, Some(b"z")).build());
        let mut state: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut b = valid.clone();
            let flips = 1 + (next() % 3) as usize;
            for _ in 0..flips {
                let i = (next() % b.len() as u64) as usize;
                b[i] = next() as u8;
            }
            if next() % 2 == 0 {
                // Re-seal the first batch so mutations get past the CRC.
                let first = BatchHeader::parse(&b)
                    .map(|h| h.total_len())
                    .unwrap_or(0)
                    .min(b.len());
                if first >= 61 {
                    let crc = compute_crc(&b[..first]);
                    b[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
                }
            }
            if let Ok(batches) = validate_records(&b, 1 << 20) {
                accepted += 1;
                for (pos, h) in batches {
                    verify_crc(&b[pos..pos + h.total_len()]).unwrap();
                    assert_eq!(
                        i64::from(h.last_offset_delta) + 1,
                        i64::from(h.record_count)
                    );
                }
            }
        }
        // Flips in the base offset or leader epoch are harmless, so some
        // inputs must pass.
        assert!(accepted > 0);
    }
}
