//! The one error type of [`crate::cargo_config`].
//!
//! Every variant names the place the bad input came from (`file`: a config
//! file as the plan names it, `Cargo.toml`, `env:VAR` or `--config ARG`) and,
//! where there is one, the dotted key. The command layer turns any of them
//! into exit code 2 and leaves the plan untouched.

/// Why cargo's configuration could not be resolved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A config file exists but could not be read.
    #[error("{file}: could not read: {message}")]
    Read {
        /// The file, as the plan names it.
        file: String,
        /// The OS error.
        message: String,
    },
    /// A config file (or a `--config` value) is not valid TOML.
    #[error("{file}: not valid TOML:\n{message}")]
    Toml {
        /// The file, as the plan names it, or `--config ARG`.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// One key is wrong: unknown to cargo, of the wrong type, out of range,
    /// or (for `inherits`) naming a profile that does not exist.
    #[error("{file}: `{key}` {message}")]
    Key {
        /// Where the key was written.
        file: String,
        /// Dotted path of the key, e.g. `profile.release.lto`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two layers give one key values cargo cannot merge (a string in one,
    /// an array in the other); cargo refuses this too.
    #[error("`{key}`: cannot merge the value in {higher} with the one in {lower}: {message}")]
    Merge {
        /// Dotted path of the key.
        key: String,
        /// The lower-precedence place.
        lower: String,
        /// The higher-precedence place.
        higher: String,
        /// What does not fit.
        message: String,
    },
    /// Flags the plan wants to add cannot be expressed through the
    /// mechanism the workspace's configuration leaves open.
    #[error("cannot add rustflags {flags:?} through {through}: {message}")]
    AddRustflags {
        /// The flags to add.
        flags: Vec<String>,
        /// The variable or key they would have to go through.
        through: String,
        /// Why that is impossible.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn key(file: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Key {
            file: file.to_string(),
            key: key.into(),
            message: message.into(),
        }
    }
}
