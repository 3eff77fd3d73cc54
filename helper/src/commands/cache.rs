//! `build --deps-cache DIR`: the cache key of one build, the restore before
//! it and the save after it (the storage is [`buildplan::deps_cache`]; the
//! contract is docs/deps-cache.md).

use std::path::Path;

use buildplan::build::{PlanContext, Selection};
use buildplan::deps_cache::members::{self, Member, MemberRecord};
use buildplan::deps_cache::{self, CacheKey, DepsCache, Entry, LockIdentity};
use buildplan::error::Error;
use buildplan::exec::CargoCommand;

/// The base lock, relative to the workspace root (the Nix base layer's).
pub const BASE_LOCK: &str = "nix/base.lock";

/// A build's cache, looked up before the build.
pub struct Prepared {
    cache: DepsCache,
    key: CacheKey,
    /// The usable entry; without one, the build is saved.
    entry: Option<Entry>,
    /// With `--members`: the members.
    members: Option<Vec<Member>>,
}

/// The key of the build `sel` runs as `cmd` (what it holds: docs/deps-cache.md).
fn key(ctx: &PlanContext, sel: &Selection<'_>, cmd: &CargoCommand) -> Result<CacheKey, Error> {
    let plan = &ctx.plan;
    let triple = plan.target(sel.target)?.triple.as_deref().unwrap_or("host");
    let configs = cmd.args.windows(2).filter(|w| w[0] == "--config");
    let rustflags = cmd.env.iter().filter(|(k, _)| k.contains("RUSTFLAGS"));
    let settings: Vec<String> = configs
        .map(|w| format!("--config={}", w[1]))
        .chain(rustflags.map(|(k, v)| format!("{k}={v}")))
        .collect();
    let deps_args = &plan.variant(sel.variant)?.deps_cargo_args;
    let mut lock = ctx.root.join(BASE_LOCK);
    if !lock.is_file() {
        eprintln!(
            "deps cache: no {BASE_LOCK}; Cargo.lock is the base (`cargo buildplan rebase` writes one)"
        );
        lock = ctx.root.join(&plan.workspace.lockfile);
    }
    Ok(CacheKey {
        toolchain: deps_cache::toolchain()?,
        target: format!("{} {triple}", sel.target),
        profile: sel.profile.to_string(),
        variant: sel.variant.to_string(),
        cargo_args: deps_args
            .iter()
            .map(|a| [&a[..], &settings].concat())
            .collect(),
        members: plan.packages.keys().cloned().collect(),
        base_lock: LockIdentity::read(&lock)?,
    })
}

/// Looks the build's key up in `dir` and, on a hit, restores the entry into the (empty)
/// target directory unless `dry_run`; prints what happened and why.
pub fn prepare(
    ctx: &PlanContext,
    sel: &Selection<'_>,
    cmd: &CargoCommand,
    dir: &Path,
    keep_members: bool,
    dry_run: bool,
) -> Result<Prepared, Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::invalid(format!(
            "--deps-cache {}: not a directory (give a directory; it is created on the first save)",
            dir.display()
        )));
    }
    let cache = DepsCache::new(dir);
    let key = key(ctx, sel, cmd)?;
    let lookup = cache.lookup(&key);
    let target = ctx.target_dir.display();
    let empty = std::fs::read_dir(&ctx.target_dir).map_or(true, |mut d| d.next().is_none());
    let members = keep_members
        .then(|| members::workspace_members(&ctx.root))
        .transpose()?;
    match &lookup {
        _ if !empty => eprintln!(
            "deps cache: {target} is not empty; building from it as it is (the cache is not read)"
        ),
        Ok(_) if dry_run => {
            eprintln!("deps cache: an entry matches; a real build restores it into {target}")
        }
        Ok(entry) => {
            let files = cache.restore(entry, &ctx.target_dir)?;
            let current = LockIdentity::read(&ctx.root.join(&ctx.plan.workspace.lockfile))?;
            eprintln!(
                "deps cache: restored {files} files built from {} ({} packages differ from Cargo.lock)",
                entry.dir.display(),
                current.not_in(&entry.built_from).len()
            );
            if keep_members {
                let line = apply_members(&ctx.root, entry.members.as_ref());
                eprintln!("deps cache: members: {line}");
            }
        }
        Err(why) => eprintln!("{why}"),
    }
    Ok(Prepared {
        cache,
        key,
        entry: lookup.ok(),
        members,
    })
}

/// Gives the unchanged member sources their recorded mtimes; says how it went.
fn apply_members(root: &Path, record: Option<&MemberRecord>) -> String {
    let Some(record) = record else {
        return "the entry has no member record (saved without --members); every member compiles"
            .into();
    };
    let applied = record.apply(root);
    if let Some(why) = applied.skipped {
        return format!("not restored: {why}; every member compiles");
    }
    let (changed, gone) = (applied.changed.len(), applied.missing.len());
    let mut line = format!(
        "{} unchanged source files given their recorded mtimes, {changed} changed, {gone} gone",
        applied.restored
    );
    if applied.held > 0 {
        let (held, from) = (applied.held, record.root.display());
        line += &format!("; {held} left new: the checkout moved from {from} and their members read files outside their directories");
    }
    line
}

impl Prepared {
    /// After a successful build: saves the target directory as the key's entry when there
    /// was none or, with `--members`, when the members' sources differ from the entry's.
    pub fn save(&self, ctx: &PlanContext) -> Result<(), Error> {
        let record = (self.members.as_ref())
            .map(|list| MemberRecord::take(&ctx.root, &ctx.target_dir, list));
        let saved = self.entry.as_ref().map(|e| e.members.as_ref());
        let changed = (record.as_ref())
            .is_some_and(|now| saved.flatten().is_none_or(|saved| !now.same_sources(saved)));
        if saved.is_none() || changed {
            let built_from = LockIdentity::read(&ctx.root.join(&ctx.plan.workspace.lockfile))?;
            let entry =
                (self.cache).save(&self.key, &ctx.target_dir, built_from, record.as_ref())?;
            let (files, dir) = (entry.files, entry.dir.display());
            eprintln!("deps cache: saved {files} files to {dir}");
        }
        Ok(())
    }
}
