//! The scenarios a benchmark measures, and how each configuration runs
//! them: builds, source edits, the recorded link command and GNU ld in its
//! place, and a target directory with the workspace's own units forgotten.

mod link;
mod target_dir;

use std::path::{Path, PathBuf};

use anyhow::Context;

pub use link::{parse_link_line, with_gnu_ld};
pub use target_dir::forget_workspace_units;

use super::config::{self, Config};
use super::measure::{self, Cgroup, Label, Sample};
use super::pull_request::{self, Pr};
use super::report::Measurement;
use super::workspace::{EditTarget, SourceEdit};
use buildplan::error::Error;
use buildplan::exec::CargoCommand;
use link::link_command;
use target_dir::remove_dir_if_exists;

/// Every scenario, in run order (each leaves the target directory in the
/// state the next one starts from, as far as possible). The pull-request
/// ones ([`pull_request`]) run only when named in `--scenarios`.
pub const SCENARIOS: &[&str] = &[
    "clean",
    "noop",
    "leaf",
    "root",
    "deps-cached",
    "link",
    "link-bfd",
    "pr-noop",
    "pr-top",
    "pr-middle",
    "pr-bottom",
    "pr-share",
];

/// How each scenario is produced, for the report.
pub fn method(scenario: &str) -> &'static str {
    match scenario {
        "clean" => "`cargo build` with an empty target directory (removed before each run), with \
                    `--message-format=json-render-diagnostics` added so that the crates compiled \
                    (and any third-party crate compiled twice with different features) are \
                    counted from cargo's messages.",
        "noop" => "`cargo build` again right after a complete build: nothing to do but check fingerprints.",
        "leaf" => "a real code edit of the measured package (a new function returning a different constant \
                   is appended to its library root, or binary root if it has no library; restored after), \
                   then `cargo build`.",
        "root" => "the same edit in the workspace crate the most members depend on (among the measured \
                   package's dependencies), then `cargo build`: everything above it recompiles.",
        "deps-cached" => "after a complete build, the fingerprints of every workspace member are removed, and the incremental state (not \
                          `cargo clean -p`, which also deletes dependencies that share a name with a \
                          test target), then `cargo build`: third-party dependencies are cached, \
                          workspace crates build from scratch (what CI sees with a binary cache of \
                          dependencies).",
        "link" => "the final link alone. After a complete build, `cargo rustc --bin <bin> -- --print \
                   link-args -C save-temps` rebuilds the binary crate once, printing the exact linker \
                   command rustc runs and keeping its inputs (objects, rlibs, rustc's temporary \
                   directory); that command is then re-run as is and timed. No compilation is \
                   included (with LTO profiles the LTO work happens in rustc, before this step). \
                   `cargo rustc` selects the package alone: in a unified variant its \
                   dependencies may then be built with fewer features for this step.",
        "link-bfd" => "the command recorded for `link`, on the same inputs, with GNU ld (`-fuse-ld=bfd`, \
                       the system linker) in place of the configuration's linker: a like-for-like \
                       comparison of linkers. Measured only where a C compiler driver runs the link.",
        other => pull_request::method(other).unwrap_or(""),
    }
}

/// Validates `--scenarios` (empty means all), in run order.
pub fn select_scenarios(requested: &[String]) -> anyhow::Result<Vec<&'static str>> {
    for r in requested {
        if !SCENARIOS.contains(&r.trim()) {
            return Err(Error::invalid(format!(
                "unknown scenario `{r}`; known: {}",
                SCENARIOS.join(", ")
            ))
            .into());
        }
    }
    Ok(SCENARIOS
        .iter()
        .copied()
        .filter(|s| {
            if requested.is_empty() {
                !pull_request::SCENARIOS.contains(s)
            } else {
                requested.iter().any(|r| r.trim() == *s)
            }
        })
        .collect())
}

