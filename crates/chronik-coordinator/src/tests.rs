//! Coordinator tests driven through the request structs, with tokio's
//! paused clock so timeouts elapse instantly and deterministically.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

use super::*;
use chronik_common::TopicPartition;

type Res = Result<(), String>;

const SESSION_MS: i32 = 10_000;
const REBALANCE_MS: i32 = 30_000;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn coordinator(dir: &Path) -> GroupCoordinator {
    GroupCoordinator::open(dir, CoordinatorConfig::default()).unwrap()
}

fn join_req(group: &str, member: &str, protocols: &[(&str, &[u8])]) -> JoinGroupRequest {
    let mut r = JoinGroupRequest::default();
    r.group_id = GroupId(s(group));
    r.member_id = s(member);
    r.session_timeout_ms = SESSION_MS;
    r.rebalance_timeout_ms = REBALANCE_MS;
    r.protocol_type = s("consumer");
    r.protocols = protocols
        .iter()
        .map(|(name, meta)| {
            let mut p = JoinGroupRequestProtocol::default();
            p.name = s(name);
            p.metadata = Bytes::copy_from_slice(meta);
            p
        })
        .collect();
    r
}

const RANGE: &[(&str, &[u8])] = &[("range", b"meta")];

/// Joins a new member with the v5 two-step handshake; returns the response
/// of the real join (which may wait for a rebalance).
async fn join_new(
    c: &GroupCoordinator,
    group: &str,
    protocols: &[(&str, &[u8])],
) -> JoinGroupResponse {
    let first = c.join_group(join_req(group, "", protocols), 5).await;
    assert_eq!(first.error_code, 79, "MEMBER_ID_REQUIRED on v4+");
    assert!(!first.member_id.is_empty());
    c.join_group(join_req(group, &first.member_id, protocols), 5)
        .await
}

fn spawn_join(
    c: &GroupCoordinator,
    req: JoinGroupRequest,
) -> tokio::task::JoinHandle<JoinGroupResponse> {
    let c = c.clone();
    tokio::spawn(async move { c.join_group(req, 5).await })
}

fn sync_req(
    group: &str,
    member: &str,
    generation: i32,
    assign: &[(&str, &[u8])],
) -> SyncGroupRequest {
    let mut r = SyncGroupRequest::default();
    r.group_id = GroupId(s(group));
    r.member_id = s(member);
    r.generation_id = generation;
    r.assignments = assign
        .iter()
        .map(|(m, a)| {
            let mut x = SyncGroupRequestAssignment::default();
            x.member_id = s(m);
            x.assignment = Bytes::copy_from_slice(a);
            x
        })
        .collect();
    r
}

fn spawn_sync(
    c: &GroupCoordinator,
    req: SyncGroupRequest,
) -> tokio::task::JoinHandle<SyncGroupResponse> {
    let c = c.clone();
    tokio::spawn(async move { c.sync_group(req, 3).await })
}

async fn heartbeat(c: &GroupCoordinator, group: &str, member: &str, generation: i32) -> i16 {
    let mut r = HeartbeatRequest::default();
    r.group_id = GroupId(s(group));
    r.member_id = s(member);
    r.generation_id = generation;
    c.heartbeat(r, 4).await.error_code
}

fn state(c: &GroupCoordinator, group: &str) -> Option<GroupState> {
    c.groups()
        .into_iter()
        .find(|g| g.group_id == group)
        .map(|g| g.state)
}

