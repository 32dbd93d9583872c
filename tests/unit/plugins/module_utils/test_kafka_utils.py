"""Pure parts of the Kafka module_utils: retry/error mapping, read windows, config diffs, filters."""

from __future__ import annotations

import re

import pytest
from confluent_kafka import KafkaError, KafkaException

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import messages as kafka_messages
from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import topics as kafka_topics
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    ServiceUnreachable,
)

PARAMS = {"bootstrap_servers": ["127.0.0.1:9"], "request_timeout": 1.0, "sasl_password": "s3cret"}


def failing(*codes):
    calls = []

    def send(timeout):
        calls.append(timeout)
        if len(calls) <= len(codes):
            raise KafkaException(KafkaError(codes[len(calls) - 1], "boom s3cret"))
        return "answer"

    return send, calls


def test_coordinator_load_in_progress_is_retried_once(monkeypatch):
    monkeypatch.setattr(kafka_common, "RETRY_PAUSE", 0)
    send, calls = failing(KafkaError.COORDINATOR_LOAD_IN_PROGRESS)
    assert kafka_common.request(PARAMS, "x", send) == "answer"
    assert len(calls) == 2


def test_second_coordinator_error_is_a_service_error(monkeypatch):
    monkeypatch.setattr(kafka_common, "RETRY_PAUSE", 0)
    send, calls = failing(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_LOAD_IN_PROGRESS)
    with pytest.raises(ServiceError, match="COORDINATOR_LOAD_IN_PROGRESS") as err:
        kafka_common.request(PARAMS, "x", send)
    assert "s3cret" not in str(err.value)
    assert len(calls) == 2


def test_transport_error_is_unreachable():
    send, _ = failing(KafkaError._TRANSPORT)
    with pytest.raises(ServiceUnreachable, match=r"cannot reach Kafka at 127.0.0.1:9 within 1.0s \(x\)"):
        kafka_common.request(PARAMS, "x", send)


@pytest.mark.parametrize("marks, start, count, window", [
    ({0: (0, 10), 1: (5, 6), 2: (3, 3)}, "end", 3, {0: (7, 10), 1: (5, 6)}),
    ({0: (0, 10), 1: (5, 6)}, "beginning", 3, {0: (0, 3), 1: (5, 6)}),
])
def test_read_window(marks, start, count, window):
    assert kafka_messages.read_window(marks, start, count) == window


@pytest.mark.parametrize("value, regex, expr, expected", [
    ('{"type": "PaymentFailed"}', None, "type == 'PaymentFailed'", True),
    ('{"type": "PaymentOk"}', None, "type == 'PaymentFailed'", False),
    ("not json PaymentFailed", None, "type == 'PaymentFailed'", False),
    ("not json PaymentFailed", "Payment(Failed|Error)", None, True),
])
def test_matches(value, regex, expr, expected):
    import json

    import jmespath

    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    record = {"value": value, "json": parsed}
    assert kafka_messages.matches(record, regex and re.compile(regex), expr and jmespath.compile(expr)) is expected


CURRENT = {"retention.ms": {"value": "86400000", "read_only": False},
           "cleanup.policy": {"value": "delete", "read_only": False},
           "segment.bytes": {"value": "1073741824", "read_only": True}}


@pytest.mark.parametrize("wanted, changes", [
    ({"retention.ms": 604800000}, {"retention.ms": ("86400000", "604800000")}),
    ({"retention.ms": "86400000", "cleanup.policy": "delete"}, {}),
])
def test_config_changes(wanted, changes):
    assert kafka_topics.config_changes(CURRENT, wanted) == changes


@pytest.mark.parametrize("wanted, message", [
    ({"retention.bogus": 1}, "configs: 'retention.bogus' is not a topic config"),
    ({"segment.bytes": 1}, "configs: 'segment.bytes' is read-only"),
])
def test_config_changes_bad_input(wanted, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        kafka_topics.config_changes(CURRENT, wanted)


@pytest.mark.parametrize("value, text", [(True, "true"), (604800000, "604800000"), (1.0, "1"), ("x", "x")])
def test_config_text(value, text):
    assert kafka_topics.config_text(value) == text


def ev(order, ts, offset=0):
    return (order, ts, {"topic": "billing.events", "partition": 0, "offset": offset})


@pytest.mark.parametrize("failures, compensations, successes, expected", [
    ([ev("A", 0)], [], [], "stuck"),
    ([ev("A", 0)], [ev("A", 100)], [], "compensated"),
    ([ev("A", 0)], [ev("A", 1001)], [], "late"),
    ([ev("A", 0)], [ev("A", -5)], [], "stuck"),  # a compensation before the failure does not count
    ([ev("A", 0)], [], [ev("A", 50)], "recovered"),
    ([ev("A", 1500)], [], [], "pending"),
    ([ev("A", 0), ev("A", 1500)], [ev("A", 100)], [], "pending"),  # the latest failure counts
])
def test_saga_classify(failures, compensations, successes, expected):
    from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import saga as kafka_saga

    classes = kafka_saga.classify(failures, compensations, successes, window_ms=1000, now_ms=2000)
    assert {name for name, entries in classes.items() if entries} == {expected}


def test_saga_idempotency_key_is_stable():
    from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import saga as kafka_saga

    entry = {"order_id": "ORDER123", "event": {"topic": "billing.events", "partition": 2, "offset": 17}}
    assert kafka_saga.idempotency_key(entry) == "opsbook-saga-ORDER123-billing.events-2-17"


class Part:
    def __init__(self, leader, replicas, isrs):
        self.leader, self.replicas, self.isrs = leader, replicas, isrs


class Topic:
    def __init__(self, partitions):
        self.partitions, self.error = partitions, None


class Meta:
    def __init__(self, topics):
        self.topics = topics


def test_isr_shrink_below_min_insync_replicas():
    from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import diagnostics as kafka_diagnostics

    meta = Meta({"orders": Topic({0: Part(1, [1, 2, 3], [1]), 1: Part(2, [1, 2, 3], [2, 3]), 2: Part(-1, [1], [])}),
                 "billing": Topic({0: Part(1, [1, 2], [1])})})
    below = kafka_diagnostics.isr_shrink(meta, {"orders": 2, "billing": 1})
    assert below == [{"partition": "orders-0", "replicas": 3, "isr": 1, "min_isr": 2}]
    finding = kafka_diagnostics.isr_finding(below, "kafka:9092")
    assert finding["status"] == "critical" and "orders-0 (ISR 1 of 3, min 2)" in finding["message"]
    assert kafka_diagnostics.isr_finding([], "kafka:9092")["status"] == "ok"
    topics, under, offline = kafka_diagnostics.partition_health(meta)
    assert under == ["billing-0", "orders-0", "orders-1"] and offline == ["orders-2"]
