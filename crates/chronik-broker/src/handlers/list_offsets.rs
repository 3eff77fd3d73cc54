//! ListOffsets: earliest (-2), latest (-1), max timestamp (-3) and
//! first offset at or after a timestamp.

use chronik_common::TopicPartition;
use chronik_ingest::{storage_error_code, ResponseError};
use chronik_storage::Partition;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::broker::Broker;

/// Timestamp asking for the log end offset.
pub const LATEST: i64 = -1;
/// Timestamp asking for the log start offset.
pub const EARLIEST: i64 = -2;
/// Timestamp asking for the record with the largest timestamp (v7+).
pub const MAX_TIMESTAMP: i64 = -3;

/// Resolves every requested partition's offset.
pub fn handle(broker: &Broker, req: ListOffsetsRequest, version: i16) -> ListOffsetsResponse {
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let base = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    let tp = TopicPartition::new(t.name.as_str(), p.partition_index);
                    let Some(log) = broker.logs.partition(&tp) else {
                        return base
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                            .with_timestamp(-1)
                            .with_offset(-1);
                    };
                    match resolve(&log, p.timestamp) {
                        Ok((offset, timestamp)) => {
                            let mut r = base.with_offset(offset).with_timestamp(timestamp);
                            if version >= 4 {
                                r.leader_epoch = if offset >= 0 { 0 } else { -1 };
                            }
                            r
                        }
                        Err(code) => base
                            .with_error_code(code)
                            .with_timestamp(-1)
                            .with_offset(-1),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// `(offset, timestamp)` for one partition; -1/-1 when no record matches.
fn resolve(log: &Partition, timestamp: i64) -> Result<(i64, i64), i16> {
    match timestamp {
        LATEST => Ok((log.log_end_offset(), -1)),
        EARLIEST => Ok((log.log_start_offset(), -1)),
        MAX_TIMESTAMP => {
            // The last record of the batch with the largest max timestamp
            // (first such batch on ties, as Kafka does).
            let mut best: Option<(i64, i64)> = None;
            log.scan_headers(log.log_start_offset(), |h| {
                if best.is_none_or(|(_, ts)| h.max_timestamp > ts) {
                    best = Some((h.last_offset(), h.max_timestamp));
                }
            })
            .map_err(|e| storage_error_code(&e).code())?;
            Ok(best.unwrap_or((-1, -1)))
        }
        ts if ts >= 0 => match log.offset_for_timestamp(ts) {
            Ok(Some(found)) => Ok((found.offset, found.timestamp)),
            Ok(None) => Ok((-1, -1)),
            Err(e) => Err(storage_error_code(&e).code()),
        },
        _ => Err(ResponseError::InvalidRequest.code()),
    }
}
