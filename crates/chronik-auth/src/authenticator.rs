//! The per-connection SASL state machine.

use std::sync::Arc;

use crate::credentials::CredentialStore;
use crate::error::AuthError;
use crate::mechanism::{Mechanism, Principal};
use crate::step::Step;
use crate::{plain, scram};

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
    use crate::credentials::ScramCredential;

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
