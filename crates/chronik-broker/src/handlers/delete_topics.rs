//! DeleteTopics: by name (all versions) or by topic id (v6, never known
//! here: topics have no ids).

use std::sync::Arc;

use chronik_ingest::{storage_error_code, ResponseError};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};

use crate::broker::Broker;
use crate::handlers::str_bytes;

/// Deletes each named topic.
pub async fn handle(
    broker: &Broker,
    req: DeleteTopicsRequest,
    version: i16,
) -> DeleteTopicsResponse {
    let mut responses = Vec::new();
    for name in req.topic_names {
        responses.push(delete_one(broker, name, version).await);
    }
    for t in req.topics {
        match t.name {
            Some(name) => responses.push(delete_one(broker, name, version).await),
            None => {
                let mut r = DeletableTopicResult::default()
                    .with_topic_id(t.topic_id)
                    .with_error_code(ResponseError::UnknownTopicId.code());
                r.error_message = Some(str_bytes("topic ids are not supported by this broker"));
                responses.push(r);
            }
        }
    }
    DeleteTopicsResponse::default().with_responses(responses)
}

async fn delete_one(broker: &Broker, name: TopicName, version: i16) -> DeletableTopicResult {
    let logs = Arc::clone(&broker.logs);
    let topic = name.to_string();
    let outcome = tokio::task::spawn_blocking(move || logs.delete_topic(&topic)).await;
    let result = DeletableTopicResult::default().with_name(Some(name));
    let (code, message) = match outcome {
        Ok(Ok(())) => (0, None),
        Ok(Err(e)) => (storage_error_code(&e).code(), Some(e.to_string())),
        Err(e) => (
            ResponseError::UnknownServerError.code(),
            Some(e.to_string()),
        ),
    };
    let mut result = result.with_error_code(code);
    if version >= 5 {
        result.error_message = message.as_deref().map(str_bytes);
    }
    result
}
