#!/usr/bin/env python3
"""Consumer-group offset tests with kafka-python, driven by clients_groups.rs.

Two subcommands, each bounded in time and printing one JSON line on success:

  produce  --bootstrap HOST:PORT --topic T --count N
      Sends values m-0 .. m-(N-1) round-robin over the topic's partitions with
      acks=all. Prints {"partitions": P, "produced": N}.

  consume  --bootstrap HOST:PORT --topic T --group G --count K [--expect-end]
      Joins group G, consumes exactly K records starting from the group's
      committed offsets (earliest if none), commits the offset after the last
      record of each partition it read, checks the commit with committed(),
      and leaves the group. With --expect-end, also checks that nothing more
      arrives. Prints {"values": [...], "committed": {partition: offset}}.

  pair     --bootstrap HOST:PORT --topic T --group G --count N
      The topic must already hold N records (m-0 ..). Two consumers in group
      G split its partitions (kafka-python's own range assignor runs in the
      leader); N more records are produced and both read, committing after
      each poll, until all 2N are read, each member reading some. Then one
      closes; the other must own every partition and read N more records
      produced afterwards, with nothing missing or read twice. Prints
      {"split": [[...], [...]], "final": [...], "read": R}.

  inspect  --bootstrap HOST:PORT --group G [--group G2 ...]
      Uses the admin client: ListGroups, DescribeGroups for the first group,
      and committed offsets of every named group in one OffsetFetch (v8
      multi-group form when the broker offers it). Prints
      {"listed": [...], "described": {...}, "offsets": {group: {"topic:p": offset}}}.

Any failure exits non-zero with a message on stderr.
"""

import argparse
import json
import sys
import time

from client_common import fail, needs

with needs("kafka-python"):
    import kafka
    import kafka.errors
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

# Every client call is bounded; the whole script must finish well within the
# Rust test's own timeout.
REQUEST_TIMEOUT_MS = 15_000
DEADLINE_S = 60


def produce(args):
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks="all",
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        max_block_ms=REQUEST_TIMEOUT_MS,
        retries=3,
    )
    try:
        partitions = None
        deadline = time.monotonic() + DEADLINE_S
        # The first metadata request auto-creates the topic.
        while not partitions:
            if time.monotonic() > deadline:
                fail(f"topic {args.topic} never appeared in metadata")
            partitions = producer.partitions_for(args.topic)
            if not partitions:
                time.sleep(0.2)
        partitions = sorted(partitions)
        futures = [
            producer.send(
                args.topic,
                value=f"m-{i}".encode(),
                partition=partitions[i % len(partitions)],
            )
            for i in range(args.count)
        ]
        producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
        for f in futures:
            f.get(timeout=REQUEST_TIMEOUT_MS / 1000)
    finally:
        producer.close(timeout=5)
    print(json.dumps({"partitions": len(partitions), "produced": args.count}))


def consume(args):
    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        client_id="groups-kafka-python",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        request_timeout_ms=REQUEST_TIMEOUT_MS + 5_000,
    )
    values = []
    last_offset = {}
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(values) < args.count:
            if time.monotonic() > deadline:
                fail(
                    f"consumed {len(values)} of {args.count} records before the deadline: {values}"
                )
            batch = consumer.poll(timeout_ms=500, max_records=args.count - len(values))
            for tp, records in batch.items():
                for r in records:
                    if tp.partition in last_offset and r.offset != last_offset[tp.partition] + 1:
                        fail(
                            f"partition {tp.partition}: offset {r.offset} follows "
                            f"{last_offset[tp.partition]}"
                        )
                    last_offset[tp.partition] = r.offset
                    values.append(r.value.decode())
        offsets = {
            TopicPartition(args.topic, p): OffsetAndMetadata(o + 1, "", -1)
            for p, o in last_offset.items()
        }
        if offsets:
            consumer.commit(offsets)
        committed = {}
        for tp, om in offsets.items():
            got = consumer.committed(tp)
            if got != om.offset:
                fail(f"committed({tp}) returned {got}, expected {om.offset}")
            committed[tp.partition] = got
        if args.expect_end:
            extra = consumer.poll(timeout_ms=2_000)
            leftovers = [r.value.decode() for rs in extra.values() for r in rs]
            if leftovers:
                fail(f"records beyond the expected end: {leftovers}")
    finally:
        consumer.close(autocommit=False)
    print(json.dumps({"values": values, "committed": committed}))


