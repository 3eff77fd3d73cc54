//! Every supported API at every advertised version gets a well-formed
//! response of that version: a handler that set a field the version cannot
//! carry would make the encoder fail and the connection close.

mod common;

use common::kafka::{batch, topic};
use common::{KafkaConn, TestBroker};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

fn versions(key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let range = chronik_protocol::supported_versions(key).expect("supported");
    range.min..=range.max
}

fn sweep<Req: Encodable, Resp: Decodable>(
    conn: &mut KafkaConn,
    key: ApiKey,
    mut make: impl FnMut(i16) -> Req,
) -> Vec<Resp> {
    versions(key)
        .map(|v| {
            let correlation = conn.send(key, v, &make(v));
            conn.recv::<Resp>(key, v, correlation)
        })
        .collect()
}

#[test]
fn every_api_answers_at_every_advertised_version() {
    let dir = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&dir.path().join("data"), &[]);
    let mut conn = KafkaConn::connect(&broker.addr);

    let created: Vec<CreateTopicsResponse> = sweep(&mut conn, ApiKey::CreateTopics, |v| {
        CreateTopicsRequest::default()
            .with_timeout_ms(5_000)
            .with_topics(vec![
                CreatableTopic::default()
                    .with_name(topic(&format!("sweep-{v}")))
                    .with_num_partitions(2)
                    .with_replication_factor(1),
                // An error result, to cover error fields too.
                CreatableTopic::default()
                    .with_name(topic("bad name"))
                    .with_num_partitions(1)
                    .with_replication_factor(1),
            ])
    });
    assert!(created
        .iter()
        .all(|r| r.topics[0].error_code == 0 && r.topics[1].error_code == 17));

    let _: Vec<ApiVersionsResponse> = sweep(&mut conn, ApiKey::ApiVersions, |v| {
        if v >= 3 {
            ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("sweep"))
                .with_client_software_version(StrBytes::from_static_str("1"))
        } else {
            ApiVersionsRequest::default()
        }
    });
    let metadata: Vec<MetadataResponse> = sweep(&mut conn, ApiKey::Metadata, |_| {
        MetadataRequest::default().with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic("sweep-2"))),
            MetadataRequestTopic::default().with_name(Some(topic("missing"))),
        ]))
    });
    assert!(metadata
        .iter()
        .all(|m| m.topics.len() == 2 && m.topics[0].partitions.len() == 2));

    let produced: Vec<ProduceResponse> = sweep(&mut conn, ApiKey::Produce, |_| {
        ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(5_000)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(topic("sweep-2"))
                    .with_partition_data(vec![PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch(&["x", "y"], 1_000)))]),
                TopicProduceData::default()
                    .with_name(topic("bad name"))
                    .with_partition_data(vec![PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch(&["x"], 1_000)))]),
            ])
    });
    assert!(produced
        .iter()
        .all(|r| r.responses[0].partition_responses[0].error_code == 0));
    assert!(produced
        .iter()
        .all(|r| r.responses[1].partition_responses[0].error_code != 0));

    let fetched: Vec<FetchResponse> = sweep(&mut conn, ApiKey::Fetch, |_| {
        FetchRequest::default()
            .with_max_wait_ms(0)
            .with_max_bytes(1 << 20)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic("sweep-2"))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_partition_max_bytes(1 << 20),
                    FetchPartition::default()
                        .with_partition(1)
                        .with_fetch_offset(99)
                        .with_partition_max_bytes(1 << 20),
                    FetchPartition::default()
                        .with_partition(7)
                        .with_partition_max_bytes(1 << 20),
                ])])
    });
    for f in &fetched {
        let codes: Vec<i16> = f.responses[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(codes, [0, 1, 3]);
        assert!(f.responses[0].partitions[0]
            .records
            .as_ref()
            .is_some_and(|r| !r.is_empty()));
    }

    let _: Vec<ListOffsetsResponse> = sweep(&mut conn, ApiKey::ListOffsets, |_| {
        ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(topic("sweep-2"))
                .with_partitions(vec![
                    ListOffsetsPartition::default()
                        .with_partition_index(0)
                        .with_timestamp(-1),
                    ListOffsetsPartition::default()
                        .with_partition_index(0)
                        .with_timestamp(1_000),
                    ListOffsetsPartition::default()
                        .with_partition_index(9)
                        .with_timestamp(-2),
                ])])
    });
    let coordinators: Vec<FindCoordinatorResponse> =
        sweep(&mut conn, ApiKey::FindCoordinator, |v| {
            if v >= 4 {
                FindCoordinatorRequest::default()
                    .with_coordinator_keys(vec![StrBytes::from_static_str("g")])
            } else {
                FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("g"))
            }
        });
    assert!(coordinators
        .iter()
        .all(|c| c.error_code == 0 && c.coordinators.iter().all(|k| k.error_code == 0)));
    let pids: Vec<InitProducerIdResponse> = sweep(&mut conn, ApiKey::InitProducerId, |_| {
        InitProducerIdRequest::default().with_transaction_timeout_ms(1_000)
    });
    assert!(pids.iter().all(|p| p.error_code == 0));
    let _: Vec<ListGroupsResponse> = sweep(&mut conn, ApiKey::ListGroups, |_| {
        ListGroupsRequest::default()
    });
    let _: Vec<DeleteTopicsResponse> = sweep(&mut conn, ApiKey::DeleteTopics, |v| {
        let name = topic(&format!("sweep-{v}"));
        if v >= 6 {
            DeleteTopicsRequest::default()
                .with_timeout_ms(5_000)
                .with_topics(vec![
                    delete_topics_request::DeleteTopicState::default().with_name(Some(name))
                ])
        } else {
            DeleteTopicsRequest::default()
                .with_timeout_ms(5_000)
                .with_topic_names(vec![name, topic("missing")])
        }
    });
}
