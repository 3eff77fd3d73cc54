//! Listing, checking and copying target directories, keeping mtimes.

use std::{collections::BTreeMap, path::Path};

use walkdir::WalkDir;

use crate::error::Error;

/// Files under `root` (relative, `/`-separated) with their sizes; symlinks have size 0.
pub(super) fn list_files(root: &Path) -> walkdir::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for entry in WalkDir::new(root) {
        let entry = entry?;
        let kind = entry.file_type();
        if !kind.is_dir() {
            let rel = entry.path().strip_prefix(root).expect("under the root");
            let size = if kind.is_symlink() {
                0
            } else {
                entry.metadata()?.len()
            };
            out.insert(rel.to_string_lossy().replace('\\', "/"), size);
        }
    }
    Ok(out)
}

/// Copies a tree ([`crate::tree::copy_tree`]) without cargo's lock files.
pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<usize, Error> {
    let skip = |rel: &Path| rel.file_name().is_some_and(|n| n == ".cargo-lock");
    crate::tree::copy_tree(from, to, &skip)
        .map(|n| n as usize)
        .map_err(|e| Error::io(from, e))
}

/// Every saved file is there with its size; nothing is missing.
pub(super) fn verify(target: &Path, files: &BTreeMap<String, u64>) -> Result<(), String> {
    let found = list_files(target).map_err(|e| format!("{}: {e}", target.display()))?;
    for (rel, size) in files {
        match found.get(rel) {
            None => return Err(format!("{rel} is missing")),
            Some(s) if s != size => return Err(format!("{rel} has {s} bytes, {size} when saved")),
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().find(|k| !files.contains_key(*k)) {
        return Err(format!("{extra} was not saved with the entry"));
    }
    Ok(())
}
