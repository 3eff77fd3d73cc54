//! Response encoding, and error responses for every supported request.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    create_topics_response::CreatableTopicResult,
    delete_topics_response::DeletableTopicResult,
    fetch_response::{FetchableTopicResponse, PartitionData},
    find_coordinator_response::Coordinator,
    list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse},
    offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic},
    offset_fetch_response::{
        OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
        OffsetFetchResponseTopic, OffsetFetchResponseTopics,
    },
    produce_request::{PartitionProduceData, TopicProduceData},
    produce_response::{PartitionProduceResponse, TopicProduceResponse},
    ApiKey, CreateTopicsResponse, DeleteTopicsResponse, FetchResponse, FindCoordinatorResponse,
    HeartbeatResponse, InitProducerIdResponse, JoinGroupResponse, LeaveGroupResponse,
    ListOffsetsResponse, MetadataResponse, OffsetCommitResponse, OffsetFetchResponse,
    ProduceRequest, ProduceResponse, RequestKind, ResponseHeader, ResponseKind, SyncGroupResponse,
};
use kafka_protocol::protocol::Encodable;
use kafka_protocol::ResponseError;

use crate::frame::LENGTH_PREFIX;
use crate::versions::api_versions_response;

/// A response could not be encoded at the requested version (for example a
/// field that version cannot carry was set).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode {api_key:?} v{api_version} response: {source:#}")]
pub struct EncodeError {
    /// The API.
    pub api_key: ApiKey,
    /// The version.
    pub api_version: i16,
    /// What the codec reported.
    #[source]
    pub source: anyhow::Error,
}

/// Encodes a complete response frame: length prefix, response header (of the
/// version `api_key`/`api_version` call for) and body.
pub fn encode_response(
    api_key: ApiKey,
    api_version: i16,
    correlation_id: i32,
    body: &ResponseKind,
) -> Result<Bytes, EncodeError> {
    let err = |source| EncodeError {
        api_key,
        api_version,
        source,
    };
    let mut buf = BytesMut::with_capacity(size_hint(body));
    buf.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut buf, api_key.response_header_version(api_version))
        .map_err(err)?;
    body.encode(&mut buf, api_version).map_err(err)?;
    let len = i32::try_from(buf.len() - LENGTH_PREFIX).map_err(|_| {
        err(anyhow::anyhow!(
            "response of {} bytes is too large",
            buf.len()
        ))
    })?;
    buf[..LENGTH_PREFIX].copy_from_slice(&len.to_be_bytes());
    Ok(buf.freeze())
}

/// A capacity that avoids regrowing the buffer (and re-copying record data)
/// while a large Fetch response is encoded.
fn size_hint(body: &ResponseKind) -> usize {
    match body {
        ResponseKind::Fetch(fetch) => {
            fetch
                .responses
                .iter()
                .flat_map(|t| &t.partitions)
                .map(|p| p.records.as_ref().map_or(0, Bytes::len) + 128)
                .sum::<usize>()
                + 256
        }
        _ => 256,
    }
}

/// The Produce response to `req`: one entry per topic and partition, in
/// request order, each partition's entry made by `partition`.
pub fn produce_response(
    req: &ProduceRequest,
    mut partition: impl FnMut(&TopicProduceData, &PartitionProduceData) -> PartitionProduceResponse,
) -> ProduceResponse {
    let responses = req
        .topic_data
        .iter()
        .map(|t| {
            TopicProduceResponse::default()
                .with_name(t.name.clone())
                .with_topic_id(t.topic_id)
                .with_partition_responses(
                    t.partition_data.iter().map(|p| partition(t, p)).collect(),
                )
        })
        .collect();
    ProduceResponse::default().with_responses(responses)
}

/// Partition `index`'s entry in a Produce response when it failed with
/// `error`: the offsets and append time are -1, as Kafka reports them.
pub fn produce_partition_error(index: i32, error: ResponseError) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(error.code())
        .with_base_offset(-1)
        .with_log_append_time_ms(-1)
        .with_log_start_offset(-1)
}

