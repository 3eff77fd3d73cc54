//! The policy's goals, checked, with a text generated from their keys
//! where they give none.

use std::path::Path;

use super::{GoalSpec, Metric, METRICS};
use crate::policy::{self, BenchGoalPolicy};
use crate::scenarios::SCENARIOS;
use buildplan::error::Error;

/// The policy's goals, checked against the known configuration names;
/// `file` names the manifest.
pub fn from_policy(
    list: &[BenchGoalPolicy],
    known: &[String],
    file: &Path,
) -> Result<Vec<GoalSpec>, Error> {
    let mut out: Vec<GoalSpec> = Vec::new();
    for (i, g) in list.iter().enumerate() {
        let bad = |key: &str, message| policy::entry_error(file, "goals", i, key, message);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::StringOrList;

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
