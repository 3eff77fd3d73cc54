//! Integration tests of the log: persistence, recovery, retention, lookups.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chronik_common::TopicPartition;
use chronik_storage::batch::{BatchBuilder, BatchHeader, BatchIter};
use chronik_storage::{
    LogManager, Partition, RetentionPolicy, StorageConfig, StorageError, CLEAN_SHUTDOWN_FILE,
};

fn config(dir: &Path, segment_bytes: u64) -> StorageConfig {
    let mut c = StorageConfig::new(dir);
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = 256;
    c
}

/// A batch of `n` records with timestamp `ts` and values tagged by `tag`.
fn batch(ts: i64, n: usize, tag: &str) -> Vec<u8> {
    let mut b = BatchBuilder::new();
    for i in 0..n {
        b = b.record(
            ts,
            Some(tag.as_bytes()),
            Some(format!("{tag}-{i}-{}", "x".repeat(50)).as_bytes()),
        );
    }
    b.build()
}

/// A log of `segment_bytes` segments in `dir` with topic `t` (one
/// partition) holding the batches `make(0)` to `make(n - 1)`; still open.
fn filled(
    dir: &Path,
    segment_bytes: u64,
    n: i64,
    make: impl Fn(i64) -> Vec<u8>,
) -> (LogManager, Arc<Partition>) {
    let logs = LogManager::open(config(dir, segment_bytes)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    for i in 0..n {
        p.append(&mut make(i)).unwrap();
    }
    (logs, p)
}

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let pdir = dir.join("topics/t/0");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&pdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    v.sort();
    v
}

/// Reads every batch from `from` to the log end; returns (base offset, tag).
fn read_all(logs: &LogManager, from: i64) -> Vec<(i64, String)> {
    let p = logs.partition(&tp(0)).unwrap();
    let mut out = Vec::new();
    let mut next = from;
    while next < p.log_end_offset() {
        let r = p.read(next, 4096).unwrap();
        assert!(!r.records.is_empty(), "no data at {next}");
        for b in BatchIter::new(&r.records) {
            let b = b.unwrap();
            b.verify_crc().unwrap();
            let recs = chronik_storage::batch::decode_records(b.bytes).unwrap();
            let tag = String::from_utf8(recs[0].1.key.clone().unwrap()).unwrap();
            out.push((b.header.base_offset, tag));
            next = b.header.last_offset() + 1;
        }
    }
    out
}

#[test]
fn write_reopen_read_back_clean_and_unclean() {
    let dir = tempfile::tempdir().unwrap();
    for clean in [true, false] {
        let _ = std::fs::remove_dir_all(dir.path().join("topics"));
        {
            let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
            logs.create_topic("t", 2).unwrap();
            let p = logs.partition(&tp(0)).unwrap();
            for i in 0..20 {
                p.append(&mut batch(1000 + i, 3, &format!("b{i}"))).unwrap();
            }
            if clean {
                logs.close().unwrap();
                assert!(dir.path().join(CLEAN_SHUTDOWN_FILE).exists());
            }
        }
        let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
        assert_eq!(logs.recovered_cleanly(), clean);
        assert!(!dir.path().join(CLEAN_SHUTDOWN_FILE).exists());
        assert_eq!(logs.partition_count("t"), Some(2));
        let p = logs.partition(&tp(0)).unwrap();
        assert_eq!(p.log_end_offset(), 60);
        let got = read_all(&logs, 0);
        assert_eq!(got.len(), 20);
        for (i, (off, tag)) in got.iter().enumerate() {
            assert_eq!(*off, 3 * i as i64);
            assert_eq!(tag, &format!("b{i}"));
        }
        // Appends continue at the right offset after reopening.
        assert_eq!(p.append(&mut batch(5, 1, "after")).unwrap().base_offset, 60);
        logs.delete_topic("t").unwrap();
    }
}

