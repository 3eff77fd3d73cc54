//! The cache of `build --deps-cache DIR`: target directories keyed by [`CacheKey`],
//! misses told apart ([`Miss`]), [`members`]' mtimes restored (docs/deps-cache.md).

mod files;
mod key;
pub mod members;
mod store;

pub use key::{toolchain, CacheKey, LockIdentity};
pub use store::{DepsCache, Entry, Miss};
