//! Integration tests of the produce path.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chronik_common::{FsyncPolicy, TopicPartition};
use chronik_ingest::{Ingest, IngestConfig, ResponseError};
use chronik_storage::batch::{
    compute_crc, BatchBuilder, BatchHeader, TimestampType, CRC_OFFSET, MAGIC_OFFSET,
};
use chronik_storage::{LogManager, StorageConfig, CLEAN_SHUTDOWN_FILE};

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

fn records(n: usize) -> Bytes {
    let mut b = BatchBuilder::new();
    for i in 0..n {
        b = b.record(1_000 + i as i64, None, Some(format!("v{i}").as_bytes()));
    }
    Bytes::from(b.build())
}

fn idempotent(pid: i64, epoch: i16, seq: i32, n: usize) -> Bytes {
    let mut b = BatchBuilder::new().producer(pid, epoch, seq);
    for i in 0..n {
        b = b.record(
            1_000,
            None,
            Some(format!("s{}", seq as usize + i).as_bytes()),
        );
    }
    Bytes::from(b.build())
}

async fn open(dir: &Path, config: IngestConfig, partitions: i32) -> Arc<Ingest> {
    let logs = Arc::new(LogManager::open(StorageConfig::new(dir)).unwrap());
    if logs.partition_count("t").is_none() {
        logs.create_topic("t", partitions).unwrap();
    }
    Ingest::open(logs, config).await.unwrap()
}

fn never() -> IngestConfig {
    IngestConfig {
        fsync: FsyncPolicy::Never,
        ..IngestConfig::default()
    }
}

#[tokio::test]
async fn validation_errors_carry_kafka_codes() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(
        dir.path(),
        IngestConfig {
            max_batch_bytes: 2048,
            ..never()
        },
        1,
    )
    .await;
    let code = |r: Result<_, chronik_ingest::ProduceError>| r.unwrap_err().code();

    let mut corrupt = records(2).to_vec();
    *corrupt.last_mut().unwrap() ^= 1;
    assert_eq!(
        code(ingest.produce(&tp(0), corrupt.into(), 1).await),
        ResponseError::CorruptMessage.code()
    );

    let mut trailing = records(2).to_vec();
    trailing.push(0);
    assert_eq!(
        code(ingest.produce(&tp(0), trailing.into(), 1).await),
        ResponseError::CorruptMessage.code()
    );

    let mut old = records(1).to_vec();
    old[MAGIC_OFFSET] = 1;
    assert_eq!(
        code(ingest.produce(&tp(0), old.into(), 1).await),
        ResponseError::UnsupportedForMessageFormat.code()
    );

    let mut bad_count = records(3).to_vec();
    bad_count[57..61].copy_from_slice(&7i32.to_be_bytes());
    let crc = compute_crc(&bad_count);
    bad_count[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(
        code(ingest.produce(&tp(0), bad_count.into(), 1).await),
        ResponseError::InvalidRecord.code()
    );

    let big = Bytes::from(
        BatchBuilder::new()
            .record(1, None, Some(&[0u8; 4096]))
            .build(),
    );
    assert_eq!(
        code(ingest.produce(&tp(0), big, 1).await),
        ResponseError::MessageTooLarge.code()
    );

    assert_eq!(
        code(ingest.produce(&tp(0), records(1), 2).await),
        ResponseError::InvalidRequiredAcks.code()
    );
    assert_eq!(
        code(ingest.produce(&tp(5), records(1), 1).await),
        ResponseError::UnknownTopicOrPartition.code()
    );

    // Two idempotent batches in one request are refused.
    let mut two = idempotent(1, 0, 0, 1).to_vec();
    two.extend_from_slice(&idempotent(1, 0, 1, 1));
    assert_eq!(
        code(ingest.produce(&tp(0), two.into(), 1).await),
        ResponseError::InvalidRecord.code()
    );

    // Nothing was appended by any of the failures.
    let p = ingest.storage().partition(&tp(0)).unwrap();
    assert_eq!(p.log_end_offset(), 0);
    let ok = ingest.produce(&tp(0), records(3), 1).await.unwrap();
    assert_eq!(
        (ok.base_offset, ok.log_append_time, ok.log_start_offset),
        (0, -1, 0)
    );
    assert_eq!(
        ingest
            .produce(&tp(0), records(2), 0)
            .await
            .unwrap()
            .base_offset,
        3
    );
    ingest.shutdown().await;
}