/// Lets spawned requests reach the coordinator (the paused clock makes the
/// sleep free) and checks that the group got where the test expects.
async fn settle(c: &GroupCoordinator, group: &str, expected: GroupState) {
    for _ in 0..100 {
        if state(c, group) == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!(
        "group {group} never reached {expected:?}: {:?}",
        state(c, group)
    );
}

/// Two members in a stable generation: (leader id, follower id, generation).
async fn stable_pair(c: &GroupCoordinator, group: &str) -> (String, String, i32) {
    let a = join_new(c, group, RANGE).await;
    assert_eq!(a.error_code, 0);
    assert_eq!(a.generation_id, 1);
    assert_eq!(a.leader, a.member_id, "first member leads");
    assert_eq!(a.members.len(), 1);
    let a_id = a.member_id.to_string();
    let sa = c
        .sync_group(sync_req(group, &a_id, 1, &[(&a_id, b"all")]), 3)
        .await;
    assert_eq!(sa.error_code, 0);
    assert_eq!(&sa.assignment[..], b"all");
    assert_eq!(state(c, group), Some(GroupState::Stable));

    // A second member joins: the group rebalances; the leader learns it
    // from its heartbeat and rejoins.
    let first = c.join_group(join_req(group, "", RANGE), 5).await;
    let b_id = first.member_id.to_string();
    let b_join = spawn_join(c, join_req(group, &b_id, RANGE));
    settle(c, group, GroupState::PreparingRebalance).await;
    assert_eq!(
        heartbeat(c, group, &a_id, 1).await,
        27,
        "REBALANCE_IN_PROGRESS"
    );
    let a2 = c.join_group(join_req(group, &a_id, RANGE), 5).await;
    let b2 = b_join.await.unwrap();
    assert_eq!((a2.error_code, b2.error_code), (0, 0));
    assert_eq!(a2.generation_id, 2);
    assert_eq!(b2.generation_id, 2);
    assert_eq!(a2.leader.as_str(), a_id);
    assert_eq!(b2.leader.as_str(), a_id);
    assert_eq!(a2.protocol_name.as_deref(), Some("range"));
    let mut listed: Vec<String> = a2.members.iter().map(|m| m.member_id.to_string()).collect();
    listed.sort();
    let mut both = vec![a_id.clone(), b_id.clone()];
    both.sort();
    assert_eq!(listed, both, "the leader sees every member");
    assert!(a2.members.iter().all(|m| &m.metadata[..] == b"meta"));
    assert!(b2.members.is_empty(), "followers get no member list");

    // The follower syncs first and waits for the leader's assignment.
    let b_sync = spawn_sync(c, sync_req(group, &b_id, 2, &[]));
    settle(c, group, GroupState::CompletingRebalance).await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(!b_sync.is_finished(), "follower waits for the leader");
    let sa = c
        .sync_group(
            sync_req(group, &a_id, 2, &[(&a_id, b"p0"), (&b_id, b"p1")]),
            3,
        )
        .await;
    let sb = b_sync.await.unwrap();
    assert_eq!((sa.error_code, sb.error_code), (0, 0));
    assert_eq!(&sa.assignment[..], b"p0");
    assert_eq!(&sb.assignment[..], b"p1");
    assert_eq!(state(c, group), Some(GroupState::Stable));
    assert_eq!(heartbeat(c, group, &a_id, 2).await, 0);
    assert_eq!(heartbeat(c, group, &b_id, 2).await, 0);
    (a_id, b_id, 2)
}

#[tokio::test(start_paused = true)]
async fn two_members_join_leader_assigns_both_sync() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    stable_pair(&c, "g").await;
    let d = c
        .describe_groups(
            {
                let mut r = DescribeGroupsRequest::default();
                r.groups = vec![GroupId(s("g")), GroupId(s("nope"))];
                r
            },
            5,
        )
        .await;
    assert_eq!(d.groups[0].group_state.as_str(), "Stable");
    assert_eq!(d.groups[0].protocol_data.as_str(), "range");
    assert_eq!(d.groups[0].members.len(), 2);
    assert_eq!(d.groups[1].group_state.as_str(), "Dead");
    let l = c.list_groups(ListGroupsRequest::default(), 4).await;
    assert_eq!(l.groups.len(), 1);
    assert_eq!(l.groups[0].group_state.as_str(), "Stable");
    assert_eq!(l.groups[0].protocol_type.as_str(), "consumer");
}

