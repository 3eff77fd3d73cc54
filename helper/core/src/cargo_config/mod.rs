//! Cargo's configuration, resolved the way cargo resolves it: from plain
//! [`Inputs`] to every profile's settings with their sources
//! ([`ResolvedProfile`]), a target's rustflags and how to add to them
//! ([`ResolvedRustflags`], [`AddRustflags`]), the jobs setting and the
//! default target. Nothing here reads the process environment unless asked
//! ([`env_map`]), so tests are hermetic.
//!
//! Precedence, highest first: `--config` > `CARGO_*` variables >
//! `.cargo/config.toml` in the current directory > the same in each
//! parent > `$CARGO_HOME/config.toml` > the manifest's `[profile.*]`. Neither
//! cargo-config2 (no `[profile]`) nor cargo-util-schemas (no sources) gives
//! this, so it is resolved here; the evidence is in `docs/helper-notes.md`
//! and `tests/cargo_config.rs` repeats it against real cargo.

mod add;
mod keys;
mod layers;
mod profile;
mod rustflags;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::jobs::{Jobs, JobsValue};
pub use add::{toml_key, AddRustflags};
pub use cargo_metadata::cargo_platform::Cfg;
pub use keys::{builtin_default, displayed_keys};
pub use layers::env_map;
use layers::{get, Kind};
pub use profile::ResolvedProfile;
pub use rustflags::{target_env_var, FlagPart, ResolvedRustflags, RustflagsSource};
pub use tables::ProfileTable;

/// Everything cargo's configuration depends on.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The workspace root (config file sources are named relative to it).
    pub workspace_root: PathBuf,
    /// The directory cargo runs in, where the search for `.cargo/config.toml`
    /// starts; the workspace root when `None`.
    pub cwd: Option<PathBuf>,
    /// The root manifest's `[profile]` table, if it has one.
    pub manifest_profiles: Option<toml::Table>,
    /// `$CARGO_HOME`; when `None`, taken from `env` (`CARGO_HOME`, else
    /// `$HOME/.cargo`).
    pub cargo_home: Option<PathBuf>,
    /// The environment cargo will run with.
    pub env: BTreeMap<String, String>,
    /// `--config` values, in command-line order (each `KEY=VALUE` TOML, or
    /// the path of a file).
    pub cli_config: Vec<String>,
    /// Read only the config files at or below the workspace root, never a
    /// parent directory's nor `$CARGO_HOME`'s (for the committed plan).
    pub workspace_only: bool,
}

/// Cargo's configuration for one workspace, read and checked.
#[derive(Debug, Clone)]
pub struct CargoConfig {
    layers: Vec<layers::Layer>,
    profiles: profile::Profiles,
    env: BTreeMap<String, String>,
    warnings: Vec<String>,
}

/// Reads every source cargo reads and checks the profile tables, the
/// rustflags keys' types and the jobs setting. Every profile is resolved
/// once, so an unknown key or a bad `inherits` anywhere is an error here.
pub fn load(inputs: &Inputs) -> Result<CargoConfig, Error> {
    let root = &inputs.workspace_root;
    let cwd = inputs.cwd.clone().unwrap_or_else(|| root.clone());
    let cwd = layers::normalise(&cwd);
    let env = &inputs.env;
    let cargo_home = (inputs.cargo_home.clone())
        .or_else(|| env.get("CARGO_HOME").map(PathBuf::from))
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cargo")))
        .filter(|_| !inputs.workspace_only);
    let stop_at = inputs.workspace_only.then(|| layers::normalise(root));
    let (layers, warnings) = layers::discover(
        root,
        &cwd,
        cargo_home.as_deref(),
        stop_at.as_deref(),
        &inputs.cli_config,
    )?;
    let profiles = profile::Profiles::new(inputs.manifest_profiles.as_ref(), &layers, env)?;
    let env = env.clone();
    let config = CargoConfig {
        layers,
        profiles,
        env,
        warnings,
    };
    for name in config.profile_names() {
        config.profile(&name)?;
    }
    config.jobs()?;
    config.build_target()?;
    Ok(config)
}

