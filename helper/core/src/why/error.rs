//! The error type of [`crate::why`] (a leaf module, so that every part of
//! `why` can use it without an import circle).

/// Why a build cannot be explained: a fingerprint log or message stream
/// that cannot be used, or a cargo that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhyError {
    /// cargo could not be started, or `cargo metadata` failed.
    #[error("`{command}`: {message}")]
    Cargo {
        /// The command.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// The log is empty although cargo compiled units.
    #[error(
        "the fingerprint log is empty although cargo compiled {compiled} unit(s); \
         run the build with CARGO_LOG=cargo::core::compiler::fingerprint=info and keep its standard error"
    )]
    Empty {
        /// Units compiled.
        compiled: usize,
    },
    /// The text has no line of cargo's fingerprint log at all.
    #[error(
        "not a cargo fingerprint log: none of its {lines} line(s) comes from \
         `cargo::core::compiler::fingerprint` (was CARGO_LOG=cargo::core::compiler::fingerprint=info set?)"
    )]
    NotCargo {
        /// Non-blank lines read.
        lines: usize,
    },
    /// A unit's entry stops before its reason: the log was cut.
    #[error("the fingerprint log is cut: line {line} starts the entry for {unit} but its reason is missing")]
    Truncated {
        /// Line of the entry.
        line: usize,
        /// cargo's display of the package.
        unit: String,
    },
    /// A fingerprint line does not read as cargo writes it.
    #[error("fingerprint log line {line}: {problem}: {text}")]
    Unreadable {
        /// The line.
        line: usize,
        /// Its text.
        text: String,
        /// What is wrong.
        problem: String,
    },
    /// The JSON messages hold no cargo message.
    #[error("no cargo JSON message in the build output; run the build with --message-format json and keep its standard output")]
    NoMessages,
    /// A JSON message cannot be read.
    #[error("cargo JSON message on line {line}: {problem}")]
    Messages {
        /// The line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}
