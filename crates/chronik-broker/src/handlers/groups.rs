//! Consumer group APIs, answered by the group coordinator (crate
//! `chronik-coordinator`), which owns the group state machine and the
//! committed-offsets log under `<data-dir>/groups`.
//!
//! JoinGroup and SyncGroup may wait for other members (bounded by the
//! members' rebalance timeout); the connection task simply awaits them.

use chronik_coordinator::ClientInfo;
use kafka_protocol::messages::*;

use crate::broker::Broker;

/// JoinGroup. The client id (from the request header) prefixes the member
/// id and is shown by DescribeGroups.
pub async fn join_group(
    broker: &Broker,
    req: JoinGroupRequest,
    version: i16,
    client_id: &str,
) -> JoinGroupResponse {
    let client = ClientInfo {
        client_id: client_id.to_string(),
        ..ClientInfo::default()
    };
    broker.groups.join_group_from(req, version, &client).await
}

/// SyncGroup.
pub async fn sync_group(broker: &Broker, req: SyncGroupRequest, version: i16) -> SyncGroupResponse {
    broker.groups.sync_group(req, version).await
}

/// Heartbeat.
pub async fn heartbeat(broker: &Broker, req: HeartbeatRequest, version: i16) -> HeartbeatResponse {
    broker.groups.heartbeat(req, version).await
}

/// LeaveGroup.
pub async fn leave_group(
    broker: &Broker,
    req: LeaveGroupRequest,
    version: i16,
) -> LeaveGroupResponse {
    broker.groups.leave_group(req, version).await
}

/// OffsetCommit.
pub async fn offset_commit(
    broker: &Broker,
    req: OffsetCommitRequest,
    version: i16,
) -> OffsetCommitResponse {
    broker.groups.offset_commit(req, version).await
}

/// OffsetFetch.
pub async fn offset_fetch(
    broker: &Broker,
    req: OffsetFetchRequest,
    version: i16,
) -> OffsetFetchResponse {
    broker.groups.offset_fetch(req, version).await
}

/// DescribeGroups.
pub async fn describe_groups(
    broker: &Broker,
    req: DescribeGroupsRequest,
    version: i16,
) -> DescribeGroupsResponse {
    broker.groups.describe_groups(req, version).await
}

/// ListGroups.
pub async fn list_groups(
    broker: &Broker,
    req: ListGroupsRequest,
    version: i16,
) -> ListGroupsResponse {
    broker.groups.list_groups(req, version).await
}
