//! Helpers for tests that drive real clients and the broker's HTTP
//! listener: the Python client scripts of `tests/clients/`, the HTTP
//! listener's address and GET requests (metrics, search), the codecs of
//! stored batches, and skipping a test whose tool is missing outside CI.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use chronik_storage::batch::BatchIter;
use kafka_protocol::messages::{ApiKey, FetchResponse};
use serde_json::Value;

use super::{kafka, run_tool, KafkaConn, TestBroker};

/// Upper bound for one client script; the scripts bound their own waits at
/// about 60 s per phase.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

/// Upper bound for one kcat run (a failure guard, not a speed goal).
pub const KCAT_TIMEOUT: Duration = Duration::from_secs(180);

/// Bound on the HTTP waits below (a failure guard, not a speed goal).
pub const HTTP_WAIT: Duration = Duration::from_secs(60);

/// True when running in CI (`CI` set to anything but empty, `0` or
/// `false`), where a missing tool must fail a test rather than skip it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// For a test that cannot run because of `reason`: fails it in CI, and
/// elsewhere prints why it is skipped (the caller then returns).
pub fn skip_or_fail(reason: &str) {
    assert!(!in_ci(), "{reason} (CI is set: this test must run)");
    eprintln!("SKIPPED: {reason}");
}

/// Whether `program args` runs and exits successfully (a tool check).
pub fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `kcat -b <broker> args` with `stdin` and returns its stdout; fails
/// the test, with kcat's stderr and the broker log, if kcat fails.
pub fn kcat(broker: &TestBroker, args: &[&str], stdin: &[u8]) -> String {
    let out = run_tool(
        Command::new("kcat").args(["-b", &broker.addr]).args(args),
        stdin,
        KCAT_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "kcat {args:?} failed: {}\nbroker log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        broker.log_tail()
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Produces the `key:value` lines of `input` to `topic` with kcat (the keys
/// spread them over the partitions) and reads the topic back; returns the
/// partitions the records came from and the `key:value` lines read, sorted.
pub fn kcat_keyed_round_trip(
    broker: &TestBroker,
    topic: &str,
    input: &str,
) -> (BTreeSet<String>, Vec<String>) {
    kcat(broker, &["-P", "-t", topic, "-K", ":"], input.as_bytes());
    let args = ["-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f"];
    let output = kcat(broker, &[&args[..], &["%p %k:%s\n"]].concat(), b"");
    let (partitions, mut records): (BTreeSet<String>, Vec<String>) = output
        .lines()
        .map(|l| {
            let (p, record) = l.split_once(' ').expect("partition and record");
            (p.to_string(), record.to_string())
        })
        .unzip();
    records.sort_unstable();
    (partitions, records)
}

/// Checks the summary of `groups_confluent.py` over `partitions`
/// partitions and `total` records: both members owned partitions, the
/// split was disjoint and complete, the second member read some records,
/// the survivor ended with every partition, and every record was read
/// exactly once.
pub fn check_group_handover(summary: &Value, partitions: i64, total: i64) {
    let split: Vec<Vec<i64>> = summary["split"]
        .as_array()
        .expect("split")
        .iter()
        .map(|m| {
            m.as_array()
                .expect("a member's partitions")
                .iter()
                .map(|p| p.as_i64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(split.len(), 2, "{summary}");
    assert!(
        split.iter().all(|s| !s.is_empty()),
        "both members own partitions: {split:?}"
    );
    let mut union = split.concat();
    union.sort_unstable();
    let all: Vec<i64> = (0..partitions).collect();
    assert_eq!(union, all, "disjoint and complete: {split:?}");
    assert!(summary["read_by_b_before_leaving"].as_i64().unwrap() > 0);
    assert_eq!(summary["final_assignment"], Value::from(all));
    assert_eq!(summary["missing"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["duplicates"], 0, "{summary}");
    assert_eq!(summary["read"], total, "{summary}");
}

/// Runs `tests/clients/<name>` with python3 to completion and returns its
/// last stdout line as JSON. Fails the test, with the script's output and
/// the broker log, if the script fails, times out, or cannot run at all
/// (exit code 3: a Python module is missing).
pub fn run_client_script(broker: &TestBroker, name: &str, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name);
    let out = run_tool(
        Command::new("python3").arg(&script).args(args),
        b"",
        SCRIPT_TIMEOUT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = || {
        format!(
            "{name} {args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- broker log (tail)\n{}",
            broker.log_tail()
        )
    };
    match out.status.code() {
        Some(0) => {}
        Some(3) => panic!("missing Python module: {}", context()),
        _ => panic!("{name} failed ({}): {}", out.status, context()),
    }
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{name} printed no JSON summary ({e}): {}", context()))
}

/// The HTTP listener's address (`--http 127.0.0.1:0`), from the broker log.
pub fn http_addr(broker: &TestBroker) -> String {
    let deadline = Instant::now() + HTTP_WAIT;
    loop {
        let log = std::fs::read_to_string(&broker.log).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.contains("HTTP listener started")) {
            let addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .expect("addr field in the HTTP listener line");
            return addr.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no HTTP listener in the log:\n{}",
            broker.log_tail()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// GET `path`; returns (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the HTTP listener");
    s.set_read_timeout(Some(HTTP_WAIT)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// Offsets (sorted) of the records of `topic` that the search query `q`
/// (URL-encoded) finds, polling until some are found or [`HTTP_WAIT`]
/// passes (indexing is asynchronous); empty if none were found.
pub fn search_offsets(http: &str, topic: &str, q: &str) -> Vec<i64> {
    let deadline = Instant::now() + HTTP_WAIT;
    loop {
        let (status, body) = http_get(http, &format!("/search?topic={topic}&q={q}"));
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let mut offsets: Vec<i64> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["offset"].as_i64().unwrap())
            .collect();
        offsets.sort_unstable();
        if !offsets.is_empty() || Instant::now() > deadline {
            return offsets;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The codecs (`Debug` names: `None`, `Zstd`, ...) of the batches stored in
/// `partition` of `topic`, read raw: the broker stores batches as
/// producers send them.
pub fn stored_codecs(broker: &TestBroker, topic: &str, partition: i32) -> BTreeSet<String> {
    let mut conn = KafkaConn::connect(&broker.addr);
    let resp: FetchResponse = conn.call(
        ApiKey::Fetch,
        12,
        &kafka::fetch_request(topic, partition, 0, 0),
    );
    let records = resp.responses[0].partitions[0]
        .records
        .clone()
        .unwrap_or_default();
    BatchIter::new(&records)
        .map(|b| format!("{:?}", b.expect("whole batch").header.compression()))
        .collect()
}
