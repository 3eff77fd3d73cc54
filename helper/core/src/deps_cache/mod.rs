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

mod error;
mod files;
mod key;
pub mod members;
mod miss;
mod store;

pub use error::DepsCacheError;
pub use key::{toolchain, CacheKey, LockIdentity};
pub use miss::Miss;
pub use store::{DepsCache, Entry, Lookup, FORMAT, MANIFEST};