/// Parses `--skip` values: `config:scenario`, either side may be `*`;
/// `configs` are the known configuration names.
pub fn parse_skip(values: &[String], configs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    values
        .iter()
        .map(|v| {
            let (c, s) = v.trim().split_once(':').ok_or_else(|| {
                Error::invalid(format!(
                    "--skip `{v}`: expected CONFIG:SCENARIO (either may be `*`)"
                ))
            })?;
            if c != "*" && !configs.iter().any(|k| k == c) {
                return Err(
                    Error::invalid(format!("--skip `{v}`: unknown configuration `{c}`")).into(),
                );
            }
            if s != "*" && !SCENARIOS.contains(&s) {
                return Err(Error::invalid(format!("--skip `{v}`: unknown scenario `{s}`")).into());
            }
            Ok((c.to_string(), s.to_string()))
        })
        .collect()
}

/// Whether a cell is left out by `--skip`.
pub fn skipped(skip: &[(String, String)], config: &str, scenario: &str) -> bool {
    skip.iter()
        .any(|(c, s)| (c == "*" || c == config) && (s == "*" || s == scenario))
}

/// What every scenario of a configuration needs.
pub struct RunContext<'a> {
    /// The measured package's binaries (`link` uses the first).
    pub binaries: &'a [String],
    /// The workspace members `deps-cached` forgets.
    pub units: &'a [String],
    /// The file `leaf` edits.
    pub leaf: &'a EditTarget,
    /// The file `root` edits, if there is one.
    pub root: Option<&'a EditTarget>,
    /// Runs per scenario.
    pub runs: u32,
    /// The log cargo's output goes to.
    pub log: &'a Path,
    /// The memory cgroup to measure in, if any.
    pub cgroup: Option<&'a Cgroup>,
    /// The members the pull-request scenarios edit, when they run.
    pub pr: Option<&'a pull_request::Targets>,
}

