//! The broker's Kafka APIs exercised with a raw protocol client: error codes,
//! version handling and semantics that kcat does not reach.

mod common;

use std::time::{Duration, Instant};

use common::kafka::{batch, fetch, fetch_request, produce, topic};
use common::{KafkaConn, TestBroker};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

fn start() -> (tempfile::TempDir, TestBroker) {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    (dir, broker)
}

fn create(
    conn: &mut KafkaConn,
    topics: Vec<CreatableTopic>,
    validate_only: bool,
) -> CreateTopicsResponse {
    let req = CreateTopicsRequest::default()
        .with_topics(topics)
        .with_timeout_ms(10_000)
        .with_validate_only(validate_only);
    conn.call(ApiKey::CreateTopics, 7, &req)
}

fn creatable(name: &str, partitions: i32, replication: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(topic(name))
        .with_num_partitions(partitions)
        .with_replication_factor(replication)
}

#[test]
fn api_versions_at_every_version_and_unsupported_version_gets_v0_with_error_35() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    for version in 0..=4 {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("test"))
            .with_client_software_version(StrBytes::from_static_str("1"));
        let resp: ApiVersionsResponse = conn.call(ApiKey::ApiVersions, version, &req);
        assert_eq!(resp.error_code, 0);
        let fetch = resp
            .api_keys
            .iter()
            .find(|k| k.api_key == ApiKey::Fetch as i16)
            .expect("Fetch advertised");
        assert!(fetch.max_version >= 11);
    }
    // A future ApiVersions version: v0 response, error 35, and the table.
    let correlation = conn.send_as(ApiKey::ApiVersions, 9, 4, &ApiVersionsRequest::default());
    let resp: ApiVersionsResponse = conn.recv(ApiKey::ApiVersions, 0, correlation);
    assert_eq!(resp.error_code, 35);
    assert!(resp
        .api_keys
        .iter()
        .any(|k| k.api_key == ApiKey::Produce as i16));
    // The connection is still usable afterwards.
    let resp: ApiVersionsResponse =
        conn.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default());
    assert_eq!(resp.error_code, 0);

    // Fetch v13 (topic ids) is decodable but not implemented: error 35 at v13.
    let correlation = conn.send(ApiKey::Fetch, 13, &fetch_request("t", 0, 0, 0));
    let resp: FetchResponse = conn.recv(ApiKey::Fetch, 13, correlation);
    assert_eq!(resp.error_code, 35);
}

#[test]
fn create_topics_validates_and_reports_kafka_error_codes() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    let resp = create(
        &mut conn,
        vec![
            creatable("good", 6, 1),
            creatable("bad/name", 1, 1),
            creatable("zero", 0, 1),
            creatable("replicated", 1, 3),
            creatable("defaults", -1, -1),
        ],
        false,
    );
    let codes: Vec<(String, i16)> = resp
        .topics
        .iter()
        .map(|t| (t.name.to_string(), t.error_code))
        .collect();
    assert_eq!(
        codes,
        [
            ("good".to_string(), 0),
            ("bad/name".to_string(), 17),
            ("zero".to_string(), 37),
            ("replicated".to_string(), 38),
            ("defaults".to_string(), 0),
        ]
    );
    assert_eq!(resp.topics[0].num_partitions, 6);
    assert!(resp.topics[1].error_message.is_some());

    let again = create(&mut conn, vec![creatable("good", 6, 1)], false);
    assert_eq!(again.topics[0].error_code, 36);

    let dry = create(&mut conn, vec![creatable("dry-run", 3, 1)], true);
    assert_eq!(dry.topics[0].error_code, 0);
    let meta: MetadataResponse = conn.call(
        ApiKey::Metadata,
        12,
        &MetadataRequest::default()
            .with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(topic("good"))),
                MetadataRequestTopic::default().with_name(Some(topic("dry-run"))),
            ]))
            .with_allow_auto_topic_creation(false),
    );
    assert_eq!(meta.topics[0].error_code, 0);
    assert_eq!(meta.topics[0].partitions.len(), 6);
    assert!(meta.topics[0]
        .partitions
        .iter()
        .all(|p| p.leader_id == BrokerId(0)));
    assert_eq!(
        meta.topics[1].error_code, 3,
        "validate_only created the topic"
    );
}

