//! SaslAuthenticate (v0 to v2), and its predecessor: the bare token frames
//! that follow a SaslHandshake v0 (see [`crate::session`]).

use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};

use crate::handlers::{str_bytes, Answer};
use crate::session::{SaslStep, Session};

/// Feeds the request's token to the mechanism and answers with its reply.
/// A failure is reported in the response, then the connection is closed.
pub fn handle(
    session: &mut Session,
    req: SaslAuthenticateRequest,
    _version: i16,
) -> Answer<SaslAuthenticateResponse> {
    let response = SaslAuthenticateResponse::default();
    match session.authenticate(&req.auth_bytes) {
        SaslStep::Continue(reply) | SaslStep::Done(reply) => {
            Answer::send(response.with_auth_bytes(reply.into()))
        }
        SaslStep::Failed(e) => {
            let reason = format!("SASL authentication failed: {}", e.message);
            Answer::send_and_close(
                response
                    .with_error_code(e.error.code())
                    .with_error_message(Some(str_bytes(&e.message))),
                reason,
            )
        }
    }
}

/// Handles one bare token (after SaslHandshake v0): `Ok` with the bytes to
/// send back as a bare size-prefixed frame (empty for PLAIN's success), or
/// `Err` with the reason to close the connection without an answer, as
/// Kafka does for a failed v0 exchange.
pub fn handle_raw_token(session: &mut Session, token: &[u8]) -> Result<Vec<u8>, String> {
    match session.authenticate(token) {
        SaslStep::Continue(reply) | SaslStep::Done(reply) => Ok(reply),
        SaslStep::Failed(e) => Err(format!("SASL authentication failed: {}", e.message)),
    }
}