/// On a current-thread runtime every producer task runs its append before
/// the flusher task gets to run, so all of them must share fsync rounds.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_acks_all_producers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), IngestConfig::default(), 2).await;
    const PRODUCERS: usize = 32;
    let handles: Vec<_> = (0..PRODUCERS)
        .map(|i| {
            let ingest = Arc::clone(&ingest);
            tokio::spawn(async move {
                let tp = tp((i % 2) as i32);
                let out = ingest.produce(&tp, records(2), -1).await.unwrap();
                // Acknowledged means fsynced.
                let p = ingest.storage().partition(&tp).unwrap();
                assert!(p.durable_offset() > out.base_offset + 1);
                out.base_offset
            })
        })
        .collect();
    let mut offsets = Vec::new();
    for h in handles {
        offsets.push(h.await.unwrap());
    }
    offsets.sort_unstable();
    offsets.dedup();
    assert_eq!(
        offsets.len(),
        PRODUCERS / 2,
        "two partitions, offsets 0,2,4,..."
    );
    let rounds = ingest.fsync_rounds();
    assert!(rounds >= 1);
    assert!(
        rounds < PRODUCERS as u64,
        "{rounds} rounds for {PRODUCERS} producers"
    );
    assert!(ingest.fsync_count() <= 2 * rounds);
    ingest.shutdown().await;
}

