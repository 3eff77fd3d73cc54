//! One segment of a partition log: a `.log` file of batches plus its indexes.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use tracing::warn;

use crate::batch::{self, BatchHeader, HEADER_LEN};
use crate::error::{Result, StorageError};
use crate::fault;
use crate::index::{IndexFile, OffsetEntry, TimeEntry};

/// File name of a segment file: the base offset as 20 zero-padded digits.
pub(crate) fn file_name(base_offset: i64, ext: &str) -> String {
    format!("{base_offset:020}.{ext}")
}

fn system_time_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The wall clock in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    system_time_ms(SystemTime::now())
}

/// How much to trust a segment's files when opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenMode {
    /// Use the indexes if they look consistent; validate only the batches
    /// after the last offset-index entry.
    Trust,
    /// Validate every batch and rebuild both indexes.
    Recover,
}

/// The in-memory state of one segment.
#[derive(Debug)]
pub(crate) struct Segment {
    pub base_offset: i64,
    pub log: Arc<File>,
    log_path: PathBuf,
    index: IndexFile<OffsetEntry>,
    time_index: IndexFile<TimeEntry>,
    /// Bytes of valid batches in the log file.
    pub size: u64,
    /// Offset after the last batch (== `base_offset` when empty).
    pub next_offset: i64,
    /// Largest batch `maxTimestamp` seen, or -1.
    pub max_timestamp: i64,
    /// Base offset of the last batch, or -1 when empty.
    last_batch_base: i64,
    /// Wall-clock time (ms) the segment received its first batch, or -1
    /// when empty; drives time-based rolling. For a segment loaded from
    /// disk: the file's creation (else modification) time.
    pub first_append_ms: i64,
    bytes_since_index: u64,
    index_interval: u64,
}

/// Reads a file sequentially through a large buffer (used by recovery scans).
struct SeqReader<'a> {
    file: &'a File,
    file_len: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

const SCAN_CHUNK: usize = 1 << 20;

impl<'a> SeqReader<'a> {
    fn new(file: &'a File, file_len: u64) -> Self {
        SeqReader {
            file,
            file_len,
            buf: Vec::new(),
            buf_start: 0,
        }
    }

    /// Returns up to `len` bytes at `pos` (fewer only at end of file).
    fn get(&mut self, pos: u64, len: usize) -> std::io::Result<&[u8]> {
        let avail = self.file_len.saturating_sub(pos).min(len as u64) as usize;
        let in_buf =
            pos >= self.buf_start && pos + avail as u64 <= self.buf_start + self.buf.len() as u64;
        if !in_buf {
            let want = (avail.max(SCAN_CHUNK) as u64).min(self.file_len - pos) as usize;
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, pos)?;
            self.buf_start = pos;
        }
        let start = (pos - self.buf_start) as usize;
        Ok(&self.buf[start..start + avail])
    }
}

impl Segment {
    fn paths(dir: &Path, base_offset: i64) -> (PathBuf, PathBuf, PathBuf) {
        (
            dir.join(file_name(base_offset, "log")),
            dir.join(file_name(base_offset, "index")),
            dir.join(file_name(base_offset, "timeindex")),
        )
    }

    /// The segment at `base_offset` in `dir` over its opened log file, with
    /// nothing scanned yet: size 0, next offset = base offset, its index
    /// files opened.
    fn fresh(dir: &Path, base_offset: i64, log: File, index_interval: u64) -> Result<Segment> {
        let (log_path, index_path, time_path) = Self::paths(dir, base_offset);
        Ok(Segment {
            base_offset,
            log: Arc::new(log),
            log_path,
            index: IndexFile::open(&index_path)?,
            time_index: IndexFile::open(&time_path)?,
            size: 0,
            next_offset: base_offset,
            max_timestamp: -1,
            last_batch_base: -1,
            first_append_ms: -1,
            bytes_since_index: 0,
            index_interval,
        })
    }

