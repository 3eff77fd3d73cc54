//! Simulated power loss, for tests (feature `fault-injection`).
//!
//! A process crash (SIGKILL) keeps the kernel's page cache, so everything
//! written before it is still read back afterwards, synced or not. A power
//! loss keeps only what was fsynced. To test durability against the latter,
//! the storage layer reports every operation that matters for it to a
//! *journal*:
//!
//! * a file opened that existed before (its length then counts as durable:
//!   tests cut the power only between a broker's death and the next start,
//!   and every start syncs what it recovered);
//! * a file or directory created;
//! * a file fsynced, with the length it had when the fsync started (bytes
//!   written later are not covered by it);
//! * a directory fsynced (which makes the entries created or renamed in it
//!   durable);
//! * a rename (with a copy of the file it replaced);
//! * a removal.
//!
//! [`power_cut`] then replays the journal once the process that wrote it is
//! dead, and puts the files below a root into the state a power loss could
//! have left: every file is truncated to its durable length, every file or
//! directory created since the parent directory's last fsync is removed, and
//! every rename not followed by an fsync of the destination's directory is
//! undone. Removals are taken as durable at once (a lost removal would bring
//! a file back, which recovery already has to tolerate). Only the file
//! operations of this crate are modelled (segments, indexes, topic
//! metadata, and everything written with [`write_atomic`](crate::write_atomic),
//! such as the produce path's snapshots and producer-id block).
//!
//! The journal is off unless enabled, by [`enable`] or by naming its file in
//! the environment variable [`JOURNAL_ENV`] of the process; one journal per
//! process. Without the feature every hook compiles to nothing.

#[cfg(feature = "fault-injection")]
pub use enabled::*;

