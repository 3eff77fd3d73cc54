//! The dependency cache of plain-cargo builds (`cargo buildplan build
//! --deps-cache DIR`): saved target directories keyed by all they depend on
//! ([`CacheKey`]); stale, foreign and corrupt entries are reported ([`Miss`])
//! and ignored; member records ([`members`]) give unchanged member sources
//! their mtimes back. The contract: docs/deps-cache.md.

mod files;
mod key;
pub mod members;
mod store;

pub use key::{toolchain, CacheKey, LockIdentity};
pub use store::{DepsCache, Entry, Miss};
