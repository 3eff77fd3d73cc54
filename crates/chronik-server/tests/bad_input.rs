//! Hostile and broken input over raw TCP: every bad connection gets an
//! error response or is closed, while a well-behaved client connected at the
//! same time keeps being served and the logs stay intact.

mod common;

use std::io::Write;
use std::net::Shutdown;

use common::kafka::{batch, fetch, produce};
use common::{KafkaConn, TestBroker};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse,
};

/// A frame: length prefix + payload.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as i32).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

/// api key, version, correlation id, client id "x" (request header v1).
fn header(key: i16, version: i16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&key.to_be_bytes());
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&77i32.to_be_bytes());
    v.extend_from_slice(&1i16.to_be_bytes());
    v.push(b'x');
    v
}

fn with_body(mut head: Vec<u8>, body: &[u8]) -> Vec<u8> {
    head.extend_from_slice(body);
    head
}

/// The bad inputs: (what, bytes to send, whether to half-close afterwards).
fn cases() -> Vec<(&'static str, Vec<u8>, bool)> {
    let mut huge_topics = header(3, 1);
    huge_topics.extend_from_slice(&0x7fff_ffffi32.to_be_bytes());
    // Metadata v12 (flexible): client id, empty tagged fields, then a compact
    // topic array claiming 2^32-2 entries.
    let mut huge_compact = Vec::new();
    huge_compact.extend_from_slice(&3i16.to_be_bytes());
    huge_compact.extend_from_slice(&12i16.to_be_bytes());
    huge_compact.extend_from_slice(&5i32.to_be_bytes());
    huge_compact.extend_from_slice(&(-1i16).to_be_bytes());
    huge_compact.push(0);
    huge_compact.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    vec![
        (
            "oversized frame length",
            0x7fff_fff0i32.to_be_bytes().to_vec(),
            false,
        ),
        (
            "negative frame length",
            (-2i32).to_be_bytes().to_vec(),
            false,
        ),
        ("unknown api key", frame(&header(999, 0)), false),
        ("frame shorter than a header", frame(&[0, 3, 0]), false),
        (
            "truncated header",
            frame(&[0, 3, 0, 1, 0, 0, 0, 9, 0, 50, b'a']),
            false,
        ),
        (
            "garbage body",
            frame(&with_body(
                header(0, 7),
                &[0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0x00],
            )),
            false,
        ),
        ("array length of 2^31-1", frame(&huge_topics), false),
        (
            "compact array length of 2^32-2",
            frame(&huge_compact),
            false,
        ),
        (
            "frame cut off mid-body",
            {
                let mut v = 100i32.to_be_bytes().to_vec();
                v.extend_from_slice(&header(18, 0));
                v
            },
            true,
        ),
        (
            "random bytes",
            (0..=255u8)
                .cycle()
                .take(4096)
                .map(|b| b.wrapping_mul(37))
                .collect(),
            true,
        ),
    ]
}

#[test]
fn bad_connections_are_closed_while_others_are_served_and_logs_stay_intact() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    let mut good = KafkaConn::connect(&broker.addr);
    assert_eq!(
        produce(&mut good, "intact", 0, batch(&["before-1", "before-2"], 0)),
        (0, 0)
    );

    for (what, bytes, half_close) in cases() {
        let mut bad = KafkaConn::connect(&broker.addr);
        bad.stream
            .write_all(&bytes)
            .unwrap_or_else(|e| panic!("{what}: send failed: {e}"));
        if half_close {
            bad.stream.shutdown(Shutdown::Write).unwrap();
        }
        assert!(
            bad.is_closed_by_peer(),
            "{what}: the broker neither replied with an error nor closed the connection"
        );
        // The good connection, open the whole time, is still served.
        let resp: MetadataResponse = good.call(ApiKey::Metadata, 9, &MetadataRequest::default());
        assert_eq!(resp.brokers.len(), 1, "{what}: metadata after bad input");
    }

    assert_eq!(
        produce(&mut good, "intact", 0, batch(&["after"], 0)),
        (0, 2)
    );
    let (code, hw, records) = fetch(&mut good, "intact", 0, 0, 0);
    assert_eq!((code, hw), (0, 3));
    let values: Vec<&str> = records.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["before-1", "before-2", "after"]);
    let log = std::fs::read_to_string(&broker.log).unwrap();
    assert!(
        !log.contains("panicked"),
        "broker log shows a panic:\n{log}"
    );
    assert!(
        log.contains("closing connection"),
        "bad connections were not logged:\n{log}"
    );
}

#[test]
fn unsupported_version_gets_an_error_reply_and_the_connection_stays_open() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    let mut conn = KafkaConn::connect(&broker.addr);
    // Produce v2 is below our minimum and below the codec's: the codec
    // cannot build a v2 response, so the connection is closed.
    let mut old = KafkaConn::connect(&broker.addr);
    old.stream
        .write_all(&frame(&with_body(header(0, 2), &[0, 0])))
        .unwrap();
    assert!(old.is_closed_by_peer());
    // ApiVersions at a future version: error 35 in a v0 response, then the
    // connection keeps working.
    let correlation = conn.send_as(ApiKey::ApiVersions, 100, 3, &ApiVersionsRequest::default());
    let resp: ApiVersionsResponse = conn.recv(ApiKey::ApiVersions, 0, correlation);
    assert_eq!(resp.error_code, 35);
    let resp: ApiVersionsResponse =
        conn.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default());
    assert_eq!(resp.error_code, 0);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    let mut conn = KafkaConn::connect(&broker.addr);
    let ids: Vec<(i32, ApiKey, i16)> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                (
                    conn.send(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default()),
                    ApiKey::ApiVersions,
                    3,
                )
            } else {
                (
                    conn.send(ApiKey::Metadata, 12, &MetadataRequest::default()),
                    ApiKey::Metadata,
                    12,
                )
            }
        })
        .collect();
    for (correlation, key, version) in ids {
        match key {
            ApiKey::ApiVersions => {
                let _: ApiVersionsResponse = conn.recv(key, version, correlation);
            }
            _ => {
                let _: MetadataResponse = conn.recv(key, version, correlation);
            }
        }
    }
}
