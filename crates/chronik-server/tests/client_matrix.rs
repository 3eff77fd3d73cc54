//! The client-generation matrix (README "Client compatibility"): clients of
//! several generations and languages produce, consume, compress and
//! authenticate against the real broker binary.
//!
//! * librdkafka 2.0 (Debian's kcat): `kcat.rs` (produce, consume, every
//!   codec) and the consumer group below; SASL in `sasl.rs`.
//! * librdkafka 2.x (confluent-kafka): compression below; produce and
//!   consume in `confluent.rs`, groups in `clients_groups.rs`, SASL in
//!   `sasl.rs`.
//! * kafka-python: compression and SASL below; groups in
//!   `clients_groups.rs`; more SASL in `sasl.rs`.
//! * rskafka (pure Rust, crates.io): produce, consume, every codec and SASL
//!   below. rskafka has no consumer groups.
//!
//! Each test first checks the client's version, so the matrix names what
//! actually ran. Needs kcat and python3 with confluent-kafka and
//! kafka-python (scripts/install-test-deps.sh installs them).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chronik_storage::batch::Compression as Codec;
use common::clients::{kcat, run_client_script, stored_codecs};
use common::{add_user, run_tool, TestBroker};
use serde_json::Value;

const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// Pinned client versions (also listed in README.md).
const KCAT_LIBRDKAFKA: &str = "librdkafka 2.0.2";
const CONFLUENT_KAFKA: &str = "confluent-kafka 2.16.1";
const KAFKA_PYTHON: &str = "kafka-python 3.0.12";

/// Runs matrix.py and returns its JSON line; fails with its output and
/// the broker log otherwise.
fn matrix(broker: &TestBroker, args: &[&str]) -> Value {
    run_client_script(broker, "matrix.py", args)
}

fn values(v: &Value) -> Vec<String> {
    v["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn codec_name(c: Codec) -> String {
    format!("{c:?}")
}

fn expected(codec: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{codec}-{i}")).collect()
}

/// A broker with SASL users alice (SCRAM) and bob (PLAIN).
fn sasl_broker(dir: &Path) -> TestBroker {
    let creds = dir.join("users.toml");
    add_user(&creds, "alice", "wonder land");
    add_user(&creds, "bob", "builder");
    TestBroker::start(
        &dir.join("data"),
        &["--sasl-credentials", creds.to_str().unwrap()],
    )
}

const CODECS: [(&str, Codec); 5] = [
    ("none", Codec::None),
    ("gzip", Codec::Gzip),
    ("snappy", Codec::Snappy),
    ("lz4", Codec::Lz4),
    ("zstd", Codec::Zstd),
];

/// matrix.py's `client` round-trips 50 values to topic `{client}-{codec}`
/// with each of `codecs`; asserts the client's version, the values read and
/// that the broker stored the batches compressed as sent. Returns the
/// JSON of each run.
fn codecs_round_trip(
    broker: &TestBroker,
    client: &str,
    version: &str,
    codecs: &[(&str, Codec)],
) -> Vec<Value> {
    let mut runs = Vec::new();
    for &(name, codec) in codecs {
        let topic = format!("{client}-{name}");
        let args = [client, "roundtrip", &broker.addr, &topic, name, "50"];
        let out = matrix(broker, &args);
        assert_eq!(out["client"], version);
        assert_eq!(values(&out), expected(name, 50), "{name}");
        assert_eq!(
            stored_codecs(broker, &topic, 0),
            BTreeSet::from([codec_name(codec)]),
            "{name}"
        );
        runs.push(out);
    }
    runs
}

mod librdkafka_2_0_kcat {
    use super::*;

    /// kcat's balanced consumer group (-G): the first run reads every
    /// record of a 3-partition topic and commits; a second run of the same
    /// group reads only what was produced after it.
    #[test]
    fn consumer_group_reads_everything_once_and_resumes() {
        let out = run_tool(Command::new("kcat").arg("-V"), b"", TOOL_TIMEOUT);
        let version = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(version.contains(KCAT_LIBRDKAFKA), "{version}");

        let dir = tempfile::tempdir().unwrap();
        let broker = TestBroker::start(&dir.path().join("data"), &["--default-partitions", "3"]);
        let first: String = (0..90).map(|i| format!("g-{i}\n")).collect();
        // Keys spread the records over the partitions.
        let keyed: String = first
            .lines()
            .enumerate()
            .map(|(i, v)| format!("k{i}:{v}\n"))
            .collect();
        kcat(
            &broker,
            &["-P", "-t", "grouped", "-K", ":"],
            keyed.as_bytes(),
        );
        // No -o: with it kcat assigns explicit offsets and ignores the
        // group's committed ones.
        let group = [
            "-G",
            "kcat-group",
            "-X",
            "auto.offset.reset=earliest",
            "-e",
            "-q",
            "grouped",
        ];
        let read = kcat(&broker, &group, b"");
        let got: BTreeSet<&str> = read.lines().collect();
        let want: BTreeSet<&str> = first.lines().collect();
        assert_eq!(got, want);
        assert_eq!(read.lines().count(), 90, "each record once");

        kcat(&broker, &["-P", "-t", "grouped"], b"late-1\nlate-2\n");
        let again = kcat(&broker, &group, b"");
        let mut again: Vec<&str> = again.lines().collect();
        again.sort_unstable();
        assert_eq!(
            again,
            ["late-1", "late-2"],
            "resumed at the committed offsets"
        );
    }
}

mod librdkafka_2_x_confluent {
    use super::*;

    /// confluent-kafka produces with every codec (acks=all) and reads the
    /// values back; the broker stored the batches compressed as sent.
    #[test]
    fn every_codec_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let broker = TestBroker::start(&dir.path().join("data"), &[]);
        for out in codecs_round_trip(&broker, "confluent", CONFLUENT_KAFKA, &CODECS) {
            assert_eq!(out["librdkafka"], "2.16.0");
        }
    }
}

