//! The rustflags cargo passes to rustc for one target, and where they come
//! from: the first source of [`RustflagsSource`] that is set, its keys
//! merged over the layers as cargo does; and adding the plan's flags to them
//! through the one mechanism the winning source leaves open
//! ([`AddRustflags`]; docs/helper-notes.md).

use std::collections::BTreeSet;
use std::str::FromStr;

use cargo_metadata::cargo_platform::{Cfg, Platform};

use super::layers::{env_var, get, CargoConfig};
use crate::error::Error;

/// The single source cargo takes a target's rustflags from, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RustflagsSource {
    /// `CARGO_ENCODED_RUSTFLAGS`.
    EncodedEnv,
    /// `RUSTFLAGS`.
    RustflagsEnv,
    /// `target.<triple>.rustflags`, then each matching
    /// `target.'cfg(..)'.rustflags` in key order (with
    /// `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`).
    Target,
    /// `build.rustflags` (with `CARGO_BUILD_RUSTFLAGS`).
    Build,
    /// Nothing configured.
    None,
}

/// Flags one place contributes.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagPart {
    /// The key or variable: `target.x86_64-unknown-linux-gnu.rustflags`,
    /// `target.'cfg(unix)'.rustflags`, `build.rustflags`, `RUSTFLAGS`, ...
    pub key: String,
    /// Where it was written (as in [`crate::model::Setting::source`]).
    pub source: String,
    /// The flags.
    pub flags: Vec<String>,
}

/// A target's rustflags as cargo resolves them.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRustflags {
    /// The target triple they are for.
    pub triple: String,
    /// The source cargo uses.
    pub winner: RustflagsSource,
    /// The flags cargo passes to rustc, in order.
    pub flags: Vec<String>,
    /// The places `flags` come from, in order.
    pub parts: Vec<FlagPart>,
    /// Flags configured in a source cargo ignores because a higher one wins
    /// (for example `[build] rustflags` while `RUSTFLAGS` is set).
    pub shadowed: Vec<FlagPart>,
    /// `target.'cfg(..)'` keys with rustflags whose cfg does not match the
    /// target's cfg values given to [`CargoConfig::rustflags`].
    pub unmatched_cfg: Vec<String>,
    /// Whether the winning key's top layer writes it as a string.
    pub(super) string_form: bool,
}

/// `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`.
pub fn target_env_var(triple: &str) -> String {
    env_var(&["target", triple, "rustflags"])
}

/// Whitespace-separated flags.
fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

impl CargoConfig {
    /// The flags of environment variable `var`, if it is set.
    fn var_part(&self, var: &str, split: impl Fn(&str) -> Vec<String>) -> Option<FlagPart> {
        let flags = split(self.env.get(var)?);
        let (key, source) = (var.to_string(), format!("env:{var}"));
        Some(FlagPart { key, source, flags })
    }

    /// The rustflags cargo passes for `triple` (the host's without
    /// `--target`). `cfg` are its cfg values ([`super::rustc_cfg`]); with
    /// none, no `target.'cfg(..)'` key matches.
    pub fn rustflags(&self, triple: &str, cfg: &[Cfg]) -> Result<ResolvedRustflags, Error> {
        let key = format!("target.{triple}.rustflags");
        let var = target_env_var(triple);
        let (mut target, target_string) = self.flag_list(&["target", triple], &key, Some(&var))?;
        let cfg_keys: BTreeSet<&String> = (self.layers.iter())
            .filter_map(|l| l.table.get("target")?.as_table())
            .flat_map(|t| t.keys().filter(|k| k.starts_with("cfg(")))
            .collect();
        let mut unmatched_cfg = Vec::new();
        for cfg_key in cfg_keys {
            let key = format!("target.'{cfg_key}'.rustflags");
            let (parts, _) = self.flag_list(&["target", cfg_key], &key, None)?;
            let Some(first) = parts.first() else {
                continue;
            };
            let platform = Platform::from_str(cfg_key).map_err(|e| {
                Error::key(&first.source, format!("target.'{cfg_key}'"), e.to_string())
            })?;
            if platform.matches(triple, cfg) {
                target.extend(parts);
            } else {
                unmatched_cfg.push(cfg_key.clone());
            }
        }
        let build_var = Some("CARGO_BUILD_RUSTFLAGS");
        let (build, build_string) = self.flag_list(&["build"], "build.rustflags", build_var)?;
        let encoded = self.var_part("CARGO_ENCODED_RUSTFLAGS", |text| {
            let flags = text.split('\x1f').filter(|_| !text.is_empty());
            flags.map(str::to_string).collect()
        });
        let plain = self.var_part("RUSTFLAGS", split);
        let mut candidates = [
            (RustflagsSource::EncodedEnv, Vec::from_iter(encoded), false),
            (RustflagsSource::RustflagsEnv, Vec::from_iter(plain), false),
            (RustflagsSource::Target, target, target_string),
            (RustflagsSource::Build, build, build_string),
        ]
        .into_iter()
        .filter(|(_, parts, _)| !parts.is_empty());
        let (winner, parts, string_form) =
            (candidates.next()).unwrap_or((RustflagsSource::None, Vec::new(), false));
        let shadowed = candidates.flat_map(|(_, p, _)| p);
        Ok(ResolvedRustflags {
            triple: triple.to_string(),
            winner,
            flags: parts.iter().flat_map(|p| p.flags.clone()).collect(),
            parts: parts.into_iter().filter(|p| !p.flags.is_empty()).collect(),
            shadowed: shadowed.filter(|p| !p.flags.is_empty()).collect(),
            unmatched_cfg,
            string_form,
        })
    }

    /// The parts of key `{table}.rustflags` in cargo's order (config files,
    /// variable `var`, `--config` values) and whether the top layer writes
    /// it as a string.
    fn flag_list(
        &self,
        table: &[&str],
        key: &str,
        var: Option<&str>,
    ) -> Result<(Vec<FlagPart>, bool), Error> {
        let path = [table, &["rustflags"]].concat();
        let mut parts: Vec<(bool, FlagPart)> = Vec::new();
        // Whether the last layer wrote a string, and its source.
        let mut form: Option<(bool, &str)> = None;
        for layer in &self.layers {
            let Some(value) = get(&layer.table, &path) else {
                continue;
            };
            let string = value.is_str();
            let flags = match value.as_str() {
                Some(text) => split(text),
                None => value.clone().try_into().map_err(|_| {
                    let message = "must be a string or an array of strings";
                    Error::key(&layer.source, key, message)
                })?,
            };
            if let Some((_, last)) = form.filter(|(was, _)| *was != string) {
                let kind = |string| if string { "a string" } else { "an array" };
                return Err(Error::invalid(format!(
                    "`{key}`: cannot merge the value in {} with the one in {last}: \
                     expected {}, but found {}",
                    layer.source,
                    kind(!string),
                    kind(string)
                )));
            }
            form = Some((string, &layer.source));
            if string {
                parts.clear();
            }
            let (key, source) = (key.to_string(), layer.source.clone());
            parts.push((layer.cli, FlagPart { key, source, flags }));
        }
        if let Some(part) = var.and_then(|var| self.var_part(var, split)) {
            let files = parts.iter().take_while(|(cli, _)| !cli).count();
            parts.insert(files, (false, part));
        }
        let parts = parts
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| !p.flags.is_empty());
        Ok((parts.collect(), form.is_some_and(|(string, _)| string)))
    }
}

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
