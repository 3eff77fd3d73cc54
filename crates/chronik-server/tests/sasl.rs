//! SASL (the `auth` feature) end to end against the real binary, with the
//! client generations users run:
//!
//! - confluent-kafka (librdkafka 2.x) and Debian's kcat (librdkafka 2.0):
//!   produce and consume over SCRAM-SHA-256 and PLAIN; a wrong password and
//!   no credentials are both refused;
//! - kafka-python held to Kafka 0.11's API versions, so that it logs in
//!   the legacy way (SaslHandshake v0 followed by bare token frames), over
//!   both mechanisms;
//! - the raw protocol, for what clients cannot be made to send: malformed
//!   v0 tokens, unknown mechanisms, requests before authentication.
//!
//! Needs `kcat` and `python3` with `confluent_kafka` and `kafka`
//! (scripts/install-test-deps.sh installs them).

#![cfg(feature = "auth")]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::{add_user, run_tool, KafkaConn, TestBroker};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse,
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;

/// Bound on each client tool run (a failure guard, not a speed goal).
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);

/// Kafka's UNSUPPORTED_SASL_MECHANISM.
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
/// Kafka's SASL_AUTHENTICATION_FAILED.
const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// The mechanisms the broker enables, in the order it lists them.
const MECHANISMS: [&str; 2] = ["SCRAM-SHA-256", "PLAIN"];

/// Users of every test broker: `(mechanism, user, password)` each logs in
/// with.
const LOGINS: [(&str, &str, &str); 2] = [
    ("SCRAM-SHA-256", "alice", "wonder land"),
    ("PLAIN", "bob", "builder"),
];

/// A broker requiring SASL, with the users of [`LOGINS`].
fn sasl_broker(dir: &Path) -> TestBroker {
    let creds = dir.join("users.toml");
    for (_, user, password) in LOGINS {
        add_user(&creds, user, password);
    }
    let text = std::fs::read_to_string(&creds).unwrap();
    assert!(
        LOGINS.iter().all(|(_, _, pw)| !text.contains(pw)),
        "the credentials file holds a password:\n{text}"
    );
    TestBroker::start(
        &dir.join("data"),
        &["--sasl-credentials", creds.to_str().unwrap()],
    )
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the Python `script` with the broker's address and `args`.
fn python(script: &str, broker: &TestBroker, args: &[&str]) -> Output {
    run_tool(
        Command::new("python3")
            .args(["-c", script, &broker.addr])
            .args(args),
        b"",
        TOOL_TIMEOUT,
    )
}

/// Runs the Python `script` in mode `roundtrip` as each of [`LOGINS`] on
/// topic `{prefix}-{mechanism}`; asserts it printed `{mechanism}-0` up to
/// `{mechanism}-{n - 1}`.
fn assert_roundtrips(script: &str, broker: &TestBroker, prefix: &str, n: usize) {
    for (mech, user, password) in LOGINS {
        let topic = format!("{prefix}-{}", mech.to_lowercase());
        let out = python(script, broker, &[mech, user, password, &topic, "roundtrip"]);
        assert!(
            out.status.success(),
            "{mech}: {}\nbroker log:\n{}",
            text(&out),
            broker.log_tail()
        );
        let expected: Vec<String> = (0..n).map(|i| format!("{mech}-{i}")).collect();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.lines().collect::<Vec<_>>(), expected, "{mech}");
    }
}

mod confluent {
    use super::*;

