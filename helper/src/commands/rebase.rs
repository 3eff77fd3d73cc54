//! `cargo buildplan rebase [--check]`: refresh nix/base.lock from
//! Cargo.lock, or check that it still fits.

use std::path::Path;

use anyhow::Context;

use super::cache::BASE_LOCK;
use buildplan::base_lock::{members, misfits};
use buildplan::error::Outcome;

/// Copies Cargo.lock to nix/base.lock (atomically), or with `check` exits 1
/// when the base lock is missing or no longer fits.
pub fn run(manifest_path: Option<&Path>, check: bool) -> anyhow::Result<Outcome> {
    let say = |line: &str| eprintln!("cargo-buildplan rebase: {line}");
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
    if !check {
        let wrote = buildplan::output::write_atomic(&base_path, &lock)?;
        say(&if wrote {
            format!("wrote {BASE_LOCK} from Cargo.lock")
        } else {
            format!("{BASE_LOCK} is already Cargo.lock")
        });
        return Ok(Outcome::Success);
    }
    let Ok(base) = std::fs::read_to_string(&base_path) else {
        say(&format!(
            "{BASE_LOCK} is missing; run `cargo buildplan rebase`"
        ));
        return Ok(Outcome::Failed);
    };
    let why = misfits(&members(&base, BASE_LOCK)?, &current);
    if why.is_empty() {
        say(&format!("{BASE_LOCK} fits the workspace"));
        return Ok(Outcome::Success);
    }
    for line in &why {
        say(&format!("{BASE_LOCK}: {line}"));
    }
    say(&format!(
        "{BASE_LOCK} no longer fits; run `cargo buildplan rebase` and commit it"
    ));
    Ok(Outcome::Failed)
}
