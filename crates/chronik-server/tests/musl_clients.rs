//! The static musl builds of chronik-server serve real clients: the x86_64
//! binary natively, the aarch64 binary under `qemu-aarch64-static` (user
//! mode emulation, no binfmt registration needed). Against each:
//!
//! - kcat produces and consumes on a 3-partition topic;
//! - confluent-kafka produces over a 3-partition topic and consumes it in a
//!   consumer group of two members (`tests/clients/groups_confluent.py`);
//! - zstd batches from kcat and confluent-kafka round-trip, stored
//!   compressed; with the `search` feature (variant full) the broker indexes
//!   them, and finding a word of a record proves that the broker itself
//!   decompressed the batch with zstd's C code compiled for the target;
//! - SASL/SCRAM-SHA-256 with kcat and confluent-kafka, with credentials made
//!   by the binary under test (`user add`), and a wrong password refused.
//!
//! The binaries are not built by this test: `CHRONIK_SERVER_X86_64_MUSL`
//! and `CHRONIK_SERVER_AARCH64_MUSL` name them (any variant with `auth`;
//! `full` for the broker-side zstd proof). scripts/test.sh builds and exports both. Outside CI a
//! missing binary or tool (kcat, python3 with confluent-kafka,
//! qemu-aarch64-static) skips a test with the reason printed; with `CI`
//! set it fails the test. Message counts are modest because the aarch64
//! broker runs emulated; every wait is bounded.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::clients::{
    check_group_handover, http_addr, kcat, kcat_keyed_round_trip, run_client_script,
    search_offsets, skip_or_fail, stored_codecs, tool_works,
};
use common::{add_user_with, Server, TestBroker};
use serde_json::Value;

/// One musl target whose binary is under test.
struct Target {
    /// The target triple.
    triple: &'static str,
    /// The environment variable naming its binary.
    env: &'static str,
    /// ELF `e_machine` the binary must have.
    machine: u16,
    /// The emulator it runs under on this (x86_64) machine, if any.
    wrapper: Option<&'static str>,
}

const X86_64: Target = Target {
    triple: "x86_64-unknown-linux-musl",
    env: "CHRONIK_SERVER_X86_64_MUSL",
    machine: 62, // EM_X86_64
    wrapper: None,
};

const AARCH64: Target = Target {
    triple: "aarch64-unknown-linux-musl",
    env: "CHRONIK_SERVER_AARCH64_MUSL",
    machine: 183, // EM_AARCH64
    wrapper: Some("qemu-aarch64-static"),
};

/// The ELF machine of the file at `path` (bytes 18-19, little endian).
fn elf_machine(path: &std::path::Path) -> Option<u16> {
    let bytes = std::fs::read(path).ok()?;
    (bytes.len() > 20 && bytes.starts_with(b"\x7fELF"))
        .then(|| u16::from_le_bytes([bytes[18], bytes[19]]))
}

/// The binary of `target` and what runs it, or `None` (after
/// [`skip_or_fail`]) when it or a client tool is missing.
fn server(target: &Target) -> Option<Server> {
    let Some(program) = std::env::var_os(target.env).map(PathBuf::from) else {
        skip_or_fail(&format!(
            "{} is not set: it names a chronik-server built for {} (variant full), e.g. by \
             `cargo buildplan build chronik-server --variant full --target {}`",
            target.env, target.triple, target.triple
        ));
        return None;
    };
    if !program.is_file() {
        skip_or_fail(&format!(
            "{}={} is not a file",
            target.env,
            program.display()
        ));
        return None;
    }
    // A wrong binary is an error of the caller wherever the test runs.
    assert_eq!(
        elf_machine(&program),
        Some(target.machine),
        "{}={} is not an ELF binary for {}",
        target.env,
        program.display(),
        target.triple
    );
    let mut missing = Vec::new();
    if !tool_works("kcat", &["-V"]) {
        missing.push("kcat (apt-get install kcat)".to_string());
    }
    if !tool_works("python3", &["-c", "import confluent_kafka"]) {
        missing.push("python3 with confluent-kafka (pip install confluent-kafka)".to_string());
    }
    if let Some(wrapper) = target.wrapper {
        if !tool_works(wrapper, &["--version"]) {
            missing.push(format!("{wrapper} (apt-get install qemu-user-static)"));
        }
    }
    if !missing.is_empty() {
        skip_or_fail(&format!(
            "testing the {} binary needs {}",
            target.triple,
            missing.join(", ")
        ));
        return None;
    }
    Some(Server {
        program,
        wrapper: target.wrapper.map(PathBuf::from),
    })
}

