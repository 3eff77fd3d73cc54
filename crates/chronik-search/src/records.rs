//! Decoding Kafka v2 record batches into the fields the index stores.

use bytes::Bytes;
use kafka_protocol::records::RecordBatchDecoder;

use crate::SearchError;

/// One record as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    /// Absolute offset in the partition.
    pub offset: i64,
    /// Record timestamp in milliseconds since the epoch.
    pub timestamp: i64,
    /// Key bytes, if any.
    pub key: Option<Bytes>,
    /// Value bytes, if any (`None` for tombstones).
    pub value: Option<Bytes>,
    /// Headers in order; a header's value may be null.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// Decodes every record of the concatenated v2 batches in `batches`,
/// decompressing as needed (gzip, snappy, lz4, zstd). Control records
/// (transaction markers) are skipped: they carry no user data.
///
/// A trailing partial batch (as a Kafka fetch may return) is ignored; a
/// corrupt batch (bad CRC, bad varints, unknown magic) is an error.
pub fn decode_batches(batches: &[u8]) -> Result<Vec<DecodedRecord>, SearchError> {
    decode_batches_until(batches).map(|(records, _)| records)
}

/// [`decode_batches`], plus the offset after the last record of any kind
/// seen (control records included), so a reader can move past batches
/// that hold only transaction markers.
pub(crate) fn decode_batches_until(
    batches: &[u8],
) -> Result<(Vec<DecodedRecord>, Option<i64>), SearchError> {
    let mut out = Vec::new();
    let mut end: Option<i64> = None;
    let mut buf = Bytes::copy_from_slice(batches);
    while !buf.is_empty() {
        // base offset (8) + batch length (4) frame every batch.
        if buf.len() < 12 {
            break;
        }
        let length = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
        if length < 0 {
            return Err(SearchError::Decode(format!(
                "negative batch length {length}"
            )));
        }
        if buf.len() < 12 + length as usize {
            break;
        }
        let set = RecordBatchDecoder::decode(&mut buf)
            .map_err(|e| SearchError::Decode(format!("{e:#}")))?;
        if let Some(last) = set.records.iter().map(|r| r.offset).max() {
            end = Some(end.map_or(last + 1, |e| e.max(last + 1)));
        }
        out.extend(set.records.into_iter().filter(|r| !r.control).map(|r| {
            DecodedRecord {
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            }
        }));
    }
    Ok((out, end))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::indexmap::IndexMap;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    /// A test record: key, value and headers.
    pub(crate) type TestRecord<'a> = (Option<&'a str>, Option<&'a str>, &'a [(&'a str, &'a str)]);

    /// Encodes `(key, value, headers)` records as one v2 batch starting at
    /// `base_offset`, as a producer (or the log) would hold them.
    pub(crate) fn batch(
        base_offset: i64,
        records: &[TestRecord<'_>],
        compression: Compression,
    ) -> Bytes {
        let records: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, (k, v, h))| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: base_offset + i as i64,
                sequence: -1,
                timestamp: 1_700_000_000_000 + i as i64,
                key: k.map(|s| Bytes::copy_from_slice(s.as_bytes())),
                value: v.map(|s| Bytes::copy_from_slice(s.as_bytes())),
                headers: h
                    .iter()
                    .map(|(hk, hv)| {
                        (
                            StrBytes::from_string(hk.to_string()),
                            Some(Bytes::copy_from_slice(hv.as_bytes())),
                        )
                    })
                    .collect::<IndexMap<_, _>>(),
            })
            .collect();
        let mut buf = BytesMut::new();
        RecordBatchEncoder::encode(
            &mut buf,
            records.iter(),
            &RecordEncodeOptions {
                version: 2,
                compression,
            },
        )
        .unwrap();
        buf.freeze()
    }

    #[test]
    fn decodes_plain_and_compressed_batches() {
        for compression in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let mut log = BytesMut::new();
            log.extend_from_slice(&batch(
                10,
                &[(Some("k1"), Some("v1"), &[("h", "x")]), (None, None, &[])],
                compression,
            ));
            log.extend_from_slice(&batch(12, &[(Some("k3"), Some("v3"), &[])], compression));
            let records = decode_batches(&log).unwrap();
            assert_eq!(
                records.iter().map(|r| r.offset).collect::<Vec<_>>(),
                [10, 11, 12],
                "{compression:?}"
            );
            assert_eq!(records[0].key.as_deref(), Some(&b"k1"[..]));
            assert_eq!(records[0].headers[0].0, "h");
            assert_eq!(records[1].value, None);
            assert_eq!(records[2].value.as_deref(), Some(&b"v3"[..]));
        }
    }

    #[test]
    fn trailing_partial_batch_is_ignored_and_corruption_reported() {
        let full = batch(0, &[(None, Some("hello"), &[])], Compression::None);
        let mut log = BytesMut::from(&full[..]);
        log.extend_from_slice(&full[..full.len() - 3]);
        assert_eq!(decode_batches(&log).unwrap().len(), 1);

        let mut corrupt = BytesMut::from(&full[..]);
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        let err = decode_batches(&corrupt).unwrap_err();
        assert!(matches!(err, SearchError::Decode(_)), "{err}");
    }
}