#[cfg(feature = "fault-injection")]
mod enabled {
    use std::collections::{BTreeMap, HashMap};
    use std::fs::{File, OpenOptions};
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Mutex, OnceLock, PoisonError};

    /// Environment variable naming the journal file of a process (e.g. a
    /// broker started by a test).
    pub const JOURNAL_ENV: &str = "CHRONIK_FAULT_JOURNAL";

    struct Journal {
        path: PathBuf,
        file: Mutex<File>,
        backups: AtomicU64,
    }

    static JOURNAL: OnceLock<Option<Journal>> = OnceLock::new();

    fn open_journal(path: &Path) -> std::io::Result<Journal> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            backups: AtomicU64::new(0),
        })
    }

    fn journal() -> Option<&'static Journal> {
        JOURNAL
            .get_or_init(|| {
                let path = std::env::var_os(JOURNAL_ENV)?;
                match open_journal(Path::new(&path)) {
                    Ok(j) => Some(j),
                    Err(e) => panic!("cannot open fault journal {path:?}: {e}"),
                }
            })
            .as_ref()
    }

    /// Starts journaling this process's storage operations to `path`.
    /// Fails if a journal (another file, or none) was already chosen.
    pub fn enable(path: &Path) -> crate::Result<()> {
        enable_io(path).map_err(|e| {
            crate::StorageError::io(format!("enabling fault journal {}", path.display()), e)
        })
    }

    fn enable_io(path: &Path) -> std::io::Result<()> {
        let mut result = Ok(());
        let chosen = JOURNAL.get_or_init(|| match open_journal(path) {
            Ok(j) => Some(j),
            Err(e) => {
                result = Err(e);
                None
            }
        });
        result?;
        match chosen {
            Some(j) if j.path == path => Ok(()),
            _ => Err(std::io::Error::other(
                "a different fault journal was already chosen for this process",
            )),
        }
    }

    fn record(fields: &[&str], paths: &[&Path]) {
        let Some(j) = journal() else { return };
        let mut line = fields.join("\t");
        for p in paths {
            let s = p.to_string_lossy();
            // Such names cannot be journaled; tests do not use them.
            assert!(
                !s.contains(['\t', '\n']),
                "fault journal cannot record {s:?}"
            );
            line.push('\t');
            line.push_str(&s);
        }
        line.push('\n');
        // One write per line on an O_APPEND file: lines never interleave,
        // and a SIGKILL keeps every line written before it.
        let mut f = j.file.lock().unwrap_or_else(PoisonError::into_inner);
        f.write_all(line.as_bytes())
            .expect("writing the fault journal");
    }

    pub(crate) fn opened(path: &Path, len: u64) {
        record(&["O", &len.to_string()], &[path]);
    }
    pub(crate) fn created(path: &Path) {
        record(&["C"], &[path]);
    }
    pub(crate) fn synced(path: &Path, len: u64) {
        record(&["S", &len.to_string()], &[path]);
    }
    pub(crate) fn dir_synced(path: &Path) {
        record(&["Y"], &[path]);
    }
    pub(crate) fn removed(path: &Path) {
        record(&["X"], &[path]);
    }

    /// Renames `from` to `to`, keeping a copy of a file it replaces.
    pub(crate) fn rename(from: &Path, to: &Path) -> std::io::Result<()> {
        let Some(j) = journal() else {
            return std::fs::rename(from, to);
        };
        let backup = if to.is_file() {
            let n = j.backups.fetch_add(1, Ordering::Relaxed);
            let mut name = j.path.clone().into_os_string();
            name.push(format!(".replaced.{n}"));
            let b = PathBuf::from(name);
            std::fs::copy(to, &b)?;
            Some(b)
        } else {
            None
        };
        std::fs::rename(from, to)?;
        match &backup {
            Some(b) => record(&["R"], &[from, to, b]),
            None => record(&["R"], &[from, to, Path::new("")]),
        }
        Ok(())
    }

    /// `create_dir_all`, journaling the leaf directory if it is new.
    pub(crate) fn create_dir_all(path: &Path) -> std::io::Result<()> {
        let existed = path.is_dir();
        std::fs::create_dir_all(path)?;
        if !existed {
            record(&["D"], &[path]);
        }
        Ok(())
    }

    /// What [`power_cut`] did.
    #[derive(Debug, Default, Clone, PartialEq, Eq)]
    pub struct PowerCut {
        /// Files cut to their durable length: path, length before, after.
        pub truncated: Vec<(PathBuf, u64, u64)>,
        /// Files and directories removed because their directory entry
        /// was never synced.
        pub removed: Vec<PathBuf>,
        /// Renames undone: (from, to).
        pub renames_undone: Vec<(PathBuf, PathBuf)>,
    }

    impl PowerCut {
        /// Total bytes dropped by truncation.
        pub fn bytes_lost(&self) -> u64 {
            self.truncated.iter().map(|(_, from, to)| from - to).sum()
        }
    }

    #[derive(Debug)]
    struct Tracked {
        /// Durable length (0 for a file created and never synced).
        durable: u64,
    }

    #[derive(Debug)]
    struct Entry {
        path: PathBuf,
        seq: usize,
        /// For a rename: where it came from and the replaced file's copy.
        rename: Option<(PathBuf, Option<PathBuf>)>,
    }

    fn parent(p: &Path) -> PathBuf {
        p.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// Applies a power loss to the files below `root` as journaled in
    /// `journal` (see the module docs), then removes the journal and its
    /// copies so the next run starts a fresh one. The journaling process
    /// must be dead.
    pub fn power_cut(journal: &Path, root: &Path) -> crate::Result<PowerCut> {
        power_cut_io(journal, root).map_err(|e| {
            crate::StorageError::io(
                format!("simulating a power cut from {}", journal.display()),
                e,
            )
        })
    }

    fn power_cut_io(journal: &Path, root: &Path) -> std::io::Result<PowerCut> {
        let text = std::fs::read_to_string(journal)?;
        let mut files: HashMap<PathBuf, Tracked> = HashMap::new();
        let mut dir_synced: HashMap<PathBuf, usize> = HashMap::new();
        // Namespace changes whose durability depends on a directory fsync.
        let mut entries: Vec<Entry> = Vec::new();
        let mut backups = Vec::new();
        // A killed writer may leave a partial last line: ignore it.
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        for (seq, line) in complete.lines().enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            let bad = || std::io::Error::other(format!("bad fault journal line {line:?}"));
            match f.as_slice() {
                ["O", len, path] => {
                    let len = len.parse().map_err(|_| bad())?;
                    files
                        .entry(PathBuf::from(path))
                        .or_insert(Tracked { durable: len });
                }
                ["C", path] => {
                    files.insert(PathBuf::from(path), Tracked { durable: 0 });
                    entries.push(Entry {
                        path: PathBuf::from(path),
                        seq,
                        rename: None,
                    });
                }
                ["D", path] => entries.push(Entry {
                    path: PathBuf::from(path),
                    seq,
                    rename: None,
                }),
                ["S", len, path] => {
                    let len = len.parse().map_err(|_| bad())?;
                    files.insert(PathBuf::from(path), Tracked { durable: len });
                }
                ["Y", path] => {
                    dir_synced.insert(PathBuf::from(path), seq);
                }
                ["R", from, to, backup] => {
                    let (from, to) = (PathBuf::from(from), PathBuf::from(to));
                    // Everything tracked below `from` moves to `to`.
                    let moved: Vec<PathBuf> = files
                        .keys()
                        .filter(|p| p.starts_with(&from))
                        .cloned()
                        .collect();
                    for p in moved {
                        let t = files.remove(&p).expect("listed above");
                        let rel = p.strip_prefix(&from).expect("filtered above");
                        files.insert(to.join(rel), t);
                    }
                    // Creation entries keep their old paths: they are
                    // judged by the directory they were created in, and
                    // an undone rename brings them back there.
                    let backup = (!backup.is_empty()).then(|| PathBuf::from(backup));
                    if let Some(b) = &backup {
                        backups.push(b.clone());
                    }
                    entries.push(Entry {
                        path: to,
                        seq,
                        rename: Some((from, backup)),
                    });
                }
                ["X", path] => {
                    let path = Path::new(path);
                    files.retain(|p, _| !p.starts_with(path));
                    entries.retain(|e| !e.path.starts_with(path));
                }
                _ => return Err(bad()),
            }
        }

        let mut cut = PowerCut::default();
        let durable_entry = |e: &Entry| {
            dir_synced
                .get(&parent(&e.path))
                .is_some_and(|&synced| synced > e.seq)
        };
        let below_root = |p: &Path| p.starts_with(root);
        // Undo pending renames, newest first.
        for e in entries.iter().rev() {
            let Some((from, backup)) = &e.rename else {
                continue;
            };
            if durable_entry(e) || !below_root(&e.path) || !e.path.exists() {
                continue;
            }
            std::fs::rename(&e.path, from)?;
            if let Some(b) = backup {
                std::fs::copy(b, &e.path)?;
            }
            let moved: Vec<PathBuf> = files
                .keys()
                .filter(|p| p.starts_with(&e.path))
                .cloned()
                .collect();
            for p in moved {
                let t = files.remove(&p).expect("listed above");
                let rel = p.strip_prefix(&e.path).expect("filtered above");
                files.insert(from.join(rel), t);
            }
            cut.renames_undone.push((from.clone(), e.path.clone()));
        }
        // Cut every file to what its last fsync covered.
        let sorted: BTreeMap<&PathBuf, &Tracked> = files.iter().collect();
        for (path, t) in sorted {
            if !below_root(path) {
                continue;
            }
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            if meta.is_file() && meta.len() > t.durable {
                OpenOptions::new()
                    .write(true)
                    .open(path)?
                    .set_len(t.durable)?;
                cut.truncated.push((path.clone(), meta.len(), t.durable));
            }
        }
        // Remove what was created in a directory not synced since.
        for e in entries.iter().rev() {
            if e.rename.is_some() || durable_entry(e) || !below_root(&e.path) {
                continue;
            }
            match std::fs::metadata(&e.path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&e.path)?,
                Ok(_) => std::fs::remove_file(&e.path)?,
                Err(_) => continue,
            }
            cut.removed.push(e.path.clone());
        }
        for b in backups {
            let _ = std::fs::remove_file(b);
        }
        std::fs::remove_file(journal)?;
        Ok(cut)
    }
}

