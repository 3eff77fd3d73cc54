//! Sparse per-segment index files.
//!
//! Both index files of a segment are append-only arrays of fixed-size,
//! big-endian entries, kept fully in memory as well:
//!
//! * offset index (`.index`, 8 bytes): relative offset `u32` (batch base
//!   offset minus segment base offset) and file position `u32` of the batch;
//! * time index (`.timeindex`, 12 bytes): timestamp `i64`, the largest
//!   `maxTimestamp` of any batch up to and including the batch at relative
//!   offset `u32`. Entries are only added when that running maximum grows,
//!   so timestamps strictly increase.
//!
//! Indexes are derived data: a missing, short, or inconsistent index file is
//! rebuilt from the log by the segment (see the crate docs).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};

/// A fixed-size index entry.
pub(crate) trait Entry: Copy {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Encodes into `out` (exactly `SIZE` bytes).
    fn encode(&self, out: &mut [u8]);
    /// Decodes from `buf` (exactly `SIZE` bytes).
    fn decode(buf: &[u8]) -> Self;
}

/// Offset index entry: relative offset and file position of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetEntry {
    pub rel_offset: u32,
    pub position: u32,
}

impl Entry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.rel_offset.to_be_bytes());
        out[4..8].copy_from_slice(&self.position.to_be_bytes());
    }
    fn decode(buf: &[u8]) -> Self {
        OffsetEntry {
            rel_offset: u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]),
            position: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        }
    }
}

/// Time index entry: running max timestamp and the batch it was reached at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeEntry {
    pub timestamp: i64,
    pub rel_offset: u32,
}

impl Entry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.rel_offset.to_be_bytes());
    }
    fn decode(buf: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&buf[..8]);
        TimeEntry {
            timestamp: i64::from_be_bytes(ts),
            rel_offset: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        }
    }
}

/// An index file and its in-memory copy.
///
/// The file handle is dropped by [`IndexFile::release`] once a segment is
/// closed (lookups use the in-memory copy), so a closed segment keeps only
/// its log file open; it is reopened if the file must change again.
#[derive(Debug)]
pub(crate) struct IndexFile<E: Entry> {
    file: Option<File>,
    path: PathBuf,
    entries: Vec<E>,
    /// Whether entries were written since the last sync.
    dirty: bool,
}

/// Opens (creating if needed) an index file for reading and writing.
fn open_file(path: &Path) -> Result<File> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| StorageError::io(format!("opening index {}", path.display()), e))?;
    if existed {
        crate::fault::opened(path, file.metadata().map_or(0, |m| m.len()));
    } else {
        crate::fault::created(path);
    }
    Ok(file)
}

impl<E: Entry> IndexFile<E> {
    /// Opens (creating if needed) the index at `path` and loads its entries.
    ///
    /// A trailing partial entry is ignored (and overwritten by the next
    /// append); callers validate the entries themselves.
    pub fn open(path: &Path) -> Result<Self> {
        let file = open_file(path)?;
        let data = std::fs::read(path)
            .map_err(|e| StorageError::io(format!("reading index {}", path.display()), e))?;
        let entries = data.chunks_exact(E::SIZE).map(E::decode).collect();
        Ok(IndexFile {
            file: Some(file),
            path: path.to_path_buf(),
            entries,
            dirty: false,
        })
    }

    /// The loaded entries, in file order.
    #[cfg(test)]
    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    /// The last entry, if any.
    pub fn last(&self) -> Option<&E> {
        self.entries.last()
    }

    /// The open handle, reopening the file if it was released.
    fn handle(&mut self) -> Result<&File> {
        if self.file.is_none() {
            self.file = Some(open_file(&self.path)?);
        }
        Ok(self.file.as_ref().expect("just opened"))
    }

    /// Appends an entry to the file and the in-memory copy.
    pub fn push(&mut self, entry: E) -> Result<()> {
        let mut buf = vec![0u8; E::SIZE];
        entry.encode(&mut buf);
        let pos = (self.entries.len() * E::SIZE) as u64;
        let path = self.path.clone();
        self.handle()?
            .write_all_at(&buf, pos)
            .map_err(|e| StorageError::io(format!("writing index {}", path.display()), e))?;
        self.entries.push(entry);
        self.dirty = true;
        Ok(())
    }

    /// Drops every entry and empties the file (before a rebuild).
    pub fn clear(&mut self) -> Result<()> {
        let path = self.path.clone();
        self.handle()?
            .set_len(0)
            .map_err(|e| StorageError::io(format!("truncating index {}", path.display()), e))?;
        self.entries.clear();
        self.dirty = true;
        Ok(())
    }

    /// Trims the file to exactly the in-memory entries (drops a partial tail).
    pub fn trim_file(&mut self) -> Result<()> {
        let len = (self.entries.len() * E::SIZE) as u64;
        if self.file_len() == Some(len) {
            return Ok(());
        }
        let path = self.path.clone();
        self.handle()?
            .set_len(len)
            .map_err(|e| StorageError::io(format!("truncating index {}", path.display()), e))?;
        self.dirty = true;
        Ok(())
    }