/// One connection's pipeline: appends are issued back to back without
/// waiting, get consecutive offsets in call order, are not acknowledged
/// before they are durable, and one group commit covers all of them.
#[tokio::test(flavor = "current_thread")]
async fn pipelined_appends_keep_order_and_share_one_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), IngestConfig::default(), 1).await;
    let pending: Vec<_> = (0..10)
        .map(|_| ingest.append(&tp(0), records(3), -1).unwrap())
        .collect();
    let p = ingest.storage().partition(&tp(0)).unwrap();
    // Nothing ran the flusher yet (current-thread runtime, no await).
    assert_eq!(p.log_end_offset(), 30);
    assert_eq!(p.durable_offset(), 0);
    assert!(pending.iter().all(|w| !w.is_durable()));
    let mut offsets = Vec::new();
    for w in pending {
        let out = w.wait().await.unwrap();
        assert!(
            p.durable_offset() > out.base_offset + 2,
            "acked when durable"
        );
        offsets.push(out.base_offset);
    }
    assert_eq!(offsets, (0..10).map(|i| i * 3).collect::<Vec<i64>>());
    assert_eq!(ingest.fsync_rounds(), 1, "one round for the whole pipeline");
    assert_eq!(ingest.fsync_count(), 1);
    // acks=1 appends are acknowledged without waiting for any fsync.
    assert!(ingest.append(&tp(0), records(1), 1).unwrap().is_durable());
    ingest.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_all_is_durable_on_a_multi_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), IngestConfig::default(), 1).await;
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let ingest = Arc::clone(&ingest);
            tokio::spawn(async move {
                let out = ingest.produce(&tp(0), records(1), -1).await.unwrap();
                let p = ingest.storage().partition(&tp(0)).unwrap();
                assert!(p.durable_offset() > out.base_offset);
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    // acks=1 does not wait, but the data is still queued for the flusher.
    ingest.produce(&tp(0), records(1), 1).await.unwrap();
    let p = ingest.storage().partition(&tp(0)).unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        while p.is_dirty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the flusher syncs acks=1 data too");
    ingest.shutdown().await;
}

#[tokio::test]
async fn idempotent_duplicates_and_sequence_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), never(), 1).await;
    let (pid, epoch) = ingest.allocate_producer_id().unwrap();
    let first = ingest
        .produce(&tp(0), idempotent(pid, epoch, 0, 3), -1)
        .await
        .unwrap();
    assert_eq!(first.base_offset, 0);
    ingest.produce(&tp(0), records(1), 1).await.unwrap();
    let second = ingest
        .produce(&tp(0), idempotent(pid, epoch, 3, 2), -1)
        .await
        .unwrap();
    assert_eq!(second.base_offset, 4);
    let p = ingest.storage().partition(&tp(0)).unwrap();
    let end = p.log_end_offset();
    let size = p.size_bytes();

    // A retry of either batch returns the original offset and appends nothing.
    let dup = ingest
        .produce(&tp(0), idempotent(pid, epoch, 0, 3), -1)
        .await
        .unwrap();
    assert_eq!((dup.base_offset, dup.duplicate), (0, true));
    let dup = ingest
        .produce(&tp(0), idempotent(pid, epoch, 3, 2), -1)
        .await
        .unwrap();
    assert_eq!((dup.base_offset, dup.duplicate), (4, true));
    assert_eq!((p.log_end_offset(), p.size_bytes()), (end, size));

    // A gap, then a stale epoch after a bump.
    let gap = ingest
        .produce(&tp(0), idempotent(pid, epoch, 9, 1), -1)
        .await;
    assert_eq!(
        gap.unwrap_err().code(),
        ResponseError::OutOfOrderSequenceNumber.code()
    );
    ingest
        .produce(&tp(0), idempotent(pid, epoch + 1, 0, 1), -1)
        .await
        .unwrap();
    let stale = ingest
        .produce(&tp(0), idempotent(pid, epoch, 5, 1), -1)
        .await;
    assert_eq!(
        stale.unwrap_err().code(),
        ResponseError::InvalidProducerEpoch.code()
    );
    ingest.shutdown().await;
}

/// Producer state and producer ids survive both a clean shutdown and a
/// crash (the runtime is dropped without `shutdown`).
#[test]
fn dedup_and_producer_ids_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen_ids = Vec::new();
    for (round, clean) in [(0, false), (1, true), (2, false)] {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let ingest = open(dir.path(), IngestConfig::default(), 1).await;
            let (pid, epoch) = ingest.allocate_producer_id().unwrap();
            assert!(
                !seen_ids.contains(&pid),
                "producer id {pid} handed out twice"
            );
            seen_ids.push(pid);
            let out = ingest
                .produce(&tp(0), idempotent(pid, epoch, 0, 2), -1)
                .await
                .unwrap();
            assert_eq!(out.base_offset, 2 * round);
            // Every earlier producer's last batch is still recognised.
            for (i, old) in seen_ids.iter().enumerate() {
                let dup = ingest
                    .produce(&tp(0), idempotent(*old, 0, 0, 2), -1)
                    .await
                    .unwrap();
                assert!(dup.duplicate);
                assert_eq!(dup.base_offset, 2 * i as i64);
            }
            if clean {
                ingest.shutdown().await;
            }
        });
        drop(rt);
        assert_eq!(dir.path().join(CLEAN_SHUTDOWN_FILE).exists(), clean);
    }
}

#[tokio::test]
async fn shutdown_flushes_and_refuses_later_produces() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), never(), 1).await;
    ingest.produce(&tp(0), records(4), 1).await.unwrap();
    let p = ingest.storage().partition(&tp(0)).unwrap();
    assert!(p.is_dirty(), "fsync=never leaves data unsynced");
    ingest.shutdown().await;
    assert!(!p.is_dirty());
    assert!(dir.path().join(CLEAN_SHUTDOWN_FILE).exists());
    let err = ingest.produce(&tp(0), records(1), -1).await.unwrap_err();
    assert_eq!(err.code(), ResponseError::NotLeaderOrFollower.code());
    ingest.shutdown().await;
}

