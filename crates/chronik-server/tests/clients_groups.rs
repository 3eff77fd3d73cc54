//! Consumer groups against the real broker binary, with real clients:
//! kafka-python and confluent-kafka (librdkafka), driven through the Python
//! scripts in `tests/clients/groups_*.py`, plus one raw-protocol test of
//! what a graceful shutdown does to a JoinGroup waiting for a rebalance.
//!
//! Needs `python3` with the `kafka-python` and `confluent-kafka` modules; a
//! missing tool or module fails the test with a message naming it. Every
//! broker listens on 127.0.0.1 port 0 with its own temporary data directory,
//! and every wait is bounded.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use common::clients::{check_group_handover, run_client_script};
use common::{KafkaConn, TestBroker};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::{
    ApiKey, DescribeGroupsRequest, DescribeGroupsResponse, GroupId, HeartbeatRequest,
    HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse,
    SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;
use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("JSON array")
        .iter()
        .map(|x| x.as_str().expect("JSON string").to_string())
        .collect()
}

/// Runs `groups_kafka_python.py command --bootstrap <broker> args...` and
/// returns its JSON summary.
fn kafka_python(broker: &TestBroker, command: &str, args: &[&str]) -> Value {
    let mut all = vec![command, "--bootstrap", &broker.addr];
    all.extend_from_slice(args);
    run_client_script(broker, "groups_kafka_python.py", &all)
}

/// A kafka-python consumer group reads part of a topic and commits; a new
/// consumer in the same group resumes exactly where the first stopped, and
/// so does a third one after the broker was killed (SIGKILL) and restarted.
/// The admin client then sees the group and its offsets.
#[test]
fn kafka_python_group_resumes_from_committed_offsets_across_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut broker = TestBroker::start(&data, &["--default-partitions", "3"]);
    let (topic, group) = ("resume-topic", "resume-group");

    let produced = kafka_python(&broker, "produce", &["--topic", topic, "--count", "30"]);
    assert_eq!(produced["partitions"], 3, "auto-created with 3 partitions");

    let consume = |broker: &TestBroker, count: &str, extra: &[&str]| {
        let mut args = vec!["--topic", topic, "--group", group, "--count", count];
        args.extend_from_slice(extra);
        strings(&kafka_python(broker, "consume", &args)["values"])
    };
    let first = consume(&broker, "10", &[]);
    let second = consume(&broker, "8", &[]);
    broker.kill9();

    let broker = TestBroker::start(&data, &["--default-partitions", "3"]);
    let third = consume(&broker, "12", &["--expect-end"]);

    let mut seen = BTreeSet::new();
    for v in first.iter().chain(&second).chain(&third) {
        assert!(
            seen.insert(v.clone()),
            "{v} was read twice: {first:?} {second:?} {third:?}"
        );
    }
    let all: BTreeSet<String> = (0..30).map(|i| format!("m-{i}")).collect();
    assert_eq!(seen, all, "every record read exactly once");

    // The admin view after the restart: ListGroups, DescribeGroups and a
    // multi-group OffsetFetch.
    let inspected = kafka_python(
        &broker,
        "inspect",
        &["--group", group, "--group", "never-used"],
    );
    let listed = inspected["listed"].as_array().expect("listed groups");
    assert!(
        listed.iter().any(|g| g["group_id"] == group
            && g["group_state"] == "Empty"
            && g["protocol_type"] == "consumer"),
        "{listed:?}"
    );
    assert_eq!(inspected["described"][group]["group_state"], "Empty");
    assert_eq!(
        inspected["offsets"],
        serde_json::json!({
            group: {"resume-topic:0": 10, "resume-topic:1": 10, "resume-topic:2": 10},
            "never-used": {}
        })
    );
}

/// Two kafka-python consumers (kafka-python's own assignor runs in the
/// leader) split a 4-partition topic; when one closes, the other takes
/// every partition and reads the rest, nothing missing or read twice.
#[test]
fn kafka_python_pair_splits_partitions_and_hands_over_on_leave() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&tmp.path().join("data"), &["--default-partitions", "4"]);
    let (topic, group) = ("pair-topic", "pair-group");
    kafka_python(&broker, "produce", &["--topic", topic, "--count", "20"]);
    let summary = kafka_python(
        &broker,
        "pair",
        &["--topic", topic, "--group", group, "--count", "20"],
    );
    let split = summary["split"].as_array().unwrap();
    assert_eq!(split.len(), 2);
    assert!(
        split.iter().all(|s| !s.as_array().unwrap().is_empty()),
        "{split:?}"
    );
    assert_eq!(summary["final"], serde_json::json!([0, 1, 2, 3]));
    assert_eq!(summary["read"], 60);
    // Every commit succeeded: the hand-over never rejected one.
    assert_eq!(summary["commit_errors"], serde_json::json!([]), "{summary}");
}

