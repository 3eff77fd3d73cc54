//! A saved dependency target directory for plain-cargo builds
//! (`cargo buildplan build --deps-cache DIR`): the plain-cargo counterpart of
//! the Nix flake's base dependency layer (nix/README.md, "Layered dependency
//! artifacts").
//!
//! The cache only supplies a starting target directory; cargo decides what in
//! it is stale, by fingerprint, exactly as it does in a local target dir. So a
//! cache can make a build faster or not, never wrong. Still, a cache is never
//! used blindly:
//!
//! - **Keyed by what it depends on** ([`CacheKey`]): the toolchain (`rustc
//!   -vV`, all of it), the plan's target, profile and variant with the cargo
//!   arguments of the dependency build, the workspace's members, and the base
//!   lock's third-party packages (members' versions left out, as in the Nix
//!   layers, so a member's release does not invalidate it). Each key has its
//!   own directory, `DIR/<id>/`, where `<id>` is a digest of the key; the full
//!   key is stored in the entry's manifest and compared field by field, so
//!   the digest only names the directory and a collision cannot match.
//! - **Stale or foreign** entries (another toolchain, another workspace) are
//!   reported ([`Miss`]) and ignored.
//! - **Corrupt** entries (no manifest, an unreadable one, a file missing or of
//!   another size than when it was saved, an unfinished save) are reported and
//!   ignored.
//! - **Saved atomically**: a save is copied to a temporary directory next to
//!   the entry and renamed into place, the manifest written last.
//! - **Restored only into an empty target directory**: an existing target dir
//!   is already a better start than any cache.
//!
//! Restoring keeps every file's modification time (cargo compares the mtimes
//! of its dep-info files with its outputs) and its permissions.

//!
//! With member records ([`members`]), an entry also keeps the workspace's
//! members: the content hash and mtime of every source file cargo's dep-info
//! names, so that after a fresh checkout the unchanged files get back the
//! mtimes the saved fingerprints were compared with.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

mod files;
mod key;
pub mod members;
mod store;

pub use key::{toolchain, CacheKey, LockIdentity};
pub use store::{DepsCache, Entry, Lookup};

/// Version of the entry format; entries of another format are ignored.
pub const FORMAT: u32 = 1;

/// Name of the manifest file in each entry directory.
pub const MANIFEST: &str = "buildplan-deps-cache.json";

/// The saved target directory inside an entry.
const TARGET: &str = "target";

/// Files cargo recreates and that must not travel between directories.
const SKIPPED: &[&str] = &[".cargo-lock"];

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

type Result<T> = std::result::Result<T, DepsCacheError>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DepsCacheError + '_ {
    move |source| DepsCacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Why no entry is used. Every variant prints as a one-line message that
/// starts with `deps cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No entry for this key, and none that says more.
    Empty,
    /// Entries exist for this workspace, but none for this key; `differs`
    /// names what differs from the closest one (e.g. `toolchain`).
    Stale {
        /// The fields in which the closest entry differs.
        differs: Vec<&'static str>,
    },
    /// The entries there were made for another workspace.
    Foreign {
        /// Their members.
        theirs: Vec<String>,
    },
    /// The entry for this key cannot be trusted.
    Corrupt {
        /// The entry.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Empty => write!(f, "deps cache: no saved dependency artifacts for this build; building from scratch"),
            Miss::Stale { differs } => write!(
                f,
                "deps cache: the saved dependency artifacts are stale ({} differ); ignored, building from scratch",
                differs.join(", ")
            ),
            Miss::Foreign { theirs } => write!(
                f,
                "deps cache: the cache belongs to another workspace (members {}); ignored, building from scratch",
                theirs.join(", ")
            ),
            Miss::Corrupt { dir, reason } => write!(
                f,
                "deps cache: {} is corrupt ({reason}); ignored, building from scratch",
                dir.display()
            ),
        }
    }
}
