//! The binary's command line, startup line and graceful shutdown.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{run_tool, KafkaConn, TestBroker};
use kafka_protocol::messages::{ApiKey, MetadataRequest, MetadataResponse};

#[test]
fn help_and_version() {
    let bin = env!("CARGO_BIN_EXE_chronik-server");
    let help = run_tool(
        Command::new(bin).arg("--help"),
        b"",
        Duration::from_secs(20),
    );
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--data-dir",
        "--listen",
        "CHRONIK_DATA_DIR",
        "CHRONIK_LISTEN",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    let version = run_tool(
        Command::new(bin).arg("--version"),
        b"",
        Duration::from_secs(20),
    );
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("chronik-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_configuration_is_reported_not_panicked() {
    let bin = env!("CARGO_BIN_EXE_chronik-server");
    let out = run_tool(
        Command::new(bin).args(["--default-partitions", "0", "--listen", "127.0.0.1:0"]),
        b"",
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("default-partitions"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn environment_variables_configure_the_listener_and_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-env");
    let bin = env!("CARGO_BIN_EXE_chronik-server");
    let mut child = Command::new(bin)
        .env("CHRONIK_DATA_DIR", &data)
        .env("CHRONIK_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("chronik-server listening on 127.0.0.1:"),
        "{line}"
    );
    assert!(
        !line.trim().ends_with(":0"),
        "ephemeral port not resolved: {line}"
    );
    assert!(
        data.join("topics").is_dir(),
        "data directory not created from the environment"
    );
}

/// SIGTERM sent the moment the broker prints its listening line shuts it
/// down cleanly (exit 0, clean-shutdown marker), every time: the handlers
/// are installed before the line is printed, so the signal's default
/// action (death by SIGTERM) can never apply to a broker that has said it
/// is listening.
#[test]
fn sigterm_right_after_the_listening_line_exits_zero() {
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut broker = TestBroker::start(&data, &[]);
        let status = broker.terminate();
        assert_eq!(
            status.code(),
            Some(0),
            "round {round}: broker exit status {status}; log:\n{}",
            broker.log_tail()
        );
        assert!(
            data.join(".clean-shutdown").exists(),
            "round {round}: no clean-shutdown marker"
        );
    }
}

#[test]
fn sigterm_flushes_and_exits_zero_and_data_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut broker = TestBroker::start(&data, &[]);
    let input: String = (0..300).map(|i| format!("durable-{i}\n")).collect();
    let out = run_tool(
        Command::new("kcat").args(["-b", &broker.addr, "-P", "-t", "keep"]),
        input.as_bytes(),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An idle client stays connected across the shutdown.
    let mut idle = KafkaConn::connect(&broker.addr);
    let _: MetadataResponse = idle.call(ApiKey::Metadata, 9, &MetadataRequest::default());

    let status = broker.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", broker.log_tail());
    assert!(
        data.join(".clean-shutdown").exists(),
        "no clean-shutdown marker"
    );
    assert!(
        idle.is_closed_by_peer(),
        "idle connection not closed on shutdown"
    );

    let broker = TestBroker::start(&data, &[]);
    let out = run_tool(
        Command::new("kcat").args([
            "-b",
            &broker.addr,
            "-C",
            "-t",
            "keep",
            "-o",
            "beginning",
            "-e",
            "-q",
        ]),
        b"",
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), input);
}
