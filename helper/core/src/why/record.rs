//! A record of source contents, to tell a touch from an edit.
//!
//! cargo (stable) decides freshness by modification time alone: an edited
//! file and a touched one both give "the file `…` has changed". To tell
//! them apart, `why` records after every build it runs the SHA-256 of each
//! file in the dep-info files (`*.d`) of the build directory, with the
//! file's mtime and the time of hashing, in
//! `<build-dir>/buildplan-why/sources.json`. For a later changed file
//! whose unit's dep-info is dated `reference` (cargo dates it when the
//! unit's compilation started), a record is usable only if the recorded
//! mtime is not after `reference` and the hashing happened after it: then
//! the recorded content is the content that compilation read. Same hash
//! now: a touch. Otherwise, or without a record: an edit, or unknown.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dep_info::{split_rule, split_words};

/// File name of the record, under the build directory.
pub const RECORD: &str = "buildplan-why/sources.json";

/// One file's recorded state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Size in bytes.
    pub size: u64,
    /// Modification time (seconds, nanoseconds since the epoch).
    pub mtime: (i64, u32),
    /// When the hash was taken.
    pub hashed_at: (i64, u32),
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// Recorded source files by absolute path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Files by absolute path.
    pub files: BTreeMap<PathBuf, FileRecord>,
}

fn time_pair(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(_) => (0, 0),
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The inputs listed by the make-style dep-info files under `build_dir`
/// (both layouts: [`crate::layout::dep_info_files`]), relative ones
/// resolved against `workspace_root` (rustc runs there and writes member
/// paths relative to it).
pub fn dep_info_inputs(build_dir: &Path, workspace_root: &Path) -> Vec<PathBuf> {
    let mut inputs = std::collections::BTreeSet::new();
    let files = crate::layout::profile_dirs(build_dir)
        .iter()
        .flat_map(|p| crate::layout::dep_info_files(p))
        .collect::<Vec<_>>();
    for text in files.iter().filter_map(|p| fs::read_to_string(p).ok()) {
        for line in text.lines() {
            // `output: input input…`; the inputs repeat as `input:` rules.
            let Some((_, deps)) = split_rule(line) else {
                continue;
            };
            for dep in split_words(deps).into_iter().map(PathBuf::from) {
                inputs.insert(if dep.is_absolute() {
                    dep
                } else {
                    workspace_root.join(dep)
                });
            }
        }
    }
    inputs.into_iter().collect()
}

impl SourceRecord {
    /// Reads the record of `build_dir`; none (or an unreadable one) is empty.
    pub fn load(build_dir: &Path) -> SourceRecord {
        fs::read_to_string(build_dir.join(RECORD))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Records `paths` now: unchanged files (same size and mtime as
    /// recorded) keep their hash and time of hashing; others are hashed.
    /// Files that cannot be read are left out.
    pub fn update(&mut self, paths: &[PathBuf]) {
        let mut files = BTreeMap::new();
        for p in paths {
            let Ok(meta) = fs::metadata(p) else { continue };
            let Ok(modified) = meta.modified() else {
                continue;
            };
            let mtime = time_pair(modified);
            if let Some(old) = self.files.get(p) {
                if old.size == meta.len() && old.mtime == mtime {
                    files.insert(p.clone(), old.clone());
                    continue;
                }
            }
            let hashed_at = time_pair(SystemTime::now());
            let Ok(sha256) = sha256_file(p) else { continue };
            files.insert(
                p.clone(),
                FileRecord {
                    size: meta.len(),
                    mtime,
                    hashed_at,
                    sha256,
                },
            );
        }
        self.files = files;
    }

    /// Writes the record under `build_dir`.
    pub fn save(&self, build_dir: &Path) -> std::io::Result<()> {
        let path = build_dir.join(RECORD);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        fs::write(path, text)
    }

    /// Whether `path` now has the content the unit compiled at `reference`
    /// read; `None` when the record cannot tell (see the module docs).
    pub fn same_content(&self, path: &Path, reference: Option<(i64, u32)>) -> Option<bool> {
        let rec = self.files.get(path)?;
        let reference = reference?;
        if rec.mtime > reference || rec.hashed_at < reference {
            return None;
        }
        let now = sha256_file(path).ok()?;
        Some(now == rec.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_or_edit() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.rs");
        fs::write(&f, "fn a() {}").unwrap();
        let mut rec = SourceRecord::default();
        rec.update(std::slice::from_ref(&f));
        let r = rec.files[&f].clone();
        // The unit's compilation started after the file was written and
        // before it was hashed.
        let reference = Some(r.mtime);
        assert_eq!(rec.same_content(&f, reference), Some(true));
        fs::write(&f, "fn a() { 1; }").unwrap();
        assert_eq!(rec.same_content(&f, reference), Some(false));
        // A compilation after the hashing: the record says nothing about it.
        let later = Some((r.hashed_at.0 + 10, 0));
        assert_eq!(rec.same_content(&f, later), None);
        assert_eq!(rec.same_content(&dir.path().join("b.rs"), reference), None);
    }
}