#[tokio::test(start_paused = true)]
async fn leaving_member_triggers_rebalance_and_new_generation() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let (a, b, generation) = stable_pair(&c, "g").await;

    let mut leave = LeaveGroupRequest::default();
    leave.group_id = GroupId(s("g"));
    let mut who = MemberIdentity::default();
    who.member_id = s(&b);
    let mut ghost = MemberIdentity::default();
    ghost.member_id = s("ghost");
    leave.members = vec![who, ghost];
    let r = c.leave_group(leave, 3).await;
    assert_eq!(r.error_code, 0);
    assert_eq!(r.members[0].error_code, 0);
    assert_eq!(
        r.members[1].error_code, 25,
        "unknown member is reported per member"
    );

    assert_eq!(heartbeat(&c, "g", &a, generation).await, 27);
    let j = c.join_group(join_req("g", &a, RANGE), 5).await;
    assert_eq!(j.error_code, 0);
    assert_eq!(j.generation_id, generation + 1);
    assert_eq!(j.members.len(), 1);
    assert_eq!(heartbeat(&c, "g", &b, generation).await, 25, "b is gone");

    // The last member leaving (v0 form) empties the group.
    let sa = c
        .sync_group(sync_req("g", &a, j.generation_id, &[]), 3)
        .await;
    assert_eq!(sa.error_code, 0);
    let mut leave = LeaveGroupRequest::default();
    leave.group_id = GroupId(s("g"));
    leave.member_id = s(&a);
    assert_eq!(c.leave_group(leave, 0).await.error_code, 0);
    assert_eq!(state(&c, "g"), Some(GroupState::Empty));
}

#[tokio::test(start_paused = true)]
async fn heartbeat_errors() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    assert_eq!(heartbeat(&c, "none", "m", 1).await, 25, "unknown group");
    let (a, _b, generation) = stable_pair(&c, "g").await;
    assert_eq!(heartbeat(&c, "g", "stranger", generation).await, 25);
    assert_eq!(
        heartbeat(&c, "g", &a, generation - 1).await,
        22,
        "ILLEGAL_GENERATION"
    );
    assert_eq!(heartbeat(&c, "g", &a, generation + 1).await, 22);
    assert_eq!(
        heartbeat(&c, "", &a, generation).await,
        24,
        "INVALID_GROUP_ID"
    );
}

#[tokio::test(start_paused = true)]
async fn expired_session_removes_member_and_rebalances() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let (a, b, generation) = stable_pair(&c, "g").await;
    // Only `a` keeps heartbeating; `b` falls silent past its session.
    let mut code = 0;
    for _ in 0..((SESSION_MS / 1000) * 2) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        code = heartbeat(&c, "g", &a, generation).await;
        if code != 0 {
            break;
        }
    }
    assert_eq!(code, 27, "a is told to rejoin once b expired");
    let j = c.join_group(join_req("g", &a, RANGE), 5).await;
    assert_eq!(j.generation_id, generation + 1);
    assert_eq!(j.members.len(), 1);
    assert_eq!(heartbeat(&c, "g", &b, generation).await, 25);
}

#[tokio::test(start_paused = true)]
async fn member_that_does_not_rejoin_is_evicted_at_the_rebalance_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let (a, b, generation) = stable_pair(&c, "g").await;
    // A third member triggers a rebalance; a rejoins, b keeps
    // heartbeating but never rejoins.
    let third = c.join_group(join_req("g", "", RANGE), 5).await;
    let c_join = spawn_join(&c, join_req("g", &third.member_id, RANGE));
    settle(&c, "g", GroupState::PreparingRebalance).await;
    let a_join = spawn_join(&c, join_req("g", &a, RANGE));
    let mut waited = 0;
    while !a_join.is_finished() {
        assert_eq!(heartbeat(&c, "g", &b, generation).await, 27);
        tokio::time::sleep(Duration::from_secs(1)).await;
        waited += 1;
        assert!(waited < 2 * REBALANCE_MS / 1000, "join never completed");
    }
    assert!(
        waited >= REBALANCE_MS / 1000 - 1,
        "completed only at the timeout"
    );
    let ja = a_join.await.unwrap();
    let jc = c_join.await.unwrap();
    assert_eq!(ja.generation_id, generation + 1);
    assert_eq!(jc.generation_id, generation + 1);
    assert_eq!(ja.members.len(), 2, "b was evicted");
    assert_eq!(heartbeat(&c, "g", &b, generation + 1).await, 25);
}