/// Runs the two-member confluent-kafka scenario (see groups_confluent.py)
/// and checks its summary: the partitions were split, the survivor ended
/// with all of them, and no record was missed or read twice.
fn confluent_two_member_handover(crash: bool) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&tmp.path().join("data"), &["--default-partitions", "4"]);
    let mut args = vec![
        "--bootstrap",
        &broker.addr,
        "--topic",
        "handover-topic",
        "--group",
        "handover-group",
        "--partitions",
        "4",
    ];
    if crash {
        args.push("--crash");
    }
    let summary = run_client_script(&broker, "groups_confluent.py", &args);
    check_group_handover(&summary, 4, 70);
    // A graceful leave rejects no commit. After a crash the survivor's
    // commits may meet the rebalance that evicts the dead member, and are
    // then refused with REBALANCE_IN_PROGRESS, nothing else.
    let errors = strings(&summary["commit_errors"]);
    if crash {
        assert!(
            errors.iter().all(|e| e.contains("REBALANCE_IN_PROGRESS")),
            "{errors:?}"
        );
    } else {
        assert_eq!(errors, Vec::<String>::new());
    }
    summary
}

/// Two confluent-kafka consumers split a 4-partition topic; when one
/// closes (LeaveGroup), the other takes over every partition and continues
/// from the committed offsets without missing or repeating a record.
#[test]
fn confluent_group_splits_partitions_and_hands_over_on_leave() {
    let summary = confluent_two_member_handover(false);
    assert_eq!(summary["crash"], false);
}

/// As above, but the second member is killed with SIGKILL: it never leaves,
/// so the coordinator must expire its session before the survivor can take
/// its partitions.
#[test]
fn confluent_group_recovers_the_partitions_of_a_crashed_member() {
    let summary = confluent_two_member_handover(true);
    assert_eq!(summary["crash"], true);
}

fn join_request(member_id: &str) -> JoinGroupRequest {
    join_request_in("raw-group", member_id, 30_000)
}

fn group_id(group: &str) -> GroupId {
    GroupId(StrBytes::from_string(group.to_string()))
}

fn join_request_in(group: &str, member_id: &str, session_timeout_ms: i32) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(group_id(group))
        .with_session_timeout_ms(session_timeout_ms)
        .with_rebalance_timeout_ms(300_000)
        .with_member_id(StrBytes::from_string(member_id.to_string()))
        .with_protocol_type(StrBytes::from_static_str("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(StrBytes::from_static_str("range"))
            .with_metadata(Bytes::from_static(b"meta"))])
}

/// Gets a member id (the first JoinGroup of a new member is answered with
/// MEMBER_ID_REQUIRED and the id to use).
fn member_id(conn: &mut KafkaConn, group: &str, session_timeout_ms: i32) -> String {
    let first: JoinGroupResponse = conn.call(
        ApiKey::JoinGroup,
        5,
        &join_request_in(group, "", session_timeout_ms),
    );
    assert_eq!(first.error_code, 79, "MEMBER_ID_REQUIRED");
    first.member_id.to_string()
}

/// Defines `fn $name(conn, group, generation, member) -> i16`: sends the
/// request (v3) as `member` of `generation` and returns the error code.
macro_rules! member_request {
    ($($name:ident: $key:ident, $req:ident => $resp:ident;)*) => {$(
        fn $name(conn: &mut KafkaConn, group: &str, generation: i32, member: &str) -> i16 {
            let resp: $resp = conn.call(
                ApiKey::$key,
                3,
                &$req::default()
                    .with_group_id(group_id(group))
                    .with_generation_id(generation)
                    .with_member_id(StrBytes::from_string(member.to_string())),
            );
            resp.error_code
        }
    )*};
}

member_request! {
    heartbeat: Heartbeat, HeartbeatRequest => HeartbeatResponse;
    sync: SyncGroup, SyncGroupRequest => SyncGroupResponse;
}

