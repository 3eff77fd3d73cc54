//! InitProducerId: producer ids for idempotent producers. Transactions are
//! not supported, so a transactional id is refused.

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;

use crate::broker::Broker;

/// Allocates a fresh producer id with epoch 0, or refuses a transactional
/// producer with TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53), which clients
/// report as fatal instead of retrying.
pub async fn handle(
    broker: &Broker,
    req: InitProducerIdRequest,
    _version: i16,
) -> InitProducerIdResponse {
    let failed = |code| {
        InitProducerIdResponse::default()
            .with_error_code(code)
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    if req.transactional_id.as_ref().is_some_and(|t| !t.is_empty()) {
        tracing::info!(
            "refusing InitProducerId with a transactional id: transactions are not supported"
        );
        return failed(ResponseError::TransactionalIdAuthorizationFailed.code());
    }
    // An existing idempotent producer re-initialising (v3+, KIP-360) simply
    // gets a new id: sequence state restarts with it.
    let ingest = Arc::clone(&broker.ingest);
    match tokio::task::spawn_blocking(move || ingest.allocate_producer_id()).await {
        Ok(Ok((id, epoch))) => InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(epoch),
        Ok(Err(e)) => {
            tracing::warn!("allocating a producer id failed: {e}");
            failed(ResponseError::KafkaStorageError.code())
        }
        Err(e) => {
            tracing::error!("producer id task failed: {e}");
            failed(ResponseError::UnknownServerError.code())
        }
    }
}
