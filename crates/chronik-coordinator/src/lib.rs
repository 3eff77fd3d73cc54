//! Consumer group coordinator for Chronik Stream.
//!
//! Implements Kafka's classic group membership protocol (JoinGroup,
//! SyncGroup, Heartbeat, LeaveGroup) and durable committed offsets
//! (OffsetCommit, OffsetFetch) for a single broker that coordinates every
//! group, plus DescribeGroups and ListGroups. Methods take the decoded
//! `kafka-protocol` request and its API version and return the response to
//! encode at that same version.
//!
//! # Supported versions
//!
//! JoinGroup 0-9, SyncGroup 0-5, Heartbeat 0-4, LeaveGroup 0-5,
//! OffsetCommit 2-9, OffsetFetch 1-9 (v8+ multi-group form included),
//! DescribeGroups 0-5, ListGroups 0-5. OffsetCommit v0-1 and OffsetFetch v0
//! are not decodable by `kafka-protocol` 0.18 and no current client needs
//! them. The broker advertises exactly these ranges (its table is
//! `chronik_protocol::versions::SUPPORTED_APIS`).
//!
//! # Behaviour and limits
//!
//! - Group membership lives in memory: after a broker restart members get
//!   UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION and rejoin, as after a
//!   coordinator failover in Kafka. Committed offsets are durable (see
//!   below).
//! - Static membership (`group.instance.id`) is accepted and fenced
//!   (FENCED_INSTANCE_ID), but a restarting static member triggers a
//!   rebalance like a dynamic one (no KIP-345 rebalance avoidance).
//! - No `group.initial.rebalance.delay.ms`: the first member to join an
//!   empty group completes a rebalance at once; later members trigger
//!   another.
//! - Offsets never expire (`retention_time_ms` is ignored); offsets of
//!   topics that do not exist are stored like any other.
//! - The KIP-848 consumer protocol (ConsumerGroupHeartbeat) is not
//!   implemented; clients use the classic protocol.
//!
//! # Durability
//!
//! Committed offsets are appended to `offsets.log` in the directory given to
//! [`GroupCoordinator::open`], one CRC-checked record per OffsetCommit
//! request, fsynced before the response when [`CoordinatorConfig::fsync`]
//! is set (the default). The log is replayed at open and compacted when it
//! is mostly superseded records. The broker opens it in `<data-dir>/groups`,
//! under the data directory's lock, so one process owns the log.

mod group;
mod offset_requests;
mod offsets;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use chronik_common::Result;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DescribeGroupsRequest, DescribeGroupsResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, SyncGroupRequest, SyncGroupResponse,
};
use tokio::sync::oneshot;
use tokio::time::Instant;

pub use group::GroupState;
use group::{join_error, str_bytes, sync_error, Group, JoinParams, SyncParams};
pub use offsets::{CommittedOffset, GroupOffsets};

/// Coordinator settings. The defaults follow Kafka's broker defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorConfig {
    /// Smallest session timeout a member may ask for
    /// (Kafka: `group.min.session.timeout.ms`, 6 s).
    pub min_session_timeout: Duration,
    /// Largest session timeout a member may ask for
    /// (Kafka: `group.max.session.timeout.ms`, 30 min).
    pub max_session_timeout: Duration,
    /// Longest metadata string stored with an offset
    /// (Kafka: `offset.metadata.max.bytes`, 4096).
    pub max_metadata_bytes: usize,
    /// fsync the offsets log before acknowledging a commit.
    pub fsync: bool,
    /// Compact the offsets log once it holds this many records (and more
    /// than twice the number of groups).
    pub compact_after_records: u64,
    /// How often session and rebalance timeouts are checked.
    pub tick: Duration,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        CoordinatorConfig {
            min_session_timeout: Duration::from_secs(6),
            max_session_timeout: Duration::from_secs(30 * 60),
            max_metadata_bytes: 4096,
            fsync: true,
            compact_after_records: 10_000,
            tick: Duration::from_millis(100),
        }
    }
}

/// Who sent a JoinGroup: shown by DescribeGroups and used as the prefix of
/// generated member ids, as Kafka does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client id from the request header.
    pub client_id: String,
    /// The client's address, e.g. `/127.0.0.1`.
    pub client_host: String,
}

/// A snapshot of one group, for monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// The group id.
    pub group_id: String,
    /// Current state.
    pub state: GroupState,
    /// Current generation (0 before the first rebalance).
    pub generation: i32,
    /// Protocol type, usually `consumer`; empty for groups that only store
    /// offsets.
    pub protocol_type: String,
    /// The assignor chosen for the current generation.
    pub protocol: Option<String>,
    /// Number of members.
    pub members: usize,
}

