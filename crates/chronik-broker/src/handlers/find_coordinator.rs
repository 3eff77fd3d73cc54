//! FindCoordinator: this broker coordinates every group (and would every
//! transaction, were transactions supported).

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::broker::Broker;
use crate::handlers::str_bytes;

/// Key type of a consumer group.
const GROUP: i8 = 0;
/// Key type of a transactional id.
const TRANSACTION: i8 = 1;

/// Answers with this broker for every group key (v0-v3: one key; v4+: the
/// batched `coordinator_keys`).
pub fn handle(
    broker: &Broker,
    req: FindCoordinatorRequest,
    version: i16,
) -> FindCoordinatorResponse {
    let node = BrokerId(broker.config.node_id);
    let (host, port) = &broker.config.advertised;
    let host = str_bytes(host);
    let port = i32::from(*port);
    let key_ok = matches!(req.key_type, GROUP | TRANSACTION);
    if version < 4 {
        let resp = FindCoordinatorResponse::default();
        if !key_ok {
            let mut resp = resp
                .with_error_code(ResponseError::InvalidRequest.code())
                .with_node_id(BrokerId(-1))
                .with_port(-1);
            if version >= 1 {
                resp.error_message = Some(str_bytes("unknown coordinator key type"));
            }
            return resp;
        }
        return resp.with_node_id(node).with_host(host).with_port(port);
    }
    let coordinators = req
        .coordinator_keys
        .into_iter()
        .map(|key: StrBytes| {
            let c = Coordinator::default().with_key(key);
            if key_ok {
                c.with_node_id(node).with_host(host.clone()).with_port(port)
            } else {
                c.with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes("unknown coordinator key type")))
            }
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}
