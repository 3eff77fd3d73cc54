//! A partition's log: an ordered list of segments with one active segment.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use chronik_common::TopicPartition;
use std::os::unix::fs::FileExt;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::batch::{self, BatchHeader, BatchIter};
use crate::error::{Result, StorageError};
use crate::segment::{self, OpenMode, Segment};
use crate::sync_dir;

mod lookup;

/// Per-partition log settings (derived from [`StorageConfig`](crate::StorageConfig)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// Roll the active segment when an append would grow it beyond this.
    pub segment_bytes: u64,
    /// Bytes of batches between two sparse index entries.
    pub index_interval_bytes: u64,
    /// Roll the active segment on the next append once its first batch is
    /// this old (Kafka's `segment.ms`), so that age retention can reach
    /// data of slow partitions. `None` rolls by size only.
    pub segment_ms: Option<i64>,
}

/// Retention limits applied by [`Partition::apply_retention`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Delete the oldest closed segments while the log exceeds this size.
    pub max_bytes: Option<u64>,
    /// Delete closed segments whose newest timestamp is older than this.
    pub max_age_ms: Option<i64>,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset assigned to the first record appended.
    pub base_offset: i64,
    /// Offset of the last record appended.
    pub last_offset: i64,
    /// Log start offset after the append.
    pub log_start_offset: i64,
    /// Whether this append first rolled to a new segment, which then starts
    /// at `base_offset`; everything below it is durable (the old segment was
    /// fsynced by the roll).
    pub rolled: bool,
}

/// Data returned by [`Partition::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadResult {
    /// Whole record batches, as stored, starting with the batch that contains
    /// the requested offset (so the first batch may start before it). Empty
    /// when the requested offset is the log end offset.
    pub records: Bytes,
    /// The log end offset when the read happened (the high watermark of
    /// this single-replica log).
    pub log_end_offset: i64,
    /// The log start offset when the read happened.
    pub log_start_offset: i64,
}

/// Result of a timestamp lookup ([`Partition::offset_for_timestamp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOffset {
    /// Offset of the first record with a timestamp at or after the target
    /// (for compressed batches: the base offset of the first batch whose
    /// `maxTimestamp` reaches the target).
    pub offset: i64,
    /// That record's timestamp (for compressed batches an estimate: the
    /// batch's base timestamp if it reaches the target, else its max).
    pub timestamp: i64,
}

/// One topic-partition's log. Shared as `Arc<Partition>`; every method takes
/// `&self`.
///
/// Appends are serialised by a write lock held only while bytes are handed
/// to the kernel (no fsync, except when rolling a segment). Reads hold a read
/// lock only to locate the data, then read it with positional reads outside
/// the lock. Written bytes never change, and a segment deleted by retention
/// stays readable through open handles, so readers see consistent data.
#[derive(Debug)]
pub struct Partition {
    tp: TopicPartition,
    dir: PathBuf,
    config: LogConfig,
    inner: RwLock<Inner>,
    leo_tx: watch::Sender<i64>,
    log_start: AtomicI64,
    durable: AtomicI64,
    flush_lock: Mutex<()>,
    closed: AtomicBool,
    failed: AtomicBool,
}

#[derive(Debug)]
struct Inner {
    /// Sorted by base offset; never empty; the last one is active.
    segments: Vec<Segment>,
}

impl Inner {
    fn active(&self) -> &Segment {
        self.segments.last().expect("a log always has a segment")
    }
    fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .last_mut()
            .expect("a log always has a segment")
    }
    fn log_end(&self) -> i64 {
        self.active().next_offset
    }
    fn log_start(&self) -> i64 {
        self.segments[0].base_offset
    }
}

