//! One function per subcommand: plain arguments from [`crate::cli`] in,
//! calls of the library core and text on stdout and stderr out, and an
//! [`Outcome`] or an error back to `main` (the exit code).

pub mod audit;
pub mod bench;
pub mod build;
pub mod cache;
pub mod doctor;
pub mod explain;
pub mod plan;
pub mod rebase;
pub mod why;

use std::path::Path;

use buildplan::error::Outcome;

/// A gate's outcome: exit 1 when it `failed`.
fn failed_if(failed: bool) -> Outcome {
    if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// `path` as shown to people: relative to the workspace `root` when it can be.
fn shown(root: &Path, path: &Path) -> String {
    buildplan::workspace::relative(root, path).unwrap_or_else(|_| path.display().to_string())
}
