//! End-to-end tests of the optional subsystems against the real binary:
//! the /metrics scrape (monitoring), search over HTTP (search), backup and
//! restore (backup), and the feature split itself (which heavy dependencies
//! each build variant resolves). SASL (auth) is tested in `tests/sasl.rs`.
//!
//! Tests of a subsystem exist only in builds with its feature: run
//! `cargo nextest run -p chronik-server --features full --test subsystems`
//! for all of them.

mod common;

#[allow(unused_imports)]
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[allow(unused_imports)]
use common::clients::{http_addr, http_get, search_offsets};
#[allow(unused_imports)]
use common::{kafka, run_tool, KafkaConn, TestBroker};

/// Bound on every polling wait below (a failure guard, not a speed goal).
#[allow(dead_code)]
const WAIT: Duration = Duration::from_secs(60);

/// Value of one Prometheus sample line, e.g. `chronik_bytes_in_total`.
#[allow(dead_code)]
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[allow(dead_code)]
fn produce_values(broker: &TestBroker, topic: &str, values: &[&str]) -> i64 {
    let mut conn = KafkaConn::connect(&broker.addr);
    let (code, base) = kafka::produce(&mut conn, topic, 0, kafka::batch(values, 1_700_000_000_000));
    assert_eq!(code, 0, "produce failed; log:\n{}", broker.log_tail());
    base
}

#[cfg(feature = "monitoring")]
#[test]
fn metrics_are_scraped_over_http() {
    let dir = tempfile::tempdir().unwrap();
    // Interval fsync: the background flusher syncs the produced data, and
    // every fsync it runs must land in the latency histogram.
    let broker = TestBroker::start(
        &dir.path().join("data"),
        &["--http", "127.0.0.1:0", "--fsync", "10ms"],
    );
    let http = http_addr(&broker);
    produce_values(&broker, "metered", &["a", "b", "c"]);
    produce_values(&broker, "metered", &["d"]);

    let (status, text) = http_get(&http, "/metrics");
    assert_eq!(status, 200, "{text}");
    assert!(
        sample(
            &text,
            r#"chronik_requests_total{api="Produce",result="ok"}"#
        ) >= Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "chronik_bytes_in_total") > Some(0.0),
        "{text}"
    );
    assert!(
        sample(&text, "chronik_bytes_out_total") > Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"chronik_log_end_offset{partition="0",topic="metered"}"#
        ),
        Some(4.0),
        "{text}"
    );
    assert!(text.contains("# TYPE chronik_fsync_duration_seconds histogram"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, text) = http_get(&http, "/metrics");
        if sample(&text, "chronik_fsync_duration_seconds_count") >= Some(1.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no fsync observed 10 s after producing:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = http_get(&http, "/healthz");
    assert_eq!(status, 200);
}

#[cfg(feature = "search")]
#[test]
fn search_over_http_and_rebuild_after_index_loss() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = ["--http", "127.0.0.1:0", "--search-topics", "logs"];
    let mut broker = TestBroker::start(&data, &args);
    let http = http_addr(&broker);
    produce_values(
        &broker,
        "logs",
        &["disk full on node7", "all good", "disk replaced"],
    );
    produce_values(&broker, "other", &["disk full elsewhere"]);

    let find = |http: &str, q: &str| search_offsets(http, "logs", q);
    assert_eq!(find(&http, "disk"), [0, 2]);
    assert_eq!(find(&http, "disk%20AND%20full"), [0]);

    let (status, body) = http_get(&http, "/search?topic=logs&q=value:(unclosed");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid query"), "{body}");
    let (status, _) = http_get(&http, "/search?topic=other&q=disk");
    assert_eq!(status, 404);

    // The index is rebuilt from the log when lost.
    assert!(broker.terminate().success());
    std::fs::remove_dir_all(data.join("search/logs")).unwrap();
    let broker = TestBroker::start(&data, &args);
    let http = http_addr(&broker);
    assert_eq!(find(&http, "replaced"), [2]);
}