#[tokio::test(start_paused = true)]
async fn leader_that_never_syncs_is_evicted_and_followers_told_to_rejoin() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let (a, b, generation) = stable_pair(&c, "g").await;
    let mut leave = LeaveGroupRequest::default();
    leave.group_id = GroupId(s("g"));
    leave.member_id = s("unknown");
    assert_eq!(c.leave_group(leave, 1).await.error_code, 25);
    // Force a new generation, then let the leader go silent after joining.
    let a_join = spawn_join(&c, join_req("g", &a, &[("range", b"changed")]));
    settle(&c, "g", GroupState::PreparingRebalance).await;
    let jb = c.join_group(join_req("g", &b, RANGE), 5).await;
    assert_eq!(a_join.await.unwrap().generation_id, generation + 1);
    let sb = c
        .sync_group(sync_req("g", &b, generation + 1, &[]), 3)
        .await;
    assert_eq!(sb.error_code, 27, "rebalance restarted without the leader");
    assert_eq!(jb.generation_id, generation + 1);
    assert_eq!(
        heartbeat(&c, "g", &a, generation + 1).await,
        25,
        "leader evicted"
    );
}

#[tokio::test(start_paused = true)]
async fn join_validation_errors() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let mut r = join_req("g", "", RANGE);
    r.session_timeout_ms = 10;
    assert_eq!(
        c.join_group(r, 5).await.error_code,
        26,
        "INVALID_SESSION_TIMEOUT"
    );
    assert_eq!(
        c.join_group(join_req("", "", RANGE), 5).await.error_code,
        24
    );
    assert_eq!(c.join_group(join_req("g", "", &[]), 5).await.error_code, 23);
    assert_eq!(
        c.join_group(join_req("g", "made-up", RANGE), 5)
            .await
            .error_code,
        25
    );
    // v0-3 have no MEMBER_ID_REQUIRED step.
    let j = c.join_group(join_req("g", "", RANGE), 3).await;
    assert_eq!(j.error_code, 0);
    assert!(!j.member_id.is_empty());
    // A member speaking another protocol cannot join.
    let other = c
        .join_group(join_req("g", "", &[("roundrobin", b"")]), 3)
        .await;
    assert_eq!(other.error_code, 23, "INCONSISTENT_GROUP_PROTOCOL");
}

#[tokio::test(start_paused = true)]
async fn protocol_is_the_one_all_members_support() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let a = join_new(&c, "g", &[("cooperative-sticky", b"a1"), ("range", b"a2")]).await;
    let a_id = a.member_id.to_string();
    assert_eq!(a.protocol_name.as_deref(), Some("cooperative-sticky"));
    c.sync_group(sync_req("g", &a_id, 1, &[]), 3).await;
    let first = c.join_group(join_req("g", "", RANGE), 5).await;
    let b_join = spawn_join(&c, join_req("g", &first.member_id, RANGE));
    settle(&c, "g", GroupState::PreparingRebalance).await;
    let ja = c
        .join_group(
            join_req(
                "g",
                &a_id,
                &[("cooperative-sticky", b"a1"), ("range", b"a2")],
            ),
            5,
        )
        .await;
    b_join.await.unwrap();
    assert_eq!(ja.protocol_name.as_deref(), Some("range"));
    assert!(ja.members.iter().any(|m| &m.metadata[..] == b"a2"));
}

#[tokio::test(start_paused = true)]
async fn static_member_rejoining_fences_its_old_incarnation() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let mut r = join_req("g", "", RANGE);
    r.group_instance_id = Some(s("host-1"));
    let old = c.join_group(r.clone(), 5).await;
    assert_eq!(old.error_code, 0, "static members skip MEMBER_ID_REQUIRED");
    let new = c.join_group(r, 5).await;
    assert_eq!(new.error_code, 0);
    assert_ne!(old.member_id, new.member_id);
    let mut hb = HeartbeatRequest::default();
    hb.group_id = GroupId(s("g"));
    hb.member_id = old.member_id.clone();
    hb.group_instance_id = Some(s("host-1"));
    hb.generation_id = new.generation_id;
    assert_eq!(
        c.heartbeat(hb, 4).await.error_code,
        82,
        "FENCED_INSTANCE_ID"
    );
}

