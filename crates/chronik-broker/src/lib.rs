//! The Chronik broker: a single-node server speaking the Kafka protocol.
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
//! Layout:
//! - [`server`]: listener, accept loop and graceful shutdown;
//! - [`connection`]: one task per client connection (framing, decoding,
//!   in-order responses);
//! - [`dispatch`]: the single `match` from a decoded request to its handler,
//!   and the authentication gate;
//! - [`handlers`]: one module per API (or family of APIs);
//! - [`session`]: a connection's SASL state and token framing;
//! - [`broker`]: the shared state handlers work on (logs, ingest, metadata);
//! - [`subsystems`]: the optional features (metrics, SASL, search,
//!   backup), one module each behind its cargo feature;
//! - [`cli`], [`logging`] and [`commands`]: the binary's command-line
//!   settings, log setup, and the `user add` and `restore` subcommands.

pub mod broker;
pub mod cli;
pub mod commands;
pub mod connection;
pub mod dispatch;
pub mod handlers;
pub mod logging;
pub mod server;
pub mod session;
pub mod subsystems;

pub use server::{run, run_with, shutdown_signal};
