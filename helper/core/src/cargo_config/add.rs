//! Adding the plan's flags to a target's rustflags without replacing the
//! workspace's own: through the one mechanism the winning source leaves
//! open.

use super::rustflags::{target_env_var, FlagPart, ResolvedRustflags, RustflagsSource};
use crate::error::Error;

/// How to hand cargo extra flags for a target on top of the workspace's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddRustflags {
    /// There is nothing to add.
    Nothing,
    /// Set this environment variable to this value; the value already
    /// holds the flags it had before, with the plan's appended.
    Env {
        /// The variable.
        name: String,
        /// Its new value.
        value: String,
    },
    /// Pass `--config ARG`: cargo appends an array given on the command
    /// line to the arrays the config files hold for the same key.
    Config {
        /// The argument after `--config`.
        arg: String,
    },
}

impl ResolvedRustflags {
    /// How to add `extra` to this target's flags so that cargo passes the
    /// workspace's flags followed by `extra`: through the winning source
    /// (the rules: docs/helper-notes.md; the order: [`Self::flags_with`]).
    pub fn add(&self, extra: &[String]) -> Result<AddRustflags, Error> {
        use RustflagsSource::{Build, EncodedEnv, None, RustflagsEnv, Target};
        if extra.is_empty() {
            return Ok(AddRustflags::Nothing);
        }
        let spaced = extra.iter().any(|f| f.contains(char::is_whitespace));
        let config = |table: String| {
            let arg = format!("{table}.rustflags={}", toml::Value::from(extra.to_vec()));
            Ok(AddRustflags::Config { arg })
        };
        if self.winner == EncodedEnv || (self.winner == RustflagsEnv && spaced) {
            let flags = Vec::from_iter(self.flags.iter().chain(extra).map(String::as_str));
            let (name, value) = ("CARGO_ENCODED_RUSTFLAGS".into(), flags.join("\x1f"));
            return Ok(AddRustflags::Env { name, value });
        }
        let var = match self.winner {
            EncodedEnv | RustflagsEnv => "RUSTFLAGS".to_string(),
            Target if self.string_form => target_env_var(&self.triple),
            Build if self.string_form => "CARGO_BUILD_RUSTFLAGS".into(),
            Build => return config("build".into()),
            Target | None => return config(format!("target.{}", toml_key(&self.triple))),
        };
        if spaced {
            return Err(Error::invalid(format!(
                "cannot add rustflags {extra:?} through {var}: the workspace writes \
                 this key as a string, so only the whitespace-separated variable can \
                 add to it, and a flag contains whitespace"
            )));
        }
        let old = self
            .parts
            .iter()
            .filter(|p| p.key == var)
            .flat_map(|p| &p.flags);
        let value = Vec::from_iter(old.chain(extra).map(String::as_str)).join(" ");
        Ok(AddRustflags::Env { name: var, value })
    }

    /// The flags cargo passes once `extra` is added as [`Self::add`] says:
    /// the workspace's flags, all kept, with `extra` after them (before the
    /// matching `cfg(..)` keys' flags when target flags win).
    pub fn flags_with(&self, extra: &[String]) -> Vec<String> {
        let parts = &self.parts;
        let target = self.winner == RustflagsSource::Target;
        let cfg_start = (parts.iter())
            .position(|p| target && p.key.starts_with("target.'cfg("))
            .unwrap_or(parts.len());
        // Through CARGO_TARGET_<TRIPLE>_RUSTFLAGS, the flags land after the
        // variable's old ones, before any `--config` arrays.
        let insert_at = if target && self.string_form {
            let env_var = target_env_var(&self.triple);
            let before = &parts[..cfg_start];
            (before.iter().position(|p| p.key == env_var).map(|i| i + 1))
                .or_else(|| before.iter().position(|p| p.source.starts_with("--config")))
                .unwrap_or(cfg_start)
        } else {
            cfg_start
        };
        let flags = |parts: &[FlagPart]| Vec::from_iter(parts.iter().flat_map(|p| p.flags.clone()));
        let (head, tail) = parts.split_at(insert_at);
        [flags(head), extra.to_vec(), flags(tail)].concat()
    }
}

/// A TOML key, quoted unless it is a bare key.
pub fn toml_key(key: &str) -> String {
    toml_edit::Key::new(key).to_string()
}
