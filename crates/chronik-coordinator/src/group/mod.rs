//! The state machine of one consumer group (Kafka's "classic" protocol).
//!
//! Everything here is synchronous and takes the current time as a
//! parameter; the coordinator owns the locking, the clock and the timer.
//! Requests that must wait (JoinGroup during a rebalance, a follower's
//! SyncGroup before the leader's) leave a oneshot sender in the member; the
//! state transition that ends the wait answers every parked request.

mod rebalance;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::{JoinGroupResponse, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The state of a consumer group, named as Kafka names them in
/// DescribeGroups and ListGroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members; the group may still hold committed offsets.
    Empty,
    /// A rebalance started: waiting for members to (re)join.
    PreparingRebalance,
    /// Everyone joined: waiting for the leader's assignment.
    CompletingRebalance,
    /// Assignments handed out; members heartbeat.
    Stable,
    /// The group does not exist (reported for unknown groups).
    Dead,
}

impl GroupState {
    /// Kafka's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// A validated JoinGroup request.
pub(crate) struct JoinParams {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    pub version: i16,
}

/// A validated SyncGroup request.
pub(crate) struct SyncParams {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(String, Bytes)>,
    pub version: i16,
}

struct JoinWaiter {
    tx: oneshot::Sender<JoinGroupResponse>,
    version: i16,
}

struct SyncWaiter {
    tx: oneshot::Sender<SyncGroupResponse>,
    version: i16,
}

/// One member of a group.
pub(crate) struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocols: Vec<(String, Bytes)>,
    pub assignment: Bytes,
    join_waiter: Option<JoinWaiter>,
    sync_waiter: Option<SyncWaiter>,
    /// The member is dropped if it shows no sign of life by then (unless a
    /// JoinGroup or SyncGroup of it is parked, which keeps it alive).
    heartbeat_deadline: Instant,
    /// Join order: the earliest remaining member becomes leader.
    seq: u64,
}

