//! Helpers for the retention tests: where size retention must move the log
//! start, and waiting until ListOffsets reports it there.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, ListOffsetsRequest, ListOffsetsResponse};

use super::{kafka, KafkaConn, TestBroker};

/// Milliseconds since the Unix epoch (a record timestamp that age retention
/// never reaches).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The log start offset once size retention has run over `n` one-record
/// batches of `b` bytes each: a segment rolls when the next batch would not
/// fit, so it holds `k` batches, and the oldest closed segments go while the
/// log exceeds `retention_bytes` by at least their size.
pub fn expected_start(n: u64, b: u64, segment_bytes: u64, retention_bytes: u64) -> i64 {
    let k = segment_bytes / b;
    let closed = (n - 1) / k; // the active segment holds the last 1..=k
    let excess = (n * b).saturating_sub(retention_bytes);
    let deleted = (excess / (k * b)).min(closed);
    (deleted * k) as i64
}

/// The log start offset of `name`-0, as ListOffsets with timestamp -2
/// (earliest) reports it.
pub fn log_start(conn: &mut KafkaConn, name: &str) -> i64 {
    let resp: ListOffsetsResponse = conn.call(
        ApiKey::ListOffsets,
        5,
        &ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(kafka::topic(name))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(-2)])]),
    );
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, 0);
    p.offset
}

/// Waits up to `timeout` until the log start of `name`-0 is `want`; fails
/// at once if retention deleted more.
pub fn wait_for_log_start(
    conn: &mut KafkaConn,
    broker: &TestBroker,
    name: &str,
    want: i64,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let start = log_start(conn, name);
        assert!(
            start <= want,
            "retention deleted too much: start {start}, expected {want}"
        );
        if start == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "log start {start}, expected {want}; log:\n{}",
            broker.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
