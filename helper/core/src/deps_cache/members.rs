//! Member records: sources' size, SHA-256 and mtime, so unchanged sources get their
//! mtimes back after a checkout and stay fresh (docs/deps-cache.md, "Members").

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use crate::dep_info;
use crate::error::Error;
use crate::tree::{time_pair, FileState};

/// File name of the record in an entry directory.
pub(super) const RECORD: &str = "buildplan-members.json";

/// A workspace member, as the record needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its directory (of its Cargo.toml), absolute.
    pub dir: PathBuf,
    /// Whether it has a build script.
    pub build_script: bool,
}

/// A recorded directory (a `rerun-if-changed` directory or one inside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirState {
    /// Its entries' names, sorted.
    pub entries: Vec<String>,
    /// Modification time.
    pub mtime: (i64, u32),
}

/// The sources of the members as built, relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// The workspace root the build ran in.
    pub root: PathBuf,
    /// When the record was taken.
    pub saved_at: (i64, u32),
    /// Source files.
    pub files: BTreeMap<String, FileState>,
    /// Directories named as inputs, and those inside them.
    pub dirs: BTreeMap<String, DirState>,
    /// Member directories with a unit reading a workspace file outside them.
    pub outside: BTreeSet<String>,
    /// Dep-info files of units with no input in their member's directory.
    pub unanchored: Vec<String>,
}

/// What [`MemberRecord::apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Files given their recorded mtime back.
    pub restored: usize,
    /// Recorded files whose content differs now (left as they are).
    pub changed: Vec<String>,
    /// Recorded files that are gone.
    pub missing: Vec<String>,
    /// Files left new because the checkout moved.
    pub held: usize,
    /// Why nothing was applied, when nothing was.
    pub skipped: Option<String>,
}

fn rel(root: &Path, path: &Path) -> Option<String> {
    let r = path.strip_prefix(root).ok()?;
    (!r.as_os_str().is_empty()).then(|| r.to_string_lossy().replace('\\', "/"))
}

/// The workspace's members (`cargo metadata --no-deps` of `root`).
pub fn workspace_members(root: &Path) -> Result<Vec<Member>, Error> {
    let meta = crate::workspace::metadata(Some(&root.join("Cargo.toml")))?;
    Ok(meta
        .workspace_packages()
        .iter()
        .filter_map(|p| {
            Some(Member {
                dir: p.manifest_path.parent()?.as_std_path().to_path_buf(),
                build_script: p.targets.iter().any(|t| t.is_custom_build()),
            })
        })
        .collect())
}

/// A member's existing files from `cargo package --list` (absolute); none if cargo fails.
fn package_files(member_dir: &Path) -> Vec<PathBuf> {
    let mut cmd = Command::new(crate::exec::cargo_program());
    cmd.args(["package", "--list", "--allow-dirty", "--manifest-path"])
        .arg(member_dir.join("Cargo.toml"));
    let text = crate::exec::capture(&mut cmd).unwrap_or_default();
    let files = text.lines().map(|l| member_dir.join(l));
    files.filter(|p| p.is_file()).collect()
}

impl MemberRecord {
    /// Records the members' sources after a build in `root` whose target
    /// directory is `target_dir`, with a build-script member's package files
    /// (when cargo cannot list them, its build script reruns after a checkout).
    pub fn take(root: &Path, target_dir: &Path, members: &[Member]) -> MemberRecord {
        let inside = |p: &Path| p.starts_with(root) && !p.starts_with(target_dir);
        let mut files = BTreeSet::new();
        let mut dirs = BTreeSet::new();
        let mut outside = BTreeSet::new();
        let mut unanchored = Vec::new();
        for info in dep_info::find(target_dir, root) {
            // An input directory counts with every file and directory in it.
            for input in info.inputs.iter().filter(|p| inside(p)) {
                let tree = WalkDir::new(input).into_iter();
                for e in tree
                    .filter_entry(|e| !e.path().starts_with(target_dir))
                    .flatten()
                {
                    let set = if e.file_type().is_dir() {
                        &mut dirs
                    } else {
                        &mut files
                    };
                    set.insert(e.into_path());
                }
            }
            let owner = info.inputs.first().and_then(|first| {
                members
                    .iter()
                    .filter(|m| first.starts_with(&m.dir))
                    .max_by_key(|m| m.dir.components().count())
            });
            let (Some(owner), true) = (owner, info.per_unit) else {
                continue;
            };
            if (info.inputs.iter()).any(|p| inside(p) && !p.starts_with(&owner.dir)) {
                outside.insert(rel(root, &owner.dir).unwrap_or_default());
            }
            if !info.inputs.iter().any(|p| p.starts_with(&owner.dir)) {
                unanchored.push(info.path.display().to_string());
            }
        }
        for m in members.iter().filter(|m| m.build_script) {
            files.extend(package_files(&m.dir).into_iter().filter(|p| inside(p)));
        }
        let saved_at = time_pair(SystemTime::now());
        MemberRecord {
            root: root.to_path_buf(),
            saved_at,
            files: files
                .iter()
                .filter_map(|p| Some((rel(root, p)?, FileState::of(p)?)))
                .collect(),
            dirs: dirs
                .iter()
                .filter_map(|p| Some((rel(root, p)?, dir_state(p)?)))
                .collect(),
            outside,
            unanchored,
        }
    }