#[tokio::test]
async fn interval_policy_flushes_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let config = IngestConfig {
        fsync: FsyncPolicy::Interval(Duration::from_millis(10)),
        ..IngestConfig::default()
    };
    let ingest = open(dir.path(), config, 1).await;
    ingest.produce(&tp(0), records(2), -1).await.unwrap();
    let p = ingest.storage().partition(&tp(0)).unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        // The round counter moves just after the fsync that clears the
        // dirty state, so wait for both.
        while p.is_dirty() || ingest.fsync_rounds() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("periodic flush happened");
    ingest.shutdown().await;
}

#[tokio::test]
async fn log_append_time_stamps_batches() {
    let dir = tempfile::tempdir().unwrap();
    let config = IngestConfig {
        log_append_time: true,
        ..never()
    };
    let ingest = open(dir.path(), config, 1).await;
    let out = ingest.produce(&tp(0), records(2), 1).await.unwrap();
    assert!(out.log_append_time > 1_600_000_000_000);
    let p = ingest.storage().partition(&tp(0)).unwrap();
    let read = p.read(0, 1 << 20).unwrap();
    let h = BatchHeader::parse(&read.records).unwrap();
    assert_eq!(h.timestamp_type(), TimestampType::LogAppendTime);
    assert_eq!(h.max_timestamp, out.log_append_time);
    chronik_storage::batch::verify_crc(&read.records).unwrap();
    ingest.shutdown().await;
}

#[tokio::test]
async fn recreated_topic_starts_with_fresh_producer_state() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), never(), 1).await;
    ingest
        .produce(&tp(0), idempotent(7, 0, 0, 1), 1)
        .await
        .unwrap();
    ingest.storage().delete_topic("t").unwrap();
    ingest.storage().create_topic("t", 1).unwrap();
    let again = ingest
        .produce(&tp(0), idempotent(7, 0, 0, 1), 1)
        .await
        .unwrap();
    assert!(!again.duplicate);
    assert_eq!(again.base_offset, 0);
    ingest.shutdown().await;
}

#[tokio::test]
async fn producer_snapshot_is_used_and_one_ahead_of_the_log_is_ignored() {
    use chronik_ingest::PRODUCER_SNAPSHOT_FILE;
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("topics/t/0").join(PRODUCER_SNAPSHOT_FILE);
    let ingest = open(dir.path(), never(), 1).await;
    ingest
        .produce(&tp(0), idempotent(5, 0, 0, 2), 1)
        .await
        .unwrap();
    ingest.shutdown().await;
    drop(ingest);
    let text = std::fs::read_to_string(&snapshot).unwrap();
    assert!(text.contains("offset 2\n"), "{text}");
    let line = text.lines().nth(2).unwrap();
    assert!(
        line.starts_with("5 0 ") && line.ends_with(" 0:1:0:1"),
        "{text}"
    );

    // The snapshot is loaded instead of scanning the log below it: an entry
    // that exists only in the snapshot proves it was used.
    std::fs::write(&snapshot, format!("{text}99 0 0 0:0:1:1\n")).unwrap();
    let ingest = open(dir.path(), never(), 1).await;
    let dup = ingest
        .produce(&tp(0), idempotent(99, 0, 0, 1), 1)
        .await
        .unwrap();
    assert_eq!((dup.duplicate, dup.base_offset), (true, 1));
    let dup = ingest
        .produce(&tp(0), idempotent(5, 0, 0, 2), 1)
        .await
        .unwrap();
    assert_eq!((dup.duplicate, dup.base_offset), (true, 0));
    ingest.shutdown().await;
    drop(ingest);

    // A snapshot beyond the log end is ignored; the log scan still works
    // (and producer 99, never in the log, is unknown again).
    std::fs::write(
        &snapshot,
        "chronik-producer-state v1\noffset 999\n5 0 0 0:1:777:778\n",
    )
    .unwrap();
    let ingest = open(dir.path(), never(), 1).await;
    let dup = ingest
        .produce(&tp(0), idempotent(5, 0, 0, 2), 1)
        .await
        .unwrap();
    assert_eq!((dup.duplicate, dup.base_offset), (true, 0));
    let fresh = ingest
        .produce(&tp(0), idempotent(99, 0, 0, 1), 1)
        .await
        .unwrap();
    assert!(!fresh.duplicate);
    ingest.shutdown().await;
}

