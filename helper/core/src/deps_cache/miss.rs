//! Why no entry is used.

use std::path::PathBuf;

/// Why no entry is used; each prints as one line starting with `deps cache`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Miss {
    /// No entry for this key, and none that says more.
    #[error("deps cache: no saved dependency artifacts for this build; building from scratch")]
    Empty,
    /// Entries exist for this workspace, but none for this key; `differs`
    /// names what differs from the closest one (e.g. `toolchain`).
    #[error("deps cache: the saved dependency artifacts are stale ({} differ); ignored, building from scratch", .differs.join(", "))]
    Stale {
        /// The fields in which the closest entry differs.
        differs: Vec<&'static str>,
    },
    /// The entries there were made for another workspace.
    #[error("deps cache: the cache belongs to another workspace (members {}); ignored, building from scratch", .theirs.join(", "))]
    Foreign {
        /// Their members.
        theirs: Vec<String>,
    },
    /// The entry for this key cannot be trusted.
    #[error("deps cache: {} is corrupt ({reason}); ignored, building from scratch", .dir.display())]
    Corrupt {
        /// The entry.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}
