#!/usr/bin/env python3
"""A two-member consumer group with confluent-kafka (librdkafka), driven by
clients_groups.rs.

  groups_confluent.py --bootstrap HOST:PORT --topic T --group G
                      [--partitions P] [--initial I] [--during D] [--after A]
                      [--crash]

1. Produces I records (values m-0 ..) round-robin over the P partitions of an
   auto-created topic, with acks=all.
2. Two consumers join group G (range assignor). Checks that the partitions
   are split between them: disjoint, non-empty, covering all P.
3. Produces D more records; both members consume until all I + D are read,
   committing each record synchronously after processing it. The second
   member must have read some of them.
4. The second member leaves (close()) or, with --crash, is killed with
   SIGKILL (it runs in a child process, so it never says goodbye and the
   broker must notice its silence through the session timeout). A more
   records are produced.
5. The first member must end up owning all P partitions and read every
   remaining record: nothing missing and nothing read twice.

Prints one JSON summary line; any failure exits non-zero with a message on
stderr. Every wait is bounded.
"""

import argparse
import json
import subprocess
import sys
import threading
import time

from client_common import fail, needs

with needs("confluent-kafka"):
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaException, Producer

PHASE_DEADLINE_S = 60


def produce(bootstrap, topic, partitions, start, count):
    errors = []

    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "message.timeout.ms": 30_000,
            "socket.timeout.ms": 10_000,
        }
    )
    for i in range(start, start + count):
        producer.produce(
            topic, value=f"m-{i}".encode(), partition=i % partitions, on_delivery=delivered
        )
        producer.poll(0)
    remaining = producer.flush(30)
    if remaining or errors:
        fail(f"produce failed: {remaining} undelivered, errors {errors[:5]}")


class Member:
    """One consumer and what it has read."""

    def __init__(self, name, bootstrap, topic, group):
        self.name = name
        self.values = []
        self.commit_errors = []
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "client.id": name,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "partition.assignment.strategy": "range",
                # 30 heartbeats per session: a live member survives a
                # loaded 2-core machine; a killed one is evicted in 15 s,
                # well inside the 60 s phase deadline.
                "session.timeout.ms": 15_000,
                "heartbeat.interval.ms": 500,
                "socket.timeout.ms": 10_000,
                "topic.metadata.refresh.interval.ms": 1_000,
            }
        )
        self.consumer.subscribe([topic])

    def poll(self):
        msg = self.consumer.poll(0.1)
        if msg is None:
            return
        if msg.error():
            # Partition EOF and the like are informational; real errors fail.
            if msg.error().fatal():
                fail(f"{self.name}: fatal consumer error {msg.error()}")
            return
        self.values.append(msg.value().decode())
        try:
            self.consumer.commit(message=msg, asynchronous=False)
        except KafkaException as e:
            self.commit_errors.append(str(e))

    def partitions(self):
        return sorted(tp.partition for tp in self.consumer.assignment())

    def leave(self):
        self.consumer.close()


class RemoteMember:
    """A member running in a child process (``--serve-member``), so that it
    can be killed without leaving the group. The child reports its
    assignment and every record it has read and committed on stdout."""

    def __init__(self, name, args):
        self.name = name
        self.values = []
        self.commit_errors = []
        self._assigned = []
        self._lock = threading.Lock()
        self.child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--bootstrap", args.bootstrap,
                "--topic", args.topic,
                "--group", args.group,
                "--serve-member", name,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.child.stdout:
            event = json.loads(line)
            with self._lock:
                if "assigned" in event:
                    self._assigned = event["assigned"]
                if "value" in event:
                    self.values.append(event["value"])

    def poll(self):
        if self.child.poll() is not None:
            fail(f"{self.name}: child process exited early with {self.child.returncode}")

    def partitions(self):
        with self._lock:
            return list(self._assigned)

    def leave(self):
        self.child.kill()  # SIGKILL: no LeaveGroup, no final commit
        self.child.wait(timeout=10)
        self._reader.join(timeout=10)


