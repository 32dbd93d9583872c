"""Faults the Kafka molecule scenarios inject into the shared lab, and their removal.

Every topic and group is named ``molecule-<scenario>-...`` so a scenario only ever touches its own;
every call is bounded by a timeout. Run with the controller's Python (confluent_kafka is an opsbook
dependency):

    kafka_fixture.py lag TOPIC GROUP PRODUCED COMMITTED     # a group with a committed offset and a real lag
    kafka_fixture.py connerr LOGFILE                       # a real consumer's log of failed connections
    kafka_fixture.py retention TOPIC RETENTION_MS           # a topic with its own retention.ms
    kafka_fixture.py saga BILLING INVENTORY                 # PaymentFailed events, some without compensation
    kafka_fixture.py teardown PREFIX                        # delete the topics and groups named PREFIX*

The bootstrap servers come from the lab's state (``opsbook lab status --json``).
"""

from __future__ import annotations

import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state

TIMEOUT = 10
MINUTE = 60 * 1000


def _bootstrap():
    return ",".join(read_state()["services"]["kafka"]["bootstrap_servers"])


def _admin():
    return AdminClient({"bootstrap.servers": _bootstrap()})


def _topic(name, partitions=1, config=None):
    admin = _admin()
    admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(TIMEOUT)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        meta = admin.list_topics(name, timeout=TIMEOUT).topics.get(name)
        if meta and not meta.error and len(meta.partitions) == partitions:
            return
        time.sleep(0.1)
    raise SystemExit(f"topic {name} has no metadata after {TIMEOUT}s")


def _produce(topic, events):
    """events: (key, value, timestamp ms or 0), to partition 0, in order."""
    producer = Producer({"bootstrap.servers": _bootstrap(), "linger.ms": 5, "message.timeout.ms": TIMEOUT * 1000})
    for key, value, timestamp in events:
        producer.produce(topic, value, key=key, partition=0, timestamp=timestamp)
        producer.poll(0)
    if producer.flush(TIMEOUT):
        raise SystemExit(f"messages left unsent to {topic}")


def lag(topic, group, produced, committed):
    produced, committed = int(produced), int(committed)
    _topic(topic)
    _produce(topic, [(None, json.dumps({"n": i}), 0) for i in range(produced)])
    # The group commits the offset a consumer of the first `committed` messages would, then leaves: a real
    # committed offset in __consumer_offsets, the group Empty, the lag produced - committed.
    consumer = Consumer({"bootstrap.servers": _bootstrap(), "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        read, deadline = 0, time.time() + TIMEOUT * 3
        while read < committed and time.time() < deadline:
            msg = consumer.poll(1)
            if msg is not None and not msg.error():
                read += 1
        if read < committed:
            raise SystemExit(f"consumed {read} of {committed} messages of {topic}")
        consumer.commit(offsets=[TopicPartition(topic, 0, committed)], asynchronous=False)
    finally:
        consumer.close()
    print(json.dumps({"topic": topic, "group": group, "log_end_offset": produced, "committed": committed,
                      "lag": produced - committed}))


def connerr(logfile, seconds="4"):
    """A consumer pointed at a closed port of this host for a few seconds, librdkafka's log written to LOGFILE:
    the connection errors a consumer that lost its broker logs (no message is invented here)."""
    import logging
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logger = logging.getLogger("molecule-consumer")
    handler = logging.FileHandler(logfile)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    consumer = Consumer({"bootstrap.servers": "127.0.0.1:%d" % port, "group.id": "molecule-unreachable",
                         "reconnect.backoff.max.ms": 500, "logger": logger})
    try:
        consumer.subscribe(["molecule-unreachable"])
        deadline = time.time() + float(seconds)
        while time.time() < deadline:
            consumer.poll(0.2)
    finally:
        consumer.close()
        handler.close()
    with open(logfile) as handle:
        refused = sum("Connection refused" in line for line in handle)
    print(json.dumps({"log": logfile, "port": port, "connection_refused_lines": refused}))


def retention(topic, retention_ms):
    _topic(topic, config={"retention.ms": str(retention_ms)})
    print(json.dumps({"topic": topic, "retention.ms": str(retention_ms)}))


def saga(billing, inventory):
    """Orders S1, S2 failed 10 minutes ago, never compensated (stuck); C1 compensated; P1 failed just now."""
    now = int(time.time() * 1000)

    def event(kind, order, at):
        return order, json.dumps({"type": kind, "orderId": order}), at

    _topic(billing)
    _topic(inventory)
    _produce(billing, [event("PaymentFailed", "S1", now - 10 * MINUTE), event("PaymentFailed", "C1", now - 10 * MINUTE),
                       event("PaymentFailed", "S2", now - 9 * MINUTE), event("PaymentFailed", "P1", now - 1000)])
    _produce(inventory, [event("InventoryReleased", "C1", now - 9 * MINUTE)])
    print(json.dumps({"stuck": ["S1", "S2"], "compensated": ["C1"], "pending": ["P1"]}))


def teardown(prefix):
    if not prefix.startswith("molecule-"):
        raise SystemExit(f"refusing to delete {prefix}*: only molecule-* names are the scenarios' own")
    admin = _admin()
    topics = [t for t in admin.list_topics(timeout=TIMEOUT).topics if t.startswith(prefix)]
    groups = [g.group_id for g in admin.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT).valid
              if g.group_id.startswith(prefix)]
    for future in (admin.delete_consumer_groups(groups, request_timeout=TIMEOUT) if groups else {}).values():
        future.result(TIMEOUT)
    for name, future in (admin.delete_topics(topics, operation_timeout=TIMEOUT) if topics else {}).items():
        try:
            future.result(TIMEOUT)
        except KafkaException as exc:
            if "UNKNOWN_TOPIC" not in str(exc):
                raise
    deadline = time.time() + TIMEOUT  # deletion is asynchronous: wait until the metadata no longer shows them
    while time.time() < deadline and any(t in admin.list_topics(timeout=TIMEOUT).topics for t in topics):
        time.sleep(0.2)
    print(json.dumps({"changed": bool(topics or groups), "deleted_topics": sorted(topics), "deleted_groups": sorted(groups)}))


if __name__ == "__main__":
    {"lag": lag, "connerr": connerr, "retention": retention, "saga": saga, "teardown": teardown}[sys.argv[1]](*sys.argv[2:])