#[test]
fn torn_tail_is_truncated_and_earlier_batches_survive() {
    let dir = tempfile::tempdir().unwrap();
    let one = batch(1, 2, "b0");
    {
        let (_logs, p) = filled(dir.path(), 1 << 20, 10, |i| batch(1, 2, &format!("b{i}")));
        p.flush().unwrap();
    }
    // Cut the last batch in half: a write torn by a crash.
    let log = log_files(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&log).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.set_len(len - one.len() as u64 / 2).unwrap();
    drop(f);
    {
        let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
        let p = logs.partition(&tp(0)).unwrap();
        assert_eq!(p.log_end_offset(), 18);
        assert_eq!(std::fs::metadata(&log).unwrap().len(), 9 * one.len() as u64);
        assert_eq!(read_all(&logs, 0).len(), 9);
    }
    // Flip a byte inside the 6th batch: it and everything after are dropped.
    let mut data = std::fs::read(&log).unwrap();
    let at = 5 * one.len() + 70;
    data[at] ^= 0x55;
    std::fs::write(&log, &data).unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    assert_eq!(p.log_end_offset(), 10);
    let got = read_all(&logs, 0);
    assert_eq!(got.last().unwrap(), &(8, "b4".to_string()));
    // Garbage appended after the last batch is dropped too.
    drop(logs);
    let mut data = std::fs::read(&log).unwrap();
    data.extend_from_slice(&[
        0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    ]);
    std::fs::write(&log, &data).unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    assert_eq!(logs.partition(&tp(0)).unwrap().log_end_offset(), 10);
}

#[test]
fn missing_or_corrupt_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (logs, p) = filled(dir.path(), 4096, 100, |i| {
            batch(10 * i, 1, &format!("b{i}"))
        });
        assert!(p.segment_count() > 3);
        logs.close().unwrap();
    }
    let logs_before = log_files(dir.path());
    let first_index = logs_before[0].with_extension("index");
    let third_time_index = logs_before[2].with_extension("timeindex");
    let original_time = std::fs::read(&third_time_index).unwrap();
    assert!(!original_time.is_empty());
    std::fs::remove_file(&third_time_index).unwrap();
    let second_index = logs_before[1].with_extension("index");
    let original = std::fs::read(&first_index).unwrap();
    assert!(!original.is_empty());
    std::fs::remove_file(&first_index).unwrap();
    // An entry pointing past the end of the log.
    std::fs::write(&second_index, [0, 0, 0, 1, 0x7f, 0, 0, 0]).unwrap();
    let logs = LogManager::open(config(dir.path(), 4096)).unwrap();
    assert!(logs.recovered_cleanly());
    assert_eq!(std::fs::read(&first_index).unwrap(), original);
    assert_ne!(
        std::fs::read(&second_index).unwrap(),
        vec![0, 0, 0, 1, 0x7f, 0, 0, 0]
    );
    let got = read_all(&logs, 0);
    assert_eq!(got.len(), 100);
    assert!(got.iter().enumerate().all(|(i, (o, _))| *o == i as i64));
    // Reads that start in the middle of a segment use the rebuilt index.
    let p = logs.partition(&tp(0)).unwrap();
    let r = p.read(57, 1).unwrap();
    let h = BatchHeader::parse(&r.records).unwrap();
    assert_eq!(h.base_offset, 57);
}

#[test]
fn segments_roll_and_reads_cross_them() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 2048)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    let one = batch(1, 2, "b00");
    for i in 0..40 {
        p.append(&mut batch(1, 2, &format!("b{i:02}"))).unwrap();
    }
    let files = log_files(dir.path());
    assert!(files.len() >= 4, "{} segments", files.len());
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() <= 2048);
    }
    // File names are the base offsets.
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names[0], "00000000000000000000");
    let second_base: i64 = names[1].parse().unwrap();
    assert_eq!(second_base % 2, 0);
    // A read stops at the end of a segment even with room to spare.
    let r = p.read(second_base - 2, 1 << 20).unwrap();
    assert_eq!(r.records.len(), one.len());
    let r = p.read(second_base, 1 << 20).unwrap();
    assert_eq!(
        BatchHeader::parse(&r.records).unwrap().base_offset,
        second_base
    );
    assert_eq!(read_all(&logs, 0).len(), 40);
    // An append larger than a segment gets a segment of its own.
    let mut big = BatchBuilder::new()
        .record(1, None, Some(&[1u8; 3000]))
        .build();
    let at = p.append(&mut big).unwrap().base_offset;
    assert_eq!(p.read(at, 10).unwrap().records.len(), big.len());
}

