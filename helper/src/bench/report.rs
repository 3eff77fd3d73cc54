//! Benchmark results: the JSON document, the goals computed from it, and
//! the Markdown report (BENCHMARKS.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::config::Config;
use super::measure::Sample;

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

/// Memory the planned configurations must stay under, MiB.
pub const MEMORY_LIMIT_MIB: f64 = 2048.0;

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
}

fn median(ms: &[Measurement], scenario: &str, config: &str) -> Option<f64> {
    ms.iter()
        .find(|m| m.scenario == scenario && m.config == config)
        .map(|m| m.wall_s.median)
}

/// A ratio of two scenario medians: the first configuration in `num` that
/// was measured, over `den`.
fn ratio(
    ms: &[Measurement],
    scenario_num: &str,
    num: &[&str],
    scenario_den: &str,
    den: &str,
) -> Option<(String, f64, f64)> {
    let d = median(ms, scenario_den, den)?;
    num.iter().find_map(|c| {
        let n = median(ms, scenario_num, c)?;
        (d > 0.0).then(|| (c.to_string(), n, d))
    })
}

fn goal(id: &str, text: &str, limit: f64, figure: Option<f64>, detail: String) -> Goal {
    let status = match figure {
        Some(f) if f <= limit => GoalStatus::Pass,
        Some(_) => GoalStatus::Miss,
        None => GoalStatus::NotMeasured,
    };
    Goal {
        id: id.into(),
        goal: text.into(),
        figure,
        limit,
        status,
        detail,
    }
}