#[test]
fn metadata_auto_creates_only_when_allowed_and_names_this_broker() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    let ask = |name: &str, allow: bool| {
        MetadataRequest::default()
            .with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(topic(name)))
            ]))
            .with_allow_auto_topic_creation(allow)
    };
    let resp: MetadataResponse = conn.call(ApiKey::Metadata, 9, &ask("lazy", false));
    assert_eq!(resp.topics[0].error_code, 3);
    let resp: MetadataResponse = conn.call(ApiKey::Metadata, 9, &ask("lazy", true));
    assert_eq!(resp.topics[0].error_code, 0);
    assert_eq!(resp.topics[0].partitions.len(), 1);
    let (host, port) = broker.addr.rsplit_once(':').unwrap();
    assert_eq!(resp.brokers[0].host.as_str(), host);
    assert_eq!(resp.brokers[0].port.to_string(), port);
    assert_eq!(resp.controller_id, BrokerId(0));
    // v0: an empty topic list means all topics.
    let resp: MetadataResponse = conn.call(
        ApiKey::Metadata,
        0,
        &MetadataRequest::default().with_topics(Some(vec![])),
    );
    assert_eq!(resp.topics.len(), 1);
    // An invalid name is reported, not created.
    let resp: MetadataResponse = conn.call(ApiKey::Metadata, 9, &ask("no spaces", true));
    assert_eq!(resp.topics[0].error_code, 17);
}

#[test]
fn produce_fetch_list_offsets_and_out_of_range() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    create(&mut conn, vec![creatable("events", 2, 1)], false);
    assert_eq!(
        produce(&mut conn, "events", 1, batch(&["a", "b", "c"], 1_000)),
        (0, 0)
    );
    assert_eq!(
        produce(&mut conn, "events", 1, batch(&["d", "e"], 2_000)),
        (0, 3)
    );
    assert_eq!(produce(&mut conn, "nope", 7, batch(&["x"], 0)).0, 3);
    assert_eq!(produce(&mut conn, "events", 9, batch(&["x"], 0)).0, 3);
    // A corrupted batch (CRC mismatch) is refused with CORRUPT_MESSAGE.
    let mut bad = batch(&["corrupt"], 0).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    assert_eq!(produce(&mut conn, "events", 1, bad.into()).0, 2);

    let (code, hw, records) = fetch(&mut conn, "events", 1, 0, 0);
    assert_eq!((code, hw), (0, 5));
    let values: Vec<_> = records.iter().map(|(o, v)| format!("{o}:{v}")).collect();
    assert_eq!(values, ["0:a", "1:b", "2:c", "3:d", "4:e"]);
    // From the middle of a batch: the whole batch comes back (clients skip).
    let (_, _, records) = fetch(&mut conn, "events", 1, 4, 0);
    let values: Vec<_> = records.iter().map(|(o, v)| format!("{o}:{v}")).collect();
    assert_eq!(values, ["3:d", "4:e"]);
    assert_eq!(fetch(&mut conn, "events", 1, 99, 0).0, 1);
    assert_eq!(fetch(&mut conn, "ghost", 0, 0, 0).0, 3);

    let list = |ts: i64| {
        ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic("events"))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(1)
                    .with_timestamp(ts)])])
    };
    let mut offset_at = |ts: i64| -> (i16, i64, i64) {
        let resp: ListOffsetsResponse = conn.call(ApiKey::ListOffsets, 7, &list(ts));
        let p = &resp.topics[0].partitions[0];
        (p.error_code, p.offset, p.timestamp)
    };
    assert_eq!(offset_at(-2), (0, 0, -1));
    assert_eq!(offset_at(-1), (0, 5, -1));
    assert_eq!(offset_at(1_001), (0, 1, 1_001));
    assert_eq!(offset_at(1_500), (0, 3, 2_000));
    assert_eq!(offset_at(9_999), (0, -1, -1));
    assert_eq!(offset_at(-3), (0, 4, 2_001));
}

/// The log line the fetch handler writes (at debug level) when it parks.
const PARKED: &str = "fetch parked until data arrives or the wait ends";

