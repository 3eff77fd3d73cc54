//! `why`: for every unit a cargo build compiled, the first reason cargo
//! considered it dirty, in groups, and a gate for builds that should have
//! reused their dependency artifacts.
//!
//! It reads cargo's stable interfaces from one verbose run: the JSON
//! messages say *what* was compiled ([`messages`]), the `Dirty <package>:
//! <reason>` lines of `cargo build -v` *why* ([`dirty`]). A unit with no
//! `Dirty` line is new in the build directory; its reason comes from its
//! fingerprint files, in either layout of the build directory
//! ([`fingerprint`], [`crate::layout`]). A content record tells a touch
//! from an edit ([`record`]). cargo's internal fingerprint log is read only
//! as an optional extra. A compiled unit is never reported fresh: with
//! nothing to go on it is [`Category::Unknown`], saying why. A unit is
//! third-party when its package id's source is not a path
//! ([`SourceKind`]). [`run`] runs a build, [`gate`] checks a report.

pub mod dirty;
pub mod fingerprint;
pub mod messages;
pub mod reason;
pub mod record;
mod report;
mod run;

pub use messages::{units, SourceKind, Unit};
pub use reason::{Category, ContentCheck, Reason};
pub use record::BuildDirs;
pub use report::{explain, explain_or_unknown, gate, Explained, GateFailure, Report};
pub use run::{run, Run, RunOptions};
