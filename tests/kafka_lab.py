"""Kafka helpers for tests: unique topics and groups on the shared lab, producing,
consuming with commits, and Apache Kafka's own ConsumerGroupCommand.

Every name starts with ``kafkat-`` plus a random suffix; ``KafkaScratch`` deletes what it
created. Every call is bounded by a timeout.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 10


def unique(kind: str) -> str:
    return f"kafkat-{kind}-{uuid.uuid4().hex[:8]}"


class KafkaScratch:
    """Topics and groups created by one test, deleted at the end."""

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.topics: list[str] = []
        self.groups: list[str] = []

    def topic(self, partitions: int = 3, kind: str = "topic", name: str | None = None, config: dict | None = None) -> str:
        name = name or unique(kind)
        self.admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(TIMEOUT)
        self.topics.append(name)
        deadline = time.time() + TIMEOUT  # wait until the metadata shows every partition
        while time.time() < deadline:
            meta = self.admin.list_topics(name, timeout=TIMEOUT).topics.get(name)
            if meta and not meta.error and len(meta.partitions) == partitions:
                break
            time.sleep(0.1)
        return name

    def group(self, kind: str = "group") -> str:
        name = unique(kind)
        self.groups.append(name)
        return name

    def produce(self, topic: str, count: int, partition: int | None = None, value=None, key=None, headers=None) -> None:
        producer = Producer({"bootstrap.servers": self.bootstrap, "batch.num.messages": 1, "linger.ms": 0,
                             "message.timeout.ms": TIMEOUT * 1000})
        for i in range(count):
            body = value(i) if callable(value) else (value if value is not None else json.dumps({"n": i}))
            kwargs = {"key": key(i) if callable(key) else key, "headers": headers}
            if partition is not None:
                kwargs["partition"] = partition
            producer.produce(topic, body, **kwargs)
            producer.poll(0)
        assert producer.flush(TIMEOUT) == 0, "messages left unsent"

    def produce_events(self, topic: str, events: list) -> None:
        """Produce (key, JSON-able value, timestamp ms or None) events, in order, to partition 0."""
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0, "message.timeout.ms": TIMEOUT * 1000})
        for key, value, timestamp in events:
            producer.produce(topic, json.dumps(value), key=key, partition=0, timestamp=timestamp or 0)
        assert producer.flush(TIMEOUT) == 0, "messages left unsent"

    def consumer(self, group: str, **extra) -> Consumer:
        conf = {"bootstrap.servers": self.bootstrap, "group.id": group, "enable.auto.commit": False,
                "auto.offset.reset": "earliest", "client.id": f"{group}-client", "session.timeout.ms": 6000,
                "socket.timeout.ms": TIMEOUT * 1000}
        conf.update(extra)
        return Consumer(conf)

    @contextmanager
    def member(self, topic: str, group: str, consumed: int):
        """A live group member subscribed to ``topic`` that consumed and committed ``consumed`` messages."""
        consumer = self.consumer(group)
        consumer.subscribe([topic])
        try:
            self.consume(consumer, consumed)
            yield consumer
        finally:
            consumer.close()

    def consume(self, consumer: Consumer, count: int, timeout: float = 20) -> list:
        """Poll until ``count`` messages arrived, committing each synchronously."""
        got = []
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            got.append(msg)
            consumer.commit(msg, asynchronous=False)
        assert len(got) == count, f"consumed {len(got)} of {count}"
        return got

    def commit(self, group: str, topic: str, offsets: dict) -> None:
        """Commit {partition: offset} for a group with no live members (like --reset-offsets)."""
        consumer = self.consumer(group)
        try:
            consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
        finally:
            consumer.close()

    def delete(self) -> None:
        if self.groups:
            for future in self.admin.delete_consumer_groups(self.groups, request_timeout=TIMEOUT).values():
                try:
                    future.result(TIMEOUT)
                except Exception:
                    pass  # a group that never committed does not exist
        if self.topics:
            for future in self.admin.delete_topics(self.topics, operation_timeout=TIMEOUT).values():
                try:
                    future.result(TIMEOUT)
                except Exception:
                    pass


def kafka_tool(kafka_service: dict, main_class: str, *args: str) -> subprocess.CompletedProcess:
    """Run one of Apache Kafka's own command-line tools from the jars the lab runs."""
    cmd = [
        kafka_service["java"], "-cp", kafka_service["classpath"],
        f"-Dlog4j2.configurationFile={kafka_service['log4j_config']}",
        main_class, "--bootstrap-server", ",".join(kafka_service["bootstrap_servers"]), *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def consumer_group_command(kafka_service: dict, *args: str) -> subprocess.CompletedProcess:
    """Kafka's ConsumerGroupCommand (kafka-consumer-groups)."""
    return kafka_tool(kafka_service, kafka_service["tools"]["consumer_group_command"], *args)


def tool_offsets(kafka_service: dict, topic: str, time_spec: str) -> dict:
    """{partition: offset} from Kafka's GetOffsetShell (-1 latest, -2 earliest)."""
    proc = kafka_tool(kafka_service, "org.apache.kafka.tools.GetOffsetShell", "--topic", topic, "--time", time_spec)
    assert proc.returncode == 0, proc.stderr
    offsets = {}
    for line in proc.stdout.split():
        name, partition, offset = line.rsplit(":", 2)
        assert name == topic
        offsets[int(partition)] = int(offset)
    return offsets


def tool_topic_overrides(kafka_service: dict, topic: str) -> str:
    """The dynamic configs line of Kafka's ConfigCommand (kafka-configs --describe)."""
    proc = kafka_tool(kafka_service, "kafka.admin.ConfigCommand", "--entity-type", "topics", "--entity-name", topic,
                      "--describe")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def tool_rows(text: str) -> list[dict]:
    """The rows of `--describe` as dicts keyed by the header's column names (independent of the filter)."""
    rows = []
    header = None
    for line in text.splitlines():
        cols = line.split()
        if not cols:
            continue
        if cols[0] == "GROUP":
            header = cols
        elif header and len(cols) == len(header):
            rows.append(dict(zip(header, cols)))
    return rows


@pytest.fixture
def scratch(kafka_params):
    """A KafkaScratch on the lab; its topics and groups are deleted after the test (import it to use it)."""
    box = KafkaScratch(",".join(kafka_params["bootstrap_servers"]))
    yield box
    box.delete()
