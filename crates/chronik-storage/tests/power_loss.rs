//! Power loss at the storage level (feature `fault-injection`): whatever a
//! flush reported durable survives a simulated power cut with the same
//! record values, and what was only in the page cache is gone.
//!
//! One test per file: the fault journal is chosen once per process.

#![cfg(feature = "fault-injection")]

use chronik_common::TopicPartition;
use chronik_storage::batch::{decode_records, BatchBuilder, BatchIter};
use chronik_storage::{fault, LogManager, Partition, StorageConfig};

fn value(tag: &str, i: usize) -> String {
    format!("{tag}-{i:05}-{}", "x".repeat(i % 37))
}

/// Appends one record, timestamp `i`, with value [`value`]`(tag, i)`; returns
/// the value.
fn append(p: &Partition, i: usize, tag: &str) -> String {
    let v = value(tag, i);
    let mut batch = BatchBuilder::new()
        .record(i as i64, None, Some(v.as_bytes()))
        .build();
    p.append(&mut batch).unwrap();
    v
}

/// Every record value of a partition, in offset order, checking offsets are
/// consecutive from 0.
fn values(logs: &LogManager, tp: &TopicPartition) -> Vec<String> {
    let p = logs.partition(tp).expect("partition exists");
    let mut out = Vec::new();
    let mut next = p.log_start_offset();
    assert_eq!(next, 0);
    while next < p.log_end_offset() {
        let read = p.read(next, 1 << 20).expect("read");
        for b in BatchIter::new(&read.records) {
            let b = b.expect("whole batch");
            for (offset, r) in decode_records(b.bytes).expect("uncompressed batch") {
                if offset < next {
                    continue;
                }
                assert_eq!(offset, next, "offsets are consecutive");
                out.push(String::from_utf8(r.value.expect("value").to_vec()).unwrap());
                next += 1;
            }
        }
    }
    out
}

#[test]
fn power_cut_keeps_exactly_what_was_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal");
    fault::enable(&journal).unwrap();
    let data = dir.path().join("data");
    let mut config = StorageConfig::new(&data);
    // Small segments: some rolls (which fsync the old segment) happen.
    config.segment_bytes = 8 * 1024;
    let tp0 = TopicPartition::new("orders", 0);
    let tp1 = TopicPartition::new("orders", 1);

    let mut appended = Vec::new();
    let durable = {
        let logs = LogManager::open(config.clone()).unwrap();
        logs.create_topic("orders", 2).unwrap();
        let p0 = logs.partition(&tp0).unwrap();
        let p1 = logs.partition(&tp1).unwrap();
        for i in 0..300 {
            appended.push(append(&p0, i, "flushed"));
            if i % 50 == 49 {
                p0.flush().unwrap();
            }
        }
        // Only in the page cache from here on.
        for i in 0..40 {
            appended.push(append(&p0, i, "unsynced"));
        }
        p1.append(
            &mut BatchBuilder::new()
                .record(1, None, Some(b"never synced"))
                .build(),
        )
        .unwrap();
        // Segment rolls fsync the segment they close, so a few of the
        // unsynced appends may be durable too, but not the newest.
        assert!((300..p0.log_end_offset()).contains(&p0.durable_offset()));
        assert_eq!(p1.durable_offset(), 0);
        // Dropped without close: the process "dies" here.
        p0.durable_offset()
    };

    let cut = fault::power_cut(&journal, &data).unwrap();
    assert!(cut.bytes_lost() > 0, "unsynced appends were cut: {cut:?}");
    assert!(!journal.exists(), "the journal is consumed");

    let logs = LogManager::open(config).unwrap();
    assert!(!logs.recovered_cleanly());
    let recovered = values(&logs, &tp0);
    assert_eq!(recovered.len() as i64, durable);
    assert_eq!(recovered, appended[..durable as usize]);
    assert_eq!(values(&logs, &tp1), Vec::<String>::new());
}