mod kafka_python {
    use super::*;

    /// kafka-python round-trips uncompressed and gzip batches (its other
    /// codecs need optional Python modules the suite does not install).
    #[test]
    fn plain_and_gzip_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let broker = TestBroker::start(&dir.path().join("data"), &[]);
        let codecs = [("none", Codec::None), ("gzip", Codec::Gzip)];
        codecs_round_trip(&broker, "kafka-python", KAFKA_PYTHON, &codecs);
    }

    /// kafka-python authenticates with SCRAM-SHA-256 and PLAIN (SaslHandshake
    /// v1 and SaslAuthenticate); a wrong password and no credentials are
    /// refused.
    #[test]
    fn sasl_scram_and_plain_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        for (mech, user, password) in [
            ("SCRAM-SHA-256", "alice", "wonder land"),
            ("PLAIN", "bob", "builder"),
        ] {
            let topic = format!("kp-sasl-{}", mech.to_lowercase());
            let out = matrix(
                &broker,
                &[
                    "kafka-python",
                    "roundtrip",
                    &broker.addr,
                    &topic,
                    "gzip",
                    "20",
                    mech,
                    user,
                    password,
                ],
            );
            assert_eq!(values(&out), expected("gzip", 20), "{mech}");
            let wrong = matrix(
                &broker,
                &["kafka-python", "refused", &broker.addr, mech, user, "wrong"],
            );
            assert_eq!(
                wrong["refused"], true,
                "{mech} with a wrong password: {wrong}"
            );
        }
        let none = matrix(
            &broker,
            &["kafka-python", "refused", &broker.addr, "none", "-", "-"],
        );
        assert_eq!(none["refused"], true, "no credentials: {none}");
    }
}

mod rskafka_pure_rust {
    use super::*;
    use rskafka::client::partition::{Compression, UnknownTopicHandling};
    use rskafka::client::{ClientBuilder, Credentials, SaslConfig};
    use rskafka::record::Record;
    use rskafka::BackoffConfig;

    fn backoff() -> BackoffConfig {
        BackoffConfig {
            deadline: Some(Duration::from_secs(15)),
            ..BackoffConfig::default()
        }
    }

    fn client(addr: &str, sasl: Option<SaslConfig>) -> ClientBuilder {
        let b = ClientBuilder::new(vec![addr.to_string()]).backoff_config(backoff());
        match sasl {
            Some(s) => b.sasl_config(s),
            None => b,
        }
    }