/// Builds the response to `request` in which every part fails with
/// `error`, the way Kafka answers a request it cannot serve (every
/// topic/partition/group named in the request gets the error).
///
/// `version` is the version the response will be encoded at: fields that
/// version cannot carry are left at their defaults (the codec rejects them
/// otherwise). Returns `None` for APIs outside [`crate::SUPPORTED_APIS`].
pub fn error_response(
    request: &RequestKind,
    version: i16,
    error: ResponseError,
) -> Option<ResponseKind> {
    let error_code = error.code();
    Some(match request {
        RequestKind::ApiVersions(_) => {
            ResponseKind::ApiVersions(api_versions_response(Some(error)))
        }
        RequestKind::Metadata(req) => {
            // Metadata has no top-level error before v13; report per topic.
            let topics = req
                .topics
                .iter()
                .flatten()
                .map(|t| {
                    kafka_protocol::messages::metadata_response::MetadataResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_error_code(error_code)
                })
                .collect();
            let mut resp = MetadataResponse::default().with_topics(topics);
            if version >= 13 {
                resp.error_code = error_code;
            }
            ResponseKind::Metadata(resp)
        }
        RequestKind::Produce(req) => ResponseKind::Produce(produce_response(req, |_, p| {
            produce_partition_error(p.index, error)
        })),
        RequestKind::Fetch(req) => {
            let responses = req
                .topics
                .iter()
                .map(|t| {
                    FetchableTopicResponse::default()
                        .with_topic(t.topic.clone())
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    PartitionData::default()
                                        .with_partition_index(p.partition)
                                        .with_error_code(error_code)
                                        .with_high_watermark(-1)
                                        .with_last_stable_offset(-1)
                                        .with_log_start_offset(-1)
                                })
                                .collect(),
                        )
                })
                .collect();
            let mut resp = FetchResponse::default().with_responses(responses);
            if version >= 7 {
                resp.error_code = error_code;
            }
            ResponseKind::Fetch(resp)
        }
        RequestKind::ListOffsets(req) => {
            let topics = req
                .topics
                .iter()
                .map(|t| {
                    ListOffsetsTopicResponse::default()
                        .with_name(t.name.clone())
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    ListOffsetsPartitionResponse::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(error_code)
                                        .with_timestamp(-1)
                                        .with_offset(-1)
                                })
                                .collect(),
                        )
                })
                .collect();
            ResponseKind::ListOffsets(ListOffsetsResponse::default().with_topics(topics))
        }
        RequestKind::CreateTopics(req) => {
            let topics = req
                .topics
                .iter()
                .map(|t| {
                    CreatableTopicResult::default()
                        .with_name(t.name.clone())
                        .with_error_code(error_code)
                        .with_num_partitions(-1)
                        .with_replication_factor(-1)
                })
                .collect();
            ResponseKind::CreateTopics(CreateTopicsResponse::default().with_topics(topics))
        }
        RequestKind::DeleteTopics(req) => {
            let by_name = req.topic_names.iter().map(|n| {
                DeletableTopicResult::default()
                    .with_name(Some(n.clone()))
                    .with_error_code(error_code)
            });
            let by_state = req.topics.iter().map(|t| {
                DeletableTopicResult::default()
                    .with_name(t.name.clone())
                    .with_topic_id(t.topic_id)
                    .with_error_code(error_code)
            });
            ResponseKind::DeleteTopics(
                DeleteTopicsResponse::default().with_responses(by_name.chain(by_state).collect()),
            )
        }
        RequestKind::FindCoordinator(req) => {
            let coordinators = req
                .coordinator_keys
                .iter()
                .map(|k| {
                    Coordinator::default()
                        .with_key(k.clone())
                        .with_node_id((-1).into())
                        .with_port(-1)
                        .with_error_code(error_code)
                })
                .collect();
            // v4 moved everything into the batched `coordinators` array.
            ResponseKind::FindCoordinator(if version >= 4 {
                FindCoordinatorResponse::default().with_coordinators(coordinators)
            } else {
                FindCoordinatorResponse::default()
                    .with_error_code(error_code)
                    .with_node_id((-1).into())
                    .with_port(-1)
            })
        }
        RequestKind::InitProducerId(_) => ResponseKind::InitProducerId(
            InitProducerIdResponse::default()
                .with_error_code(error_code)
                .with_producer_id((-1).into())
                .with_producer_epoch(-1),
        ),
        RequestKind::JoinGroup(_) => ResponseKind::JoinGroup(
            JoinGroupResponse::default()
                .with_error_code(error_code)
                .with_generation_id(-1),
        ),
        RequestKind::SyncGroup(_) => {
            ResponseKind::SyncGroup(SyncGroupResponse::default().with_error_code(error_code))
        }
        RequestKind::Heartbeat(_) => {
            ResponseKind::Heartbeat(HeartbeatResponse::default().with_error_code(error_code))
        }
        RequestKind::LeaveGroup(_) => {
            ResponseKind::LeaveGroup(LeaveGroupResponse::default().with_error_code(error_code))
        }
        RequestKind::OffsetCommit(req) => {
            let topics = req
                .topics
                .iter()
                .map(|t| {
                    OffsetCommitResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    OffsetCommitResponsePartition::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(error_code)
                                })
                                .collect(),
                        )
                })
                .collect();
            ResponseKind::OffsetCommit(OffsetCommitResponse::default().with_topics(topics))
        }
        RequestKind::OffsetFetch(req) => {
            let topics = req
                .topics
                .iter()
                .flatten()
                .map(|t| {
                    OffsetFetchResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_partitions(
                            t.partition_indexes
                                .iter()
                                .map(|&p| {
                                    OffsetFetchResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_committed_offset(-1)
                                        .with_error_code(error_code)
                                })
                                .collect(),
                        )
                })
                .collect();
            let groups = req
                .groups
                .iter()
                .map(|g| {
                    let topics = g
                        .topics
                        .iter()
                        .flatten()
                        .map(|t| {
                            OffsetFetchResponseTopics::default()
                                .with_name(t.name.clone())
                                .with_topic_id(t.topic_id)
                                .with_partitions(
                                    t.partition_indexes
                                        .iter()
                                        .map(|&p| {
                                            OffsetFetchResponsePartitions::default()
                                                .with_partition_index(p)
                                                .with_committed_offset(-1)
                                                .with_error_code(error_code)
                                        })
                                        .collect(),
                                )
                        })
                        .collect();
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_topics(topics)
                        .with_error_code(error_code)
                })
                .collect();
            // v8 batched groups; before that one group and a top-level error (v2+).
            ResponseKind::OffsetFetch(if version >= 8 {
                OffsetFetchResponse::default().with_groups(groups)
            } else {
                let mut resp = OffsetFetchResponse::default().with_topics(topics);
                if version >= 2 {
                    resp.error_code = error_code;
                }
                resp
            })
        }
        RequestKind::DescribeGroups(req) => {
            let groups = req
                .groups
                .iter()
                .map(|g| {
                    kafka_protocol::messages::describe_groups_response::DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(error_code)
                })
                .collect();
            ResponseKind::DescribeGroups(
                kafka_protocol::messages::DescribeGroupsResponse::default().with_groups(groups),
            )
        }
        RequestKind::ListGroups(_) => ResponseKind::ListGroups(
            kafka_protocol::messages::ListGroupsResponse::default().with_error_code(error_code),
        ),
        RequestKind::SaslHandshake(_) => ResponseKind::SaslHandshake(
            kafka_protocol::messages::SaslHandshakeResponse::default().with_error_code(error_code),
        ),
        RequestKind::SaslAuthenticate(_) => ResponseKind::SaslAuthenticate(
            kafka_protocol::messages::SaslAuthenticateResponse::default()
                .with_error_code(error_code),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::SUPPORTED_APIS;
    use bytes::Buf;
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::Decodable;

    fn default_request(key: ApiKey) -> RequestKind {
        match key {
            ApiKey::Produce => RequestKind::Produce(ProduceRequest::default()),
            ApiKey::Fetch => RequestKind::Fetch(FetchRequest::default()),
            ApiKey::ListOffsets => RequestKind::ListOffsets(ListOffsetsRequest::default()),
            ApiKey::Metadata => RequestKind::Metadata(MetadataRequest::default()),
            ApiKey::OffsetCommit => RequestKind::OffsetCommit(OffsetCommitRequest::default()),
            ApiKey::OffsetFetch => RequestKind::OffsetFetch(OffsetFetchRequest::default()),
            ApiKey::FindCoordinator => {
                RequestKind::FindCoordinator(FindCoordinatorRequest::default())
            }
            ApiKey::JoinGroup => RequestKind::JoinGroup(JoinGroupRequest::default()),
            ApiKey::Heartbeat => RequestKind::Heartbeat(HeartbeatRequest::default()),
            ApiKey::LeaveGroup => RequestKind::LeaveGroup(LeaveGroupRequest::default()),
            ApiKey::SyncGroup => RequestKind::SyncGroup(SyncGroupRequest::default()),
            ApiKey::ApiVersions => RequestKind::ApiVersions(ApiVersionsRequest::default()),
            ApiKey::CreateTopics => RequestKind::CreateTopics(CreateTopicsRequest::default()),
            ApiKey::DeleteTopics => RequestKind::DeleteTopics(DeleteTopicsRequest::default()),
            ApiKey::InitProducerId => RequestKind::InitProducerId(InitProducerIdRequest::default()),
            ApiKey::DescribeGroups => RequestKind::DescribeGroups(DescribeGroupsRequest::default()),
            ApiKey::ListGroups => RequestKind::ListGroups(ListGroupsRequest::default()),
            ApiKey::SaslHandshake => RequestKind::SaslHandshake(SaslHandshakeRequest::default()),
            ApiKey::SaslAuthenticate => {
                RequestKind::SaslAuthenticate(SaslAuthenticateRequest::default())
            }
            other => panic!("add {other:?} to the test"),
        }
    }

    #[test]
    fn every_supported_api_has_an_error_response_encodable_at_every_version() {
        for api in SUPPORTED_APIS {
            for version in api.min..=api.max {
                let body = error_response(
                    &default_request(api.key),
                    version,
                    ResponseError::UnsupportedVersion,
                )
                .unwrap_or_else(|| panic!("{:?} lacks an error response", api.key));
                let mut frame =
                    encode_response(api.key, version, 11, &body).unwrap_or_else(|e| panic!("{e}"));
                let len = frame.get_i32();
                assert_eq!(len as usize, frame.len());
                let header =
                    ResponseHeader::decode(&mut frame, api.key.response_header_version(version))
                        .unwrap();
                assert_eq!(header.correlation_id, 11);
            }
        }
    }

    #[test]
    fn produce_error_response_names_every_partition() {
        let req = ProduceRequest::default().with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(
                kafka_protocol::protocol::StrBytes::from_static_str("t"),
            ))
            .with_partition_data(vec![
                PartitionProduceData::default().with_index(0),
                PartitionProduceData::default().with_index(3),
            ])]);
        let Some(ResponseKind::Produce(resp)) = error_response(
            &RequestKind::Produce(req),
            9,
            ResponseError::UnknownTopicOrPartition,
        ) else {
            panic!()
        };
        let parts = &resp.responses[0].partition_responses;
        assert_eq!(parts.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 3]);
        assert!(parts.iter().all(|p| p.error_code == 3));
    }
}
