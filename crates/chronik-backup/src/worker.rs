//! The background uploader and the restore procedure.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use opendal::Operator;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::BackupError;
use crate::manifest::{Manifest, ManifestEntry, SegmentInfo};
use crate::shared::{hex, lock, object_path, BackupConfig, Item, Shared};
use crate::target::BackupTarget;

/// What one upload attempt concluded.
enum Outcome {
    /// Uploaded (or already present) and recorded.
    Done,
    /// The local file is gone; nothing to upload.
    Vanished,
}

/// The uploader task: loads the manifest, then uploads queued items in
/// order, retrying failures with exponential backoff.
pub(crate) async fn run(shared: Arc<Shared>, op: Operator, config: BackupConfig) {
    let mut backoff = config.retry_initial;
    let mut manifest = loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        match Manifest::load(&op).await {
            Ok(m) => break m,
            Err(e) => {
                record_failure(&shared, &e);
                sleep_or_shutdown(&shared, backoff).await;
                backoff = (backoff * 2).min(config.retry_max);
            }
        }
    };
    *lock(&shared.uploaded_up_to) = manifest.uploaded_up_to();
    backoff = config.retry_initial;

    loop {
        if shared.shutdown.load(Ordering::SeqCst) {
            return;
        }
        let next = lock(&shared.queue).front().cloned();
        let Some(item) = next else {
            shared.idle.notify_waiters();
            let woken = shared.wake.notified();
            // Re-check after registering, so a push in between is not missed.
            if lock(&shared.queue).is_empty() && !shared.shutdown.load(Ordering::SeqCst) {
                woken.await;
            }
            continue;
        };
        match upload(&shared, &op, &config, &mut manifest, &item).await {
            Ok(outcome) => {
                lock(&shared.queue).pop_front();
                backoff = config.retry_initial;
                if let Outcome::Done = outcome {
                    shared.uploaded.fetch_add(1, Ordering::Relaxed);
                    *lock(&shared.last_error) = None;
                    if let Some(hook) = &shared.hooks.on_upload {
                        hook(true);
                    }
                }
            }
            Err(e) => {
                record_failure(&shared, &e);
                if let Some(hook) = &shared.hooks.on_upload {
                    hook(false);
                }
                sleep_or_shutdown(&shared, backoff).await;
                backoff = (backoff * 2).min(config.retry_max);
            }
        }
    }
}

fn record_failure(shared: &Shared, e: &BackupError) {
    let n = shared.failures.fetch_add(1, Ordering::Relaxed) + 1;
    tracing::warn!(error = %e, failures = n, "backup attempt failed; will retry");
    *lock(&shared.last_error) = Some(e.to_string());
}

async fn sleep_or_shutdown(shared: &Shared, delay: Duration) {
    let woken = shared.wake.notified();
    if shared.shutdown.load(Ordering::SeqCst) {
        return;
    }
    // A new enqueue also wakes us; that is harmless (we retry a bit early
    // once), and shutdown must not wait out a long backoff.
    let _ = tokio::time::timeout(delay, woken).await;
}

/// Uploads one item and records it in the manifest.
async fn upload(
    shared: &Shared,
    op: &Operator,
    config: &BackupConfig,
    manifest: &mut Manifest,
    item: &Item,
) -> Result<Outcome, BackupError> {
    let relative: &Path = match item {
        Item::Segment(s) => &s.relative_path,
        Item::File(p) => p,
    };
    let object = match object_path(relative) {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "dropping invalid backup item");
            return Ok(Outcome::Vanished);
        }
    };
    let key = object.trim_start_matches("data/").to_string();
    let local = shared.data_dir.join(relative);
    let size = match tokio::fs::metadata(&local).await {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %local.display(), "file to back up no longer exists; skipped");
            return Ok(Outcome::Vanished);
        }
        Err(e) => return Err(BackupError::io(format!("reading {}", local.display()), e)),
    };
    if let (Item::Segment(_), Some(existing)) = (item, manifest.entries.get(&key)) {
        // Sealed segments never change: same path and size means done.
        if existing.size == size {
            note_uploaded(shared, existing);
            return Ok(Outcome::Done);
        }
    }

    let mut file = match tokio::fs::File::open(&local).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::Vanished),
        Err(e) => return Err(BackupError::io(format!("opening {}", local.display()), e)),
    };
    let mut writer = op
        .writer_with(&object)
        .chunk(config.chunk_bytes)
        .await
        .map_err(|e| BackupError::store(format!("starting upload of {object}"), e))?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    let result: Result<(), BackupError> = async {
        loop {
            let mut buf = vec![0u8; config.chunk_bytes.min(1 << 20)];
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| BackupError::io(format!("reading {}", local.display()), e))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            hasher.update(&buf);
            written += n as u64;
            writer
                .write(buf)
                .await
                .map_err(|e| BackupError::store(format!("uploading {object}"), e))?;
        }
        writer
            .close()
            .await
            .map_err(|e| BackupError::store(format!("finishing upload of {object}"), e))?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = writer.abort().await;
        return Err(e);
    }
    let stat = op
        .stat(&object)
        .await
        .map_err(|e| BackupError::store(format!("checking {object}"), e))?;
    if stat.content_length() != written {
        return Err(BackupError::Checksum {
            path: object,
            expected: format!("{written} bytes"),
            actual: format!("{} bytes", stat.content_length()),
        });
    }

    let entry = ManifestEntry {
        object,
        size: written,
        sha256: hex(&hasher.finalize()),
        segment: match item {
            Item::Segment(s) => Some(SegmentInfo {
                topic: s.topic.clone(),
                partition: s.partition,
                base_offset: s.base_offset,
                end_offset: s.end_offset,
            }),
            Item::File(_) => None,
        },
    };
    let previous = manifest.entries.insert(key.clone(), entry.clone());
    if let Err(e) = manifest.save(op).await {
        // Not recorded, so not backed up: restore the in-memory view.
        match previous {
            Some(p) => manifest.entries.insert(key, p),
            None => manifest.entries.remove(&key),
        };
        return Err(e);
    }
    note_uploaded(shared, &entry);
    tracing::debug!(object = %entry.object, size = entry.size, "backed up");
    Ok(Outcome::Done)
}

