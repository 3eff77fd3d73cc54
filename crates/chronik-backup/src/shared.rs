//! Settings, queue items and the state the [`crate::Backup`] handle shares
//! with the uploader task, and small helpers both use.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::BackupError;
use crate::target::BackupTarget;

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

/// Locks `m`, recovering from poisoning (the state stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
