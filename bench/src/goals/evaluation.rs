//! Evaluating goals on a run's measurements: the figure (the worst of the
//! configurations), pass or miss, and the detail shown in the report.

use std::fmt::Write as _;

use super::{GoalSpec, Metric};
use crate::report::{Goal, GoalStatus, Measurement};

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
    use crate::goals::defaults;
    use crate::measure::Sample;
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
}
