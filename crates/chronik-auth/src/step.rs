//! What one client message yields.

use crate::error::AuthError;
use crate::mechanism::Principal;

/// The outcome of feeding one client message to an
/// [`Authenticator`](crate::Authenticator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send these bytes to the client and wait for its next message.
    Continue(Vec<u8>),
    /// Authenticated. `response` (possibly empty) goes back to the client in
    /// the successful `SaslAuthenticate` response; for SCRAM it is the
    /// server-final message with the server's signature.
    Done {
        /// Who the client is.
        principal: Principal,
        /// Bytes for the client.
        response: Vec<u8>,
    },
    /// Authentication failed; the connection should report the error and be
    /// closed.
    Failed(AuthError),
}