/// Opens storage with 1 KiB segments and an ingest on a fresh runtime, runs
/// `f`, then drops the runtime without `shutdown`: a crash.
fn run_then_crash<F, Fut>(dir: &Path, f: F)
where
    F: FnOnce(Arc<Ingest>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = StorageConfig::new(dir);
        c.segment_bytes = 1024;
        let logs = Arc::new(LogManager::open(c).unwrap());
        if logs.partition_count("t").is_none() {
            logs.create_topic("t", 1).unwrap();
        }
        f(Ingest::open(logs, never()).await.unwrap()).await;
    });
}

/// Segment rolls write snapshots of the state below the new segment; after
/// a crash the state is rebuilt from the latest one plus the newest segment.
#[test]
fn roll_snapshots_and_replay_survive_a_crash() {
    use chronik_ingest::PRODUCER_SNAPSHOT_FILE;
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("topics/t/0").join(PRODUCER_SNAPSHOT_FILE);
    run_then_crash(dir.path(), |ingest| async move {
        for seq in 0..40 {
            let out = ingest
                .produce(&tp(0), idempotent(7, 0, seq, 1), 1)
                .await
                .unwrap();
            assert_eq!(out.base_offset, i64::from(seq));
        }
        let p = ingest.storage().partition(&tp(0)).unwrap();
        assert!(p.segment_count() >= 3);
        // Snapshot writes run in the background; wait for the newest one.
        let last_base = std::fs::read_dir(p.dir())
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".log").map(|b| b.parse::<i64>().unwrap())
            })
            .max()
            .unwrap();
        let want = format!("offset {last_base}\n");
        tokio::time::timeout(Duration::from_secs(20), async {
            while !std::fs::read_to_string(&snapshot).is_ok_and(|t| t.contains(&want)) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("snapshot at the newest segment");
    });
    assert!(!dir.path().join(CLEAN_SHUTDOWN_FILE).exists());
    run_then_crash(dir.path(), |ingest| async move {
        // The last batch is known (replayed from the newest segment)...
        let dup = ingest
            .produce(&tp(0), idempotent(7, 0, 39, 1), 1)
            .await
            .unwrap();
        assert_eq!((dup.duplicate, dup.base_offset), (true, 39));
        // ...and so is the sequence: the next one is accepted, a gap is not.
        let next = ingest
            .produce(&tp(0), idempotent(7, 0, 40, 1), 1)
            .await
            .unwrap();
        assert_eq!((next.duplicate, next.base_offset), (false, 40));
        let gap = ingest.produce(&tp(0), idempotent(7, 0, 42, 1), 1).await;
        assert_eq!(
            gap.unwrap_err().code(),
            ResponseError::OutOfOrderSequenceNumber.code()
        );
    });
}

#[tokio::test]
async fn idle_producers_expire() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), never(), 1).await;
    ingest
        .produce(&tp(0), idempotent(3, 0, 0, 1), 1)
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(ingest.expire_producers(now), 0, "seen just now");
    assert_eq!(ingest.expire_producers(now + 2 * 24 * 3600 * 1000), 1);
    // Forgotten: a retry is no longer recognised, and any sequence is taken.
    let again = ingest
        .produce(&tp(0), idempotent(3, 0, 0, 1), 1)
        .await
        .unwrap();
    assert!(!again.duplicate);
    ingest.shutdown().await;
}