/// With nothing to return, a fetch is answered no earlier than its max
/// wait. A fetch parked for data (known parked from the broker log before
/// anything is produced) is answered as soon as data arrives, long before
/// its max wait.
#[test]
fn fetch_long_polls_until_data_arrives_or_the_wait_ends() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start_with_env(
        &dir.path().join("data"),
        &[],
        &[(
            "CHRONIK_LOG",
            std::ffi::OsStr::new("info,chronik_broker::handlers::fetch=debug"),
        )],
    );
    let mut conn = KafkaConn::connect(&broker.addr);
    create(&mut conn, vec![creatable("poll", 1, 1)], false);

    // Nothing arrives: the fetch returns empty, and not before max_wait.
    let started = Instant::now();
    let (code, hw, records) = fetch(&mut conn, "poll", 0, 0, 300);
    let waited = started.elapsed();
    assert_eq!((code, hw, records.len()), (0, 0, 0));
    assert!(
        waited >= Duration::from_millis(300),
        "answered after {waited:?}"
    );

    // Data arrives while the fetch is parked: that fetch returns it.
    let parked_before = broker.log_count(PARKED);
    let max_wait_ms = 25_000;
    let correlation = conn.send(ApiKey::Fetch, 12, &fetch_request("poll", 0, 0, max_wait_ms));
    broker.wait_for_log(PARKED, parked_before, Duration::from_secs(20));
    let mut other = KafkaConn::connect(&broker.addr);
    let produced = Instant::now();
    assert_eq!(produce(&mut other, "poll", 0, batch(&["late"], 0)), (0, 0));
    let resp: FetchResponse = conn.recv(ApiKey::Fetch, 12, correlation);
    let took = produced.elapsed();
    let p = &resp.responses[0].partitions[0];
    assert_eq!((p.error_code, p.high_watermark), (0, 1));
    assert!(p.records.as_ref().is_some_and(|r| !r.is_empty()));
    // Far below the 25 s max wait, with room for a loaded machine.
    assert!(
        took < Duration::from_secs(10),
        "the parked fetch took {took:?} after the produce"
    );
}

#[test]
fn delete_topics_then_unknown() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    create(&mut conn, vec![creatable("doomed", 2, 1)], false);
    produce(&mut conn, "doomed", 0, batch(&["bye"], 0));
    let req = DeleteTopicsRequest::default()
        .with_topic_names(vec![topic("doomed"), topic("never-existed")])
        .with_timeout_ms(10_000);
    let resp: DeleteTopicsResponse = conn.call(ApiKey::DeleteTopics, 5, &req);
    let codes: Vec<i16> = resp.responses.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, [0, 3]);
    // v6: by name, and by an id we cannot know.
    let req = DeleteTopicsRequest::default()
        .with_topics(vec![
            DeleteTopicState::default().with_name(Some(topic("doomed"))),
            DeleteTopicState::default()
                .with_topic_id("00000000-0000-0000-0000-000000000007".parse().unwrap()),
        ])
        .with_timeout_ms(10_000);
    let resp: DeleteTopicsResponse = conn.call(ApiKey::DeleteTopics, 6, &req);
    let codes: Vec<i16> = resp.responses.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, [3, 100]);
    assert_eq!(fetch(&mut conn, "doomed", 0, 0, 0).0, 3);
}

#[test]
fn find_coordinator_single_and_batched() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    let (host, port) = broker.addr.rsplit_once(':').unwrap();
    for version in 0..=3 {
        let req = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("group-a"));
        let resp: FindCoordinatorResponse = conn.call(ApiKey::FindCoordinator, version, &req);
        assert_eq!(resp.error_code, 0, "v{version}");
        assert_eq!(
            (resp.host.as_str(), resp.port.to_string().as_str()),
            (host, port)
        );
    }
    let req = FindCoordinatorRequest::default().with_coordinator_keys(vec![
        StrBytes::from_static_str("g1"),
        StrBytes::from_static_str("g2"),
    ]);
    let resp: FindCoordinatorResponse = conn.call(ApiKey::FindCoordinator, 4, &req);
    let keys: Vec<(&str, i16, i32)> = resp
        .coordinators
        .iter()
        .map(|c| (c.key.as_str(), c.error_code, c.node_id.0))
        .collect();
    assert_eq!(keys, [("g1", 0, 0), ("g2", 0, 0)]);
}

