//! Cargo's configuration, resolved as cargo resolves it, with the source of
//! every value: profiles ([`ResolvedProfile`]), a target's rustflags
//! ([`ResolvedRustflags`], [`AddRustflags`]), jobs and the default target.
//! Only [`env_map`] reads the process environment, so tests are hermetic.
//! Precedence, and why no crate (cargo-config2 ...) fits: docs/helper-notes.md.

mod keys;
mod layers;
mod profile;
mod rustflags;

use std::collections::BTreeMap;

use crate::error::Error;
use crate::jobs::{Jobs, JobsValue};
pub use cargo_metadata::cargo_platform::Cfg;
pub use keys::ProfileTable;
pub use keys::{builtin_default, displayed_keys};
use layers::{env_var, get};
pub use layers::{CargoConfig, Inputs};
pub use profile::ResolvedProfile;
pub use rustflags::{target_env_var, toml_key, AddRustflags, ResolvedRustflags, RustflagsSource};

/// Reads every source cargo reads; checks every profile, the jobs and the target.
pub fn load(inputs: &Inputs) -> Result<CargoConfig, Error> {
    let (layers, warnings) = layers::discover(inputs)?;
    let profile_tables = profile::tables(inputs.manifest_profiles.as_ref(), &layers)?;
    let config = CargoConfig {
        layers,
        profile_tables,
        env: inputs.env.clone(),
        warnings,
    };
    config.profiles()?;
    config.jobs()?;
    config.build_target()?;
    Ok(config)
}

impl CargoConfig {
    /// The config files and `--config` values read, lowest first, as the plan names them.
    pub fn sources(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.source.as_str()).collect()
    }

    /// What cargo would warn about while reading them (e.g. a legacy `.cargo/config`).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The triples cargo builds for without `--target` (`build.target`), with the
    /// source; `None` means the host.
    pub fn build_target(&self) -> Result<Option<(Vec<String>, String)>, Error> {
        let Some((value, source)) = self.build_key("target") else {
            return Ok(None);
        };
        let triples = match value {
            toml::Value::String(s) => Ok(vec![s]),
            other => other.try_into(),
        };
        let message = "must be a string or a list of strings";
        let triples = triples.map_err(|_| Error::key(&source, "build.target", message))?;
        Ok(Some((triples, source)))
    }

    /// The jobs setting the user chose (`--config build.jobs`,
    /// `CARGO_BUILD_JOBS`, `[build] jobs`), if any; `-j` is the caller's.
    pub fn jobs(&self) -> Result<Option<Jobs>, Error> {
        // Only the value that wins is checked: cargo ignores a shadowed one.
        let Some((value, source)) = self.build_key("jobs") else {
            return Ok(None);
        };
        let value = match value {
            toml::Value::Integer(0) => Err("may not be 0"),
            toml::Value::Integer(n) => Ok(JobsValue::Count(n)),
            toml::Value::String(s) if s == "default" => Ok(JobsValue::Default),
            _ => Err(r#"must be a non-zero integer or "default""#),
        }
        .map_err(|m| Error::key(&source, "build.jobs", m))?;
        Ok(Some(Jobs { value, source }))
    }

    /// `build.KEY` as cargo reads it, with its source: `--config`, the variable, the files.
    fn build_key(&self, key: &str) -> Option<(toml::Value, String)> {
        let in_layers = |cli: bool| {
            let mut layers = self.layers.iter().rev().filter(|l| l.cli == cli);
            layers.find_map(|l| Some((get(&l.table, &["build", key])?.clone(), l.source.clone())))
        };
        let var = env_var(&["build", key]);
        let from_env = self.env.get(&var).map(|text| {
            let value = text.parse().map(toml::Value::Integer);
            let value = value.unwrap_or_else(|_| text.as_str().into());
            (value, format!("env:{var}"))
        });
        in_layers(true).or(from_env).or_else(|| in_layers(false))
    }
}

/// The process environment as a map (for callers outside tests).
pub fn env_map() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// The cfg values of a target (`triple` `None` for the host), from
/// `rustc --print cfg` of `$RUSTC`, else `rustc`, as cargo asks.
pub fn rustc_cfg(triple: Option<&str>) -> Result<Vec<Cfg>, Error> {
    let target = triple.map_or(vec![], |t| vec!["--target", t]);
    let text = crate::exec::rustc(&[&["--print", "cfg"], &target[..]].concat())?;
    let cfg: Result<Vec<Cfg>, _> = text.lines().map(str::parse).collect();
    cfg.map_err(|e| Error::invalid(format!("`rustc --print cfg`: {e}")))
}
