//! Configuration, errors and shared types for Chronik Stream.
//!
//! Every other Chronik crate depends on this one, so it stays small and
//! dependency-light: no async runtime, no I/O beyond reading a config file.

pub mod config;
pub mod error;
pub mod types;

pub use config::{BrokerConfig, FsyncPolicy};
pub use error::{Error, Result};
pub use types::TopicPartition;