fn note_uploaded(shared: &Shared, entry: &ManifestEntry) {
    if let Some(s) = &entry.segment {
        let mut map = lock(&shared.uploaded_up_to);
        let v = map
            .entry((s.topic.clone(), s.partition))
            .or_insert(s.end_offset);
        *v = (*v).max(s.end_offset);
    }
}

/// What [`restore`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Rebuilds a data directory at `data_dir` from the backup at `target`,
/// verifying every file's size and SHA-256. `data_dir` must not exist or
/// be empty. Files are assembled in a staging directory next to it that
/// is renamed into place only when all of them verified.
pub async fn restore(target: &BackupTarget, data_dir: &Path) -> Result<RestoreReport, BackupError> {
    if let Ok(mut entries) = std::fs::read_dir(data_dir) {
        if entries.next().is_some() {
            return Err(BackupError::TargetNotEmpty(data_dir.to_path_buf()));
        }
    }
    // Checked first so a mistyped path is not created as an empty backup.
    if let BackupTarget::Fs { root } = target {
        if !root.is_dir() {
            return Err(BackupError::Manifest(format!(
                "no backup at {}: not a directory",
                root.display()
            )));
        }
    }
    let op = target.operator()?;
    if !op
        .exists(crate::manifest::MANIFEST_PATH)
        .await
        .map_err(|e| BackupError::store("looking for the manifest", e))?
    {
        return Err(BackupError::Manifest(format!(
            "no backup at {target:?}: {} is missing",
            crate::manifest::MANIFEST_PATH
        )));
    }
    let manifest = Manifest::load(&op).await?;
    let name = data_dir
        .file_name()
        .ok_or_else(|| BackupError::InvalidTarget(format!("{} has no name", data_dir.display())))?;
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| BackupError::io(format!("creating {}", parent.display()), e))?;
    let staging = parent.join(format!(
        ".{}.restoring-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    let result = restore_into(&op, &manifest, &staging).await;
    match result {
        Ok(report) => {
            // An empty target directory is replaced by the staged one.
            if data_dir.exists() {
                std::fs::remove_dir(data_dir)
                    .map_err(|e| BackupError::io(format!("replacing {}", data_dir.display()), e))?;
            }
            std::fs::rename(&staging, data_dir).map_err(|e| {
                BackupError::io(
                    format!("moving {} to {}", staging.display(), data_dir.display()),
                    e,
                )
            })?;
            if let Ok(dir) = std::fs::File::open(&parent) {
                let _ = dir.sync_all();
            }
            tracing::info!(files = report.files, bytes = report.bytes, dir = %data_dir.display(), "restore complete");
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

async fn restore_into(
    op: &Operator,
    manifest: &Manifest,
    staging: &Path,
) -> Result<RestoreReport, BackupError> {
    let mut report = RestoreReport::default();
    tokio::fs::create_dir_all(staging)
        .await
        .map_err(|e| BackupError::io(format!("creating {}", staging.display()), e))?;
    for (key, entry) in &manifest.entries {
        let relative = Path::new(key);
        // The manifest is input too: keep every file inside the directory.
        let expected_object = object_path(relative)?;
        if expected_object != entry.object {
            return Err(BackupError::Manifest(format!(
                "entry {key:?} points at object {:?}",
                entry.object
            )));
        }
        let dest = staging.join(relative);
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| BackupError::io(format!("creating {}", dir.display()), e))?;
        }
        let reader = op
            .reader(&entry.object)
            .await
            .map_err(|e| BackupError::store(format!("opening {}", entry.object), e))?;
        let mut file = tokio::fs::File::create(&dest)
            .await
            .map_err(|e| BackupError::io(format!("creating {}", dest.display()), e))?;
        let mut hasher = Sha256::new();
        let mut offset = 0u64;
        const CHUNK: u64 = 4 << 20;
        while offset < entry.size {
            let end = (offset + CHUNK).min(entry.size);
            let buf = reader
                .read(offset..end)
                .await
                .map_err(|e| BackupError::store(format!("downloading {}", entry.object), e))?
                .to_bytes();
            if buf.is_empty() {
                break;
            }
            hasher.update(&buf);
            file.write_all(&buf)
                .await
                .map_err(|e| BackupError::io(format!("writing {}", dest.display()), e))?;
            offset += buf.len() as u64;
        }
        // A different length means the object changed, even if the
        // prefix we read still hashes right.
        let stored_size = op
            .stat(&entry.object)
            .await
            .map_err(|e| BackupError::store(format!("checking {}", entry.object), e))?
            .content_length();
        let actual = hex(&hasher.finalize());
        if offset != entry.size || stored_size != entry.size || actual != entry.sha256 {
            return Err(BackupError::Checksum {
                path: key.clone(),
                expected: format!("{} ({} bytes)", entry.sha256, entry.size),
                actual: format!("{actual} ({stored_size} bytes)"),
            });
        }
        file.sync_all()
            .await
            .map_err(|e| BackupError::io(format!("syncing {}", dest.display()), e))?;
        report.files += 1;
        report.bytes += offset;
    }
    Ok(report)
}
