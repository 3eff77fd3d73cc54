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

mod error;
mod manifest;
mod shared;
mod target;
mod worker;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use error::BackupError;
pub use manifest::{Manifest, ManifestEntry, SegmentInfo, MANIFEST_PATH};
pub use shared::{BackupConfig, BackupHooks, BackupStats, SegmentUpload};
pub use target::{install_tls_provider, BackupTarget};
pub use worker::{restore, RestoreReport};

use shared::{lock, Item, Shared};

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
