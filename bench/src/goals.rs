//! The goals a benchmark evaluates: from the policy's
//! `[workspace.metadata.buildplan.bench]` `goals`, or the defaults (the
//! issue's field-test goals, the tuned configuration against the shipped
//! one).
//!
//! A goal names a scenario, a metric (wall time, peak memory, or the
//! third-party crates the build compiled twice with different features),
//! the configuration(s) measured (the worst counts), and either the
//! configuration (and scenario) it is compared with, making the figure a
//! ratio, or nothing, making `limit` absolute (seconds, MiB, a count).

pub mod evaluation;
pub mod policy;

use super::report::Measurement;

/// What a goal measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Median wall time, seconds.
    WallTime,
    /// Peak process-tree PSS, MiB.
    PeakMemory,
    /// Third-party crates compiled twice with different features (clean
    /// build only).
    DuplicateCompiles,
    /// Units compiled in the (last) run (the pull-request scenarios).
    CompiledUnits,
}

/// The metric names the policy accepts.
pub const METRICS: &[&str] = &[
    "wall-time",
    "peak-memory",
    "duplicate-compiles",
    "compiled-units",
];

impl Metric {
    /// Parses a policy name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wall-time" => Some(Metric::WallTime),
            "peak-memory" => Some(Metric::PeakMemory),
            "duplicate-compiles" => Some(Metric::DuplicateCompiles),
            "compiled-units" => Some(Metric::CompiledUnits),
            _ => None,
        }
    }

    /// The unit of an absolute figure.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::WallTime => "s",
            Metric::PeakMemory => "MiB",
            Metric::DuplicateCompiles => "crates",
            Metric::CompiledUnits => "units",
        }
    }

    /// The figure of one measurement, if it was measured.
    fn of(self, m: &Measurement) -> Option<f64> {
        match self {
            Metric::WallTime => Some(m.wall_s.median),
            Metric::PeakMemory => Some(m.tree_pss_mib.max),
            // A host copy beside a target copy in one build is listed, not
            // counted: cargo's resolver keeps build dependencies' features
            // apart, and build scripts and proc-macros are compiled with
            // their own profile settings (opt-level 0) whatever their
            // features, so no feature unification removes it.
            Metric::CompiledUnits => m.compiled.as_ref().map(|c| c.len() as f64),
            Metric::DuplicateCompiles => m
                .duplicates
                .as_ref()
                .map(|d| d.iter().filter(|d| !d.host_and_target).count() as f64),
        }
    }
}

/// A goal, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalSpec {
    /// Short id.
    pub id: String,
    /// For people.
    pub text: String,
    /// Scenario measured.
    pub scenario: String,
    /// Metric.
    pub metric: Metric,
    /// Configurations measured (the worst counts).
    pub configs: Vec<String>,
    /// Configuration compared with (`None`: each measured one itself, when
    /// `against_scenario` is set; absolute otherwise).
    pub against: Option<String>,
    /// Scenario compared with (`None`: `scenario`).
    pub against_scenario: Option<String>,
    /// Highest passing figure.
    pub limit: f64,
}

impl GoalSpec {
    /// Whether the figure is a ratio.
    pub fn is_ratio(&self) -> bool {
        self.against.is_some() || self.against_scenario.is_some()
    }
}

/// The default goals: `tuned` against `against`, each scenario against the
/// same scenario (the field-test goals).
pub fn defaults(tuned: &str, against: &str) -> Vec<GoalSpec> {
    let ratio = |id: &str, scenario: &str, metric: Metric, limit: f64, what: &str| GoalSpec {
        id: id.into(),
        text: format!("{what} of `{tuned}` <= {limit} x `{against}`'s"),
        scenario: scenario.into(),
        metric,
        configs: vec![tuned.into()],
        against: Some(against.into()),
        against_scenario: None,
        limit,
    };
    vec![
        ratio("clean", "clean", Metric::WallTime, 0.6, "Clean build"),
        ratio(
            "deps-cached",
            "deps-cached",
            Metric::WallTime,
            0.3,
            "Dependency-cached build",
        ),
        ratio("leaf", "leaf", Metric::WallTime, 0.1, "Rebuild after a leaf edit"),
        ratio(
            "memory",
            "clean",
            Metric::PeakMemory,
            0.4,
            "Peak memory (process-tree PSS) of the clean build",
        ),
        GoalSpec {
            id: "duplicates".into(),
            text: format!(
                "Third-party crates compiled twice with different features in `{tuned}`'s clean build (host/target copies listed, not counted): 0"
            ),
            scenario: "clean".into(),
            metric: Metric::DuplicateCompiles,
            configs: vec![tuned.into()],
            against: None,
            against_scenario: None,
            limit: 0.0,
        },
    ]
}

/// Issue 20's pull-request goals for `configs`, each against itself: the
/// top-member edit <= 0.15 x the dependency-cached build, the bottom-member
/// edit <= its packages' share of it (`pr-share`), no change: 0 units.
pub fn pull_request(configs: &[String]) -> Vec<GoalSpec> {
    let goal =
        |id: &str, scenario: &str, metric, against: Option<&str>, limit, text: &str| GoalSpec {
            id: id.into(),
            text: text.into(),
            scenario: scenario.into(),
            metric,
            configs: configs.to_vec(),
            against: None,
            against_scenario: against.map(Into::into),
            limit,
        };
    vec![
        goal(
            "pr-top",
            "pr-top",
            Metric::WallTime,
            Some("deps-cached"),
            0.15,
            "Pull request editing the top member <= 0.15 x the build with dependencies cached and members not",
        ),
        goal(
            "pr-bottom",
            "pr-bottom",
            Metric::WallTime,
            Some("pr-share"),
            1.0,
            "Pull request editing the bottom member <= the share of its compiled packages in that build",
        ),
        goal(
            "pr-noop",
            "pr-noop",
            Metric::CompiledUnits,
            None,
            0.0,
            "Pull request with no change: 0 units compiled",
        ),
    ]
}