    /// Whether `other` records the same sources with the same contents
    /// (mtimes aside): saving it again would change nothing.
    pub fn same_sources(&self, other: &MemberRecord) -> bool {
        let sources = |r: &MemberRecord| {
            let files = r
                .files
                .iter()
                .map(|(p, f)| (p.clone(), f.size, f.sha256.clone()));
            let dirs = r.dirs.iter().map(|(p, d)| (p.clone(), d.entries.clone()));
            (
                r.root.clone(),
                files.collect::<Vec<_>>(),
                dirs.collect::<Vec<_>>(),
            )
        };
        sources(self) == sources(other)
    }

    /// Gives the files and directories under `root` that are as recorded their
    /// recorded mtimes back; changed ones older than the record move to now.
    pub fn apply(&self, root: &Path) -> Applied {
        let now = SystemTime::now();
        let moved = root != self.root;
        let from = self.root.display();
        let skipped = if time_pair(now) <= self.saved_at {
            Some("this clock is behind the time the cache was saved".to_string())
        } else {
            let unit = self.unanchored.first().filter(|_| moved);
            let why = "has no input in its member's directory";
            unit.map(|unit| format!("the checkout moved from {from} and {unit} {why}"))
        };
        if skipped.is_some() {
            return Applied {
                skipped,
                ..Applied::default()
            };
        }
        let set_mtime = |p: &Path, (s, ns): (i64, u32)| {
            let t = UNIX_EPOCH + Duration::new(u64::try_from(s).unwrap_or(0), ns);
            fs::File::open(p).and_then(|f| f.set_modified(t)).is_ok()
        };
        let held = |rel: &str| moved && self.outside.iter().any(|o| Path::new(rel).starts_with(o));
        let bump = |p: &Path| {
            let newer = fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| time_pair(t) > self.saved_at);
            if !newer {
                let _ = fs::File::open(p).and_then(|f| f.set_modified(now));
            }
        };
        let mut out = Applied::default();
        for (rel, rec) in &self.files {
            let p = root.join(rel);
            if held(rel) {
                out.held += 1;
                bump(&p);
                continue;
            }
            match FileState::of(&p) {
                None if !p.exists() => out.missing.push(rel.clone()),
                Some(now) if now.size == rec.size && now.sha256 == rec.sha256 => {
                    out.restored += usize::from(set_mtime(&p, rec.mtime));
                }
                _ => {
                    bump(&p);
                    out.changed.push(rel.clone());
                }
            }
        }
        for (rel, rec) in &self.dirs {
            let p = root.join(rel);
            match dir_state(&p) {
                Some(now) if now.entries == rec.entries && !held(rel) => {
                    set_mtime(&p, rec.mtime);
                }
                Some(now) => {
                    bump(&p);
                    for e in now.entries.iter().filter(|e| !rec.entries.contains(e)) {
                        bump(&p.join(e));
                    }
                }
                None => {}
            }
        }
        out
    }
}

fn dir_state(p: &Path) -> Option<DirState> {
    let mtime = time_pair(fs::metadata(p).ok()?.modified().ok()?);
    let mut entries: Vec<String> = fs::read_dir(p)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    Some(DirState { entries, mtime })
}
