//! End-to-end with kcat (librdkafka): produce, consume, metadata listing and
//! every compression codec, against the real broker binary.
//!
//! Needs `kcat` on PATH (Debian package `kcat`).

mod common;

use common::clients::{kcat, kcat_keyed_round_trip};
use common::TestBroker;

fn lines(prefix: &str, n: usize) -> String {
    (0..n).map(|i| format!("{prefix}-{i}\n")).collect()
}

#[test]
fn produce_consume_and_list_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    let input = lines("message", 500);
    kcat(&broker, &["-P", "-t", "orders"], input.as_bytes());
    let output = kcat(
        &broker,
        &["-C", "-t", "orders", "-o", "beginning", "-e", "-q"],
        b"",
    );
    assert_eq!(output, input);

    // Offsets continue after a second producer session.
    kcat(&broker, &["-P", "-t", "orders"], b"tail\n");
    let last = kcat(
        &broker,
        &[
            "-C", "-t", "orders", "-o", "500", "-e", "-q", "-f", "%o %s\n",
        ],
        b"",
    );
    assert_eq!(last, "500 tail\n");

    let listing = kcat(&broker, &["-L"], b"");
    assert!(
        listing.contains("topic \"orders\" with 1 partitions"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("broker 0 at {}", broker.addr)),
        "{listing}"
    );
}

#[test]
fn keyed_messages_spread_over_partitions_and_all_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &["--default-partitions", "4"]);
    let input: String = (0..400).map(|i| format!("key{i}:value{i}\n")).collect();
    let (partitions, got) = kcat_keyed_round_trip(&broker, "keyed", &input);
    let mut want: Vec<&str> = input.lines().collect();
    want.sort_unstable();
    assert_eq!(got, want);
    assert!(
        partitions.len() > 1,
        "all keys landed in one partition: {partitions:?}"
    );
    let listing = kcat(&broker, &["-L", "-t", "keyed"], b"");
    assert!(listing.contains("with 4 partitions"), "{listing}");
}

#[test]
fn every_compression_codec_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("compressed-{codec}");
        // Repetitive payloads so compression actually shrinks the batches.
        let input: String = (0..2000)
            .map(|i| format!("{codec} payload {i} {}\n", "x".repeat(i % 200)))
            .collect();
        kcat(
            &broker,
            &["-P", "-t", &topic, "-z", codec, "-X", "linger.ms=50"],
            input.as_bytes(),
        );
        let output = kcat(
            &broker,
            &["-C", "-t", &topic, "-o", "beginning", "-e", "-q"],
            b"",
        );
        assert_eq!(output, input, "payloads changed through {codec}");
    }
}
