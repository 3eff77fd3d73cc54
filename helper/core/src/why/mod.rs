//! `why`: for every unit a cargo build compiled, the first reason cargo
//! considered it dirty, in groups, and a gate for builds that should have
//! reused their dependency artifacts.
//!
//! It reads cargo through its stable interfaces, from one verbose run:
//!
//! - the JSON messages (`--message-format json`, standard output, read with
//!   `cargo_metadata`): a `compiler-artifact` with `"fresh": false` is a
//!   compiled unit ([`messages`]);
//! - the `Dirty <package>: <reason>` lines of `cargo build -v` (standard
//!   error): cargo's reason in words ([`dirty`], [`reason`]).
//!
//! The messages decide *what* was compiled, the `Dirty` lines *why*. A unit
//! with no `Dirty` line is new in the build directory (its unit hash
//! changed: features, rustflags, profile, dependencies or version); its
//! reason is found by comparing fingerprint files ([`fingerprint`], in
//! either layout of the build directory: [`crate::layout`]). A touch is
//! told from an edit with a content record ([`record`]). cargo's internal
//! fingerprint log is read only as an optional extra. A compiled unit is
//! never reported fresh: with nothing to go on it is [`Category::Unknown`],
//! saying why. [`run`] runs a build, [`gate`] checks a report.
//!
//! A unit is third-party when its package id's source is not a path
//! (`registry+…`, `git+…`): see [`messages::SourceKind`].

pub mod dirty;
mod error;
pub mod fingerprint;
pub mod messages;
pub mod reason;
pub mod record;
mod report;
mod run;

pub use error::WhyError;
pub use messages::{SourceKind, Unit};
pub use reason::{Category, ContentCheck, Reason};
pub use report::{
    explain, explain_or_unknown, gate, units, BuildDirs, Explained, GateFailure, Report,
};
pub use run::{run, Run, RunOptions};
