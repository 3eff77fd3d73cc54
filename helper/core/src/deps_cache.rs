//! A saved dependency target directory for plain-cargo builds
//! (`cargo buildplan build --deps-cache DIR`): the plain-cargo counterpart of
//! the Nix flake's base dependency layer (nix/README.md, "Layered dependency
//! artifacts").
//!
//! The cache only supplies a starting target directory; cargo decides what in
//! it is stale, by fingerprint, exactly as it does in a local target dir. So a
//! cache can make a build faster or not, never wrong. Still, a cache is never
//! used blindly:
//!
//! - **Keyed by what it depends on** ([`CacheKey`]): the toolchain (`rustc
//!   -vV`, all of it), the plan's target, profile and variant with the cargo
//!   arguments of the dependency build, the workspace's members, and the base
//!   lock's third-party packages (members' versions left out, as in the Nix
//!   layers, so a member's release does not invalidate it). Each key has its
//!   own directory, `DIR/<id>/`, where `<id>` is a digest of the key; the full
//!   key is stored in the entry's manifest and compared field by field, so
//!   the digest only names the directory and a collision cannot match.
//! - **Stale or foreign** entries (another toolchain, another workspace) are
//!   reported ([`Miss`]) and ignored.
//! - **Corrupt** entries (no manifest, an unreadable one, a file missing or of
//!   another size than when it was saved, an unfinished save) are reported and
//!   ignored.
//! - **Saved atomically**: a save is copied to a temporary directory next to
//!   the entry and renamed into place, the manifest written last.
//! - **Restored only into an empty target directory**: an existing target dir
//!   is already a better start than any cache.
//!
//! Restoring keeps every file's modification time (cargo compares the mtimes
//! of its dep-info files with its outputs) and its permissions.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Version of the entry format; entries of another format are ignored.
pub const FORMAT: u32 = 1;

/// Name of the manifest file in each entry directory.
pub const MANIFEST: &str = "buildplan-deps-cache.json";

/// The saved target directory inside an entry.
const TARGET: &str = "target";

/// Files cargo recreates and that must not travel between directories.
const SKIPPED: &[&str] = &[".cargo-lock"];

/// Errors of the cache: only real failures (a save or restore that could not
/// write). A cache that cannot be used is a [`Miss`], not an error.
#[derive(Debug, thiserror::Error)]
pub enum DepsCacheError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// `rustc -vV` could not be run or failed.
    #[error("`{rustc} -vV`: {message}")]
    Toolchain {
        /// The compiler that was asked.
        rustc: String,
        /// What went wrong.
        message: String,
    },
    /// The lock file is not a valid Cargo.lock.
    #[error("{path}: not a Cargo.lock: {message}")]
    Lock {
        /// The lock file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A target directory to restore into is not empty.
    #[error("{0}: not empty; a cache is restored only into an empty target directory")]
    TargetNotEmpty(PathBuf),
}

type Result<T> = std::result::Result<T, DepsCacheError>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DepsCacheError + '_ {
    move |source| DepsCacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Everything a saved dependency target directory depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// `rustc -vV`, verbatim (version, commit, host, LLVM).
    pub toolchain: String,
    /// The plan's target name and triple (e.g. `x86_64-musl x86_64-unknown-linux-musl`).
    pub target: String,
    /// The plan's profile.
    pub profile: String,
    /// The plan's variant.
    pub variant: String,
    /// The dependency build's cargo invocations (the variant's
    /// `deps_cargo_args` with the profile's `--config` arguments).
    pub cargo_args: Vec<Vec<String>>,
    /// The workspace's member names, sorted.
    pub members: Vec<String>,
    /// The base lock's third-party packages.
    pub base_lock: LockIdentity,
}

/// A lock's third-party packages, `name version source` each, sorted. The
/// workspace's members (path packages) are left out with their versions, so a
/// member's version bump keeps the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockIdentity {
    /// `name version source` of every package with a source.
    pub packages: Vec<String>,
}

