//! The one place a decoded request is routed to its handler.
//!
//! Each arm hands the typed request body and its API version to a handler
//! module and wraps the typed response. Adding an API means: a range in
//! `chronik_protocol::versions::SUPPORTED_APIS`, a handler module, and an arm
//! here.
//!
//! Authentication is enforced here too: while the connection's [`Session`]
//! still needs to authenticate, only ApiVersions and the SASL requests are
//! answered; anything else closes the connection without a response, as
//! Kafka does. The bare token frames of a SaslHandshake v0 exchange are not
//! requests; they go through [`dispatch_sasl_token`].

use chronik_protocol::{error_response, ApiKey, RequestFrame, RequestKind, ResponseKind};
use kafka_protocol::ResponseError;

use crate::broker::Broker;
use crate::handlers::{
    api_versions, create_topics, delete_topics, fetch, find_coordinator, groups, init_producer_id,
    list_offsets, metadata, produce, sasl_authenticate, sasl_handshake, Answer,
};
use crate::session::Session;

/// What the connection does after a request was handled.
// Returned once per request and consumed at once: boxing the large variant
// would only add an allocation per request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Reply {
    /// Send this response.
    Send(ResponseKind),
    /// Send this response, then close the connection for the given reason
    /// (a refused SASL handshake or a failed authentication).
    SendAndClose(ResponseKind, String),
    /// Send nothing (a successful Produce with `acks=0`).
    Nothing,
    /// Close the connection without a response. Kafka does this when an
    /// `acks=0` produce fails: it is the only way the client learns of the
    /// failure (it then refreshes metadata and reconnects).
    Close(String),
}

/// Handles one request of a connection in state `session`.
pub async fn dispatch(broker: &Broker, session: &mut Session, request: RequestFrame) -> Reply {
    let version = request.version();
    if session.needs_auth()
        && !matches!(
            request.api_key,
            ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate
        )
    {
        return Reply::Close(format!(
            "{:?} request before SASL authentication",
            request.api_key
        ));
    }
    let response = match request.body {
        RequestKind::ApiVersions(req) => {
            ResponseKind::ApiVersions(api_versions::handle(&req, version))
        }
        RequestKind::Metadata(req) => {
            ResponseKind::Metadata(metadata::handle(broker, req, version).await)
        }
        RequestKind::Produce(req) => {
            return match produce::handle(broker, req, version).await {
                Ok(Some(response)) => Reply::Send(ResponseKind::Produce(response)),
                Ok(None) => Reply::Nothing,
                Err(reason) => Reply::Close(reason),
            }
        }
        RequestKind::Fetch(req) => ResponseKind::Fetch(fetch::handle(broker, req, version).await),
        RequestKind::ListOffsets(req) => {
            ResponseKind::ListOffsets(list_offsets::handle(broker, req, version))
        }
        RequestKind::CreateTopics(req) => {
            ResponseKind::CreateTopics(create_topics::handle(broker, req, version).await)
        }
        RequestKind::DeleteTopics(req) => {
            ResponseKind::DeleteTopics(delete_topics::handle(broker, req, version).await)
        }
        RequestKind::FindCoordinator(req) => {
            ResponseKind::FindCoordinator(find_coordinator::handle(broker, req, version))
        }
        RequestKind::InitProducerId(req) => {
            ResponseKind::InitProducerId(init_producer_id::handle(broker, req, version).await)
        }
        RequestKind::SaslHandshake(req) => {
            let answer = sasl_handshake::handle(session, req, version);
            return answered(answer, ResponseKind::SaslHandshake);
        }
        RequestKind::SaslAuthenticate(req) => {
            let answer = sasl_authenticate::handle(session, req, version);
            return answered(answer, ResponseKind::SaslAuthenticate);
        }
        // Consumer groups: implemented by the coordinator (handlers::groups).
        RequestKind::JoinGroup(req) => {
            let client_id = request.header.client_id.as_deref().unwrap_or("");
            ResponseKind::JoinGroup(groups::join_group(broker, req, version, client_id).await)
        }
        RequestKind::SyncGroup(req) => {
            ResponseKind::SyncGroup(groups::sync_group(broker, req, version).await)
        }
        RequestKind::Heartbeat(req) => {
            ResponseKind::Heartbeat(groups::heartbeat(broker, req, version).await)
        }
        RequestKind::LeaveGroup(req) => {
            ResponseKind::LeaveGroup(groups::leave_group(broker, req, version).await)
        }
        RequestKind::OffsetCommit(req) => {
            ResponseKind::OffsetCommit(groups::offset_commit(broker, req, version).await)
        }
        RequestKind::OffsetFetch(req) => {
            ResponseKind::OffsetFetch(groups::offset_fetch(broker, req, version).await)
        }
        RequestKind::DescribeGroups(req) => {
            ResponseKind::DescribeGroups(groups::describe_groups(broker, req, version).await)
        }
        RequestKind::ListGroups(req) => {
            ResponseKind::ListGroups(groups::list_groups(broker, req, version).await)
        }
        // The decoder rejects APIs missing from the version table, so this is
        // only reached if the table and this match disagree.
        other => {
            tracing::error!(api_key = ?request.api_key, "no handler for a supported API");
            match error_response(&other, version, ResponseError::UnsupportedVersion) {
                Some(response) => response,
                None => return Reply::Close(format!("no handler for {:?}", request.api_key)),
            }
        }
    };
    Reply::Send(response)
}

/// Handles one bare SASL token frame (after a SaslHandshake v0; see
/// [`Session::expects_raw_token`]): `Ok` with the bytes to send back as a
/// bare size-prefixed frame, `Err` with the reason to close the connection.
pub fn dispatch_sasl_token(session: &mut Session, token: &[u8]) -> Result<Vec<u8>, String> {
    sasl_authenticate::handle_raw_token(session, token)
}

fn answered<T>(answer: Answer<T>, wrap: impl FnOnce(T) -> ResponseKind) -> Reply {
    match answer.close {
        None => Reply::Send(wrap(answer.response)),
        Some(reason) => Reply::SendAndClose(wrap(answer.response), reason),
    }
}
