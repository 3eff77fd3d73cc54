//! `why`: the first reason cargo compiled each unit of a build, and a gate for builds that
//! should have reused their dependencies' artifacts (docs/helper-notes.md, "Why a unit compiled").

mod dirty;
mod fingerprint;
pub mod messages;
mod reason;
pub mod record;
mod report;
mod run;

pub use messages::{units, SourceKind, Unit};
pub use reason::{Category, Change, ContentCheck, Reason};
pub use record::BuildDirs;
pub use report::{explain, explain_or_unknown, gate, Explained, GateFailure, Report};
pub use run::{run, Run, RunOptions};
