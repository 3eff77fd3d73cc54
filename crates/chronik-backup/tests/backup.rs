//! Backup and restore against the file-system backend, an unreachable S3
//! endpoint, and (when `moto_server` is installed) a local S3 server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chronik_backup::{
    restore, Backup, BackupConfig, BackupError, BackupHooks, BackupTarget, Manifest, SegmentUpload,
};
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(60);

fn segment_path(topic: &str, partition: i32, base: i64) -> PathBuf {
    PathBuf::from(format!("topics/{topic}/{partition}/{base:020}.log"))
}

/// Writes a data directory with two sealed segments of `orders-0`, one of
/// `orders-1` and the topic's metadata file.
fn data_dir(root: &Path) -> Vec<(SegmentUpload, Vec<u8>)> {
    let mut out = Vec::new();
    for (partition, base, end, len) in [(0, 0, 100, 70_000), (0, 100, 250, 3_000), (1, 0, 7, 10)] {
        let rel = segment_path("orders", partition, base);
        let content: Vec<u8> = (0..len).map(|i| (i * 31 + base as usize) as u8).collect();
        std::fs::create_dir_all(root.join(&rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(&rel), &content).unwrap();
        out.push((
            SegmentUpload {
                topic: "orders".into(),
                partition,
                base_offset: base,
                end_offset: end,
                relative_path: rel,
            },
            content,
        ));
    }
    std::fs::write(root.join("topics/orders/topic.meta"), b"partitions = 2\n").unwrap();
    out
}

fn config(target: BackupTarget) -> BackupConfig {
    let mut c = BackupConfig::new(target);
    c.retry_initial = Duration::from_millis(20);
    c.retry_max = Duration::from_millis(200);
    // Small chunks so the 70 kB segment is streamed in several pieces.
    c.chunk_bytes = 16 * 1024;
    c
}

fn counting_hooks() -> (BackupHooks, Arc<AtomicU64>, Arc<AtomicU64>) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let (o, f) = (ok.clone(), failed.clone());
    let hooks = BackupHooks {
        on_upload: Some(Arc::new(move |success| {
            if success {
                o.fetch_add(1, Ordering::Relaxed);
            } else {
                f.fetch_add(1, Ordering::Relaxed);
            }
        })),
    };
    (hooks, ok, failed)
}

/// Backs up the data directory, checks the manifest, restores it elsewhere
/// and compares every file.
async fn round_trip(target: BackupTarget, scratch: &Path) {
    let data = scratch.join("data");
    let segments = data_dir(&data);
    let (hooks, ok, failed) = counting_hooks();
    let backup = Backup::start(config(target.clone()), &data, hooks).unwrap();
    for (s, _) in &segments {
        backup.enqueue_segment(s.clone());
    }
    backup.enqueue_file("topics/orders/topic.meta");
    assert!(
        backup.wait_idle(WAIT).await,
        "uploads did not finish: {:?}",
        backup.stats()
    );
    assert_eq!(backup.uploaded_up_to("orders", 0), Some(250));
    assert_eq!(backup.uploaded_up_to("orders", 1), Some(7));
    assert_eq!(backup.uploaded_up_to("orders", 2), None);
    let stats = backup.stats();
    assert_eq!((stats.uploaded, stats.failures, stats.pending), (4, 0, 0));
    assert_eq!(
        (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed)),
        (4, 0)
    );

    // Re-enqueueing sealed segments (as at a restart) uploads nothing new.
    for (s, _) in &segments {
        backup.enqueue_segment(s.clone());
    }
    assert!(backup.wait_idle(WAIT).await);
    backup.shutdown();

    let restored = scratch.join("restored");
    let report = restore(&target, &restored).await.unwrap();
    assert_eq!(report.files, 4);
    for (s, content) in &segments {
        assert_eq!(
            &std::fs::read(restored.join(&s.relative_path)).unwrap(),
            content
        );
    }
    assert_eq!(
        std::fs::read(restored.join("topics/orders/topic.meta")).unwrap(),
        b"partitions = 2\n"
    );
    // Local data is never touched by the backup.
    for (s, content) in &segments {
        assert_eq!(
            &std::fs::read(data.join(&s.relative_path)).unwrap(),
            content
        );
    }
}

#[tokio::test]
async fn fs_backup_round_trip_with_checksums() {
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("store");
    let target = BackupTarget::parse(&format!("fs://{}", store.display())).unwrap();
    round_trip(target, scratch.path()).await;

    // The manifest records SHA-256 of each file.
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap();
    let entry = &manifest.entries["topics/orders/0/00000000000000000100.log"];
    let local = std::fs::read(
        scratch
            .path()
            .join("data/topics/orders/0/00000000000000000100.log"),
    )
    .unwrap();
    let digest: String = Sha256::digest(&local)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(entry.sha256, digest);
    assert_eq!(entry.size, local.len() as u64);
    assert_eq!(entry.segment.as_ref().unwrap().end_offset, 250);
}

