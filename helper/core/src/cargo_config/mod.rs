//! Cargo's configuration, resolved the way cargo 1.95 resolves it.
//!
//! Plain inputs ([`Inputs`]: workspace root, the manifest's `[profile]`
//! table, cargo home, an environment map, `--config` values) and typed
//! outputs: every profile's effective settings with where each came from
//! ([`ResolvedProfile`]), the profile names cargo knows, a target's
//! rustflags and how to add to them ([`ResolvedRustflags`],
//! [`AddRustflags`]), and the jobs setting ([`Jobs`]). Nothing here runs
//! cargo or reads the process environment unless asked
//! ([`Inputs::from_process`], [`rustc_cfg`]), so tests are hermetic.
//!
//! # Precedence, as verified
//!
//! Each rule below was checked with cargo 1.95.0 on a one-crate workspace
//! `outer/ws` (with `outer/.cargo/config.toml` above it and a private
//! `CARGO_HOME`), building with `cargo build -v` and reading the flags off
//! the crate's rustc line. The integration tests in
//! `tests/cargo_config.rs` repeat the profile and rustflags rules against
//! real cargo on every run.
//!
//! - Profiles, highest first: `--config` > `CARGO_PROFILE_<NAME>_<KEY>` >
//!   `.cargo/config.toml` in the current directory > the same in each
//!   parent (nearer wins) > `$CARGO_HOME/config.toml` > the manifest's
//!   `[profile.*]`. (Manifest `lto = true, codegen-units = 1, opt-level =
//!   3, debug = true`; `ws/.cargo`: `lto = "thin", codegen-units = 16`;
//!   `outer/.cargo`: `opt-level = 2, codegen-units = 8`; home: `opt-level =
//!   1, codegen-units = 4, debug = 1`: rustc got `-C opt-level=2 -C
//!   lto=thin -C codegen-units=16 -C debuginfo=1`;
//!   `CARGO_PROFILE_RELEASE_CODEGEN_UNITS=3` gave 3, and `--config
//!   profile.release.codegen-units=5` beat that.)
//! - A config file's `include` list (stable in cargo 1.95) is read as
//!   layers just below that file, later entries ranking higher; see
//!   `layers.rs`.
//! - One `.cargo` directory with both `config` and `config.toml`: cargo
//!   warns and reads only `config`.
//! - Profiles defined only in config files work with `--profile`, and
//!   `inherits` from a config-only profile to a manifest profile too; a
//!   profile defined only by `CARGO_PROFILE_<NAME>_INHERITS` works as well.
//! - `CARGO_PROFILE_<NAME>_BUILD_OVERRIDE_<KEY>` sets build-override keys
//!   (and beats `[profile.release.build-override]` in a config file);
//!   `CARGO_PROFILE_<NAME>_PACKAGE_<X>_<KEY>` is ignored.
//! - Environment values: `true`/`false` are booleans, numbers integers,
//!   the rest strings (`..._LTO=true` gave `-C lto`, `..._LTO=false`
//!   `-C embed-bitcode=no` with no `-C lto`, `..._OPT_LEVEL=s` `-C
//!   opt-level=s`, `..._CODEGEN_UNITS=abc` an error naming the variable).
//! - Bad input: cargo rejects invalid TOML in a config file, `inherits` on
//!   `dev`/`release`, `lto` in a package override, and a custom profile
//!   without `inherits` or inheriting from an unknown one (the last only
//!   when that profile is built). It merely warns about an unknown key
//!   (`unused config key`, `unused manifest key`). This module refuses all
//!   of them, eagerly, for every profile: the plan must not be built on a
//!   configuration cargo misreads.
//! - Rustflags: see [`ResolvedRustflags`] and the module
//!   `rustflags.rs`; in short `CARGO_ENCODED_RUSTFLAGS` > `RUSTFLAGS` >
//!   target flags > `build.rustflags`, exactly one of them, and arrays
//!   merge across layers (`$CARGO_HOME`, `outer/.cargo`, `ws/.cargo`
//!   target arrays gave `--cfg home --cfg par --cfg ws`; with
//!   `CARGO_TARGET_..._RUSTFLAGS="--cfg envt"` and `--config
//!   target.<t>.rustflags=["--cfg","cli"]`: `... --cfg ws --cfg envt --cfg
//!   cli`, then the matching `cfg(..)` keys' flags; `RUSTFLAGS=` (empty)
//!   removed every configured flag).
//! - Jobs: see [`Jobs`].

mod error;
mod jobs;
mod keys;
mod layers;
mod profile;
mod rustflags;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use cargo_metadata::cargo_platform::Cfg;
pub use error::ConfigError;
pub use jobs::{Jobs, JobsValue};
pub use keys::{check as check_setting, known_keys};
pub use profile::{env_prefix, ResolvedProfile, Setting, Settings, Wanted, BUILTIN};
pub use rustflags::{target_env_var, AddRustflags, FlagPart, ResolvedRustflags, RustflagsSource};

