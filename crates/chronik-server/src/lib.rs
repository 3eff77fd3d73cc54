//! The Chronik broker: a single-node server speaking the Kafka protocol.
//!
//! Layout:
//! - [`server`]: listener, accept loop and graceful shutdown;
//! - [`connection`]: one task per client connection (framing, decoding,
//!   in-order responses);
//! - [`dispatch`]: the single `match` from a decoded request to its handler;
//! - [`handlers`]: one module per API (or family of APIs);
//! - [`broker`]: the shared state handlers work on (logs, ingest, metadata).

pub mod broker;
pub mod connection;
pub mod dispatch;
pub mod handlers;
pub mod server;

pub use server::{run, shutdown_signal};
