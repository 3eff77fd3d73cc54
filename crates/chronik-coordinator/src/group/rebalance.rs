//! Rebalancing: JoinGroup and SyncGroup, from a member's join to the
//! leader's assignment reaching every member.

use kafka_protocol::error::ResponseError;
use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupResponse, SyncGroupResponse};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{
    join_error, new_member_id, str_bytes, sync_error, Group, GroupState, JoinParams, JoinWaiter,
    Member, SyncParams, SyncWaiter,
};

impl Group {
    pub(super) fn current_join_response(&self, member_id: &str, version: i16) -> JoinGroupResponse {
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

    /// Handles a JoinGroup; the answer goes to `tx`, now or when the
    /// rebalance completes.
    pub(crate) fn join(
        &mut self,
        p: JoinParams,
        tx: oneshot::Sender<JoinGroupResponse>,
        now: Instant,
    ) {
        let version = p.version;
        let reply = |tx: oneshot::Sender<JoinGroupResponse>, code: i16, id: &str| {
            let _ = tx.send(join_error(version, code, id));
        };
        if self.state == GroupState::Dead {
            return reply(tx, ResponseError::CoordinatorNotAvailable.code(), "");
        }
        if p.member_id.is_empty() {
            if !self.supports(&p.protocol_type, &p.protocols, "") {
                return reply(tx, ResponseError::InconsistentGroupProtocol.code(), "");
            }
            let id = new_member_id(&p.client_id);
            if let Some(instance) = &p.instance_id {
                // A static member restarting: its previous incarnation is
                // fenced and replaced (no KIP-345 rebalance avoidance).
                if let Some(old) = self.static_members.get(instance).cloned() {
                    self.remove_member(&old, ResponseError::FencedInstanceId.code());
                }
                return self.add_member(id, p, tx, now);
            }
            if version >= 4 {
                // KIP-394: hand out the id first, so that a client that
                // times out and retries does not leave a ghost member.
                self.pending.insert(id.clone(), now + p.session_timeout);
                return reply(tx, ResponseError::MemberIdRequired.code(), &id);
            }
            return self.add_member(id, p, tx, now);
        }
        if self.pending.remove(&p.member_id).is_some() {
            if !self.supports(&p.protocol_type, &p.protocols, "") {
                return reply(tx, ResponseError::InconsistentGroupProtocol.code(), "");
            }
            let id = p.member_id.clone();
            return self.add_member(id, p, tx, now);
        }
        if self.is_fenced(&p.member_id, p.instance_id.as_deref()) {
            return reply(tx, ResponseError::FencedInstanceId.code(), "");
        }
        let Some(member) = self.members.get(&p.member_id) else {
            return reply(tx, ResponseError::UnknownMemberId.code(), "");
        };
        if !self.supports(&p.protocol_type, &p.protocols, &p.member_id) {
            return reply(tx, ResponseError::InconsistentGroupProtocol.code(), "");
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
            GroupState::Empty | GroupState::Dead => {
                reply(tx, ResponseError::UnknownMemberId.code(), "")
            }
        }
    }

    pub(super) fn add_member(
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

    pub(super) fn update_member(
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
            let _ = old.tx.send(join_error(
                old.version,
                ResponseError::RebalanceInProgress.code(),
                "",
            ));
        }
    }

    /// Removes a member, answering its parked requests with `code`. Does not
    /// start a rebalance; callers decide.
    pub(super) fn remove_member(&mut self, id: &str, code: i16) {
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
    pub(super) fn prepare_rebalance(&mut self, now: Instant) {
        if self.state == GroupState::CompletingRebalance {
            // The generation being set up is abandoned.
            for m in self.members.values_mut() {
                m.assignment = Bytes::new();
                if let Some(w) = m.sync_waiter.take() {
                    let _ =
                        w.tx.send(sync_error(ResponseError::RebalanceInProgress.code()));
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

    pub(super) fn try_complete_join(&mut self, now: Instant) {
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
    pub(super) fn select_protocol(&self, leader: &str) -> Option<String> {
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
    pub(super) fn complete_join(&mut self, now: Instant) {
        let laggards: Vec<String> = self
            .members
            .values()
            .filter(|m| m.join_waiter.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in laggards {
            tracing::info!(group = %self.id, member = %id, "member did not rejoin in time; removed");
            self.remove_member(&id, ResponseError::UnknownMemberId.code());
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
                self.remove_member(&id, ResponseError::InconsistentGroupProtocol.code());
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
    pub(crate) fn sync(
        &mut self,
        p: SyncParams,
        tx: oneshot::Sender<SyncGroupResponse>,
        now: Instant,
    ) {
        let reply = |tx: oneshot::Sender<SyncGroupResponse>, code: i16| {
            let _ = tx.send(sync_error(code));
        };
        if self.state == GroupState::Dead {
            return reply(tx, ResponseError::CoordinatorNotAvailable.code());
        }
        if self.is_fenced(&p.member_id, p.instance_id.as_deref()) {
            return reply(tx, ResponseError::FencedInstanceId.code());
        }
        if !self.members.contains_key(&p.member_id) {
            return reply(tx, ResponseError::UnknownMemberId.code());
        }
        if p.generation != self.generation {
            return reply(tx, ResponseError::IllegalGeneration.code());
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
            return reply(tx, ResponseError::InconsistentGroupProtocol.code());
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                reply(tx, ResponseError::UnknownMemberId.code())
            }
            GroupState::PreparingRebalance => reply(tx, ResponseError::RebalanceInProgress.code()),
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
                    let _ = old
                        .tx
                        .send(sync_error(ResponseError::RebalanceInProgress.code()));
                }
                if self.leader.as_deref() == Some(p.member_id.as_str()) {
                    self.complete_sync(p.assignments);
                }
            }
        }
    }

    pub(super) fn sync_response(&self, member_id: &str, version: i16) -> SyncGroupResponse {
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
    pub(super) fn complete_sync(&mut self, assignments: Vec<(String, Bytes)>) {
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
}