/// The group's state and member ids, as DescribeGroups reports them.
fn describe(conn: &mut KafkaConn, group: &str) -> (String, BTreeSet<String>) {
    let resp: DescribeGroupsResponse = conn.call(
        ApiKey::DescribeGroups,
        3,
        &DescribeGroupsRequest::default().with_groups(vec![group_id(group)]),
    );
    let g = &resp.groups[0];
    assert_eq!(g.error_code, 0);
    (
        g.group_state.to_string(),
        g.members.iter().map(|m| m.member_id.to_string()).collect(),
    )
}

/// Waits until DescribeGroups shows `group` in `state` with `member` in it.
fn wait_for_state(conn: &mut KafkaConn, group: &str, state: &str, member: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (now, members) = describe(conn, group);
        if now == state && members.contains(member) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "group {group} is {now} with {members:?}, expected {state} with {member}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A JoinGroup parked for a rebalance that cannot finish (the other member
/// never rejoins) is answered with NOT_COORDINATOR when the broker shuts
/// down gracefully, instead of being cut off, and the broker exits cleanly.
#[test]
fn parked_join_is_answered_when_the_broker_shuts_down() {
    let tmp = tempfile::tempdir().unwrap();
    let mut broker = TestBroker::start(&tmp.path().join("data"), &[]);

    // Member a forms generation 1 alone.
    let mut a = KafkaConn::connect(&broker.addr);
    let first: JoinGroupResponse = a.call(ApiKey::JoinGroup, 5, &join_request(""));
    assert_eq!(first.error_code, 79, "MEMBER_ID_REQUIRED");
    let a_id = first.member_id.to_string();
    let joined: JoinGroupResponse = a.call(ApiKey::JoinGroup, 5, &join_request(&a_id));
    assert_eq!((joined.error_code, joined.generation_id), (0, 1));
    let synced: SyncGroupResponse = a.call(
        ApiKey::SyncGroup,
        3,
        &SyncGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str("raw-group")))
            .with_generation_id(1)
            .with_member_id(StrBytes::from_string(a_id.clone())),
    );
    assert_eq!(synced.error_code, 0);

    // Member b's join starts a rebalance that waits for a (up to 300 s).
    let mut b = KafkaConn::connect(&broker.addr);
    let first: JoinGroupResponse = b.call(ApiKey::JoinGroup, 5, &join_request(""));
    assert_eq!(first.error_code, 79);
    let b_id = first.member_id.to_string();
    let parked = b.send(ApiKey::JoinGroup, 5, &join_request(&b_id));
    // Parked: the group waits in PreparingRebalance with b in it.
    let mut probe = KafkaConn::connect(&broker.addr);
    wait_for_state(&mut probe, "raw-group", "PreparingRebalance", &b_id);
    drop(probe);

    let status = broker.terminate();
    assert!(status.success(), "broker exit status {status}");
    let answer: JoinGroupResponse = b.recv(ApiKey::JoinGroup, 5, parked);
    assert_eq!(answer.error_code, 16, "NOT_COORDINATOR");
}

/// Sends a JoinGroup for each (connection, member, session timeout) in
/// order, waiting until the group has each one parked before sending the
/// next (so the coordinator sees them in this order), then reads every
/// response. Returns the responses in the same order.
fn rejoin(
    probe: &mut KafkaConn,
    group: &str,
    members: &mut [(&mut KafkaConn, &str, i32)],
) -> Vec<JoinGroupResponse> {
    let mut sent = Vec::new();
    let last = members.len() - 1;
    for (i, (conn, id, timeout)) in members.iter_mut().enumerate() {
        sent.push(conn.send(ApiKey::JoinGroup, 5, &join_request_in(group, id, *timeout)));
        if i < last {
            wait_for_state(probe, group, "PreparingRebalance", id);
        }
    }
    members
        .iter_mut()
        .zip(sent)
        .map(|((conn, _, _), correlation)| conn.recv(ApiKey::JoinGroup, 5, correlation))
        .collect()
}

