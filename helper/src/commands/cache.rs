//! `build --deps-cache DIR`: the cache key of one build, the restore before
//! it and the save after it (the storage is [`buildplan::deps_cache`]; the
//! contract is docs/deps-cache.md).

use std::path::{Path, PathBuf};

use buildplan::build::{PlanContext, Selection};
use buildplan::deps_cache::members::{self, Member, MemberRecord};
use buildplan::deps_cache::{self, CacheKey, DepsCache, LockIdentity, Lookup};
use buildplan::error::Error;
use buildplan::exec::CargoCommand;

/// The base lock, relative to the workspace root (the Nix base layer's).
pub const BASE_LOCK: &str = "nix/base.lock";

/// A build's cache, looked up before the build.
pub struct Prepared {
    cache: DepsCache,
    key: CacheKey,
    /// Whether to save after a successful build (no usable entry existed).
    save: bool,
    /// With `--members`: the members, and the entry's record if it has one.
    members: Option<(Vec<Member>, Option<MemberRecord>)>,
}

/// The key of the build `sel` runs as `cmd`: toolchain, target, profile,
/// variant, the dependency build's cargo invocations with the build's
/// `--config` values and RUSTFLAGS variables, the members, the base lock.
fn key(ctx: &PlanContext, sel: &Selection<'_>, cmd: &CargoCommand) -> Result<CacheKey, Error> {
    let plan = &ctx.plan;
    let rustc = buildplan::exec::rustc_program();
    let target = plan.target(sel.target)?;
    let mut settings: Vec<String> = cmd
        .args
        .windows(2)
        .filter(|w| w[0] == "--config")
        .map(|w| format!("--config={}", w[1]))
        .collect();
    settings.extend(
        cmd.env
            .iter()
            .filter(|(k, _)| k.contains("RUSTFLAGS"))
            .map(|(k, v)| format!("{k}={v}")),
    );
    let cargo_args = plan
        .variant(sel.variant)?
        .deps_cargo_args
        .iter()
        .map(|args| args.iter().chain(&settings).cloned().collect())
        .collect();
    let base = ctx.root.join(BASE_LOCK);
    let base_lock = if base.is_file() {
        LockIdentity::read(&base)?
    } else {
        eprintln!(
            "deps cache: no {BASE_LOCK}; Cargo.lock is the base (`cargo buildplan rebase` writes one)"
        );
        LockIdentity::read(&ctx.root.join(&plan.workspace.lockfile))?
    };
    Ok(CacheKey {
        toolchain: deps_cache::toolchain(Path::new(&rustc))?,
        target: format!(
            "{} {}",
            sel.target,
            target.triple.as_deref().unwrap_or("host")
        ),
        profile: sel.profile.to_string(),
        variant: sel.variant.to_string(),
        cargo_args,
        members: plan.packages.keys().cloned().collect(),
        base_lock,
    })
}

/// Looks the build's key up in `dir` and, on a hit, restores the entry into
/// the (empty) target directory, unless `dry_run`. Prints one line saying
/// what happened and why.
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
    let empty = std::fs::read_dir(&ctx.target_dir).map_or(true, |mut d| d.next().is_none());
    let (save, record) = match &lookup {
        Lookup::Hit(entry) => (false, entry.members.clone()),
        Lookup::Miss(_) => (true, None),
    };
    let members = keep_members
        .then(|| members::workspace_members(&ctx.root))
        .transpose()?
        .map(|list| (list, record));
    match lookup {
        _ if !empty => eprintln!(
            "deps cache: {} is not empty; building from it as it is (the cache is not read)",
            ctx.target_dir.display()
        ),
        Lookup::Hit(_) if dry_run => eprintln!(
            "deps cache: an entry matches; a real build restores it into {}",
            ctx.target_dir.display()
        ),
        Lookup::Hit(entry) => {
            let files = cache.restore(&entry, &ctx.target_dir)?;
            let current = LockIdentity::read(&ctx.root.join(&ctx.plan.workspace.lockfile))?;
            eprintln!(
                "deps cache: restored {files} files built from {} ({} packages differ from Cargo.lock)",
                entry.dir.display(),
                current.not_in(&entry.built_from).len()
            );
            if keep_members {
                apply_members(&ctx.root, entry.members.as_ref());
            }
        }
        Lookup::Miss(why) => eprintln!("{why}"),
    }
    Ok(Prepared {
        cache,
        key,
        save,
        members,
    })
}

/// Gives the unchanged member sources their recorded mtimes; one line.
fn apply_members(root: &Path, record: Option<&MemberRecord>) {
    let Some(record) = record else {
        eprintln!("deps cache: members: the entry has no member record (saved without --members); every member compiles");
        return;
    };
    let applied = record.apply(root);
    if let Some(why) = applied.skipped {
        eprintln!("deps cache: members: not restored: {why}; every member compiles");
        return;
    }
    let mut line = format!(
        "deps cache: members: {} unchanged source files given their recorded mtimes, {} changed, {} gone",
        applied.restored,
        applied.changed.len(),
        applied.missing.len()
    );
    if applied.held > 0 {
        line.push_str(&format!(
            "; {} left new: the checkout moved from {} and their members read files outside their directories",
            applied.held,
            record.root.display()
        ));
    }
    eprintln!("{line}");
}

impl Prepared {
    /// After a successful build: saves the target directory as the entry
    /// for the key when no usable entry existed or, with `--members`, when
    /// the members' sources differ from the entry's (atomically). Returns the
    /// entry's directory when saved.
    pub fn save(&self, ctx: &PlanContext) -> Result<Option<PathBuf>, Error> {
        let record = self.members.as_ref().map(|(list, _)| {
            MemberRecord::take(&ctx.root, &ctx.target_dir, list, |m| {
                members::package_files(&m.dir)
            })
        });
        let changed = match (&record, &self.members) {
            (Some(now), Some((_, saved))) => saved.as_ref().is_none_or(|s| !now.same_sources(s)),
            _ => false,
        };
        if !self.save && !changed {
            return Ok(None);
        }
        let built_from = LockIdentity::read(&ctx.root.join(&ctx.plan.workspace.lockfile))?;
        let entry = self
            .cache
            .save(&self.key, &ctx.target_dir, built_from, record.as_ref())?;
        eprintln!(
            "deps cache: saved {} files to {}",
            entry.files,
            entry.dir.display()
        );
        Ok(Some(entry.dir))
    }
}
