//! Adding the plan's flags to a target's rustflags without replacing the
//! workspace's own: through the one mechanism the winning source leaves
//! open.

use serde::Serialize;

use super::rustflags::{target_env_var, ResolvedRustflags, RustflagsSource};
use crate::error::Error;

/// How to hand cargo extra flags for a target on top of the workspace's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// workspace's flags followed by `extra`:
    ///
    /// - `CARGO_ENCODED_RUSTFLAGS` or `RUSTFLAGS` set: config rustflags are
    ///   ignored, so the variable itself gets the flags appended (a flag
    ///   with whitespace moves `RUSTFLAGS` into `CARGO_ENCODED_RUSTFLAGS`,
    ///   which outranks it);
    /// - target flags win: `--config target.<triple>.rustflags=[..]`, which
    ///   cargo appends after the files and the variable; if a file writes
    ///   that key as a string (which an array cannot merge with),
    ///   `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` with its old value plus ours;
    /// - `build.rustflags` wins: the same through `build.rustflags` and
    ///   `CARGO_BUILD_RUSTFLAGS` (target flags would replace them);
    /// - nothing configured: `--config target.<triple>.rustflags=[..]`.
    ///
    /// The added flags come last, except that with target flags they land
    /// after the `target.<triple>` flags and before those of matching
    /// `target.'cfg(..)'` keys (cargo appends those after the triple's);
    /// [`ResolvedRustflags::flags_with`] gives the exact order.
    pub fn add(&self, extra: &[String]) -> Result<AddRustflags, Error> {
        if extra.is_empty() {
            return Ok(AddRustflags::Nothing);
        }
        let spaced = extra.iter().any(|f| f.chars().any(char::is_whitespace));
        let encoded = |flags: Vec<String>| AddRustflags::Env {
            name: "CARGO_ENCODED_RUSTFLAGS".into(),
            value: flags.join("\x1f"),
        };
        let appended_env = |var: &str| -> Result<AddRustflags, Error> {
            if spaced {
                return Err(Error::invalid(format!(
                    "cannot add rustflags {extra:?} through {var}: the workspace writes \
                     this key as a string, so only the whitespace-separated variable can \
                     add to it, and a flag contains whitespace"
                )));
            }
            let old = self.env.get(var).map(String::as_str).unwrap_or("");
            let mut value = old.trim().to_string();
            for flag in extra {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(flag);
            }
            Ok(AddRustflags::Env {
                name: var.to_string(),
                value,
            })
        };
        let config = |path: String| AddRustflags::Config {
            arg: format!("{path}.rustflags={}", toml_array(extra)),
        };
        Ok(match self.winner {
            RustflagsSource::EncodedEnv => {
                encoded(self.flags.iter().chain(extra).cloned().collect())
            }
            RustflagsSource::RustflagsEnv if spaced => {
                encoded(self.flags.iter().chain(extra).cloned().collect())
            }
            RustflagsSource::RustflagsEnv => appended_env("RUSTFLAGS")?,
            RustflagsSource::Target if self.target_string_form => {
                appended_env(&target_env_var(&self.triple))?
            }
            RustflagsSource::Build if self.build_string_form => {
                appended_env("CARGO_BUILD_RUSTFLAGS")?
            }
            RustflagsSource::Build => config("build".into()),
            RustflagsSource::Target | RustflagsSource::None => {
                config(format!("target.{}", toml_key(&self.triple)))
            }
        })
    }
}

impl ResolvedRustflags {
    /// The flags cargo passes once `extra` is added as [`Self::add`] says:
    /// the workspace's flags, all kept, with `extra` after them (before the
    /// matching `cfg(..)` keys' flags when target flags win).
    pub fn flags_with(&self, extra: &[String]) -> Vec<String> {
        let cfg_start = match self.winner {
            RustflagsSource::Target => self
                .parts
                .iter()
                .position(|p| p.key.starts_with("target.'cfg("))
                .unwrap_or(self.parts.len()),
            _ => self.parts.len(),
        };
        let mut out: Vec<String> = self.parts[..cfg_start]
            .iter()
            .flat_map(|p| p.flags.clone())
            .collect();
        if self.winner == RustflagsSource::Target && self.target_string_form {
            // Through CARGO_TARGET_<TRIPLE>_RUSTFLAGS: after the variable's
            // old flags, before any `--config` arrays and the cfg keys.
            let env_var = target_env_var(&self.triple);
            let after_env = self.parts[..cfg_start]
                .iter()
                .position(|p| p.key == env_var)
                .map(|i| i + 1)
                .unwrap_or_else(|| {
                    self.parts[..cfg_start]
                        .iter()
                        .position(|p| p.source.starts_with("--config"))
                        .unwrap_or(cfg_start)
                });
            let flags_before: usize = self.parts[..after_env].iter().map(|p| p.flags.len()).sum();
            out.splice(flags_before..flags_before, extra.iter().cloned());
        } else {
            out.extend(extra.iter().cloned());
        }
        out.extend(self.parts[cfg_start..].iter().flat_map(|p| p.flags.clone()));
        out
    }
}

/// A TOML key, quoted unless it is a bare key.
pub fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_string()
    } else {
        serde_json::to_string(key).expect("strings serialise")
    }
}

/// An array of strings in TOML.
fn toml_array(items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| serde_json::to_string(s).expect("strings serialise"))
        .collect();
    format!("[{}]", items.join(", "))
}
