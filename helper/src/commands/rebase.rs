//! `cargo buildplan rebase [--check]`: refresh nix/base.lock from
//! Cargo.lock, or check that it still fits.

use std::path::Path;

use anyhow::Context;

use super::cache::BASE_LOCK;
use crate::cli::RebaseArgs;
use buildplan::base_lock::{members, misfits};
use buildplan::error::Outcome;

/// Copies Cargo.lock to nix/base.lock (atomically: a temporary file in
/// nix/, renamed into place), or with `--check` exits 1 when the base lock
/// is missing or no longer fits.
pub fn run(manifest_path: Option<&Path>, args: &RebaseArgs) -> anyhow::Result<Outcome> {
    let ctx = buildplan::build::load_context(manifest_path)?;
    let lock_path = ctx.root.join(&ctx.plan.workspace.lockfile);
    let base_path = ctx.root.join(BASE_LOCK);
    let lock = std::fs::read_to_string(&lock_path).with_context(|| {
        format!(
            "cannot read {} (`cargo generate-lockfile` writes one)",
            lock_path.display()
        )
    })?;
    let current = members(&lock, &lock_path.display().to_string())?;
    if args.check {
        let Ok(base) = std::fs::read_to_string(&base_path) else {
            eprintln!(
                "cargo-buildplan rebase: {BASE_LOCK} is missing; run `cargo buildplan rebase`"
            );
            return Ok(Outcome::Failed);
        };
        let why = misfits(&members(&base, BASE_LOCK)?, &current);
        if why.is_empty() {
            eprintln!("cargo-buildplan rebase: {BASE_LOCK} fits the workspace");
            return Ok(Outcome::Success);
        }
        for line in &why {
            eprintln!("cargo-buildplan rebase: {BASE_LOCK}: {line}");
        }
        eprintln!("cargo-buildplan rebase: {BASE_LOCK} no longer fits; run `cargo buildplan rebase` and commit it");
        return Ok(Outcome::Failed);
    }
    if std::fs::read_to_string(&base_path).is_ok_and(|b| b == lock) {
        eprintln!("cargo-buildplan rebase: {BASE_LOCK} is already Cargo.lock");
        return Ok(Outcome::Success);
    }
    let dir = base_path.parent().expect("nix/base.lock has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, lock.as_bytes())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.persist(&base_path)
        .with_context(|| format!("cannot write {}", base_path.display()))?;
    eprintln!("cargo-buildplan rebase: wrote {BASE_LOCK} from Cargo.lock");
    Ok(Outcome::Success)
}
