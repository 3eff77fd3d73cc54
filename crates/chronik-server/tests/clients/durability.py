#!/usr/bin/env python3
"""confluent-kafka (librdkafka) client for the broker's durability tests.

    durability.py produce BOOTSTRAP TOPIC ACKED_FILE COUNT
        Idempotent producer (enable.idempotence, acks=all). Sends values
        m00000000, m00000001, ... in order and appends each value to
        ACKED_FILE (one line, flushed) when the broker acknowledges it.
        Prints a JSON summary when all COUNT are acknowledged or failed.

    durability.py consume BOOTSTRAP TOPIC OUT_FILE
        Reads partition 0 of TOPIC from the beginning to the end and writes
        one value per line to OUT_FILE. Prints a JSON summary.

Exit status 3 means the confluent_kafka module is missing.
"""

import json
import sys
import time

try:
    from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,
                                 Producer, TopicPartition)
except ImportError as e:
    print(f"durability.py needs the Python module confluent-kafka "
          f"(pip install confluent-kafka): {e}", file=sys.stderr)
    sys.exit(3)


def produce(bootstrap, topic, acked_path, count):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 2,
        "message.timeout.ms": 60000,
        "request.timeout.ms": 30000,
    })
    failures = []
    acked = 0
    with open(acked_path, "a", buffering=1) as out:
        def on_delivery(err, msg):
            nonlocal acked
            if err is None:
                out.write(msg.value().decode() + "\n")
                acked += 1
            else:
                failures.append(str(err))

        for i in range(count):
            value = f"m{i:08d}".encode()
            while True:
                try:
                    producer.produce(topic, value=value, partition=0,
                                     on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        remaining = producer.flush(90)
    print(json.dumps({"acked": acked, "failed": len(failures),
                      "unflushed": remaining, "errors": failures[:5]}))
    return 0 if acked == count else 1


def consume(bootstrap, topic, out_path):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "durability-check",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
    })
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values = []
    deadline = time.time() + 120
    eof = False
    while time.time() < deadline:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                eof = True
                break
            print(f"consume error: {msg.error()}", file=sys.stderr)
            return 1
        values.append(msg.value().decode())
    consumer.close()
    with open(out_path, "w") as out:
        out.writelines(v + "\n" for v in values)
    print(json.dumps({"read": len(values), "reached_end": eof}))
    return 0 if eof else 1


def main(argv):
    if len(argv) == 5 and argv[0] == "produce":
        return produce(argv[1], argv[2], argv[3], int(argv[4]))
    if len(argv) == 4 and argv[0] == "consume":
        return consume(argv[1], argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
