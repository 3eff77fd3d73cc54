//! The pull-request scenarios: a cache warmed from "main" (the workspace
//! copy, completely built), then builds from a fresh checkout (a new copy of
//! the workspace at another path, every file with a new mtime), with the
//! cache restored as `cargo buildplan build --deps-cache DIR --members`
//! restores it (the core's `deps_cache`, its member record applied).
//!
//! - `pr-noop`: no change;
//! - `pr-top` / `pr-middle` / `pr-bottom`: the `leaf` edit (a new function)
//!   in the measured package (top), in a member between it and the bottom
//!   (middle), in the member the most others depend on (bottom, `root`'s);
//! - `pr-share`: in main's target directory, the fingerprints of exactly the
//!   packages `pr-bottom` compiled are removed and it is rebuilt: what those
//!   packages cost in a build with dependencies cached and members not (the
//!   `deps-cached` scenario, restricted to them).
//!
//! Only the cargo build is timed; the restore (copy and mtimes) is timed on
//! its own and written to the log.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use super::measure::{self, Label, Sample};
use super::report::Measurement;
use super::workspace::{EditTarget, SourceEdit};
use buildplan::deps_cache::members::{self, Member, MemberRecord};
use buildplan::deps_cache::{CacheKey, DepsCache, LockIdentity, Lookup};
use buildplan::exec::CargoCommand;
use buildplan::model::Plan;

/// The pull-request scenarios, in run order (`pr-share` after `pr-bottom`).
pub const SCENARIOS: &[&str] = &["pr-noop", "pr-top", "pr-middle", "pr-bottom", "pr-share"];

/// How each is produced, for the report.
pub fn method(scenario: &str) -> Option<&'static str> {
    Some(match scenario {
        "pr-noop" => "pull request, no change: a cache saved from a complete build of the workspace \
                      copy (`deps_cache` with its member record, as `build --deps-cache DIR --members`), \
                      restored into a fresh checkout at another path (every file a new mtime), then \
                      `cargo build`; the restore is timed apart (log).",
        "pr-top" => "pull request editing the measured package (the `leaf` edit) in the fresh checkout.",
        "pr-middle" => "pull request editing a member between the measured package and the bottom one.",
        "pr-bottom" => "pull request editing the member the most others depend on (`root`'s).",
        "pr-share" => "the packages `pr-bottom` compiled, forgotten (fingerprints removed) in the complete \
                       build and rebuilt: their share of a build with dependencies cached and members not.",
        _ => return None,
    })
}

/// The members the scenarios edit.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The measured package.
    pub top: EditTarget,
    /// A member between top and bottom, if any.
    pub middle: Option<EditTarget>,
    /// The member the most others depend on, if any.
    pub bottom: Option<EditTarget>,
    /// Every member, for the record.
    pub members: Vec<Member>,
    /// The workspace copy (main).
    pub main_root: PathBuf,
    /// Where the checkouts and caches go.
    pub work: PathBuf,
}

/// Among the members `package` needs that depend on `bottom`, the one the
/// most members depend on (ties: by name).
pub fn middle_member(plan: &Plan, package: &str, bottom: &str) -> Option<String> {
    let bottom_path = &plan.packages.get(bottom)?.path;
    let needed = &plan.packages.get(package)?.workspace_deps;
    plan.packages
        .iter()
        .filter(|(name, p)| {
            *name != bottom && needed.contains(&p.path) && p.workspace_deps.contains(bottom_path)
        })
        .map(|(name, p)| {
            let users = plan
                .packages
                .values()
                .filter(|q| q.workspace_deps.contains(&p.path))
                .count();
            (users, name)
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, name)| name.clone())
}

/// The workspace's members, for the record.
pub fn members_of(root: &Path) -> anyhow::Result<Vec<Member>> {
    members::workspace_members(root).map_err(anyhow::Error::msg)
}

