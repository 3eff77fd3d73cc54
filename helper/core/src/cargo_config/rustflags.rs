//! The rustflags cargo passes to rustc for one target, and where they come
//! from. cargo takes them from exactly one source, the first of:
//! `CARGO_ENCODED_RUSTFLAGS` (set at all, split on `\x1f`), `RUSTFLAGS`
//! (set at all, split on whitespace), the target flags
//! (`target.<triple>.rustflags`, then each matching
//! `target.'cfg(..)'.rustflags` in key order) when not empty, and
//! `build.rustflags`. Within one key, arrays merge over the layers (files,
//! then the `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` / `CARGO_BUILD_RUSTFLAGS`
//! variable, then `--config`); a string replaces a lower string, and a
//! string with an array is an error, as in cargo (docs/helper-notes.md).
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
/// Returns the parts in cargo's order and whether the string form is used.
fn list(
    layers: &[Layer],
    path: &[&str],
    key: &str,
    env_var: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<(Vec<FlagPart>, bool), Error> {
    let (mut files, mut cli) = (Vec::new(), Vec::new());
    // Whether the last layer wrote a string, and its source.
    let mut form: Option<(bool, &str)> = None;
    for layer in layers {
        let Some(value) = get(&layer.table, path) else {
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
            let (found, expected) = if was_string {
                ("an array", "a string")
            } else {
                ("a string", "an array")
            };
            return Err(Error::invalid(format!(
                "`{key}`: cannot merge the value in {} with the one in {last}: \
                 expected {expected}, but found {found}",
                layer.source
            )));
        }
        form = Some((string, layer.source.as_str()));
        if string {
            files.clear();
            cli.clear();
        }
        let part = FlagPart {
            key: key.to_string(),
            source: layer.source.clone(),
            flags,
        };
        match layer.kind {
            Kind::Cli => cli.push(part),
            Kind::File => files.push(part),
        }
    }
    files.extend(env_var.and_then(|var| Some(env_part(var, split(env.get(var)?)))));
    files.extend(cli);
    files.retain(|p| !p.flags.is_empty());
    Ok((files, form.is_some_and(|(string, _)| string)))
}

/// Whitespace-separated flags.
fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
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
    let mut candidates = Vec::new();
    if let Some(text) = env.get("CARGO_ENCODED_RUSTFLAGS") {
        let flags = text.split('\x1f').filter(|_| !text.is_empty());
        let part = env_part(
            "CARGO_ENCODED_RUSTFLAGS",
            flags.map(str::to_string).collect(),
        );
        candidates.push((RustflagsSource::EncodedEnv, vec![part]));
    }
    if let Some(text) = env.get("RUSTFLAGS") {
        let part = env_part("RUSTFLAGS", split(text));
        candidates.push((RustflagsSource::RustflagsEnv, vec![part]));
    }
    for candidate in [
        (RustflagsSource::Target, target),
        (RustflagsSource::Build, build),
    ] {
        if !candidate.1.is_empty() {
            candidates.push(candidate);
        }
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

/// The flags of environment variable `var`.
fn env_part(var: &str, flags: Vec<String>) -> FlagPart {
    FlagPart {
        key: var.to_string(),
        source: format!("env:{var}"),
        flags,
    }
}