/// Which member leads: the earliest-joined remaining member, after the
/// leader leaves (even when a later member rejoins first) and after the
/// leader is evicted for missing heartbeats (the survivor's own heartbeats
/// every 200 ms keep it in, with a 60 s session, however loaded the
/// machine).
#[test]
fn leadership_passes_in_join_order_after_leave_and_eviction() {
    const LONG: i32 = 60_000;
    const SHORT: i32 = 6_000;
    let g = "lead-group";
    let tmp = tempfile::tempdir().unwrap();
    let broker = TestBroker::start(&tmp.path().join("data"), &[]);
    let mut probe = KafkaConn::connect(&broker.addr);
    let (mut a, mut b, mut c) = (
        KafkaConn::connect(&broker.addr),
        KafkaConn::connect(&broker.addr),
        KafkaConn::connect(&broker.addr),
    );
    // a alone forms generation 1, then b, then c join: a leads all along.
    // (Each gets its member id just before joining: the coordinator waits
    // for members that got an id, as Kafka does since KIP-394.)
    let a_id = member_id(&mut a, g, LONG);
    let joined: JoinGroupResponse = a.call(ApiKey::JoinGroup, 5, &join_request_in(g, &a_id, LONG));
    assert_eq!(
        (joined.error_code, joined.leader.to_string()),
        (0, a_id.clone())
    );
    assert_eq!(sync(&mut a, g, joined.generation_id, &a_id), 0);
    let b_id = member_id(&mut b, g, LONG);
    let r = rejoin(
        &mut probe,
        g,
        &mut [(&mut b, &b_id, LONG), (&mut a, &a_id, LONG)],
    );
    assert!(r
        .iter()
        .all(|j| j.error_code == 0 && j.leader.to_string() == a_id));
    let c_id = member_id(&mut c, g, LONG);
    let r = rejoin(
        &mut probe,
        g,
        &mut [
            (&mut c, &c_id, LONG),
            (&mut a, &a_id, LONG),
            (&mut b, &b_id, LONG),
        ],
    );
    assert!(r
        .iter()
        .all(|j| j.error_code == 0 && j.leader.to_string() == a_id));
    let generation = r[0].generation_id;
    assert_eq!(sync(&mut a, g, generation, &a_id), 0);
    assert_eq!(sync(&mut b, g, generation, &b_id), 0);
    assert_eq!(sync(&mut c, g, generation, &c_id), 0);

    // The leader leaves. c rejoins before b, yet b (joined earlier) leads.
    let left: LeaveGroupResponse = a.call(
        ApiKey::LeaveGroup,
        1,
        &LeaveGroupRequest::default()
            .with_group_id(group_id(g))
            .with_member_id(StrBytes::from_string(a_id.clone())),
    );
    assert_eq!(left.error_code, 0);
    assert_eq!(
        heartbeat(&mut b, g, generation, &b_id),
        27,
        "REBALANCE_IN_PROGRESS"
    );
    // b's session is short from here on, so it can be evicted later.
    let r = rejoin(
        &mut probe,
        g,
        &mut [(&mut c, &c_id, LONG), (&mut b, &b_id, SHORT)],
    );
    for j in &r {
        assert_eq!(j.error_code, 0);
        assert_eq!(
            j.leader.to_string(),
            b_id,
            "the earliest-joined member leads"
        );
    }
    let leader_view: BTreeSet<String> = r[1]
        .members
        .iter()
        .map(|m| m.member_id.to_string())
        .collect();
    assert_eq!(leader_view, BTreeSet::from([b_id.clone(), c_id.clone()]));
    let generation = r[0].generation_id;
    assert_eq!(sync(&mut b, g, generation, &b_id), 0);
    assert_eq!(sync(&mut c, g, generation, &c_id), 0);
    assert_eq!(
        heartbeat(&mut a, g, generation, &a_id),
        25,
        "UNKNOWN_MEMBER_ID"
    );

    // b, now the leader, goes silent; c keeps heartbeating until the
    // coordinator evicts b and asks c to rejoin.
    let started = std::time::Instant::now();
    loop {
        match heartbeat(&mut c, g, generation, &c_id) {
            0 => {}
            27 => break,
            other => panic!("heartbeat error {other}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "b was never evicted; log:\n{}",
            broker.log_tail()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(SHORT as u64 / 2),
        "b was evicted after {:?}, before its session could expire",
        started.elapsed()
    );
    let r = rejoin(&mut probe, g, &mut [(&mut c, &c_id, LONG)]);
    assert_eq!(r[0].error_code, 0);
    assert_eq!(r[0].leader.to_string(), c_id, "the survivor leads");
    assert_eq!(r[0].members.len(), 1);
    assert_eq!(
        heartbeat(&mut b, g, generation, &b_id),
        25,
        "UNKNOWN_MEMBER_ID"
    );
}
