//! The benchmark's copy of the workspace, and the source edits made in it.
//!
//! The user's tree is never touched: it is copied (without `target/` and
//! `.git/`) into the work directory, and every edit happens in the copy.

mod edit;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

pub use edit::{edit_target, most_depended_upon, EditTarget, SourceEdit};

/// Copies the workspace at `src` into `dst` (created; must not exist),
/// leaving out `.git` directories and the top-level `target` directory, plus
/// `extra_excluded` (e.g. a custom target dir inside the workspace). Files
/// keep their modification times. Returns the files and symlinks copied.
pub fn copy_workspace(src: &Path, dst: &Path, extra_excluded: &[PathBuf]) -> anyhow::Result<u64> {
    if dst.exists() {
        bail!("{} already exists", dst.display());
    }
    let excluded: Vec<PathBuf> = extra_excluded
        .iter()
        .filter_map(|p| p.strip_prefix(src).ok().map(Path::to_path_buf))
        .collect();
    let skip = |rel: &Path| {
        rel.ends_with(".git") || rel == Path::new("target") || excluded.iter().any(|e| e == rel)
    };
    // Files keep their modification times: cargo's fingerprints compare
    // mtimes, so a fresh copy of an unchanged tree in the same work
    // directory finds its earlier build up to date.
    buildplan::tree::copy_tree(src, dst, &skip)
        .with_context(|| format!("copying {}", src.display()))
}

/// Copies the workspace at `src` into `dst` (created; must not exist) as a
/// checkout does: every file gets a new modification time (the pull-request
/// scenarios). Leaves out `.git` and the top-level `target`.
pub fn checkout(src: &Path, dst: &Path) -> anyhow::Result<u64> {
    if dst.exists() {
        bail!("{} already exists", dst.display());
    }
    let mut files = 0;
    let walk = walkdir::WalkDir::new(src).into_iter().filter_entry(|e| {
        let rel = e.path().strip_prefix(src).unwrap_or(e.path());
        !(rel.ends_with(".git") || rel == Path::new("target"))
    });
    for entry in walk {
        let entry = entry.with_context(|| format!("walking {}", src.display()))?;
        let to = dst.join(entry.path().strip_prefix(src)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to)?;
        } else if entry.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &to)?;
        } else {
            std::fs::copy(entry.path(), &to)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            files += 1;
        }
    }
    Ok(files)
}

/// What [`sync_workspace`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Files written because they were new or different.
    pub written: u64,
    /// Files left alone because they were identical.
    pub kept: u64,
    /// Files and directories removed because the source no longer has them.
    pub removed: u64,
}

/// Brings an earlier copy made by [`copy_workspace`] up to date with `src`,
/// so that a re-run can reuse the builds in its target directories:
/// identical files are left alone (keeping their modification times, so
/// cargo finds them unchanged), new or different files are written now
/// (so cargo rebuilds what uses them; this includes files an earlier run
/// edited and restored), and files the source no longer has are removed.
/// `keep` names top-level entries of `dst` that belong to the benchmark.
pub fn sync_workspace(
    src: &Path,
    dst: &Path,
    extra_excluded: &[PathBuf],
    keep: &[&str],
) -> anyhow::Result<SyncStats> {
    let mut stats = SyncStats::default();
    let mut wanted = std::collections::HashSet::new();
    for entry in walk(src, extra_excluded) {
        let entry = entry.with_context(|| format!("walking {}", src.display()))?;
        let rel = entry.path().strip_prefix(src)?.to_path_buf();
        if rel.as_os_str().is_empty() {
            continue;
        }
        let to = dst.join(&rel);
        wanted.insert(rel);
        let kind = entry.file_type();
        let existing = std::fs::symlink_metadata(&to).ok();
        if kind.is_dir() {
            if existing.as_ref().is_some_and(|m| !m.is_dir()) {
                std::fs::remove_file(&to)?;
            }
            std::fs::create_dir_all(&to)?;
            continue;
        }
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&to)?;
        }
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path())?;
            if std::fs::read_link(&to).is_ok_and(|l| l == link) {
                stats.kept += 1;
                continue;
            }
            let _ = std::fs::remove_file(&to);
            std::os::unix::fs::symlink(&link, &to)
                .with_context(|| format!("creating symlink {}", to.display()))?;
            stats.written += 1;
        } else {
            let same = existing.as_ref().is_some_and(|m| m.is_file())
                && std::fs::read(entry.path())? == std::fs::read(&to)?;
            if same {
                stats.kept += 1;
                continue;
            }
            if existing.as_ref().is_some_and(|m| !m.is_file()) {
                std::fs::remove_file(&to)?;
            }
            std::fs::copy(entry.path(), &to)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            stats.written += 1;
        }
    }
    // Remove what the source no longer has (deepest first).
    let mut stale = Vec::new();
    for entry in walkdir::WalkDir::new(dst).min_depth(1).contents_first(true) {
        let entry = entry?;
        let rel = entry.path().strip_prefix(dst)?;
        let top = rel.components().next().map(|c| c.as_os_str());
        if top.is_some_and(|t| keep.iter().any(|k| t == *k)) || wanted.contains(rel) {
            continue;
        }
        stale.push((entry.path().to_path_buf(), entry.file_type().is_dir()));
    }
    for (path, is_dir) in stale {
        if is_dir {
            std::fs::remove_dir(&path).with_context(|| format!("removing {}", path.display()))?;
        } else {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
        stats.removed += 1;
    }
    Ok(stats)
}

