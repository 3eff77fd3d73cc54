//! The [`LogManager`]: owns the data directory, its topics and partitions.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chronik_common::types::validate_topic_name;
use chronik_common::{BrokerConfig, TopicPartition};
use tracing::{info, warn};

use crate::error::{Result, StorageError};
use crate::partition::{LogConfig, Partition, RetentionPolicy};
use crate::{fault, sync_dir, write_atomic};

/// Largest partition count a topic may have.
pub const MAX_PARTITIONS: i32 = 10_000;
/// Name of the per-topic metadata file.
pub const TOPIC_META_FILE: &str = "topic.meta";
/// Name of the clean-shutdown marker in the data directory.
pub const CLEAN_SHUTDOWN_FILE: &str = ".clean-shutdown";
/// Default [`StorageConfig::segment_age`]: 7 days, as Kafka's `log.roll.hours`.
pub const DEFAULT_SEGMENT_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Name of the lock file in the data directory.
pub const LOCK_FILE: &str = ".lock";

/// Storage settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// Root of all broker data.
    pub data_dir: PathBuf,
    /// Roll the active segment when an append would grow it beyond this
    /// (clamped to `1024..=i32::MAX` because index positions are 32-bit).
    pub segment_bytes: u64,
    /// Bytes of batches between sparse index entries.
    pub index_interval_bytes: u64,
    /// Roll the active segment once its first batch is this old (checked on
    /// append; Kafka's `segment.ms`, default 7 days). `None`: size only.
    pub segment_age: Option<Duration>,
    /// Retention limits used by [`LogManager::enforce_retention`].
    pub retention: RetentionPolicy,
}

impl StorageConfig {
    /// Defaults for `data_dir`: 1 GiB segments rolled after 7 days at the
    /// latest, an index entry every 4 KiB, no retention.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StorageConfig {
            data_dir: data_dir.into(),
            segment_bytes: 1 << 30,
            index_interval_bytes: 4096,
            segment_age: Some(DEFAULT_SEGMENT_AGE),
            retention: RetentionPolicy::default(),
        }
    }

    /// The storage part of the broker configuration.
    pub fn from_broker(config: &BrokerConfig) -> Self {
        StorageConfig {
            data_dir: config.data_dir.clone(),
            segment_bytes: config.segment_bytes,
            index_interval_bytes: 4096,
            segment_age: Some(DEFAULT_SEGMENT_AGE),
            retention: RetentionPolicy {
                max_bytes: config.retention_bytes,
                max_age_ms: config
                    .retention
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            },
        }
    }

    fn log_config(&self) -> LogConfig {
        LogConfig {
            segment_bytes: self.segment_bytes.clamp(1024, i32::MAX as u64),
            index_interval_bytes: self.index_interval_bytes.max(1),
            segment_ms: self
                .segment_age
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

/// A topic's name and partition count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Topic name.
    pub name: String,
    /// Number of partitions.
    pub partitions: i32,
}

#[derive(Debug)]
struct Topic {
    partitions: Vec<Arc<Partition>>,
}

/// Owns the data directory: creates, loads, lists and deletes topics and
/// hands out shared partition handles.
///
/// Layout (see the crate docs for details):
///
/// ```text
/// <data>/.lock                       held (flock) while the broker runs
/// <data>/.clean-shutdown             present only after a clean close
/// <data>/topics/<topic>/topic.meta   partition count, written atomically
/// <data>/topics/<topic>/<p>/<base:020>.{log,index,timeindex}
/// <data>/deleted/<topic>.<nanos>/    topics being deleted
/// ```
#[derive(Debug)]
pub struct LogManager {
    config: StorageConfig,
    log_config: LogConfig,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    admin: Mutex<()>,
    _lock: File,
    closed: AtomicBool,
    recovered_cleanly: bool,
    delete_seq: AtomicU64,
}

fn topics_dir(data: &Path) -> PathBuf {
    data.join("topics")
}

fn deleted_dir(data: &Path) -> PathBuf {
    data.join("deleted")
}

fn mkdir(path: &Path) -> Result<()> {
    fault::create_dir_all(path)
        .map_err(|e| StorageError::io(format!("creating {}", path.display()), e))
}

fn read_meta(path: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| StorageError::io(format!("reading {}", path.display()), e))?;
    let corrupt = |message: String| StorageError::CorruptMetadata {
        path: path.to_path_buf(),
        message,
    };
    let mut version = None;
    let mut partitions = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| corrupt(format!("line {line:?} is not key=value")))?;
        match k.trim() {
            "version" => version = Some(v.trim().to_string()),
            "partitions" => {
                partitions = Some(
                    v.trim()
                        .parse::<i32>()
                        .map_err(|_| corrupt(format!("partitions {v:?} is not a number")))?,
                )
            }
            other => return Err(corrupt(format!("unknown key {other:?}"))),
        }
    }
    if version.as_deref() != Some("1") {
        return Err(corrupt(format!("unsupported version {version:?}")));
    }
    let n = partitions.ok_or_else(|| corrupt("missing partitions".into()))?;
    if !(1..=MAX_PARTITIONS).contains(&n) {
        return Err(corrupt(format!("partition count {n} out of range")));
    }
    Ok(n)
}

