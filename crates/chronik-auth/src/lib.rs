//! SASL authentication for Chronik Stream: PLAIN and SCRAM-SHA-256.
//!
//! The broker keeps one [`Authenticator`] per client connection. Kafka's
//! `SaslHandshake` request names a mechanism ([`Authenticator::handshake`]);
//! every following `SaslAuthenticate` request carries opaque bytes that are
//! fed to [`Authenticator::authenticate`], which answers with a [`Step`]:
//! more bytes to send back, success with the authenticated [`Principal`], or
//! a failure.
//!
//! Credentials live in a small TOML file ([`CredentialStore`]) that holds,
//! per user, only the SCRAM-SHA-256 salted keys of RFC 5802 (salt, iteration
//! count, `StoredKey` and `ServerKey`), never a password or anything from
//! which one could log in directly. PLAIN logins are checked against the same
//! keys: the presented password is salted and hashed the same way and the
//! resulting `StoredKey` compared in constant time, so one entry serves both
//! mechanisms. Entries are created with [`add_user`] (the broker exposes it
//! as `chronik-server user add`).
//!
//! Usernames and passwords are used as UTF-8 bytes without SASLprep
//! normalisation, as Kafka's own clients and broker do.
//!
//! Unknown users are not revealed: SCRAM answers them with a salt derived
//! from a per-process secret, and PLAIN runs the same key derivation, so both
//! fail only at the final step with the same error as a wrong password.

mod credentials;
mod plain;
mod scram;

use std::fmt;
use std::sync::Arc;

pub use credentials::{add_user, CredentialStore, CredentialsError, ScramCredential};

/// Smallest PBKDF2 iteration count accepted, per RFC 7677's recommendation.
pub const MIN_ITERATIONS: u32 = 4096;
/// Largest PBKDF2 iteration count accepted (Kafka's limit too); bounds the
/// work one login attempt can cost the broker.
pub const MAX_ITERATIONS: u32 = 16384;

/// A SASL mechanism the broker supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// RFC 4616 PLAIN: username and password in one message. Only safe over
    /// an encrypted connection or a trusted network.
    Plain,
    /// RFC 5802 / RFC 7677 SCRAM-SHA-256: a challenge-response exchange in
    /// which the password never crosses the wire.
    ScramSha256,
}

impl Mechanism {
    /// Every supported mechanism, in the order advertised to clients.
    pub const ALL: [Mechanism; 2] = [Mechanism::ScramSha256, Mechanism::Plain];

    /// The mechanism's registered SASL name, e.g. `SCRAM-SHA-256`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
        }
    }

    /// Looks a mechanism up by its SASL name (exact, case-sensitive, as
    /// Kafka compares them).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Names of every supported mechanism, for the `SaslHandshake` response.
    pub fn names() -> Vec<String> {
        Mechanism::ALL
            .iter()
            .map(|m| m.name().to_string())
            .collect()
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The identity a connection authenticated as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// The username.
    pub name: String,
    /// The mechanism used to prove it.
    pub mechanism: Mechanism,
}

impl fmt::Display for Principal {
    /// Formats like Kafka's `KafkaPrincipal`: `User:<name>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "User:{}", self.name)
    }
}

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

/// The outcome of feeding one client message to an [`Authenticator`].
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

enum State {
    AwaitingHandshake,
    Plain,
    Scram(Box<scram::ScramServer>),
    Authenticated(Principal),
    Failed,
}

/// Per-connection SASL state machine.
///
/// `handshake` once, then `authenticate` with each client message until it
/// returns [`Step::Done`] or [`Step::Failed`]. After a failure every further
/// call fails with [`AuthError::IllegalState`].
pub struct Authenticator {
    store: Arc<CredentialStore>,
    state: State,
}

impl Authenticator {
    /// A fresh state machine checking against `store`.
    pub fn new(store: Arc<CredentialStore>) -> Self {
        Self {
            store,
            state: State::AwaitingHandshake,
        }
    }