impl LockIdentity {
    /// The identity of a Cargo.lock's text; `path` names it in errors.
    pub fn from_lock(text: &str, path: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct Lock {
            #[serde(default)]
            package: Vec<Package>,
        }
        #[derive(Deserialize)]
        struct Package {
            name: String,
            version: String,
            source: Option<String>,
        }
        let lock: Lock = toml::from_str(text).map_err(|e| DepsCacheError::Lock {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        let mut packages: Vec<String> = lock
            .package
            .into_iter()
            .filter_map(|p| p.source.map(|s| format!("{} {} {}", p.name, p.version, s)))
            .collect();
        packages.sort();
        Ok(LockIdentity { packages })
    }

    /// Reads and identifies a lock file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).map_err(io_err(path))?;
        Self::from_lock(&text, &path.display().to_string())
    }

    /// Packages in `self` and not in `other` (new or other versions).
    pub fn not_in(&self, other: &LockIdentity) -> Vec<String> {
        self.packages
            .iter()
            .filter(|p| other.packages.binary_search(p).is_err())
            .cloned()
            .collect()
    }
}

/// `rustc -vV` of the given compiler (`$RUSTC` or `rustc` for the default).
pub fn toolchain(rustc: &Path) -> Result<String> {
    let err = |message: String| DepsCacheError::Toolchain {
        rustc: rustc.display().to_string(),
        message,
    };
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let text = String::from_utf8(out.stdout).map_err(|e| err(e.to_string()))?;
    Ok(text.trim().to_string())
}

impl CacheKey {
    /// The entry directory's name: a digest of the key (FNV-1a, 64 bits,
    /// over its JSON). It only names the directory: a lookup compares the
    /// stored key in full.
    pub fn id(&self) -> String {
        let json = serde_json::to_string(self).expect("a key serializes");
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in json.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// The names of the fields in which `self` and `other` differ.
    pub fn differences(&self, other: &CacheKey) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.toolchain != other.toolchain {
            out.push("toolchain");
        }
        if self.target != other.target {
            out.push("target");
        }
        if self.profile != other.profile {
            out.push("profile");
        }
        if self.variant != other.variant {
            out.push("variant");
        }
        if self.cargo_args != other.cargo_args {
            out.push("cargo arguments");
        }
        if self.members != other.members {
            out.push("workspace members");
        }
        if self.base_lock != other.base_lock {
            out.push("base lock");
        }
        out
    }
}

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
}

/// Why no entry is used. Every variant prints as a one-line message that
/// starts with `deps cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No entry for this key, and none that says more.
    Empty,
    /// Entries exist for this workspace, but none for this key; `differs`
    /// names what differs from the closest one (e.g. `toolchain`).
    Stale {
        /// The fields in which the closest entry differs.
        differs: Vec<&'static str>,
    },
    /// The entries there were made for another workspace.
    Foreign {
        /// Their members.
        theirs: Vec<String>,
    },
    /// The entry for this key cannot be trusted.
    Corrupt {
        /// The entry.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Empty => write!(f, "deps cache: no saved dependency artifacts for this build; building from scratch"),
            Miss::Stale { differs } => write!(
                f,
                "deps cache: the saved dependency artifacts are stale ({} differ); ignored, building from scratch",
                differs.join(", ")
            ),
            Miss::Foreign { theirs } => write!(
                f,
                "deps cache: the cache belongs to another workspace (members {}); ignored, building from scratch",
                theirs.join(", ")
            ),
            Miss::Corrupt { dir, reason } => write!(
                f,
                "deps cache: {} is corrupt ({reason}); ignored, building from scratch",
                dir.display()
            ),
        }
    }
}

/// The outcome of [`DepsCache::lookup`].
#[derive(Debug, Clone)]
pub enum Lookup {
    /// An entry whose key matches and whose files are intact.
    Hit(Entry),
    /// None usable, and why.
    Miss(Miss),
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

    /// Finds the entry for `key` and checks it: manifest, format, the full
    /// key, and every saved file's presence and size.
    pub fn lookup(&self, key: &CacheKey) -> Lookup {
        let dir = self.dir.join(key.id());
        if !dir.is_dir() {
            return Lookup::Miss(self.why_missing(key));
        }
        let corrupt = |reason: String| {
            Lookup::Miss(Miss::Corrupt {
                dir: dir.clone(),
                reason,
            })
        };
        let manifest = match read_manifest(&dir) {
            Ok(m) => m,
            Err(reason) => return corrupt(reason),
        };
        if manifest.format != FORMAT {
            return corrupt(format!(
                "entry format {}, this helper reads {FORMAT}",
                manifest.format
            ));
        }
        if manifest.key != *key {
            let differs = manifest.key.differences(key);
            if differs.contains(&"workspace members") {
                return Lookup::Miss(Miss::Foreign {
                    theirs: manifest.key.members,
                });
            }
            return Lookup::Miss(Miss::Stale { differs });
        }
        let target = dir.join(TARGET);
        if let Err(reason) = verify(&target, &manifest.files) {
            return corrupt(reason);
        }
        Lookup::Hit(Entry {
            dir: dir.clone(),
            target,
            built_from: manifest.built_from,
            files: manifest.files.len(),
        })
    }

