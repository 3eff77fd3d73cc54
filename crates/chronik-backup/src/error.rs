//! The backup subsystem's error type.

use std::path::PathBuf;

/// Errors of the backup subsystem.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The backup target URL or settings are invalid.
    #[error("invalid backup target: {0}")]
    InvalidTarget(String),
    /// The backend failed (unreachable, denied, ...).
    #[error("backup store: {context}: {source}")]
    Store {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: opendal::Error,
    },
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is unreadable.
    #[error("backup manifest is invalid: {0}")]
    Manifest(String),
    /// A downloaded file does not match the manifest.
    #[error("checksum mismatch for {path}: expected {expected}, got {actual}")]
    Checksum {
        /// The file concerned.
        path: String,
        /// What the manifest says.
        expected: String,
        /// What was downloaded.
        actual: String,
    },
    /// The restore target already holds data.
    #[error("restore target {0} exists and is not empty")]
    TargetNotEmpty(PathBuf),
}

impl BackupError {
    pub(crate) fn store(context: impl Into<String>, source: opendal::Error) -> Self {
        BackupError::Store {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        BackupError::Io {
            context: context.into(),
            source,
        }
    }
}
