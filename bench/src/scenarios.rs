//! The scenarios a benchmark measures, and how each configuration runs
//! them: builds, source edits, the recorded link command and GNU ld in its
//! place, and a target directory with the workspace's own units forgotten.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::config::{self, Config};
use super::measure::{self, Cgroup, Label, Sample};
use super::pull_request::{self, Pr};
use super::report::Measurement;
use super::workspace::{EditTarget, SourceEdit};
use buildplan::error::Error;
use buildplan::exec::CargoCommand;

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

/// Records the linker command of `bin`: `cargo rustc` with the
/// configuration's arguments (`cargo`: its `cargo rustc` command), printing
/// the link arguments and keeping the linker's inputs (`-C save-temps`).
fn link_command(
    cargo: &CargoCommand,
    bin: &str,
    target_dir: &Path,
    profile: &str,
    log: &Path,
) -> anyhow::Result<CargoCommand> {
    let mut args = cargo.args.clone();
    if let Some(first) = args.first_mut() {
        "rustc".clone_into(first);
    }
    args.extend(
        [
            "--bin",
            bin,
            "--",
            "--print",
            "link-args",
            "-C",
            "save-temps",
        ]
        .map(String::from),
    );
    let cmd = CargoCommand {
        args,
        ..cargo.clone()
    };
    for _attempt in 0..2 {
        let out = cmd
            .to_command()
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("could not run `{}`", cmd.program))?;
        let mut file = measure::append_log(log, &format!("\n$ {}\n", cmd.shell_line()))?;
        std::io::Write::write_all(&mut file, &out.stderr)?;
        if !out.status.success() {
            anyhow::bail!(
                "`{}` failed ({}):\n{}",
                cmd.shell_line(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = stdout.lines().rev().find(|l| !l.trim().is_empty()) {
            return parse_link_line(line, &cargo.cwd)
                .with_context(|| format!("cannot parse the link command rustc printed: {line}"));
        }
        // Nothing was linked (up to date), so nothing was printed: remove
        // the binary and try once more.
        remove_binaries(target_dir, profile, &[bin.to_string()])?;
    }
    anyhow::bail!("rustc printed no link command for `{bin}`")
}

/// The recorded link command with GNU ld in place of the configuration's
/// linker: every `-fuse-ld=` and the `-B` directory of rustc's self-contained
/// `gcc-ld` wrapper are dropped and `-fuse-ld=bfd` is added. `None` when the
/// program is not a C compiler driver (`cc`, `gcc`, `clang`, and their
/// prefixed or versioned names), which is what reads `-fuse-ld`.
pub fn with_gnu_ld(link: &CargoCommand) -> Option<CargoCommand> {
    let name = Path::new(&link.program).file_name()?.to_str()?;
    let driver = ["cc", "gcc", "clang", "c++", "g++", "clang++"]
        .iter()
        .any(|d| {
            name == *d || name.ends_with(&format!("-{d}")) || name.starts_with(&format!("{d}-"))
        });
    if !driver {
        return None;
    }
    let mut args: Vec<String> = link
        .args
        .iter()
        .filter(|a| !a.starts_with("-fuse-ld="))
        .filter(|a| !(a.starts_with("-B") && a.trim_end_matches('/').ends_with("gcc-ld")))
        .cloned()
        .collect();
    args.push("-fuse-ld=bfd".into());
    Some(CargoCommand {
        args,
        ..link.clone()
    })
}

/// Parses the command rustc prints for `--print link-args`:
/// `VAR="value" ... "cc" "arg" ...`, quoted like a shell would read it.
pub fn parse_link_line(line: &str, cwd: &Path) -> Option<CargoCommand> {
    let words = shlex::split(line.trim())?;
    let mut words = words.into_iter().peekable();
    let mut env = std::collections::BTreeMap::new();
    while let Some((key, value)) = words.peek().and_then(|w| w.split_once('=')) {
        let is_name = !key.is_empty()
            && !key.starts_with(|c: char| c.is_ascii_digit())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            break;
        }
        env.insert(key.to_string(), value.to_string());
        words.next();
    }
    let program = words.next()?;
    Some(CargoCommand {
        program,
        args: words.collect(),
        env,
        env_remove: Vec::new(),
        cwd: cwd.to_path_buf(),
    })
}

/// `cargo clean -p` for the workspace units, with the configuration's
/// profile, environment and target directory.
/// Makes cargo rebuild the workspace `packages` (and nothing else) from
/// scratch in the profile directory `dir`: removes their units' fingerprint
/// directories, in either layout of the build directory
/// ([`buildplan::layout`]; a unit without a fingerprint is rebuilt, and so
/// is every unit depending on it) and the whole `incremental/` directory
/// (cargo keeps incremental state only for local packages, never for
/// registry dependencies, and a cache of dependencies would not hold it).
///
/// Not `cargo clean -p`: it removes files by *target* name, so a test
/// target named like a dependency (`tests/log.rs` beside the `log` crate)
/// also removes that dependency's artifacts, and the "cached" build then
/// recompiles it and all its dependents. Returns how many directories were
/// removed; none is an error (the scenario would measure nothing).
pub fn forget_workspace_units(
    dir: &Path,
    packages: &[String],
    log: &Path,
) -> anyhow::Result<usize> {
    let mut removed = Vec::new();
    for unit in buildplan::layout::unit_dirs(dir) {
        if packages.contains(&unit.package) {
            std::fs::remove_dir_all(&unit.fingerprint)
                .with_context(|| format!("removing {}", unit.fingerprint.display()))?;
            removed.push(format!("{}-{}", unit.package, unit.hash));
        }
    }
    if removed.is_empty() {
        anyhow::bail!(
            "no fingerprint of {} under {}: nothing to rebuild",
            packages.join(", "),
            dir.display()
        );
    }
    removed.sort();
    remove_dir_if_exists(&dir.join("incremental"))?;
    measure::append_log(
        log,
        &format!(
            "\n$ # bench: removed the fingerprints of the units {} under {}, and {}\n",
            removed.join(" "),
            dir.display(),
            dir.join("incremental").display()
        ),
    )?;
    Ok(removed.len())
}

/// Deletes the package's final binaries (the uplifted one and cargo's own
/// copy: `deps/<name>-<hash>`, or `build/<package>/<hash>/out/<name>` in
/// the newer layout); returns how many files went.
fn remove_binaries(target_dir: &Path, profile: &str, binaries: &[String]) -> anyhow::Result<usize> {
    let dir = target_dir.join(config::profile_dir(profile));
    let mut outputs = vec![dir.join("deps")];
    for unit in buildplan::layout::unit_dirs(&dir) {
        outputs.push(unit.fingerprint.with_file_name("out"));
    }
    let mut removed = 0;
    for bin in binaries {
        let uplifted = dir.join(bin);
        if uplifted.exists() {
            std::fs::remove_file(&uplifted)?;
            removed += 1;
        }
        let crate_name = bin.replace('-', "_");
        let prefix = format!("{crate_name}-");
        for entry in outputs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_binary = name == *bin
                || name == crate_name
                || name.strip_prefix(&prefix).is_some_and(|hash| {
                    !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit())
                });
            if is_binary {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

fn remove_dir_if_exists(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", dir.display())),
    }
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

    #[test]
    fn link_lines_are_parsed() {
        let line = r#"LC_ALL="C" PATH="/a b:/usr/bin" VSLANG="1033" "cc" "-m64" "/t/x.o" "-Wl,--version-script=/t/v" "-fuse-ld=mold" "-o" "/t/app-1""#;
        let cmd = parse_link_line(line, Path::new("/w")).unwrap();
        assert_eq!(cmd.program, "cc");
        assert_eq!(
            cmd.args,
            [
                "-m64",
                "/t/x.o",
                "-Wl,--version-script=/t/v",
                "-fuse-ld=mold",
                "-o",
                "/t/app-1"
            ]
        );
        assert_eq!(cmd.env.len(), 3);
        assert_eq!(cmd.env["PATH"], "/a b:/usr/bin");
        assert_eq!(cmd.cwd, Path::new("/w"));
        assert!(parse_link_line("\"unterminated", Path::new("/")).is_none());
        assert!(parse_link_line("A=1", Path::new("/")).is_none());
    }

    #[test]
    fn gnu_ld_replaces_the_configured_linker() {
        let mold = parse_link_line(
            r#""cc" "-m64" "/t/x.o" "-fuse-ld=mold" "-o" "/t/app""#,
            Path::new("/w"),
        )
        .unwrap();
        let bfd = with_gnu_ld(&mold).unwrap();
        assert_eq!(bfd.program, "cc");
        assert_eq!(bfd.args, ["-m64", "/t/x.o", "-o", "/t/app", "-fuse-ld=bfd"]);
        assert_eq!(bfd.cwd, mold.cwd);

        // rustc's self-contained rust-lld: a `gcc-ld` directory and -fuse-ld=lld.
        let lld = parse_link_line(
            r#""/usr/bin/x86_64-linux-gnu-gcc" "/t/x.o" "-B/r/lib/rustlib/x86_64-unknown-linux-gnu/bin/gcc-ld" "-fuse-ld=lld" "-B/other""#,
            Path::new("/w"),
        )
        .unwrap();
        let bfd = with_gnu_ld(&lld).unwrap();
        assert_eq!(bfd.args, ["/t/x.o", "-B/other", "-fuse-ld=bfd"]);

        // A linker run directly cannot be swapped.
        let direct =
            parse_link_line(r#""rust-lld" "-flavor" "gnu" "/t/x.o""#, Path::new("/w")).unwrap();
        assert!(with_gnu_ld(&direct).is_none());
        let clang = parse_link_line(r#""clang-14" "/t/x.o""#, Path::new("/w")).unwrap();
        assert!(with_gnu_ld(&clang).is_some());
    }

    #[test]
    fn forgetting_workspace_units_spares_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let fp = dir.path().join(".fingerprint");
        for d in [
            "smoke-core-0123456789abcdef",
            "smoke-core-fedcba9876543210",
            "smoke-app-00000000000000aa",
            "smoke-core-extra-0123456789abcdef",
            "itoa-0123456789abcdef",
            "smoke-core-notahash",
        ] {
            std::fs::create_dir_all(fp.join(d)).unwrap();
            std::fs::write(fp.join(d).join("lib-x"), "").unwrap();
        }
        // The newer layout: build/<package>/<hash>/fingerprint.
        for d in ["smoke-core/1111111111111111", "itoa/1111111111111111"] {
            let unit = dir.path().join("build").join(d);
            std::fs::create_dir_all(unit.join("fingerprint")).unwrap();
            std::fs::create_dir_all(unit.join("out")).unwrap();
        }
        let incremental = dir.path().join("incremental/smoke_core-1njszorudfcqn");
        std::fs::create_dir_all(&incremental).unwrap();
        let log = dir.path().join("log");
        let n =
            forget_workspace_units(dir.path(), &["smoke-core".into(), "smoke-app".into()], &log)
                .unwrap();
        assert_eq!(n, 4);
        let new = dir.path().join("build");
        assert!(!new.join("smoke-core/1111111111111111/fingerprint").exists());
        assert!(new.join("smoke-core/1111111111111111/out").exists());
        assert!(new.join("itoa/1111111111111111/fingerprint").exists());
        let left: std::collections::BTreeSet<String> = std::fs::read_dir(&fp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            left.into_iter().collect::<Vec<_>>(),
            [
                "itoa-0123456789abcdef",
                "smoke-core-extra-0123456789abcdef",
                "smoke-core-notahash"
            ]
        );
        assert!(!dir.path().join("incremental").exists());
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(
            logged.contains("smoke-app-00000000000000aa smoke-core-0123456789abcdef smoke-core-1111111111111111"),
            "{logged}"
        );
        // Nothing to forget is an error, not a silent no-op measurement.
        let err = forget_workspace_units(dir.path(), &["smoke-core".into()], &log).unwrap_err();
        assert!(err.to_string().contains("nothing to rebuild"), "{err}");
    }

    #[test]
    fn binaries_are_found_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let deps = dir.path().join("release-fast/deps");
        std::fs::create_dir_all(&deps).unwrap();
        for f in [
            "my_app-0123abcd",
            "my_app-0123abcd.d",
            "libmy_app-0123abcd.rlib",
            "my_app_extra-99",
        ] {
            std::fs::write(deps.join(f), "").unwrap();
        }
        std::fs::write(dir.path().join("release-fast/my-app"), "").unwrap();
        // The newer layout: the binary in its unit's out/ directory.
        let unit = dir
            .path()
            .join("release-fast/build/my-app/0123456789abcdef");
        std::fs::create_dir_all(unit.join("fingerprint")).unwrap();
        std::fs::create_dir_all(unit.join("out")).unwrap();
        std::fs::write(unit.join("out/my_app"), "").unwrap();
        std::fs::write(unit.join("out/my_app.d"), "").unwrap();
        let n = remove_binaries(dir.path(), "release-fast", &["my-app".into()]).unwrap();
        assert_eq!(n, 3);
        assert!(!unit.join("out/my_app").exists());
        assert!(unit.join("out/my_app.d").exists());
        assert!(deps.join("my_app-0123abcd.d").exists());
        assert!(deps.join("libmy_app-0123abcd.rlib").exists());
        assert!(deps.join("my_app_extra-99").exists());
        assert!(!deps.join("my_app-0123abcd").exists());
        assert_eq!(
            remove_binaries(dir.path(), "dev", &["my-app".into()]).unwrap(),
            0
        );
    }
}