    /// Why there is no entry for `key`: the closest other entry's story.
    fn why_missing(&self, key: &CacheKey) -> Miss {
        let Ok(read) = fs::read_dir(&self.dir) else {
            return Miss::Empty;
        };
        let mut best: Option<Vec<&'static str>> = None;
        let mut foreign = None;
        for entry in read.flatten() {
            let Ok(manifest) = read_manifest(&entry.path()) else {
                continue;
            };
            let differs = manifest.key.differences(key);
            if differs.contains(&"workspace members") {
                foreign.get_or_insert(manifest.key.members);
            } else if best.as_ref().is_none_or(|b| differs.len() < b.len()) {
                best = Some(differs);
            }
        }
        match (best, foreign) {
            (Some(differs), _) => Miss::Stale { differs },
            (None, Some(theirs)) => Miss::Foreign { theirs },
            (None, None) => Miss::Empty,
        }
    }

    /// Copies `entry`'s target directory to `target_dir`, which must be
    /// missing or empty, keeping modification times and permissions. Returns
    /// the number of files copied.
    pub fn restore(&self, entry: &Entry, target_dir: &Path) -> Result<usize> {
        if target_dir.exists() {
            let mut read = fs::read_dir(target_dir).map_err(io_err(target_dir))?;
            if read.next().is_some() {
                return Err(DepsCacheError::TargetNotEmpty(target_dir.to_path_buf()));
            }
        }
        copy_tree(&entry.target, target_dir)
    }

    /// Saves `target_dir` as the entry for `key`, replacing any entry with
    /// that key; `built_from` is the lock the artifacts were built from.
    pub fn save(
        &self,
        key: &CacheKey,
        target_dir: &Path,
        built_from: LockIdentity,
    ) -> Result<Entry> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let id = key.id();
        let tmp = self
            .dir
            .join(format!(".saving-{id}-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
        }
        let saved = tmp.join(TARGET);
        copy_tree(target_dir, &saved)?;
        let files = list_files(&saved).map_err(io_err(&saved))?;
        let manifest = Manifest {
            format: FORMAT,
            key: key.clone(),
            built_from: built_from.clone(),
            files,
        };
        let path = tmp.join(MANIFEST);
        let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        fs::write(&path, json).map_err(io_err(&path))?;
        let dir = self.dir.join(&id);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        fs::rename(&tmp, &dir).map_err(io_err(&dir))?;
        Ok(Entry {
            target: dir.join(TARGET),
            dir,
            built_from,
            files: manifest.files.len(),
        })
    }
}

