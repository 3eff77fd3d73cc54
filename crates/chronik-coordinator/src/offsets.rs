//! Durable committed offsets: an append-only log of CRC-checked records,
//! replayed into memory at open and compacted once it is mostly dead weight.
//!
//! # File format (`offsets.log`)
//!
//! The file is a sequence of records, all integers big-endian:
//!
//! ```text
//! u32 body length | u32 CRC-32C of body | body
//! body: u8 format (1) | u8 kind (1 = commit) | i64 commit time (ms since epoch)
//!       | str16 group | u32 entry count | entries
//! entry: str16 topic | i32 partition | i64 offset | i32 leader epoch
//!        | i32 metadata length (-1 = null) | metadata bytes
//! ```
//!
//! One record holds everything one OffsetCommit request stored for a group,
//! so a request is durable as a whole or not at all: a record torn by a crash
//! fails its CRC or is cut short, and replay stops there. The unreadable tail
//! is copied aside (`offsets.log.corrupt-<ms>`) and cut off, so later appends
//! never land behind garbage.
//!
//! Compaction rewrites the live offsets as one record per group into a
//! temporary file, fsyncs it and renames it over the log.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use chronik_common::{Error, Result, TopicPartition};

const LOG_NAME: &str = "offsets.log";
const COMPACT_NAME: &str = "offsets.log.compact";
const FORMAT: u8 = 1;
const KIND_COMMIT: u8 = 1;
/// Length and CRC prefix of every record.
const HEADER: usize = 8;
/// Longest group id or topic name a record can hold (u16 length prefix).
pub(crate) const MAX_NAME_BYTES: usize = u16::MAX as usize;

/// One committed offset, as stored and as returned by OffsetFetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// The next offset the group will consume from this partition.
    pub offset: i64,
    /// Leader epoch of the committed record, or -1 if the client gave none.
    pub leader_epoch: i32,
    /// Free-form metadata the client stored with the offset.
    pub metadata: Option<String>,
    /// When the commit was stored, in milliseconds since the Unix epoch.
    pub commit_timestamp_ms: i64,
}

/// Offsets of one group, keyed by topic-partition.
pub type GroupOffsets = BTreeMap<TopicPartition, CommittedOffset>;

struct LogFile {
    file: File,
    /// Bytes of valid records in the file; a failed append is cut back to it.
    len: u64,
    /// Records in the file, live or superseded.
    records: u64,
    /// Set when a failed append could not be undone; all later commits fail.
    broken: bool,
}

