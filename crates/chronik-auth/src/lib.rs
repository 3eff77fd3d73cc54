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
mod authenticator;
mod credentials;
mod error;
mod mechanism;
mod plain;
mod scram;
mod step;

pub use authenticator::Authenticator;
pub use credentials::{
    add_user, CredentialStore, CredentialsError, ScramCredential, MAX_ITERATIONS, MIN_ITERATIONS,
};
pub use error::AuthError;
pub use mechanism::{Mechanism, Principal};
pub use step::Step;