fn write_meta(topic_dir: &Path, partitions: i32) -> Result<()> {
    let text = format!("# chronik topic metadata\nversion=1\npartitions={partitions}\n");
    write_atomic(&topic_dir.join(TOPIC_META_FILE), text.as_bytes())
}

fn remove_tree(path: &Path) {
    match std::fs::remove_dir_all(path) {
        Ok(()) => fault::removed(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => warn!(path = %path.display(), error = %e, "could not remove directory"),
    }
}

impl LogManager {
    /// Opens (creating if needed) the data directory and loads every topic,
    /// running recovery where the last shutdown was not clean.
    ///
    /// Fails with [`StorageError::Locked`] if another process holds it.
    pub fn open(config: StorageConfig) -> Result<Self> {
        let data = config.data_dir.clone();
        mkdir(&topics_dir(&data))?;
        mkdir(&deleted_dir(&data))?;
        // Their entries must be durable before any topic inside them is.
        sync_dir(&data)?;
        let lock_path = data.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StorageError::io(format!("opening {}", lock_path.display()), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StorageError::Locked(data)),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StorageError::io(
                    format!("locking {}", lock_path.display()),
                    e,
                ))
            }
        }
        let marker = data.join(CLEAN_SHUTDOWN_FILE);
        let clean = marker.exists();
        info!(data_dir = %data.display(), clean, "opening log directory");

        // Finish deletions interrupted by a crash.
        let deleted = deleted_dir(&data);
        for entry in read_dir(&deleted)? {
            info!(path = %entry.display(), "finishing interrupted topic deletion");
            remove_tree(&entry);
        }

        let log_config = config.log_config();
        let mut topics = BTreeMap::new();
        let mut to_open = Vec::new();
        let mut counts = Vec::new();
        for dir in read_dir(&topics_dir(&data))? {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".tmp") || validate_topic_name(&name).is_err() || !dir.is_dir() {
                warn!(path = %dir.display(), "ignoring unexpected entry in topics directory");
                continue;
            }
            let meta = dir.join(TOPIC_META_FILE);
            if !meta.exists() {
                info!(topic = %name, "removing topic whose creation did not complete");
                remove_tree(&dir);
                continue;
            }
            let count = read_meta(&meta)?;
            // Partition directories beyond the count come from an
            // interrupted partition increase: the metadata was not updated.
            for extra in read_dir(&dir)? {
                let idx = extra
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.parse::<i32>().ok());
                if let Some(i) = idx {
                    if i >= count {
                        info!(topic = %name, partition = i, "removing partition whose creation did not complete");
                        remove_tree(&extra);
                    }
                }
            }
            for p in 0..count {
                to_open.push((
                    TopicPartition::new(name.clone(), p),
                    dir.join(p.to_string()),
                ));
            }
            counts.push((name, count));
        }
        let started = std::time::Instant::now();
        let partition_count = to_open.len();
        let mut opened = open_partitions(to_open, log_config, clean)?.into_iter();
        info!(
            topics = counts.len(),
            partitions = partition_count,
            clean,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded logs"
        );
        for (name, count) in counts {
            let partitions: Vec<Arc<Partition>> = opened.by_ref().take(count as usize).collect();
            topics.insert(name, Arc::new(Topic { partitions }));
        }
        if clean {
            std::fs::remove_file(&marker)
                .map_err(|e| StorageError::io(format!("removing {}", marker.display()), e))?;
            fault::removed(&marker);
            sync_dir(&data)?;
        }
        Ok(LogManager {
            config,
            log_config,
            topics: RwLock::new(topics),
            admin: Mutex::new(()),
            _lock: lock,
            closed: AtomicBool::new(false),
            recovered_cleanly: clean,
            delete_seq: AtomicU64::new(0),
        })
    }

    /// The configuration the manager was opened with.
    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Whether the previous shutdown was clean (indexes were trusted).
    pub fn recovered_cleanly(&self) -> bool {
        self.recovered_cleanly
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(StorageError::Closed)
        } else {
            Ok(())
        }
    }

    /// Creates a topic with `partitions` empty partitions.
    ///
    /// Crash-safe: partition directories are created first and the metadata
    /// file last (atomically); a topic directory without metadata is removed
    /// at the next open.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        validate_topic_name(name).map_err(StorageError::InvalidTopicName)?;
        if !(1..=MAX_PARTITIONS).contains(&partitions) {
            return Err(StorageError::InvalidPartitions(partitions));
        }
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_open()?;
        if self.topics_read().contains_key(name) {
            return Err(StorageError::TopicExists(name.to_string()));
        }
        let tdir = topics_dir(&self.config.data_dir).join(name);
        if tdir.exists() {
            // Not loaded, so it is debris of an earlier failed creation.
            remove_tree(&tdir);
        }
        mkdir(&tdir)?;
        let mut parts = Vec::with_capacity(partitions as usize);
        self.open_new_partitions(name, &tdir, 0..partitions, &mut parts)?;
        write_meta(&tdir, partitions)?;
        sync_dir(&topics_dir(&self.config.data_dir))?;
        info!(topic = name, partitions, "created topic");
        self.topics_write()
            .insert(name.to_string(), Arc::new(Topic { partitions: parts }));
        Ok(())
    }

    /// Grows a topic to `total` partitions (Kafka CreatePartitions).
    pub fn create_partitions(&self, name: &str, total: i32) -> Result<()> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_open()?;
        let topic = self
            .topics_read()
            .get(name)
            .cloned()
            .ok_or_else(|| StorageError::UnknownTopic(name.to_string()))?;
        let current = topic.partitions.len() as i32;
        if total <= current || total > MAX_PARTITIONS {
            return Err(StorageError::InvalidPartitions(total));
        }
        let tdir = topics_dir(&self.config.data_dir).join(name);
        let mut parts = topic.partitions.clone();
        self.open_new_partitions(name, &tdir, current..total, &mut parts)?;
        write_meta(&tdir, total)?;
        info!(topic = name, from = current, to = total, "added partitions");
        self.topics_write()
            .insert(name.to_string(), Arc::new(Topic { partitions: parts }));
        Ok(())
    }

    /// Creates partitions `range` of topic `name` in `tdir` (each from an
    /// empty directory: debris of an earlier failed attempt is removed),
    /// appends them to `parts` and syncs `tdir`.
    fn open_new_partitions(
        &self,
        name: &str,
        tdir: &Path,
        range: std::ops::Range<i32>,
        parts: &mut Vec<Arc<Partition>>,
    ) -> Result<()> {
        for p in range {
            let pdir = tdir.join(p.to_string());
            remove_tree(&pdir);
            let tp = TopicPartition::new(name, p);
            parts.push(Arc::new(Partition::open(
                tp,
                &pdir,
                self.log_config,
                false,
            )?));
        }
        sync_dir(tdir)
    }

    /// Deletes a topic and all its data.
    ///
    /// Crash-safe: the topic directory is first renamed into `deleted/`
    /// (atomic, then fsynced), then removed; the next open finishes any
    /// removal a crash interrupted. Existing handles stop accepting appends.
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_open()?;
        let topic = self
            .topics_write()
            .remove(name)
            .ok_or_else(|| StorageError::UnknownTopic(name.to_string()))?;
        for p in &topic.partitions {
            p.mark_closed();
        }
        let data = &self.config.data_dir;
        let from = topics_dir(data).join(name);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos();
        let seq = self.delete_seq.fetch_add(1, Ordering::Relaxed);
        let to = deleted_dir(data).join(format!("{name}.{nanos}.{seq}"));
        fault::rename(&from, &to).map_err(|e| {
            StorageError::io(format!("moving {} to {}", from.display(), to.display()), e)
        })?;
        sync_dir(&topics_dir(data))?;
        sync_dir(&deleted_dir(data))?;
        remove_tree(&to);
        info!(topic = name, "deleted topic");
        Ok(())
    }

    /// All topics, sorted by name.
    pub fn topics(&self) -> Vec<TopicInfo> {
        self.topics_read()
            .iter()
            .map(|(name, t)| TopicInfo {
                name: name.clone(),
                partitions: t.partitions.len() as i32,
            })
            .collect()
    }

    /// Partition count of `topic`, or `None` if it does not exist.
    pub fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics_read()
            .get(topic)
            .map(|t| t.partitions.len() as i32)
    }

    /// The handle of one partition, or `None` if the topic or partition does
    /// not exist.
    pub fn partition(&self, tp: &TopicPartition) -> Option<Arc<Partition>> {
        let idx = usize::try_from(tp.partition).ok()?;
        self.topics_read()
            .get(&tp.topic)
            .and_then(|t| t.partitions.get(idx).cloned())
    }

    /// All partitions of `topic`, in partition order.
    pub fn topic_partitions(&self, topic: &str) -> Option<Vec<Arc<Partition>>> {
        self.topics_read().get(topic).map(|t| t.partitions.clone())
    }

    /// Every partition of every topic.
    pub fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.topics_read()
            .values()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect()
    }

    /// Flushes every dirty partition; returns the first error after trying all.
    pub fn flush_all(&self) -> Result<()> {
        let mut first = None;
        for p in self.all_partitions() {
            if p.is_dirty() {
                if let Err(e) = p.flush() {
                    warn!(partition = %p.topic_partition(), error = %e, "flush failed");
                    first.get_or_insert(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Applies the configured retention to every partition at time `now_ms`
    /// (milliseconds since the epoch). Returns the number of segments deleted;
    /// errors are logged and do not stop other partitions.
    pub fn enforce_retention(&self, now_ms: i64) -> usize {
        let mut deleted = 0;
        for p in self.all_partitions() {
            match p.apply_retention(&self.config.retention, now_ms) {
                Ok(n) => deleted += n,
                Err(e) => warn!(partition = %p.topic_partition(), error = %e, "retention failed"),
            }
        }
        deleted
    }

    /// Closes every partition (no more appends; data and indexes fsynced)
    /// and writes the clean-shutdown marker so the next open skips full
    /// recovery. The marker is not written if any partition failed.
    /// Calling it again does nothing.
    pub fn close(&self) -> Result<()> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let mut first = None;
        for p in self.all_partitions() {
            if let Err(e) = p.close() {
                warn!(partition = %p.topic_partition(), error = %e, "close failed");
                first.get_or_insert(e);
            }
        }
        if let Some(e) = first {
            return Err(e);
        }
        let data = &self.config.data_dir;
        write_atomic(&data.join(CLEAN_SHUTDOWN_FILE), b"clean\n")?;
        info!(data_dir = %data.display(), "log directory closed cleanly");
        Ok(())
    }

    fn topics_read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Topic>>> {
        self.topics.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn topics_write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Topic>>> {
        self.topics.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Opens partitions (running recovery) on up to one thread per core, and
/// returns them in input order. The first error wins.
fn open_partitions(
    to_open: Vec<(TopicPartition, PathBuf)>,
    config: LogConfig,
    clean: bool,
) -> Result<Vec<Arc<Partition>>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(to_open.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Arc<Partition>>>>> =
        to_open.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((tp, dir)) = to_open.get(i) else {
                    break;
                };
                let opened = Partition::open(tp.clone(), dir, config, clean).map(Arc::new);
                *results[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(opened);
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .expect("every partition was opened by a worker")
        })
        .collect()
}

fn read_dir(path: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(path)
        .map_err(|e| StorageError::io(format!("listing {}", path.display()), e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry =
            entry.map_err(|e| StorageError::io(format!("listing {}", path.display()), e))?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}
