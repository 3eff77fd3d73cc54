//! The crate's one error type.

/// Why the broker could not start, or stopped serving with an error: what
/// it was doing, with the underlying causes as its
/// [`source`](std::error::Error::source) chain. Formatted with `{:#}`, it
/// prints the whole chain on one line (`binding the Kafka listener on
/// 0.0.0.0:9092: Address in use (os error 98)`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] anyhow::Error);

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