fn commit_req(
    group: &str,
    member: &str,
    generation: i32,
    offsets: &[(&str, i32, i64)],
) -> OffsetCommitRequest {
    let mut r = OffsetCommitRequest::default();
    r.group_id = GroupId(s(group));
    r.member_id = s(member);
    r.generation_id_or_member_epoch = generation;
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for (topic, partition, offset) in offsets {
        let mut p = OffsetCommitRequestPartition::default();
        p.partition_index = *partition;
        p.committed_offset = *offset;
        p.committed_metadata = Some(s("meta"));
        match topics.iter_mut().find(|t| t.name.as_str() == *topic) {
            Some(t) => t.partitions.push(p),
            None => {
                let mut t = OffsetCommitRequestTopic::default();
                t.name = TopicName(s(topic));
                t.partitions.push(p);
                topics.push(t);
            }
        }
    }
    r.topics = topics;
    r
}

fn commit_errors(r: &OffsetCommitResponse) -> Vec<i16> {
    r.topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| p.error_code))
        .collect()
}

async fn fetch(
    c: &GroupCoordinator,
    group: &str,
    topics: Option<&[(&str, &[i32])]>,
) -> Vec<(String, i32, i64)> {
    let mut r = OffsetFetchRequest::default();
    r.group_id = GroupId(s(group));
    r.topics = topics.map(|ts| {
        ts.iter()
            .map(|(name, parts)| {
                let mut t = OffsetFetchRequestTopic::default();
                t.name = TopicName(s(name));
                t.partition_indexes = parts.to_vec();
                t
            })
            .collect()
    });
    let resp = c.offset_fetch(r, 7).await;
    assert_eq!(resp.error_code, 0);
    resp.topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (t.name.to_string(), p.partition_index, p.committed_offset))
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn commits_are_validated_fetched_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = coordinator(dir.path());
        // Unknown group: nothing committed.
        assert_eq!(
            fetch(&c, "g", Some(&[("t", &[0])])).await,
            vec![("t".into(), 0, -1)]
        );
        // Unmanaged commits (generation -1) are allowed on an unknown group,
        // managed ones are not.
        let r = c
            .offset_commit(commit_req("simple", "", -1, &[("t", 0, 5)]), 8)
            .await;
        assert_eq!(commit_errors(&r), vec![0]);
        let r = c
            .offset_commit(commit_req("g", "m", 3, &[("t", 0, 5)]), 8)
            .await;
        assert_eq!(commit_errors(&r), vec![22]);

        let (a, b, generation) = stable_pair(&c, "g").await;
        let r = c
            .offset_commit(
                commit_req(
                    "g",
                    &a,
                    generation,
                    &[("t", 0, 10), ("t", 1, 11), ("u", 0, 3)],
                ),
                8,
            )
            .await;
        assert_eq!(commit_errors(&r), vec![0, 0, 0]);
        let r = c
            .offset_commit(commit_req("g", &b, generation - 1, &[("t", 1, 99)]), 8)
            .await;
        assert_eq!(commit_errors(&r), vec![22], "stale generation is refused");
        let r = c
            .offset_commit(commit_req("g", "intruder", generation, &[("t", 1, 99)]), 8)
            .await;
        assert_eq!(commit_errors(&r), vec![25]);
        let r = c
            .offset_commit(commit_req("g", "", -1, &[("t", 1, 99)]), 8)
            .await;
        assert_eq!(
            commit_errors(&r),
            vec![25],
            "no unmanaged commits while members are active"
        );
        let r = c
            .offset_commit(
                commit_req("g", &b, generation, &[("bad/topic", 0, 1), ("t", -1, 1)]),
                8,
            )
            .await;
        assert_eq!(commit_errors(&r), vec![3, 3]);

        assert_eq!(
            fetch(&c, "g", Some(&[("t", &[0, 1, 2])])).await,
            vec![
                ("t".into(), 0, 10),
                ("t".into(), 1, 11),
                ("t".into(), 2, -1)
            ]
        );
        assert_eq!(
            fetch(&c, "g", None).await,
            vec![("t".into(), 0, 10), ("t".into(), 1, 11), ("u".into(), 0, 3)],
            "null topics: everything the group committed"
        );
        assert_eq!(c.group_offsets("g")[&TopicPartition::new("u", 0)].offset, 3);
    }
    // A new coordinator over the same directory (a broker restart).
    let c = coordinator(dir.path());
    assert_eq!(
        fetch(&c, "g", None).await,
        vec![("t".into(), 0, 10), ("t".into(), 1, 11), ("u".into(), 0, 3)]
    );
    let all = c.committed_offsets();
    assert_eq!(all["simple"][&TopicPartition::new("t", 0)].offset, 5);
    assert_eq!(
        all["simple"][&TopicPartition::new("t", 0)]
            .metadata
            .as_deref(),
        Some("meta")
    );
    // Membership did not survive: the old generation is refused and the
    // group is listed as empty.
    let r = c
        .offset_commit(commit_req("g", "old", 2, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&r), vec![22]);
    let groups = c.groups();
    assert_eq!(groups.len(), 2);
    assert!(groups.iter().all(|g| g.state == GroupState::Empty));

    // v8 multi-group fetch.
    let mut r = OffsetFetchRequest::default();
    r.groups = ["g", "simple", "missing"]
        .iter()
        .map(|g| {
            let mut x = OffsetFetchRequestGroup::default();
            x.group_id = GroupId(s(g));
            x.topics = if *g == "missing" {
                let mut t = OffsetFetchRequestTopics::default();
                t.name = TopicName(s("t"));
                t.partition_indexes = vec![0];
                Some(vec![t])
            } else {
                None
            };
            x
        })
        .collect();
    let resp = c.offset_fetch(r, 8).await;
    assert_eq!(resp.groups.len(), 3);
    assert_eq!(resp.groups[0].topics.len(), 2);
    assert_eq!(resp.groups[1].topics[0].partitions[0].committed_offset, 5);
    assert_eq!(resp.groups[2].topics[0].partitions[0].committed_offset, -1);
}

