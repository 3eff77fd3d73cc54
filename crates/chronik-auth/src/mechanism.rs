//! The SASL mechanisms and the identity a login proves.

use std::fmt;

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
