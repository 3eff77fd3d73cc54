//! Metadata: brokers (just this one), topics and partitions (this broker
//! leads all of them), with auto-creation of unknown topics when enabled.

use chronik_common::types::validate_topic_name;
use chronik_ingest::{storage_error_code, ResponseError};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};

use crate::broker::{Broker, CLUSTER_ID};
use crate::handlers::str_bytes;

/// Builds the metadata response, creating requested topics that do not exist
/// when the broker allows it and the client asks for it.
pub async fn handle(broker: &Broker, req: MetadataRequest, version: i16) -> MetadataResponse {
    let node = BrokerId(broker.config.node_id);
    let (host, port) = &broker.config.advertised;
    let brokers = vec![MetadataResponseBroker::default()
        .with_node_id(node)
        .with_host(str_bytes(host))
        .with_port(i32::from(*port))];

    // v0: an empty list means every topic; v1+: null means every topic.
    let requested = match req.topics {
        None => None,
        Some(list) if list.is_empty() && version == 0 => None,
        Some(list) => Some(list),
    };
    let topics = match requested {
        None => broker
            .logs
            .topics()
            .into_iter()
            .map(|t| topic_entry(broker, &t.name, t.partitions))
            .collect(),
        Some(list) => {
            // Before v4 there was no flag and auto-creation was implied.
            let allow_create =
                broker.config.auto_create_topics && (version < 4 || req.allow_auto_topic_creation);
            let mut out = Vec::with_capacity(list.len());
            for t in list {
                let Some(name) = t.name else {
                    out.push(
                        MetadataResponseTopic::default()
                            .with_topic_id(t.topic_id)
                            .with_error_code(ResponseError::UnknownTopicId.code()),
                    );
                    continue;
                };
                out.push(lookup(broker, &name, allow_create).await);
            }
            out
        }
    };
    MetadataResponse::default()
        .with_brokers(brokers)
        .with_cluster_id(Some(str_bytes(CLUSTER_ID)))
        .with_controller_id(node)
        .with_topics(topics)
}

/// The entry for one named topic, auto-creating it if allowed.
async fn lookup(broker: &Broker, name: &TopicName, allow_create: bool) -> MetadataResponseTopic {
    if let Some(count) = broker.logs.partition_count(name) {
        return topic_entry(broker, name, count);
    }
    let error = |code| {
        MetadataResponseTopic::default()
            .with_name(Some(name.clone()))
            .with_error_code(code)
    };
    if validate_topic_name(name).is_err() {
        return error(ResponseError::InvalidTopicException.code());
    }
    if !allow_create {
        return error(ResponseError::UnknownTopicOrPartition.code());
    }
    match create_topic(broker, name.to_string(), broker.config.default_partitions).await {
        // Someone else created it first: that is fine.
        Ok(()) | Err(chronik_storage::StorageError::TopicExists(_)) => {
            match broker.logs.partition_count(name) {
                Some(count) => topic_entry(broker, name, count),
                None => error(ResponseError::UnknownTopicOrPartition.code()),
            }
        }
        Err(e) => {
            tracing::warn!(topic = %name.as_str(), "auto-creating topic failed: {e}");
            error(storage_error_code(&e).code())
        }
    }
}

/// Creates a topic off the async threads (it fsyncs directories).
pub(crate) async fn create_topic(
    broker: &Broker,
    name: String,
    partitions: i32,
) -> Result<(), chronik_storage::StorageError> {
    let logs = std::sync::Arc::clone(&broker.logs);
    tokio::task::spawn_blocking(move || logs.create_topic(&name, partitions))
        .await
        .unwrap_or_else(|join| {
            Err(chronik_storage::StorageError::io(
                "topic creation task",
                std::io::Error::other(join.to_string()),
            ))
        })
}

fn topic_entry(broker: &Broker, name: &str, partitions: i32) -> MetadataResponseTopic {
    let node = BrokerId(broker.config.node_id);
    let partitions = (0..partitions)
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(node)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(str_bytes(name))))
        .with_partitions(partitions)
}
