//! The entries of a cache directory: lookup (or why none is used), restore,
//! atomic save.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::files::{copy_tree, list_files, verify};
use super::key::{CacheKey, LockIdentity};
use super::members::{MemberRecord, RECORD};
use crate::error::Error;

/// Version of the entry format; entries of another format are ignored.
const FORMAT: u32 = 1;
/// Name of the manifest file in each entry directory.
const MANIFEST: &str = "buildplan-deps-cache.json";
/// The saved target directory inside an entry.
const TARGET: &str = "target";

/// What an entry's manifest holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    key: CacheKey,
    /// The lock the saved target directory was built from (the base lock, or
    /// a later one when the cache was seeded by a build of a bumped lock).
    built_from: LockIdentity,
    /// Every saved file, relative to the target dir, with its size.
    files: BTreeMap<String, u64>,
}

/// A usable cache entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The entry's directory.
    pub dir: PathBuf,
    /// Its saved target directory.
    pub target: PathBuf,
    /// The lock the artifacts were built from.
    pub built_from: LockIdentity,
    /// Number of saved files.
    pub files: usize,
    /// The members' sources as built, when saved with them.
    pub members: Option<MemberRecord>,
}

/// Why no entry is used; each prints as one line starting with `deps cache`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Miss {
    /// No entry for this key, and none that says more.
    #[error("deps cache: no saved dependency artifacts for this build; building from scratch")]
    Empty,
    /// Entries exist for this workspace, but none for this key; `differs`
    /// names what differs from the closest one (e.g. `toolchain`).
    #[error("deps cache: the saved dependency artifacts are stale ({} differ); ignored, building from scratch", .differs.join(", "))]
    Stale {
        /// The fields in which the closest entry differs.
        differs: Vec<&'static str>,
    },
    /// The entries there were made for another workspace.
    #[error("deps cache: the cache belongs to another workspace (members {}); ignored, building from scratch", .theirs.join(", "))]
    Foreign {
        /// Their members.
        theirs: Vec<String>,
    },
    /// The entry for this key cannot be trusted.
    #[error("deps cache: {} is corrupt ({reason}); ignored, building from scratch", .dir.display())]
    Corrupt {
        /// The entry.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// A cache directory holding one entry per key.
#[derive(Debug, Clone)]
pub struct DepsCache {
    dir: PathBuf,
}

impl DepsCache {
    /// The cache at `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DepsCache { dir: dir.into() }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `key`, checked (manifest, format, the full key, every
    /// saved file's presence and size), or why there is none usable.
    pub fn lookup(&self, key: &CacheKey) -> Result<Entry, Miss> {
        let dir = self.dir.join(key.id());
        if !dir.is_dir() {
            return Err(self.why_missing(key));
        }
        let corrupt = |reason| Miss::Corrupt {
            dir: dir.clone(),
            reason,
        };
        let manifest = read_manifest(&dir).map_err(corrupt)?;
        if manifest.format != FORMAT {
            let format = manifest.format;
            return Err(corrupt(format!(
                "entry format {format}, this helper reads {FORMAT}"
            )));
        }
        if manifest.key != *key {
            return Err(mismatch(manifest.key, key));
        }
        let target = dir.join(TARGET);
        verify(&target, &manifest.files).map_err(corrupt)?;
        Ok(Entry {
            members: read_json(&dir, RECORD).map_err(corrupt)?,
            dir,
            target,
            built_from: manifest.built_from,
            files: manifest.files.len(),
        })
    }

    /// Why there is no entry for `key`: the closest other entry's story.
    fn why_missing(&self, key: &CacheKey) -> Miss {
        let entries = fs::read_dir(&self.dir).into_iter().flatten().flatten();
        let manifests = entries.filter_map(|e| read_manifest(&e.path()).ok());
        let misses = manifests.map(|m| mismatch(m.key, key));
        let stale_first = |m: &Miss| match m {
            Miss::Stale { differs } => differs.len(),
            _ => usize::MAX,
        };
        misses.min_by_key(stale_first).unwrap_or(Miss::Empty)
    }

    /// Copies `entry`'s target directory to `target_dir` (missing or empty),
    /// keeping mtimes and permissions; returns the number of files copied.
    pub fn restore(&self, entry: &Entry, target_dir: &Path) -> Result<usize, Error> {
        if fs::read_dir(target_dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(Error::invalid(format!(
                "{}: not empty; a cache is restored only into an empty target directory",
                target_dir.display()
            )));
        }
        copy_tree(&entry.target, target_dir)
    }

    /// Saves `target_dir` (built from the lock `built_from`, with the member
    /// record `members`, if kept) as the entry for `key`, replacing any.
    pub fn save(
        &self,
        key: &CacheKey,
        target_dir: &Path,
        built_from: LockIdentity,
        members: Option<&MemberRecord>,
    ) -> Result<Entry, Error> {
        let id = key.id();
        let tmp = self
            .dir
            .join(format!(".saving-{id}-{}", std::process::id()));
        remove_dir(&tmp)?;
        let saved = tmp.join(TARGET);
        copy_tree(target_dir, &saved)?;
        let manifest = Manifest {
            format: FORMAT,
            key: key.clone(),
            built_from: built_from.clone(),
            files: list_files(&saved).map_err(|e| Error::io(&saved, e))?,
        };
        let write = |name: &str, json: serde_json::Result<Vec<u8>>| {
            let path = tmp.join(name);
            fs::write(&path, json.expect("serializes")).map_err(|e| Error::io(&path, e))
        };
        if let Some(record) = members {
            write(RECORD, serde_json::to_vec(record))?;
        }
        write(MANIFEST, serde_json::to_vec_pretty(&manifest))?;
        let dir = self.dir.join(&id);
        remove_dir(&dir)?;
        fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Entry {
            target: dir.join(TARGET),
            dir,
            built_from,
            files: manifest.files.len(),
            members: members.cloned(),
        })
    }
}