/// The consumer group coordinator. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct GroupCoordinator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GroupCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCoordinator")
            .field("config", &self.inner.config)
            .field("active_groups", &lock(&self.inner.groups).len())
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: CoordinatorConfig,
    groups: Mutex<HashMap<String, Group>>,
    offsets: offsets::OffsetStore,
    ticker_started: AtomicBool,
    /// Set by [`GroupCoordinator::shutdown`]: membership requests are turned
    /// away so clients move on to the next coordinator (the restarted broker).
    closing: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GroupCoordinator {
    /// Opens the coordinator, replaying committed offsets from `dir` (which
    /// is created if missing and should be used by nothing else).
    ///
    /// Timeouts are enforced by a background task started on the first
    /// request, so the coordinator must be used inside a tokio runtime.
    pub fn open(dir: &Path, config: CoordinatorConfig) -> Result<Self> {
        let offsets = offsets::OffsetStore::open(dir, config.fsync, config.compact_after_records)?;
        Ok(GroupCoordinator {
            inner: Arc::new(Inner {
                config,
                groups: Mutex::new(HashMap::new()),
                offsets,
                ticker_started: AtomicBool::new(false),
                closing: AtomicBool::new(false),
            }),
        })
    }

    fn ensure_ticker(&self) {
        if self.inner.ticker_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let period = self.inner.config.tick.max(Duration::from_millis(1));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                inner.tick(Instant::now());
            }
        });
    }

    /// Handles JoinGroup. Waits while the group rebalances (bounded by the
    /// members' rebalance timeout).
    pub async fn join_group(&self, req: JoinGroupRequest, version: i16) -> JoinGroupResponse {
        self.join_group_from(req, version, &ClientInfo::default())
            .await
    }

    /// [`join_group`](Self::join_group) with the client's id and address.
    pub async fn join_group_from(
        &self,
        req: JoinGroupRequest,
        version: i16,
        client: &ClientInfo,
    ) -> JoinGroupResponse {
        if !(0..=9).contains(&version) {
            return join_error(
                version.clamp(0, 9),
                ResponseError::UnsupportedVersion.code(),
                "",
            );
        }
        self.ensure_ticker();
        let cfg = &self.inner.config;
        if req.group_id.is_empty() {
            return join_error(version, ResponseError::InvalidGroupId.code(), "");
        }
        let session = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        if session < cfg.min_session_timeout || session > cfg.max_session_timeout {
            return join_error(version, ResponseError::InvalidSessionTimeout.code(), "");
        }
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        let rebalance = if version >= 1 && req.rebalance_timeout_ms > 0 {
            Duration::from_millis(req.rebalance_timeout_ms as u64)
        } else {
            session
        };
        let params = JoinParams {
            member_id: req.member_id.to_string(),
            instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
            client_id: client.client_id.clone(),
            client_host: client.client_host.clone(),
            session_timeout: session,
            rebalance_timeout: rebalance,
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .iter()
                .map(|p| (p.name.to_string(), p.metadata.clone()))
                .collect(),
            version,
        };
        let (tx, rx) = oneshot::channel();
        {
            let mut groups = lock(&self.inner.groups);
            if self.inner.closing.load(Ordering::Acquire) {
                return join_error(version, ResponseError::NotCoordinator.code(), "");
            }
            let group = groups
                .entry(req.group_id.to_string())
                .or_insert_with(|| Group::new(&req.group_id));
            group.join(params, tx, Instant::now());
        }
        // Every path answers or parks the sender; a dropped sender means the
        // group state was torn down under us.
        rx.await
            .unwrap_or_else(|_| join_error(version, ResponseError::RebalanceInProgress.code(), ""))
    }

    /// Handles SyncGroup. A follower waits for the leader's assignment.
    pub async fn sync_group(&self, req: SyncGroupRequest, version: i16) -> SyncGroupResponse {
        if !(0..=5).contains(&version) {
            return sync_error(ResponseError::UnsupportedVersion.code());
        }
        self.ensure_ticker();
        if req.group_id.is_empty() {
            return sync_error(ResponseError::InvalidGroupId.code());
        }
        let params = SyncParams {
            member_id: req.member_id.to_string(),
            instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
            generation: req.generation_id,
            protocol_type: req.protocol_type.as_ref().map(|s| s.to_string()),
            protocol_name: req.protocol_name.as_ref().map(|s| s.to_string()),
            assignments: req
                .assignments
                .iter()
                .map(|a| (a.member_id.to_string(), a.assignment.clone()))
                .collect(),
            version,
        };
        let (tx, rx) = oneshot::channel();
        {
            let mut groups = lock(&self.inner.groups);
            if self.inner.closing.load(Ordering::Acquire) {
                return sync_error(ResponseError::NotCoordinator.code());
            }
            match groups.get_mut(req.group_id.as_str()) {
                Some(group) => group.sync(params, tx, Instant::now()),
                None => return sync_error(ResponseError::UnknownMemberId.code()),
            }
        }
        rx.await
            .unwrap_or_else(|_| sync_error(ResponseError::RebalanceInProgress.code()))
    }

    /// Handles Heartbeat.
    pub async fn heartbeat(&self, req: HeartbeatRequest, version: i16) -> HeartbeatResponse {
        self.ensure_ticker();
        let mut r = HeartbeatResponse::default();
        r.error_code = if !(0..=4).contains(&version) {
            ResponseError::UnsupportedVersion.code()
        } else if req.group_id.is_empty() {
            ResponseError::InvalidGroupId.code()
        } else {
            let mut groups = lock(&self.inner.groups);
            match groups.get_mut(req.group_id.as_str()) {
                Some(g) => g.heartbeat(
                    &req.member_id,
                    req.group_instance_id.as_deref(),
                    req.generation_id,
                    Instant::now(),
                ),
                None => ResponseError::UnknownMemberId.code(),
            }
        };
        r
    }

    /// Handles LeaveGroup: v0-2 name one member, v3+ a batch.
    pub async fn leave_group(&self, req: LeaveGroupRequest, version: i16) -> LeaveGroupResponse {
        self.ensure_ticker();
        let mut r = LeaveGroupResponse::default();
        if !(0..=5).contains(&version) {
            r.error_code = ResponseError::UnsupportedVersion.code();
            return r;
        }
        if req.group_id.is_empty() {
            r.error_code = ResponseError::InvalidGroupId.code();
            return r;
        }
        let leaving: Vec<(String, Option<String>)> = if version >= 3 {
            req.members
                .iter()
                .map(|m| {
                    (
                        m.member_id.to_string(),
                        m.group_instance_id.as_ref().map(|s| s.to_string()),
                    )
                })
                .collect()
        } else {
            vec![(req.member_id.to_string(), None)]
        };
        let results: Vec<(String, Option<String>, i16)> = {
            let mut groups = lock(&self.inner.groups);
            let now = Instant::now();
            let group = groups.get_mut(req.group_id.as_str());
            match group {
                Some(g) => leaving
                    .into_iter()
                    .map(|(m, i)| {
                        let code = g.leave(&m, i.as_deref(), now);
                        (m, i, code)
                    })
                    .collect(),
                None => leaving
                    .into_iter()
                    .map(|(m, i)| (m, i, ResponseError::UnknownMemberId.code()))
                    .collect(),
            }
        };
        if version >= 3 {
            r.members = results
                .into_iter()
                .map(|(m, i, code)| {
                    let mut mr = MemberResponse::default();
                    mr.member_id = str_bytes(&m);
                    mr.group_instance_id = i.as_deref().map(str_bytes);
                    mr.error_code = code;
                    mr
                })
                .collect();
        } else {
            r.error_code = results.first().map(|(_, _, c)| *c).unwrap_or(0);
        }
        r
    }

    /// Handles DescribeGroups. Unknown groups are reported as `Dead`, as
    /// Kafka does.
    pub async fn describe_groups(
        &self,
        req: DescribeGroupsRequest,
        version: i16,
    ) -> DescribeGroupsResponse {
        self.ensure_ticker();
        let mut r = DescribeGroupsResponse::default();
        let groups = lock(&self.inner.groups);
        r.groups = req
            .groups
            .iter()
            .map(|id| {
                let mut d = DescribedGroup::default();
                d.group_id = id.clone();
                if !(0..=5).contains(&version) {
                    d.error_code = ResponseError::UnsupportedVersion.code();
                    return d;
                }
                if id.is_empty() {
                    d.error_code = ResponseError::InvalidGroupId.code();
                    return d;
                }
                match groups.get(id.as_str()) {
                    Some(g) => {
                        d.group_state = str_bytes(g.state.as_str());
                        d.protocol_type = str_bytes(g.protocol_type.as_deref().unwrap_or(""));
                        let stable = g.state == GroupState::Stable;
                        let protocol = g.protocol.clone().unwrap_or_default();
                        if stable {
                            d.protocol_data = str_bytes(&protocol);
                        }
                        d.members = g
                            .members
                            .values()
                            .map(|m| {
                                let mut dm = DescribedGroupMember::default();
                                dm.member_id = str_bytes(&m.id);
                                if version >= 4 {
                                    dm.group_instance_id = m.instance_id.as_deref().map(str_bytes);
                                }
                                dm.client_id = str_bytes(&m.client_id);
                                dm.client_host = str_bytes(&m.client_host);
                                // Like Kafka: metadata and assignment only
                                // once they are settled.
                                if stable {
                                    dm.member_metadata = m.metadata(&protocol);
                                    dm.member_assignment = m.assignment.clone();
                                }
                                dm
                            })
                            .collect();
                    }
                    None if self.inner.offsets.has_group(id) => {
                        d.group_state = str_bytes(GroupState::Empty.as_str());
                    }
                    None => d.group_state = str_bytes(GroupState::Dead.as_str()),
                }
                d
            })
            .collect();
        r
    }

    /// Handles ListGroups, with the v4+ state filter and v5+ type filter
    /// (every group here is a `classic` group).
    pub async fn list_groups(&self, req: ListGroupsRequest, version: i16) -> ListGroupsResponse {
        self.ensure_ticker();
        let mut r = ListGroupsResponse::default();
        if !(0..=5).contains(&version) {
            r.error_code = ResponseError::UnsupportedVersion.code();
            return r;
        }
        let wanted_state = |s: GroupState| {
            version < 4
                || req.states_filter.is_empty()
                || req
                    .states_filter
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(s.as_str()))
        };
        let classic_wanted = version < 5
            || req.types_filter.is_empty()
            || req
                .types_filter
                .iter()
                .any(|t| t.eq_ignore_ascii_case("classic"));
        if !classic_wanted {
            return r;
        }
        r.groups = self
            .groups()
            .into_iter()
            .filter(|g| wanted_state(g.state))
            .map(|g| {
                let mut l = ListedGroup::default();
                l.group_id = GroupId(str_bytes(&g.group_id));
                l.protocol_type = str_bytes(&g.protocol_type);
                if version >= 4 {
                    l.group_state = str_bytes(g.state.as_str());
                }
                if version >= 5 {
                    l.group_type = str_bytes("classic");
                }
                l
            })
            .collect();
        r
    }

    /// Begins shutdown: every JoinGroup and SyncGroup waiting for a
    /// rebalance is answered with NOT_COORDINATOR at once, as are later
    /// ones, so that connections drain promptly and clients look for the
    /// coordinator again. Committed offsets need no flushing: each commit
    /// was written (and, with `fsync`, synced) before it was acknowledged.
    pub fn shutdown(&self) {
        let mut groups = lock(&self.inner.groups);
        self.inner.closing.store(true, Ordering::Release);
        for g in groups.values_mut() {
            g.abort_waiters(ResponseError::NotCoordinator.code());
        }
    }

    /// Every group, including those known only by committed offsets, sorted
    /// by id.
    pub fn groups(&self) -> Vec<GroupSummary> {
        let mut out: BTreeMap<String, GroupSummary> = BTreeMap::new();
        for name in self.inner.offsets.group_names() {
            out.insert(
                name.clone(),
                GroupSummary {
                    group_id: name,
                    state: GroupState::Empty,
                    generation: 0,
                    protocol_type: String::new(),
                    protocol: None,
                    members: 0,
                },
            );
        }
        for g in lock(&self.inner.groups).values() {
            out.insert(
                g.id.clone(),
                GroupSummary {
                    group_id: g.id.clone(),
                    state: g.state,
                    generation: g.generation,
                    protocol_type: g.protocol_type.clone().unwrap_or_default(),
                    protocol: g.protocol.clone(),
                    members: g.members.len(),
                },
            );
        }
        out.into_values().collect()
    }

    /// The committed offsets of one group (empty if it has none).
    pub fn group_offsets(&self, group: &str) -> GroupOffsets {
        self.inner.offsets.group(group)
    }

    /// Every committed offset of every group, for consumer-lag monitoring.
    pub fn committed_offsets(&self) -> BTreeMap<String, GroupOffsets> {
        self.inner.offsets.all()
    }
}

impl Inner {
    fn tick(&self, now: Instant) {
        let mut groups = lock(&self.groups);
        for g in groups.values_mut() {
            g.tick(now);
        }
        // Forget groups with neither members nor offsets, as Kafka's
        // periodic cleanup does; offset-holding groups stay listed.
        groups.retain(|id, g| !g.is_idle() || self.offsets.has_group(id));
    }
}

#[cfg(test)]
mod tests;
