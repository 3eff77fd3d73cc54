//! Produce: hand each partition's record set to the ingest path
//! (validation, idempotence, offsets, group-commit fsync).
//!
//! Two halves, so a connection can pipeline: [`start`] appends every
//! partition's records in request order, and [`InFlight::finish`] waits for
//! their durability (with `acks=-1` the fsync waits overlap, so one group
//! commit covers the whole request, and several requests) and builds the
//! response.

use chronik_common::TopicPartition;
use chronik_ingest::{PendingProduce, ProduceError, ResponseError};
use chronik_protocol::{produce_partition_error, produce_response};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use crate::broker::Broker;
use crate::handlers::{join_all, metadata};

/// Produces every partition's records. Returns `Ok(None)` for a successful
/// `acks=0` produce (the client expects no response) and `Err` with the
/// reason when an `acks=0` produce failed: the connection is then closed,
/// as Kafka does, so the client notices.
pub async fn handle(
    broker: &Broker,
    req: ProduceRequest,
    _version: i16,
) -> Result<Option<ProduceResponse>, String> {
    start(broker, req).await.finish().await
}

/// A produce request whose records are appended and whose response waits
/// only for durability (the group commit, for `acks=-1`). Owns everything
/// it needs, so a connection can queue it and go on reading requests.
#[derive(Debug)]
pub struct InFlight {
    /// The request, its record sets taken out (appended already).
    req: ProduceRequest,
    /// (topic index, partition, append result) in request order.
    parts: Vec<(usize, i32, Result<PendingProduce, ProduceError>)>,
}

/// The first half of [`handle`]: auto-creates unknown topics, then appends
/// every partition's records (in request order) without waiting for any
/// fsync.
pub async fn start(broker: &Broker, mut req: ProduceRequest) -> InFlight {
    let acks = req.acks;
    // Auto-create unknown topics first (Kafka creates them on metadata, but
    // a client may produce straight away).
    if broker.config.auto_create_topics {
        for t in &req.topic_data {
            if broker.logs.partition_count(&t.name).is_none()
                && chronik_common::types::validate_topic_name(&t.name).is_ok()
            {
                let _ = metadata::create_topic(
                    broker,
                    t.name.to_string(),
                    broker.config.default_partitions,
                )
                .await;
            }
        }
    }
    let mut parts = Vec::new();
    for (ti, t) in req.topic_data.iter_mut().enumerate() {
        for p in &mut t.partition_data {
            let tp = TopicPartition::new(t.name.as_str(), p.index);
            // Taken, not cloned: the ingest path then owns the only
            // reference and rewrites offsets in place.
            let records = p.records.take().unwrap_or_default();
            let result = if records.is_empty() {
                Err(ProduceError::InvalidRecord("empty record set".into()))
            } else {
                broker.ingest.append(&tp, records, acks)
            };
            parts.push((ti, p.index, result));
        }
    }
    InFlight { req, parts }
}

impl InFlight {
    /// The second half of [`handle`]: waits until every partition's records
    /// are durable (the waits overlap, so one group commit covers the whole
    /// request) and builds the response.
    pub async fn finish(self) -> Result<Option<ProduceResponse>, String> {
        let InFlight { req, parts } = self;
        let jobs: Vec<_> = parts
            .into_iter()
            .map(|(ti, partition, r)| async move {
                let r = match r {
                    Ok(pending) => pending.wait().await,
                    Err(e) => Err(e),
                };
                (ti, partition, r)
            })
            .collect();
        let results = join_all(jobs).await;
        if req.acks == 0 {
            return match results
                .iter()
                .find_map(|(ti, partition, r)| r.as_ref().err().map(|e| (ti, partition, e)))
            {
                None => Ok(None),
                Some((&ti, partition, e)) => Err(format!(
                    "acks=0 produce to {}-{partition} failed: {e}",
                    req.topic_data[ti].name.as_str()
                )),
            };
        }
        let mut results = results.into_iter();
        Ok(Some(produce_response(&req, |t, p| {
            let result = results.next().map(|(_, _, result)| result);
            // One result per partition, in request order (see `start`).
            let Some(result) = result else {
                return produce_partition_error(p.index, ResponseError::UnknownServerError);
            };
            match result {
                Ok(out) => PartitionProduceResponse::default()
                    .with_index(p.index)
                    .with_base_offset(out.base_offset)
                    .with_log_append_time_ms(out.log_append_time)
                    .with_log_start_offset(out.log_start_offset),
                Err(e) => {
                    tracing::debug!(topic = %t.name.as_str(), partition = p.index, "produce rejected: {e}");
                    produce_partition_error(p.index, e.error_code())
                        .with_error_message(Some(crate::handlers::str_bytes(&e.to_string())))
                }
            }
        })))
    }
}