impl Member {
    /// The member's metadata for `protocol`, empty if it does not support it.
    pub fn metadata(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

/// One consumer group.
pub(crate) struct Group {
    pub id: String,
    pub state: GroupState,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub members: HashMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED, not yet used to join,
    /// with the time after which they are forgotten.
    pending: HashMap<String, Instant>,
    /// group.instance.id → current member id of that static member.
    static_members: HashMap<String, String>,
    /// PreparingRebalance: when laggards are evicted and the join completes.
    /// CompletingRebalance: when members that have not synced are evicted.
    deadline: Option<Instant>,
    next_seq: u64,
}

pub(crate) fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// A JoinGroup response carrying only an error (and, for
/// MEMBER_ID_REQUIRED, the id to join with).
pub(crate) fn join_error(version: i16, code: i16, member_id: &str) -> JoinGroupResponse {
    let mut r = JoinGroupResponse::default();
    r.error_code = code;
    r.generation_id = -1;
    r.member_id = str_bytes(member_id);
    // Nullable only from v7; older clients expect an empty string.
    r.protocol_name = if version >= 7 {
        None
    } else {
        Some(StrBytes::default())
    };
    r
}

/// A SyncGroup response carrying only an error.
pub(crate) fn sync_error(code: i16) -> SyncGroupResponse {
    let mut r = SyncGroupResponse::default();
    r.error_code = code;
    r
}

fn new_member_id(client_id: &str) -> String {
    let prefix = if client_id.is_empty() {
        "member"
    } else {
        client_id
    };
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

impl Group {
    pub fn new(id: &str) -> Self {
        Group {
            id: id.to_string(),
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: HashMap::new(),
            pending: HashMap::new(),
            static_members: HashMap::new(),
            deadline: None,
            next_seq: 0,
        }
    }

    /// Whether the group holds nothing worth keeping in memory.
    pub fn is_idle(&self) -> bool {
        self.state == GroupState::Empty && self.members.is_empty() && self.pending.is_empty()
    }

    fn is_fenced(&self, member_id: &str, instance_id: Option<&str>) -> bool {
        instance_id
            .and_then(|i| self.static_members.get(i))
            .is_some_and(|current| current != member_id)
    }

    /// Whether a member with these protocols may be in the group: same
    /// protocol type, and at least one protocol every other member supports.
    fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)], except: &str) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        let others: Vec<&Member> = self.members.values().filter(|m| m.id != except).collect();
        if others.is_empty() {
            return true;
        }
        if self.protocol_type.as_deref() != Some(protocol_type) {
            return false;
        }
        protocols.iter().any(|(name, _)| {
            others
                .iter()
                .all(|m| m.protocols.iter().any(|(n, _)| n == name))
        })
    }

    /// Answers every parked JoinGroup and SyncGroup with `code` (used when
    /// the broker shuts down, so no request waits for a rebalance that will
    /// never finish in this process).
    pub fn abort_waiters(&mut self, code: i16) {
        for m in self.members.values_mut() {
            if let Some(w) = m.join_waiter.take() {
                let _ = w.tx.send(join_error(w.version, code, ""));
            }
            if let Some(w) = m.sync_waiter.take() {
                let _ = w.tx.send(sync_error(code));
            }
        }
    }

    /// Handles a Heartbeat; returns the error code.
    pub fn heartbeat(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> i16 {
        if self.state == GroupState::Dead {
            return ResponseError::CoordinatorNotAvailable.code();
        }
        if self.is_fenced(member_id, instance_id) {
            return ResponseError::FencedInstanceId.code();
        }
        let Some(m) = self.members.get_mut(member_id) else {
            return ResponseError::UnknownMemberId.code();
        };
        if generation != self.generation {
            return ResponseError::IllegalGeneration.code();
        }
        m.heartbeat_deadline = now + m.session_timeout;
        match self.state {
            GroupState::Empty | GroupState::Dead => ResponseError::UnknownMemberId.code(),
            GroupState::PreparingRebalance => ResponseError::RebalanceInProgress.code(),
            GroupState::CompletingRebalance | GroupState::Stable => 0,
        }
    }

    /// Handles one leaving member; returns its error code.
    pub fn leave(&mut self, member_id: &str, instance_id: Option<&str>, now: Instant) -> i16 {
        if self.state == GroupState::Dead {
            return ResponseError::CoordinatorNotAvailable.code();
        }
        let id = if member_id.is_empty() {
            // v3+: a static member may leave by instance id alone.
            match instance_id.and_then(|i| self.static_members.get(i)) {
                Some(id) => id.clone(),
                None => return ResponseError::UnknownMemberId.code(),
            }
        } else {
            member_id.to_string()
        };
        if self.is_fenced(&id, instance_id) {
            return ResponseError::FencedInstanceId.code();
        }
        if self.pending.remove(&id).is_some() {
            self.try_complete_join(now);
            return 0;
        }
        if !self.members.contains_key(&id) {
            return ResponseError::UnknownMemberId.code();
        }
        tracing::info!(group = %self.id, member = %id, "member leaves");
        self.remove_member(&id, ResponseError::UnknownMemberId.code());
        self.after_removal(now);
        0
    }

    fn after_removal(&mut self, now: Instant) {
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(now),
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Whether an OffsetCommit from this member may store offsets; the
    /// error code otherwise. Commits with a negative generation are the
    /// "simple" (unmanaged) form, allowed only while the group is empty.
    pub fn validate_commit(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> Result<(), i16> {
        if self.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable.code());
        }
        if self.is_fenced(member_id, instance_id) {
            return Err(ResponseError::FencedInstanceId.code());
        }
        if generation < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        if !self.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId.code());
        }
        if generation != self.generation {
            return Err(ResponseError::IllegalGeneration.code());
        }
        match self.state {
            GroupState::CompletingRebalance => Err(ResponseError::RebalanceInProgress.code()),
            // During PreparingRebalance members still own their partitions
            // until they rejoin, so their commits are accepted.
            _ => Ok(()),
        }
    }

    /// Applies timeouts: forgets stale pending ids, drops members whose
    /// session expired, and ends join or sync phases that overran.
    pub fn tick(&mut self, now: Instant) {
        let before = self.pending.len();
        self.pending.retain(|_, deadline| *deadline > now);
        let pending_expired = self.pending.len() != before;

        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| {
                m.join_waiter.is_none() && m.sync_waiter.is_none() && m.heartbeat_deadline <= now
            })
            .map(|m| m.id.clone())
            .collect();
        for id in &expired {
            tracing::info!(group = %self.id, member = %id, "member session expired");
            self.remove_member(id, ResponseError::UnknownMemberId.code());
        }
        if !expired.is_empty() {
            self.after_removal(now);
        } else if pending_expired {
            self.try_complete_join(now);
        }

        let overdue = self.deadline.is_some_and(|d| d <= now);
        match self.state {
            GroupState::PreparingRebalance if overdue => self.complete_join(now),
            GroupState::CompletingRebalance if overdue => {
                let unsynced: Vec<String> = self
                    .members
                    .values()
                    .filter(|m| m.sync_waiter.is_none())
                    .map(|m| m.id.clone())
                    .collect();
                for id in unsynced {
                    tracing::info!(group = %self.id, member = %id, "member did not sync in time; removed");
                    self.remove_member(&id, ResponseError::UnknownMemberId.code());
                }
                self.prepare_rebalance(now);
            }
            _ => {}
        }
    }
}