impl CargoConfig {
    /// The config files and `--config` values read, lowest precedence
    /// first, as the plan names them.
    pub fn sources(&self) -> Vec<&str> {
        self.layers.iter().map(|l| l.source.as_str()).collect()
    }

    /// What cargo would warn about while reading them (a legacy
    /// `.cargo/config`, both `config` and `config.toml` in one directory).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The profiles cargo knows: built-in ones and every one the manifest,
    /// a config file or a `--config` value defines (one defined only by
    /// variables is not listed, but [`CargoConfig::profile`] resolves it).
    pub fn profile_names(&self) -> BTreeSet<String> {
        self.profiles.names()
    }

    /// The profiles some layer (manifest, config file, `--config` value)
    /// writes a table for: [`CargoConfig::profile_names`] without the
    /// built-in ones nobody configures.
    pub fn defined_profile_names(&self) -> BTreeSet<String> {
        self.profiles.defined_names()
    }

    /// One profile's effective settings with their sources.
    pub fn profile(&self, name: &str) -> Result<ResolvedProfile, Error> {
        self.profiles.resolve(name)
    }

    /// Every known profile, resolved.
    pub fn profiles(&self) -> Result<BTreeMap<String, ResolvedProfile>, Error> {
        self.profile_names()
            .into_iter()
            .map(|n| Ok((n.clone(), self.profile(&n)?)))
            .collect()
    }

    /// The rustflags cargo passes for `triple` (the host's triple when
    /// building without `--target`). `cfg` are the target's cfg values
    /// ([`rustc_cfg`]); with none, no `target.'cfg(..)'` key matches and
    /// they are listed in [`ResolvedRustflags::unmatched_cfg`].
    pub fn rustflags(&self, triple: &str, cfg: &[Cfg]) -> Result<ResolvedRustflags, Error> {
        rustflags::resolve(&self.layers, &self.env, triple, cfg)
    }

    /// The target triples cargo builds for when the command line gives no
    /// `--target` (`build.target`, `CARGO_BUILD_TARGET`), with the source;
    /// `None` means the host. Rustflags for such a build are the ones of
    /// these triples, not the host's.
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
    /// `CARGO_BUILD_JOBS`, `[build] jobs`), if any. `-j` on cargo's own
    /// command line is the caller's to add: it beats all of these.
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

    /// The value of `build.KEY` cargo uses, with its source: the last
    /// `--config` value, else `CARGO_BUILD_KEY` (a number if it reads as
    /// one), else the nearest config file.
    fn build_key(&self, key: &str) -> Option<(toml::Value, String)> {
        let in_layers = |kind: Kind| {
            self.layers
                .iter()
                .rev()
                .filter(|l| l.kind == kind)
                .find_map(|l| Some((get(&l.table, &["build", key])?.clone(), l.source.clone())))
        };
        let var = format!("CARGO_BUILD_{}", key.to_uppercase());
        let from_env = self.env.get(&var).map(|text| {
            let value = text
                .parse()
                .map_or_else(|_| toml::Value::String(text.clone()), toml::Value::Integer);
            (value, format!("env:{var}"))
        });
        in_layers(Kind::Cli)
            .or(from_env)
            .or_else(|| in_layers(Kind::File))
    }
}

/// The cfg values of a target, from `rustc --print cfg [--target T]`
/// (`triple` `None` for the host). `rustc` is the compiler to ask.
pub fn rustc_cfg(rustc: &Path, triple: Option<&str>) -> std::io::Result<Vec<Cfg>> {
    let mut cmd = std::process::Command::new(rustc);
    cmd.args(["--print", "cfg"]);
    if let Some(t) = triple {
        cmd.args(["--target", t]);
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.parse::<Cfg>().map_err(std::io::Error::other))
        .collect()
}
