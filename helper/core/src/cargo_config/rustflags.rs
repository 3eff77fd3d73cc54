//! The rustflags cargo passes to rustc for one target, where they come
//! from, and how to add the plan's flags without replacing them.
//!
//! cargo 1.95 takes a target's flags from exactly one source, the first of:
//!
//! 1. `CARGO_ENCODED_RUSTFLAGS` (set at all, even empty; split on `\x1f`);
//! 2. `RUSTFLAGS` (set at all, even empty; split on whitespace);
//! 3. target flags: `target.<triple>.rustflags` merged over every layer,
//!    then each matching `target.'cfg(..)'.rustflags` in key order; used
//!    when that list is not empty;
//! 4. `build.rustflags`, merged over every layer.
//!
//! Within one key, layers merge like every cargo list: arrays from lower
//! files first, then the `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` /
//! `CARGO_BUILD_RUSTFLAGS` variable, then `--config` arrays. A string value
//! replaces a lower string (it does not merge), and a string in one layer
//! with an array in another is an error in cargo. Each rule was checked on
//! a one-crate workspace with cargo 1.95 (`cargo build -v`, flags read off
//! the rustc line); the cases are listed in `docs/helper-notes.md`.
//! Adding flags: `add.rs`.

use std::collections::BTreeMap;
use std::str::FromStr;

use cargo_metadata::cargo_platform::{Cfg, Platform};
use serde::Serialize;

use super::layers::{get, Kind, Layer};
use crate::error::Error;

/// The single source cargo takes a target's rustflags from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// target's cfg values given to [`super::CargoConfig::rustflags`].
    pub unmatched_cfg: Vec<String>,
    #[serde(skip)]
    pub(super) target_string_form: bool,
    #[serde(skip)]
    pub(super) build_string_form: bool,
    #[serde(skip)]
    pub(super) env: BTreeMap<String, String>,
}

/// `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`.
pub fn target_env_var(triple: &str) -> String {
    format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        triple.to_uppercase().replace(['-', '.'], "_")
    )
}

/// Resolves one key's list over the layers and its environment variable.
/// Returns the parts in cargo's order and whether any layer used the
/// string form.
fn list(
    layers: &[Layer],
    path: &[&str],
    key: &str,
    env_var: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<(Vec<FlagPart>, bool), Error> {
    // (part, from --config)
    let mut parts: Vec<(FlagPart, bool)> = Vec::new();
    let mut string_form: Option<bool> = None;
    let mut last_source = String::new();
    for layer in layers {
        let Some(value) = get(&layer.table, path) else {
            continue;
        };
        let cli = layer.kind == Kind::Cli;
        let merge_err = |found: &str, expected: &str| {
            Error::invalid(format!(
                "`{key}`: cannot merge the value in {} with the one in {last_source}: \
                 expected {expected}, but found {found}",
                layer.source
            ))
        };
        match value {
            toml::Value::String(s) => {
                if string_form == Some(false) {
                    return Err(merge_err("a string", "an array"));
                }
                string_form = Some(true);
                parts.clear();
                parts.push((
                    FlagPart {
                        key: key.to_string(),
                        source: layer.source.clone(),
                        flags: s.split_whitespace().map(str::to_string).collect(),
                    },
                    cli,
                ));
            }
            toml::Value::Array(items) => {
                if string_form == Some(true) {
                    return Err(merge_err("an array", "a string"));
                }
                string_form = Some(false);
                let flags = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::key(&layer.source, key, "must be an array of strings"))?;
                parts.push((
                    FlagPart {
                        key: key.to_string(),
                        source: layer.source.clone(),
                        flags,
                    },
                    cli,
                ));
            }
            _ => {
                return Err(Error::key(
                    &layer.source,
                    key,
                    "must be a string or an array of strings",
                ))
            }
        }
        last_source = layer.source.clone();
    }
    let mut out: Vec<FlagPart> = parts
        .iter()
        .filter(|(_, cli)| !cli)
        .map(|(p, _)| p.clone())
        .collect();
    if let Some(var) = env_var {
        if let Some(text) = env.get(var) {
            out.push(FlagPart {
                key: var.to_string(),
                source: format!("env:{var}"),
                flags: text.split_whitespace().map(str::to_string).collect(),
            });
        }
    }
    out.extend(parts.into_iter().filter(|(_, cli)| *cli).map(|(p, _)| p));
    out.retain(|p| !p.flags.is_empty());
    Ok((out, string_form == Some(true)))
}

