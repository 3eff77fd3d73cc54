//! Group commit: one background task fsyncs every partition that producers
//! are waiting on, once per round, and wakes them all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use chronik_storage::Partition;
use tokio::sync::{watch, Notify};
use tracing::warn;

/// Receives the duration of every partition fsync the produce path runs
/// (group-commit rounds and interval flushes), e.g. to feed a histogram.
/// Called on a blocking thread right after the fsync; keep it cheap.
pub type FsyncObserver = Arc<dyn Fn(Duration) + Send + Sync>;

#[derive(Debug, Default)]
struct Pending {
    partitions: Vec<Arc<Partition>>,
    /// Number of the round that will start next.
    next_round: u64,
}

/// Shared state between producers and the flusher task.
///
/// A producer that appended to partition P calls [`GroupCommit::enqueue`],
/// which adds P to the pending set and returns the number of the next round
/// to start (its *ticket*). The flusher takes the whole pending set and the
/// round number under the same lock, so round `ticket` includes P and starts
/// after the append. When a round ends, the completed-round watch advances
/// and every producer whose ticket is covered wakes up. N producers arriving
/// while a round runs share the next round: about one fsync per partition per
/// round instead of one per producer.
pub(crate) struct GroupCommit {
    pending: Mutex<Pending>,
    wake: Notify,
    /// Highest round number completed (`u64::MAX` after shutdown).
    done: watch::Sender<u64>,
    rounds: AtomicU64,
    fsyncs: AtomicU64,
    /// Told the duration of every partition fsync (e.g. a metrics histogram).
    observer: OnceLock<FsyncObserver>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("rounds", &self.rounds())
            .field("fsyncs", &self.fsyncs())
            .field("observed", &self.observer.get().is_some())
            .finish_non_exhaustive()
    }
}

impl GroupCommit {
    pub fn new() -> Self {
        GroupCommit {
            pending: Mutex::new(Pending {
                partitions: Vec::new(),
                next_round: 1,
            }),
            wake: Notify::new(),
            done: watch::Sender::new(0),
            rounds: AtomicU64::new(0),
            fsyncs: AtomicU64::new(0),
            observer: OnceLock::new(),
        }
    }

    /// Sets the fsync observer; returns false if one was already set.
    pub fn set_observer(&self, observer: FsyncObserver) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// Queues `p` for the next round and returns that round's number.
    pub fn enqueue(&self, p: &Arc<Partition>) -> u64 {
        let ticket = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if !pending.partitions.iter().any(|q| Arc::ptr_eq(q, p)) {
                pending.partitions.push(Arc::clone(p));
            }
            pending.next_round
        };
        self.wake.notify_one();
        ticket
    }

    /// Waits until round `ticket` has completed.
    pub async fn wait(&self, ticket: u64) {
        let mut rx = self.done.subscribe();
        // The sender lives in `self`, so this cannot fail while we borrow it.
        let _ = rx.wait_for(|done| *done >= ticket).await;
    }

    /// Waits for work (or returns at once if some is queued).
    pub async fn notified(&self) {
        self.wake.notified().await;
    }

    /// Runs one round: fsyncs every queued partition and publishes the
    /// round's completion. Returns whether anything was synced.
    pub async fn run_round(&self) -> bool {
        let (parts, round) = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let round = pending.next_round;
            pending.next_round += 1;
            (std::mem::take(&mut pending.partitions), round)
        };
        let synced = !parts.is_empty();
        self.sync_partitions(parts).await;
        self.done.send_modify(|d| *d = (*d).max(round));
        synced
    }

    /// fsyncs `parts` as one round (counted if not empty). One blocking
    /// task per partition: the fsyncs run in parallel, so the file system
    /// can commit them together. Errors are logged; a partition whose fsync
    /// failed keeps its durable offset, which is what waiters check.
    pub async fn sync_partitions(&self, parts: Vec<Arc<Partition>>) {
        if parts.is_empty() {
            return;
        }
        let n = parts.len() as u64;
        let tasks: Vec<_> = parts
            .into_iter()
            .map(|p| {
                let observer = self.observer.get().cloned();
                tokio::task::spawn_blocking(move || {
                    let start = Instant::now();
                    match p.flush() {
                        Ok(_) => {
                            if let Some(observe) = observer {
                                observe(start.elapsed());
                            }
                        }
                        Err(e) => {
                            warn!(partition = %p.topic_partition(), error = %e, "fsync failed")
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await {
                warn!(error = %e, "fsync task failed");
            }
        }
        self.rounds.fetch_add(1, Ordering::Relaxed);
        self.fsyncs.fetch_add(n, Ordering::Relaxed);
    }

    /// Wakes every waiter for good (after the final shutdown flush).
    pub fn finish(&self) {
        self.done.send_replace(u64::MAX);
    }

    /// Rounds that synced at least one partition.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Partition fsyncs requested by rounds.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }
}
