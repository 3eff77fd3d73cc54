//! The state machine of one consumer group (Kafka's "classic" protocol).
//!
//! Everything here is synchronous and takes the current time as a
//! parameter; the coordinator owns the locking, the clock and the timer.
//! Requests that must wait (JoinGroup during a rebalance, a follower's
//! SyncGroup before the leader's) leave a oneshot sender in the member; the
//! state transition that ends the wait answers every parked request.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupResponse, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

pub(crate) const NONE: i16 = 0;
pub(crate) const COORDINATOR_NOT_AVAILABLE: i16 = ResponseError::CoordinatorNotAvailable.code();
pub(crate) const ILLEGAL_GENERATION: i16 = ResponseError::IllegalGeneration.code();
pub(crate) const INCONSISTENT_GROUP_PROTOCOL: i16 = ResponseError::InconsistentGroupProtocol.code();
pub(crate) const UNKNOWN_MEMBER_ID: i16 = ResponseError::UnknownMemberId.code();
pub(crate) const REBALANCE_IN_PROGRESS: i16 = ResponseError::RebalanceInProgress.code();
pub(crate) const MEMBER_ID_REQUIRED: i16 = ResponseError::MemberIdRequired.code();
pub(crate) const FENCED_INSTANCE_ID: i16 = ResponseError::FencedInstanceId.code();
pub(crate) const NOT_COORDINATOR: i16 = ResponseError::NotCoordinator.code();

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

    fn current_join_response(&self, member_id: &str, version: i16) -> JoinGroupResponse {
        let mut r = JoinGroupResponse::default();
        r.generation_id = self.generation;
        let protocol = self.protocol.clone().unwrap_or_default();
        r.protocol_name = Some(str_bytes(&protocol));
        if version >= 7 {
            r.protocol_type = self.protocol_type.as_deref().map(str_bytes);
        }
        let leader = self.leader.clone().unwrap_or_default();
        r.leader = str_bytes(&leader);
        r.member_id = str_bytes(member_id);
        if leader == member_id {
            let mut members: Vec<&Member> = self.members.values().collect();
            members.sort_by_key(|m| m.seq);
            r.members = members
                .into_iter()
                .map(|m| {
                    let mut rm = JoinGroupResponseMember::default();
                    rm.member_id = str_bytes(&m.id);
                    if version >= 5 {
                        rm.group_instance_id = m.instance_id.as_deref().map(str_bytes);
                    }
                    rm.metadata = m.metadata(&protocol);
                    rm
                })
                .collect();
        }
        r
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

    /// Handles a JoinGroup; the answer goes to `tx`, now or when the
    /// rebalance completes.
    pub fn join(&mut self, p: JoinParams, tx: oneshot::Sender<JoinGroupResponse>, now: Instant) {
        let version = p.version;
        let reply = |tx: oneshot::Sender<JoinGroupResponse>, code: i16, id: &str| {
            let _ = tx.send(join_error(version, code, id));
        };
        if self.state == GroupState::Dead {
            return reply(tx, COORDINATOR_NOT_AVAILABLE, "");
        }
        if p.member_id.is_empty() {
            if !self.supports(&p.protocol_type, &p.protocols, "") {
                return reply(tx, INCONSISTENT_GROUP_PROTOCOL, "");
            }
            let id = new_member_id(&p.client_id);
            if let Some(instance) = &p.instance_id {
                // A static member restarting: its previous incarnation is
                // fenced and replaced (no KIP-345 rebalance avoidance).
                if let Some(old) = self.static_members.get(instance).cloned() {
                    self.remove_member(&old, FENCED_INSTANCE_ID);
                }
                return self.add_member(id, p, tx, now);
            }
            if version >= 4 {
                // KIP-394: hand out the id first, so that a client that
                // times out and retries does not leave a ghost member.
                self.pending.insert(id.clone(), now + p.session_timeout);
                return reply(tx, MEMBER_ID_REQUIRED, &id);
            }
            return self.add_member(id, p, tx, now);
        }
        if self.pending.remove(&p.member_id).is_some() {
            if !self.supports(&p.protocol_type, &p.protocols, "") {
                return reply(tx, INCONSISTENT_GROUP_PROTOCOL, "");
            }
            let id = p.member_id.clone();
            return self.add_member(id, p, tx, now);
        }
        if self.is_fenced(&p.member_id, p.instance_id.as_deref()) {
            return reply(tx, FENCED_INSTANCE_ID, "");
        }
        let Some(member) = self.members.get(&p.member_id) else {
            return reply(tx, UNKNOWN_MEMBER_ID, "");
        };
        if !self.supports(&p.protocol_type, &p.protocols, &p.member_id) {
            return reply(tx, INCONSISTENT_GROUP_PROTOCOL, "");
        }
        let unchanged = member.protocols == p.protocols;
        let is_leader = self.leader.as_deref() == Some(p.member_id.as_str());
        match self.state {
            GroupState::PreparingRebalance => {
                self.update_member(p, tx, now);
                self.try_complete_join(now);
            }
            GroupState::CompletingRebalance if unchanged => {
                // The member lost our response; repeat it.
                let _ = tx.send(self.current_join_response(&p.member_id, version));
            }
            GroupState::Stable if unchanged && !is_leader => {
                let _ = tx.send(self.current_join_response(&p.member_id, version));
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.update_member(p, tx, now);
                self.prepare_rebalance(now);
            }
            GroupState::Empty | GroupState::Dead => reply(tx, UNKNOWN_MEMBER_ID, ""),
        }
    }

    fn add_member(
        &mut self,
        id: String,
        p: JoinParams,
        tx: oneshot::Sender<JoinGroupResponse>,
        now: Instant,
    ) {
        if self.members.is_empty() {
            self.protocol_type = Some(p.protocol_type.clone());
        }
        if let Some(instance) = &p.instance_id {
            self.static_members.insert(instance.clone(), id.clone());
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        tracing::debug!(group = %self.id, member = %id, "member joins");
        self.members.insert(
            id.clone(),
            Member {
                id,
                instance_id: p.instance_id,
                client_id: p.client_id,
                client_host: p.client_host,
                session_timeout: p.session_timeout,
                rebalance_timeout: p.rebalance_timeout,
                protocols: p.protocols,
                assignment: Bytes::new(),
                join_waiter: Some(JoinWaiter {
                    tx,
                    version: p.version,
                }),
                sync_waiter: None,
                heartbeat_deadline: now + p.session_timeout,
                seq,
            },
        );
        match self.state {
            GroupState::PreparingRebalance => self.try_complete_join(now),
            GroupState::Empty | GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now)
            }
            GroupState::Dead => {}
        }
    }

    fn update_member(
        &mut self,
        p: JoinParams,
        tx: oneshot::Sender<JoinGroupResponse>,
        now: Instant,
    ) {
        let Some(m) = self.members.get_mut(&p.member_id) else {
            return;
        };
        m.protocols = p.protocols;
        m.session_timeout = p.session_timeout;
        m.rebalance_timeout = p.rebalance_timeout;
        m.client_id = p.client_id;
        m.client_host = p.client_host;
        m.heartbeat_deadline = now + p.session_timeout;
        let old = m.join_waiter.replace(JoinWaiter {
            tx,
            version: p.version,
        });
        if let Some(old) = old {
            // A second JoinGroup supersedes the first.
            let _ = old
                .tx
                .send(join_error(old.version, REBALANCE_IN_PROGRESS, ""));
        }
    }

    /// Removes a member, answering its parked requests with `code`. Does not
    /// start a rebalance; callers decide.
    fn remove_member(&mut self, id: &str, code: i16) {
        let Some(m) = self.members.remove(id) else {
            return;
        };
        tracing::debug!(group = %self.id, member = %id, "member removed");
        if let Some(instance) = &m.instance_id {
            if self.static_members.get(instance).map(String::as_str) == Some(id) {
                self.static_members.remove(instance);
            }
        }
        if let Some(w) = m.join_waiter {
            let _ = w.tx.send(join_error(w.version, code, ""));
        }
        if let Some(w) = m.sync_waiter {
            let _ = w.tx.send(sync_error(code));
        }
        if self.leader.as_deref() == Some(id) {
            self.leader = None;
        }
    }

    /// Starts a rebalance: every member must rejoin.
    fn prepare_rebalance(&mut self, now: Instant) {
        if self.state == GroupState::CompletingRebalance {
            // The generation being set up is abandoned.
            for m in self.members.values_mut() {
                m.assignment = Bytes::new();
                if let Some(w) = m.sync_waiter.take() {
                    let _ = w.tx.send(sync_error(REBALANCE_IN_PROGRESS));
                }
            }
        }
        let timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        tracing::debug!(group = %self.id, generation = self.generation, "preparing rebalance");
        self.state = GroupState::PreparingRebalance;
        self.deadline = Some(now + timeout);
        self.try_complete_join(now);
    }

    fn try_complete_join(&mut self, now: Instant) {
        if self.state == GroupState::PreparingRebalance
            && self.pending.is_empty()
            && self.members.values().all(|m| m.join_waiter.is_some())
        {
            self.complete_join(now);
        }
    }

    /// Protocol chosen for the generation: among the protocols every member
    /// supports, the one most members list first; ties go to the leader's
    /// preference.
    fn select_protocol(&self, leader: &str) -> Option<String> {
        let leader = self.members.get(leader)?;
        let candidates: Vec<&String> = leader
            .protocols
            .iter()
            .map(|(n, _)| n)
            .filter(|n| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(x, _)| x == *n))
            })
            .collect();
        let mut votes: BTreeMap<&String, usize> = BTreeMap::new();
        for m in self.members.values() {
            if let Some((n, _)) = m.protocols.iter().find(|(n, _)| candidates.contains(&n)) {
                *votes.entry(n).or_default() += 1;
            }
        }
        let best = votes.values().copied().max()?;
        candidates
            .into_iter()
            .find(|n| votes.get(n) == Some(&best))
            .cloned()
    }

    /// Ends the join phase: members that did not rejoin are dropped, the
    /// generation advances and every parked JoinGroup is answered.
    fn complete_join(&mut self, now: Instant) {
        let laggards: Vec<String> = self
            .members
            .values()
            .filter(|m| m.join_waiter.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in laggards {
            tracing::info!(group = %self.id, member = %id, "member did not rejoin in time; removed");
            self.remove_member(&id, UNKNOWN_MEMBER_ID);
        }
        self.generation = self.generation.wrapping_add(1).max(1);
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            self.deadline = None;
            tracing::debug!(group = %self.id, generation = self.generation, "group is empty");
            return;
        }
        let leader = match &self.leader {
            Some(l) if self.members.contains_key(l) => l.clone(),
            _ => self
                .members
                .values()
                .min_by_key(|m| m.seq)
                .map(|m| m.id.clone())
                .unwrap_or_default(),
        };
        let Some(protocol) = self.select_protocol(&leader) else {
            // Unreachable while `supports` guards every join; fail the
            // members rather than hand out an unusable generation.
            let ids: Vec<String> = self.members.keys().cloned().collect();
            for id in ids {
                self.remove_member(&id, INCONSISTENT_GROUP_PROTOCOL);
            }
            self.state = GroupState::Empty;
            self.deadline = None;
            return;
        };
        self.leader = Some(leader);
        self.protocol = Some(protocol);
        self.state = GroupState::CompletingRebalance;
        let sync_timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        self.deadline = Some(now + sync_timeout);
        tracing::info!(
            group = %self.id,
            generation = self.generation,
            members = self.members.len(),
            protocol = self.protocol.as_deref().unwrap_or(""),
            "rebalance: join phase complete"
        );
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let Some(w) = self.members.get_mut(&id).and_then(|m| {
                m.heartbeat_deadline = now + m.session_timeout;
                m.join_waiter.take()
            }) else {
                continue;
            };
            let _ = w.tx.send(self.current_join_response(&id, w.version));
        }
    }

    /// Handles a SyncGroup; the answer goes to `tx`, now or once the leader
    /// has sent the assignment.
    pub fn sync(&mut self, p: SyncParams, tx: oneshot::Sender<SyncGroupResponse>, now: Instant) {
        let reply = |tx: oneshot::Sender<SyncGroupResponse>, code: i16| {
            let _ = tx.send(sync_error(code));
        };
        if self.state == GroupState::Dead {
            return reply(tx, COORDINATOR_NOT_AVAILABLE);
        }
        if self.is_fenced(&p.member_id, p.instance_id.as_deref()) {
            return reply(tx, FENCED_INSTANCE_ID);
        }
        if !self.members.contains_key(&p.member_id) {
            return reply(tx, UNKNOWN_MEMBER_ID);
        }
        if p.generation != self.generation {
            return reply(tx, ILLEGAL_GENERATION);
        }
        let type_mismatch = p
            .protocol_type
            .as_ref()
            .is_some_and(|t| Some(t) != self.protocol_type.as_ref());
        let name_mismatch = p
            .protocol_name
            .as_ref()
            .is_some_and(|n| Some(n) != self.protocol.as_ref());
        if type_mismatch || name_mismatch {
            return reply(tx, INCONSISTENT_GROUP_PROTOCOL);
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => reply(tx, UNKNOWN_MEMBER_ID),
            GroupState::PreparingRebalance => reply(tx, REBALANCE_IN_PROGRESS),
            GroupState::Stable => {
                let m = self.members.get_mut(&p.member_id).expect("checked above");
                m.heartbeat_deadline = now + m.session_timeout;
                let _ = tx.send(self.sync_response(&p.member_id, p.version));
            }
            GroupState::CompletingRebalance => {
                let m = self.members.get_mut(&p.member_id).expect("checked above");
                m.heartbeat_deadline = now + m.session_timeout;
                if let Some(old) = m.sync_waiter.replace(SyncWaiter {
                    tx,
                    version: p.version,
                }) {
                    let _ = old.tx.send(sync_error(REBALANCE_IN_PROGRESS));
                }
                if self.leader.as_deref() == Some(p.member_id.as_str()) {
                    self.complete_sync(p.assignments);
                }
            }
        }
    }

    fn sync_response(&self, member_id: &str, version: i16) -> SyncGroupResponse {
        let mut r = SyncGroupResponse::default();
        if let Some(m) = self.members.get(member_id) {
            r.assignment = m.assignment.clone();
        }
        if version >= 5 {
            r.protocol_type = self.protocol_type.as_deref().map(str_bytes);
            r.protocol_name = self.protocol.as_deref().map(str_bytes);
        }
        r
    }

    /// The leader's assignment arrived: the group is stable.
    fn complete_sync(&mut self, assignments: Vec<(String, Bytes)>) {
        let mut by_member: HashMap<String, Bytes> = assignments.into_iter().collect();
        for m in self.members.values_mut() {
            m.assignment = by_member.remove(&m.id).unwrap_or_default();
        }
        if !by_member.is_empty() {
            tracing::debug!(group = %self.id, unknown = by_member.len(), "leader assigned to unknown members; ignored");
        }
        self.state = GroupState::Stable;
        self.deadline = None;
        tracing::info!(group = %self.id, generation = self.generation, "group is stable");
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let Some(w) = self.members.get_mut(&id).and_then(|m| m.sync_waiter.take()) else {
                continue;
            };
            let _ = w.tx.send(self.sync_response(&id, w.version));
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
            return COORDINATOR_NOT_AVAILABLE;
        }
        if self.is_fenced(member_id, instance_id) {
            return FENCED_INSTANCE_ID;
        }
        let Some(m) = self.members.get_mut(member_id) else {
            return UNKNOWN_MEMBER_ID;
        };
        if generation != self.generation {
            return ILLEGAL_GENERATION;
        }
        m.heartbeat_deadline = now + m.session_timeout;
        match self.state {
            GroupState::Empty | GroupState::Dead => UNKNOWN_MEMBER_ID,
            GroupState::PreparingRebalance => REBALANCE_IN_PROGRESS,
            GroupState::CompletingRebalance | GroupState::Stable => NONE,
        }
    }

    /// Handles one leaving member; returns its error code.
    pub fn leave(&mut self, member_id: &str, instance_id: Option<&str>, now: Instant) -> i16 {
        if self.state == GroupState::Dead {
            return COORDINATOR_NOT_AVAILABLE;
        }
        let id = if member_id.is_empty() {
            // v3+: a static member may leave by instance id alone.
            match instance_id.and_then(|i| self.static_members.get(i)) {
                Some(id) => id.clone(),
                None => return UNKNOWN_MEMBER_ID,
            }
        } else {
            member_id.to_string()
        };
        if self.is_fenced(&id, instance_id) {
            return FENCED_INSTANCE_ID;
        }
        if self.pending.remove(&id).is_some() {
            self.try_complete_join(now);
            return NONE;
        }
        if !self.members.contains_key(&id) {
            return UNKNOWN_MEMBER_ID;
        }
        tracing::info!(group = %self.id, member = %id, "member leaves");
        self.remove_member(&id, UNKNOWN_MEMBER_ID);
        self.after_removal(now);
        NONE
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
            return Err(COORDINATOR_NOT_AVAILABLE);
        }
        if self.is_fenced(member_id, instance_id) {
            return Err(FENCED_INSTANCE_ID);
        }
        if generation < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        if !self.members.contains_key(member_id) {
            return Err(UNKNOWN_MEMBER_ID);
        }
        if generation != self.generation {
            return Err(ILLEGAL_GENERATION);
        }
        match self.state {
            GroupState::CompletingRebalance => Err(REBALANCE_IN_PROGRESS),
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
            self.remove_member(id, UNKNOWN_MEMBER_ID);
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
                    self.remove_member(&id, UNKNOWN_MEMBER_ID);
                }
                self.prepare_rebalance(now);
            }
            _ => {}
        }
    }
}
