//! Load generator for the Chronik broker (binary `chronik-bench`).
//!
//! Speaks the Kafka protocol directly (kafka-protocol messages over tokio
//! sockets), so the figures measure the broker, not a client library:
//!
//! 1. creates a topic with one partition per connection;
//! 2. produce phase: every connection sends pre-built record batches of
//!    fixed-size messages to its own partition, keeping a number of
//!    requests in flight (pipelining), and times each request;
//! 3. fetch phase: every connection reads its partition back from offset 0
//!    until it has seen every message, timing each fetch.
//!
//! Reported: messages/s and MB/s of message values per phase, and
//! p50/p99/max request latency (request sent to response read).

pub mod client;
pub mod stats;
