//! Why authentication did not succeed.

use crate::mechanism::Mechanism;

/// Why authentication did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The client asked for a mechanism the broker does not offer.
    #[error("unsupported SASL mechanism {requested:?}; enabled mechanisms: {}", enabled.join(", "))]
    UnsupportedMechanism {
        /// The name the client sent.
        requested: String,
        /// Names the broker does offer.
        enabled: Vec<String>,
    },
    /// A message arrived when the exchange was not expecting one.
    #[error("illegal SASL state: {0}")]
    IllegalState(String),
    /// A client message could not be parsed.
    #[error("malformed {mechanism} message: {message}")]
    Malformed {
        /// The mechanism in use.
        mechanism: Mechanism,
        /// What was wrong.
        message: String,
    },
    /// The client asked for something this broker does not implement
    /// (channel binding, delegation tokens, mandatory extensions).
    #[error("unsupported {mechanism} feature: {message}")]
    Unsupported {
        /// The mechanism in use.
        mechanism: Mechanism,
        /// What was requested.
        message: String,
    },
    /// Wrong username or password. Deliberately does not say which.
    #[error("authentication failed with {0}: invalid username or password")]
    InvalidCredentials(Mechanism),
}