#[tokio::test]
async fn corrupted_backup_fails_restore_without_leaving_files() {
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("store");
    let target = BackupTarget::parse(&format!("fs://{}", store.display())).unwrap();
    let data = scratch.path().join("data");
    let segments = data_dir(&data);
    let backup = Backup::start(config(target.clone()), &data, BackupHooks::default()).unwrap();
    for (s, _) in &segments {
        backup.enqueue_segment(s.clone());
    }
    assert!(backup.wait_idle(WAIT).await);
    backup.shutdown();

    let object = store.join("data").join(&segments[1].0.relative_path);
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&object, &bytes).unwrap();

    let restored = scratch.path().join("restored");
    let err = restore(&target, &restored).await.unwrap_err();
    assert!(matches!(err, BackupError::Checksum { .. }), "{err}");
    assert!(
        err.to_string().contains("00000000000000000100.log"),
        "{err}"
    );
    assert!(!restored.exists());
    let leftovers: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("restoring"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // No backup at all is an error, not an empty data directory.
    let nowhere =
        BackupTarget::parse(&format!("fs://{}", scratch.path().join("none").display())).unwrap();
    let err = restore(&nowhere, &restored).await.unwrap_err();
    assert!(err.to_string().contains("no backup"), "{err}");
    assert!(!restored.exists());
    assert!(!scratch.path().join("none").exists());
    std::fs::create_dir(scratch.path().join("none")).unwrap();
    let err = restore(&nowhere, &restored).await.unwrap_err();
    assert!(
        err.to_string().contains("manifest.json is missing"),
        "{err}"
    );

    // A non-empty target is refused.
    let err = restore(&target, &data).await.unwrap_err();
    assert!(matches!(err, BackupError::TargetNotEmpty(_)), "{err}");
}

#[tokio::test]
async fn unreachable_fs_backend_is_retried_until_it_returns() {
    let scratch = tempfile::tempdir().unwrap();
    let store = scratch.path().join("store");
    let target = BackupTarget::parse(&format!("fs://{}", store.display())).unwrap();
    let data = scratch.path().join("data");
    let segments = data_dir(&data);
    // The backend is unusable: where its data objects go there is a plain
    // file, so every upload fails.
    std::fs::create_dir_all(&store).unwrap();
    let blocker = store.join("data");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let (hooks, _ok, failed) = counting_hooks();
    let backup = Backup::start(config(target.clone()), &data, hooks).unwrap();
    for (s, _) in &segments {
        backup.enqueue_segment(s.clone());
    }

    // Enqueueing returned at once; the uploader fails and keeps retrying.
    let mut waited = 0;
    while backup.stats().failures < 3 {
        assert!(waited < 3000, "no retries observed: {:?}", backup.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let stats = backup.stats();
    assert_eq!(stats.uploaded, 0);
    assert_eq!(stats.pending, 3);
    assert!(stats.last_error.is_some());
    assert_eq!(backup.uploaded_up_to("orders", 0), None);
    for (s, content) in &segments {
        assert_eq!(
            &std::fs::read(data.join(&s.relative_path)).unwrap(),
            content
        );
    }

    // The backend comes back: everything is uploaded.
    std::fs::remove_file(&blocker).unwrap();
    assert!(backup.wait_idle(WAIT).await, "{:?}", backup.stats());
    assert_eq!(backup.uploaded_up_to("orders", 0), Some(250));
    assert!(failed.load(Ordering::Relaxed) >= 1);
    let stats = backup.stats();
    assert_eq!(stats.uploaded, 3);
    assert_eq!(stats.last_error, None);
    backup.shutdown();
}

#[tokio::test]
async fn unreachable_s3_endpoint_counts_failures_and_never_blocks() {
    // A loopback port bound but never listening: connections are refused,
    // and no other process can take the port while `_closed` lives.
    let (_closed, port) = refusing_port();
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let segments = data_dir(&data);
    let target = BackupTarget::S3 {
        bucket: "chronik".into(),
        prefix: "b".into(),
        region: "us-east-1".into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
    };
    let backup = Backup::start(config(target), &data, BackupHooks::default()).unwrap();
    backup.enqueue_segment(segments[0].0.clone());
    let mut waited = 0;
    while backup.stats().failures < 2 {
        assert!(waited < 3000, "no failures observed: {:?}", backup.stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(backup.uploaded_up_to("orders", 0), None);
    let stats = backup.stats();
    assert_eq!(stats.pending, 1);
    // A network failure, not a configuration one.
    let error = stats.last_error.unwrap();
    assert!(error.contains("reading the manifest"), "{error}");
    assert!(!error.contains("ConfigInvalid"), "{error}");
    eprintln!("unreachable S3 error: {error}");
    backup.shutdown();
}

/// A moto S3 server on a loopback port, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port reserved by a socket that is bound but never listens:
/// connecting to it is refused, and while the socket lives no other process
/// can bind the port (no bind-then-release race).
fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// Starts moto on port 0 and reads the address it bound from its
/// ` * Running on http://127.0.0.1:PORT` line, so the port is never picked
/// by us and released first.
fn start_moto() -> Option<Moto> {
    let mut child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stderr = child.stderr.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    // Keeps draining moto's request log so it never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some((_, url)) = line.split_once("Running on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(endpoint) => Some(Moto { child, endpoint }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
}

/// Creates a bucket with a bare HTTP/1.1 request (moto accepts unsigned
/// requests).
fn create_bucket(endpoint: &str, bucket: &str) {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn s3_backup_round_trip_on_moto() {
    let required = std::env::var("CHRONIK_REQUIRE_S3_TESTS").as_deref() == Ok("1");
    let Some(moto) = start_moto() else {
        assert!(
            !required,
            "CHRONIK_REQUIRE_S3_TESTS=1 but moto_server could not be started"
        );
        eprintln!("SKIPPED s3_backup_round_trip_on_moto: moto_server not found (pip install 'moto[server]')");
        return;
    };
    create_bucket(&moto.endpoint, "chronik-test");
    let target = BackupTarget::S3 {
        bucket: "chronik-test".into(),
        prefix: "cluster-a".into(),
        region: "us-east-1".into(),
        endpoint: Some(moto.endpoint.clone()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
    };
    let scratch = tempfile::tempdir().unwrap();
    round_trip(target, scratch.path()).await;
}