/// `server` over `dir`/data, auto-creating topics with 3 partitions.
fn three_partition_broker(server: &Server, dir: &std::path::Path) -> TestBroker {
    TestBroker::start_server(
        server,
        &dir.join("data"),
        &["--default-partitions", "3"],
        &[],
    )
}

/// kcat produces keyed lines to a topic auto-created with 3 partitions and
/// consumes every one of them back, from all 3 partitions.
fn kcat_on_three_partitions(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let broker = three_partition_broker(server, dir.path());
    let input: String = (0..150).map(|i| format!("key{i}:value-{i}\n")).collect();
    let (partitions, got) = kcat_keyed_round_trip(&broker, "spread", &input);
    let mut want: Vec<&str> = input.lines().collect();
    want.sort_unstable();
    assert_eq!(got, want, "every record back exactly once");
    assert_eq!(
        partitions,
        BTreeSet::from(["0", "1", "2"].map(String::from))
    );
    let listing = kcat(&broker, &["-L", "-t", "spread"], b"");
    assert!(listing.contains("with 3 partitions"), "{listing}");
}

/// confluent-kafka produces round-robin over 3 partitions and two members
/// of one group split them, read and commit; when one leaves, the other
/// takes over every partition and reads the rest: nothing missing, nothing
/// twice. kcat then reads the same 69 records from the log.
fn confluent_group_of_two(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let broker = three_partition_broker(server, dir.path());
    let summary = run_client_script(
        &broker,
        "groups_confluent.py",
        &[
            "--bootstrap",
            &broker.addr,
            "--topic",
            "pairs",
            "--group",
            "pair",
            "--partitions",
            "3",
            "--initial",
            "9",
            "--during",
            "30",
            "--after",
            "30",
        ],
    );
    check_group_handover(&summary, 3, 69);

    let read = kcat(
        &broker,
        &["-C", "-t", "pairs", "-o", "beginning", "-e", "-q"],
        b"",
    );
    let got: BTreeSet<&str> = read.lines().collect();
    let want: Vec<String> = (0..69).map(|i| format!("m-{i}")).collect();
    assert_eq!(got, want.iter().map(String::as_str).collect());
    assert_eq!(read.lines().count(), 69);
}

/// zstd batches from kcat and from confluent-kafka are stored compressed
/// as sent and read back. In a binary with the `search` feature (variant
/// full) the broker indexes both topics: finding a word of a record proves
/// that the broker decompressed the batch itself, with zstd's C library
/// built for the target. A binary without it (variant default) is said to
/// lack the proof on stderr; the round trips still run.
fn zstd_through_the_brokers_c_code(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let search = [
        "--http",
        "127.0.0.1:0",
        "--search-topics",
        "zkcat,zconfluent",
    ];
    let (broker, http) = match TestBroker::try_start_server(server, &data, &search, &[]) {
        Ok(broker) => {
            let http = http_addr(&broker);
            (broker, Some(http))
        }
        Err(e) if e.contains("built with the `search` feature") => {
            eprintln!(
                "NOTE: {} has no search feature (not variant full): the broker-side zstd \
                 proof is left out, the client round trips run",
                server.program.display()
            );
            (TestBroker::start_server(server, &data, &[], &[]), None)
        }
        Err(e) => panic!("{e}"),
    };
    // Repetitive values so compression has something to shrink; each has a
    // word of its own ("w<i>").
    let input: String = (0..300)
        .map(|i| format!("w{i} {}\n", "compressible ".repeat(8)))
        .collect();
    kcat(
        &broker,
        &[
            "-P",
            "-t",
            "zkcat",
            "-p",
            "0",
            "-z",
            "zstd",
            "-X",
            "linger.ms=100",
        ],
        input.as_bytes(),
    );
    let back = kcat(
        &broker,
        &["-C", "-t", "zkcat", "-o", "beginning", "-e", "-q"],
        b"",
    );
    assert_eq!(back, input);
    let zstd = BTreeSet::from(["Zstd".to_string()]);
    assert_eq!(stored_codecs(&broker, "zkcat", 0), zstd);

    let out = run_client_script(
        &broker,
        "matrix.py",
        &[
            "confluent",
            "roundtrip",
            &broker.addr,
            "zconfluent",
            "zstd",
            "60",
        ],
    );
    let want: Vec<Value> = (0..60).map(|i| format!("zstd-{i}").into()).collect();
    assert_eq!(out["values"], Value::from(want));
    assert_eq!(stored_codecs(&broker, "zconfluent", 0), zstd);

    if let Some(http) = http {
        assert_eq!(search_offsets(&http, "zkcat", "w137"), [137]);
        assert_eq!(search_offsets(&http, "zkcat", "w299"), [299]);
        // "zstd-42" is indexed as the words "zstd" and "42".
        assert_eq!(search_offsets(&http, "zconfluent", "42"), [42]);
    }
}