#[test]
fn retention_by_size_and_age_advances_log_start() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 1024)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    for i in 0..60 {
        // Timestamps: 1000 per batch.
        p.append(&mut batch(1000 * i, 1, &format!("b{i}"))).unwrap();
    }
    let segments = p.segment_count();
    assert!(segments >= 6);
    let total = p.size_bytes();

    // Nothing to do without limits.
    assert_eq!(
        p.apply_retention(&RetentionPolicy::default(), i64::MAX)
            .unwrap(),
        0
    );

    // By size: keep at most half the bytes.
    let deleted = p
        .apply_retention(
            &RetentionPolicy {
                max_bytes: Some(total / 2),
                max_age_ms: None,
            },
            0,
        )
        .unwrap();
    assert!(deleted >= 1);
    assert!(p.size_bytes() <= total / 2 + 1024);
    assert!(p.size_bytes() >= total / 2);
    let start = p.log_start_offset();
    assert!(start > 0);
    assert_eq!(log_files(dir.path()).len(), segments - deleted);
    assert!(matches!(
        p.read(0, 100),
        Err(StorageError::OffsetOutOfRange { log_start_offset, .. }) if log_start_offset == start
    ));
    assert_eq!(read_all(&logs, start).first().unwrap().0, start);

    // By age: "now" such that only batches with ts >= 50_000 are young.
    let deleted = p
        .apply_retention(
            &RetentionPolicy {
                max_bytes: None,
                max_age_ms: Some(10_000),
            },
            60_000,
        )
        .unwrap();
    assert!(deleted >= 1);
    let remaining = read_all(&logs, p.log_start_offset());
    // Every closed segment left has a record at or after 50_000.
    assert!(remaining.first().unwrap().0 <= 50);
    // The active segment is never deleted, however old.
    p.apply_retention(
        &RetentionPolicy {
            max_bytes: Some(0),
            max_age_ms: Some(0),
        },
        i64::MAX,
    )
    .unwrap();
    assert_eq!(p.segment_count(), 1);
    assert_eq!(p.log_end_offset(), 60);
    assert!(p.log_start_offset() <= 59);
    // The log start survives a reopen.
    let start = p.log_start_offset();
    drop(p);
    drop(logs);
    let logs = LogManager::open(config(dir.path(), 1024)).unwrap();
    assert_eq!(logs.partition(&tp(0)).unwrap().log_start_offset(), start);
}

#[test]
fn offsets_by_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 2048)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    assert_eq!(p.offset_for_timestamp(0).unwrap(), None);
    for i in 0..50i64 {
        // Two records per batch, timestamps 100*i and 100*i + 50.
        let mut b = BatchBuilder::new()
            .record(100 * i, None, Some(b"a"))
            .record(100 * i + 50, None, Some(b"b"))
            .build();
        p.append(&mut b).unwrap();
    }
    assert!(p.segment_count() > 1);
    let at = |ts| {
        p.offset_for_timestamp(ts)
            .unwrap()
            .map(|r| (r.offset, r.timestamp))
    };
    assert_eq!(at(0), Some((0, 0)));
    assert_eq!(at(-5), Some((0, 0)));
    assert_eq!(at(1), Some((1, 50)));
    assert_eq!(at(2_000), Some((40, 2_000)));
    assert_eq!(at(2_001), Some((41, 2_050)));
    assert_eq!(at(4_950), Some((99, 4_950)));
    assert_eq!(at(4_951), None);
    // The same answers after a clean reopen (time index from disk).
    drop(p);
    logs.close().unwrap();
    drop(logs);
    let logs = LogManager::open(config(dir.path(), 2048)).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    assert_eq!(p.offset_for_timestamp(2_001).unwrap().unwrap().offset, 41);
    assert_eq!(p.offset_for_timestamp(3_333).unwrap().unwrap().offset, 67);
}

