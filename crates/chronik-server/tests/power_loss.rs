//! Durability against power loss, not only a process crash (feature
//! `fault-injection`).
//!
//! A SIGKILL keeps the page cache, so data written but never fsynced still
//! reads back after it; the SIGKILL tests would pass with `--fsync never`.
//! Here the broker journals its storage operations
//! (`chronik_storage::fault`), is killed while idempotent `acks=all`
//! produce requests are still in flight, and then everything it never
//! fsynced is discarded, as a power cut would, before it starts again.
//!
//! The check compares record values at their acknowledged offsets: every
//! acknowledged record must be there, at its offset, with its value; no
//! value may appear twice, also after the producer retries its last
//! requests (as it would after losing their responses). `--fsync always`
//! passes it; a `--fsync never` control run must fail it, which shows that
//! the check and the simulated power cut can fail at all.

#![cfg(feature = "fault-injection")]

mod common;

use bytes::Bytes;
use chronik_storage::batch::BatchBuilder;
use common::{kafka, KafkaConn, TestBroker};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, InitProducerIdRequest,
    InitProducerIdResponse, ProduceRequest, ProduceResponse,
};
use std::collections::{BTreeMap, HashMap};

const TOPIC: &str = "power";
const PARTITIONS: i32 = 2;
/// Acknowledged requests per partition before the crash.
const ACKED_REQUESTS: i32 = 150;
/// Requests per partition sent right before the kill, never read back
/// (fewer than the five batches per producer the broker remembers, as an
/// idempotent client's `max.in.flight` of 5 guarantees).
const IN_FLIGHT_AT_CRASH: i32 = 4;
const RECORDS_PER_BATCH: i32 = 4;
/// Produce requests sent before reading their responses (pipelining, as
/// an idempotent client with `max.in.flight` 5 does).
const PIPELINE: i32 = 5;

fn value(partition: i32, seq: i32, i: i32) -> String {
    format!(
        "p{partition}-s{seq:06}-r{i}-{}",
        "v".repeat((seq % 13) as usize)
    )
}

/// One idempotent batch: sequence `seq * RECORDS_PER_BATCH`.
fn batch(pid: i64, epoch: i16, partition: i32, seq: i32) -> Bytes {
    let mut b = BatchBuilder::new().producer(pid, epoch, seq * RECORDS_PER_BATCH);
    for i in 0..RECORDS_PER_BATCH {
        b = b.record(
            1_700_000_000_000,
            None,
            Some(value(partition, seq, i).as_bytes()),
        );
    }
    Bytes::from(b.build())
}

fn produce_request(records: Bytes, partition: i32) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(kafka::topic(TOPIC))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
}

/// (error code, base offset) of a one-partition produce response.
fn result(resp: &ProduceResponse) -> (i16, i64) {
    let p = &resp.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// What the producer saw, and what the log held after the power cut.
struct Run {
    /// Acknowledged values by (partition, offset).
    acked: BTreeMap<(i32, i64), String>,
    /// Retries answered with a different offset than the original ack.
    retry_mismatches: Vec<String>,
    /// Every (partition, offset, value) read back after the restart.
    log: Vec<(i32, i64, String)>,
    bytes_lost: u64,
}

impl Run {
    /// The durability check: every acknowledged record is at its offset
    /// with its value, and no value appears twice. Returns the violations.
    fn violations(&self) -> Vec<String> {
        let mut out = self.retry_mismatches.clone();
        let stored: HashMap<(i32, i64), &str> = self
            .log
            .iter()
            .map(|(p, o, v)| ((*p, *o), v.as_str()))
            .collect();
        for ((p, o), v) in &self.acked {
            match stored.get(&(*p, *o)) {
                Some(s) if s == v => {}
                Some(s) => out.push(format!("{p}@{o}: acknowledged {v:?}, stored {s:?}")),
                None => out.push(format!("{p}@{o}: acknowledged {v:?} lost")),
            }
        }
        let mut seen: HashMap<&str, (i32, i64)> = HashMap::new();
        for (p, o, v) in &self.log {
            if let Some(first) = seen.insert(v, (*p, *o)) {
                out.push(format!("{v:?} stored twice: at {first:?} and {p}@{o}"));
            }
        }
        out
    }
}

fn read_all(conn: &mut KafkaConn, partition: i32) -> Vec<(i32, i64, String)> {
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let (code, hw, records) = kafka::fetch(conn, TOPIC, partition, next, 0);
        assert_eq!(code, 0, "fetch {partition}@{next}");
        for (o, v) in records {
            if o >= next {
                out.push((partition, o, v));
                next = o + 1;
            }
        }
        if next >= hw {
            return out;
        }
    }
}