/// Everything cargo's configuration depends on.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// The workspace root (config file sources are named relative to it).
    pub workspace_root: PathBuf,
    /// The directory cargo runs in, where the search for `.cargo/config.toml`
    /// starts; the workspace root when `None`.
    pub cwd: Option<PathBuf>,
    /// The root manifest's `[profile]` table (the value of its `profile`
    /// key), if it has one.
    pub manifest_profiles: Option<toml::Table>,
    /// `$CARGO_HOME`; when `None`, taken from `env` (`CARGO_HOME`, else
    /// `$HOME/.cargo`).
    pub cargo_home: Option<PathBuf>,
    /// The environment cargo will run with.
    pub env: BTreeMap<String, String>,
    /// `--config` values, in command-line order (each `KEY=VALUE` TOML, or
    /// the path of a file).
    pub cli_config: Vec<String>,
    /// Read only the configuration that lives inside the workspace: config
    /// files in `.cargo` directories at or below the workspace root (on
    /// the way from `cwd` up to it), never a parent directory's nor
    /// `$CARGO_HOME`'s. The committed plan is resolved this way, so that it
    /// does not depend on the machine that wrote it; the caller also leaves
    /// the machine's `CARGO_PROFILE_*` variables out of `env`.
    pub workspace_only: bool,
}

impl Inputs {
    /// Inputs for `root` with this process's environment, no `--config`,
    /// and the `[profile]` table of `root/Cargo.toml` if it can be parsed
    /// (a manifest that does not parse is reported by whoever reads it).
    pub fn from_process(root: &Path) -> Self {
        let manifest_profiles = std::fs::read_to_string(root.join("Cargo.toml"))
            .ok()
            .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
            .and_then(|mut doc| match doc.remove("profile") {
                Some(toml::Value::Table(t)) => Some(t),
                _ => None,
            });
        Inputs {
            workspace_root: root.to_path_buf(),
            cwd: None,
            manifest_profiles,
            cargo_home: None,
            env: layers::env_map(),
            cli_config: Vec::new(),
            workspace_only: false,
        }
    }
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
pub fn load(inputs: &Inputs) -> Result<CargoConfig, ConfigError> {
    let root = &inputs.workspace_root;
    let cwd = inputs.cwd.clone().unwrap_or_else(|| root.clone());
    let cwd = layers::normalise(&cwd);
    let cargo_home = inputs.cargo_home.clone().or_else(|| {
        inputs
            .env
            .get("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| inputs.env.get("HOME").map(|h| Path::new(h).join(".cargo")))
    });
    let cargo_home = cargo_home.filter(|_| !inputs.workspace_only);
    let stop_at = inputs.workspace_only.then(|| layers::normalise(root));
    let (layers, warnings) = layers::discover(
        root,
        &cwd,
        cargo_home.as_deref(),
        stop_at.as_deref(),
        &inputs.cli_config,
    )?;
    let profiles = profile::Profiles::new(inputs.manifest_profiles.as_ref(), &layers, &inputs.env)?;
    let config = CargoConfig {
        layers,
        profiles,
        env: inputs.env.clone(),
        warnings,
    };
    for name in config.profile_names() {
        config.profile(&name)?;
    }
    jobs::resolve(&config.layers, &config.env)?;
    jobs::build_target(&config.layers, &config.env)?;
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
    /// a config file or a `--config` value defines. (One defined only by
    /// `CARGO_PROFILE_<NAME>_*` variables is not listed, but
    /// [`CargoConfig::profile`] resolves it by name.)
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
    pub fn profile(&self, name: &str) -> Result<ResolvedProfile, ConfigError> {
        self.profiles.resolve(name)
    }

    /// Every known profile, resolved.
    pub fn profiles(&self) -> Result<BTreeMap<String, ResolvedProfile>, ConfigError> {
        self.profile_names()
            .into_iter()
            .map(|n| Ok((n.clone(), self.profile(&n)?)))
            .collect()
    }

    /// The rustflags cargo passes for `triple` (the host's triple when
    /// building without `--target`). `cfg` are the target's cfg values
    /// ([`rustc_cfg`]); with none, no `target.'cfg(..)'` key matches and
    /// they are listed in [`ResolvedRustflags::unmatched_cfg`].
    pub fn rustflags(&self, triple: &str, cfg: &[Cfg]) -> Result<ResolvedRustflags, ConfigError> {
        rustflags::resolve(&self.layers, &self.env, triple, cfg)
    }

    /// The target triples cargo builds for when the command line gives no
    /// `--target` (`build.target`, `CARGO_BUILD_TARGET`), with the source;
    /// `None` means the host. Rustflags for such a build are the ones of
    /// these triples, not the host's.
    pub fn build_target(&self) -> Result<Option<(Vec<String>, String)>, ConfigError> {
        jobs::build_target(&self.layers, &self.env)
    }

    /// The jobs setting the user chose (`--config build.jobs`,
    /// `CARGO_BUILD_JOBS`, `[build] jobs`), if any. `-j` on cargo's own
    /// command line is the caller's to add: it beats all of these.
    pub fn jobs(&self) -> Result<Option<Jobs>, ConfigError> {
        jobs::resolve(&self.layers, &self.env)
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