/// The source tree, without `.git`, the top-level `target` and `excluded`.
fn walk<'a>(
    src: &Path,
    excluded: &'a [PathBuf],
) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> + 'a {
    walkdir::WalkDir::new(src)
        .follow_links(false)
        .into_iter()
        .filter_entry(move |e| {
            let name = e.file_name();
            let top_target = e.depth() == 1 && name == "target";
            !(top_target || name == ".git" || excluded.iter().any(|x| x == e.path()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_leaves_out_target_and_git() {
        let src = tempfile::tempdir().unwrap();
        let s = src.path();
        for dir in ["target/debug", ".git", "crates/a/src", "crates/a/target"] {
            std::fs::create_dir_all(s.join(dir)).unwrap();
        }
        std::fs::write(s.join("Cargo.toml"), "[workspace]\n").unwrap();
        std::fs::write(s.join("target/debug/big"), "x").unwrap();
        std::fs::write(s.join(".git/HEAD"), "x").unwrap();
        std::fs::write(s.join("crates/a/src/lib.rs"), "//! a\n").unwrap();
        std::fs::write(s.join("crates/a/target/keep"), "x").unwrap();
        std::os::unix::fs::symlink("lib.rs", s.join("crates/a/src/link.rs")).unwrap();
        let dst = tempfile::tempdir().unwrap();
        let to = dst.path().join("copy");
        let files = copy_workspace(s, &to, &[]).unwrap();
        assert_eq!(files, 4, "three files and the symlink");
        assert!(to.join("Cargo.toml").is_file());
        assert!(to.join("crates/a/src/lib.rs").is_file());
        assert!(
            to.join("crates/a/target/keep").is_file(),
            "only the top-level target/ is skipped"
        );
        assert!(!to.join("target").exists());
        assert!(!to.join(".git").exists());
        assert_eq!(
            std::fs::read_link(to.join("crates/a/src/link.rs")).unwrap(),
            Path::new("lib.rs")
        );
        assert_eq!(
            std::fs::metadata(to.join("crates/a/src/lib.rs"))
                .unwrap()
                .modified()
                .unwrap(),
            std::fs::metadata(s.join("crates/a/src/lib.rs"))
                .unwrap()
                .modified()
                .unwrap(),
            "mtimes are kept"
        );
        assert!(copy_workspace(s, &to, &[]).is_err(), "refuses to overwrite");
    }

    #[test]
    fn sync_keeps_identical_files_and_refreshes_the_rest() {
        let src = tempfile::tempdir().unwrap();
        let s = src.path();
        std::fs::create_dir_all(s.join("a/src")).unwrap();
        std::fs::create_dir_all(s.join("gone/deep")).unwrap();
        std::fs::write(s.join("a/src/lib.rs"), "same").unwrap();
        std::fs::write(s.join("a/src/edited.rs"), "original").unwrap();
        std::fs::write(s.join("gone/deep/x.rs"), "x").unwrap();
        let dst = tempfile::tempdir().unwrap();
        let to = dst.path().join("copy");
        copy_workspace(s, &to, &[]).unwrap();
        std::fs::write(to.join("MARK"), "ours").unwrap();
        let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
        let kept_mtime = mtime(&to.join("a/src/lib.rs"));

        // An earlier run edited and restored a file: same content, newer
        // mtime; the source changed another file and dropped a directory.
        std::fs::write(to.join("a/src/edited.rs"), "original").unwrap();
        std::fs::write(s.join("a/src/new.rs"), "new").unwrap();
        std::fs::remove_dir_all(s.join("gone")).unwrap();
        std::fs::write(s.join("a/src/lib.rs"), "same").unwrap();
        let stats = sync_workspace(s, &to, &[], &["MARK"]).unwrap();
        assert_eq!(stats.written, 1, "{stats:?}");
        assert_eq!(stats.removed, 3, "{stats:?}");
        assert_eq!(
            std::fs::read_to_string(to.join("a/src/new.rs")).unwrap(),
            "new"
        );
        assert!(!to.join("gone").exists());
        assert!(to.join("MARK").exists(), "the benchmark's own files stay");
        assert_eq!(
            mtime(&to.join("a/src/lib.rs")),
            kept_mtime,
            "identical files are not touched"
        );

        std::fs::write(s.join("a/src/lib.rs"), "changed").unwrap();
        let stats = sync_workspace(s, &to, &[], &["MARK"]).unwrap();
        assert_eq!((stats.written, stats.removed), (1, 0), "{stats:?}");
        assert_eq!(
            std::fs::read_to_string(to.join("a/src/lib.rs")).unwrap(),
            "changed"
        );
    }
}