/// The offsets of every group: an in-memory map backed by the log.
pub(crate) struct OffsetStore {
    dir: PathBuf,
    fsync: bool,
    compact_after: u64,
    log: Mutex<LogFile>,
    map: RwLock<BTreeMap<String, GroupOffsets>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl OffsetStore {
    /// Opens (creating if needed) the log in `dir` and replays it.
    pub(crate) fn open(dir: &Path, fsync: bool, compact_after: u64) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(LOG_NAME);
        // A compaction interrupted before its rename leaves a temporary file
        // that the log never depended on.
        let stale = dir.join(COMPACT_NAME);
        if stale.exists() {
            std::fs::remove_file(&stale)
                .map_err(|e| Error::io(format!("removing {}", stale.display()), e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;

        let mut map = BTreeMap::new();
        let (valid, records) = replay(&data, &mut map).map_err(|message| {
            Error::InvalidConfig(format!("offsets log {}: {message}", path.display()))
        })?;
        if valid < data.len() {
            let aside = dir.join(format!("{LOG_NAME}.corrupt-{}", now_ms()));
            tracing::warn!(
                path = %path.display(),
                valid_bytes = valid,
                dropped_bytes = data.len() - valid,
                copy = %aside.display(),
                "offsets log ends in an incomplete or corrupt record (crash during a commit?); \
                 keeping the valid prefix"
            );
            std::fs::write(&aside, &data[valid..])
                .map_err(|e| Error::io(format!("writing {}", aside.display()), e))?;
            file.set_len(valid as u64)
                .map_err(|e| Error::io(format!("truncating {}", path.display()), e))?;
            file.sync_all()
                .map_err(|e| Error::io(format!("syncing {}", path.display()), e))?;
        }
        let store = OffsetStore {
            dir: dir.to_path_buf(),
            fsync,
            compact_after,
            log: Mutex::new(LogFile {
                file,
                len: valid as u64,
                records,
                broken: false,
            }),
            map: RwLock::new(map),
        };
        store.maybe_compact(&mut lock(&store.log));
        Ok(store)
    }

    /// Durably stores `entries` for `group`, then makes them visible.
    ///
    /// Blocking (write and fsync): call it from a blocking-capable thread.
    pub(crate) fn commit(
        &self,
        group: &str,
        entries: Vec<(TopicPartition, CommittedOffset)>,
    ) -> std::io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let record = encode_record(group, &entries, now_ms());
        let mut log = lock(&self.log);
        if log.broken {
            return Err(std::io::Error::other(
                "offsets log is unusable after an earlier write failure",
            ));
        }
        let written = log.file.write_all(&record).and_then(|()| {
            if self.fsync {
                log.file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            // Cut off whatever part of the record reached the file, so that
            // the next append does not follow a torn record.
            let len = log.len;
            if let Err(undo) = log.file.set_len(len) {
                tracing::error!(error = %undo, "cannot undo a failed offsets append; refusing further commits");
                log.broken = true;
            }
            return Err(e);
        }
        log.len += record.len() as u64;
        log.records += 1;
        {
            let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
            let offsets = map.entry(group.to_string()).or_default();
            for (tp, committed) in entries {
                offsets.insert(tp, committed);
            }
        }
        self.maybe_compact(&mut log);
        Ok(())
    }

    /// The committed offset of one partition.
    pub(crate) fn get(&self, group: &str, tp: &TopicPartition) -> Option<CommittedOffset> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(group).and_then(|g| g.get(tp)).cloned()
    }

    /// Every committed offset of one group.
    pub(crate) fn group(&self, group: &str) -> GroupOffsets {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(group).cloned().unwrap_or_default()
    }

    /// Whether the group has any committed offset.
    pub(crate) fn has_group(&self, group: &str) -> bool {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.contains_key(group)
    }

    /// Names of the groups with committed offsets.
    pub(crate) fn group_names(&self) -> Vec<String> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.keys().cloned().collect()
    }

    /// Every committed offset of every group.
    pub(crate) fn all(&self) -> BTreeMap<String, GroupOffsets> {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn maybe_compact(&self, log: &mut LogFile) {
        let groups = self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64;
        if log.broken || log.records < self.compact_after || log.records <= 2 * groups {
            return;
        }
        if let Err(e) = self.compact(log) {
            tracing::warn!(error = %e, "offsets log compaction failed; keeping the full log");
        }
    }

    /// Rewrites the log as one record per group. Called with the log locked,
    /// so no commit can slip in between the snapshot and the rename.
    fn compact(&self, log: &mut LogFile) -> std::io::Result<()> {
        let snapshot = self.all();
        let tmp = self.dir.join(COMPACT_NAME);
        let path = self.dir.join(LOG_NAME);
        let mut data = Vec::new();
        for (group, offsets) in &snapshot {
            // Oldest timestamp of the group: informational only.
            let ts = offsets
                .values()
                .map(|c| c.commit_timestamp_ms)
                .min()
                .unwrap_or_else(now_ms);
            let entries: Vec<_> = offsets
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            data.extend_from_slice(&encode_record(group, &entries, ts));
        }
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let file = OpenOptions::new().read(true).append(true).open(&path)?;
        tracing::debug!(
            before = log.records,
            after = snapshot.len(),
            "compacted offsets log"
        );
        *log = LogFile {
            file,
            len: data.len() as u64,
            records: snapshot.len() as u64,
            broken: false,
        };
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn record_count(&self) -> u64 {
        lock(&self.log).records
    }
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    // Callers reject longer names (topics are at most 249 bytes, group ids
    // are checked against MAX_NAME_BYTES); cutting at a character boundary
    // only guards the record format.
    let mut end = s.len().min(MAX_NAME_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(&s.as_bytes()[..end]);
}

fn encode_record(group: &str, entries: &[(TopicPartition, CommittedOffset)], ts: i64) -> Vec<u8> {
    let mut body = Vec::with_capacity(32 + entries.len() * 48);
    body.push(FORMAT);
    body.push(KIND_COMMIT);
    body.extend_from_slice(&ts.to_be_bytes());
    put_str16(&mut body, group);
    body.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (tp, c) in entries {
        put_str16(&mut body, &tp.topic);
        body.extend_from_slice(&tp.partition.to_be_bytes());
        body.extend_from_slice(&c.offset.to_be_bytes());
        body.extend_from_slice(&c.leader_epoch.to_be_bytes());
        match &c.metadata {
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(m) => {
                body.extend_from_slice(&(m.len() as i32).to_be_bytes());
                body.extend_from_slice(m.as_bytes());
            }
        }
    }
    let mut record = Vec::with_capacity(HEADER + body.len());
    record.extend_from_slice(&(body.len() as u32).to_be_bytes());
    record.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
    record.extend_from_slice(&body);
    record
}

/// A cursor over one record body; every read fails cleanly when short.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            i64::from_be_bytes(a)
        })
    }
    fn str16(&mut self) -> Option<String> {
        let len = self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))?;
        let bytes = self.take(len as usize)?;
        String::from_utf8(bytes.to_vec()).ok()
    }
}