/// What every pull-request cell needs from the run.
pub struct Run<'a> {
    /// Runs per scenario.
    pub runs: u32,
    /// The benchmark log.
    pub log: &'a Path,
    /// The memory cgroup to measure in, if any.
    pub cgroup: Option<&'a measure::Cgroup>,
}

/// One configuration's cache and checkout.
pub struct Pr<'a> {
    targets: &'a Targets,
    cache: DepsCache,
    key: CacheKey,
    checkout: PathBuf,
    /// Packages `pr-bottom` compiled (for `pr-share`).
    pub bottom_compiled: Vec<String>,
    /// The configuration's name.
    pub config: String,
}

impl<'a> Pr<'a> {
    /// Saves main's complete build (`target_dir`) with its member record.
    pub fn warm(
        targets: &'a Targets,
        config: &str,
        cargo: &CargoCommand,
        target_dir: &Path,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let dir = targets.work.join("pr").join(config);
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let key = CacheKey {
            toolchain: buildplan::deps_cache::toolchain(Path::new(&rustc))?,
            target: "bench".into(),
            profile: config.into(),
            variant: String::new(),
            cargo_args: vec![cargo.args.clone()],
            members: Vec::new(),
            base_lock: LockIdentity::read(&targets.main_root.join("Cargo.lock"))?,
        };
        let started = Instant::now();
        let record = MemberRecord::take(&targets.main_root, target_dir, &targets.members, |m| {
            members::package_files(&m.dir)
        });
        let cache = DepsCache::new(dir.join("cache"));
        let entry = cache.save(&key, target_dir, key.base_lock.clone(), Some(&record))?;
        measure::append_log(
            log,
            &format!(
                "\n$ # bench: warmed {} from main: {} files, {} member sources recorded, in {:.1} s\n",
                entry.dir.display(),
                entry.files,
                record.files.len(),
                started.elapsed().as_secs_f64()
            ),
        )?;
        Ok(Pr {
            targets,
            cache,
            key,
            checkout: dir.join("checkout"),
            bottom_compiled: Vec::new(),
            config: config.to_string(),
        })
    }

