//! SASL/PLAIN and SCRAM-SHA-256 (`--sasl-credentials FILE`): loads the
//! credentials and gives each connection a [`SaslServer`] over
//! `chronik_auth`'s state machine.

use std::path::Path;
use std::sync::Arc;

use chronik_auth::{AuthError, Authenticator, CredentialStore, Mechanism, Step};
use kafka_protocol::ResponseError;

use crate::session::{SaslError, SaslServer, SaslStep};

/// Loads the credentials file (warning when it has no users).
pub(super) fn load(path: &Path) -> anyhow::Result<Arc<CredentialStore>> {
    let store = CredentialStore::load(path)?;
    if store.is_empty() {
        tracing::warn!(file = %path.display(), "SASL credentials file has no users: every login will fail");
    }
    tracing::info!(users = store.len(), mechanisms = ?Mechanism::names(), "SASL authentication required");
    Ok(Arc::new(store))
}

/// One connection's SASL server checking against `store`.
pub(super) fn server(store: &Arc<CredentialStore>) -> Box<dyn SaslServer> {
    Box::new(Sasl(Authenticator::new(Arc::clone(store))))
}

struct Sasl(Authenticator);

/// The Kafka error for an authentication failure.
fn sasl_error(e: &AuthError) -> SaslError {
    let error = match e {
        AuthError::UnsupportedMechanism { .. } => ResponseError::UnsupportedSaslMechanism,
        AuthError::IllegalState(_) => ResponseError::IllegalSaslState,
        AuthError::Malformed { .. }
        | AuthError::Unsupported { .. }
        | AuthError::InvalidCredentials(_) => ResponseError::SaslAuthenticationFailed,
    };
    SaslError {
        error,
        message: e.to_string(),
    }
}

impl SaslServer for Sasl {
    fn mechanisms(&self) -> Vec<String> {
        Mechanism::names()
    }

    fn select(&mut self, mechanism: &str) -> Result<(), SaslError> {
        self.0.handshake(mechanism).map(|_| ()).map_err(|e| {
            tracing::info!(error = %e, "SASL handshake refused");
            sasl_error(&e)
        })
    }

    fn step(&mut self, token: &[u8]) -> SaslStep {
        match self.0.authenticate(token) {
            Step::Continue(reply) => SaslStep::Continue(reply),
            Step::Done {
                principal,
                response,
            } => {
                tracing::info!(%principal, mechanism = %principal.mechanism, "client authenticated");
                SaslStep::Done(response)
            }
            Step::Failed(e) => {
                tracing::warn!(error = %e, "SASL authentication failed");
                SaslStep::Failed(sasl_error(&e))
            }
        }
    }
}