fn run(fsync: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let journal = dir.path().join("fault-journal");
    let env = [(chronik_storage::fault::JOURNAL_ENV, journal.as_os_str())];
    let mut broker = TestBroker::start_with_env(&data, &["--fsync", fsync], &env);
    let mut conn = KafkaConn::connect(&broker.addr);
    let created: CreateTopicsResponse = conn.call(
        ApiKey::CreateTopics,
        5,
        &CreateTopicsRequest::default()
            .with_timeout_ms(30_000)
            .with_topics(vec![CreatableTopic::default()
                .with_name(kafka::topic(TOPIC))
                .with_num_partitions(PARTITIONS)
                .with_replication_factor(1)]),
    );
    assert_eq!(created.topics[0].error_code, 0);
    let init: InitProducerIdResponse = conn.call(
        ApiKey::InitProducerId,
        1,
        &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
    );
    assert_eq!(init.error_code, 0);
    let (pid, epoch) = (init.producer_id.0, init.producer_epoch);

    // Acknowledged requests, PIPELINE at a time on one connection per
    // partition, alternating partitions.
    let mut conns: Vec<KafkaConn> = (0..PARTITIONS)
        .map(|_| KafkaConn::connect(&broker.addr))
        .collect();
    let mut acked = BTreeMap::new();
    let mut last_acked: Vec<Vec<(i32, i64)>> = vec![Vec::new(); PARTITIONS as usize];
    for start in (0..ACKED_REQUESTS).step_by(PIPELINE as usize) {
        for (p, c) in conns.iter_mut().enumerate() {
            let p = p as i32;
            let sent: Vec<(i32, i32)> = (start..start + PIPELINE)
                .map(|seq| {
                    let req = produce_request(batch(pid, epoch, p, seq), p);
                    (seq, c.send(ApiKey::Produce, 9, &req))
                })
                .collect();
            for (seq, correlation) in sent {
                let resp: ProduceResponse = c.recv(ApiKey::Produce, 9, correlation);
                let (code, base) = result(&resp);
                assert_eq!(code, 0, "produce {p} seq {seq}");
                for i in 0..RECORDS_PER_BATCH {
                    acked.insert((p, base + i64::from(i)), value(p, seq, i));
                }
                last_acked[p as usize].push((seq, base));
            }
        }
    }
    // More requests, then the crash while they are in flight.
    for (p, c) in conns.iter_mut().enumerate() {
        for seq in ACKED_REQUESTS..ACKED_REQUESTS + IN_FLIGHT_AT_CRASH {
            let p = p as i32;
            c.send(
                ApiKey::Produce,
                9,
                &produce_request(batch(pid, epoch, p, seq), p),
            );
        }
    }
    broker.kill9();
    let cut = chronik_storage::fault::power_cut(&journal, &data).expect("simulated power cut");

    let broker = TestBroker::start(&data, &["--fsync", fsync]);
    let mut conn = KafkaConn::connect(&broker.addr);
    // The producer lost the responses of its in-flight requests and
    // retries from its last acknowledged one, in order, as a client does:
    // the acknowledged retry must be answered with its original offset, and
    // every in-flight one either with the offset it survived at or by
    // appending it now; either way it is acknowledged exactly once.
    let mut retry_mismatches = Vec::new();
    for p in 0..PARTITIONS {
        let &(last, base) = last_acked[p as usize].last().expect("acked requests");
        for seq in last..ACKED_REQUESTS + IN_FLIGHT_AT_CRASH {
            let resp: ProduceResponse = conn.call(
                ApiKey::Produce,
                9,
                &produce_request(batch(pid, epoch, p, seq), p),
            );
            let (code, got) = result(&resp);
            if code != 0 || (seq == last && got != base) {
                retry_mismatches.push(format!(
                    "retry of {p} seq {seq} got error {code}, offset {got} (last ack: seq {last} at {base})"
                ));
            } else if seq > last {
                for i in 0..RECORDS_PER_BATCH {
                    acked.insert((p, got + i64::from(i)), value(p, seq, i));
                }
            }
        }
    }
    let log = (0..PARTITIONS)
        .flat_map(|p| read_all(&mut conn, p))
        .collect();
    drop(broker);
    Run {
        acked,
        retry_mismatches,
        log,
        bytes_lost: cut.bytes_lost(),
    }
}

/// A short account of a run for assertion messages.
fn summary(run: &Run, violations: &[String]) -> String {
    format!(
        "{} acknowledged records, {} stored, {} bytes cut by the power loss, {} violations; first: {:?}",
        run.acked.len(),
        run.log.len(),
        run.bytes_lost,
        violations.len(),
        &violations[..violations.len().min(5)]
    )
}

#[test]
fn acks_all_with_fsync_always_survives_power_loss() {
    let run = run("always");
    // Every request was acknowledged once: before the crash or on retry.
    assert_eq!(
        run.acked.len(),
        (PARTITIONS * (ACKED_REQUESTS + IN_FLIGHT_AT_CRASH) * RECORDS_PER_BATCH) as usize,
        "{}",
        summary(&run, &run.violations())
    );
    let violations = run.violations();
    eprintln!("fsync always: {}", summary(&run, &violations));
    assert!(violations.is_empty(), "{}", summary(&run, &violations));
}

#[test]
fn fsync_never_control_run_fails_the_same_check() {
    let run = run("never");
    let violations = run.violations();
    eprintln!("fsync never: {}", summary(&run, &violations));
    assert!(
        violations.iter().any(|v| v.ends_with("lost")),
        "without fsync a power cut must lose acknowledged records: {}",
        summary(&run, &violations)
    );
    assert!(run.bytes_lost > 0);
}