    /// confluent-kafka client. Modes: `roundtrip` produces 10 values and
    /// consumes them back, printing them; `expect-fail` exits 0 only if
    /// authentication is refused; `no-credentials` connects without SASL and
    /// exits 0 only if nothing could be produced.
    const CLIENT: &str = r#"
import sys, time
from confluent_kafka import Producer, Consumer, KafkaError
addr, mech, user, password, topic, mode = sys.argv[1:7]
conf = {'bootstrap.servers': addr, 'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': mech, 'sasl.username': user, 'sasl.password': password}
errors = []
def on_error(err):
    errors.append(err)
if mode == 'expect-fail':
    p = Producer(dict(conf, error_cb=on_error, **{'message.timeout.ms': 5000}))
    p.produce(topic, b'x')
    p.flush(10)
    auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    print('AUTH-REFUSED' if auth else 'NOT-REFUSED %r' % errors)
    sys.exit(0 if auth else 1)
delivered = []
def on_delivery(err, msg):
    if err is not None:
        errors.append(err)
    else:
        delivered.append(msg.offset())
if mode == 'no-credentials':
    p = Producer({'bootstrap.servers': addr, 'error_cb': on_error,
                  'message.timeout.ms': 5000})
    p.produce(topic, b'x', on_delivery=on_delivery)
    p.flush(15)
    print('DELIVERED %r' % delivered if delivered else 'NOTHING-DELIVERED %r' % errors)
    sys.exit(1 if delivered else 0)
p = Producer(dict(conf, acks='all', error_cb=on_error))
for i in range(10):
    p.produce(topic, ('%s-%d' % (mech, i)).encode(), on_delivery=on_delivery)
if p.flush(60) != 0 or errors or len(delivered) != 10:
    print('PRODUCE-FAILED', errors, delivered); sys.exit(2)
c = Consumer(dict(conf, **{'group.id': 'g-' + mech, 'auto.offset.reset': 'earliest',
                            'enable.auto.commit': False}))
c.subscribe([topic])
got, deadline = [], time.time() + 60
while len(got) < 10 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append(m.value().decode())
c.close()
print('\n'.join(got))
"#;

    #[test]
    fn confluent_kafka_authenticates_with_scram_and_plain() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        assert_roundtrips(CLIENT, &broker, "sasl", 10);
        for (mech, user, password) in [
            ("SCRAM-SHA-256", "alice", "wrong"),
            ("PLAIN", "mallory", "builder"),
        ] {
            let out = python(
                CLIENT,
                &broker,
                &[mech, user, password, "sasl-denied", "expect-fail"],
            );
            assert!(out.status.success(), "{mech} {user}: {}", text(&out));
        }
        let out = python(
            CLIENT,
            &broker,
            &["-", "-", "-", "sasl-denied", "no-credentials"],
        );
        assert!(out.status.success(), "without SASL: {}", text(&out));
    }
}

mod kcat {
    use super::*;

    /// kcat against `broker` logging in as `login` (none: plain TCP), with
    /// `extra` arguments.
    fn kcat(
        broker: &TestBroker,
        login: Option<(&str, &str, &str)>,
        extra: &[&str],
        stdin: &[u8],
    ) -> Output {
        let mut cmd = Command::new("kcat");
        cmd.args(["-b", &broker.addr]);
        if let Some((mech, user, password)) = login {
            cmd.args(["-X", "security.protocol=SASL_PLAINTEXT"])
                .arg("-X")
                .arg(format!("sasl.mechanisms={mech}"))
                .arg("-X")
                .arg(format!("sasl.username={user}"))
                .arg("-X")
                .arg(format!("sasl.password={password}"));
        }
        run_tool(cmd.args(extra), stdin, TOOL_TIMEOUT)
    }

    /// Produces 20 lines as `login` and consumes them back.
    fn roundtrip(broker: &TestBroker, login: (&str, &str, &str), topic: &str) {
        let input: String = (0..20).map(|i| format!("{topic}-{i}\n")).collect();
        let out = kcat(broker, Some(login), &["-P", "-t", topic], input.as_bytes());
        assert!(
            out.status.success(),
            "{topic} produce: {}\nbroker log:\n{}",
            text(&out),
            broker.log_tail()
        );
        let consume = ["-C", "-t", topic, "-o", "beginning", "-e", "-q"];
        let out = kcat(broker, Some(login), &consume, b"");
        assert!(out.status.success(), "{topic} consume: {}", text(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), input, "{topic}");
    }

