//! Backup of sealed log segments to object storage, and restore.
//!
//! The broker hands every segment it seals to [`Backup::enqueue_segment`]
//! (and small metadata files such as `topic.meta` to
//! [`Backup::enqueue_file`]). A background task uploads them in order to the
//! configured backend (a directory or an S3 bucket, through OpenDAL), hashing
//! each file with SHA-256 while streaming it, and then records the object in
//! a manifest (`manifest.json` at the backend's root): relative path, size,
//! SHA-256 and, for segments, topic, partition and offset range. A segment
//! counts as backed up only once the manifest naming it has been written.
//!
//! # Failures
//!
//! Enqueueing never blocks and never fails: producers are not slowed by the
//! backend. When the backend is unreachable the task keeps the item at the
//! head of its queue and retries with exponential backoff (doubling from
//! [`BackupConfig::retry_initial`] up to [`BackupConfig::retry_max`]); every
//! failure is logged and counted ([`BackupStats::failures`] and the
//! optional [`BackupHooks::on_upload`] metrics hook). Local data is never
//! deleted here; retention asks [`Backup::uploaded_up_to`] and must keep
//! any segment at or beyond it.
//!
//! # Restore
//!
//! [`restore`] reads the manifest and downloads every object into a staging
//! directory beside the target, verifying each file's size and SHA-256, and
//! renames the staging directory into place only when everything matched,
//! so a failed restore leaves no partial data directory behind. The broker
//! then opens it like a directory after a crash (indexes are rebuilt from
//! the segments).
//!
//! # Backends and tests
//!
//! Backends are named by a URL ([`BackupTarget::parse`]): `fs:///path`
//! or `s3://bucket/prefix?region=..&endpoint=..` (credentials from
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). The tests run against the
//! file-system backend always, and against S3 when `moto_server` (PyPI
//! package `moto[server]`) is on `PATH`: they start it on a loopback port.
//! Without it the S3 test prints that it was skipped, and fails instead
//! when `CHRONIK_REQUIRE_S3_TESTS=1` is set (as CI should).

mod manifest;
mod target;
mod worker;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use manifest::{Manifest, ManifestEntry, SegmentInfo, MANIFEST_PATH};
pub use target::{install_tls_provider, BackupTarget};
pub use worker::{restore, RestoreReport};

/// Errors of the backup subsystem.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The backup target URL or settings are invalid.
    #[error("invalid backup target: {0}")]
    InvalidTarget(String),
    /// The backend failed (unreachable, denied, ...).
    #[error("backup store: {context}: {source}")]
    Store {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: opendal::Error,
    },
    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is unreadable.
    #[error("backup manifest is invalid: {0}")]
    Manifest(String),
    /// A downloaded file does not match the manifest.
    #[error("checksum mismatch for {path}: expected {expected}, got {actual}")]
    Checksum {
        /// The file concerned.
        path: String,
        /// What the manifest says.
        expected: String,
        /// What was downloaded.
        actual: String,
    },
    /// The restore target already holds data.
    #[error("restore target {0} exists and is not empty")]
    TargetNotEmpty(PathBuf),
}

impl BackupError {
    pub(crate) fn store(context: impl Into<String>, source: opendal::Error) -> Self {
        BackupError::Store {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        BackupError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Backup settings.
#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// Where backups go.
    pub target: BackupTarget,
    /// First retry delay after a failure.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Size of the pieces files are streamed in (and of S3 multipart parts).
    pub chunk_bytes: usize,
}

impl BackupConfig {
    /// Defaults: retries from 500 ms up to 1 min, 8 MiB chunks.
    pub fn new(target: BackupTarget) -> Self {
        BackupConfig {
            target,
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            chunk_bytes: 8 << 20,
        }
    }
}

/// A sealed (immutable) segment to back up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentUpload {
    /// Topic of the segment.
    pub topic: String,
    /// Partition of the segment.
    pub partition: i32,
    /// First offset in the segment.
    pub base_offset: i64,
    /// Offset after the segment's last record.
    pub end_offset: i64,
    /// Path relative to the data directory, e.g.
    /// `topics/orders/0/00000000000000000000.log`.
    pub relative_path: PathBuf,
}

/// Callbacks into the rest of the broker (metrics).
#[derive(Clone, Default)]
pub struct BackupHooks {
    /// Called after each upload attempt with whether it succeeded.
    pub on_upload: Option<Arc<dyn Fn(bool) + Send + Sync>>,
}

impl std::fmt::Debug for BackupHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupHooks")
            .field("on_upload", &self.on_upload.is_some())
            .finish()
    }
}

/// Counters describing the uploader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupStats {
    /// Files uploaded and recorded in the manifest.
    pub uploaded: u64,
    /// Failed attempts (each retry counts).
    pub failures: u64,
    /// Items waiting (including one being retried).
    pub pending: usize,
    /// The last failure's message, cleared by the next success.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Segment(SegmentUpload),
    File(PathBuf),
}