    fn records(prefix: &str, n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| Record {
                key: None,
                value: Some(format!("{prefix}-{i}").into_bytes()),
                headers: Default::default(),
                timestamp: rskafka::chrono::DateTime::from_timestamp_millis(
                    1_700_000_000_000 + i as i64,
                )
                .expect("valid timestamp"),
            })
            .collect()
    }

    /// Produces `n` records in one batch with `compression`, reads the
    /// partition back from offset 0 and returns the values.
    async fn round_trip(
        builder: ClientBuilder,
        topic: &str,
        prefix: &str,
        n: usize,
        compression: Compression,
    ) -> Vec<String> {
        let client = builder.build().await.expect("connect");
        client
            .controller_client()
            .unwrap()
            .create_topic(topic, 1, 1, 10_000)
            .await
            .expect("create topic");
        let partition = client
            .partition_client(topic, 0, UnknownTopicHandling::Retry)
            .await
            .expect("partition client");
        let offsets = partition
            .produce(records(prefix, n), compression)
            .await
            .expect("produce");
        assert_eq!(offsets, (0..n as i64).collect::<Vec<_>>());
        let (read, high_watermark) = partition
            .fetch_records(0, 1..1_000_000, 1_000)
            .await
            .expect("fetch");
        assert_eq!(high_watermark, n as i64);
        read.into_iter()
            .map(|r| {
                assert!(r.offset < n as i64);
                String::from_utf8(r.record.value.unwrap()).unwrap()
            })
            .collect()
    }

    /// rskafka (version pinned in Cargo.toml) produces with every codec and
    /// reads the values back; the broker stored the batches compressed.
    #[tokio::test]
    async fn every_codec_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let broker = TestBroker::start(&dir.path().join("data"), &[]);
        for (name, compression, codec) in [
            ("none", Compression::NoCompression, Codec::None),
            ("gzip", Compression::Gzip, Codec::Gzip),
            ("snappy", Compression::Snappy, Codec::Snappy),
            ("lz4", Compression::Lz4, Codec::Lz4),
            ("zstd", Compression::Zstd, Codec::Zstd),
        ] {
            let topic = format!("rskafka-{name}");
            let read = round_trip(client(&broker.addr, None), &topic, name, 40, compression).await;
            assert_eq!(read, expected(name, 40), "{name}");
            assert_eq!(
                stored_codecs(&broker, &topic, 0),
                BTreeSet::from([codec_name(codec)])
            );
        }
    }

    /// rskafka authenticates with SCRAM-SHA-256 and PLAIN; a wrong password
    /// and no credentials get no data.
    #[tokio::test]
    async fn sasl_scram_and_plain_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        let creds = |u: &str, p: &str| Credentials::new(u.to_string(), p.to_string());
        for (sasl, topic, prefix, compression) in [
            (
                SaslConfig::ScramSha256(creds("alice", "wonder land")),
                "rs-scram",
                "scram",
                Compression::Gzip,
            ),
            (
                SaslConfig::Plain(creds("bob", "builder")),
                "rs-plain",
                "plain",
                Compression::NoCompression,
            ),
        ] {
            let sasl_client = client(&broker.addr, Some(sasl));
            let read = round_trip(sasl_client, topic, prefix, 10, compression).await;
            assert_eq!(read, expected(prefix, 10), "{prefix}");
        }

        for (what, sasl) in [
            (
                "wrong SCRAM password",
                Some(SaslConfig::ScramSha256(creds("alice", "wrong"))),
            ),
            (
                "wrong PLAIN password",
                Some(SaslConfig::Plain(creds("bob", "wrong"))),
            ),
            ("no credentials", None),
        ] {
            let outcome = async {
                let client = client(&broker.addr, sasl).build().await?;
                client
                    .partition_client("rs-scram", 0, UnknownTopicHandling::Error)
                    .await?
                    .fetch_records(0, 1..1_000_000, 100)
                    .await
            };
            let outcome = tokio::time::timeout(Duration::from_secs(60), outcome)
                .await
                .unwrap_or_else(|_| panic!("{what}: neither refused nor served in 60 s"));
            assert!(outcome.is_err(), "{what} was served: {outcome:?}");
        }
    }
}
