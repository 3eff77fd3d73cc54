//! The `[build]` settings besides rustflags: the number of parallel jobs
//! the user chose, and the default target.
//!
//! cargo 1.95 takes `-j` first, then `CARGO_BUILD_JOBS`, then `[build] jobs`
//! from the nearest config file (a `--config build.jobs=N` beats the
//! variable, as every `--config` does). Checked by hand with a value cargo
//! refuses: `[build] jobs = 0` in a parent directory's config fails with
//! "jobs may not be 0", but not with `CARGO_BUILD_JOBS=1` or `-j1` set.
//! `"default"` and negative numbers (all cores minus that many) are
//! accepted.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::ConfigError;
use super::layers::{get, Kind, Layer};

/// A jobs value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobsValue {
    /// A number: positive is the count, negative is "all cores minus".
    Count(i64),
    /// `"default"`: as many as there are cores.
    Default,
}

/// The jobs setting the user chose and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jobs {
    /// The value.
    pub value: JobsValue,
    /// `env:CARGO_BUILD_JOBS`, a config file, or `--config ARG`.
    pub source: String,
}

impl Jobs {
    /// The number of jobs this means on a machine with `cores` cores
    /// (at least 1).
    pub fn count(&self, cores: u32) -> u32 {
        let n = match self.value {
            JobsValue::Default => i64::from(cores),
            JobsValue::Count(n) if n < 0 => i64::from(cores) + n,
            JobsValue::Count(n) => n,
        };
        u32::try_from(n.max(1)).unwrap_or(u32::MAX)
    }
}

fn parse(value: &toml::Value, source: &str) -> Result<JobsValue, ConfigError> {
    let bad = |m: &str| ConfigError::key(source, "build.jobs", m);
    match value {
        toml::Value::Integer(0) => Err(bad("may not be 0")),
        toml::Value::Integer(n) => Ok(JobsValue::Count(*n)),
        toml::Value::String(s) if s == "default" => Ok(JobsValue::Default),
        _ => Err(bad(r#"must be a non-zero integer or "default""#)),
    }
}

/// Resolves `build.jobs` over the layers and `CARGO_BUILD_JOBS`.
pub(crate) fn resolve(
    layers: &[Layer],
    env: &BTreeMap<String, String>,
) -> Result<Option<Jobs>, ConfigError> {
    // Only the value that wins is checked: cargo ignores a shadowed one.
    let mut found: Option<(toml::Value, String)> = None;
    for layer in layers.iter().filter(|l| l.kind == Kind::File) {
        if let Some(value) = get(&layer.table, &["build", "jobs"]) {
            found = Some((value.clone(), layer.source.clone()));
        }
    }
    if let Some(text) = env.get("CARGO_BUILD_JOBS") {
        let value = match text.parse::<i64>() {
            Ok(n) => toml::Value::Integer(n),
            Err(_) => toml::Value::String(text.clone()),
        };
        found = Some((value, "env:CARGO_BUILD_JOBS".to_string()));
    }
    for layer in layers.iter().filter(|l| l.kind == Kind::Cli) {
        if let Some(value) = get(&layer.table, &["build", "jobs"]) {
            found = Some((value.clone(), layer.source.clone()));
        }
    }
    found
        .map(|(value, source)| {
            Ok(Jobs {
                value: parse(&value, &source)?,
                source,
            })
        })
        .transpose()
}

/// The target(s) cargo builds for when no `--target` is given:
/// `build.target` (a triple or a list of them) or `CARGO_BUILD_TARGET`,
/// with its source. Precedence as for `build.jobs`; checked by hand with
/// cargo 1.95 (`[build] target = "<host>"` moves the output under
/// `target/<host>/`), and by `tests/cargo_config.rs`.
pub(crate) fn build_target(
    layers: &[Layer],
    env: &BTreeMap<String, String>,
) -> Result<Option<(Vec<String>, String)>, ConfigError> {
    let from = |value: &toml::Value, source: &str| -> Result<Vec<String>, ConfigError> {
        match value {
            toml::Value::String(s) => Ok(vec![s.clone()]),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    ConfigError::key(
                        source,
                        "build.target",
                        "must be a string or a list of strings",
                    )
                }),
            _ => Err(ConfigError::key(
                source,
                "build.target",
                "must be a string or a list of strings",
            )),
        }
    };
    let mut found = None;
    for layer in layers.iter().filter(|l| l.kind == Kind::File) {
        if let Some(value) = get(&layer.table, &["build", "target"]) {
            found = Some((from(value, &layer.source)?, layer.source.clone()));
        }
    }
    if let Some(text) = env.get("CARGO_BUILD_TARGET") {
        found = Some((vec![text.clone()], "env:CARGO_BUILD_TARGET".to_string()));
    }
    for layer in layers.iter().filter(|l| l.kind == Kind::Cli) {
        if let Some(value) = get(&layer.table, &["build", "target"]) {
            found = Some((from(value, &layer.source)?, layer.source.clone()));
        }
    }
    Ok(found)
}