#[cfg(feature = "backup")]
#[test]
fn backup_then_restore_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = dir.path().join("backup");
    let url = format!("fs://{}", store.display());
    let mut broker = TestBroker::start(
        &data,
        &[
            "--segment-bytes",
            "1024",
            "--backup",
            &url,
            "--backup-scan-ms",
            "50",
        ],
    );
    // ~300-byte batches roll a 1 KiB segment every few produces.
    let value = "v".repeat(200);
    let mut produced = Vec::new();
    for i in 0..20 {
        let v = format!("{i:03}-{value}");
        produce_values(&broker, "kept", &[&v]);
        produced.push(v);
    }
    // Wait until several sealed segments are in the manifest.
    let deadline = Instant::now() + WAIT;
    let manifest = loop {
        let m: Option<serde_json::Value> = std::fs::read(store.join("manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let segments = m.as_ref().map_or(0, |m| {
            m["entries"]
                .as_object()
                .unwrap()
                .values()
                .filter(|e| e.get("segment").is_some())
                .count()
        });
        if segments >= 3 {
            break m.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "backup did not upload sealed segments; log:\n{}",
            broker.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let backed_up_end = manifest["entries"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|e| e["segment"]["end_offset"].as_i64())
        .max()
        .unwrap();
    assert!(manifest["entries"]
        .as_object()
        .unwrap()
        .contains_key("topics/kept/topic.meta"));
    assert!(broker.terminate().success());

    let restored = dir.path().join("restored");
    let out = run_tool(
        Command::new(env!("CARGO_BIN_EXE_chronik-server")).args([
            "restore",
            "--from",
            &url,
            "--data-dir",
            restored.to_str().unwrap(),
        ]),
        b"",
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let broker = TestBroker::start(&restored, &[]);
    let mut conn = KafkaConn::connect(&broker.addr);
    let mut got = Vec::new();
    while (got.len() as i64) < backed_up_end {
        let (code, _, records) = kafka::fetch(&mut conn, "kept", 0, got.len() as i64, 100);
        assert_eq!(code, 0, "fetch failed; log:\n{}", broker.log_tail());
        assert!(!records.is_empty(), "restored log ends at {}", got.len());
        for (offset, v) in records {
            if offset >= got.len() as i64 {
                got.push(v);
            }
        }
    }
    assert_eq!(&got[..], &produced[..got.len()]);
}

/// Packages `cargo tree` resolves for chronik-server with `features`.
fn resolved_packages(features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = run_tool(
        Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "tree",
                "-p",
                "chronik-server",
                "-e",
                "normal,build",
                "--prefix",
                "none",
                "--format",
                "{p}",
            ])
            .args(features),
        b"",
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_package(tree: &str, name: &str) -> bool {
    tree.lines()
        .any(|l| l.split_whitespace().next() == Some(name))
}

#[test]
fn minimal_build_resolves_no_heavy_dependency_and_full_has_all() {
    const HEAVY: [&str; 4] = ["tantivy", "opendal", "prometheus", "opentelemetry"];
    let minimal = resolved_packages(&["--no-default-features", "--features", "minimal"]);
    assert!(has_package(&minimal, "chronik-server"), "{minimal}");
    for name in HEAVY {
        assert!(!has_package(&minimal, name), "minimal resolves {name}");
    }
    let full = resolved_packages(&["--features", "full"]);
    for name in HEAVY {
        assert!(has_package(&full, name), "full lacks {name}");
    }
    // The default build has monitoring and auth, not search or backup.
    let default = resolved_packages(&[]);
    assert!(has_package(&default, "prometheus") && has_package(&default, "chronik-auth"));
    assert!(!has_package(&default, "tantivy") && !has_package(&default, "opendal"));
}

#[cfg(feature = "monitoring")]
#[test]
fn request_spans_are_exported_over_otlp() {
    // A loopback stand-in for an OTLP/HTTP collector.
    let (endpoint, rx) = chronik_monitoring::test_support::fake_collector();

    let dir = tempfile::tempdir().unwrap();
    let mut broker = TestBroker::start(
        &dir.path().join("data"),
        &["--otlp-endpoint", &endpoint, "--http", "127.0.0.1:0"],
    );
    produce_values(&broker, "traced", &["x"]);
    // Shutdown flushes the span batch.
    assert!(broker.terminate().success());
    let mut bodies = Vec::new();
    while let Ok(export) = rx.recv_timeout(Duration::from_secs(30)) {
        assert_eq!(export.path, "/v1/traces");
        bodies.extend(export.body);
        if bodies.windows(7).any(|w| w == b"Produce") {
            break;
        }
    }
    let contains = |needle: &[u8]| bodies.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"Produce"), "no Produce span exported");
    assert!(contains(b"chronik-server"), "service name missing");
}