#[cfg(not(feature = "fault-injection"))]
mod disabled {
    use std::path::Path;

    #[inline(always)]
    pub(crate) fn opened(_: &Path, _: u64) {}
    #[inline(always)]
    pub(crate) fn created(_: &Path) {}
    #[inline(always)]
    pub(crate) fn synced(_: &Path, _: u64) {}
    #[inline(always)]
    pub(crate) fn dir_synced(_: &Path) {}
    #[inline(always)]
    pub(crate) fn removed(_: &Path) {}
    #[inline(always)]
    pub(crate) fn rename(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }
    #[inline(always)]
    pub(crate) fn create_dir_all(path: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(path)
    }
}

#[cfg(not(feature = "fault-injection"))]
pub(crate) use disabled::*;

#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use super::*;
    use std::path::Path;

    fn write(path: &Path, len: usize) {
        std::fs::write(path, vec![b'x'; len]).unwrap();
    }

    fn len(path: &Path) -> Option<u64> {
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    #[test]
    fn power_cut_replays_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let sub = root.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let synced = sub.join("synced");
        let unlisted = sub.join("unlisted");
        let old = sub.join("old");
        let replaced = sub.join("replaced");
        let renamed = sub.join("renamed");
        let tmp = sub.join("replaced.tmp");
        let tmp2 = sub.join("renamed.tmp");
        let outside = dir.path().join("outside");
        write(&synced, 100);
        write(&unlisted, 30);
        write(&old, 50);
        write(&replaced, 7); // the new contents, renamed over the old ones
        write(&renamed, 9);
        write(&outside, 10);
        let backup = dir.path().join("backup");
        std::fs::write(&backup, b"old").unwrap();
        let p = |p: &Path| p.display().to_string();
        let journal = dir.path().join("journal");
        let lines = [
            format!("D\t{}", p(&sub)),
            format!("C\t{}", p(&synced)),
            format!("S\t60\t{}", p(&synced)),
            format!("O\t20\t{}", p(&old)),
            format!("C\t{}", p(&tmp2)),
            format!("S\t9\t{}", p(&tmp2)),
            format!("R\t{}\t{}\t", p(&tmp2), p(&renamed)),
            format!("Y\t{}", p(&root)),
            format!("Y\t{}", p(&sub)),
            format!("C\t{}", p(&tmp)),
            format!("S\t7\t{}", p(&tmp)),
            format!("R\t{}\t{}\t{}", p(&tmp), p(&replaced), p(&backup)),
            format!("C\t{}", p(&unlisted)),
            format!("C\t{}", p(&outside)),
            // A torn last line, as a SIGKILL mid-write leaves.
            "S\t1".to_string(),
        ];
        std::fs::write(&journal, lines.join("\n")).unwrap();

        let cut = power_cut(&journal, &root).unwrap();
        // Created, synced, and its directory synced later: cut to 60.
        assert_eq!(len(&synced), Some(60));
        // Existed at open: its length then was durable.
        assert_eq!(len(&old), Some(20));
        // Renamed before the directory sync: kept, with its synced length.
        assert_eq!(len(&renamed), Some(9));
        assert_eq!(len(&tmp2), None);
        // Renamed over `replaced` after the last directory sync: undone,
        // the old contents are back and the temporary file (created after
        // that sync too) is gone.
        assert_eq!(std::fs::read(&replaced).unwrap(), b"old");
        assert_eq!(len(&tmp), None);
        // Created after the last directory sync: gone.
        assert_eq!(len(&unlisted), None);
        // Outside the root: untouched.
        assert_eq!(len(&outside), Some(10));
        assert_eq!(cut.renames_undone, vec![(tmp.clone(), replaced.clone())]);
        assert_eq!(cut.removed, vec![unlisted.clone(), tmp.clone()]);
        assert_eq!(cut.bytes_lost(), 40 + 30 + 30);
        assert!(!journal.exists());
    }
}