#[test]
fn delete_topic_is_crash_safe() {
    let dir = tempfile::tempdir().unwrap();
    {
        let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
        logs.create_topic("t", 2).unwrap();
        logs.create_topic("keep", 1).unwrap();
        let p = logs.partition(&tp(1)).unwrap();
        p.append(&mut batch(1, 1, "x")).unwrap();
        logs.delete_topic("t").unwrap();
        assert!(logs.partition(&tp(1)).is_none());
        assert!(matches!(
            p.append(&mut batch(1, 1, "y")),
            Err(StorageError::Closed)
        ));
        assert!(matches!(
            logs.delete_topic("t"),
            Err(StorageError::UnknownTopic(_))
        ));
        logs.create_topic("t", 1).unwrap();
        logs.delete_topic("t").unwrap();
    }
    // Simulate a crash after the rename into deleted/ but before removal,
    // and a crash in the middle of a creation (no topic.meta yet).
    std::fs::create_dir_all(dir.path().join("deleted/t.123.0/0")).unwrap();
    std::fs::write(
        dir.path()
            .join("deleted/t.123.0/0/00000000000000000000.log"),
        b"x",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("topics/half/0")).unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    let names: Vec<String> = logs.topics().into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec!["keep".to_string()]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("deleted"))
            .unwrap()
            .count(),
        0
    );
    assert!(!dir.path().join("topics/half").exists());
    // The name is free again.
    logs.create_topic("half", 1).unwrap();
}

#[test]
fn topic_admin_errors_and_partition_growth() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    assert!(matches!(
        logs.create_topic("bad/name", 1),
        Err(StorageError::InvalidTopicName(_))
    ));
    assert!(matches!(
        logs.create_topic("t", 0),
        Err(StorageError::InvalidPartitions(0))
    ));
    logs.create_topic("t", 1).unwrap();
    assert!(matches!(
        logs.create_topic("t", 1),
        Err(StorageError::TopicExists(_))
    ));
    logs.create_partitions("t", 3).unwrap();
    assert!(matches!(
        logs.create_partitions("t", 2),
        Err(StorageError::InvalidPartitions(2))
    ));
    assert!(logs.partition(&tp(2)).is_some());
    assert!(logs.partition(&tp(3)).is_none());
    assert!(logs.partition(&tp(-1)).is_none());
    // A second broker on the same directory is refused.
    assert!(matches!(
        LogManager::open(config(dir.path(), 1 << 20)),
        Err(StorageError::Locked(_))
    ));
    drop(logs);
    // A partition directory left by an interrupted growth is dropped.
    std::fs::create_dir_all(dir.path().join("topics/t/3")).unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    assert_eq!(logs.partition_count("t"), Some(3));
    assert!(!dir.path().join("topics/t/3").exists());
    // Corrupt metadata is a clear error, not a panic.
    drop(logs);
    std::fs::write(
        dir.path().join("topics/t/topic.meta"),
        "version=1\npartitions=x\n",
    )
    .unwrap();
    let err = LogManager::open(config(dir.path(), 1 << 20)).unwrap_err();
    assert!(err.to_string().contains("topic.meta"), "{err}");
}

