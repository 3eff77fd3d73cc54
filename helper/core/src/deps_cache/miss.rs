//! Why no entry is used.

use std::fmt;
use std::path::PathBuf;

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