    /// The edited member of `scenario`; `Ok(None)` for `pr-noop`, an error
    /// string when the workspace has no such member.
    pub fn edit_of(&self, scenario: &str) -> Result<Option<&'a EditTarget>, String> {
        match scenario {
            "pr-noop" => Ok(None),
            "pr-top" => Ok(Some(&self.targets.top)),
            "pr-middle" => {
                self.targets.middle.as_ref().map(Some).ok_or_else(|| {
                    "no member between the measured package and the bottom one".into()
                })
            }
            _ => self
                .targets
                .bottom
                .as_ref()
                .map(Some)
                .ok_or_else(|| "the measured package has no workspace dependency".into()),
        }
    }

    /// A fresh checkout with `edit` applied (edit number `n`) and the cache
    /// restored; returns the command to measure (in the checkout, JSON
    /// messages on).
    pub fn prepare(
        &self,
        cargo: &CargoCommand,
        edit: Option<&EditTarget>,
        n: u64,
        log: &Path,
    ) -> anyhow::Result<CargoCommand> {
        let started = Instant::now();
        if self.checkout.exists() {
            std::fs::remove_dir_all(&self.checkout)
                .with_context(|| format!("removing {}", self.checkout.display()))?;
        }
        let copied = super::workspace::checkout(&self.targets.main_root, &self.checkout)?;
        if let Some(e) = edit {
            let rel = e.file.strip_prefix(&self.targets.main_root)?;
            let mut edit = SourceEdit::new(&self.checkout.join(rel))?;
            edit.apply(n)?;
            std::mem::forget(edit); // the checkout is thrown away, edit and all
        }
        let checked_out = started.elapsed().as_secs_f64();
        let target = self.checkout.join("target");
        let Lookup::Hit(entry) = self.cache.lookup(&self.key) else {
            anyhow::bail!(
                "the warmed cache under {} is unusable",
                self.cache.dir().display()
            );
        };
        let files = self.cache.restore(&entry, &target)?;
        let record = entry
            .members
            .as_ref()
            .context("the warmed entry has no member record")?;
        let applied = record.apply(&self.checkout);
        measure::append_log(
            log,
            &format!(
                "\n$ # bench: fresh checkout {} ({copied} files, {checked_out:.1} s), cache restored \
                 ({files} files) and member record applied ({} unchanged, {} changed{}) in {:.1} s\n",
                self.checkout.display(),
                applied.restored,
                applied.changed.len(),
                applied.skipped.map(|s| format!(", skipped: {s}")).unwrap_or_default(),
                started.elapsed().as_secs_f64() - checked_out
            ),
        )?;
        let mut cmd = cargo.clone();
        cmd.cwd = self.checkout.clone();
        cmd.env
            .insert("CARGO_TARGET_DIR".into(), target.display().to_string());
        cmd.args
            .push("--message-format=json-render-diagnostics".into());
        Ok(cmd)
    }

    /// One pull-request cell (`None`: the workspace has no member to edit).
    pub fn cell(
        &mut self,
        ctx: &Run<'_>,
        scenario: &str,
        cargo: &CargoCommand,
        label: &dyn Fn(&str, String) -> Label,
        forget: &dyn Fn(&[String]) -> anyhow::Result<usize>,
        edit_number: &mut u64,
    ) -> anyhow::Result<Option<Measurement>> {
        let messages = ctx.log.with_file_name(format!("messages-{scenario}.json"));
        let mut samples = Vec::new();
        let mut compiled = Vec::new();
        for i in 1..=ctx.runs {
            let step = label(scenario, format!("run {i}/{}", ctx.runs));
            let cmd = if scenario == "pr-share" {
                if self.bottom_compiled.is_empty() {
                    eprintln!(
                        "bench: {scenario:<12} skipped: pr-bottom did not run or compiled nothing"
                    );
                    return Ok(None);
                }
                forget(&self.bottom_compiled)?;
                let mut c = cargo.clone();
                c.args
                    .push("--message-format=json-render-diagnostics".into());
                c
            } else {
                let edit = match self.edit_of(scenario) {
                    Ok(e) => e,
                    Err(why) => {
                        eprintln!("bench: {scenario:<12} skipped: {why}");
                        return Ok(None);
                    }
                };
                *edit_number += 1;
                self.prepare(cargo, edit, *edit_number, ctx.log)?
            };
            let (sample, units) = measure_once(&cmd, &step, ctx.log, ctx.cgroup, &messages)?;
            samples.push(sample);
            compiled = units;
        }
        if scenario == "pr-bottom" {
            let mut packages: Vec<String> = compiled
                .iter()
                .filter_map(|u| u.split_once(':').map(|(p, _)| p.to_string()))
                .collect();
            packages.dedup();
            self.bottom_compiled = packages;
        }
        let mut m = Measurement::new(scenario, &self.config, samples);
        m.compiled = Some(compiled);
        Ok(Some(m))
    }
}

/// The units cargo compiled (not fresh), `package:target`, from JSON
/// messages, sorted: cargo reports units as they finish, and units that
/// build in parallel finish in whatever order the machine's load gives.
pub fn compiled_units(messages: &str) -> anyhow::Result<Vec<String>> {
    let mut units: Vec<String> = buildplan::why::units(messages)?
        .into_iter()
        .filter(|u| !u.fresh)
        .map(|u| format!("{}:{}", u.name, u.target))
        .collect();
    units.sort();
    Ok(units)
}

/// Runs one measured pull-request build; its compiled units.
pub fn measure_once(
    cmd: &CargoCommand,
    label: &Label,
    log: &Path,
    cgroup: Option<&measure::Cgroup>,
    messages: &Path,
) -> anyhow::Result<(Sample, Vec<String>)> {
    let sample = measure::run_measured(cmd, label, log, cgroup, Some(messages))?;
    let text = std::fs::read_to_string(messages)
        .with_context(|| format!("reading {}", messages.display()))?;
    Ok((sample, compiled_units(&text)?))
}