#[test]
fn concurrent_appends_and_reads_see_consistent_batches() {
    let dir = tempfile::tempdir().unwrap();
    let logs = Arc::new(LogManager::open(config(dir.path(), 8192)).unwrap());
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let p = Arc::clone(&p);
            std::thread::spawn(move || {
                for i in 0..100 {
                    p.append(&mut batch(i, 2, &format!("w{w}"))).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let p = Arc::clone(&p);
        std::thread::spawn(move || {
            let mut next = 0;
            while next < 800 {
                let r = p.read(next, 1000).unwrap();
                for b in BatchIter::new(&r.records) {
                    let b = b.unwrap();
                    b.verify_crc().unwrap();
                    assert_eq!(b.header.base_offset, next);
                    next = b.header.last_offset() + 1;
                }
                if r.records.is_empty() {
                    std::thread::yield_now();
                }
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();
    assert_eq!(p.log_end_offset(), 800);
}

#[tokio::test]
async fn log_end_watch_wakes_waiters() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    let mut rx = p.subscribe();
    assert_eq!(*rx.borrow_and_update(), 0);
    let waiter = tokio::spawn(async move {
        rx.changed().await.unwrap();
        *rx.borrow()
    });
    tokio::task::yield_now().await;
    p.append(&mut batch(1, 3, "x")).unwrap();
    let seen = tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
        .await
        .expect("waiter woke")
        .unwrap();
    assert_eq!(seen, 3);
}

#[test]
fn bit_rot_in_a_trusted_segment_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let one = batch(1, 2, "b0");
    {
        let (logs, _) = filled(dir.path(), 1 << 20, 6, |i| batch(1, 2, &format!("b{i}")));
        logs.close().unwrap();
    }
    // Corrupt the 3rd batch; the clean marker means recovery trusts the
    // segment and only checks its tail, so the read path must catch it.
    let log = log_files(dir.path()).pop().unwrap();
    let mut data = std::fs::read(&log).unwrap();
    data[2 * one.len() + 80] ^= 0x01;
    std::fs::write(&log, &data).unwrap();
    let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    let r = p.read(0, 1 << 20).unwrap();
    assert_eq!(r.records.len(), 2 * one.len(), "stops before the bad batch");
    assert!(matches!(
        p.read(4, 1 << 20),
        Err(StorageError::CorruptBatch { offset: 4, .. })
    ));
    assert_eq!(p.read(6, 1 << 20).unwrap().records.len(), 3 * one.len());
}

#[test]
fn max_timestamp_offset_finds_the_newest_record() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 1024)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    assert_eq!(p.max_timestamp_offset().unwrap(), None);
    for i in 0..30i64 {
        let ts = if i == 7 { 1_000_000 } else { i };
        let mut b = BatchBuilder::new()
            .record(ts - 1, None, Some(b"a"))
            .record(ts, None, Some(b"b"))
            .record(0, None, Some(b"c"))
            .build();
        p.append(&mut b).unwrap();
    }
    assert!(p.segment_count() > 2);
    let found = p.max_timestamp_offset().unwrap().unwrap();
    assert_eq!((found.offset, found.timestamp), (22, 1_000_000));
}

/// Cuts the log at every byte position of its last two batches (a torn
/// write can stop anywhere) and checks recovery keeps exactly the whole
/// batches before the cut, then accepts new appends at the right offset.
#[test]
fn every_cut_point_recovers_to_the_last_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let one = batch(7, 1, "b0");
    let n = 4u64;
    {
        filled(dir.path(), 1 << 20, n as i64, |i| {
            batch(7, 1, &format!("b{i}"))
        });
    }
    let log = log_files(dir.path()).pop().unwrap();
    let full = std::fs::read(&log).unwrap();
    let len = one.len() as u64;
    assert_eq!(full.len() as u64, n * len);
    for cut in (n - 2) * len..=n * len {
        std::fs::write(&log, &full[..cut as usize]).unwrap();
        let logs = LogManager::open(config(dir.path(), 1 << 20)).unwrap();
        let p = logs.partition(&tp(0)).unwrap();
        let whole = cut / len;
        assert_eq!(p.log_end_offset(), whole as i64, "cut at {cut}");
        assert_eq!(std::fs::metadata(&log).unwrap().len(), whole * len);
        assert_eq!(read_all(&logs, 0).len() as u64, whole);
        let next = p.append(&mut batch(8, 1, "new")).unwrap();
        assert_eq!(next.base_offset, whole as i64);
    }
}

#[test]
fn crash_right_after_a_roll_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    {
        let logs = LogManager::open(config(dir.path(), 1024)).unwrap();
        logs.create_topic("t", 1).unwrap();
        let p = logs.partition(&tp(0)).unwrap();
        for i in 0..12 {
            p.append(&mut batch(i, 1, &format!("b{i:02}"))).unwrap();
        }
        assert!(p.segment_count() >= 2);
    }
    // Simulate the crash: the newest segment exists but is empty.
    let last = log_files(dir.path()).pop().unwrap();
    let base: i64 = last.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    std::fs::write(&last, b"").unwrap();
    let logs = LogManager::open(config(dir.path(), 1024)).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    assert_eq!(p.log_end_offset(), base);
    assert_eq!(read_all(&logs, 0).len() as i64, base);
    assert_eq!(p.append(&mut batch(1, 1, "b99")).unwrap().base_offset, base);
}

#[test]
fn age_retention_uses_file_time_when_batches_have_no_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::open(config(dir.path(), 1024)).unwrap();
    logs.create_topic("t", 1).unwrap();
    let p = logs.partition(&tp(0)).unwrap();
    for i in 0..20 {
        p.append(&mut batch(-1, 1, &format!("b{i:02}"))).unwrap();
    }
    let segments = p.segment_count();
    assert!(segments > 2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let policy = RetentionPolicy {
        max_bytes: None,
        max_age_ms: Some(3_600_000),
    };
    assert_eq!(p.apply_retention(&policy, now).unwrap(), 0, "files are new");
    assert_eq!(
        p.apply_retention(&policy, now + 7_200_000).unwrap(),
        segments - 1
    );
    assert_eq!(p.offset_for_timestamp(0).unwrap(), None);
}
