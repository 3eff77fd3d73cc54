//! The library's one error type, and how a command's result becomes its
//! exit code: 0, 1 for a failed check or gate, 2 for an error.

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine: exit 0.
    Success,
    /// The command's check or gate failed: exit 1.
    Failed,
}

impl Outcome {
    /// A gate's outcome: [`Outcome::Failed`] when it `failed`.
    pub fn failed_if(failed: bool) -> Outcome {
        if failed {
            Outcome::Failed
        } else {
            Outcome::Success
        }
    }

    /// The process's exit code for a command's result; prints an error.
    pub fn exit(result: anyhow::Result<Outcome>) -> std::process::ExitCode {
        match result {
            Ok(Outcome::Success) => std::process::ExitCode::SUCCESS,
            Ok(Outcome::Failed) => 1.into(),
            Err(e) => {
                eprintln!("error: {e:#}");
                2.into()
            }
        }
    }
}

/// The library's errors; those without parts of their own are messages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    /// A command ran and failed: the message quotes it and its stderr.
    #[error("{0}")]
    CargoFailed(String),
    /// Any other bad input: a file, an unknown name, an option, a tool.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// `path: e`, for a file that cannot be read or written.
    pub fn io(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Error::Invalid(format!("{}: {e}", path.display()))
    }

    /// `program` could not be started.
    pub fn not_run(program: &str, e: impl std::fmt::Display) -> Self {
        let hint = "(is cargo installed and on PATH?)";
        Error::Invalid(format!("could not run `{program}`: {e} {hint}"))
    }

    /// Builds [`Error::Toml`].
    pub fn toml(file: &str, e: impl std::fmt::Display) -> Self {
        let (file, message) = (file.to_string(), e.to_string());
        Error::Toml { file, message }
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

    /// An unknown `kind` (`package`, `profile`...) `name`, listing the known.
    pub fn unknown<'a>(
        kind: &str,
        name: &str,
        known: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        let known: Vec<&str> = known.into_iter().map(String::as_str).collect();
        let known = if known.is_empty() {
            "(none)".to_string()
        } else {
            known.join(", ")
        };
        Error::Invalid(format!("unknown {kind} `{name}`; the plan has: {known}"))
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
