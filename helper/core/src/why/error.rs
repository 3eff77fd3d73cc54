//! The error type of [`crate::why`] (a leaf module, so that every part of
//! `why` can use it without an import circle).

/// Why a build cannot be explained: cargo output that cannot be used, or a
/// cargo that cannot be run.
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
    /// cargo compiled units, but its standard error is not that of a
    /// verbose build, so it cannot hold cargo's `Dirty` lines.
    #[error(
        "cargo compiled {compiled} unit(s) but its standard error is not from `cargo -v` \
         (no ``Running `rustc …` `` line), so it cannot say why; run the build with -v and keep its standard error"
    )]
    NotVerbose {
        /// Units compiled.
        compiled: usize,
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