#[allow(dead_code)]
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Retention with backup on deletes only what is in the backup. With the
/// backend refusing every connection, the retention passes (counted in the
/// broker's debug log, not slept for) all wait and the log start stays 0;
/// with a working backend, the log start moves to exactly where the size
/// limit puts it.
#[cfg(feature = "backup")]
#[test]
fn retention_deletes_only_backed_up_segments() {
    use common::retention::{expected_start, log_start, now_ms, wait_for_log_start};
    const SEGMENT_BYTES: u64 = 1024;
    const RETENTION_BYTES: u64 = 1024;
    const RECORDS: u64 = 12;
    /// Debug lines of the backup glue, one per partition and retention pass.
    const WAITS: &str = "retention waits for the backup";
    const APPLIED: &str = "retention applied to backed-up segments";
    let first_segment = |data: &Path| data.join("topics/kept/0/00000000000000000000.log");
    // Fixed-width values, timestamped now so that age retention (7 days by
    // default) never applies: only the size limit decides.
    let value = |i: u64| format!("{i:03}-{}", "r".repeat(200));
    let b = kafka::batch(&[&value(0)], now_ms()).len() as u64;
    assert!(SEGMENT_BYTES / b >= 2, "several batches per segment");
    let want = expected_start(RECORDS, b, SEGMENT_BYTES, RETENTION_BYTES);
    assert!(want > 0, "the limit must delete something");
    let fill = |conn: &mut KafkaConn| {
        for i in 0..RECORDS {
            let (code, offset) =
                kafka::produce(conn, "kept", 0, kafka::batch(&[&value(i)], now_ms()));
            assert_eq!((code, offset), (0, i as i64));
        }
    };
    let args = |url: &str| -> Vec<String> {
        [
            "--segment-bytes",
            &SEGMENT_BYTES.to_string(),
            "--retention-bytes",
            &RETENTION_BYTES.to_string(),
            "--backup",
            url,
            "--backup-scan-ms",
            "50",
        ]
        .map(String::from)
        .to_vec()
    };
    let debug = [(
        "CHRONIK_LOG",
        std::ffi::OsStr::new("info,chronik_broker::subsystems::backup=debug"),
    )];

    // Backend unreachable (the port is bound but nothing listens, so every
    // connection is refused): nothing is uploaded, so nothing may be
    // deleted, however far over the limit.
    let (_closed, port) = common::refusing_port();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("s3://bucket/p?endpoint=http://127.0.0.1:{port}");
    let broker = TestBroker::start_with_env(&data, &strs(&args(&url)), &debug);
    let mut conn = KafkaConn::connect(&broker.addr);
    fill(&mut conn);
    broker.wait_for_log("backup attempt failed", 0, WAIT);
    // Five more retention passes over the filled partition, each waiting.
    let waits = broker.log_count(WAITS);
    for more in 0..5 {
        broker.wait_for_log(WAITS, waits + more, WAIT);
    }
    assert_eq!(broker.log_count(APPLIED), 0, "{}", broker.log_tail());
    assert_eq!(log_start(&mut conn, "kept"), 0, "deleted before upload");
    assert!(first_segment(&data).exists(), "deleted before upload");
    drop(broker);

    // Backend reachable: once uploaded, the oldest segments go, exactly as
    // far as the limit says, and further passes change nothing.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("fs://{}", dir.path().join("backup").display());
    let broker = TestBroker::start_with_env(&data, &strs(&args(&url)), &debug);
    let mut conn = KafkaConn::connect(&broker.addr);
    fill(&mut conn);
    wait_for_log_start(&mut conn, &broker, "kept", want, WAIT);
    let applied = broker.log_count(APPLIED);
    for more in 0..3 {
        broker.wait_for_log(APPLIED, applied + more, WAIT);
    }
    assert_eq!(log_start(&mut conn, "kept"), want);
    assert!(!first_segment(&data).exists(), "first segment kept");
    let manifest = std::fs::read_to_string(dir.path().join("backup/manifest.json")).unwrap();
    assert!(manifest.contains("00000000000000000000.log"), "{manifest}");
}