def pair(args):
    def member(name):
        return KafkaConsumer(
            args.topic,
            bootstrap_servers=args.bootstrap,
            group_id=args.group,
            client_id=name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=500,
            request_timeout_ms=REQUEST_TIMEOUT_MS + 5_000,
        )

    a, b = member("pair-a"), member("pair-b")
    read = {"a": [], "b": []}
    commit_errors = []

    def poll(name, consumer):
        batch = consumer.poll(timeout_ms=100)
        for records in batch.values():
            read[name].extend(r.value.decode() for r in records)
        if batch:
            try:
                consumer.commit()
            except kafka.errors.KafkaError as e:
                # Reported with any duplicates it causes.
                commit_errors.append(f"{name}: {e!r}")

    def parts(consumer):
        return sorted(tp.partition for tp in consumer.assignment())

    def wait(what, condition, members):
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if time.monotonic() > deadline:
                b_parts = parts(b) if b is not None else "closed"
                fail(f"timed out waiting for {what}: a={parts(a)} b={b_parts} read={read}")
            for name, consumer in members:
                poll(name, consumer)

    def send(start, end):
        producer = KafkaProducer(
            bootstrap_servers=args.bootstrap,
            acks="all",
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            max_block_ms=REQUEST_TIMEOUT_MS,
        )
        try:
            futures = [
                producer.send(
                    args.topic,
                    value=f"m-{i}".encode(),
                    partition=everything[i % len(everything)],
                )
                for i in range(start, end)
            ]
            producer.flush(timeout=REQUEST_TIMEOUT_MS / 1000)
            for f in futures:
                f.get(timeout=REQUEST_TIMEOUT_MS / 1000)
        finally:
            producer.close(timeout=5)

    everything = None
    try:
        everything = sorted(a.partitions_for_topic(args.topic) or [])
        if len(everything) < 2:
            fail(f"need at least 2 partitions, topic has {everything}")
        both = [("a", a), ("b", b)]

        def split():
            pa, pb = parts(a), parts(b)
            return pa and pb and not set(pa) & set(pb) and sorted(pa + pb) == everything

        wait("the partitions to be split", split, both)
        split_parts = [parts(a), parts(b)]
        send(args.count, 2 * args.count)
        wait(
            f"both members to read the first {2 * args.count} records",
            lambda: len(read["a"]) + len(read["b"]) >= 2 * args.count,
            both,
        )
        if [parts(a), parts(b)] != split_parts:
            fail(f"assignment changed without a membership change: {parts(a)} {parts(b)}")
        if not read["b"] or not read["a"]:
            fail(f"one member read nothing: {read}")
        b.close(autocommit=False)
        b = None
        send(2 * args.count, 3 * args.count)
        wait(
            "the remaining member to take every partition and read everything",
            lambda: parts(a) == everything and len(read["a"]) + len(read["b"]) >= 3 * args.count,
            [("a", a)],
        )
        final = parts(a)
    finally:
        a.close(autocommit=False)
        if b is not None:
            b.close(autocommit=False)
    values = read["a"] + read["b"]
    expected = {f"m-{i}" for i in range(3 * args.count)}
    if set(values) != expected or len(values) != len(expected):
        fail(f"read {len(values)} records, missing {sorted(expected - set(values))}, "
             f"{len(values) - len(set(values))} duplicates; commit errors: {commit_errors}")
    print(json.dumps({"split": split_parts, "final": final, "read": len(values),
                      "commit_errors": commit_errors}))


def inspect(args):
    admin = KafkaAdminClient(
        bootstrap_servers=args.bootstrap,
        client_id="groups-kafka-python-admin",
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    try:
        listed = admin.list_groups()
        described = admin.describe_groups([args.group[0]])
        offsets = admin.list_group_offsets(list(args.group))
    finally:
        admin.close()
    result = {
        "listed": listed,
        "described": described,
        "offsets": {
            group: {f"{tp.topic}:{tp.partition}": om.offset for tp, om in by_tp.items()}
            for group, by_tp in offsets.items()
        },
    }
    # Descriptions may hold decoded protocol structs; str() them.
    print(json.dumps(result, default=str))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    c = sub.add_parser("consume")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--topic", required=True)
    c.add_argument("--group", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--expect-end", action="store_true")
    pr = sub.add_parser("pair")
    pr.add_argument("--bootstrap", required=True)
    pr.add_argument("--topic", required=True)
    pr.add_argument("--group", required=True)
    pr.add_argument("--count", type=int, required=True)
    i = sub.add_parser("inspect")
    i.add_argument("--bootstrap", required=True)
    i.add_argument("--group", action="append", required=True)
    args = parser.parse_args()
    print(f"kafka-python {kafka.__version__}", file=sys.stderr)
    commands = {"produce": produce, "consume": consume, "pair": pair, "inspect": inspect}
    commands[args.command](args)


if __name__ == "__main__":
    main()