/// The decoded content of one commit record.
type Decoded = (String, Vec<(TopicPartition, CommittedOffset)>);

/// Why a record body could not be decoded.
enum BodyError {
    /// Cut short or inconsistent: treated like a torn write.
    Malformed,
    /// Intact but written by a newer format version.
    Unsupported { format: u8, kind: u8 },
}

fn decode_body(body: &[u8]) -> std::result::Result<Decoded, BodyError> {
    let mut r = Reader { buf: body };
    let short = || BodyError::Malformed;
    let format = r.u8().ok_or_else(short)?;
    let kind = r.u8().ok_or_else(short)?;
    if format != FORMAT || kind != KIND_COMMIT {
        return Err(BodyError::Unsupported { format, kind });
    }
    let ts = r.i64().ok_or_else(short)?;
    let group = r.str16().ok_or_else(short)?;
    let count = r.u32().ok_or_else(short)?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let topic = r.str16().ok_or_else(short)?;
        let partition = r.i32().ok_or_else(short)?;
        let offset = r.i64().ok_or_else(short)?;
        let leader_epoch = r.i32().ok_or_else(short)?;
        let len = r.i32().ok_or_else(short)?;
        let metadata = if len < 0 {
            None
        } else {
            let bytes = r.take(len as usize).ok_or_else(short)?;
            Some(String::from_utf8(bytes.to_vec()).map_err(|_| short())?)
        };
        entries.push((
            TopicPartition::new(topic, partition),
            CommittedOffset {
                offset,
                leader_epoch,
                metadata,
                commit_timestamp_ms: ts,
            },
        ));
    }
    if !r.buf.is_empty() {
        return Err(short());
    }
    Ok((group, entries))
}

