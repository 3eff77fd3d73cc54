//! `chronik-bench`: produce then fetch throughput and latency against a
//! running broker. See the crate documentation for the method.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::{Buf, Bytes};
use chronik_benchmarks::client::Connection;
use chronik_benchmarks::stats::{ms, Latencies};
use clap::Parser;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, FetchRequest, FetchResponse, ProduceRequest,
    ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

/// Produce and fetch load generator for a Kafka-compatible broker.
#[derive(Debug, Parser)]
#[command(name = "chronik-bench", version)]
struct Args {
    /// Broker address.
    #[arg(long, default_value = "127.0.0.1:9092")]
    bootstrap: String,
    /// Topic to create and use (one partition per connection).
    #[arg(long, default_value = "chronik-bench")]
    topic: String,
    /// Total messages to produce (split evenly across connections).
    #[arg(long, default_value_t = 2_000_000)]
    messages: u64,
    /// Size of each message value in bytes.
    #[arg(long, default_value_t = 100)]
    message_size: usize,
    /// Messages per record batch (one batch per produce request).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Parallel connections (and partitions).
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Produce requests in flight per connection.
    #[arg(long, default_value_t = 8)]
    in_flight: usize,
    /// acks of produce requests: 1 (appended) or -1 (appended and, with
    /// the broker's default fsync policy, fsynced). Several values
    /// (`--acks 1,-1`) run one after the other against the same broker,
    /// each on its own topic (`<topic>-acks1`, `<topic>-acksall`), for a
    /// side-by-side comparison.
    #[arg(
        long,
        default_value = "1",
        allow_hyphen_values = true,
        value_delimiter = ','
    )]
    acks: Vec<i16>,
    /// Per-partition max bytes of each fetch.
    #[arg(long, default_value_t = 1 << 20)]
    fetch_bytes: i32,
}

fn topic_name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

/// One uncompressed batch of `count` messages of `size` bytes.
fn build_batch(count: usize, size: usize) -> anyhow::Result<Bytes> {
    let value = Bytes::from(
        (0..size)
            .map(|i| b'a' + (i % 26) as u8)
            .collect::<Vec<u8>>(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    chronik_protocol::records::value_batch(std::iter::repeat_n(value, count), now)
}

async fn create_topic(args: &Args, topic: &str) -> anyhow::Result<()> {
    let mut conn = Connection::connect(&args.bootstrap).await?;
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(topic))
            .with_num_partitions(args.connections as i32)
            .with_replication_factor(1)]);
    let resp: CreateTopicsResponse = conn.call(ApiKey::CreateTopics, 5, &req).await?;
    match resp.topics.first().map(|t| t.error_code) {
        Some(0) => Ok(()),
        Some(36) => bail!("topic {topic} already exists; pick another --topic"),
        other => bail!("creating topic {topic} failed: {other:?}"),
    }
}

/// Produces `batches` batches to `partition`; returns the latencies.
async fn produce_partition(
    args: &Args,
    run: &Run,
    partition: i32,
    batches: u64,
    batch: Bytes,
) -> anyhow::Result<Latencies> {
    let mut conn = Connection::connect(&args.bootstrap).await?;
    let request = ProduceRequest::default()
        .with_acks(run.acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(&run.topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(batch))])]);
    let mut latencies = Latencies::default();
    let mut sent = 0;
    while sent < batches || conn.in_flight() > 0 {
        while sent < batches && conn.in_flight() < args.in_flight {
            conn.send(ApiKey::Produce, 9, &request).await?;
            sent += 1;
        }
        let (resp, took): (ProduceResponse, Duration) = conn.recv(ApiKey::Produce, 9).await?;
        let code = resp.responses[0].partition_responses[0].error_code;
        if code != 0 {
            bail!("produce to partition {partition} failed with error {code}");
        }
        latencies.push(took);
    }
    Ok(latencies)
}

