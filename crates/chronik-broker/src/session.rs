//! Per-connection state: where the connection stands in SASL
//! authentication.
//!
//! When SASL is required (`--sasl-credentials`), a connection starts
//! unauthenticated: it may send ApiVersions, then SaslHandshake naming a
//! mechanism, then the mechanism's tokens, and nothing else until they
//! succeed. How the tokens travel depends on the handshake's version, as in
//! Kafka (KIP-43, KIP-152):
//!
//! - after SaslHandshake v1, each token is the payload of a SaslAuthenticate
//!   request, and failures are reported in its response;
//! - after SaslHandshake v0, each token is a bare size-prefixed frame (no
//!   request header), answered by a bare size-prefixed frame; a failure
//!   closes the connection without an answer.
//!
//! The mechanisms themselves are a [`SaslServer`], provided by the `auth`
//! subsystem; this module knows only the framing.

use kafka_protocol::ResponseError;

/// Why a SASL step was refused: the Kafka error to answer with and a
/// message for the client and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslError {
    /// The Kafka error code.
    pub error: ResponseError,
    /// What went wrong, for the client's error message and the log.
    pub message: String,
}

/// The outcome of one client token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Send these bytes to the client and wait for its next token.
    Continue(Vec<u8>),
    /// Authenticated; send these (possibly empty) bytes to the client.
    Done(Vec<u8>),
    /// Authentication failed; the connection is closed after reporting it.
    Failed(SaslError),
}

/// The mechanisms' side of one connection's SASL exchange.
pub trait SaslServer: Send {
    /// Names of the enabled mechanisms, as a SaslHandshake response lists
    /// them.
    fn mechanisms(&self) -> Vec<String>;
    /// Selects the mechanism a SaslHandshake named.
    fn select(&mut self, mechanism: &str) -> Result<(), SaslError>;
    /// Feeds one client token.
    fn step(&mut self, token: &[u8]) -> SaslStep;
}

/// The answer to a SaslHandshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The enabled mechanisms (empty when SASL is not enabled).
    pub mechanisms: Vec<String>,
    /// Whether the mechanism was accepted.
    pub result: Result<(), SaslError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No mechanism chosen yet.
    Handshake,
    /// A mechanism was chosen; tokens follow, bare frames when `raw`.
    Tokens { raw: bool },
    /// Authentication succeeded.
    Authenticated,
}

/// SASL state of one connection.
pub struct Session {
    sasl: Option<Box<dyn SaslServer>>,
    phase: Phase,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sasl", &self.sasl.is_some())
            .field("phase", &self.phase)
            .finish()
    }
}

impl Session {
    /// A connection that needs no authentication.
    pub fn open() -> Session {
        Session {
            sasl: None,
            phase: Phase::Authenticated,
        }
    }

    /// A connection that must authenticate through `server` before anything
    /// but ApiVersions and SASL requests.
    pub fn authenticating(server: Box<dyn SaslServer>) -> Session {
        Session {
            sasl: Some(server),
            phase: Phase::Handshake,
        }
    }

    /// Whether this connection must still authenticate.
    pub fn needs_auth(&self) -> bool {
        self.sasl.is_some() && self.phase != Phase::Authenticated
    }

    /// Whether the next frame is a bare SASL token (after SaslHandshake v0)
    /// rather than a Kafka request.
    pub fn expects_raw_token(&self) -> bool {
        self.phase == (Phase::Tokens { raw: true })
    }

    /// Handles a SaslHandshake of `version` naming `mechanism`.
    pub fn handshake(&mut self, mechanism: &str, version: i16) -> Handshake {
        let Some(sasl) = &mut self.sasl else {
            return Handshake {
                mechanisms: Vec::new(),
                result: Err(SaslError {
                    error: ResponseError::UnsupportedSaslMechanism,
                    message: "SASL is not enabled on this broker".into(),
                }),
            };
        };
        let result = if self.phase == Phase::Handshake {
            sasl.select(mechanism)
        } else {
            Err(SaslError {
                error: ResponseError::IllegalSaslState,
                message: "SaslHandshake received after the mechanism was chosen".into(),
            })
        };
        if result.is_ok() {
            self.phase = Phase::Tokens { raw: version == 0 };
        }
        Handshake {
            mechanisms: sasl.mechanisms(),
            result,
        }
    }