    /// Selects the mechanism named by the client's `SaslHandshake`.
    pub fn handshake(&mut self, mechanism: &str) -> Result<Mechanism, AuthError> {
        if !matches!(self.state, State::AwaitingHandshake) {
            return Err(AuthError::IllegalState(
                "SaslHandshake received after the mechanism was chosen".into(),
            ));
        }
        let Some(m) = Mechanism::from_name(mechanism) else {
            return Err(AuthError::UnsupportedMechanism {
                requested: mechanism.to_string(),
                enabled: Mechanism::names(),
            });
        };
        self.state = match m {
            Mechanism::Plain => State::Plain,
            Mechanism::ScramSha256 => {
                State::Scram(Box::new(scram::ScramServer::new(scram::random_nonce())))
            }
        };
        Ok(m)
    }

    /// Feeds one client message (the `auth_bytes` of a `SaslAuthenticate`).
    pub fn authenticate(&mut self, message: &[u8]) -> Step {
        let step = match &mut self.state {
            State::AwaitingHandshake => Step::Failed(AuthError::IllegalState(
                "SaslAuthenticate received before SaslHandshake".into(),
            )),
            State::Authenticated(_) => Step::Failed(AuthError::IllegalState(
                "connection is already authenticated (re-authentication is not supported)".into(),
            )),
            State::Failed => Step::Failed(AuthError::IllegalState(
                "authentication already failed on this connection".into(),
            )),
            State::Plain => plain::authenticate(&self.store, message),
            State::Scram(server) => server.step(&self.store, message),
        };
        match &step {
            Step::Continue(_) => {}
            Step::Done { principal, .. } => self.state = State::Authenticated(principal.clone()),
            Step::Failed(_) => self.state = State::Failed,
        }
        step
    }

    /// The authenticated principal, once [`Step::Done`] has been returned.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.state {
            State::Authenticated(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(user: &str, password: &str) -> Arc<CredentialStore> {
        let mut store = CredentialStore::default();
        store
            .insert(user, ScramCredential::generate(password.as_bytes(), 4096))
            .unwrap();
        Arc::new(store)
    }

    #[test]
    fn unknown_mechanism_lists_enabled_ones() {
        let mut auth = Authenticator::new(store_with("alice", "pw"));
        let err = auth.handshake("GSSAPI").unwrap_err();
        assert!(matches!(err, AuthError::UnsupportedMechanism { .. }));
        let text = err.to_string();
        assert!(
            text.contains("GSSAPI") && text.contains("SCRAM-SHA-256"),
            "{text}"
        );
    }

    #[test]
    fn authenticate_before_handshake_is_illegal() {
        let mut auth = Authenticator::new(store_with("alice", "pw"));
        match auth.authenticate(b"\0alice\0pw") {
            Step::Failed(e) => assert!(matches!(e, AuthError::IllegalState(_)), "{e}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn plain_success_then_further_messages_are_illegal() {
        let mut auth = Authenticator::new(store_with("alice", "s3cret"));
        assert_eq!(auth.handshake("PLAIN").unwrap(), Mechanism::Plain);
        match auth.authenticate(b"\0alice\0s3cret") {
            Step::Done { principal, .. } => {
                assert_eq!(principal.to_string(), "User:alice");
                assert_eq!(principal.mechanism, Mechanism::Plain);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(auth.principal().unwrap().name, "alice");
        assert!(matches!(
            auth.authenticate(b"\0alice\0s3cret"),
            Step::Failed(AuthError::IllegalState(_))
        ));
        assert!(auth.handshake("PLAIN").is_err());
    }

    #[test]
    fn failure_is_sticky() {
        let mut auth = Authenticator::new(store_with("alice", "s3cret"));
        auth.handshake("PLAIN").unwrap();
        assert_eq!(
            auth.authenticate(b"\0alice\0wrong"),
            Step::Failed(AuthError::InvalidCredentials(Mechanism::Plain))
        );
        assert!(matches!(
            auth.authenticate(b"\0alice\0s3cret"),
            Step::Failed(AuthError::IllegalState(_))
        ));
        assert!(auth.principal().is_none());
    }
}
