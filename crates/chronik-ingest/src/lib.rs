//! The produce path of Chronik Stream.
//!
//! [`Ingest::produce`] takes the record-set bytes of one partition from a
//! Produce request and:
//!
//! 1. validates them ([`validate_records`]): magic 2, consistent lengths, no
//!    trailing bytes, CRC-32C, record counts, a per-batch size limit;
//! 2. for idempotent producers (producer id >= 0) checks the sequence against
//!    the last five batches of that producer on that partition: an exact
//!    retry is acknowledged with the original offset and not appended again;
//! 3. appends through [`chronik_storage::Partition::append`], which assigns
//!    consecutive offsets by rewriting each batch's base offset;
//! 4. with [`FsyncPolicy::Always`] and `acks = -1`, waits for a group commit:
//!    a single background task fsyncs all partitions appended to since its
//!    last round and wakes every waiting producer at once.
//!
//! Errors are [`ProduceError`]s; [`ProduceError::code`] is the Kafka error
//! code for the response. Producer state survives restarts: each partition
//! keeps a snapshot ([`PRODUCER_SNAPSHOT_FILE`]) of the state below its
//! newest segment (rewritten whenever a segment rolls, and at the log end by
//! a clean [`Ingest::shutdown`]); [`Ingest::open`] loads it and replays the
//! batch headers after it, so a restart reads at most one segment.
//!
//! # Using it
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use chronik_common::{BrokerConfig, TopicPartition};
//! use chronik_ingest::{Ingest, IngestConfig};
//! use chronik_storage::{LogManager, StorageConfig};
//!
//! let config = BrokerConfig::default();
//! let logs = Arc::new(LogManager::open(StorageConfig::from_broker(&config))?);
//! let ingest = Ingest::open(Arc::clone(&logs), IngestConfig::from_broker(&config)).await?;
//! logs.create_topic("orders", 1)?;
//! # let records = bytes::Bytes::new();
//! let out = ingest.produce(&TopicPartition::new("orders", 0), records, -1).await?;
//! println!("stored at offset {}", out.base_offset);
//! let (producer_id, epoch) = ingest.allocate_producer_id()?; // InitProducerId
//! ingest.shutdown().await; // on SIGTERM: final flush + clean-shutdown marker
//! # let _ = (producer_id, epoch); Ok(()) }
//! ```
//!
//! Background tasks (started by [`Ingest::open`], stopped by
//! [`Ingest::shutdown`]): the group-commit flusher (`Always`), the periodic
//! flusher (`Interval`), and the retention task, which applies the storage
//! retention policy and expires idle producers every
//! [`IngestConfig::retention_check_interval`].

mod commit;
mod config;
pub mod error;
mod outcome;
mod pid;
mod producer_state;
mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chronik_common::{FsyncPolicy, TopicPartition};
use chronik_storage::batch::{self, BatchHeader};
use chronik_storage::{LogManager, Partition, StorageError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use commit::FsyncObserver;
use commit::GroupCommit;
pub use config::IngestConfig;
pub use error::{storage_error_code, ProduceError, ResponseError};
use outcome::Durability;
pub use outcome::{PendingProduce, ProduceOutcome};
pub use pid::{ProducerIdAllocator, PRODUCER_ID_BLOCK, PRODUCER_ID_FILE};
pub use producer_state::BATCHES_PER_PRODUCER;
use producer_state::{ProducerStateTable, SeqCheck};
pub use validate::{validate_records, DEFAULT_MAX_BATCH_BYTES};

type StateMap = Mutex<HashMap<TopicPartition, Arc<PartitionState>>>;

/// Forgets producers last seen before `cutoff_ms` in every partition.
fn expire_producers(states: &StateMap, cutoff_ms: i64) -> usize {
    let states: Vec<Arc<PartitionState>> = states
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .cloned()
        .collect();
    states
        .iter()
        .map(|s| {
            s.producers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .expire(cutoff_ms)
        })
        .sum()
}

#[derive(Debug)]
struct PartitionState {
    partition: Arc<Partition>,
    producers: Mutex<ProducerStateTable>,
    /// Offset of the newest snapshot on disk (-1: none). Its lock also
    /// serialises snapshot writes; take it before `producers`, never after.
    snapshot_offset: Mutex<i64>,
}

/// The produce path: validation, offsets, idempotence and durability.
/// Share it as `Arc<Ingest>`.
#[derive(Debug)]
pub struct Ingest {
    storage: Arc<LogManager>,
    config: IngestConfig,
    states: Arc<StateMap>,
    commit: Arc<GroupCommit>,
    pids: ProducerIdAllocator,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    stop: watch::Sender<bool>,
}

/// Name of the producer-state snapshot in a partition directory.
pub const PRODUCER_SNAPSHOT_FILE: &str = "producer-state.snapshot";

/// Loads the partition's producer-state snapshot. Returns the table and
/// the offset to replay the log from: the snapshot's offset if it is usable,
/// else the log start (with an empty table).
///
/// A snapshot taken at offset X holds exactly the batches below X, and is
/// only written once everything below X is durable (after a segment roll,
/// or at clean shutdown), so it stays valid while the log grows; replaying
/// the log from X completes it. One claiming an offset beyond the log end
/// belongs to some other history and is ignored.
fn load_snapshot(p: &Partition) -> (ProducerStateTable, i64) {
    let path = p.dir().join(PRODUCER_SNAPSHOT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                warn!(file = %path.display(), error = %e, "cannot read producer snapshot");
            }
            return (ProducerStateTable::default(), p.log_start_offset());
        }
    };
    match ProducerStateTable::decode(&text) {
        Some((table, offset)) if (0..=p.log_end_offset()).contains(&offset) => (table, offset),
        Some((_, offset)) => {
            warn!(
                partition = %p.topic_partition(),
                snapshot_offset = offset,
                log_end_offset = p.log_end_offset(),
                "producer snapshot is ahead of the log; rebuilding from the log"
            );
            (ProducerStateTable::default(), p.log_start_offset())
        }
        None => {
            warn!(file = %path.display(), "malformed producer snapshot; rebuilding from the log");
            (ProducerStateTable::default(), p.log_start_offset())
        }
    }
}

