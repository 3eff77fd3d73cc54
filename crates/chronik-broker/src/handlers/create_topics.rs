//! CreateTopics: validate every topic, then create (unless validate_only).

use std::collections::HashMap;

use chronik_common::types::validate_topic_name;
use chronik_ingest::{storage_error_code, ResponseError};
use chronik_storage::MAX_PARTITIONS;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};

use crate::broker::Broker;
use crate::handlers::{metadata, str_bytes};

/// Creates the requested topics, one result per topic.
pub async fn handle(
    broker: &Broker,
    req: CreateTopicsRequest,
    version: i16,
) -> CreateTopicsResponse {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for t in &req.topics {
        *seen.entry(t.name.as_str()).or_default() += 1;
    }
    let mut results = Vec::with_capacity(req.topics.len());
    for t in &req.topics {
        let result = CreatableTopicResult::default().with_name(t.name.clone());
        let outcome = if seen[t.name.as_str()] > 1 {
            Err((
                ResponseError::InvalidRequest.code(),
                format!("topic {} is listed more than once", t.name.as_str()),
            ))
        } else {
            create_one(broker, t, req.validate_only).await
        };
        results.push(match outcome {
            Ok(partitions) => {
                let mut r = result.with_error_code(0);
                if version >= 5 {
                    r.num_partitions = partitions;
                    r.replication_factor = 1;
                    r.configs = Some(Vec::new());
                }
                r
            }
            Err((code, message)) => {
                tracing::debug!(topic = %t.name.as_str(), code, "create topic rejected: {message}");
                let mut r = result.with_error_code(code);
                if version >= 1 {
                    r.error_message = Some(str_bytes(&message));
                }
                if version >= 5 {
                    r.num_partitions = -1;
                    r.replication_factor = -1;
                }
                r
            }
        });
    }
    CreateTopicsResponse::default().with_topics(results)
}

/// Validates and (unless `validate_only`) creates one topic; returns its
/// partition count.
async fn create_one(
    broker: &Broker,
    t: &CreatableTopic,
    validate_only: bool,
) -> Result<i32, (i16, String)> {
    let name = t.name.as_str();
    validate_topic_name(name).map_err(|m| (ResponseError::InvalidTopicException.code(), m))?;
    if broker.logs.partition_count(name).is_some() {
        return Err((
            ResponseError::TopicAlreadyExists.code(),
            format!("topic {name} already exists"),
        ));
    }
    let partitions = if t.assignments.is_empty() {
        if !matches!(t.replication_factor, -1 | 1) {
            return Err((
                ResponseError::InvalidReplicationFactor.code(),
                format!(
                    "replication factor {} is larger than the 1 available broker",
                    t.replication_factor
                ),
            ));
        }
        match t.num_partitions {
            -1 => broker.config.default_partitions,
            n => n,
        }
    } else {
        if t.num_partitions != -1 || t.replication_factor != -1 {
            return Err((
                ResponseError::InvalidRequest.code(),
                "num_partitions and replication_factor must be -1 with manual assignments".into(),
            ));
        }
        let node = broker.config.node_id;
        let mut indexes: Vec<i32> = t.assignments.iter().map(|a| a.partition_index).collect();
        indexes.sort_unstable();
        let contiguous = indexes.iter().enumerate().all(|(i, &p)| p == i as i32);
        let on_this_node = t
            .assignments
            .iter()
            .all(|a| a.broker_ids.len() == 1 && *a.broker_ids[0] == node);
        if !contiguous || !on_this_node {
            return Err((
                ResponseError::InvalidReplicaAssignment.code(),
                format!("partitions must be numbered 0..n and assigned to broker {node} only"),
            ));
        }
        i32::try_from(t.assignments.len()).unwrap_or(i32::MAX)
    };
    if !(1..=MAX_PARTITIONS).contains(&partitions) {
        return Err((
            ResponseError::InvalidPartitions.code(),
            format!(
                "number of partitions must be between 1 and {MAX_PARTITIONS}, got {partitions}"
            ),
        ));
    }
    if validate_only {
        return Ok(partitions);
    }
    metadata::create_topic(broker, name.to_string(), partitions)
        .await
        .map(|()| partitions)
        .map_err(|e| (storage_error_code(&e).code(), e.to_string()))
}
