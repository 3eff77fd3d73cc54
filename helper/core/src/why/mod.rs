//! `why`: for every unit a cargo build compiled, the first reason cargo
//! considered it dirty, in groups, and a gate for builds that should have
//! reused their dependency artifacts.
//!
//! From one verbose run, the JSON messages say *what* was compiled
//! ([`messages`]), cargo's `Dirty` lines *why* ([`dirty`]); a unit new in
//! the build directory is explained by its fingerprint files
//! ([`fingerprint`]), a touch told from an edit by a content record
//! ([`record`]). A compiled unit is never reported fresh: with nothing to
//! go on it is [`Category::Unknown`]. The method: docs/helper-notes.md.

mod dirty;
mod fingerprint;
pub mod messages;
mod reason;
pub mod record;
mod report;
mod run;

pub use messages::{units, SourceKind, Unit};
pub use reason::{Category, ContentCheck, Reason};
pub use record::BuildDirs;
pub use report::{explain, explain_or_unknown, gate, Explained, GateFailure, Report};
pub use run::{run, Run, RunOptions};
