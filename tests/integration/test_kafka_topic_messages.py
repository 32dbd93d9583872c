"""kafka_topic and kafka_messages against the lab's real Kafka, checked with Kafka's own
GetOffsetShell, ConfigCommand and ConsumerGroupCommand."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.helpers import closed_port, run_module
from tests.kafka_lab import consumer_group_command, scratch, tool_offsets, tool_topic_overrides  # noqa: F401 - scratch is a fixture

pytestmark = pytest.mark.lab


def test_list_dlq_topics_with_message_counts_equal_get_offset_shell(lab, kafka_params, scratch):
    prefix = f"kafkat-{uuid.uuid4().hex[:8]}"
    dlq = scratch.topic(partitions=3, name=f"{prefix}-orders.dlq")
    scratch.topic(partitions=1, name=f"{prefix}-orders")
    empty_dlq = scratch.topic(partitions=1, name=f"{prefix}-billing-dlq")
    scratch.produce(dlq, 4, partition=0)
    scratch.produce(dlq, 2, partition=2)
    result = run_module("kafka_topic", dict(kafka_params, pattern=f"^{prefix}.*dlq.*", warn_messages=1))
    svc = lab["services"]["kafka"]
    latest, earliest = tool_offsets(svc, dlq, "-1"), tool_offsets(svc, dlq, "-2")
    expected = sum(latest[p] - earliest[p] for p in latest)
    assert expected == 6
    assert result["topics"] == [{"name": empty_dlq, "partitions": 1, "messages": 0},
                                {"name": dlq, "partitions": 3, "messages": expected}]
    statuses = {f["target"]: (f["status"], f["value"]) for f in result["findings"]}
    assert statuses == {dlq: ("warning", 6), empty_dlq: ("ok", 0)}
    assert result["status"] == "warning" and result["changed"] is False


def test_set_retention_idempotent_with_check_mode_and_diff(lab, kafka_params, scratch):
    topic = scratch.topic(partitions=1, config={"retention.ms": "86400000"})
    svc = lab["services"]["kafka"]
    wanted = dict(kafka_params, name=topic, configs={"retention.ms": 604800000})

    checked = run_module("kafka_topic", wanted, check_mode=True)
    assert checked["changed"] is True
    assert checked["diff"] == {"before": {"retention.ms": "86400000"}, "after": {"retention.ms": "604800000"}}
    assert checked["actions"][0]["dry_run"] is True
    assert "retention.ms=86400000 " in tool_topic_overrides(svc, topic)  # nothing changed

    applied = run_module("kafka_topic", wanted)
    assert applied["changed"] is True and applied["topic"]["configs"]["retention.ms"] == "604800000"
    assert "retention.ms=604800000 " in tool_topic_overrides(svc, topic)

    again = run_module("kafka_topic", wanted)
    assert again["changed"] is False and again["changes"] == {}
    assert again["actions"][0]["detail"] == "already set"

    described = run_module("kafka_topic", dict(kafka_params, name=topic))
    assert described["topic"]["overrides"] == {"retention.ms": "604800000"}
    assert described["topic"]["configs"]["cleanup.policy"] == "delete"
    assert described["topic"]["messages"] == 0


@pytest.mark.parametrize("args, message", [
    ({"configs": {"retention.bogus": 1}}, "configs: 'retention.bogus' is not a topic config"),
    ({"pattern": "(["}, "pattern: '([' is not a valid regular expression"),
])
def test_topic_bad_input_names_the_option(kafka_params, scratch, args, message):
    topic = scratch.topic(partitions=1)
    result = run_module("kafka_topic", dict(kafka_params, name=topic, **args))
    assert result["failed"] and result["msg"].startswith(message), result["msg"]


def test_topic_missing_and_unreachable(kafka_params):
    missing = run_module("kafka_topic", dict(kafka_params, name="kafkat-no-such-topic", configs={"retention.ms": 1}))
    assert missing["failed"] and missing["msg"].startswith("name: topic 'kafkat-no-such-topic' does not exist")
    down = run_module("kafka_topic", dict(kafka_params, bootstrap_servers=[f"127.0.0.1:{closed_port()}"],
                                          request_timeout=2, pattern="dlq"))
    assert down["status"] == "critical" and down["reachable"] is False


def saga_event(i):
    kind = "PaymentFailed" if i % 3 == 0 else "PaymentSucceeded"
    return json.dumps({"type": kind, "orderId": f"ORDER{i}", "amount": i * 10})


def test_messages_filter_by_jmespath_and_regex_without_committing(lab, kafka_params, scratch):
    topic = scratch.topic(partitions=2)
    scratch.produce(topic, 12, value=saga_event, key=lambda i: f"ORDER{i}", headers=[("source", b"billing-service")])
    result = run_module("kafka_messages", dict(kafka_params, topic=topic, start="beginning", count=1000,
                                               jmespath="type == 'PaymentFailed'"))
    assert result["read"] == 12 and result["complete"] is True
    assert result["matched"] == 4
    assert sorted(m["key"] for m in result["messages"]) == ["ORDER0", "ORDER3", "ORDER6", "ORDER9"]
    first = result["messages"][0]
    assert first["headers"] == {"source": "billing-service"}
    assert first["json"]["type"] == "PaymentFailed" and first["timestamp"] > 0
    assert result["status"] == "ok"

    regex = run_module("kafka_messages", dict(kafka_params, topic=topic, start="beginning", count=1000,
                                              regex=r'"amount": 1\d\d'))
    assert sorted(m["key"] for m in regex["messages"]) == ["ORDER10", "ORDER11"]

    # no group was created or moved by reading
    groups = consumer_group_command(lab["services"]["kafka"], "--list").stdout.split()
    assert not [g for g in groups if g.startswith("opsbook-reader")]


def test_messages_last_n(kafka_params, scratch):
    topic = scratch.topic(partitions=1)
    scratch.produce(topic, 10, value=saga_event)
    result = run_module("kafka_messages", dict(kafka_params, topic=topic, count=3))
    assert [m["offset"] for m in result["messages"]] == [7, 8, 9]
    assert result["window"] == {"0": {"first": 7, "end": 10}}
    first = run_module("kafka_messages", dict(kafka_params, topic=topic, start="beginning", count=2))
    assert [m["json"]["orderId"] for m in first["messages"]] == ["ORDER0", "ORDER1"]


@pytest.mark.parametrize("args, message", [
    ({"jmespath": "type =="}, "jmespath: 'type ==' is not a valid JMESPath expression"),
    ({"count": 0}, "count: expected 1 to 100000 messages, got 0"),
    ({"topic": "kafkat-no-such-topic"}, "topic: 'kafkat-no-such-topic' does not exist"),
])
def test_messages_bad_input_names_the_option(kafka_params, args, message):
    result = run_module("kafka_messages", dict(dict(kafka_params, topic="__consumer_offsets"), **args))
    assert result["failed"] and result["msg"].startswith(message), result["msg"]


def test_messages_unreachable_is_critical(kafka_params):
    result = run_module("kafka_messages", dict(kafka_params, topic="x", request_timeout=2,
                                               bootstrap_servers=[f"127.0.0.1:{closed_port()}"]))
    assert result["status"] == "critical" and result["reachable"] is False