/// Reads `partition` from offset 0 until `expected` messages were seen.
async fn fetch_partition(
    args: &Args,
    run: &Run,
    partition: i32,
    expected: u64,
) -> anyhow::Result<(Latencies, u64)> {
    let mut conn = Connection::connect(&args.bootstrap).await?;
    let mut latencies = Latencies::default();
    let (mut offset, mut seen, mut bytes) = (0i64, 0u64, 0u64);
    while seen < expected {
        let req = FetchRequest::default()
            .with_max_wait_ms(500)
            .with_min_bytes(1)
            .with_max_bytes(args.fetch_bytes)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic_name(&run.topic))
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(partition)
                    .with_fetch_offset(offset)
                    .with_partition_max_bytes(args.fetch_bytes)])]);
        conn.send(ApiKey::Fetch, 12, &req).await?;
        let (resp, took): (FetchResponse, Duration) = conn.recv(ApiKey::Fetch, 12).await?;
        latencies.push(took);
        let p = &resp.responses[0].partitions[0];
        if p.error_code != 0 {
            bail!(
                "fetch from partition {partition} failed with error {}",
                p.error_code
            );
        }
        let mut records = p.records.clone().unwrap_or_default();
        bytes += records.len() as u64;
        // Walk batch headers: base offset (0), length (8), last offset
        // delta (23), record count (57).
        while records.len() >= 61 {
            let base = (&records[0..8]).get_i64();
            let len = (&records[8..12]).get_i32() as usize + 12;
            if records.len() < len {
                break;
            }
            let last_delta = (&records[23..27]).get_i32() as i64;
            let count = (&records[57..61]).get_i32() as u64;
            if base >= offset {
                seen += count;
            }
            offset = base + last_delta + 1;
            records.advance(len);
        }
    }
    Ok((latencies, bytes))
}

fn report(phase: &str, messages: u64, bytes: u64, elapsed: Duration, mut lat: Latencies) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{phase:<18} {messages} msgs in {secs:.2} s: {:.0} msgs/s, {:.1} MB/s; requests {}: p50 {} p99 {} max {}",
        messages as f64 / secs,
        bytes as f64 / secs / 1e6,
        lat.len(),
        ms(lat.percentile(50.0)),
        ms(lat.percentile(99.0)),
        ms(lat.percentile(100.0)),
    );
}

/// One produce-then-fetch run: its acks and topic.
#[derive(Debug)]
struct Run {
    acks: i16,
    topic: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.batch == 0 || args.in_flight == 0 {
        bail!("--connections, --batch and --in-flight must be positive");
    }
    if args.acks.is_empty() || args.acks.iter().any(|a| !matches!(a, -1 | 1)) {
        bail!("--acks must be -1 or 1 (or a list of them, like 1,-1)");
    }
    let several = args.acks.len() > 1;
    let runs: Vec<Run> = args
        .acks
        .iter()
        .map(|&acks| Run {
            acks,
            topic: match (several, acks) {
                (false, _) => args.topic.clone(),
                (true, 1) => format!("{}-acks1", args.topic),
                (true, _) => format!("{}-acksall", args.topic),
            },
        })
        .collect();
    let args = std::sync::Arc::new(args);
    for run in runs {
        bench(&args, std::sync::Arc::new(run)).await?;
    }
    Ok(())
}

async fn bench(args: &std::sync::Arc<Args>, run: std::sync::Arc<Run>) -> anyhow::Result<()> {
    create_topic(args, &run.topic)
        .await
        .context("creating the benchmark topic")?;
    let batch = build_batch(args.batch, args.message_size)?;
    let batches_per_conn = args.messages / (args.batch as u64 * args.connections as u64);
    let per_conn = batches_per_conn * args.batch as u64;
    let total = per_conn * args.connections as u64;
    println!(
        "broker {} topic {}: {} connections x {} batches x {} msgs of {} bytes, acks={}, {} in flight",
        args.bootstrap, run.topic, args.connections, batches_per_conn, args.batch, args.message_size, run.acks, args.in_flight
    );

    let start = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..args.connections {
        let (args, run, batch) = (
            std::sync::Arc::clone(args),
            std::sync::Arc::clone(&run),
            batch.clone(),
        );
        tasks.push(tokio::spawn(async move {
            produce_partition(&args, &run, p as i32, batches_per_conn, batch).await
        }));
    }
    let mut lat = Latencies::default();
    for t in tasks {
        lat.extend(t.await??);
    }
    let produce_bytes = total * args.message_size as u64;
    let phase = if run.acks == 1 {
        "produce (acks=1)"
    } else {
        "produce (acks=all)"
    };
    report(phase, total, produce_bytes, start.elapsed(), lat);

    let start = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..args.connections {
        let (args, run) = (std::sync::Arc::clone(args), std::sync::Arc::clone(&run));
        tasks.push(tokio::spawn(async move {
            fetch_partition(&args, &run, p as i32, per_conn).await
        }));
    }
    let (mut lat, mut wire_bytes) = (Latencies::default(), 0);
    for t in tasks {
        let (l, b) = t.await??;
        lat.extend(l);
        wire_bytes += b;
    }
    report("fetch", total, produce_bytes, start.elapsed(), lat);
    println!(
        "fetch    {:.1} MB of record batches on the wire (values plus batch and record headers)",
        wire_bytes as f64 / 1e6
    );
    Ok(())
}
