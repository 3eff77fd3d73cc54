//! Durable producer-id allocation for InitProducerId.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chronik_storage::{write_atomic, StorageError};

/// Name of the allocator's file in the data directory.
pub const PRODUCER_ID_FILE: &str = "producer-ids";

/// Ids reserved on disk per write.
pub const PRODUCER_ID_BLOCK: i64 = 1000;

/// Hands out producer ids that are unique across restarts.
///
/// The file holds `next-block=N`: every id below `N` may have been handed
/// out. Before using an id at or above the reserved end, the allocator
/// reserves the next block by rewriting the file atomically (temp file,
/// fsync, rename, directory fsync). After a restart allocation resumes at
/// `N`, skipping whatever was left of the previous block.
#[derive(Debug)]
pub struct ProducerIdAllocator {
    path: PathBuf,
    state: Mutex<(i64, i64)>,
}

impl ProducerIdAllocator {
    /// Opens the allocator file in `data_dir` (a missing file starts at 0).
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let path = data_dir.join(PRODUCER_ID_FILE);
        let next = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .strip_prefix("next-block=")
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| StorageError::CorruptMetadata {
                    path: path.clone(),
                    message: format!("expected next-block=<N>, found {:?}", text.trim()),
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => {
                return Err(StorageError::io(format!("reading {}", path.display()), e));
            }
        };
        Ok(ProducerIdAllocator {
            path,
            state: Mutex::new((next, next)),
        })
    }

    /// Allocates a fresh producer id with epoch 0. Blocks (fsync) once per
    /// [`PRODUCER_ID_BLOCK`] ids.
    pub fn allocate(&self) -> Result<(i64, i16), StorageError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, end) = *state;
        if next >= end {
            let new_end = next + PRODUCER_ID_BLOCK;
            write_atomic(&self.path, format!("next-block={new_end}\n").as_bytes())?;
            state.1 = new_end;
        }
        state.0 = next + 1;
        Ok((next, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = ProducerIdAllocator::open(dir.path()).unwrap();
        let first: Vec<i64> = (0..3).map(|_| a.allocate().unwrap().0).collect();
        assert_eq!(first, vec![0, 1, 2]);
        drop(a);
        let b = ProducerIdAllocator::open(dir.path()).unwrap();
        let (id, epoch) = b.allocate().unwrap();
        assert_eq!(epoch, 0);
        assert!(id > 2, "id {id} reused");
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PRODUCER_ID_FILE), "garbage").unwrap();
        assert!(ProducerIdAllocator::open(dir.path()).is_err());
    }
}
