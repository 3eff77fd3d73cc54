//! Produce: hand each partition's record set to the ingest path
//! (validation, idempotence, offsets, group-commit fsync).
//!
//! All partitions of one request are produced concurrently: their appends
//! happen in request order on the first poll, and with `acks=-1` their
//! fsync waits overlap, so one group commit covers the whole request.

use chronik_common::TopicPartition;
use chronik_ingest::ProduceError;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
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
    let mut jobs = Vec::new();
    for (ti, t) in req.topic_data.iter().enumerate() {
        for p in &t.partition_data {
            let tp = TopicPartition::new(t.name.as_str(), p.index);
            let records = p.records.clone().unwrap_or_default();
            let ingest = &broker.ingest;
            jobs.push(async move {
                let result = if records.is_empty() {
                    Err(ProduceError::InvalidRecord("empty record set".into()))
                } else {
                    ingest.produce(&tp, records, acks).await
                };
                (ti, tp.partition, result)
            });
        }
    }
    let results = join_all(jobs).await;
    if acks == 0 {
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
    let mut responses: Vec<TopicProduceResponse> = req
        .topic_data
        .iter()
        .map(|t| {
            TopicProduceResponse::default()
                .with_name(t.name.clone())
                .with_topic_id(t.topic_id)
        })
        .collect();
    for (ti, partition, result) in results {
        let part = PartitionProduceResponse::default().with_index(partition);
        let part = match result {
            Ok(out) => part
                .with_error_code(0)
                .with_base_offset(out.base_offset)
                .with_log_append_time_ms(out.log_append_time)
                .with_log_start_offset(out.log_start_offset),
            Err(e) => {
                tracing::debug!(topic = %responses[ti].name.as_str(), partition, "produce rejected: {e}");
                part.with_error_code(e.code())
                    .with_base_offset(-1)
                    .with_log_append_time_ms(-1)
                    .with_log_start_offset(-1)
                    .with_error_message(Some(crate::handlers::str_bytes(&e.to_string())))
            }
        };
        responses[ti].partition_responses.push(part);
    }
    Ok(Some(ProduceResponse::default().with_responses(responses)))
}
