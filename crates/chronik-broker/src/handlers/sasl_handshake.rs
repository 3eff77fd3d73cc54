//! SaslHandshake (v0 and v1): the client names a SASL mechanism. See
//! [`crate::session`] for how the tokens that follow travel.

use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};

use crate::handlers::{str_bytes, Answer};
use crate::session::Session;

/// Selects the mechanism. An unknown mechanism (or SASL not enabled) gets
/// UNSUPPORTED_SASL_MECHANISM with the enabled mechanisms, and the
/// connection is closed after the response, as Kafka does.
pub fn handle(
    session: &mut Session,
    req: SaslHandshakeRequest,
    version: i16,
) -> Answer<SaslHandshakeResponse> {
    let handshake = session.handshake(req.mechanism.as_str(), version);
    let mechanisms = handshake.mechanisms.iter().map(|m| str_bytes(m)).collect();
    let response = SaslHandshakeResponse::default().with_mechanisms(mechanisms);
    match handshake.result {
        Ok(()) => Answer::send(response),
        Err(e) => {
            let reason = format!("SASL handshake refused: {}", e.message);
            Answer::send_and_close(response.with_error_code(e.error.code()), reason)
        }
    }
}
