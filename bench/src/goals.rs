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

use std::fmt::Write as _;
use std::path::Path;

use super::report::{Goal, GoalStatus, Measurement};
use super::scenarios::SCENARIOS;
use crate::policy::BenchGoalPolicy;
use buildplan::error::Error;

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

/// The policy's goals, checked against the known configuration names;
/// `file` names the manifest.
pub fn from_policy(
    list: &[BenchGoalPolicy],
    known: &[String],
    file: &Path,
) -> Result<Vec<GoalSpec>, Error> {
    let mut out: Vec<GoalSpec> = Vec::new();
    for (i, g) in list.iter().enumerate() {
        let bad = |key: &str, message: String| Error::Key {
            file: file.display().to_string(),
            key: format!("workspace.metadata.buildplan.bench.goals[{i}].{key}"),
            message,
        };
        if g.id.is_empty() || out.iter().any(|o| o.id == g.id) {
            return Err(bad("id", format!("`{}` is empty or used twice", g.id)));
        }
        let metric = Metric::parse(&g.metric).ok_or_else(|| {
            bad(
                "metric",
                format!(
                    "unknown metric `{}`; known: {}",
                    g.metric,
                    METRICS.join(", ")
                ),
            )
        })?;
        for (key, scenario) in [
            ("scenario", Some(&g.scenario)),
            ("against-scenario", g.against_scenario.as_ref()),
        ] {
            if let Some(s) = scenario {
                if !SCENARIOS.contains(&s.as_str()) {
                    return Err(bad(
                        key,
                        format!("unknown scenario `{s}`; known: {}", SCENARIOS.join(", ")),
                    ));
                }
            }
        }
        let configs = g.config.to_vec();
        if configs.is_empty() {
            return Err(bad("config", "names no configuration".into()));
        }
        let unknown = |name: &str| {
            format!(
                "unknown configuration `{name}`; known: {}",
                known.join(", ")
            )
        };
        if let Some(c) = configs.iter().find(|c| !known.contains(c)) {
            return Err(bad("config", unknown(c)));
        }
        if let Some(a) = g.against.as_ref().filter(|a| !known.contains(a)) {
            return Err(bad("against", unknown(a)));
        }
        if metric == Metric::DuplicateCompiles {
            if g.scenario != "clean" {
                return Err(bad(
                    "scenario",
                    "duplicate-compiles is counted on the clean build only: use scenario = \"clean\"".into(),
                ));
            }
            if g.against.is_some() || g.against_scenario.is_some() {
                return Err(bad(
                    "against",
                    "duplicate-compiles takes an absolute limit (a count), not a comparison".into(),
                ));
            }
        }
        if !(g.limit.is_finite() && g.limit >= 0.0) {
            return Err(bad("limit", "must be a number >= 0".into()));
        }
        let spec = GoalSpec {
            id: g.id.clone(),
            text: String::new(),
            scenario: g.scenario.clone(),
            metric,
            configs,
            against: g.against.clone(),
            against_scenario: g.against_scenario.clone(),
            limit: g.limit,
        };
        let text = g.text.clone().unwrap_or_else(|| describe(&spec));
        out.push(GoalSpec { text, ..spec });
    }
    Ok(out)
}

/// A goal's text generated from its keys.
fn describe(g: &GoalSpec) -> String {
    let what = match g.metric {
        Metric::WallTime => format!("`{}` wall time", g.scenario),
        Metric::PeakMemory => format!("peak memory of `{}`", g.scenario),
        Metric::DuplicateCompiles => "crates compiled twice in the clean build".into(),
        Metric::CompiledUnits => format!("units compiled in `{}`", g.scenario),
    };
    let configs = g.configs.join("`, `");
    if g.is_ratio() {
        let against = g.against.as_deref().unwrap_or("the same configuration");
        let scenario = g.against_scenario.as_deref().unwrap_or(&g.scenario);
        format!(
            "{what} of `{configs}` <= {} x `{scenario}` of {}",
            g.limit,
            if g.against.is_some() {
                format!("`{against}`")
            } else {
                against.to_string()
            }
        )
    } else {
        format!("{what} of `{configs}` <= {} {}", g.limit, g.metric.unit())
    }
}

fn find<'a>(ms: &'a [Measurement], scenario: &str, config: &str) -> Option<&'a Measurement> {
    ms.iter()
        .find(|m| m.scenario == scenario && m.config == config)
}

