//! `[workspace.metadata.buildplan.bench]`: the benchmark's package,
//! configurations and goals, read from the policy's `bench` table (the
//! core keeps it as TOML: it knows nothing of the benchmark).

use std::path::Path;

use buildplan::error::Error;
use buildplan::policy::Policy;
use serde::Deserialize;

/// The policy's bench table, parsed (the default when there is none).
/// `file` names the manifest holding the policy.
pub fn read(policy: &Policy, file: &Path) -> Result<BenchPolicy, Error> {
    let Some(table) = policy.bench.clone() else {
        return Ok(BenchPolicy::default());
    };
    table.try_into().map_err(|e: toml::de::Error| {
        let (file, e) = (file.display(), e.message());
        Error::invalid(format!(
            "{file}: invalid build policy [workspace.metadata.buildplan]:\n\
                 in [workspace.metadata.buildplan.bench]: {e}"
        ))
    })
}

/// The error for `key` of entry `i` of the bench table's `list`
/// (`configs`, `goals`) in the manifest `file`.
pub fn entry_error(file: &Path, list: &str, i: usize, key: &str, message: String) -> Error {
    Error::Key {
        file: file.display().to_string(),
        key: format!("workspace.metadata.buildplan.bench.{list}[{i}].{key}"),
        message,
    }
}

/// `[workspace.metadata.buildplan.bench]`: the benchmark's package,
/// configurations and goals (docs/bench.md).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchPolicy {
    /// Package measured when `--package` is not given.
    pub package: Option<String>,
    /// Variant measured when `--variant` is not given.
    pub variant: Option<String>,
    /// The configuration of the default goals' ratios (`--against`).
    pub against: Option<String>,
    /// The configurations, in run order; `None`: `tuned` and `shipped`.
    pub configs: Option<Vec<BenchConfigPolicy>>,
    /// The goals; `None` means the defaults.
    pub goals: Option<Vec<BenchGoalPolicy>>,
}

/// One benchmark configuration in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchConfigPolicy {
    /// Its name in the results.
    pub name: String,
    /// `shipped` (plain cargo) or `planned` (`cargo buildplan build`).
    pub kind: String,
    /// The cargo profile it builds with.
    pub profile: String,
    /// `mold`, `lld`, `bfd` or `default`; absent: the plan's or the workspace's.
    pub linker: Option<String>,
    /// Extra `--config` profile settings of a shipped configuration.
    #[serde(default)]
    pub settings: Vec<String>,
}

/// One benchmark goal in the policy.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BenchGoalPolicy {
    /// Short id.
    pub id: String,
    /// The goal for people; absent: generated from the other keys.
    pub text: Option<String>,
    /// Scenario measured.
    pub scenario: String,
    /// `wall-time`, `peak-memory` or `duplicate-compiles`.
    pub metric: String,
    /// The configuration(s) measured (the worst counts).
    pub config: StringOrList,
    /// The configuration compared against (none: `limit` is absolute).
    pub against: Option<String>,
    /// The scenario of the comparison; absent: `scenario`.
    pub against_scenario: Option<String>,
    /// The highest figure (ratio or absolute) that passes.
    pub limit: f64,
}

/// A string or a list of strings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    /// One.
    One(String),
    /// Several.
    List(Vec<String>),
}

impl Default for StringOrList {
    fn default() -> Self {
        StringOrList::List(Vec::new())
    }
}

impl StringOrList {
    /// The names, in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            StringOrList::One(s) => vec![s.clone()],
            StringOrList::List(l) => l.clone(),
        }
    }
}
