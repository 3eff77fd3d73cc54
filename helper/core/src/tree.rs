//! Files and trees: the one directory-tree copier ([`copy_tree`]) and the
//! one record of a file's content ([`FileState`]).

use std::fs;
use std::io;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Copies `from` into `to` (keeping times, modes, links) but what `skip` is true for.
pub fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) -> io::Result<u64> {
    let at = |p: &Path| {
        let p = p.to_path_buf();
        move |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", p.display()))
    };
    let rel = |p: &Path| p.strip_prefix(from).expect("below `from`").to_path_buf();
    let (mut count, mut dirs) = (0, Vec::new());
    let walk = walkdir::WalkDir::new(from).into_iter();
    for entry in walk.filter_entry(|e| e.depth() == 0 || !skip(&rel(e.path()))) {
        let entry = entry?;
        let (s, d, kind) = (entry.path(), to.join(rel(entry.path())), entry.file_type());
        if kind.is_dir() {
            fs::create_dir_all(&d).map_err(at(&d))?;
            dirs.push((s.to_path_buf(), d));
            continue;
        } else if kind.is_symlink() {
            let link = fs::read_link(s).map_err(at(s))?;
            std::os::unix::fs::symlink(&link, &d).map_err(at(&d))?;
        } else {
            fs::copy(s, &d).map_err(at(&d))?;
            let modified = entry.metadata().map_err(io::Error::from);
            let modified = modified.and_then(|m| m.modified()).map_err(at(s))?;
            let file = fs::File::open(&d);
            file.and_then(|f| f.set_modified(modified))
                .map_err(at(&d))?;
        }
        count += 1;
    }
    // Directories last (creating files inside them moves their mtime);
    // their times are informative only, so a failure is no error.
    for (src, dst) in dirs.into_iter().rev() {
        if let Ok(modified) = fs::metadata(&src).and_then(|m| m.modified()) {
            let _ = fs::File::open(&dst).and_then(|f| f.set_modified(modified));
        }
    }
    Ok(count)
}

/// A file's size, content hash and modification time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Modification time (seconds, nanoseconds since the epoch).
    pub mtime: (i64, u32),
}

impl FileState {
    /// The file's state now; `None` if unreadable or changed while hashed.
    pub fn of(path: &Path) -> Option<FileState> {
        let before = fs::metadata(path).ok()?;
        let mut sha256 = Sha256::new();
        io::copy(&mut fs::File::open(path).ok()?, &mut sha256).ok()?;
        let after = fs::metadata(path).ok()?;
        let mtime = before.modified().ok()?;
        (after.modified().ok()? == mtime && after.len() == before.len()).then(|| FileState {
            size: before.len(),
            sha256: format!("{:x}", sha256.finalize()),
            mtime: time_pair(mtime),
        })
    }
}

/// Seconds and nanoseconds since the epoch (zero before it).
pub fn time_pair(t: SystemTime) -> (i64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    (secs, d.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn copies_files_links_and_times_and_skips() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("a/target")).unwrap();
        fs::write(src.join("a/f"), "x").unwrap();
        fs::write(src.join("a/target/big"), "y").unwrap();
        std::os::unix::fs::symlink("f", src.join("a/link")).unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let f = fs::File::open(src.join("a/f")).unwrap();
        f.set_modified(old).unwrap();
        let dst = tmp.path().join("dst");
        let n = copy_tree(&src, &dst, &|rel| rel.ends_with("target")).unwrap();
        assert_eq!(n, 2);
        assert_eq!(fs::read_to_string(dst.join("a/f")).unwrap(), "x");
        assert_eq!(
            fs::metadata(dst.join("a/f")).unwrap().modified().unwrap(),
            old
        );
        assert_eq!(fs::read_link(dst.join("a/link")).unwrap(), Path::new("f"));
        assert!(!dst.join("a/target").exists());
        let err = copy_tree(&tmp.path().join("none"), &dst, &|_| false).unwrap_err();
        assert!(err.to_string().contains("none"), "{err}");
    }

    #[test]
    fn file_state_hashes_the_content() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        fs::write(&f, "abc").unwrap();
        let state = FileState::of(&f).unwrap();
        assert_eq!(state.size, 3);
        assert_eq!(
            state.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(FileState::of(&tmp.path().join("none")), None);
    }
}
