//! The cache's error type.

use std::io;
use std::path::{Path, PathBuf};

/// Errors of the cache: only real failures (a save or restore that could not
/// write). A cache that cannot be used is a [`Miss`], not an error.
#[derive(Debug, thiserror::Error)]
pub enum DepsCacheError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// `rustc -vV` could not be run or failed.
    #[error("`{rustc} -vV`: {message}")]
    Toolchain {
        /// The compiler that was asked.
        rustc: String,
        /// What went wrong.
        message: String,
    },
    /// The lock file is not a valid Cargo.lock.
    #[error("{path}: not a Cargo.lock: {message}")]
    Lock {
        /// The lock file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A target directory to restore into is not empty.
    #[error("{0}: not empty; a cache is restored only into an empty target directory")]
    TargetNotEmpty(PathBuf),
}

pub(super) type Result<T> = std::result::Result<T, DepsCacheError>;

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DepsCacheError + '_ {
    move |source| DepsCacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}