fn read_manifest(dir: &Path) -> std::result::Result<Manifest, String> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!("no {MANIFEST}: an unfinished save"));
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every saved file is there with its size; nothing is missing.
fn verify(target: &Path, files: &BTreeMap<String, u64>) -> std::result::Result<(), String> {
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

/// Regular files under `root` (relative, `/`-separated) with their sizes;
/// symlinks count with size 0.
fn list_files(root: &Path) -> io::Result<BTreeMap<String, u64>> {
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
fn copy_tree(from: &Path, to: &Path) -> Result<usize> {
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

fn set_mtime(path: &Path, time: SystemTime) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa"]

[[package]]
name = "itoa"
version = "1.0.15"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000"
"#;

    fn key(lock: &str) -> CacheKey {
        CacheKey {
            toolchain: "rustc 1.95.0 (abc 2026-01-01)\nhost: x86_64-unknown-linux-gnu".into(),
            target: "host x86_64-unknown-linux-gnu".into(),
            profile: "release".into(),
            variant: "minimal".into(),
            cargo_args: vec![vec!["--package".into(), "app".into()]],
            members: vec!["app".into()],
            base_lock: LockIdentity::from_lock(lock, "Cargo.lock").unwrap(),
        }
    }

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
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        set_mtime(&t.join("release/deps/libitoa-1.rlib"), old).unwrap();
        t
    }

    #[test]
    fn lock_identity_ignores_member_versions_not_third_party_ones() {
        let base = LockIdentity::from_lock(LOCK, "l").unwrap();
        assert_eq!(
            base.packages,
            vec!["itoa 1.0.15 registry+https://github.com/rust-lang/crates.io-index"]
        );
        let member_bump = LOCK.replace("version = \"0.1.0\"", "version = \"0.2.0\"");
        assert_eq!(LockIdentity::from_lock(&member_bump, "l").unwrap(), base);
        let leaf_bump = LOCK.replace("1.0.15", "1.0.16");
        let bumped = LockIdentity::from_lock(&leaf_bump, "l").unwrap();
        assert_ne!(bumped, base);
        assert_eq!(
            bumped.not_in(&base),
            vec!["itoa 1.0.16 registry+https://github.com/rust-lang/crates.io-index"]
        );
    }

    #[test]
    fn a_lock_that_is_not_toml_is_an_error_naming_the_file() {
        let err = LockIdentity::from_lock("[[package]\nname =", "nix/base.lock").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("nix/base.lock: not a Cargo.lock"),
            "{err}"
        );
    }

    #[test]
    fn the_key_id_moves_with_every_field() {
        let k = key(LOCK);
        assert_eq!(k.id(), key(LOCK).id());
        assert_eq!(k.id().len(), 16);
        let variants = [
            CacheKey {
                toolchain: "rustc 1.96.0".into(),
                ..k.clone()
            },
            CacheKey {
                target: "x86_64-musl".into(),
                ..k.clone()
            },
            CacheKey {
                profile: "dev".into(),
                ..k.clone()
            },
            CacheKey {
                variant: "full".into(),
                ..k.clone()
            },
            CacheKey {
                cargo_args: vec![],
                ..k.clone()
            },
            CacheKey {
                members: vec!["other".into()],
                ..k.clone()
            },
            key(&LOCK.replace("1.0.15", "1.0.16")),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(v.id(), k.id(), "field {i}");
            assert_eq!(
                v.differences(&k).len(),
                1,
                "field {i}: {:?}",
                v.differences(&k)
            );
        }
    }

    #[test]
    fn save_then_lookup_hits_and_restore_keeps_files_and_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let target = target_dir(tmp.path());
        let cache = DepsCache::new(tmp.path().join("cache"));
        let k = key(LOCK);
        assert_eq!(
            match cache.lookup(&k) {
                Lookup::Miss(m) => m,
                Lookup::Hit(_) => panic!("hit in an empty cache"),
            },
            Miss::Empty
        );
        let saved = cache.save(&k, &target, k.base_lock.clone()).unwrap();
        assert_eq!(saved.files, 2, "the two files, not cargo's lock file");
        let Lookup::Hit(entry) = cache.lookup(&k) else {
            panic!("no hit after a save")
        };
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
        assert!(matches!(err, DepsCacheError::TargetNotEmpty(_)), "{err}");
    }

    #[test]
    fn a_corrupt_entry_is_ignored_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let target = target_dir(tmp.path());
        let cache = DepsCache::new(tmp.path().join("cache"));
        let k = key(LOCK);
        let entry = cache.save(&k, &target, k.base_lock.clone()).unwrap();
        let miss = |cache: &DepsCache| match cache.lookup(&k) {
            Lookup::Miss(m) => m,
            Lookup::Hit(_) => panic!("a damaged entry was used"),
        };

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
        cache.save(&k, &target, k.base_lock.clone()).unwrap();
        fs::write(entry.dir.join(MANIFEST), b"{ not json").unwrap();
        assert!(matches!(miss(&cache), Miss::Corrupt { .. }));
        fs::remove_file(entry.dir.join(MANIFEST)).unwrap();
        assert!(
            matches!(miss(&cache), Miss::Corrupt { reason, .. } if reason.contains("unfinished save"))
        );

        // Another format.
        cache.save(&k, &target, k.base_lock.clone()).unwrap();
        let path = entry.dir.join(MANIFEST);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"format\": 1", "\"format\": 99");
        fs::write(&path, text).unwrap();
        assert!(
            matches!(miss(&cache), Miss::Corrupt { reason, .. } if reason.contains("format 99"))
        );

        // A save repairs it.
        cache.save(&k, &target, k.base_lock.clone()).unwrap();
        assert!(matches!(cache.lookup(&k), Lookup::Hit(_)));
    }

    #[test]
    fn stale_and_foreign_entries_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let target = target_dir(tmp.path());
        let cache = DepsCache::new(tmp.path().join("cache"));
        let old = CacheKey {
            toolchain: "rustc 1.94.0".into(),
            ..key(LOCK)
        };
        cache.save(&old, &target, old.base_lock.clone()).unwrap();
        let Lookup::Miss(m) = cache.lookup(&key(LOCK)) else {
            panic!("a stale entry was used")
        };
        assert_eq!(
            m,
            Miss::Stale {
                differs: vec!["toolchain"]
            }
        );
        assert!(m.to_string().contains("stale (toolchain differ)"), "{m}");

        let other = tempfile::tempdir().unwrap();
        let cache = DepsCache::new(other.path());
        let theirs = CacheKey {
            members: vec!["greeter".into()],
            ..key(LOCK)
        };
        cache
            .save(&theirs, &target, theirs.base_lock.clone())
            .unwrap();
        let Lookup::Miss(m) = cache.lookup(&key(LOCK)) else {
            panic!("a foreign entry was used")
        };
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
        assert!(matches!(
            cache.lookup(&ours),
            Lookup::Miss(Miss::Foreign { .. })
        ));
    }

    #[test]
    fn toolchain_is_rustc_verbose_version() {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let t = toolchain(Path::new(&rustc)).unwrap();
        assert!(t.starts_with("rustc ") && t.contains("\nhost: "), "{t}");
        let err = toolchain(Path::new("/nonexistent/rustc")).unwrap_err();
        assert!(
            err.to_string().starts_with("`/nonexistent/rustc -vV`"),
            "{err}"
        );
    }
}
