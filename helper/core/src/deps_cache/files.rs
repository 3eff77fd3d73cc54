//! Copying and listing target directories, keeping mtimes.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use crate::error::Error;

/// Files cargo recreates and that must not travel between directories.
const SKIPPED: &[&str] = &[".cargo-lock"];

/// Regular files under `root` (relative, `/`-separated) with their sizes;
/// symlinks count with size 0.
pub(super) fn list_files(root: &Path) -> io::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_symlink() {
                out.insert(rel, 0);
            } else {
                out.insert(rel, entry.metadata()?.len());
            }
        }
    }
    Ok(out)
}

/// Copies a directory tree ([`crate::tree::copy_tree`]: modification
/// times, permissions, symlinks); skips cargo's lock files.
pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<usize, Error> {
    let skip = |rel: &Path| {
        rel.file_name()
            .is_some_and(|n| SKIPPED.iter().any(|s| n == *s))
    };
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
