//! Writing a run's results: the JSON file, the Markdown report, and the
//! figures and goals printed.

use crate::markdown;
use crate::options::Options;
use crate::report::{self, Results};

/// Writes the JSON and Markdown outputs.
pub(crate) fn write_files(results: &Results, args: &Options) -> anyhow::Result<()> {
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(results)?;
        text.push('\n');
        buildplan::output::write_atomic(path, &text)?;
    }
    if let Some(path) = &args.markdown {
        let existing = std::fs::read_to_string(path).ok();
        let text = markdown::render_markdown(results, existing.as_deref());
        buildplan::output::write_atomic(path, &text)?;
    }
    Ok(())
}

/// Writes the JSON and Markdown outputs and prints the figures and goals.
pub(crate) fn write_outputs(results: &Results, args: &Options) -> anyhow::Result<()> {
    write_files(results, args)?;
    for path in args.json.iter().chain(args.markdown.iter()) {
        eprintln!("bench: wrote {}", path.display());
    }
    for m in &results.measurements {
        println!(
            "{:<12} {:<18} wall {:>8.2} s (min {:>8.2})  tree PSS {:>6.0} MiB  largest process {:>6.0} MiB",
            m.scenario,
            m.config,
            m.wall_s.median,
            m.wall_s.min,
            m.tree_pss_mib.max,
            m.max_process_rss_mib.max
        );
    }
    for g in &results.goals {
        let verdict = match g.status {
            report::GoalStatus::Pass => "PASS",
            report::GoalStatus::Miss => "MISS",
            report::GoalStatus::NotMeasured => "not measured",
        };
        println!("goal {:<12} {verdict:<12} {}", g.id, g.detail);
    }
    Ok(())
}
