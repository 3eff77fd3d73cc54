//! A saved dependency target directory for plain-cargo builds
//! (`cargo buildplan build --deps-cache DIR`): the plain-cargo counterpart of
//! the Nix flake's base dependency layer. The cache only supplies a starting
//! target directory; cargo decides what in it is stale, so a cache can make a
//! build faster or not, never wrong. Entries are keyed by what they depend on
//! ([`CacheKey`], compared in full), stale, foreign and corrupt ones are
//! reported ([`Miss`]) and ignored, saves are atomic, restores go only into
//! an empty target directory and keep mtimes; with member records
//! ([`members`]) unchanged member sources get their recorded mtimes back.
//! The contract, in full: docs/deps-cache.md.

mod files;
mod key;
pub mod members;
mod miss;
mod store;

pub use key::{toolchain, CacheKey, LockIdentity};
pub use miss::Miss;
pub use store::{DepsCache, Entry, Lookup, FORMAT, MANIFEST};
