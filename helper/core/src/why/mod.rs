//! `why`: for every unit a cargo build compiled, the first reason cargo
//! considered it dirty, in groups, and a gate for builds that should have
//! reused their dependency artifacts.
//!
//! Two inputs, both from one cargo run:
//!
//! - the fingerprint log: cargo's standard error with
//!   `CARGO_LOG=cargo::core::compiler::fingerprint=info` (which lines are
//!   read: [`log`]);
//! - the JSON messages: standard output with `--message-format json`; a
//!   `compiler-artifact` with `"fresh": false` is a compiled unit
//!   ([`messages`]).
//!
//! The messages decide *what* was compiled, the log *why*. A unit compiled
//! without a usable log entry is reported as [`Category::Unknown`], never
//! as fresh. A log that is empty, cut or not cargo's is a [`WhyError`];
//! [`explain_or_unknown`] then reports every compiled unit as unknown.
//!
//! Reasons cargo cannot log (the unit is new in the build directory, for
//! changed features, rustflags, profile, dependencies or version, which all
//! change cargo's unit hash) are found by comparing fingerprint files
//! ([`fingerprint`]); a touch is told from an edit with a content record
//! ([`record`]). [`run`] runs a build with both, [`gate`] checks a report.
//!
//! A unit is third-party when its package id's source is not a path
//! (`registry+…`, `git+…`): see [`messages::SourceKind`].

pub mod debug_value;
mod error;
pub mod fingerprint;
pub mod log;
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