/// Many concurrent producers, idempotent ones retrying every batch once,
/// on a multi-thread runtime: offsets are unique and contiguous, retries
/// never append twice, and the log holds exactly the batches acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mixed_producers_keep_the_log_exact() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), IngestConfig::default(), 1).await;
    let mut handles = Vec::new();
    for w in 0..8 {
        let ingest = Arc::clone(&ingest);
        handles.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let pid = if w % 2 == 0 {
                Some(ingest.allocate_producer_id().unwrap().0)
            } else {
                None
            };
            for i in 0..25 {
                let (recs, n) = match pid {
                    Some(pid) => (idempotent(pid, 0, 2 * i, 2), 2),
                    None => (records(1 + (i as usize % 3)), 1 + (i as i64 % 3)),
                };
                let out = ingest.produce(&tp(0), recs.clone(), -1).await.unwrap();
                assert!(!out.duplicate);
                if pid.is_some() {
                    let again = ingest.produce(&tp(0), recs, -1).await.unwrap();
                    assert!(again.duplicate);
                    assert_eq!(again.base_offset, out.base_offset);
                }
                acked.push((out.base_offset, n));
            }
            acked
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort_unstable();
    let mut next = 0;
    for (base, n) in &all {
        assert_eq!(*base, next, "offsets are contiguous and unique");
        next += n;
    }
    let p = ingest.storage().partition(&tp(0)).unwrap();
    assert_eq!(p.log_end_offset(), next);
    assert!(p.durable_offset() >= next);
    ingest.shutdown().await;
}

/// A retry that arrives while its original still waits for the group
/// commit is acknowledged only once the original is durable.
#[tokio::test(flavor = "current_thread")]
async fn duplicate_waits_until_the_original_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), IngestConfig::default(), 1).await;
    let first = {
        let ingest = Arc::clone(&ingest);
        tokio::spawn(async move { ingest.produce(&tp(0), idempotent(3, 0, 0, 2), -1).await })
    };
    // Let the original append and start waiting; on this single-threaded
    // runtime the flusher cannot have run yet.
    tokio::task::yield_now().await;
    let p = ingest.storage().partition(&tp(0)).unwrap();
    assert_eq!(p.log_end_offset(), 2);
    assert!(p.is_dirty(), "the original is appended but not yet synced");
    let dup = ingest
        .produce(&tp(0), idempotent(3, 0, 0, 2), -1)
        .await
        .unwrap();
    assert!(dup.duplicate);
    assert!(
        p.durable_offset() >= 2,
        "acknowledged before the original was durable"
    );
    assert_eq!(first.await.unwrap().unwrap().base_offset, 0);
    ingest.shutdown().await;
}

/// Every partition fsync the produce path runs is reported to the observer
/// (the server feeds its fsync latency histogram from it), and only the first
/// observer set is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsync_observer_sees_every_partition_fsync() {
    use std::sync::Mutex;
    let dir = tempfile::tempdir().unwrap();
    let ingest = open(dir.path(), IngestConfig::default(), 2).await;
    let seen: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let sink = Arc::clone(&seen);
    assert!(ingest.set_fsync_observer(Arc::new(move |d| sink.lock().unwrap().push(d))));
    assert!(!ingest.set_fsync_observer(Arc::new(|_| panic!("second observer kept"))));
    for i in 0..4 {
        ingest.produce(&tp(i % 2), records(3), -1).await.unwrap();
    }
    // acks=0/1 do not wait for an fsync, so they add no observation here.
    let count = ingest.fsync_count();
    assert!(count >= 2, "both partitions were fsynced at least once");
    assert_eq!(seen.lock().unwrap().len() as u64, count);
    ingest.shutdown().await;
}