    /// Lists `topic`'s metadata with a 10 s bound; asserts it is refused.
    fn assert_refused(broker: &TestBroker, login: Option<(&str, &str, &str)>, topic: &str) {
        let out = kcat(broker, login, &["-L", "-m", "10", "-t", topic], b"");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() && !stdout.contains("partition 0"),
            "{login:?} was not refused: {}",
            text(&out)
        );
    }

    #[test]
    fn kcat_authenticates_with_scram_and_plain() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        for login in LOGINS {
            roundtrip(&broker, login, &format!("kcat-{}", login.0.to_lowercase()));
        }
        for (mech, user, _) in LOGINS {
            assert_refused(&broker, Some((mech, user, "wrong")), "kcat-plain");
        }
        assert_refused(&broker, None, "kcat-plain");
    }
}

mod kafka_python {
    use super::*;

    /// kafka-python held to Kafka 0.11's API versions, which predate
    /// SaslHandshake v1 (Kafka 1.0): it logs in with SaslHandshake v0 and
    /// bare token frames. Modes: `roundtrip` produces 5 values and consumes
    /// them back, printing them; `expect-fail` exits 0 only if a produce
    /// cannot be delivered.
    const CLIENT: &str = r#"
import sys
from kafka import KafkaProducer, KafkaConsumer
addr, mech, user, password, topic, mode = sys.argv[1:7]
conf = dict(bootstrap_servers=addr, security_protocol='SASL_PLAINTEXT', sasl_mechanism=mech,
            sasl_plain_username=user, sasl_plain_password=password, api_version=(0, 11, 0))
p = KafkaProducer(acks='all', max_block_ms=10000, **conf)
if mode == 'expect-fail':
    try:
        p.send(topic, b'x').get(timeout=10)
    except Exception as e:
        print('REFUSED', type(e).__name__)
        sys.exit(0)
    print('DELIVERED')
    sys.exit(1)
for i in range(5):
    p.send(topic, ('%s-%d' % (mech, i)).encode()).get(timeout=60)
p.close()
c = KafkaConsumer(topic, auto_offset_reset='earliest', consumer_timeout_ms=10000, **conf)
got = []
for m in c:
    got.append(m.value.decode())
    if len(got) == 5:
        break
c.close()
print('\n'.join(got))
"#;

    #[test]
    fn kafka_python_logs_in_with_the_v0_handshake_and_bare_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        assert_roundtrips(CLIENT, &broker, "v0", 5);
        for (mech, user, _) in LOGINS {
            let out = python(
                CLIENT,
                &broker,
                &[mech, user, "wrong", "v0-denied", "expect-fail"],
            );
            assert!(out.status.success(), "{mech} {user}: {}", text(&out));
        }
    }
}

mod raw {
    use super::*;

    fn handshake(conn: &mut KafkaConn, version: i16, mechanism: &str) -> SaslHandshakeResponse {
        let req = SaslHandshakeRequest::default()
            .with_mechanism(StrBytes::from_string(mechanism.to_string()));
        conn.call(ApiKey::SaslHandshake, version, &req)
    }

    /// A PLAIN login the v1 way: SaslHandshake v1, then SaslAuthenticate
    /// v2 carrying `token`; returns the answer.
    fn authenticate_v1(conn: &mut KafkaConn, token: &'static [u8]) -> SaslAuthenticateResponse {
        assert_eq!(handshake(conn, 1, "PLAIN").error_code, 0);
        let req = SaslAuthenticateRequest::default().with_auth_bytes(token.into());
        conn.call(ApiKey::SaslAuthenticate, 2, &req)
    }