impl Partition {
    /// Opens (or initialises) the log in `dir`.
    ///
    /// `clean` says the previous shutdown flushed and sealed everything; then
    /// indexes are trusted and only the batches after each segment's last
    /// index entry are validated. Otherwise the active (last) segment is
    /// fully validated and re-indexed, and closed segments get the trusted
    /// check (they were fsynced when they were rolled).
    pub fn open(tp: TopicPartition, dir: &Path, config: LogConfig, clean: bool) -> Result<Self> {
        crate::fault::create_dir_all(dir)
            .map_err(|e| StorageError::io(format!("creating {}", dir.display()), e))?;
        let mut bases = Vec::new();
        let mut index_files = Vec::new();
        let rd = std::fs::read_dir(dir)
            .map_err(|e| StorageError::io(format!("listing {}", dir.display()), e))?;
        for entry in rd {
            let entry =
                entry.map_err(|e| StorageError::io(format!("listing {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((stem, ext)) = name.split_once('.') else {
                continue;
            };
            let base = if stem.len() == 20 {
                stem.parse::<i64>().ok()
            } else {
                None
            };
            match (base, ext) {
                (Some(b), "log") => bases.push(b),
                (Some(b), "index" | "timeindex") => index_files.push((b, entry.path())),
                // Files other layers keep beside the log (see FORMAT.md).
                (None, "snapshot" | "snapshot.tmp") => {}
                _ => {
                    warn!(file = %entry.path().display(), "ignoring unexpected file in partition directory")
                }
            }
        }
        bases.sort_unstable();
        for (b, path) in index_files {
            if bases.binary_search(&b).is_err() {
                info!(file = %path.display(), "removing index without a log file");
                std::fs::remove_file(&path)
                    .map_err(|e| StorageError::io(format!("removing {}", path.display()), e))?;
                crate::fault::removed(&path);
            }
        }
        let mut segments = Vec::with_capacity(bases.len().max(1));
        if bases.is_empty() {
            segments.push(Segment::create(dir, 0, config.index_interval_bytes)?);
            sync_dir(dir)?;
        }
        let n = bases.len();
        for (i, base) in bases.into_iter().enumerate() {
            let mode = if clean || i + 1 < n {
                OpenMode::Trust
            } else {
                OpenMode::Recover
            };
            let (mut seg, truncated) = Segment::open(dir, base, config.index_interval_bytes, mode)?;
            if i + 1 < n {
                seg.release_index_files()?;
            }
            if truncated > 0 && i + 1 < n {
                warn!(partition = %tp, base, "a closed segment lost its tail; offsets after it may be missing");
            }
            if let Some(prev) = segments.last() {
                if prev.next_offset != seg.base_offset {
                    warn!(
                        partition = %tp,
                        previous_end = prev.next_offset,
                        next_base = seg.base_offset,
                        "segments are not contiguous"
                    );
                }
            }
            segments.push(seg);
        }
        let inner = Inner { segments };
        // Whatever survived recovery is made durable now, so the durable
        // offset starts at the log end. After a clean close it already is.
        if !clean {
            let active = inner.active();
            active
                .log
                .sync_data()
                .map_err(|e| StorageError::io(format!("syncing log in {}", dir.display()), e))?;
            crate::fault::synced(active.log_path(), active.size);
        }
        let leo = inner.log_end();
        let lso = inner.log_start();
        Ok(Partition {
            tp,
            dir: dir.to_path_buf(),
            config,
            inner: RwLock::new(inner),
            leo_tx: watch::Sender::new(leo),
            log_start: AtomicI64::new(lso),
            durable: AtomicI64::new(leo),
            flush_lock: Mutex::new(()),
            closed: AtomicBool::new(false),
            failed: AtomicBool::new(false),
        })
    }

    fn read_inner(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_inner(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The topic-partition this log stores.
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    /// The directory holding the segment files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Offset the next appended record will get.
    pub fn log_end_offset(&self) -> i64 {
        *self.leo_tx.borrow()
    }

    /// First offset still stored (advances when retention deletes segments).
    pub fn log_start_offset(&self) -> i64 {
        self.log_start.load(Ordering::Acquire)
    }

    /// Offset below which every record has been fsynced.
    pub fn durable_offset(&self) -> i64 {
        self.durable.load(Ordering::Acquire)
    }

    /// Whether appended data awaits an fsync.
    pub fn is_dirty(&self) -> bool {
        self.durable_offset() < self.log_end_offset()
    }

    /// Whether the partition was closed (topic deleted or shutdown).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// A receiver of the log end offset, updated after every append; fetch
    /// requests waiting for data await `changed()` on it. The sender lives as
    /// long as the partition.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.leo_tx.subscribe()
    }

    /// Total bytes of all segment files.
    pub fn size_bytes(&self) -> u64 {
        self.read_inner().segments.iter().map(|s| s.size).sum()
    }

    /// Number of segments (including the active one).
    pub fn segment_count(&self) -> usize {
        self.read_inner().segments.len()
    }

    /// Appends whole v2 record batches, assigning consecutive offsets
    /// starting at the log end offset by rewriting each batch's base offset
    /// (and setting its partition leader epoch to [`LEADER_EPOCH`](crate::LEADER_EPOCH))
    /// in `records`; the caller's buffer ends up holding exactly what was
    /// written.
    ///
    /// Checks framing (magic 2, lengths, no trailing bytes, non-negative
    /// `lastOffsetDelta`) but not CRCs: the produce path validates those
    /// before calling. Blocking: writes to the page cache, and fsyncs the old
    /// segment when this append rolls to a new one.
    pub fn append(&self, records: &mut [u8]) -> Result<AppendInfo> {
        let mut headers: Vec<(usize, BatchHeader)> = Vec::new();
        let mut count: i64 = 0;
        for b in BatchIter::new(records) {
            let b = b?;
            if b.header.last_offset_delta < 0 {
                return Err(StorageError::InvalidBatch(
                    batch::BatchError::InvalidLength(b.header.batch_length),
                ));
            }
            count += i64::from(b.header.last_offset_delta) + 1;
            headers.push((b.position, b.header));
        }
        if headers.is_empty() {
            return Err(StorageError::InvalidBatch(batch::BatchError::Truncated {
                needed: batch::HEADER_LEN,
                available: records.len(),
            }));
        }
        let mut inner = self.write_inner();
        if self.is_closed() {
            return Err(StorageError::Closed);
        }
        if self.failed.load(Ordering::Acquire) {
            return Err(StorageError::Failed);
        }
        let base = inner.log_end();
        let active = inner.active();
        let too_big = active.size + records.len() as u64 > self.config.segment_bytes;
        let offsets_overflow = base + count - active.base_offset > i64::from(u32::MAX);
        let too_old = self
            .config
            .segment_ms
            .is_some_and(|ms| segment::now_ms().saturating_sub(active.first_append_ms) >= ms);
        let rolled = active.size > 0 && (too_big || offsets_overflow || too_old);
        if rolled {
            self.roll(&mut inner)?;
        }
        let mut next = base;
        for (pos, h) in headers.iter_mut() {
            batch::set_base_offset(&mut records[*pos..], next);
            batch::set_partition_leader_epoch(&mut records[*pos..], crate::LEADER_EPOCH);
            h.base_offset = next;
            h.partition_leader_epoch = crate::LEADER_EPOCH;
            next = h.last_offset() + 1;
        }
        inner.active_mut().append(records, &headers)?;
        // Published under the append lock so that concurrent appends can
        // never make the visible log end go backwards.
        self.leo_tx.send_replace(next);
        drop(inner);
        Ok(AppendInfo {
            base_offset: base,
            last_offset: next - 1,
            log_start_offset: self.log_start_offset(),
            rolled,
        })
    }

    /// Seals the active segment and starts a new one at the log end offset.
    fn roll(&self, inner: &mut Inner) -> Result<()> {
        let new_base = inner.log_end();
        if let Err(e) = inner
            .active_mut()
            .seal()
            .and_then(|()| inner.active_mut().release_index_files())
        {
            self.failed.store(true, Ordering::Release);
            return Err(e);
        }
        let seg = Segment::create(&self.dir, new_base, self.config.index_interval_bytes)?;
        sync_dir(&self.dir)?;
        inner.segments.push(seg);
        // Everything before the new segment is now on disk.
        self.durable.fetch_max(new_base, Ordering::AcqRel);
        Ok(())
    }

    /// Reads whole batches starting with the one containing `offset`, up to
    /// `max_bytes` in total but always at least one whole batch when
    /// `offset` is below the log end. Batches come from one segment only.
    ///
    /// `offset == log_end_offset` returns empty records; an offset below the
    /// log start or above the log end is [`StorageError::OffsetOutOfRange`].
    /// Every returned batch has a verified CRC: a corrupt stored batch ends
    /// the data before it, or is [`StorageError::CorruptBatch`] when first.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<ReadResult> {
        let (file, start, end, first_len, leo, lso) = {
            let inner = self.read_inner();
            let leo = inner.log_end();
            let lso = inner.log_start();
            if offset < lso || offset > leo {
                return Err(StorageError::OffsetOutOfRange {
                    requested: offset,
                    log_start_offset: lso,
                    log_end_offset: leo,
                });
            }
            let first = inner
                .segments
                .partition_point(|s| s.base_offset <= offset)
                .saturating_sub(1);
            let mut found = None;
            for seg in &inner.segments[first..] {
                if let Some((pos, h)) = seg.find_offset(offset)? {
                    found = Some((seg.log.clone(), pos, seg.size, h.total_len()));
                    break;
                }
            }
            match found {
                Some((file, pos, size, len)) => (file, pos, size, len, leo, lso),
                None => {
                    return Ok(ReadResult {
                        records: Bytes::new(),
                        log_end_offset: leo,
                        log_start_offset: lso,
                    })
                }
            }
        };
        let avail = (end - start) as usize;
        if first_len > avail {
            // Only a header damaged on disk can claim more than is there.
            return Err(StorageError::CorruptBatch {
                partition: self.tp.to_string(),
                offset,
                position: start,
            });
        }
        let want = max_bytes.min(avail).max(first_len);
        let mut buf = vec![0u8; want];
        file.read_exact_at(&mut buf, start)
            .map_err(|e| StorageError::io(format!("reading {}", self.tp), e))?;
        // Keep whole batches only, and never hand out one whose CRC fails
        // (bit rot after recovery): stop before it, or fail if it is first.
        // `buf` holds at least the whole first batch, so a first batch that
        // does not parse or fails its CRC is corrupt on disk.
        let mut whole = 0;
        for b in BatchIter::new(&buf) {
            let intact = match &b {
                Ok(b) => b.verify_crc().is_ok(),
                Err(_) => whole > 0, // a batch cut off by `max_bytes`
            };
            if !intact {
                if whole == 0 {
                    return Err(StorageError::CorruptBatch {
                        partition: self.tp.to_string(),
                        offset,
                        position: start,
                    });
                }
                warn!(partition = %self.tp, position = start + whole as u64, "corrupt batch not served");
                break;
            }
            match b {
                Ok(b) => whole = b.position + b.bytes.len(),
                Err(_) => break,
            }
        }
        buf.truncate(whole);
        Ok(ReadResult {
            records: Bytes::from(buf),
            log_end_offset: leo,
            log_start_offset: lso,
        })
    }

    /// Calls `f` with the header of every batch from the one containing
    /// `from_offset` to the log end (used to rebuild producer state).
    /// Holds the partition's read lock throughout, so appends wait: meant
    /// for startup, not for request handling.
    pub fn scan_headers(&self, from_offset: i64, mut f: impl FnMut(&BatchHeader)) -> Result<()> {
        let inner = self.read_inner();
        let from = from_offset.max(inner.log_start());
        for seg in &inner.segments {
            if seg.next_offset <= from {
                continue;
            }
            let pos = match seg.find_offset(from)? {
                Some((pos, _)) => pos,
                None => 0,
            };
            seg.walk_headers(pos, |h| {
                f(h);
                false
            })?;
        }
        Ok(())
    }

    /// fsyncs the active segment's log file so that every record appended
    /// before the call is durable, and returns the new durable offset.
    ///
    /// Only the log data is synced: closed segments and their indexes were
    /// synced when rolled, and the active segment's indexes are rebuilt by
    /// recovery after an unclean stop (and synced by [`Partition::close`]).
    /// Appends proceed while the fsync runs. Concurrent flushes serialise.
    /// After an fsync error the partition refuses further writes.
    pub fn flush(&self) -> Result<i64> {
        let _guard = self
            .flush_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.failed.load(Ordering::Acquire) {
            return Err(StorageError::Failed);
        }
        // Appends hold the write lock, so under the read lock every byte
        // up to `size` is written: the fsync below covers all of them.
        let (file, target, path, len) = {
            let inner = self.read_inner();
            let active = inner.active();
            (
                active.log.clone(),
                inner.log_end(),
                active.log_path().to_path_buf(),
                active.size,
            )
        };
        if target <= self.durable_offset() {
            return Ok(self.durable_offset());
        }
        if let Err(e) = file.sync_data() {
            self.failed.store(true, Ordering::Release);
            return Err(StorageError::io(format!("fsync of {}", self.tp), e));
        }
        crate::fault::synced(&path, len);
        self.durable.fetch_max(target, Ordering::AcqRel);
        Ok(self.durable_offset())
    }

    /// Stops accepting appends, then seals and fsyncs the active segment
    /// and its indexes. Reads keep working.
    pub fn close(&self) -> Result<()> {
        let mut inner = self.write_inner();
        self.closed.store(true, Ordering::Release);
        if self.failed.load(Ordering::Acquire) {
            return Err(StorageError::Failed);
        }
        let leo = inner.log_end();
        inner.active_mut().seal()?;
        self.durable.fetch_max(leo, Ordering::AcqRel);
        Ok(())
    }

    /// Marks the partition closed without syncing (its topic is being deleted).
    pub(crate) fn mark_closed(&self) {
        let _inner = self.write_inner();
        self.closed.store(true, Ordering::Release);
    }

    /// Deletes the oldest closed segments that break `policy`: while the log
    /// is larger than `max_bytes` by at least the oldest segment's size, or
    /// while the oldest segment's newest timestamp is older than
    /// `now_ms - max_age_ms`. The active segment is never deleted. Returns
    /// the number of segments deleted; the log start offset advances to the
    /// first remaining segment.
    pub fn apply_retention(&self, policy: &RetentionPolicy, now_ms: i64) -> Result<usize> {
        if policy.max_bytes.is_none() && policy.max_age_ms.is_none() {
            return Ok(0);
        }
        let removed: Vec<Segment> = {
            let mut inner = self.write_inner();
            let total: u64 = inner.segments.iter().map(|s| s.size).sum();
            let mut excess = policy.max_bytes.map(|m| total.saturating_sub(m));
            let closed = inner.segments.len() - 1;
            let mut n = 0;
            for seg in &inner.segments[..closed] {
                let by_size = excess.is_some_and(|x| x >= seg.size && x > 0);
                let by_age = policy
                    .max_age_ms
                    .is_some_and(|age| seg.retention_timestamp() < now_ms.saturating_sub(age));
                if !(by_size || by_age) {
                    break;
                }
                if let Some(x) = excess.as_mut() {
                    *x = x.saturating_sub(seg.size);
                }
                n += 1;
            }
            let removed: Vec<Segment> = inner.segments.drain(..n).collect();
            self.log_start.store(inner.log_start(), Ordering::Release);
            removed
        };
        for seg in &removed {
            info!(partition = %self.tp, base_offset = seg.base_offset, bytes = seg.size, "retention: deleting segment");
            seg.delete_files()?;
        }
        Ok(removed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::BatchBuilder;

    fn cfg(segment_bytes: u64) -> LogConfig {
        LogConfig {
            segment_bytes,
            index_interval_bytes: 256,
            segment_ms: None,
        }
    }

    fn batch(ts: i64, n: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new();
        for i in 0..n {
            b = b.record(ts, None, Some(format!("value-{i}").as_bytes()));
        }
        b.build()
    }

    #[test]
    fn append_assigns_offsets_and_read_returns_batches() {
        let dir = tempfile::tempdir().unwrap();
        let p =
            Partition::open(TopicPartition::new("t", 0), dir.path(), cfg(1 << 20), false).unwrap();
        let mut a = batch(1, 3);
        let info = p.append(&mut a).unwrap();
        assert_eq!((info.base_offset, info.last_offset), (0, 2));
        let mut two = batch(2, 2);
        two.extend_from_slice(&batch(3, 1));
        let info = p.append(&mut two).unwrap();
        assert_eq!((info.base_offset, info.last_offset), (3, 5));
        assert_eq!(p.log_end_offset(), 6);
        let r = p.read(4, 1 << 20).unwrap();
        let hs: Vec<i64> = BatchIter::new(&r.records)
            .map(|b| b.unwrap().header.base_offset)
            .collect();
        assert_eq!(hs, vec![3, 5]);
        assert_eq!(r.log_end_offset, 6);
        assert!(p.read(6, 100).unwrap().records.is_empty());
        assert!(matches!(
            p.read(7, 100),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
        assert!(matches!(
            p.read(-1, 100),
            Err(StorageError::OffsetOutOfRange { .. })
        ));
    }

    #[test]
    fn read_returns_at_least_one_batch_and_only_whole_batches() {
        let dir = tempfile::tempdir().unwrap();
        let p =
            Partition::open(TopicPartition::new("t", 0), dir.path(), cfg(1 << 20), false).unwrap();
        let one = batch(1, 5);
        for _ in 0..4 {
            p.append(&mut one.clone()).unwrap();
        }
        let r = p.read(0, 1).unwrap();
        assert_eq!(r.records.len(), one.len());
        let r = p.read(0, one.len() * 2 + 10).unwrap();
        assert_eq!(r.records.len(), one.len() * 2);
    }

    #[test]
    fn old_active_segment_rolls_on_append() {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            segment_ms: Some(1),
            ..cfg(1 << 20)
        };
        let p = Partition::open(TopicPartition::new("t", 0), dir.path(), config, false).unwrap();
        assert!(!p.append(&mut batch(1, 1)).unwrap().rolled);
        assert_eq!(p.segment_count(), 1);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let info = p.append(&mut batch(1, 1)).unwrap();
        assert!(info.rolled);
        assert_eq!(info.base_offset, 1);
        assert_eq!(p.segment_count(), 2, "the first segment was 20ms old");
        // Without a time limit the same appends share a segment.
        let dir = tempfile::tempdir().unwrap();
        let p =
            Partition::open(TopicPartition::new("t", 0), dir.path(), cfg(1 << 20), false).unwrap();
        p.append(&mut batch(1, 1)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        p.append(&mut batch(1, 1)).unwrap();
        assert_eq!(p.segment_count(), 1);
    }

    #[test]
    fn flush_tracks_durable_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p =
            Partition::open(TopicPartition::new("t", 0), dir.path(), cfg(1 << 20), false).unwrap();
        assert!(!p.is_dirty());
        p.append(&mut batch(1, 2)).unwrap();
        assert!(p.is_dirty());
        assert_eq!(p.flush().unwrap(), 2);
        assert!(!p.is_dirty());
    }

    #[test]
    fn closed_partition_refuses_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p =
            Partition::open(TopicPartition::new("t", 0), dir.path(), cfg(1 << 20), false).unwrap();
        p.close().unwrap();
        assert!(matches!(
            p.append(&mut batch(1, 1)),
            Err(StorageError::Closed)
        ));
    }

    #[test]
    fn garbage_is_rejected_without_appending() {
        let dir = tempfile::tempdir().unwrap();
        let p =
            Partition::open(TopicPartition::new("t", 0), dir.path(), cfg(1 << 20), false).unwrap();
        let mut b = batch(1, 2);
        b.extend_from_slice(&[1, 2, 3]);
        assert!(matches!(
            p.append(&mut b),
            Err(StorageError::InvalidBatch(_))
        ));
        assert!(matches!(
            p.append(&mut []),
            Err(StorageError::InvalidBatch(_))
        ));
        assert_eq!(p.log_end_offset(), 0);
    }
}
