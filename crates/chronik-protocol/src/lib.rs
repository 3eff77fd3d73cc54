//! The Kafka wire protocol as the Chronik broker speaks it.
//!
//! The message structs themselves come from the [`kafka_protocol`] crate
//! (re-exported here so every Chronik crate uses the same version). This crate
//! adds what a broker needs around them:
//!
//! - [`frame`]: the 4-byte big-endian length prefix, with a size limit;
//! - [`versions`]: the table of API keys and versions this broker implements,
//!   which drives the ApiVersions response and version checks;
//! - [`request`]: header + body decoding with the right header version per
//!   API key and version, and a typed error for everything that can go wrong;
//! - [`response`]: header + body encoding into a ready-to-send frame, and
//!   error responses for any supported request;
//! - [`records`]: record batches for load generators and tests.
//!
//! Nothing here panics on bad input: every malformed frame becomes a
//! [`request::DecodeError`]. Binaries that decode untrusted frames should
//! also install [`alloc_guard::HugeAllocGuard`] as their global allocator:
//! it keeps a forged array length from aborting the process (a
//! `kafka-protocol` 0.18 weakness; see that module).

pub mod alloc_guard;
pub mod frame;
pub mod records;
pub mod request;
pub mod response;
pub mod versions;

pub use kafka_protocol;
pub use kafka_protocol::messages::{ApiKey, RequestKind, ResponseKind};

pub use frame::{decode_frame, FrameError};
pub use request::{decode_request, DecodeError, RequestFrame};
pub use response::{
    encode_response, error_response, produce_partition_error, produce_response, EncodeError,
};
pub use versions::{api_versions_response, supported_versions, SUPPORTED_APIS};