/// Applies every valid record of `data` to `map`. Returns the length of the
/// valid prefix and the number of records in it; an error only for a record
/// that is intact but not understood.
fn replay(
    data: &[u8],
    map: &mut BTreeMap<String, GroupOffsets>,
) -> std::result::Result<(usize, u64), String> {
    let mut pos = 0;
    let mut records = 0;
    while data.len() - pos >= HEADER {
        let len =
            u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let crc = u32::from_be_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]);
        if data.len() - pos - HEADER < len {
            break;
        }
        let body = &data[pos + HEADER..pos + HEADER + len];
        if crc32c::crc32c(body) != crc {
            break;
        }
        let (group, entries) = match decode_body(body) {
            Ok(decoded) => decoded,
            // The CRC matched, so a newer version wrote this on purpose:
            // refuse to start rather than silently drop committed offsets.
            Err(BodyError::Unsupported { format, kind }) => {
                return Err(format!(
                    "record at byte {pos} has format {format} kind {kind}, \
                     which this version does not understand"
                ))
            }
            Err(BodyError::Malformed) => break,
        };
        let offsets = map.entry(group).or_default();
        for (tp, committed) in entries {
            offsets.insert(tp, committed);
        }
        pos += HEADER + len;
        records += 1;
    }
    Ok((pos, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        topic: &str,
        p: i32,
        offset: i64,
        meta: Option<&str>,
    ) -> (TopicPartition, CommittedOffset) {
        (
            TopicPartition::new(topic, p),
            CommittedOffset {
                offset,
                leader_epoch: -1,
                metadata: meta.map(str::to_string),
                commit_timestamp_ms: 0,
            },
        )
    }

    #[test]
    fn commits_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = OffsetStore::open(dir.path(), true, 1000).unwrap();
            s.commit(
                "g",
                vec![entry("t", 0, 5, Some("m")), entry("t", 1, 7, None)],
            )
            .unwrap();
            s.commit("g", vec![entry("t", 0, 9, None)]).unwrap();
            s.commit("h", vec![entry("u", 3, 1, Some(""))]).unwrap();
        }
        let s = OffsetStore::open(dir.path(), true, 1000).unwrap();
        let g = s.group("g");
        assert_eq!(g.len(), 2);
        assert_eq!(g[&TopicPartition::new("t", 0)].offset, 9);
        assert_eq!(g[&TopicPartition::new("t", 0)].metadata, None);
        assert_eq!(g[&TopicPartition::new("t", 1)].offset, 7);
        assert_eq!(
            s.get("h", &TopicPartition::new("u", 3))
                .unwrap()
                .metadata
                .as_deref(),
            Some("")
        );
        assert_eq!(s.group_names(), vec!["g".to_string(), "h".to_string()]);
    }

    #[test]
    fn torn_tail_is_dropped_and_later_appends_survive() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = OffsetStore::open(dir.path(), false, 1000).unwrap();
            s.commit("g", vec![entry("t", 0, 1, None)]).unwrap();
            s.commit("g", vec![entry("t", 0, 2, None)]).unwrap();
        }
        // Simulate a crash in the middle of writing the second record.
        let path = dir.path().join(LOG_NAME);
        let len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        {
            let s = OffsetStore::open(dir.path(), false, 1000).unwrap();
            assert_eq!(s.get("g", &TopicPartition::new("t", 0)).unwrap().offset, 1);
            s.commit("g", vec![entry("t", 1, 10, None)]).unwrap();
        }
        let s = OffsetStore::open(dir.path(), false, 1000).unwrap();
        assert_eq!(s.get("g", &TopicPartition::new("t", 0)).unwrap().offset, 1);
        assert_eq!(s.get("g", &TopicPartition::new("t", 1)).unwrap().offset, 10);
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("corrupt")
            })
            .count();
        assert_eq!(aside, 1, "the dropped tail is kept for inspection");
    }

    #[test]
    fn flipped_bit_fails_the_crc() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = OffsetStore::open(dir.path(), false, 1000).unwrap();
            s.commit("g", vec![entry("t", 0, 1, None)]).unwrap();
            s.commit("g", vec![entry("t", 0, 2, None)]).unwrap();
        }
        let path = dir.path().join(LOG_NAME);
        let mut data = std::fs::read(&path).unwrap();
        let last = data.len() - 5;
        data[last] ^= 0x40;
        std::fs::write(&path, &data).unwrap();
        let s = OffsetStore::open(dir.path(), false, 1000).unwrap();
        assert_eq!(s.get("g", &TopicPartition::new("t", 0)).unwrap().offset, 1);
    }

    #[test]
    fn record_from_a_newer_format_is_refused_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = vec![9u8, 1];
        body.extend_from_slice(&[0; 8]);
        let mut rec = (body.len() as u32).to_be_bytes().to_vec();
        rec.extend_from_slice(&crc32c::crc32c(&body).to_be_bytes());
        rec.extend_from_slice(&body);
        std::fs::write(dir.path().join(LOG_NAME), &rec).unwrap();
        let err = OffsetStore::open(dir.path(), false, 1000)
            .err()
            .expect("must refuse")
            .to_string();
        assert!(err.contains("does not understand"), "{err}");
    }

    #[test]
    fn compaction_keeps_latest_offsets_and_shrinks_the_log() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = OffsetStore::open(dir.path(), false, 50).unwrap();
            for i in 0..120 {
                s.commit("g", vec![entry("t", i % 3, i64::from(i), None)])
                    .unwrap();
            }
            assert!(
                s.record_count() < 50,
                "compaction ran: {}",
                s.record_count()
            );
        }
        let s = OffsetStore::open(dir.path(), false, 50).unwrap();
        let g = s.group("g");
        assert_eq!(g[&TopicPartition::new("t", 0)].offset, 117);
        assert_eq!(g[&TopicPartition::new("t", 1)].offset, 118);
        assert_eq!(g[&TopicPartition::new("t", 2)].offset, 119);
        assert!(!dir.path().join(COMPACT_NAME).exists());
    }
}