/// Evaluates the goals on a run. `lld_is_default` says whether the `-lld`
/// configurations use rustc's default linker.
pub fn evaluate_goals(ms: &[Measurement], configs: &[Config], lld_is_default: bool) -> Vec<Goal> {
    let mut goals = Vec::new();

    let r = ratio(
        ms,
        "clean",
        &["release-fast-mold", "release-fast-lld"],
        "clean",
        "baseline",
    );
    goals.push(goal(
        "clean",
        "Clean release-fast build <= 0.25 x the baseline's clean build",
        0.25,
        r.as_ref().map(|(_, n, d)| n / d),
        match &r {
            Some((c, n, d)) => format!("{c} {n:.1} s / baseline {d:.1} s"),
            None => "needs `clean` in baseline and release-fast".into(),
        },
    ));

    // Incremental compilation is on in the dev profile only (the release
    // profiles turn it off), so the leaf goal is judged on dev when it links
    // with mold; release-fast-mold stands in when dev was not measured.
    let dev_mold = configs
        .iter()
        .any(|c| c.name == "dev" && c.linker.starts_with("mold"));
    let candidates: &[&str] = if dev_mold {
        &["dev", "release-fast-mold"]
    } else {
        &["release-fast-mold"]
    };
    let r = ratio(ms, "leaf", candidates, "leaf", "baseline");
    let mut detail = match &r {
        Some((c, n, d)) => format!("{c} {n:.1} s / baseline {d:.1} s"),
        None => "needs `leaf` in baseline and dev (with mold) or release-fast-mold".into(),
    };
    for other in ["dev", "release-fast-mold", "release-mold"] {
        if r.as_ref().is_some_and(|(c, _, _)| c == other) {
            continue;
        }
        if let Some((c, n, d)) = ratio(ms, "leaf", &[other], "leaf", "baseline") {
            let _ = write!(detail, "; for reference {c}: {n:.1} s = {:.3}", n / d);
        }
    }
    goals.push(goal(
        "leaf",
        "Rebuild after a leaf edit with mold, in the incremental (dev) profile, <= 0.10 x the baseline's",
        0.10,
        r.as_ref().map(|(_, n, d)| n / d),
        detail,
    ));

    let mut worst: Option<f64> = None;
    let mut parts = Vec::new();
    for c in configs.iter().filter(|c| c.planned) {
        if let Some((_, n, d)) = ratio(ms, "deps-cached", &[c.name.as_str()], "clean", &c.name) {
            worst = Some(worst.map_or(n / d, |w: f64| w.max(n / d)));
            parts.push(format!("{}: {n:.1} s / {d:.1} s = {:.2}", c.name, n / d));
        }
    }
    goals.push(goal(
        "deps-cached",
        "Dependency-cached build <= 0.30 x a clean build of the same configuration (worst planned configuration)",
        0.30,
        worst,
        if parts.is_empty() {
            "needs `clean` and `deps-cached` in a planned configuration".into()
        } else {
            parts.join("; ")
        },
    ));

    let mut worst: Option<f64> = None;
    let mut parts = Vec::new();
    for c in configs.iter().filter(|c| c.planned) {
        let peak = ms
            .iter()
            .filter(|m| m.config == c.name)
            .map(|m| m.tree_pss_mib.max)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        if let Some(p) = peak {
            worst = Some(worst.map_or(p, |w: f64| w.max(p)));
            let has_clean = ms
                .iter()
                .any(|m| m.config == c.name && m.scenario == "clean");
            parts.push(format!(
                "{}: {p:.0} MiB{}",
                c.name,
                if has_clean {
                    ""
                } else {
                    " (no clean build measured: its peak is likely higher)"
                }
            ));
        }
    }
    goals.push(goal(
        "memory",
        "Peak memory (process-tree PSS) of every planned configuration <= 2 GiB",
        MEMORY_LIMIT_MIB,
        worst,
        if parts.is_empty() {
            "needs a planned configuration".into()
        } else {
            parts.join("; ")
        },
    ));

    let default_name = if lld_is_default {
        "rustc's default (bundled rust-lld)"
    } else {
        "lld (rustc's default here is not lld: this compares with the system lld)"
    };
    let pair = [
        ("release-fast-mold", "release-fast-lld"),
        ("release-mold", "release-lld"),
    ]
    .into_iter()
    .find_map(|(m, l)| ratio(ms, "link", &[m], "link", l).map(|r| (l, r)));
    let mut detail = match &pair {
        Some((l, (m, n, d))) => format!("{m} {n:.2} s / {l} {d:.2} s; the lld configurations use {default_name}"),
        None => "needs `link` in release-fast-mold and release-fast-lld (or release-mold and release-lld)".into(),
    };
    // The system linker on the same inputs (the `link-bfd` scenario).
    for m in ["release-fast-mold", "release-mold", "dev"] {
        if let Some((_, n, d)) = ratio(ms, "link", &[m], "link-bfd", m) {
            let _ = write!(
                detail,
                "; against GNU ld (the system linker) on the same inputs, {m}: {n:.2} s / {d:.2} s = {:.3}",
                n / d
            );
            break;
        }
    }
    goals.push(goal(
        "link",
        "Link time with mold <= 0.5 x the default linker's",
        0.5,
        pair.as_ref().map(|(_, (_, n, d))| n / d),
        detail,
    ));
    goals
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

    fn sample(wall: f64, rss: f64) -> Sample {
        Sample {
            wall_s: wall,
            tree_pss_mib: rss,
            max_process_rss_mib: rss / 2.0,
            cgroup_peak_mib: None,
            load_avg_start: None,
        }
    }

    fn config(name: &str, planned: bool) -> Config {
        Config {
            name: name.into(),
            profile: "release".into(),
            planned,
            linker: "x".into(),
            command: "cargo build".into(),
            cargo: None,
        }
    }

    #[test]
    fn stats() {
        let s = Stats::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        let s = Stats::of(&[4.0, 1.0, 2.0, 10.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 3.0, 10.0));
        assert_eq!(Stats::of(&[5.0]).median, 5.0);
    }

    #[test]
    fn goals_from_medians() {
        let m = |s: &str, c: &str, w: f64, rss: f64| Measurement::new(s, c, vec![sample(w, rss)]);
        let ms = vec![
            m("clean", "baseline", 400.0, 3000.0),
            m("leaf", "baseline", 200.0, 3000.0),
            m("clean", "release-fast-mold", 80.0, 1500.0),
            m("leaf", "release-fast-mold", 30.0, 900.0),
            m("deps-cached", "release-fast-mold", 20.0, 1000.0),
            m("link", "release-fast-mold", 1.0, 500.0),
            m("clean", "release-fast-lld", 90.0, 2100.0),
            m("link", "release-fast-lld", 4.0, 500.0),
        ];
        let configs = vec![
            config("baseline", false),
            config("release-fast-mold", true),
            config("release-fast-lld", true),
        ];
        let goals = evaluate_goals(&ms, &configs, true);
        let by_id: BTreeMap<&str, &Goal> = goals.iter().map(|g| (g.id.as_str(), g)).collect();
        assert_eq!(by_id["clean"].figure, Some(0.2));
        assert_eq!(by_id["clean"].status, GoalStatus::Pass);
        // Without dev, release-fast-mold is judged.
        assert_eq!(by_id["leaf"].figure, Some(0.15));
        assert_eq!(by_id["leaf"].status, GoalStatus::Miss);
        assert_eq!(by_id["deps-cached"].figure, Some(0.25));
        assert_eq!(by_id["deps-cached"].status, GoalStatus::Pass);
        // The baseline's 3000 MiB does not count; release-fast-lld's 2100 does.
        assert_eq!(by_id["memory"].figure, Some(2100.0));
        assert_eq!(by_id["memory"].status, GoalStatus::Miss);
        assert!(!by_id["memory"].detail.contains("no clean build"));
        assert_eq!(by_id["link"].figure, Some(0.25));
        assert!(by_id["link"].detail.contains("rust-lld"));
        assert!(!by_id["link"].detail.contains("GNU ld"));

        // GNU ld on the same inputs is reported beside the goal, not judged.
        let mut with_bfd = ms.clone();
        with_bfd.push(m("link-bfd", "release-fast-mold", 8.0, 500.0));
        let goals = evaluate_goals(&with_bfd, &configs, true);
        assert_eq!(goals[4].figure, Some(0.25));
        assert!(
            goals[4]
                .detail
                .contains("GNU ld (the system linker) on the same inputs, release-fast-mold: 1.00 s / 8.00 s = 0.125"),
            "{}",
            goals[4].detail
        );

        let goals = evaluate_goals(&ms[2..], &configs, true);
        assert_eq!(goals[0].status, GoalStatus::NotMeasured);

        // With dev linking with mold, dev is judged and release-fast-mold
        // is given for reference.
        let mut ms = ms;
        ms.push(m("leaf", "dev", 4.0, 300.0));
        let mut configs = configs;
        let mut dev = config("dev", true);
        dev.linker = "mold (-fuse-ld=mold)".into();
        configs.push(dev.clone());
        let goals = evaluate_goals(&ms, &configs, true);
        assert_eq!(goals[1].figure, Some(0.02));
        assert_eq!(goals[1].status, GoalStatus::Pass);
        assert!(
            goals[1]
                .detail
                .contains("for reference release-fast-mold: 30.0 s = 0.150"),
            "{}",
            goals[1].detail
        );
        // dev with another linker does not count for a mold goal.
        dev.linker = "lld".into();
        *configs.last_mut().unwrap() = dev;
        let goals = evaluate_goals(&ms, &configs, true);
        assert_eq!(goals[1].figure, Some(0.15));
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
