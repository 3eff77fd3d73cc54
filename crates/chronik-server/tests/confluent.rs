//! Durability with confluent-kafka (librdkafka): an idempotent acks=all
//! producer writes every message exactly once, and every acknowledged
//! message survives a SIGKILL of the broker, in order and without
//! duplicates.
//!
//! Needs `python3` with the `confluent-kafka` module; the client code is
//! `tests/clients/durability.py`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{run_tool, TestBroker};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/durability.py")
}

fn python(args: &[&str], broker: &TestBroker) -> String {
    let out = run_tool(
        Command::new("python3").arg(script()).args(args),
        b"",
        SCRIPT_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "durability.py {args:?} failed ({}):\nstdout: {}\nstderr: {}\nbroker log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        broker.log_tail()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Complete lines of a file (a trailing partial line is ignored: the writer
/// may have been killed mid-write).
fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    complete.lines().map(str::to_string).collect()
}

fn consume_all(broker: &TestBroker, topic: &str, dir: &Path) -> Vec<String> {
    let out = dir.join(format!("consumed-{topic}.txt"));
    python(
        &["consume", &broker.addr, topic, out.to_str().unwrap()],
        broker,
    );
    lines(&out)
}

/// Message numbers of `values` ("m00000042" -> 42).
fn numbers(values: &[String]) -> Vec<u64> {
    values
        .iter()
        .map(|v| {
            v.strip_prefix('m')
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("bad value {v:?}"))
        })
        .collect()
}

fn assert_strictly_increasing(read: &[u64]) {
    for w in read.windows(2) {
        assert!(
            w[0] < w[1],
            "out of order or duplicate: {} then {}",
            w[0],
            w[1]
        );
    }
}

#[test]
fn idempotent_acks_all_producer_writes_every_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    let acked = dir.path().join("acked.txt");
    let count = 20_000;
    let summary = python(
        &[
            "produce",
            &broker.addr,
            "exactly-once",
            acked.to_str().unwrap(),
            &count.to_string(),
        ],
        &broker,
    );
    assert!(
        summary.contains(&format!("\"acked\": {count}")),
        "{summary}"
    );
    let read = consume_all(&broker, "exactly-once", dir.path());
    assert_eq!(numbers(&read), (0..count).collect::<Vec<u64>>());
    assert_eq!(lines(&acked).len(), count as usize);
}

#[test]
fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut broker = TestBroker::start(&data, &[]);
    let acked = dir.path().join("acked.txt");
    let mut producer: Child = Command::new("python3")
        .arg(script())
        .args([
            "produce",
            &broker.addr,
            "crash",
            acked.to_str().unwrap(),
            "100000000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}); this test needs python3 with confluent-kafka")
        });

    // Let a good number of acknowledgements accumulate, then crash the broker
    // while the producer is still streaming.
    let deadline = Instant::now() + Duration::from_secs(120);
    while lines(&acked).len() < 5_000 {
        if let Some(status) = producer.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(producer.stderr.as_mut().unwrap(), &mut stderr).ok();
            panic!(
                "producer exited early ({status}): {stderr}\nbroker log:\n{}",
                broker.log_tail()
            );
        }
        assert!(
            Instant::now() < deadline,
            "producer got too few acks; broker log:\n{}",
            broker.log_tail()
        );
        thread::sleep(Duration::from_millis(20));
    }
    broker.kill9();
    // Acks already in the socket when the broker died may still arrive.
    thread::sleep(Duration::from_millis(500));
    let _ = producer.kill();
    let _ = producer.wait();
    let acked = numbers(&lines(&acked));
    assert!(acked.len() >= 5_000);

    let broker = TestBroker::start(&data, &[]);
    let read = numbers(&consume_all(&broker, "crash", dir.path()));
    assert_strictly_increasing(&read);
    let read_set: std::collections::BTreeSet<u64> = read.iter().copied().collect();
    let missing: Vec<u64> = acked
        .iter()
        .copied()
        .filter(|n| !read_set.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged messages lost after kill -9 (first: {:?}); read {}, acked {}",
        missing.len(),
        &missing[..missing.len().min(10)],
        read.len(),
        acked.len()
    );
    // Nothing was skipped either: the log is a prefix of the sequence.
    assert_eq!(read, (0..read.len() as u64).collect::<Vec<_>>());
}
