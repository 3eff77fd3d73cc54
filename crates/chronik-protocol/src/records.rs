//! Building record batches, for load generators and tests that produce
//! through the wire protocol.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// One uncompressed v2 record batch holding `values` (no keys, no headers,
/// no producer id), the i-th timestamped `first_timestamp + i`, the way a
/// plain producer sends it.
pub fn value_batch(
    values: impl IntoIterator<Item = Bytes>,
    first_timestamp: i64,
) -> anyhow::Result<Bytes> {
    let records: Vec<Record> = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder starts a new batch whenever offset - sequence
            // changes; keeping it constant keeps every record in one batch.
            sequence: i as i32,
            timestamp: first_timestamp + i as i64,
            key: None,
            value: Some(value),
            headers: IndexMap::new(),
            delete_horizon: false,
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )?;
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::RecordBatchDecoder;

    #[test]
    fn one_batch_with_the_values_in_order() {
        let values = ["a", "bb", "ccc"].map(|v| Bytes::from_static(v.as_bytes()));
        let mut encoded = value_batch(values.clone(), 1_000).unwrap();
        let batches = RecordBatchDecoder::decode_all(&mut encoded).unwrap();
        assert_eq!(batches.len(), 1);
        let records = &batches[0].records;
        assert_eq!(records.len(), 3);
        let got: Vec<_> = records.iter().map(|r| r.value.clone().unwrap()).collect();
        assert_eq!(got, values);
        let stamps: Vec<i64> = records.iter().map(|r| r.timestamp).collect();
        assert_eq!(stamps, [1_000, 1_001, 1_002]);
    }
}
