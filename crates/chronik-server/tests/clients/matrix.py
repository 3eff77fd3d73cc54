#!/usr/bin/env python3
"""Client-generation matrix: one script, two Python clients.

    matrix.py CLIENT roundtrip BOOTSTRAP TOPIC CODEC COUNT [MECH USER PASSWORD]
        Produces COUNT values "<CODEC>-<i>" to partition 0 of TOPIC with
        acks=all and compression CODEC (none, gzip, snappy, lz4, zstd), then
        reads partition 0 back from the beginning. With MECH (PLAIN or
        SCRAM-SHA-256), USER and PASSWORD, over SASL_PLAINTEXT. Prints JSON:
        the client's version and the values read.

    matrix.py CLIENT refused BOOTSTRAP MECH USER PASSWORD
        Tries to fetch metadata over SASL_PLAINTEXT (MECH "none": with no
        SASL at all). Prints JSON {"refused": true/false, ...}.

CLIENT is "confluent" (confluent-kafka, librdkafka) or "kafka-python".
Exit status 3 means the client's module is missing.
"""

import json
import sys
import time

DEADLINE_S = 60


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def sasl_conf(client, mech, user, password):
    if mech is None:
        return {}
    if client == "confluent":
        return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mech,
                "sasl.username": user, "sasl.password": password}
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mech,
            "sasl_plain_username": user, "sasl_plain_password": password}


def confluent_roundtrip(bootstrap, topic, codec, count, sasl):
    from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError,
                                 Producer, TopicPartition, libversion,
                                 version)
    errors = []
    producer = Producer(dict(sasl, **{
        "bootstrap.servers": bootstrap, "acks": "all",
        "compression.type": codec, "linger.ms": 20,
        "error_cb": errors.append}))
    delivered = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            delivered.append(msg.offset())

    for i in range(count):
        producer.produce(topic, f"{codec}-{i}".encode(), partition=0,
                         on_delivery=on_delivery)
    if producer.flush(DEADLINE_S) != 0 or errors or len(delivered) != count:
        fail(f"produce failed: errors={errors} delivered={len(delivered)}")
    consumer = Consumer(dict(sasl, **{
        "bootstrap.servers": bootstrap, "group.id": "matrix",
        "enable.auto.commit": False, "enable.partition.eof": True}))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values, deadline = [], time.time() + DEADLINE_S
    while time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                break
            fail(f"consume error: {msg.error()}")
        values.append(msg.value().decode())
    consumer.close()
    v = version()
    return {"client": f"confluent-kafka {v[0] if isinstance(v, tuple) else v}",
            "librdkafka": libversion()[0], "values": values}


def kafka_python_roundtrip(bootstrap, topic, codec, count, sasl):
    import kafka
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20,
        compression_type=None if codec == "none" else codec, **sasl)
    futures = [producer.send(topic, f"{codec}-{i}".encode(), partition=0)
               for i in range(count)]
    producer.flush(DEADLINE_S)
    for f in futures:
        f.get(timeout=DEADLINE_S)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=3000, **sasl)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    end = consumer.end_offsets([tp])[tp]
    values, deadline = [], time.time() + DEADLINE_S
    while consumer.position(tp) < end and time.time() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            values.extend(r.value.decode() for r in records)
    consumer.close()
    return {"client": f"kafka-python {kafka.__version__}", "values": values}


def refused(client, bootstrap, mech, user, password):
    sasl = {} if mech == "none" else sasl_conf(client, mech, user, password)
    if client == "confluent":
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient
        errors = []
        admin = AdminClient(dict(sasl, **{"bootstrap.servers": bootstrap,
                                          "error_cb": errors.append}))
        try:
            admin.list_topics(timeout=10)
            return {"refused": False}
        except KafkaException as e:
            return {"refused": True, "error": str(e),
                    "auth_error": any(x.code() == KafkaError._AUTHENTICATION
                                      for x in errors)}
    import kafka.errors
    from kafka import KafkaConsumer
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap,
                                 request_timeout_ms=10000,
                                 api_version_auto_timeout_ms=10000, **sasl)
        topics = consumer.topics()
        consumer.close()
        return {"refused": False, "topics": sorted(topics)}
    except kafka.errors.KafkaError as e:
        return {"refused": True, "error": repr(e)}


def main(argv):
    if len(argv) < 2 or argv[0] not in ("confluent", "kafka-python"):
        print(__doc__, file=sys.stderr)
        return 2
    client, command = argv[0], argv[1]
    try:
        if client == "confluent":
            import confluent_kafka  # noqa: F401
        else:
            import kafka  # noqa: F401
    except ImportError as e:
        print(f"matrix.py needs the Python module for {client}: {e}", file=sys.stderr)
        return 3
    if command == "roundtrip" and len(argv) in (6, 9):
        bootstrap, topic, codec, count = argv[2], argv[3], argv[4], int(argv[5])
        sasl = sasl_conf(client, *argv[6:9]) if len(argv) == 9 else {}
        run = confluent_roundtrip if client == "confluent" else kafka_python_roundtrip
        print(json.dumps(run(bootstrap, topic, codec, count, sasl)))
        return 0
    if command == "refused" and len(argv) == 6:
        print(json.dumps(refused(client, *argv[2:6])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
