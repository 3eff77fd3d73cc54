//! Fetch: read whole record batches from each requested partition, waiting
//! up to `max_wait_ms` for at least `min_bytes` (long poll on the log end
//! offset watch of every requested partition).
//!
//! Fetch sessions (KIP-227) are not implemented: every response carries
//! session id 0, which tells clients to keep sending full requests.

use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use chronik_common::TopicPartition;
use chronik_ingest::{storage_error_code, ResponseError};
use chronik_storage::{Partition, StorageError};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::broker::Broker;

/// Longest wait honoured, whatever the client asks for.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// One requested partition, resolved.
struct Wanted {
    partition: i32,
    fetch_offset: i64,
    max_bytes: usize,
    log: Option<Arc<Partition>>,
}

/// Serves a fetch, long-polling until enough data arrives, the wait expires,
/// or the broker shuts down.
pub async fn handle(broker: &Broker, req: FetchRequest, version: i16) -> FetchResponse {
    if version >= 7 && req.session_id != 0 {
        // We never hand out session ids, so any id is unknown.
        let mut resp =
            FetchResponse::default().with_error_code(ResponseError::FetchSessionIdNotFound.code());
        resp.session_id = 0;
        return resp;
    }
    let topics: Vec<(kafka_protocol::messages::TopicName, Vec<Wanted>)> = req
        .topics
        .iter()
        .map(|t| {
            let wanted = t
                .partitions
                .iter()
                .map(|p| Wanted {
                    partition: p.partition,
                    fetch_offset: p.fetch_offset,
                    max_bytes: usize::try_from(p.partition_max_bytes).unwrap_or(0),
                    log: broker
                        .logs
                        .partition(&TopicPartition::new(t.topic.as_str(), p.partition)),
                })
                .collect();
            (t.topic.clone(), wanted)
        })
        .collect();
    // Subscribe before the first read so no append between read and wait is missed.
    let mut watches: Vec<watch::Receiver<i64>> = topics
        .iter()
        .flat_map(|(_, ws)| {
            ws.iter()
                .filter_map(|w| w.log.as_ref().map(|l| l.subscribe()))
        })
        .collect();
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0)).min(MAX_WAIT);
    let deadline = Instant::now() + wait;
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    // v3 added the response-wide limit; before that only per-partition ones.
    let max_total = if version >= 3 {
        usize::try_from(req.max_bytes).unwrap_or(0)
    } else {
        usize::MAX
    };
    let mut stop = broker.stop_signal();
    loop {
        let (responses, bytes, any_error) = read_all(&topics, max_total);
        let done = bytes >= min_bytes
            || any_error
            || Instant::now() >= deadline
            || *stop.borrow()
            || watches.is_empty();
        if done {
            return FetchResponse::default()
                .with_responses(responses)
                .with_session_id(0);
        }
        // Tests wait for this line to know the fetch is parked.
        tracing::debug!(
            remaining_ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as u64,
            "fetch parked until data arrives or the wait ends"
        );
        if wait_for_append(&mut watches, deadline, &mut stop).await {
            // Deadline or shutdown: one last read, then answer.
            let (responses, _, _) = read_all(&topics, max_total);
            return FetchResponse::default()
                .with_responses(responses)
                .with_session_id(0);
        }
    }
}

/// Reads every partition once. Returns the topic responses, the record
/// bytes gathered and whether any partition failed.
fn read_all(
    topics: &[(kafka_protocol::messages::TopicName, Vec<Wanted>)],
    max_total: usize,
) -> (Vec<FetchableTopicResponse>, usize, bool) {
    let mut total = 0usize;
    let mut any_error = false;
    let responses = topics
        .iter()
        .map(|(name, wanted)| {
            let partitions = wanted
                .iter()
                .map(|w| {
                    let data = read_one(w, max_total.saturating_sub(total), total == 0);
                    total += data.records.as_ref().map_or(0, Bytes::len);
                    any_error |= data.error_code != 0;
                    data
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(name.clone())
                .with_partitions(partitions)
        })
        .collect();
    (responses, total, any_error)
}

fn read_one(w: &Wanted, remaining: usize, first: bool) -> PartitionData {
    let base = PartitionData::default()
        .with_partition_index(w.partition)
        .with_preferred_read_replica(BrokerId(-1));
    let Some(log) = &w.log else {
        return base
            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
            .with_high_watermark(-1)
            .with_last_stable_offset(-1)
            .with_log_start_offset(-1);
    };
    let leo = log.log_end_offset();
    let lso = log.log_start_offset();
    let base = base
        .with_high_watermark(leo)
        .with_last_stable_offset(leo)
        .with_log_start_offset(lso);
    // Once the response is full, later partitions report offsets only
    // (unless nothing has been returned yet: the first batch always goes).
    let budget = w.max_bytes.min(remaining);
    if budget == 0 && !first {
        if w.fetch_offset < lso || w.fetch_offset > leo {
            return base.with_error_code(ResponseError::OffsetOutOfRange.code());
        }
        return base.with_records(Some(Bytes::new()));
    }
    match log.read(w.fetch_offset, budget.max(1)) {
        Ok(read) => base
            .with_high_watermark(read.log_end_offset)
            .with_last_stable_offset(read.log_end_offset)
            .with_log_start_offset(read.log_start_offset)
            .with_records(Some(read.records)),
        Err(e @ StorageError::OffsetOutOfRange { .. }) => {
            tracing::debug!(partition = %log.topic_partition(), "fetch: {e}");
            base.with_error_code(ResponseError::OffsetOutOfRange.code())
        }
        Err(e) => {
            tracing::warn!(partition = %log.topic_partition(), "fetch failed: {e}");
            base.with_error_code(storage_error_code(&e).code())
        }
    }
}

/// Waits until any watched log end offset moves. Returns `true` when it
/// stopped waiting because of the deadline or shutdown instead.
async fn wait_for_append(
    watches: &mut [watch::Receiver<i64>],
    deadline: Instant,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let any_changed = async {
        let mut changed: Vec<_> = watches
            .iter_mut()
            .map(|rx| Box::pin(rx.changed()))
            .collect();
        poll_fn(|cx| {
            // A closed watch (partition deleted) also ends the wait; the
            // next read reports the error.
            if changed.iter_mut().any(|f| f.as_mut().poll(cx).is_ready()) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    };
    tokio::select! {
        () = any_changed => false,
        () = tokio::time::sleep_until(deadline) => true,
        _ = stop.changed() => true,
    }
}
