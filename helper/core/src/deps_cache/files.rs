//! Copying and listing target directories, keeping mtimes.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::SystemTime;

use super::error::{io_err, Result};

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

/// Copies a directory tree, keeping modification times and permissions, and
/// recreating symlinks; skips cargo's lock files.
pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<usize> {
    let mut count = 0;
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
    let mut dirs = Vec::new();
    while let Some((src, dst)) = stack.pop() {
        fs::create_dir_all(&dst).map_err(io_err(&dst))?;
        dirs.push((src.clone(), dst.clone()));
        for entry in fs::read_dir(&src).map_err(io_err(&src))? {
            let entry = entry.map_err(io_err(&src))?;
            let name = entry.file_name();
            if SKIPPED.iter().any(|s| name == *s) {
                continue;
            }
            let s = entry.path();
            let d = dst.join(&name);
            let kind = entry.file_type().map_err(io_err(&s))?;
            if kind.is_dir() {
                stack.push((s, d));
            } else if kind.is_symlink() {
                let link = fs::read_link(&s).map_err(io_err(&s))?;
                symlink(&link, &d).map_err(io_err(&d))?;
                count += 1;
            } else {
                fs::copy(&s, &d).map_err(io_err(&d))?;
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .map_err(io_err(&s))?;
                set_mtime(&d, modified).map_err(io_err(&d))?;
                count += 1;
            }
        }
    }
    // Directories last (creating files inside them moves their mtime).
    for (src, dst) in dirs.into_iter().rev() {
        if let Ok(modified) = fs::metadata(&src).and_then(|m| m.modified()) {
            // Directory times are informative only; a failure is no error.
            let _ = set_mtime(&dst, modified);
        }
    }
    Ok(count)
}

pub(super) fn set_mtime(path: &Path, time: SystemTime) -> io::Result<()> {
    let file = fs::File::options()
        .write(true)
        .open(path)
        .or_else(|_| fs::File::open(path))?;
    file.set_modified(time)
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    fs::copy(target, link).map(|_| ())
}

/// Every saved file is there with its size; nothing is missing.
pub(super) fn verify(
    target: &Path,
    files: &BTreeMap<String, u64>,
) -> std::result::Result<(), String> {
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