    /// Handles one token, from a SaslAuthenticate request or (after a v0
    /// handshake) a bare frame.
    pub fn authenticate(&mut self, token: &[u8]) -> SaslStep {
        let Some(sasl) = &mut self.sasl else {
            return SaslStep::Failed(SaslError {
                error: ResponseError::IllegalSaslState,
                message: "SASL is not enabled on this broker".into(),
            });
        };
        // Out-of-order tokens (before the handshake, after success) are the
        // mechanism's to refuse, with ILLEGAL_SASL_STATE.
        let step = sasl.step(token);
        if matches!(step, SaslStep::Done(_)) {
            self.phase = Phase::Authenticated;
        }
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in mechanism for the framing logic: accepts `"ok"`, then
    /// succeeds on the token `"pass"` after one `"more"` round trip.
    struct Echo {
        selected: bool,
    }

    impl SaslServer for Echo {
        fn mechanisms(&self) -> Vec<String> {
            vec!["ok".into()]
        }
        fn select(&mut self, mechanism: &str) -> Result<(), SaslError> {
            if mechanism != "ok" {
                return Err(SaslError {
                    error: ResponseError::UnsupportedSaslMechanism,
                    message: mechanism.into(),
                });
            }
            self.selected = true;
            Ok(())
        }
        fn step(&mut self, token: &[u8]) -> SaslStep {
            match (self.selected, token) {
                (true, b"more") => SaslStep::Continue(b"go on".to_vec()),
                (true, b"pass") => SaslStep::Done(Vec::new()),
                _ => SaslStep::Failed(SaslError {
                    error: ResponseError::SaslAuthenticationFailed,
                    message: "no".into(),
                }),
            }
        }
    }

    fn session() -> Session {
        Session::authenticating(Box::new(Echo { selected: false }))
    }

    #[test]
    fn v0_handshake_switches_to_raw_tokens_until_done() {
        let mut s = session();
        assert!(s.needs_auth() && !s.expects_raw_token());
        let h = s.handshake("ok", 0);
        assert_eq!(h.result, Ok(()));
        assert_eq!(h.mechanisms, ["ok"]);
        assert!(s.expects_raw_token());
        assert_eq!(
            s.authenticate(b"more"),
            SaslStep::Continue(b"go on".to_vec())
        );
        assert!(s.expects_raw_token());
        assert_eq!(s.authenticate(b"pass"), SaslStep::Done(Vec::new()));
        assert!(!s.needs_auth() && !s.expects_raw_token());
    }

    #[test]
    fn v1_handshake_keeps_kafka_framing() {
        let mut s = session();
        assert_eq!(s.handshake("ok", 1).result, Ok(()));
        assert!(!s.expects_raw_token() && s.needs_auth());
        assert_eq!(s.authenticate(b"pass"), SaslStep::Done(Vec::new()));
        assert!(!s.needs_auth());
    }

    #[test]
    fn refused_handshakes_keep_the_connection_unauthenticated() {
        let mut s = session();
        let h = s.handshake("GSSAPI", 0);
        assert_eq!(
            h.result.unwrap_err().error,
            ResponseError::UnsupportedSaslMechanism
        );
        assert_eq!(h.mechanisms, ["ok"]);
        assert!(s.needs_auth() && !s.expects_raw_token());
        assert_eq!(s.handshake("ok", 1).result, Ok(()));
        let again = s.handshake("ok", 1);
        assert_eq!(
            again.result.unwrap_err().error,
            ResponseError::IllegalSaslState
        );
    }

    #[test]
    fn without_sasl_everything_passes_and_sasl_requests_are_refused() {
        let mut s = Session::open();
        assert!(!s.needs_auth() && !s.expects_raw_token());
        let h = s.handshake("PLAIN", 1);
        assert!(h.mechanisms.is_empty());
        assert_eq!(
            h.result.unwrap_err().error,
            ResponseError::UnsupportedSaslMechanism
        );
        assert!(matches!(
            s.authenticate(b"x"),
            SaslStep::Failed(SaslError {
                error: ResponseError::IllegalSaslState,
                ..
            })
        ));
    }
}