    /// fsyncs the index file if it changed since the last sync.
    pub fn sync(&mut self) -> Result<()> {
        if self.dirty {
            let path = self.path.clone();
            let f = self.handle()?;
            let len = f.metadata().map_or(0, |m| m.len());
            f.sync_data()
                .map_err(|e| StorageError::io(format!("syncing index {}", path.display()), e))?;
            crate::fault::synced(&path, len);
            self.dirty = false;
        }
        Ok(())
    }

    /// Syncs pending changes and closes the file handle.
    pub fn release(&mut self) -> Result<()> {
        self.sync()?;
        self.file = None;
        Ok(())
    }

    /// Length of the file on disk, if it can be read.
    fn file_len(&self) -> Option<u64> {
        std::fs::metadata(&self.path).ok().map(|m| m.len())
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl IndexFile<OffsetEntry> {
    /// Checks that entries strictly increase in offset and position and
    /// point inside a log of `log_size` bytes.
    pub fn is_consistent(&self, log_size: u64) -> bool {
        if self.file_len() != Some((self.entries.len() * OffsetEntry::SIZE) as u64) {
            return false;
        }
        self.entries
            .windows(2)
            .all(|w| w[0].rel_offset < w[1].rel_offset && w[0].position < w[1].position)
            && self
                .entries
                .last()
                .is_none_or(|e| u64::from(e.position) < log_size)
    }

    /// The entry with the largest relative offset `<= rel`, or the segment
    /// start `(0, 0)` when there is none.
    pub fn lookup(&self, rel: u32) -> OffsetEntry {
        let i = self.entries.partition_point(|e| e.rel_offset <= rel);
        if i == 0 {
            OffsetEntry {
                rel_offset: 0,
                position: 0,
            }
        } else {
            self.entries[i - 1]
        }
    }
}

impl IndexFile<TimeEntry> {
    /// Checks that timestamps and offsets strictly increase and that no
    /// offset lies at or beyond `rel_end` (the segment's next relative offset).
    pub fn is_consistent(&self, rel_end: u64) -> bool {
        if self.file_len() != Some((self.entries.len() * TimeEntry::SIZE) as u64) {
            return false;
        }
        self.entries
            .windows(2)
            .all(|w| w[0].timestamp < w[1].timestamp && w[0].rel_offset <= w[1].rel_offset)
            && self
                .entries
                .last()
                .is_none_or(|e| u64::from(e.rel_offset) < rel_end.max(1))
    }

    /// The last entry whose timestamp is below `ts`: every batch up to and
    /// including its offset has `maxTimestamp < ts`.
    pub fn last_below(&self, ts: i64) -> Option<TimeEntry> {
        let i = self.entries.partition_point(|e| e.timestamp < ts);
        i.checked_sub(1).map(|i| self.entries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.index");
        let mut idx = IndexFile::<OffsetEntry>::open(&path).unwrap();
        for i in 1..=3u32 {
            idx.push(OffsetEntry {
                rel_offset: i * 10,
                position: i * 100,
            })
            .unwrap();
        }
        drop(idx);
        let idx = IndexFile::<OffsetEntry>::open(&path).unwrap();
        assert_eq!(idx.entries().len(), 3);
        assert!(idx.is_consistent(1000));
        assert!(!idx.is_consistent(300), "position beyond the log");
        assert_eq!(idx.lookup(5).position, 0);
        assert_eq!(idx.lookup(10).position, 100);
        assert_eq!(idx.lookup(29).position, 200);
        assert_eq!(idx.lookup(1000).position, 300);
        // A released index reopens its file when written again.
        let mut idx = idx;
        idx.release().unwrap();
        idx.push(OffsetEntry {
            rel_offset: 40,
            position: 400,
        })
        .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 32);
        assert!(idx.is_consistent(1000));
    }

    #[test]
    fn partial_trailing_entry_is_inconsistent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.index");
        std::fs::write(&path, [0u8, 0, 0, 1, 0, 0, 0, 2, 9, 9]).unwrap();
        let idx = IndexFile::<OffsetEntry>::open(&path).unwrap();
        assert_eq!(idx.entries().len(), 1);
        assert!(!idx.is_consistent(100));
    }

    #[test]
    fn time_lookup_finds_last_entry_below() {
        let dir = tempfile::tempdir().unwrap();
        let mut idx = IndexFile::<TimeEntry>::open(&dir.path().join("0.timeindex")).unwrap();
        for (ts, off) in [(100, 0), (200, 5), (300, 9)] {
            idx.push(TimeEntry {
                timestamp: ts,
                rel_offset: off,
            })
            .unwrap();
        }
        assert!(idx.is_consistent(10));
        assert!(!idx.is_consistent(9));
        assert_eq!(idx.last_below(100), None);
        assert_eq!(idx.last_below(250).unwrap().rel_offset, 5);
        assert_eq!(idx.last_below(1000).unwrap().rel_offset, 9);
    }
}
