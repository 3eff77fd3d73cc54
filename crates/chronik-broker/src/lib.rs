//! The Kafka serving code of Chronik Stream: a single-node server speaking
//! the Kafka protocol. The `chronik-server` binary is a thin command line
//! over [`serve`].
//!
//! Real clients (librdkafka/kcat/confluent-kafka, kafka-python) use it like
//! a one-broker Kafka cluster: this node is the leader of every partition,
//! the controller and the coordinator of every group. The API versions it
//! answers are listed in `chronik_protocol::versions::SUPPORTED_APIS`.
//!
//! What it deliberately does not do, and how clients see that:
//! - transactions: InitProducerId with a transactional id fails with
//!   TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53); idempotent producers work;
//! - topic ids: Fetch/Produce versions that address topics by id are not
//!   advertised; Metadata reports the nil id; DeleteTopics by id answers
//!   UNKNOWN_TOPIC_ID (100);
//! - incremental fetch sessions (KIP-227): every Fetch response carries
//!   session id 0, so clients keep sending full fetch requests;
//! - replication: replication factors above 1 are refused with
//!   INVALID_REPLICATION_FACTOR (38); leader epochs are always 0.
//!
//! Public API: [`serve`] (run a broker until SIGINT/SIGTERM), its
//! [`Options`] (which optional subsystems to start), and [`Error`]. Every
//! generic piece (the Tokio runtime, the accept loop, the connection tasks,
//! request decoding and response encoding) is instantiated in this crate, so
//! the binary that calls [`serve`] compiles almost nothing of it.
//!
//! Layout (private modules):
//! - `server`: runtime, listener, accept loop and graceful shutdown;
//! - `connection`: one task per client connection (framing, decoding,
//!   in-order responses);
//! - `dispatch`: the single `match` from a decoded request to its handler,
//!   and the authentication gate;
//! - `handlers`: one module per API (or family of APIs);
//! - `session`: a connection's SASL state and token framing, over the
//!   `SaslServer` trait the `auth` subsystem implements;
//! - `broker`: the shared state handlers work on (logs, ingest, metadata);
//! - `subsystems`: the optional features (metrics, SASL, search, backup),
//!   one module each behind this crate's cargo feature of the same name;
//! - `options` and `error`: [`Options`] and [`Error`].
//!
//! Cargo features (none by default; `chronik-server` forwards its own):
//! `monitoring`, `auth`, `search`, `backup` and `fault-injection`.

mod broker;
mod connection;
mod dispatch;
mod error;
mod handlers;
mod options;
mod server;
// Without `auth` nothing implements `SaslServer` outside the unit tests, so
// the authenticating half of a session is never built.
#[cfg_attr(not(feature = "auth"), allow(dead_code))]
mod session;
mod subsystems;

pub use error::{Error, Result};
pub use options::Options;
pub use server::serve;