def serve_member(args):
    """Child side of RemoteMember: consume until killed (or a deadline)."""
    member = Member(args.serve_member, args.bootstrap, args.topic, args.group)
    reported_assignment = None
    reported = 0
    deadline = time.monotonic() + 4 * PHASE_DEADLINE_S
    while time.monotonic() < deadline:
        member.poll()
        # Reported only after the synchronous commit in poll().
        for value in member.values[reported:]:
            print(json.dumps({"value": value}), flush=True)
        reported = len(member.values)
        assigned = member.partitions()
        if assigned != reported_assignment:
            print(json.dumps({"assigned": assigned}), flush=True)
            reported_assignment = assigned
    fail(f"{args.serve_member}: never killed by the parent")


def wait_for(what, condition, members):
    deadline = time.monotonic() + PHASE_DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            state = {m.name: {"assigned": m.partitions(), "read": len(m.values)} for m in members}
            fail(f"timed out waiting for {what}: {state}")
        for m in members:
            m.poll()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--initial", type=int, default=10)
    parser.add_argument("--during", type=int, default=30)
    parser.add_argument("--after", type=int, default=30)
    parser.add_argument("--crash", action="store_true")
    parser.add_argument("--serve-member", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_member:
        return serve_member(args)
    print(
        f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka {confluent_kafka.libversion()[0]}",
        file=sys.stderr,
    )
    everything = list(range(args.partitions))

    produce(args.bootstrap, args.topic, args.partitions, 0, args.initial)
    a = Member("member-a", args.bootstrap, args.topic, args.group)
    if args.crash:
        b = RemoteMember("member-b", args)
    else:
        b = Member("member-b", args.bootstrap, args.topic, args.group)
    both = [a, b]

    def split():
        pa, pb = a.partitions(), b.partitions()
        return pa and pb and not set(pa) & set(pb) and sorted(pa + pb) == everything

    wait_for("the partitions to be split between both members", split, both)
    split_a, split_b = a.partitions(), b.partitions()
    before = args.initial + args.during
    produce(args.bootstrap, args.topic, args.partitions, args.initial, args.during)
    wait_for(
        f"both members to read the first {before} records",
        lambda: len(a.values) + len(b.values) >= before,
        both,
    )
    if a.partitions() != split_a or b.partitions() != split_b:
        fail(f"assignment changed without a membership change: {a.partitions()} {b.partitions()}")
    read_by_b = len(b.values)

    b.leave()
    left_at = time.monotonic()
    produce(args.bootstrap, args.topic, args.partitions, before, args.after)
    total = before + args.after
    wait_for(
        "the remaining member to own every partition and read everything",
        lambda: a.partitions() == everything and len(a.values) + len(b.values) >= total,
        [a],
    )
    takeover_s = time.monotonic() - left_at
    # Anything still in flight would show up as a duplicate.
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        a.poll()
    final = a.partitions()
    a.leave()

    read = a.values + b.values
    expected = {f"m-{i}" for i in range(total)}
    missing = sorted(expected - set(read), key=lambda v: int(v[2:]))
    duplicates = len(read) - len(set(read))
    summary = {
        "split": [split_a, split_b],
        "read_by_b_before_leaving": read_by_b,
        "crash": args.crash,
        "takeover_seconds": round(takeover_s, 1),
        "final_assignment": final,
        "read": len(read),
        "missing": missing,
        "duplicates": duplicates,
        "commit_errors": a.commit_errors + b.commit_errors,
    }
    print(json.dumps(summary))
    if missing:
        fail(f"records never read: {missing}")
    if duplicates:
        fail(f"{duplicates} records read twice although every record was committed")
    if not read_by_b:
        fail("the second member read nothing while it owned partitions")


if __name__ == "__main__":
    main()