    /// Creates a new, empty segment. Fails if its log file already exists.
    pub fn create(dir: &Path, base_offset: i64, index_interval: u64) -> Result<Segment> {
        let (log_path, index_path, time_path) = Self::paths(dir, base_offset);
        // Stale index files of the same name can only be leftovers.
        for p in [&index_path, &time_path] {
            if p.exists() {
                std::fs::remove_file(p)
                    .map_err(|e| StorageError::io(format!("removing {}", p.display()), e))?;
                fault::removed(p);
            }
        }
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&log_path)
            .map_err(|e| StorageError::io(format!("creating {}", log_path.display()), e))?;
        fault::created(&log_path);
        Self::fresh(dir, base_offset, log, index_interval)
    }

    /// Opens an existing segment, validating it according to `mode`.
    ///
    /// Returns the segment and the number of bytes truncated from its tail.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        index_interval: u64,
        mode: OpenMode,
    ) -> Result<(Segment, u64)> {
        let (log_path, index_path, time_path) = Self::paths(dir, base_offset);
        let index_existed = index_path.exists();
        let time_existed = time_path.exists();
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&log_path)
            .map_err(|e| StorageError::io(format!("opening {}", log_path.display()), e))?;
        let file_len = log
            .metadata()
            .map_err(|e| StorageError::io(format!("stat {}", log_path.display()), e))?
            .len();
        fault::opened(&log_path, file_len);
        let mut seg = Self::fresh(dir, base_offset, log, index_interval)?;
        // A missing index file cannot be told apart from an empty one by its
        // contents, so a missing file of a non-empty log forces a rebuild.
        let files_present = file_len == 0 || (index_existed && time_existed);
        let mut trusted =
            mode == OpenMode::Trust && files_present && seg.index.is_consistent(file_len);
        if trusted {
            let start = seg.index.lookup(u32::MAX);
            seg.max_timestamp = seg.time_index.last().map_or(-1, |e| e.timestamp);
            seg.scan(
                file_len,
                u64::from(start.position),
                base_offset + i64::from(start.rel_offset),
            )?;
            let rel_end = (seg.next_offset - base_offset) as u64;
            if !seg.time_index.is_consistent(rel_end) {
                trusted = false;
            }
        }
        if !trusted {
            if mode == OpenMode::Trust {
                warn!(segment = %seg.log_path.display(), "index inconsistent; rebuilding from the log");
            }
            seg.index.clear()?;
            seg.time_index.clear()?;
            seg.max_timestamp = -1;
            seg.last_batch_base = -1;
            seg.bytes_since_index = 0;
            seg.scan(file_len, 0, base_offset)?;
        }
        let truncated = file_len - seg.size;
        if truncated > 0 {
            warn!(
                segment = %seg.log_path.display(),
                valid_bytes = seg.size,
                truncated_bytes = truncated,
                "truncating torn or corrupt tail"
            );
            seg.log.set_len(seg.size).map_err(|e| {
                StorageError::io(format!("truncating {}", seg.log_path.display()), e)
            })?;
            seg.log
                .sync_all()
                .map_err(|e| StorageError::io(format!("syncing {}", seg.log_path.display()), e))?;
            fault::synced(&seg.log_path, seg.size);
        }
        seg.index.trim_file()?;
        seg.time_index.trim_file()?;
        if seg.size > 0 {
            seg.first_append_ms = seg
                .log
                .metadata()
                .ok()
                .and_then(|m| m.created().or_else(|_| m.modified()).ok())
                .map_or_else(now_ms, system_time_ms);
        }
        Ok((seg, truncated))
    }

    /// Validates batches from `pos` (expected to hold `expected` as base
    /// offset) to the end of the file, adding index entries as appends would.
    /// Stops at the first invalid batch; `self.size` ends at the last valid one.
    fn scan(&mut self, file_len: u64, mut pos: u64, mut expected: i64) -> Result<()> {
        let log = Arc::clone(&self.log);
        let mut reader = SeqReader::new(&log, file_len);
        self.next_offset = expected;
        self.size = pos;
        while pos < file_len {
            let head = reader
                .get(pos, HEADER_LEN)
                .map_err(|e| StorageError::io(format!("reading {}", self.log_path.display()), e))?;
            let header = match BatchHeader::parse(head) {
                Ok(h) => h,
                Err(e) => {
                    warn!(segment = %self.log_path.display(), pos, error = %e, "invalid batch header");
                    break;
                }
            };
            let len = header.total_len();
            if pos + len as u64 > file_len {
                warn!(segment = %self.log_path.display(), pos, len, file_len, "batch runs past end of file");
                break;
            }
            if header.base_offset != expected || header.last_offset_delta < 0 {
                warn!(
                    segment = %self.log_path.display(),
                    pos,
                    base_offset = header.base_offset,
                    expected,
                    "batch has unexpected offsets"
                );
                break;
            }
            let whole = reader
                .get(pos, len)
                .map_err(|e| StorageError::io(format!("reading {}", self.log_path.display()), e))?;
            if let Err(e) = batch::verify_crc(whole) {
                warn!(segment = %self.log_path.display(), pos, error = %e, "corrupt batch");
                break;
            }
            self.track_batch(&header, pos);
            pos += len as u64;
            expected = header.last_offset() + 1;
            self.size = pos;
            self.next_offset = expected;
        }
        Ok(())
    }

    /// Updates indexes and counters for a batch written at `pos`.
    ///
    /// Index write errors are logged, not returned: the batch itself is
    /// already in the log, a sparse index only gets slower without an entry,
    /// and a partly written entry makes the file inconsistent, so the next
    /// open rebuilds it.
    fn track_batch(&mut self, header: &BatchHeader, pos: u64) {
        let max_ts = self.max_timestamp.max(header.max_timestamp);
        if self.bytes_since_index >= self.index_interval && pos > 0 {
            let rel = (header.base_offset - self.base_offset) as u32;
            if self.index.last().is_none_or(|e| e.rel_offset < rel) {
                if let Err(e) = self.index.push(OffsetEntry {
                    rel_offset: rel,
                    position: pos as u32,
                }) {
                    warn!(error = %e, "offset index entry not written");
                }
            }
            if max_ts >= 0 && self.time_index.last().is_none_or(|e| e.timestamp < max_ts) {
                if let Err(e) = self.time_index.push(TimeEntry {
                    timestamp: max_ts,
                    rel_offset: rel,
                }) {
                    warn!(error = %e, "time index entry not written");
                }
            }
            self.bytes_since_index = 0;
        }
        self.bytes_since_index += header.total_len() as u64;
        self.max_timestamp = max_ts;
        self.last_batch_base = header.base_offset;
    }

    /// Appends `data` (whole batches, offsets already assigned; `headers`
    /// gives each batch's position within `data` and its header).
    pub fn append(&mut self, data: &[u8], headers: &[(usize, BatchHeader)]) -> Result<()> {
        if let Err(e) = self.log.write_all_at(data, self.size) {
            // Drop whatever part of the write landed so the file ends at a
            // batch boundary again.
            let _ = self.log.set_len(self.size);
            return Err(StorageError::io(
                format!("appending to {}", self.log_path.display()),
                e,
            ));
        }
        let start = self.size;
        if start == 0 {
            self.first_append_ms = now_ms();
        }
        for (pos, h) in headers {
            self.track_batch(h, start + *pos as u64);
            self.next_offset = h.last_offset() + 1;
        }
        self.size += data.len() as u64;
        Ok(())
    }

    /// Path of the log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Reads the header of the batch at `pos` (which must be a batch start).
    #[cfg(test)]
    pub fn header_at(&self, pos: u64) -> Result<BatchHeader> {
        let mut buf = [0u8; HEADER_LEN];
        self.log
            .read_exact_at(&mut buf, pos)
            .map_err(|e| StorageError::io(format!("reading {}", self.log_path.display()), e))?;
        Ok(BatchHeader::parse(&buf)?)
    }

    /// Finds the batch containing `offset`: its position and header.
    pub fn find_offset(&self, offset: i64) -> Result<Option<(u64, BatchHeader)>> {
        if offset >= self.next_offset {
            return Ok(None);
        }
        let rel = (offset - self.base_offset).clamp(0, i64::from(u32::MAX)) as u32;
        let start = u64::from(self.index.lookup(rel).position);
        self.walk_headers(start, |h| h.last_offset() >= offset)
    }

    /// Finds the first batch whose `maxTimestamp >= ts`.
    pub fn find_timestamp(&self, ts: i64) -> Result<Option<(u64, BatchHeader)>> {
        if self.max_timestamp < ts {
            return Ok(None);
        }
        let start = match self.time_index.last_below(ts) {
            Some(e) => u64::from(self.index.lookup(e.rel_offset).position),
            None => 0,
        };
        self.walk_headers(start, |h| h.max_timestamp >= ts)
    }

    /// Walks batch headers from `pos` (a batch start) to the end of the
    /// segment and returns the first batch matching `pred`.
    ///
    /// Headers are read in chunks of about one index interval, so the
    /// typical walk from an index entry costs one or two reads rather than
    /// one per batch.
    pub fn walk_headers(
        &self,
        mut pos: u64,
        mut pred: impl FnMut(&BatchHeader) -> bool,
    ) -> Result<Option<(u64, BatchHeader)>> {
        let chunk_len = (self.index_interval as usize + 4 * HEADER_LEN).clamp(4096, 1 << 20);
        let mut chunk = Vec::new();
        while pos < self.size {
            let len = ((self.size - pos) as usize).min(chunk_len);
            chunk.resize(len, 0);
            self.log
                .read_exact_at(&mut chunk, pos)
                .map_err(|e| StorageError::io(format!("reading {}", self.log_path.display()), e))?;
            let mut at = 0usize;
            // Parse every header that lies wholly inside the chunk; a batch
            // may run past it, which is fine since only headers are needed.
            while at + HEADER_LEN <= chunk.len() {
                let h = BatchHeader::parse(&chunk[at..])?;
                if pred(&h) {
                    return Ok(Some((pos + at as u64, h)));
                }
                at += h.total_len();
            }
            if at == 0 && chunk.len() < HEADER_LEN {
                // A valid segment never ends inside a header.
                return Err(StorageError::InvalidBatch(batch::BatchError::Truncated {
                    needed: HEADER_LEN,
                    available: chunk.len(),
                }));
            }
            pos += at as u64;
        }
        Ok(None)
    }

    /// Records the final time-index entry and fsyncs all three files; called
    /// when the segment stops being the active one and on clean shutdown.
    pub fn seal(&mut self) -> Result<()> {
        if self.last_batch_base >= 0
            && self.max_timestamp >= 0
            && self
                .time_index
                .last()
                .is_none_or(|e| e.timestamp < self.max_timestamp)
        {
            self.time_index.push(TimeEntry {
                timestamp: self.max_timestamp,
                rel_offset: (self.last_batch_base - self.base_offset) as u32,
            })?;
        }
        self.sync_all()
    }

    /// Syncs and closes the index file handles of a closed segment (its
    /// lookups use the in-memory entries), leaving one open file per
    /// closed segment.
    pub fn release_index_files(&mut self) -> Result<()> {
        self.index.release()?;
        self.time_index.release()
    }

    /// fsyncs the log and both indexes.
    pub fn sync_all(&mut self) -> Result<()> {
        self.log
            .sync_data()
            .map_err(|e| StorageError::io(format!("syncing {}", self.log_path.display()), e))?;
        fault::synced(&self.log_path, self.size);
        self.index.sync()?;
        self.time_index.sync()
    }

    /// Age reference for retention: the largest timestamp, or the log file's
    /// modification time when no batch carries a timestamp.
    pub fn retention_timestamp(&self) -> i64 {
        if self.max_timestamp >= 0 {
            return self.max_timestamp;
        }
        self.log
            .metadata()
            .and_then(|m| m.modified())
            .map_or(i64::MAX, system_time_ms)
    }

    /// Removes the segment's files (log first, so a crash leaves at most
    /// orphan index files, which the next open deletes).
    pub fn delete_files(&self) -> Result<()> {
        for p in [&self.log_path, self.index.path(), self.time_index.path()] {
            match std::fs::remove_file(p) {
                Ok(()) => fault::removed(p),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io(format!("deleting {}", p.display()), e)),
            }
        }
        Ok(())
    }

    /// Number of offset-index entries (for tests and diagnostics).
    #[cfg(test)]
    pub fn index_entries(&self) -> usize {
        self.index.entries().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{set_base_offset, BatchBuilder};

    fn append_n(seg: &mut Segment, n: usize) {
        for _ in 0..n {
            let mut b = BatchBuilder::new()
                .record(1000 + seg.next_offset, None, Some(&[7u8; 100]))
                .build();
            set_base_offset(&mut b, seg.next_offset);
            let h = BatchHeader::parse(&b).unwrap();
            seg.append(&b, &[(0, h)]).unwrap();
        }
    }

    #[test]
    fn append_find_and_reopen_with_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 100, 512).unwrap();
        append_n(&mut seg, 50);
        assert_eq!(seg.next_offset, 150);
        assert!(seg.index_entries() > 5);
        let (pos, h) = seg.find_offset(120).unwrap().unwrap();
        assert_eq!(h.base_offset, 120);
        assert_eq!(seg.header_at(pos).unwrap(), h);
        seg.seal().unwrap();
        let size = seg.size;
        drop(seg);
        for mode in [OpenMode::Trust, OpenMode::Recover] {
            let (seg, truncated) = Segment::open(dir.path(), 100, 512, mode).unwrap();
            assert_eq!(truncated, 0);
            assert_eq!(seg.size, size);
            assert_eq!(seg.next_offset, 150);
            assert_eq!(seg.max_timestamp, 1149);
            assert_eq!(seg.find_offset(149).unwrap().unwrap().1.base_offset, 149);
            assert_eq!(
                seg.find_timestamp(1130).unwrap().unwrap().1.base_offset,
                130
            );
            assert!(seg.find_timestamp(5000).unwrap().is_none());
        }
    }
}