#[tokio::test(start_paused = true)]
async fn commit_during_completing_rebalance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let a = join_new(&c, "g", RANGE).await;
    assert_eq!(state(&c, "g"), Some(GroupState::CompletingRebalance));
    let r = c
        .offset_commit(
            commit_req("g", &a.member_id, a.generation_id, &[("t", 0, 1)]),
            8,
        )
        .await;
    assert_eq!(commit_errors(&r), vec![27]);
}

/// Every response, at every advertised version, must be encodable: the
/// generated encoders reject fields a version does not have.
#[tokio::test(start_paused = true)]
async fn responses_encode_at_every_supported_version() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let (a, _b, generation) = stable_pair(&c, "g").await;
    let mut buf = bytes::BytesMut::new();
    let mut check = |what: &str, v: i16, r: &dyn Fn(&mut bytes::BytesMut) -> Res| {
        buf.clear();
        if let Err(e) = r(&mut buf) {
            panic!("{what} v{v}: {e}");
        }
    };
    for v in 0..=9 {
        let resp = c.join_group(join_req("g", &a, RANGE), v).await;
        check("JoinGroup", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
        let err = c.join_group(join_req("", "", RANGE), v).await;
        check("JoinGroup error", v, &|b| {
            err.encode(b, v).map_err(|e| e.to_string())
        });
    }
    for v in 0..=5 {
        let resp = c.sync_group(sync_req("g", &a, generation, &[]), v).await;
        check("SyncGroup", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
    }
    for v in 0..=4 {
        let mut r = HeartbeatRequest::default();
        r.group_id = GroupId(s("g"));
        let resp = c.heartbeat(r, v).await;
        check("Heartbeat", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
    }
    for v in 0..=5 {
        let mut r = LeaveGroupRequest::default();
        r.group_id = GroupId(s("g"));
        r.member_id = s("x");
        r.members = vec![MemberIdentity::default()];
        let resp = c.leave_group(r, v).await;
        check("LeaveGroup", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
    }
    for v in 2..=9 {
        let resp = c
            .offset_commit(commit_req("x", "", -1, &[("t", 0, 1)]), v)
            .await;
        check("OffsetCommit", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
    }
    for v in 1..=9 {
        let mut r = OffsetFetchRequest::default();
        r.group_id = GroupId(s("x"));
        let mut g = OffsetFetchRequestGroup::default();
        g.group_id = GroupId(s("x"));
        r.groups = vec![g];
        let resp = c.offset_fetch(r, v).await;
        check("OffsetFetch", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
    }
    for v in 0..=5 {
        let mut r = DescribeGroupsRequest::default();
        r.groups = vec![GroupId(s("g")), GroupId(s("x")), GroupId(s("none"))];
        let resp = c.describe_groups(r, v).await;
        check("DescribeGroups", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
        let resp = c.list_groups(ListGroupsRequest::default(), v).await;
        assert_eq!(resp.groups.len(), 2);
        check("ListGroups", v, &|b| {
            resp.encode(b, v).map_err(|e| e.to_string())
        });
    }
}

#[tokio::test(start_paused = true)]
async fn list_filters_and_oversized_group_ids() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let long = "g".repeat(70_000);
    let r = c
        .offset_commit(commit_req(&long, "", -1, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(
        commit_errors(&r),
        vec![24],
        "INVALID_GROUP_ID, not a truncated id"
    );
    stable_pair(&c, "live").await;
    let r = c
        .offset_commit(commit_req("offsets-only", "", -1, &[("t", 0, 1)]), 8)
        .await;
    assert_eq!(commit_errors(&r), vec![0]);

    let list = |states: &[&str], types: &[&str], v: i16| {
        let mut r = ListGroupsRequest::default();
        r.states_filter = states.iter().map(|x| s(x)).collect();
        r.types_filter = types.iter().map(|x| s(x)).collect();
        let c = c.clone();
        async move {
            let resp = c.list_groups(r, v).await;
            assert_eq!(resp.error_code, 0);
            resp.groups
                .iter()
                .map(|g| (g.group_id.to_string(), g.group_state.to_string()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(&[], &[], 4).await,
        vec![
            ("live".to_string(), "Stable".to_string()),
            ("offsets-only".to_string(), "Empty".to_string())
        ]
    );
    assert_eq!(list(&["stable"], &[], 4).await.len(), 1);
    assert_eq!(list(&["Dead"], &[], 4).await.len(), 0);
    assert_eq!(
        list(&[], &["consumer"], 5).await.len(),
        0,
        "no KIP-848 groups here"
    );
    assert_eq!(list(&[], &["classic"], 5).await.len(), 2);
    // v3 has no state field and ignores filters.
    assert_eq!(list(&[], &[], 3).await[0].1, "");
}

#[tokio::test(start_paused = true)]
async fn shutdown_releases_parked_requests() {
    let dir = tempfile::tempdir().unwrap();
    let c = coordinator(dir.path());
    let (a, _b, _generation) = stable_pair(&c, "g").await;
    // A new member waits for a and b to rejoin, which they never do.
    let first = c.join_group(join_req("g", "", RANGE), 5).await;
    let parked = spawn_join(&c, join_req("g", &first.member_id, RANGE));
    settle(&c, "g", GroupState::PreparingRebalance).await;
    assert!(!parked.is_finished());
    c.shutdown();
    assert_eq!(parked.await.unwrap().error_code, 16, "NOT_COORDINATOR");
    let late = c.join_group(join_req("g", &a, RANGE), 5).await;
    assert_eq!(late.error_code, 16);
}