/// Runs every scenario of one configuration, handing each measured cell to
/// `done`.
pub fn run_config(
    ctx: &RunContext<'_>,
    config: &Config,
    scenarios: &[&str],
    skip: &dyn Fn(&str) -> bool,
    done: &mut dyn FnMut(Measurement) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let cargo = config
        .cargo
        .as_ref()
        .context("configuration without a command")?;
    let target_dir = PathBuf::from(
        cargo
            .env
            .get("CARGO_TARGET_DIR")
            .context("configuration without a target directory")?,
    );
    let label = |scenario: &str, step: String| Label {
        scenario: scenario.to_string(),
        config: config.name.clone(),
        step,
    };
    let mut built = false;
    let mut edit_number = 0u64;
    let messages_file = ctx
        .log
        .with_file_name(format!("messages-{}.json", config.name));
    // The link command recorded by `link`, whose inputs stay on disk until
    // the next build: `link-bfd` re-uses it (and must not build first).
    let mut recorded_link: Option<CargoCommand> = None;
    let mut pr: Option<Pr<'_>> = None;
    for &scenario in scenarios.iter().filter(|s| !skip(s)) {
        let reuse_link = scenario == "link-bfd" && recorded_link.is_some();
        let needs_build = scenario != "clean" && !reuse_link;
        if needs_build && !built {
            recorded_link = None;
            measure::run_step(cargo, &label(scenario, "preparing: build".into()), ctx.log)?;
        }
        if let (Some(targets), true) = (ctx.pr, scenario.starts_with("pr-")) {
            if pr.is_none() {
                pr = Some(Pr::warm(
                    targets,
                    &config.name,
                    cargo,
                    &target_dir,
                    ctx.log,
                )?);
            }
            let state = pr.as_mut().expect("warmed");
            let profile_dir = target_dir.join(config::profile_dir(&config.profile));
            let forget =
                |packages: &[String]| forget_workspace_units(&profile_dir, packages, ctx.log);
            let run = pull_request::Run {
                runs: ctx.runs,
                log: ctx.log,
                cgroup: ctx.cgroup,
            };
            let cell = state.cell(&run, scenario, cargo, &label, &forget, &mut edit_number)?;
            if let Some(m) = cell {
                done(m)?;
            }
            continue;
        }
        let mut edit = match scenario {
            "leaf" => Some(SourceEdit::new(&ctx.leaf.file)?),
            "root" => match ctx.root {
                Some(r) => Some(SourceEdit::new(&r.file)?),
                None => continue,
            },
            _ => None,
        };
        let link = match (scenario, ctx.binaries.first()) {
            ("link" | "link-bfd", Some(bin)) => {
                let recorded = match recorded_link.take() {
                    Some(cmd) if reuse_link => cmd,
                    _ => {
                        eprintln!(
                            "bench: {:<12} {:<18} preparing: recording the link command of `{bin}`",
                            scenario, config.name
                        );
                        let rustc = config.rustc.as_ref().unwrap_or(cargo);
                        link_command(rustc, bin, &target_dir, &config.profile, ctx.log)?
                    }
                };
                recorded_link = Some(recorded.clone());
                if scenario == "link" {
                    Some(recorded)
                } else if let Some(bfd) = with_gnu_ld(&recorded) {
                    Some(bfd)
                } else {
                    eprintln!(
                        "bench: {:<12} {:<18} skipped: `{}` is not a C compiler driver, so the \
                         linker cannot be swapped with -fuse-ld",
                        scenario, config.name, recorded.program
                    );
                    continue;
                }
            }
            _ => None,
        };
        let mut samples: Vec<Sample> = Vec::new();
        for i in 1..=ctx.runs {
            let step = format!("run {i}/{}", ctx.runs);
            match scenario {
                "clean" => remove_dir_if_exists(&target_dir)?,
                "leaf" | "root" => {
                    if let Some(e) = edit.as_mut() {
                        e.apply(edit_number)?;
                        edit_number += 1;
                    }
                }
                "deps-cached" => {
                    let dir = target_dir.join(config::profile_dir(&config.profile));
                    forget_workspace_units(&dir, ctx.units, ctx.log)?;
                }
                _ => {}
            }
            // The clean build also reports what it compiled (cargo's JSON
            // messages on stdout; diagnostics stay rendered in the log).
            let json_cmd;
            let (measured, messages) = match (&link, scenario) {
                (Some(l), _) => (l, None),
                (None, "clean") => {
                    let mut c = cargo.clone();
                    c.args
                        .push("--message-format=json-render-diagnostics".to_string());
                    json_cmd = c;
                    (&json_cmd, Some(messages_file.as_path()))
                }
                (None, _) => (cargo, None),
            };
            let sample = measure::run_measured(
                measured,
                &label(scenario, step),
                ctx.log,
                ctx.cgroup,
                messages,
            )?;
            samples.push(sample);
        }
        let duplicates = if scenario == "clean" {
            let text = std::fs::read_to_string(&messages_file)
                .with_context(|| format!("reading {}", messages_file.display()))?;
            Some(super::duplicates::from_messages(&text).with_context(|| {
                format!(
                    "counting the crates compiled in {}",
                    messages_file.display()
                )
            })?)
        } else {
            None
        };
        built = true;
        if let Some(mut e) = edit.take() {
            e.restore()?;
            built = false;
        }
        if link.is_some() {
            // The binary crate was built with extra rustc flags: the next
            // `cargo build` rebuilds it.
            built = false;
        }
        let mut measurement = Measurement::new(scenario, &config.name, samples);
        measurement.duplicates = duplicates;
        done(measurement)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_selection() {
        // All but the pull-request ones unless named.
        assert_eq!(select_scenarios(&[]).unwrap(), &SCENARIOS[..7]);
        assert_eq!(
            select_scenarios(&["pr-top".into(), "deps-cached".into()]).unwrap(),
            ["deps-cached", "pr-top"]
        );
        assert_eq!(
            select_scenarios(&["link".into(), "noop".into()]).unwrap(),
            ["noop", "link"]
        );
        let err = select_scenarios(&["touch".into()]).unwrap_err();
        assert!(err.to_string().contains("unknown scenario `touch`"));
        let known = ["baseline".to_string(), "dev".to_string()];
        let skip = parse_skip(&["baseline:link".into(), "*:root".into()], &known).unwrap();
        assert!(skipped(&skip, "baseline", "link"));
        assert!(skipped(&skip, "dev", "root"));
        assert!(!skipped(&skip, "dev", "link"));
        assert!(parse_skip(&["baseline".into()], &known).is_err());
        assert!(parse_skip(&["base:link".into()], &known).is_err());
        assert!(parse_skip(&["dev:touch".into()], &known).is_err());
        for s in SCENARIOS {
            assert!(!method(s).is_empty());
        }
    }
}
