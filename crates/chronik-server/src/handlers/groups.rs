//! Consumer group APIs. The coordinator (crate `chronik-coordinator`) is
//! wired in here; until then every group request is answered with
//! COORDINATOR_NOT_AVAILABLE (15), which clients retry.

use kafka_protocol::messages::*;

use crate::broker::{codes, Broker};

/// JoinGroup.
pub async fn join_group(
    _broker: &Broker,
    _req: JoinGroupRequest,
    _version: i16,
) -> JoinGroupResponse {
    JoinGroupResponse::default()
        .with_error_code(codes::COORDINATOR_NOT_AVAILABLE)
        .with_generation_id(-1)
}

/// SyncGroup.
pub async fn sync_group(
    _broker: &Broker,
    _req: SyncGroupRequest,
    _version: i16,
) -> SyncGroupResponse {
    SyncGroupResponse::default().with_error_code(codes::COORDINATOR_NOT_AVAILABLE)
}

/// Heartbeat.
pub async fn heartbeat(
    _broker: &Broker,
    _req: HeartbeatRequest,
    _version: i16,
) -> HeartbeatResponse {
    HeartbeatResponse::default().with_error_code(codes::COORDINATOR_NOT_AVAILABLE)
}

/// LeaveGroup.
pub async fn leave_group(
    _broker: &Broker,
    _req: LeaveGroupRequest,
    _version: i16,
) -> LeaveGroupResponse {
    LeaveGroupResponse::default().with_error_code(codes::COORDINATOR_NOT_AVAILABLE)
}

/// OffsetCommit.
pub async fn offset_commit(
    _broker: &Broker,
    req: OffsetCommitRequest,
    version: i16,
) -> OffsetCommitResponse {
    match chronik_protocol::error_response(
        &RequestKind::OffsetCommit(req),
        version,
        codes::COORDINATOR_NOT_AVAILABLE,
    ) {
        Some(ResponseKind::OffsetCommit(r)) => r,
        _ => OffsetCommitResponse::default(),
    }
}

/// OffsetFetch.
pub async fn offset_fetch(
    _broker: &Broker,
    req: OffsetFetchRequest,
    version: i16,
) -> OffsetFetchResponse {
    match chronik_protocol::error_response(
        &RequestKind::OffsetFetch(req),
        version,
        codes::COORDINATOR_NOT_AVAILABLE,
    ) {
        Some(ResponseKind::OffsetFetch(r)) => r,
        _ => OffsetFetchResponse::default(),
    }
}

/// DescribeGroups.
pub async fn describe_groups(
    _broker: &Broker,
    req: DescribeGroupsRequest,
    version: i16,
) -> DescribeGroupsResponse {
    match chronik_protocol::error_response(
        &RequestKind::DescribeGroups(req),
        version,
        codes::COORDINATOR_NOT_AVAILABLE,
    ) {
        Some(ResponseKind::DescribeGroups(r)) => r,
        _ => DescribeGroupsResponse::default(),
    }
}

/// ListGroups.
pub async fn list_groups(
    _broker: &Broker,
    _req: ListGroupsRequest,
    _version: i16,
) -> ListGroupsResponse {
    ListGroupsResponse::default().with_error_code(codes::COORDINATOR_NOT_AVAILABLE)
}