/// Removes the directory `dir` if it exists.
fn remove_dir(dir: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(dir, e)),
        _ => Ok(()),
    }
}

/// Why an entry made for `theirs` does not serve `key`.
fn mismatch(theirs: CacheKey, key: &CacheKey) -> Miss {
    let differs = theirs.differences(key);
    if differs.contains(&"workspace members") {
        Miss::Foreign {
            theirs: theirs.members,
        }
    } else {
        Miss::Stale { differs }
    }
}

/// The JSON file `name` in the entry `dir`; `Ok(None)` when there is none.
fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, String> {
    let path = dir.join(name);
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| at(&e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(at(&e)),
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    read_json(dir, MANIFEST)?.ok_or_else(|| format!("no {MANIFEST}: an unfinished save"))
}

#[cfg(test)]
mod tests {
    use super::super::key::sample::{key, LOCK};
    use super::*;

    fn target_dir(root: &Path) -> PathBuf {
        let t = root.join("target");
        fs::create_dir_all(t.join("release/deps")).unwrap();
        fs::create_dir_all(t.join("release/.fingerprint/itoa-1")).unwrap();
        fs::write(t.join("release/deps/libitoa-1.rlib"), b"rlib bytes").unwrap();
        fs::write(
            t.join("release/.fingerprint/itoa-1/lib-itoa"),
            b"0123456789abcdef",
        )
        .unwrap();
        fs::write(t.join("release/.cargo-lock"), b"").unwrap();
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let rlib = fs::File::open(t.join("release/deps/libitoa-1.rlib")).unwrap();
        rlib.set_modified(old).unwrap();
        t
    }

    #[test]
    fn save_then_lookup_hits_and_restore_keeps_files_and_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let target = target_dir(tmp.path());
        let cache = DepsCache::new(tmp.path().join("cache"));
        let k = key(LOCK);
        assert_eq!(cache.lookup(&k).unwrap_err(), Miss::Empty);
        let saved = cache.save(&k, &target, k.base_lock.clone(), None).unwrap();
        assert_eq!(saved.files, 2, "the two files, not cargo's lock file");
        let entry = cache.lookup(&k).expect("a hit after a save");
        let restored = tmp.path().join("restored");
        assert_eq!(cache.restore(&entry, &restored).unwrap(), 2);
        let rlib = "release/deps/libitoa-1.rlib";
        assert_eq!(fs::read(restored.join(rlib)).unwrap(), b"rlib bytes");
        assert_eq!(
            fs::metadata(restored.join(rlib))
                .unwrap()
                .modified()
                .unwrap(),
            fs::metadata(target.join(rlib)).unwrap().modified().unwrap()
        );
        assert!(!restored.join("release/.cargo-lock").exists());
        // Not into a target dir that has content.
        let err = cache.restore(&entry, &target).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "target: not empty; a cache is restored only into an empty target directory"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_corrupt_entry_is_ignored_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let target = target_dir(tmp.path());
        let cache = DepsCache::new(tmp.path().join("cache"));
        let k = key(LOCK);
        let entry = cache.save(&k, &target, k.base_lock.clone(), None).unwrap();
        let miss = |cache: &DepsCache| cache.lookup(&k).expect_err("a damaged entry was used");

        // A truncated artifact.
        let rlib = entry.target.join("release/deps/libitoa-1.rlib");
        fs::write(&rlib, b"rlib").unwrap();
        let m = miss(&cache);
        assert!(
            matches!(&m, Miss::Corrupt { reason, .. } if reason.contains("libitoa-1.rlib has 4 bytes, 10 when saved")),
            "{m}"
        );
        assert!(
            m.to_string().starts_with("deps cache: ") && m.to_string().contains("corrupt"),
            "{m}"
        );

        // A missing file.
        fs::remove_file(&rlib).unwrap();
        assert!(
            matches!(miss(&cache), Miss::Corrupt { reason, .. } if reason.contains("is missing"))
        );

        // A manifest that is not JSON, and none at all (an unfinished save).
        cache.save(&k, &target, k.base_lock.clone(), None).unwrap();
        fs::write(entry.dir.join(MANIFEST), b"{ not json").unwrap();
        assert!(matches!(miss(&cache), Miss::Corrupt { .. }));
        fs::remove_file(entry.dir.join(MANIFEST)).unwrap();
        assert!(
            matches!(miss(&cache), Miss::Corrupt { reason, .. } if reason.contains("unfinished save"))
        );

        // Another format.
        cache.save(&k, &target, k.base_lock.clone(), None).unwrap();
        let path = entry.dir.join(MANIFEST);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"format\": 1", "\"format\": 99");
        fs::write(&path, text).unwrap();
        assert!(
            matches!(miss(&cache), Miss::Corrupt { reason, .. } if reason.contains("format 99"))
        );

        // A save repairs it.
        cache.save(&k, &target, k.base_lock.clone(), None).unwrap();
        assert!(cache.lookup(&k).is_ok());
    }

    #[test]
    fn stale_and_foreign_entries_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let target = target_dir(tmp.path());
        // The miss of `key(LOCK)` in a cache holding only an entry for `theirs`.
        let miss_beside = |dir: &Path, theirs: CacheKey| {
            let cache = DepsCache::new(dir);
            cache
                .save(&theirs, &target, theirs.base_lock.clone(), None)
                .unwrap();
            cache
                .lookup(&key(LOCK))
                .expect_err("another key's entry was used")
        };
        let old = CacheKey {
            toolchain: "rustc 1.94.0".into(),
            ..key(LOCK)
        };
        let m = miss_beside(&tmp.path().join("cache"), old);
        assert_eq!(
            m,
            Miss::Stale {
                differs: vec!["toolchain"]
            }
        );
        assert!(m.to_string().contains("stale (toolchain differ)"), "{m}");

        let other = tempfile::tempdir().unwrap();
        let theirs = CacheKey {
            members: vec!["greeter".into()],
            ..key(LOCK)
        };
        let m = miss_beside(other.path(), theirs.clone());
        assert_eq!(
            m,
            Miss::Foreign {
                theirs: vec!["greeter".into()]
            }
        );
        assert!(m.to_string().contains("another workspace"), "{m}");

        // A foreign manifest copied under our key's name is still foreign.
        let ours = key(LOCK);
        fs::rename(other.path().join(theirs.id()), other.path().join(ours.id())).unwrap();
        let lookup = DepsCache::new(other.path()).lookup(&ours);
        assert!(matches!(lookup, Err(Miss::Foreign { .. })));
    }
}
