//! Benchmark results: the JSON document (the goals are evaluated by
//! [`super::goals`], the Markdown report rendered by [`super::markdown`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::Config;
use super::measure::Sample;

pub use super::duplicates::Duplicate;

/// Version of the results format.
pub const RESULTS_FORMAT: u32 = 1;

/// Start marker of the section another tool maintains in the report.
pub const FOREIGN_START: &str = "<!-- broker-throughput:start -->";
/// End marker of that section.
pub const FOREIGN_END: &str = "<!-- broker-throughput:end -->";

/// Start marker of the hand-written analysis of the goals (why a goal is
/// missed and what would close it), kept verbatim below the goals table.
pub const ANALYSIS_START: &str = "<!-- analysis:start -->";
/// End marker of that section.
pub const ANALYSIS_END: &str = "<!-- analysis:end -->";

/// A whole benchmark run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// See [`RESULTS_FORMAT`].
    pub format: u32,
    /// `cargo-buildplan bench` and its version.
    pub generator: String,
    /// UTC time the run started (RFC 3339).
    pub started_at: String,
    /// UTC time it finished.
    pub finished_at: String,
    /// The exact command line that produced these results.
    pub command_line: String,
    /// The machine and toolchain.
    pub machine: MachineInfo,
    /// What was built and how the scenarios were set up.
    pub setup: Setup,
    /// The configurations compared.
    pub configs: Vec<Config>,
    /// The scenarios, with the method of each.
    pub scenarios: Vec<ScenarioInfo>,
    /// One entry per scenario and configuration.
    pub measurements: Vec<Measurement>,
    /// The goals, evaluated on this run.
    pub goals: Vec<Goal>,
    /// Caveats worth knowing when reading the figures.
    pub notes: Vec<String>,
}

/// The machine and toolchain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// CPUs usable by the benchmark.
    pub cpus: u64,
    /// `MemTotal`, MiB.
    pub mem_total_mib: Option<u64>,
    /// `MemAvailable` when the run started, MiB.
    pub mem_available_mib: Option<u64>,
    /// Host triple.
    pub host: String,
    /// `rustc -V`.
    pub rustc: String,
    /// `rustc -vV` (empty in results from before it was recorded).
    #[serde(default)]
    pub rustc_verbose: String,
    /// `cargo -V`.
    pub cargo: String,
    /// Version line of each linker found, by name.
    pub linkers: BTreeMap<String, String>,
    /// How peak memory was measured.
    pub memory_method: String,
    /// 1-minute load average at the start and the end of the run.
    pub load_avg: (Option<f64>, Option<f64>),
}

/// What was built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// The workspace's root manifest.
    pub manifest: String,
    /// The package measured.
    pub package: String,
    /// Its variant.
    pub variant: String,
    /// Runs per scenario and configuration.
    pub runs: u32,
    /// `--jobs` of the planned configurations (the plan's memory cap).
    pub jobs: Option<u64>,
    /// The plan's memory per job, MiB.
    pub mem_per_job_mib: u64,
    /// The crate edited by `leaf`, and the file.
    pub leaf: Option<(String, String)>,
    /// The crate edited by `root`, and the file.
    pub root: Option<(String, String)>,
    /// The members `deps-cached` removes.
    pub workspace_units: Vec<String>,
    /// The configuration the default goals compare with.
    #[serde(default)]
    pub against: Option<String>,
}

/// A scenario and how it is produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Name.
    pub name: String,
    /// Method, for people.
    pub method: String,
}

/// The runs of one scenario in one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Scenario name.
    pub scenario: String,
    /// Configuration name.
    pub config: String,
    /// Every run.
    pub runs: Vec<Sample>,
    /// Wall time, seconds.
    pub wall_s: Stats,
    /// Peak process-tree PSS, MiB.
    pub tree_pss_mib: Stats,
    /// Largest single process, MiB.
    pub max_process_rss_mib: Stats,
    /// Third-party crates the (last) run compiled twice with different
    /// features, from cargo's JSON messages; `None` when not counted
    /// (only the clean build is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<Vec<Duplicate>>,
    /// The units the (last) run compiled, `package:target`, from cargo's
    /// JSON messages; `None` when not counted (the pull-request scenarios
    /// are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<Vec<String>>,
}

impl Measurement {
    /// Summarises runs.
    pub fn new(scenario: &str, config: &str, runs: Vec<Sample>) -> Self {
        let stat = |f: fn(&Sample) -> f64| Stats::of(&runs.iter().map(f).collect::<Vec<_>>());
        Measurement {
            scenario: scenario.to_string(),
            config: config.to_string(),
            wall_s: stat(|s| s.wall_s),
            tree_pss_mib: stat(|s| s.tree_pss_mib),
            max_process_rss_mib: stat(|s| s.max_process_rss_mib),
            runs,
            duplicates: None,
            compiled: None,
        }
    }
}

/// Minimum, median and maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Smallest value.
    pub min: f64,
    /// Median (mean of the middle two for an even count).
    pub median: f64,
    /// Largest value.
    pub max: f64,
}

impl Stats {
    /// Of a non-empty list (zeros for an empty one).
    pub fn of(values: &[f64]) -> Self {
        let mut v: Vec<f64> = values.to_vec();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return Stats {
                min: 0.0,
                median: 0.0,
                max: 0.0,
            };
        }
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Stats {
            min: v[0],
            median,
            max: v[n - 1],
        }
    }
}

/// Whether a goal is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// Met.
    Pass,
    /// Not met.
    Miss,
    /// The run did not include what the goal needs.
    NotMeasured,
}

/// One goal, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// Short id.
    pub id: String,
    /// The goal, for people.
    pub goal: String,
    /// The measured figure (a ratio, or MiB), if measured.
    pub figure: Option<f64>,
    /// The threshold the figure must not exceed.
    pub limit: f64,
    /// Verdict.
    pub status: GoalStatus,
    /// How the figure was computed, with the numbers.
    pub detail: String,
    /// Unit of an absolute figure and limit (`s`, `MiB`, `crates`); empty
    /// for a ratio.
    #[serde(default)]
    pub unit: String,
}

/// The current UTC time as RFC 3339 (seconds).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian
/// calendar, the days-to-civil conversion of H. Hinnant).
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        let s = Stats::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        let s = Stats::of(&[4.0, 1.0, 2.0, 10.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 3.0, 10.0));
        assert_eq!(Stats::of(&[5.0]).median, 5.0);
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