#[test]
fn init_producer_id_allocates_distinct_ids_and_refuses_transactions() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    let a: InitProducerIdResponse = conn.call(
        ApiKey::InitProducerId,
        4,
        &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
    );
    let b: InitProducerIdResponse = conn.call(
        ApiKey::InitProducerId,
        2,
        &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
    );
    assert_eq!((a.error_code, b.error_code), (0, 0));
    assert!(a.producer_id.0 >= 0 && b.producer_id.0 >= 0);
    assert_ne!(a.producer_id, b.producer_id);
    let txn = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(StrBytes::from_static_str("tx-1"))))
        .with_transaction_timeout_ms(60_000);
    let resp: InitProducerIdResponse = conn.call(ApiKey::InitProducerId, 4, &txn);
    assert_eq!(resp.error_code, 53);
    assert_eq!(resp.producer_id.0, -1);
}

#[test]
fn acks_zero_gets_no_response_and_a_failure_closes_the_connection() {
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    create(&mut conn, vec![creatable("fire-and-forget", 1, 1)], false);
    let request = |partition: i32| {
        ProduceRequest::default()
            .with_acks(0)
            .with_timeout_ms(5_000)
            .with_topic_data(vec![produce_request::TopicProduceData::default()
                .with_name(topic("fire-and-forget"))
                .with_partition_data(vec![
                    produce_request::PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(batch(&["quiet"], 0))),
                ])])
    };
    conn.send(ApiKey::Produce, 9, &request(0));
    // No response to the produce: the next response is the metadata one
    // (recv checks the correlation id).
    let resp: MetadataResponse = conn.call(ApiKey::Metadata, 9, &MetadataRequest::default());
    assert_eq!(resp.brokers.len(), 1);
    assert_eq!(fetch(&mut conn, "fire-and-forget", 0, 0, 0).1, 1);
    // A failing acks=0 produce (no partition 5) closes the connection.
    conn.send(ApiKey::Produce, 9, &request(5));
    assert!(conn.is_closed_by_peer());
}

/// One connection pipelines acks=all produce requests: they are answered in
/// request order with consecutive offsets, and a request of another kind
/// sent among them (ListOffsets) is answered after every produce before it
/// and sees all of them in the log.
#[test]
fn pipelined_acks_all_produces_are_answered_in_order() {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    let (_dir, broker) = start();
    let mut conn = KafkaConn::connect(&broker.addr);
    create(&mut conn, vec![creatable("piped", 1, 1)], false);
    let produce_req = |i: usize| {
        ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(30_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic("piped"))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(batch(
                        &[&format!("a{i}"), &format!("b{i}")],
                        0,
                    )))])])
    };
    let list_req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic("piped"))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(-1)])]);
    // 30 produces, the ListOffsets, 30 more, all sent before any response
    // is read.
    let mut sent = Vec::new();
    for i in 0..30 {
        sent.push((Some(i), conn.send(ApiKey::Produce, 9, &produce_req(i))));
    }
    sent.push((None, conn.send(ApiKey::ListOffsets, 5, &list_req)));
    for i in 30..60 {
        sent.push((Some(i), conn.send(ApiKey::Produce, 9, &produce_req(i))));
    }
    // `recv` asserts each response carries the expected correlation id,
    // that is, responses come back in request order.
    for (i, correlation) in sent {
        match i {
            Some(i) => {
                let resp: ProduceResponse = conn.recv(ApiKey::Produce, 9, correlation);
                let p = &resp.responses[0].partition_responses[0];
                assert_eq!((p.error_code, p.base_offset), (0, 2 * i as i64));
            }
            None => {
                let resp: ListOffsetsResponse = conn.recv(ApiKey::ListOffsets, 5, correlation);
                let p = &resp.topics[0].partitions[0];
                assert_eq!(p.error_code, 0);
                assert!(
                    p.offset >= 60,
                    "ListOffsets ran before the produces sent before it"
                );
            }
        }
    }
    let (code, hw, records) = fetch(&mut conn, "piped", 0, 118, 0);
    assert_eq!((code, hw), (0, 120));
    assert_eq!(
        records,
        [(118, "a59".to_string()), (119, "b59".to_string())]
    );
}