/// Writes `state`'s producer snapshot as of offset `upto` (which must be
/// durable), unless a snapshot at or beyond it was already written.
fn write_snapshot(state: &PartitionState, upto: i64) -> Result<(), StorageError> {
    let mut written = state
        .snapshot_offset
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if upto <= *written {
        return Ok(());
    }
    let text = state
        .producers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .encode(upto);
    let path = state.partition.dir().join(PRODUCER_SNAPSHOT_FILE);
    chronik_storage::write_atomic(&path, text.as_bytes())?;
    *written = upto;
    Ok(())
}

/// Resolves once the stop flag is set (or its sender is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Ingest {
    /// Opens the produce path over `storage`: loads the producer-id
    /// allocator, rebuilds idempotent-producer state by scanning the batch
    /// headers of every partition, and starts the background tasks.
    /// Must run inside a tokio runtime.
    pub async fn open(
        storage: Arc<LogManager>,
        config: IngestConfig,
    ) -> Result<Arc<Self>, StorageError> {
        let pids = ProducerIdAllocator::open(storage.data_dir())?;
        let scan_storage = Arc::clone(&storage);
        let states = tokio::task::spawn_blocking(move || -> Result<_, StorageError> {
            let mut states = HashMap::new();
            for p in scan_storage.all_partitions() {
                let (mut table, from) = load_snapshot(&p);
                let snapshot_offset = if from > p.log_start_offset() { from } else { -1 };
                p.scan_headers(from, |h| {
                    if h.has_producer_id() {
                        table.record(h, h.max_timestamp);
                    }
                })?;
                if table.len() > 0 {
                    info!(partition = %p.topic_partition(), producers = table.len(), "rebuilt producer state");
                }
                states.insert(
                    p.topic_partition().clone(),
                    Arc::new(PartitionState {
                        partition: p,
                        producers: Mutex::new(table),
                        snapshot_offset: Mutex::new(snapshot_offset),
                    }),
                );
            }
            Ok(states)
        })
        .await
        .map_err(|e| StorageError::io("rebuilding producer state", std::io::Error::other(e)))??;

        let (stop, _) = watch::channel(false);
        let ingest = Arc::new(Ingest {
            storage,
            config,
            states: Arc::new(Mutex::new(states)),
            commit: Arc::new(GroupCommit::new()),
            pids,
            tasks: Mutex::new(Vec::new()),
            stop,
        });
        ingest.start_tasks();
        Ok(ingest)
    }

    fn start_tasks(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        match self.config.fsync {
            FsyncPolicy::Always => {
                let commit = Arc::clone(&self.commit);
                let mut stop = self.stop.subscribe();
                tasks.push(tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = commit.notified() => { commit.run_round().await; }
                            _ = stopped(&mut stop) => break,
                        }
                    }
                }));
            }
            FsyncPolicy::Interval(every) => {
                let storage = Arc::clone(&self.storage);
                let commit = Arc::clone(&self.commit);
                let mut stop = self.stop.subscribe();
                tasks.push(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tokio::select! {
                            _ = tick.tick() => {}
                            _ = stopped(&mut stop) => break,
                        }
                        let dirty: Vec<_> = storage
                            .all_partitions()
                            .into_iter()
                            .filter(|p| p.is_dirty())
                            .collect();
                        commit.sync_partitions(dirty).await;
                    }
                }));
            }
            FsyncPolicy::Never => {}
        }
        let storage = Arc::clone(&self.storage);
        let states = Arc::clone(&self.states);
        let every = self.config.retention_check_interval;
        let expiration =
            i64::try_from(self.config.producer_id_expiration.as_millis()).unwrap_or(i64::MAX);
        let mut stop = self.stop.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate; skip it
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped(&mut stop) => break,
                }
                let storage = Arc::clone(&storage);
                let deleted =
                    tokio::task::spawn_blocking(move || storage.enforce_retention(now_ms())).await;
                // Tests count these lines to know how many passes ran.
                tracing::debug!(deleted = deleted.unwrap_or(0), "retention pass done");
                let expired = expire_producers(&states, now_ms().saturating_sub(expiration));
                if expired > 0 {
                    info!(expired, "forgot idle idempotent producers");
                }
            }
        }));
    }

    /// The storage this produce path writes to.
    pub fn storage(&self) -> &Arc<LogManager> {
        &self.storage
    }

    /// The configuration in use.
    pub fn config(&self) -> &IngestConfig {
        &self.config
    }

    /// Allocates a producer id and epoch for InitProducerId (non-transactional:
    /// always a fresh id with epoch 0). Blocks briefly (an fsync) once per
    /// [`PRODUCER_ID_BLOCK`] ids.
    pub fn allocate_producer_id(&self) -> Result<(i64, i16), StorageError> {
        self.pids.allocate()
    }

    /// Forgets idempotent producers idle for longer than
    /// [`IngestConfig::producer_id_expiration`] as of `now_ms` (the
    /// retention task does this periodically). Returns how many went.
    pub fn expire_producers(&self, now_ms: i64) -> usize {
        let age = i64::try_from(self.config.producer_id_expiration.as_millis()).unwrap_or(i64::MAX);
        expire_producers(&self.states, now_ms.saturating_sub(age))
    }

    /// Sets the observer told the duration of every partition fsync from
    /// now on. Only the first observer set is kept; returns false for later
    /// ones.
    pub fn set_fsync_observer(&self, observer: FsyncObserver) -> bool {
        self.commit.set_observer(observer)
    }

    /// Number of fsync rounds run so far by the flusher (group commit under
    /// `Always`, periodic flushes under `Interval`).
    pub fn fsync_rounds(&self) -> u64 {
        self.commit.rounds()
    }

    /// Number of partition fsyncs issued by those rounds.
    pub fn fsync_count(&self) -> u64 {
        self.commit.fsyncs()
    }

    fn state_for(&self, partition: &Arc<Partition>) -> Arc<PartitionState> {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let tp = partition.topic_partition();
        match states.get(tp) {
            // A topic deleted and created again gets fresh producer state.
            Some(s) if Arc::ptr_eq(&s.partition, partition) => Arc::clone(s),
            _ => {
                let s = Arc::new(PartitionState {
                    partition: Arc::clone(partition),
                    producers: Mutex::new(ProducerStateTable::default()),
                    snapshot_offset: Mutex::new(-1),
                });
                states.insert(tp.clone(), Arc::clone(&s));
                s
            }
        }
    }

    /// Produces `records` (the record set of one partition from a Produce
    /// request) to `tp` with the given `acks` (-1, 0 or 1).
    ///
    /// Returns once the batches are appended and, for `acks = -1` under
    /// [`FsyncPolicy::Always`], fsynced. Idempotent batches must come one per
    /// request (as Kafka requires since Produce v3). Transactional batches
    /// are stored like any other (no transaction markers are written).
    ///
    /// The same as [`Ingest::append`] followed by [`PendingProduce::wait`].
    pub async fn produce(
        &self,
        tp: &TopicPartition,
        records: Bytes,
        acks: i16,
    ) -> Result<ProduceOutcome, ProduceError> {
        self.append(tp, records, acks)?.wait().await
    }

    /// The first half of [`Ingest::produce`]: validates and appends
    /// `records` now, and returns a [`PendingProduce`] whose
    /// [`wait`](PendingProduce::wait) resolves once the records are as
    /// durable as `acks` asks (at once unless `acks = -1` under
    /// [`FsyncPolicy::Always`]).
    ///
    /// Appends happen in call order, so a connection may append its next
    /// request while earlier ones still wait for their group commit (the
    /// fsync of that round covers all of them). Must be called inside a
    /// tokio runtime (a segment roll spawns a blocking snapshot write).
    pub fn append(
        &self,
        tp: &TopicPartition,
        records: Bytes,
        acks: i16,
    ) -> Result<PendingProduce, ProduceError> {
        if !matches!(acks, -1..=1) {
            return Err(ProduceError::InvalidRequiredAcks(acks));
        }
        let partition = self
            .storage
            .partition(tp)
            .ok_or(ProduceError::UnknownTopicOrPartition)?;
        let headers = validate_records(&records, self.config.max_batch_bytes)?;
        let idempotent: Option<BatchHeader> =
            match headers.iter().find(|(_, h)| h.has_producer_id()) {
                None => None,
                Some(_) if headers.len() > 1 => {
                    return Err(ProduceError::InvalidRecord(
                        "idempotent produce requests must carry exactly one batch".into(),
                    ))
                }
                Some((_, h)) => Some(*h),
            };
        // Offsets are written into the batches, so a mutable buffer is
        // needed: free when the caller's `Bytes` is the only reference,
        // one copy otherwise.
        let mut buf = bytes::BytesMut::from(records);
        let log_append_time = if self.config.log_append_time {
            let now = now_ms();
            for (pos, h) in &headers {
                batch::set_log_append_time(&mut buf[*pos..*pos + h.total_len()], now);
            }
            now
        } else {
            -1
        };

        // (first offset, last offset, log start, duplicate?)
        let (base_offset, last_offset, log_start_offset, duplicate, rolled) = match &idempotent {
            // Plain batches need no producer state: the partition's own
            // append lock orders them.
            None => {
                let info = partition.append(&mut buf)?;
                (
                    info.base_offset,
                    info.last_offset,
                    info.log_start_offset,
                    false,
                    info.rolled,
                )
            }
            Some(h) => {
                // The sequence check, the append and the state update must
                // be atomic per partition, so the table stays locked across
                // the (short, synchronous) append.
                let state = self.state_for(&partition);
                let mut producers = state
                    .producers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                match producers.check(h)? {
                    SeqCheck::Duplicate {
                        base_offset,
                        last_offset,
                    } => (
                        base_offset,
                        last_offset,
                        partition.log_start_offset(),
                        true,
                        false,
                    ),
                    SeqCheck::Append => {
                        let info = partition.append(&mut buf)?;
                        let mut h = *h;
                        h.base_offset = info.base_offset;
                        producers.record(&h, now_ms());
                        (
                            info.base_offset,
                            info.last_offset,
                            info.log_start_offset,
                            false,
                            info.rolled,
                        )
                    }
                }
            }
        };

        if rolled {
            // Everything below the new segment is durable: snapshot the
            // producer state there, so a restart replays one segment, not
            // the whole log.
            let state = self.state_for(&partition);
            tokio::task::spawn_blocking(move || {
                if let Err(e) = write_snapshot(&state, base_offset) {
                    warn!(partition = %state.partition.topic_partition(), error = %e, "cannot write producer snapshot");
                }
            });
        }

        // A duplicate is acknowledged under the same durability rule as its
        // original, which may still be waiting for its fsync.
        let needs_sync = !duplicate || partition.durable_offset() <= last_offset;
        let mut durability = None;
        if self.config.fsync == FsyncPolicy::Always && needs_sync {
            let ticket = self.commit.enqueue(&partition);
            if acks == -1 {
                durability = Some(Durability {
                    commit: Arc::clone(&self.commit),
                    ticket,
                    partition,
                    last_offset,
                });
            }
        }
        Ok(PendingProduce {
            outcome: ProduceOutcome {
                base_offset,
                log_append_time: if duplicate { -1 } else { log_append_time },
                log_start_offset,
                duplicate,
            },
            durability,
        })
    }

    /// Stops the background tasks, flushes and seals every partition and
    /// writes the clean-shutdown marker (via [`LogManager::close`]), writes
    /// the producer-state snapshots, then releases every producer still
    /// waiting for an fsync. Later produces
    /// fail with NOT_LEADER_OR_FOLLOWER. Safe to call more than once.
    pub async fn shutdown(&self) {
        self.stop.send_replace(true);
        let tasks: Vec<_> =
            std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for t in tasks {
            let _ = t.await;
        }
        let storage = Arc::clone(&self.storage);
        let states: Vec<Arc<PartitionState>> = self
            .states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let closed = tokio::task::spawn_blocking(move || {
            storage.close()?;
            // The logs are final now: snapshot producer state so the next
            // start need not scan every batch header.
            for s in states {
                let current = storage.partition(s.partition.topic_partition());
                if !current.is_some_and(|c| Arc::ptr_eq(&c, &s.partition)) {
                    continue; // deleted topic
                }
                if let Err(e) = write_snapshot(&s, s.partition.log_end_offset()) {
                    warn!(partition = %s.partition.topic_partition(), error = %e, "cannot write producer snapshot");
                }
            }
            Ok::<(), StorageError>(())
        })
        .await;
        match closed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "closing the log directory failed"),
            Err(e) => warn!(error = %e, "closing the log directory panicked"),
        }
        self.commit.finish();
    }
}