fn show(metric: Metric, v: f64) -> String {
    match metric {
        Metric::WallTime => format!("{v:.1} s"),
        Metric::PeakMemory => format!("{v:.0} MiB"),
        Metric::DuplicateCompiles | Metric::CompiledUnits => format!("{v:.0}"),
    }
}

/// Evaluates `specs` on the measurements of a run.
pub fn evaluate(specs: &[GoalSpec], ms: &[Measurement]) -> Vec<Goal> {
    specs.iter().map(|g| evaluate_one(g, ms)).collect()
}

fn evaluate_one(g: &GoalSpec, ms: &[Measurement]) -> Goal {
    let mut worst: Option<f64> = None;
    let mut parts: Vec<String> = Vec::new();
    for c in &g.configs {
        let Some(n) = find(ms, &g.scenario, c).and_then(|m| g.metric.of(m)) else {
            continue;
        };
        let figure = if g.is_ratio() {
            let against = g.against.as_deref().unwrap_or(c);
            let scenario = g.against_scenario.as_deref().unwrap_or(&g.scenario);
            let Some(d) = find(ms, scenario, against).and_then(|m| g.metric.of(m)) else {
                continue;
            };
            if d <= 0.0 {
                continue;
            }
            parts.push(format!(
                "{c} {} / {against} {} = {:.3}",
                show(g.metric, n),
                show(g.metric, d),
                n / d
            ));
            n / d
        } else {
            let mut part = format!("{c}: {}", show(g.metric, n));
            if g.metric == Metric::DuplicateCompiles {
                if let Some(list) = find(ms, &g.scenario, c).and_then(|m| m.duplicates.as_ref()) {
                    let host = list.iter().filter(|d| d.host_and_target).count();
                    if host > 0 {
                        let _ = write!(part, "; {host} host/target copies, not counted");
                    }
                    let names: Vec<String> = list.iter().take(12).map(|d| d.describe()).collect();
                    if !names.is_empty() {
                        let _ = write!(
                            part,
                            " ({}{})",
                            names.join("; "),
                            if list.len() > 12 { "; ..." } else { "" }
                        );
                    }
                }
            }
            parts.push(part);
            n
        };
        worst = Some(worst.map_or(figure, |w: f64| w.max(figure)));
    }
    let status = match worst {
        Some(f) if f <= g.limit => GoalStatus::Pass,
        Some(_) => GoalStatus::Miss,
        None => GoalStatus::NotMeasured,
    };
    let detail = if parts.is_empty() {
        let mut needs = format!("needs `{}` in {}", g.scenario, g.configs.join(" or "));
        if g.is_ratio() {
            let _ = write!(
                needs,
                " and `{}` in {}",
                g.against_scenario.as_deref().unwrap_or(&g.scenario),
                g.against.as_deref().unwrap_or("the same configuration")
            );
        }
        needs
    } else {
        parts.join("; ")
    };
    Goal {
        id: g.id.clone(),
        goal: g.text.clone(),
        figure: worst,
        limit: g.limit,
        status,
        detail,
        unit: if g.is_ratio() {
            String::new()
        } else {
            g.metric.unit().to_string()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Sample;
    use crate::policy::StringOrList;
    use crate::report::Duplicate;

    fn m(s: &str, c: &str, wall: f64, pss: f64) -> Measurement {
        Measurement::new(
            s,
            c,
            vec![Sample {
                wall_s: wall,
                tree_pss_mib: pss,
                max_process_rss_mib: pss / 2.0,
                cgroup_peak_mib: None,
                load_avg_start: None,
            }],
        )
    }

    #[test]
    fn default_goals_compare_tuned_with_shipped() {
        let mut clean = m("clean", "tuned", 60.0, 800.0);
        clean.duplicates = Some(vec![
            Duplicate {
                package: "libc 0.2.170".into(),
                features: vec![vec!["std".into()], vec![]],
                host_and_target: false,
            },
            Duplicate {
                package: "memchr 2.7.4".into(),
                features: vec![vec!["std".into()], vec![]],
                host_and_target: true,
            },
        ]);
        let ms = vec![
            m("clean", "shipped", 100.0, 2000.0),
            clean,
            m("leaf", "shipped", 50.0, 1000.0),
            m("leaf", "tuned", 10.0, 500.0),
        ];
        let goals = evaluate(&defaults("tuned", "shipped"), &ms);
        let ids: Vec<&str> = goals.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            ["clean", "deps-cached", "leaf", "memory", "duplicates"]
        );
        assert_eq!(goals[0].figure, Some(0.6));
        assert_eq!(goals[0].status, GoalStatus::Pass);
        assert!(
            goals[0]
                .detail
                .contains("tuned 60.0 s / shipped 100.0 s = 0.600"),
            "{}",
            goals[0].detail
        );
        assert_eq!(goals[1].status, GoalStatus::NotMeasured);
        assert!(
            goals[1].detail.contains("needs `deps-cached`"),
            "{}",
            goals[1].detail
        );
        assert_eq!(goals[2].figure, Some(0.2));
        assert_eq!(goals[2].status, GoalStatus::Miss);
        assert_eq!(goals[3].figure, Some(0.4));
        assert_eq!(goals[4].figure, Some(1.0));
        assert_eq!(goals[4].status, GoalStatus::Miss);
        assert_eq!(goals[4].unit, "crates");
        assert!(
            goals[4].detail.contains("libc 0.2.170"),
            "{}",
            goals[4].detail
        );
        // The host/target copy is listed but not counted.
        assert!(
            goals[4]
                .detail
                .contains("1 host/target copies, not counted")
                && goals[4].detail.contains("memchr 2.7.4"),
            "{}",
            goals[4].detail
        );
    }

    #[test]
    fn lists_take_the_worst_and_against_scenario_compares_with_itself() {
        let g = GoalSpec {
            id: "deps".into(),
            text: "x".into(),
            scenario: "deps-cached".into(),
            metric: Metric::WallTime,
            configs: vec!["a".into(), "b".into(), "c".into()],
            against: None,
            against_scenario: Some("clean".into()),
            limit: 0.3,
        };
        let ms = vec![
            m("clean", "a", 100.0, 1.0),
            m("deps-cached", "a", 20.0, 1.0),
            m("clean", "b", 100.0, 1.0),
            m("deps-cached", "b", 40.0, 1.0),
        ];
        let got = &evaluate(&[g], &ms)[0];
        assert_eq!(got.figure, Some(0.4));
        assert_eq!(got.status, GoalStatus::Miss);
        assert!(
            got.detail.contains("a 20.0 s / a 100.0 s"),
            "{}",
            got.detail
        );

        let abs = GoalSpec {
            id: "mem".into(),
            text: "x".into(),
            scenario: "clean".into(),
            metric: Metric::PeakMemory,
            configs: vec!["a".into(), "b".into()],
            against: None,
            against_scenario: None,
            limit: 2048.0,
        };
        let ms = vec![m("clean", "a", 1.0, 1500.0), m("clean", "b", 1.0, 2100.0)];
        let got = &evaluate(&[abs], &ms)[0];
        assert_eq!((got.figure, got.status), (Some(2100.0), GoalStatus::Miss));
        assert_eq!(got.unit, "MiB");
    }

    #[test]
    fn bad_policy_goals_name_the_key() {
        let known = vec!["tuned".to_string(), "shipped".to_string()];
        let base = BenchGoalPolicy {
            id: "g".into(),
            text: None,
            scenario: "clean".into(),
            metric: "wall-time".into(),
            config: StringOrList::One("tuned".into()),
            against: Some("shipped".into()),
            against_scenario: None,
            limit: 0.5,
        };
        let file = Path::new("ws/Cargo.toml");
        let ok = from_policy(std::slice::from_ref(&base), &known, file).unwrap();
        assert_eq!(
            ok[0].text,
            "`clean` wall time of `tuned` <= 0.5 x `clean` of `shipped`"
        );
        let cases: Vec<(BenchGoalPolicy, &str)> = vec![
            (
                BenchGoalPolicy {
                    metric: "speed".into(),
                    ..base.clone()
                },
                "goals[0].metric",
            ),
            (
                BenchGoalPolicy {
                    config: StringOrList::One("fast".into()),
                    ..base.clone()
                },
                "goals[0].config",
            ),
            (
                BenchGoalPolicy {
                    against: Some("old".into()),
                    ..base.clone()
                },
                "goals[0].against",
            ),
            (
                BenchGoalPolicy {
                    scenario: "touch".into(),
                    ..base.clone()
                },
                "goals[0].scenario",
            ),
            (
                BenchGoalPolicy {
                    metric: "duplicate-compiles".into(),
                    ..base.clone()
                },
                "goals[0].against",
            ),
            (
                BenchGoalPolicy {
                    limit: -1.0,
                    ..base.clone()
                },
                "goals[0].limit",
            ),
        ];
        for (goal, key) in cases {
            let err = from_policy(&[goal], &known, file).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains("ws/Cargo.toml"),
                "{key}: {err}"
            );
        }
    }
}
