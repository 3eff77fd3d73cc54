//! The error type shared by Chronik crates.

use std::path::PathBuf;

/// Errors shared across Chronik crates.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation failed; `context` says what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done when the error occurred.
        context: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file could not be read or parsed.
    #[error("invalid configuration in {path}: {message}")]
    Config {
        /// The file that was being read.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias using [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