/// Resolves the flags for `triple`; `cfg` are the target's cfg values
/// (`rustc --print cfg --target <triple>`), used to match
/// `target.'cfg(..)'` keys.
pub(crate) fn resolve(
    layers: &[Layer],
    env: &BTreeMap<String, String>,
    triple: &str,
    cfg: &[Cfg],
) -> Result<ResolvedRustflags, Error> {
    let triple_key = format!("target.{triple}.rustflags");
    let triple_var = target_env_var(triple);
    let (mut target, target_string_form) = list(
        layers,
        &["target", triple, "rustflags"],
        &triple_key,
        Some(&triple_var),
        env,
    )?;
    // Every `cfg(..)` key under [target] in any layer, in key order.
    let mut cfg_keys: Vec<String> = layers
        .iter()
        .filter_map(|l| l.table.get("target").and_then(toml::Value::as_table))
        .flat_map(|t| t.keys().filter(|k| k.starts_with("cfg(")).cloned())
        .collect();
    cfg_keys.sort();
    cfg_keys.dedup();
    let mut unmatched_cfg = Vec::new();
    for cfg_key in cfg_keys {
        let key = format!("target.'{cfg_key}'.rustflags");
        let (parts, _) = list(layers, &["target", &cfg_key, "rustflags"], &key, None, env)?;
        if parts.is_empty() {
            continue;
        }
        let platform = Platform::from_str(&cfg_key).map_err(|e| {
            Error::key(
                &parts[0].source,
                format!("target.'{cfg_key}'"),
                e.to_string(),
            )
        })?;
        if platform.matches(triple, cfg) {
            target.extend(parts);
        } else {
            unmatched_cfg.push(cfg_key);
        }
    }
    let (build, build_string_form) = list(
        layers,
        &["build", "rustflags"],
        "build.rustflags",
        Some("CARGO_BUILD_RUSTFLAGS"),
        env,
    )?;
    let mut candidates: Vec<(RustflagsSource, Vec<FlagPart>)> = Vec::new();
    if let Some(text) = env.get("CARGO_ENCODED_RUSTFLAGS") {
        let flags = if text.is_empty() {
            Vec::new()
        } else {
            text.split('\x1f').map(str::to_string).collect()
        };
        candidates.push((
            RustflagsSource::EncodedEnv,
            vec![env_part("CARGO_ENCODED_RUSTFLAGS", flags)],
        ));
    }
    if let Some(text) = env.get("RUSTFLAGS") {
        let flags = text.split_whitespace().map(str::to_string).collect();
        candidates.push((
            RustflagsSource::RustflagsEnv,
            vec![env_part("RUSTFLAGS", flags)],
        ));
    }
    if !target.is_empty() {
        candidates.push((RustflagsSource::Target, target));
    }
    if !build.is_empty() {
        candidates.push((RustflagsSource::Build, build));
    }
    let mut candidates = candidates.into_iter();
    let (winner, parts) = candidates
        .next()
        .unwrap_or((RustflagsSource::None, Vec::new()));
    let shadowed = candidates
        .flat_map(|(_, p)| p)
        .filter(|p| !p.flags.is_empty())
        .collect();
    Ok(ResolvedRustflags {
        triple: triple.to_string(),
        winner,
        flags: parts.iter().flat_map(|p| p.flags.clone()).collect(),
        parts: parts.into_iter().filter(|p| !p.flags.is_empty()).collect(),
        shadowed,
        unmatched_cfg,
        target_string_form,
        build_string_form,
        env: env.clone(),
    })
}

fn env_part(var: &str, flags: Vec<String>) -> FlagPart {
    FlagPart {
        key: var.to_string(),
        source: format!("env:{var}"),
        flags,
    }
}
