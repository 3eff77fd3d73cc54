//! The manifest: what the backup holds, with checksums.

use std::collections::BTreeMap;

use opendal::{ErrorKind, Operator};
use serde::{Deserialize, Serialize};

use crate::error::BackupError;

/// Object path of the manifest at the backend's root.
pub const MANIFEST_PATH: &str = "manifest.json";

const MANIFEST_VERSION: u32 = 1;

/// Offsets of a backed-up segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Topic of the segment.
    pub topic: String,
    /// Partition of the segment.
    pub partition: i32,
    /// First offset in the segment.
    pub base_offset: i64,
    /// Offset after its last record.
    pub end_offset: i64,
}

/// One file in the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Object path in the backend.
    pub object: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Set for log segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
}

/// Every file in the backup, keyed by its path relative to the data
/// directory (forward slashes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version (1).
    pub version: u32,
    /// The files.
    pub entries: BTreeMap<String, ManifestEntry>,
}

impl Manifest {
    /// An empty manifest.
    pub fn new() -> Self {
        Manifest {
            version: MANIFEST_VERSION,
            entries: BTreeMap::new(),
        }
    }

    /// Reads the manifest; a backend without one has an empty manifest.
    pub async fn load(op: &Operator) -> Result<Manifest, BackupError> {
        match op.read(MANIFEST_PATH).await {
            Ok(buf) => {
                let manifest: Manifest = serde_json::from_slice(&buf.to_vec())
                    .map_err(|e| BackupError::Manifest(e.to_string()))?;
                if manifest.version != MANIFEST_VERSION {
                    return Err(BackupError::Manifest(format!(
                        "unsupported version {}",
                        manifest.version
                    )));
                }
                Ok(manifest)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Manifest::new()),
            Err(e) => Err(BackupError::store("reading the manifest", e)),
        }
    }

    /// Writes the manifest (a single object write: atomic on S3, and on the
    /// file-system backend through its temporary-file-and-rename mode).
    pub async fn save(&self, op: &Operator) -> Result<(), BackupError> {
        let json = serde_json::to_vec_pretty(self).expect("the manifest serialises");
        op.write(MANIFEST_PATH, json)
            .await
            .map(|_| ())
            .map_err(|e| BackupError::store("writing the manifest", e))
    }

    /// For each partition, the end offset of its highest uploaded segment.
    pub fn uploaded_up_to(&self) -> BTreeMap<(String, i32), i64> {
        let mut out: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for s in self.entries.values().filter_map(|e| e.segment.as_ref()) {
            let v = out
                .entry((s.topic.clone(), s.partition))
                .or_insert(s.end_offset);
            *v = (*v).max(s.end_offset);
        }
        out
    }
}