/// kcat and confluent-kafka log in with SCRAM-SHA-256, produce and consume;
/// a wrong password is refused. The credentials file is written by the
/// binary under test.
fn sasl_scram(server: &Server) {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("users.toml");
    add_user_with(server, &creds, "alice", "wonder land");
    let broker = TestBroker::start_server(
        server,
        &dir.path().join("data"),
        &["--sasl-credentials", creds.to_str().unwrap()],
        &[],
    );
    let login = [
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanisms=SCRAM-SHA-256",
        "-X",
        "sasl.username=alice",
        "-X",
        "sasl.password=wonder land",
    ];
    let input: String = (0..40).map(|i| format!("secret-{i}\n")).collect();
    kcat(
        &broker,
        &[&login[..], &["-P", "-t", "secure"]].concat(),
        input.as_bytes(),
    );
    let back = kcat(
        &broker,
        &[
            &login[..],
            &["-C", "-t", "secure", "-o", "beginning", "-e", "-q"],
        ]
        .concat(),
        b"",
    );
    assert_eq!(back, input);

    let scram = ["SCRAM-SHA-256", "alice", "wonder land"];
    let args = [
        "confluent",
        "roundtrip",
        &broker.addr,
        "secure-confluent",
        "none",
        "20",
    ];
    let out = run_client_script(&broker, "matrix.py", &[&args[..], &scram[..]].concat());
    let want: Vec<Value> = (0..20).map(|i| format!("none-{i}").into()).collect();
    assert_eq!(out["values"], Value::from(want));
    let wrong = run_client_script(
        &broker,
        "matrix.py",
        &[
            "confluent",
            "refused",
            &broker.addr,
            "SCRAM-SHA-256",
            "alice",
            "wrong",
        ],
    );
    assert_eq!(wrong["refused"], true, "a wrong password: {wrong}");
}

/// The client tests, each as a `#[test]` against each target's binary (one
/// module per target).
macro_rules! client_tests {
    (targets: [$($module:ident => $target:ident),*], tests: $tests:tt) => {
        $( client_tests!(@module $module $target $tests); )*
    };
    (@module $module:ident $target:ident [$($test:ident => $body:ident),*]) => {
        mod $module {
            use super::*;
            $(
                #[test]
                fn $test() {
                    if let Some(server) = server(&$target) {
                        $body(&server);
                    }
                }
            )*
        }
    };
}

client_tests! {
    targets: [x86_64_musl => X86_64, aarch64_musl_under_qemu => AARCH64],
    tests: [
        kcat_produces_and_consumes_on_three_partitions => kcat_on_three_partitions,
        confluent_kafka_group_of_two_on_three_partitions => confluent_group_of_two,
        zstd_batches_round_trip_and_the_broker_decompresses_them => zstd_through_the_brokers_c_code,
        sasl_scram_with_kcat_and_confluent_kafka => sasl_scram
    ]
}
