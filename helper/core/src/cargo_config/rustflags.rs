//! The rustflags cargo passes to rustc for one target, and where they come
//! from: exactly one source, the first of `CARGO_ENCODED_RUSTFLAGS` (split
//! on `\x1f`), `RUSTFLAGS`, the target flags (`target.<triple>.rustflags`,
//! then each matching `target.'cfg(..)'.rustflags` in key order) and
//! `build.rustflags`. Within one key, arrays merge over config files, the
//! key's variable, then `--config` values; a string replaces what is below
//! it, and a string with an array is an error (docs/helper-notes.md).

use std::str::FromStr;

use cargo_metadata::cargo_platform::{Cfg, Platform};

use super::{env_var, get, CargoConfig};
use crate::error::Error;

/// The single source cargo takes a target's rustflags from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RustflagsSource {
    /// `CARGO_ENCODED_RUSTFLAGS`.
    EncodedEnv,
    /// `RUSTFLAGS`.
    RustflagsEnv,
    /// `target.<triple>.rustflags` and matching `target.'cfg(..)'.rustflags`
    /// (with `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`).
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

/// The flags of environment variable `var`.
fn from_var(var: &str, flags: Vec<String>) -> FlagPart {
    let (key, source) = (var.to_string(), format!("env:{var}"));
    FlagPart { key, source, flags }
}

/// Whitespace-separated flags.
fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

impl CargoConfig {
    /// The rustflags cargo passes for `triple` (the host's without
    /// `--target`). `cfg` are its cfg values ([`super::rustc_cfg`]); with
    /// none, no `target.'cfg(..)'` key matches.
    pub fn rustflags(&self, triple: &str, cfg: &[Cfg]) -> Result<ResolvedRustflags, Error> {
        let key = format!("target.{triple}.rustflags");
        let var = target_env_var(triple);
        let (mut target, target_string) = self.flag_list(&["target", triple], &key, Some(&var))?;
        let mut cfg_keys: Vec<&String> = (self.layers.iter())
            .filter_map(|l| l.table.get("target")?.as_table())
            .flat_map(|t| t.keys().filter(|k| k.starts_with("cfg(")))
            .collect();
        cfg_keys.sort();
        cfg_keys.dedup();
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
        let encoded = self.env.get("CARGO_ENCODED_RUSTFLAGS").map(|text| {
            let flags = text.split('\x1f').filter(|_| !text.is_empty());
            vec![from_var(
                "CARGO_ENCODED_RUSTFLAGS",
                flags.map(str::to_string).collect(),
            )]
        });
        let plain =
            (self.env.get("RUSTFLAGS")).map(|text| vec![from_var("RUSTFLAGS", split(text))]);
        let mut candidates = [
            (RustflagsSource::EncodedEnv, encoded, false),
            (RustflagsSource::RustflagsEnv, plain, false),
            (RustflagsSource::Target, Some(target), target_string),
            (RustflagsSource::Build, Some(build), build_string),
        ]
        .into_iter()
        .filter_map(|(source, parts, string)| {
            Some((source, parts.filter(|p| !p.is_empty())?, string))
        });
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
            let bad = |message: &str| Error::key(&layer.source, key, message);
            let (string, flags) = match value {
                toml::Value::String(s) => (true, split(s)),
                toml::Value::Array(_) => {
                    let flags = value.clone().try_into();
                    (
                        false,
                        flags.map_err(|_| bad("must be an array of strings"))?,
                    )
                }
                _ => return Err(bad("must be a string or an array of strings")),
            };
            if let Some((was_string, last)) = form.filter(|(was, _)| *was != string) {
                let (found, expected) = match was_string {
                    true => ("an array", "a string"),
                    false => ("a string", "an array"),
                };
                return Err(Error::invalid(format!(
                    "`{key}`: cannot merge the value in {} with the one in {last}: \
                     expected {expected}, but found {found}",
                    layer.source
                )));
            }
            form = Some((string, &layer.source));
            if string {
                parts.clear();
            }
            let (key, source) = (key.to_string(), layer.source.clone());
            parts.push((layer.cli, FlagPart { key, source, flags }));
        }
        if let Some((var, text)) = var.and_then(|v| Some((v, self.env.get(v)?))) {
            let files = parts.iter().take_while(|(cli, _)| !cli).count();
            parts.insert(files, (false, from_var(var, split(text))));
        }
        let parts = parts
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| !p.flags.is_empty());
        Ok((parts.collect(), form.is_some_and(|(string, _)| string)))
    }
}
