//! The library's one error type, and the exit codes: an error travels up to
//! `main`, which prints it and exits with [`EXIT_ERROR`]; a command whose
//! check or gate fails exits with [`EXIT_FINDING`].

/// Exit code of a command that ran and whose check or gate failed.
pub const EXIT_FINDING: u8 = 1;
/// Exit code for bad input (manifest, policy, arguments, missing tools).
pub const EXIT_ERROR: u8 = 2;

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine: exit 0.
    Success,
    /// The command's check or gate failed: exit [`EXIT_FINDING`].
    Failed,
}

impl Outcome {
    /// The process's exit code for a command's result; an error is printed
    /// first, with its context chain (the one error path of both binaries).
    pub fn exit(result: anyhow::Result<Outcome>) -> std::process::ExitCode {
        match result {
            Ok(Outcome::Success) => std::process::ExitCode::SUCCESS,
            Ok(Outcome::Failed) => EXIT_FINDING.into(),
            Err(e) => {
                eprintln!("error: {e:#}");
                EXIT_ERROR.into()
            }
        }
    }
}

/// The errors with a shape of their own; anything else is an
/// [`anyhow::Error`] with context.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The policy table does not parse (a misspelt key, a wrong type).
    #[error("{file}: invalid build policy [workspace.metadata.buildplan]:\n{message}")]
    Policy {
        /// The manifest.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A manifest, config file or `--config` value is not valid TOML.
    #[error("{file}: not valid TOML:\n{message}")]
    Toml {
        /// The file, as the plan names it, or `--config ARG`.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// One key is wrong: a policy key, a profile setting or a config key.
    #[error("{file}: `{key}` {message}")]
    Key {
        /// Where the key was written (a file, `env:VAR`, `--config ARG`).
        file: String,
        /// Dotted path of the key, e.g. `profile.release.lto`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A variant names a package or feature that does not exist.
    #[error("{file}: variant `{variant}`: {message}")]
    Variant {
        /// The manifest holding the policy.
        file: String,
        /// The variant.
        variant: String,
        /// What is wrong with it.
        message: String,
    },
    /// A name given on the command line does not exist.
    #[error("unknown {kind} `{name}`; the plan has: {known}")]
    Unknown {
        /// `package`, `variant`, `target` or `profile`.
        kind: &'static str,
        /// The name given.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// Bad input that is not a file's fault (an option, a missing tool).
    #[error("{0}")]
    Invalid(String),
    /// cargo could not be started.
    #[error("could not run `{program}`: {message} (is cargo installed and on PATH?)")]
    CargoMissing {
        /// The program tried.
        program: String,
        /// The OS error.
        message: String,
    },
    /// cargo ran and failed.
    #[error("`{command}` failed:\n{stderr}")]
    CargoFailed {
        /// The command, for people.
        command: String,
        /// Its standard error.
        stderr: String,
    },
}

impl Error {
    /// Builds [`Error::Io`] for `path`.
    pub fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Builds [`Error::Key`].
    pub fn key(file: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Key {
            file: file.to_string(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// Builds [`Error::Invalid`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }

    /// Builds [`Error::Unknown`] from the names that do exist.
    pub fn unknown<'a>(
        kind: &'static str,
        name: &str,
        known: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        let known: Vec<&str> = known.into_iter().map(String::as_str).collect();
        Error::Unknown {
            kind,
            name: name.to_string(),
            known: if known.is_empty() {
                "(none)".into()
            } else {
                known.join(", ")
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_known_ones() {
        let known = ["a".to_string(), "b".to_string()];
        let e = Error::unknown("profile", "c", &known);
        assert_eq!(e.to_string(), "unknown profile `c`; the plan has: a, b");
        let e = Error::unknown("variant", "x", &[]);
        assert_eq!(e.to_string(), "unknown variant `x`; the plan has: (none)");
    }
}