pub(crate) struct Shared {
    pub(crate) data_dir: PathBuf,
    pub(crate) queue: Mutex<VecDeque<Item>>,
    pub(crate) wake: tokio::sync::Notify,
    pub(crate) idle: tokio::sync::Notify,
    pub(crate) uploaded_up_to: Mutex<BTreeMap<(String, i32), i64>>,
    pub(crate) uploaded: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
    pub(crate) shutdown: AtomicBool,
    pub(crate) hooks: BackupHooks,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Handle to the background uploader. Cloning shares it.
#[derive(Clone)]
pub struct Backup {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backup")
            .field("data_dir", &self.shared.data_dir)
            .finish_non_exhaustive()
    }
}

impl Backup {
    /// Starts the uploader for files under `data_dir`. Must be called inside
    /// a tokio runtime. Returns at once: the manifest is loaded (with
    /// retries) by the background task, so an unreachable backend does not
    /// delay start-up.
    pub fn start(
        config: BackupConfig,
        data_dir: impl Into<PathBuf>,
        hooks: BackupHooks,
    ) -> Result<Self, BackupError> {
        let operator = config.target.operator()?;
        let shared = Arc::new(Shared {
            data_dir: data_dir.into(),
            queue: Mutex::new(VecDeque::new()),
            wake: tokio::sync::Notify::new(),
            idle: tokio::sync::Notify::new(),
            uploaded_up_to: Mutex::new(BTreeMap::new()),
            uploaded: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
            shutdown: AtomicBool::new(false),
            hooks,
        });
        tokio::spawn(worker::run(shared.clone(), operator, config));
        Ok(Backup { shared })
    }

    /// Queues a sealed segment for upload. Never blocks. A segment already
    /// in the manifest with the same size is not uploaded again, so the
    /// broker can enqueue every sealed segment at start-up.
    pub fn enqueue_segment(&self, segment: SegmentUpload) {
        self.push(Item::Segment(segment));
    }

    /// Queues a small mutable file (such as a topic's metadata) for upload;
    /// its current content replaces any earlier copy.
    pub fn enqueue_file(&self, relative_path: impl Into<PathBuf>) {
        self.push(Item::File(relative_path.into()));
    }

    fn push(&self, item: Item) {
        lock(&self.shared.queue).push_back(item);
        self.shared.wake.notify_one();
    }

    /// The offset below which every record of the partition is safely in the
    /// backup (the end offset of its last uploaded segment); `None` if no
    /// segment of it is. Retention must not delete segments at or beyond it.
    pub fn uploaded_up_to(&self, topic: &str, partition: i32) -> Option<i64> {
        lock(&self.shared.uploaded_up_to)
            .get(&(topic.to_string(), partition))
            .copied()
    }

    /// Current counters.
    pub fn stats(&self) -> BackupStats {
        BackupStats {
            uploaded: self.shared.uploaded.load(Ordering::Relaxed),
            failures: self.shared.failures.load(Ordering::Relaxed),
            pending: lock(&self.shared.queue).len(),
            last_error: lock(&self.shared.last_error).clone(),
        }
    }

    /// Waits until the queue is empty (everything enqueued so far is in the
    /// backup) or `timeout` passes; returns whether it emptied.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.shared.idle.notified();
                if lock(&self.shared.queue).is_empty() {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// Stops the background task after its current attempt. Items still
    /// queued are not uploaded (they will be enqueued again at the next
    /// start, as their segments are still local).
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        tracing::debug!(data_dir = %self.data_dir.display(), "backup uploader dropped");
    }
}

/// Hex encoding of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The object path (forward slashes) of a data-directory-relative path;
/// rejects absolute paths and `..`.
pub(crate) fn object_path(relative: &Path) -> Result<String, BackupError> {
    let mut parts = Vec::new();
    for c in relative.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(
                s.to_str()
                    .ok_or_else(|| {
                        BackupError::InvalidTarget(format!("non-UTF-8 path {}", relative.display()))
                    })?
                    .to_string(),
            ),
            std::path::Component::CurDir => {}
            _ => {
                return Err(BackupError::InvalidTarget(format!(
                    "path {} must be relative to the data directory",
                    relative.display()
                )))
            }
        }
    }
    if parts.is_empty() {
        return Err(BackupError::InvalidTarget("empty path".into()));
    }
    Ok(format!("data/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_paths_are_confined() {
        assert_eq!(
            object_path(Path::new("topics/a/0/x.log")).unwrap(),
            "data/topics/a/0/x.log"
        );
        assert!(object_path(Path::new("../etc/passwd")).is_err());
        assert!(object_path(Path::new("/etc/passwd")).is_err());
        assert!(object_path(Path::new("")).is_err());
    }
}
