//! Size retention through the broker: with `--retention-bytes` and a short
//! `--retention-check-ms`, the periodic retention pass deletes exactly the
//! oldest closed segments the limit allows, and the log start offset moves
//! to the exact first offset of the oldest kept segment.

mod common;

use std::time::Duration;

use common::kafka::{batch, fetch, produce};
use common::retention::{expected_start, log_start, now_ms, wait_for_log_start};
use common::{KafkaConn, TestBroker};

const SEGMENT_BYTES: u64 = 1024;
const RETENTION_BYTES: u64 = 2500;
/// The debug line chronik-ingest writes after every retention pass.
const PASS: &str = "retention pass done";

#[test]
fn size_retention_moves_the_log_start_to_exact_segment_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start_with_env(
        &dir.path().join("data"),
        &[
            "--segment-bytes",
            &SEGMENT_BYTES.to_string(),
            "--retention-bytes",
            &RETENTION_BYTES.to_string(),
            "--retention-check-ms",
            "100",
        ],
        &[(
            "CHRONIK_LOG",
            std::ffi::OsStr::new("info,chronik_ingest=debug"),
        )],
    );
    let mut conn = KafkaConn::connect(&broker.addr);
    // Same-size batches (fixed-width values), timestamped now so that age
    // retention (7 days by default) never applies.
    let value = |i: u64| format!("value-{i:06}-{}", "x".repeat(60));
    let b = batch(&[&value(0)], now_ms()).len() as u64;
    assert!(b * 3 < SEGMENT_BYTES, "several batches per segment");

    let mut n = 0;
    for phase_end in [40u64, 75] {
        while n < phase_end {
            let (code, offset) = produce(&mut conn, "kept", 0, batch(&[&value(n)], now_ms()));
            assert_eq!((code, offset), (0, n as i64));
            n += 1;
        }
        let want = expected_start(n, b, SEGMENT_BYTES, RETENTION_BYTES);
        assert!(want > 0);
        wait_for_log_start(&mut conn, &broker, "kept", want, Duration::from_secs(60));
        // Three more passes (counted in the broker log, not slept for)
        // change nothing: the limit is met exactly.
        let passes = broker.log_count(PASS);
        for more in 0..3 {
            broker.wait_for_log(PASS, passes + more, Duration::from_secs(30));
        }
        assert_eq!(log_start(&mut conn, "kept"), want);
        // The first kept record is readable, with its value; the one before
        // it is gone.
        let (code, _, records) = fetch(&mut conn, "kept", 0, want, 0);
        assert_eq!(code, 0);
        assert_eq!(records[0], (want, value(want as u64)));
        let (code, _, _) = fetch(&mut conn, "kept", 0, want - 1, 0);
        assert_eq!(code, 1, "OFFSET_OUT_OF_RANGE below the log start");
    }
}
