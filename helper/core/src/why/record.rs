//! Where a build's files are ([`BuildDirs`]), and a record of source contents to tell a touch
//! from an edit ([`SourceRecord`]; docs/helper-notes.md, "Touch or edit").

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use cargo_metadata::Metadata;
use serde::{Deserialize, Serialize};

use super::fingerprint::Snapshot;
use crate::dep_info::normalize;
use crate::tree::{time_pair, FileState};

/// File name of the record, under the build directory.
pub const RECORD: &str = "buildplan-why/sources.json";

/// One file's recorded state, and when it was hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Size, SHA-256 and mtime.
    #[serde(flatten)]
    pub state: FileState,
    /// When the hash was taken (seconds, nanoseconds since the epoch).
    pub hashed_at: (i64, u32),
}

/// Each source file's state after the builds `why` ran, by absolute path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Files by absolute path.
    pub files: BTreeMap<PathBuf, FileRecord>,
}

impl SourceRecord {
    /// Records the readable `paths` now, hashing those whose size or mtime changed.
    pub fn update(&mut self, paths: impl IntoIterator<Item = PathBuf>) {
        let old = std::mem::take(&mut self.files);
        for p in paths.into_iter().collect::<BTreeSet<_>>() {
            let Ok(now) = fs::metadata(&p) else { continue };
            let now = (now.len(), now.modified().ok().map(time_pair));
            let record = match old
                .get(&p)
                .filter(|r| (r.state.size, Some(r.state.mtime)) == now)
            {
                Some(unchanged) => unchanged.clone(),
                None => {
                    let hashed_at = time_pair(SystemTime::now());
                    let Some(state) = FileState::of(&p) else {
                        continue;
                    };
                    FileRecord { state, hashed_at }
                }
            };
            self.files.insert(p, record);
        }
    }

    /// Whether `path` has the content a compilation started at `reference` read, when known.
    pub fn same_content(&self, path: &Path, reference: Option<(i64, u32)>) -> Option<bool> {
        let (rec, reference) = (self.files.get(path)?, reference?);
        if rec.state.mtime > reference || rec.hashed_at < reference {
            return None;
        }
        Some(FileState::of(path)?.sha256 == rec.state.sha256)
    }
}

/// Where the build's files are, what existed before it, and the record.
#[derive(Debug, Clone, Default)]
pub struct BuildDirs {
    /// The workspace root, when known (cargo names files relative to it).
    pub workspace_root: Option<PathBuf>,
    /// cargo's target directory, when known.
    pub target_dir: Option<PathBuf>,
    /// cargo's build directory (fingerprints, dep-info), when known.
    pub build_dir: Option<PathBuf>,
    /// The fingerprint directories before the build ([`super::run`]).
    pub before: Option<Snapshot>,
    /// Recorded source contents (empty: touches cannot be told from edits).
    pub record: SourceRecord,
}

impl BuildDirs {
    /// The directories of `meta`'s workspace (both `target_dir` if given).
    pub fn new(meta: Metadata, target_dir: Option<PathBuf>) -> BuildDirs {
        let target = target_dir.clone().unwrap_or(meta.target_directory.into());
        let build = target_dir.or(meta.build_directory.map(Into::into));
        let build = build.unwrap_or_else(|| target.clone());
        // No record (or an unreadable one) is an empty one.
        let record = fs::read_to_string(build.join(RECORD)).unwrap_or_default();
        BuildDirs {
            workspace_root: Some(meta.workspace_root.into()),
            target_dir: Some(target),
            record: serde_json::from_str(&record).unwrap_or_default(),
            build_dir: Some(build),
            before: None,
        }
    }

    /// The file cargo names (relative to the workspace root when inside it).
    pub fn path(&self, shown: &str) -> PathBuf {
        normalize(&self.workspace_root.clone().unwrap_or_default().join(shown))
    }

    /// Whether `path` is in the target or build directory (or a `target`).
    pub fn is_output(&self, path: &Path) -> bool {
        let mut known = self.target_dir.iter().chain(&self.build_dir).peekable();
        if known.peek().is_none() {
            return path.components().any(|c| c.as_os_str() == "target");
        }
        known.any(|d| path.starts_with(d))
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
        rec.update([f.clone(), f.clone()]);
        let r = rec.files[&f].clone();
        // Unchanged since: kept as recorded, not hashed again.
        let mut again = rec.clone();
        again.update([f.clone()]);
        assert_eq!(again.files[&f], r);
        // The unit's compilation started after the file was written and
        // before it was hashed.
        let reference = Some(r.state.mtime);
        assert_eq!(rec.same_content(&f, reference), Some(true));
        fs::write(&f, "fn a() { 1; }").unwrap();
        assert_eq!(rec.same_content(&f, reference), Some(false));
        // A compilation after the hashing: the record says nothing about it.
        let later = Some((r.hashed_at.0 + 10, 0));
        assert_eq!(rec.same_content(&f, later), None);
        assert_eq!(rec.same_content(&dir.path().join("b.rs"), reference), None);
    }
}