    /// Sends a bare size-prefixed token (the v0 exchange).
    fn send_token(conn: &mut KafkaConn, token: &[u8]) {
        let mut frame = (token.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(token);
        conn.stream.write_all(&frame).expect("send token");
    }

    fn metadata_works(conn: &mut KafkaConn) {
        let resp: MetadataResponse = conn.call(ApiKey::Metadata, 12, &MetadataRequest::default());
        assert_eq!(resp.brokers.len(), 1);
    }

    fn mechanisms(resp: &SaslHandshakeResponse) -> Vec<&str> {
        resp.mechanisms.iter().map(|m| m.as_str()).collect()
    }

    #[test]
    fn handshake_v0_and_v1_are_advertised() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        let mut conn = KafkaConn::connect(&broker.addr);
        let resp: ApiVersionsResponse =
            conn.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default());
        let range = |key: ApiKey| {
            resp.api_keys
                .iter()
                .find(|k| k.api_key == key as i16)
                .map(|k| (k.min_version, k.max_version))
        };
        assert_eq!(range(ApiKey::SaslHandshake), Some((0, 1)));
        assert_eq!(range(ApiKey::SaslAuthenticate), Some((0, 2)));
    }

    #[test]
    fn v0_plain_login_with_bare_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        let mut conn = KafkaConn::connect(&broker.addr);
        let resp = handshake(&mut conn, 0, "PLAIN");
        assert_eq!(resp.error_code, 0);
        assert_eq!(mechanisms(&resp), MECHANISMS);
        send_token(&mut conn, b"\0bob\0builder");
        // PLAIN's success is an empty bare frame.
        let reply = conn.read_frame().expect("an answer to the token");
        assert!(reply.is_empty(), "{reply:?}");
        metadata_works(&mut conn);
    }

    #[test]
    fn v0_wrong_password_and_malformed_tokens_close_only_their_connection() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        // An authenticated connection (v1: SaslAuthenticate) that must
        // survive what the others send.
        let mut good = KafkaConn::connect(&broker.addr);
        let resp = authenticate_v1(&mut good, b"\0bob\0builder");
        assert_eq!(resp.error_code, 0, "{:?}", resp.error_message);
        metadata_works(&mut good);

        for (mechanism, token) in [
            ("PLAIN", &b"\0bob\0wrong"[..]),
            ("PLAIN", &b"no separators at all"[..]),
            ("SCRAM-SHA-256", &b"\xff\xfe not a client-first message"[..]),
            ("SCRAM-SHA-256", &b""[..]),
        ] {
            let mut bad = KafkaConn::connect(&broker.addr);
            assert_eq!(handshake(&mut bad, 0, mechanism).error_code, 0);
            send_token(&mut bad, token);
            assert!(
                bad.is_closed_by_peer(),
                "{mechanism} {token:?} did not close the connection"
            );
            metadata_works(&mut good);
        }
    }

    #[test]
    fn v1_wrong_password_is_answered_then_closed() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        let mut conn = KafkaConn::connect(&broker.addr);
        let resp = authenticate_v1(&mut conn, b"\0bob\0wrong");
        assert_eq!(resp.error_code, SASL_AUTHENTICATION_FAILED);
        assert!(conn.is_closed_by_peer());
    }

    #[test]
    fn unknown_mechanism_gets_the_enabled_list() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        for version in [0, 1] {
            let mut conn = KafkaConn::connect(&broker.addr);
            let resp = handshake(&mut conn, version, "GSSAPI");
            assert_eq!(resp.error_code, UNSUPPORTED_SASL_MECHANISM, "v{version}");
            assert_eq!(mechanisms(&resp), MECHANISMS, "v{version}");
            assert!(conn.is_closed_by_peer(), "v{version}");
        }
    }

    #[test]
    fn unauthenticated_requests_get_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let broker = sasl_broker(dir.path());
        // Metadata without authenticating: closed, unanswered.
        let mut conn = KafkaConn::connect(&broker.addr);
        conn.send(ApiKey::Metadata, 12, &MetadataRequest::default());
        assert!(conn.is_closed_by_peer());
        // Nor after a handshake whose exchange is unfinished (v1).
        let mut conn = KafkaConn::connect(&broker.addr);
        assert_eq!(handshake(&mut conn, 1, "PLAIN").error_code, 0);
        conn.send(ApiKey::Metadata, 12, &MetadataRequest::default());
        assert!(conn.is_closed_by_peer());
    }
}
