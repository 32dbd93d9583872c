# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read messages of a topic without committing any offset, filter and count them.

The reader ``assign()``s partitions at explicit offsets (never ``subscribe()``), with
auto-commit off, so no consumer group offsets are created or moved.  Reading is bounded
by ``count`` messages per partition window and by ``timeout`` seconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time
import uuid

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, MissingDependency
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import OK, WARNING, make_finding

try:
    from confluent_kafka import KafkaError, TopicPartition
except ImportError:  # pragma: no cover - kafka_common reports the missing library
    pass

try:
    import jmespath

    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test sanity
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = exc

MAX_COUNT = 100000


def compile_filters(params):
    """(regex, jmespath expression) from the options; InvalidInput names the option."""
    count = params.get("count")
    if count is None or not 1 <= count <= MAX_COUNT:
        raise InvalidInput("count: expected 1 to %d messages, got %s" % (MAX_COUNT, count))
    timeout = params.get("timeout")
    if timeout is None or not 0 < timeout <= 600:
        raise InvalidInput("timeout: expected seconds above 0 and at most 600, got %s" % timeout)
    regex = expression = None
    if params.get("regex"):
        try:
            regex = re.compile(params["regex"])
        except re.error as exc:
            raise InvalidInput("regex: %r is not a valid regular expression (%s)" % (params["regex"], exc))
    if params.get("jmespath"):
        if not HAS_JMESPATH:
            raise MissingDependency("jmespath", JMESPATH_IMPORT_ERROR)
        try:
            expression = jmespath.compile(params["jmespath"])
        except jmespath.exceptions.JMESPathError as exc:
            raise InvalidInput("jmespath: %r is not a valid JMESPath expression (%s)" % (params["jmespath"], exc))
    return regex, expression


def _text(raw):
    if raw is None:
        return None
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)


def as_record(msg):
    """A message as a plain dict: key, value (text), json (parsed value or null), headers, timestamp."""
    value = _text(msg.value())
    try:
        parsed = json.loads(value) if value is not None else None
    except ValueError:
        parsed = None
    ts_type, ts = msg.timestamp()
    return {
        "topic": msg.topic(),
        "partition": msg.partition(),
        "offset": msg.offset(),
        "timestamp": ts if ts_type else None,
        "key": _text(msg.key()),
        "value": value,
        "json": parsed,
        "headers": dict((k, _text(v)) for k, v in (msg.headers() or [])),
    }


def matches(record, regex=None, expression=None):
    """Both filters must accept: regex on the value text, JMESPath truthy on the JSON value."""
    if regex is not None and not regex.search(record["value"] or ""):
        return False
    if expression is not None:
        if record["json"] is None:
            return False
        return bool(expression.search(record["json"]))
    return True


def watermarks(consumer, params, topic, partitions):
    timeout = float(params.get("request_timeout") or 10.0)
    marks = {}
    for p in partitions:
        marks[p] = kafka_common.request(
            params, "reading the offsets of %s-%d" % (topic, p),
            lambda t, p=p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=min(t, timeout)),
        )
    return marks


def read_window(marks, start, count):
    """{partition: (first, end)} offsets to read: the last/first ``count`` of each partition."""
    window = {}
    for p, (low, high) in marks.items():
        first = max(low, high - count) if start == "end" else low
        end = min(high, first + count)
        if end > first:
            window[p] = (first, end)
    return window


def read_messages(params):
    """The module's work; returns {messages, read, matched, complete, ...}."""
    regex, expression = compile_filters(params)
    topic = params["topic"]
    start = params.get("start") or "end"
    count = params["count"]
    deadline = time.time() + params["timeout"]
    admin = kafka_common.admin_client(params)
    metadata = kafka_common.cluster_metadata(admin, params)
    if topic not in metadata.topics or metadata.topics[topic].error is not None:
        raise InvalidInput("topic: %r does not exist on %s" % (topic, kafka_common.describe_target(params)))
    partitions = sorted(metadata.topics[topic].partitions)
    if params.get("partitions"):
        unknown = sorted(set(params["partitions"]) - set(partitions))
        if unknown:
            raise InvalidInput("partitions: %s not in topic %s (it has %s)" % (unknown, topic, partitions))
        partitions = sorted(set(params["partitions"]))
    consumer = kafka_common.consumer(params, {
        # a throwaway id: assign() never joins it and nothing is committed
        "group.id": "opsbook-reader-%s" % uuid.uuid4().hex[:12],
        "enable.partition.eof": False,
        "fetch.wait.max.ms": 100,
    })
    records = []
    try:
        marks = watermarks(consumer, params, topic, partitions)
        window = read_window(marks, start, count)
        pending = dict(window)
        if pending:
            consumer.assign([TopicPartition(topic, p, first) for p, (first, dummy) in sorted(pending.items())])
        while pending and time.time() < deadline:
            for msg in consumer.consume(num_messages=500, timeout=min(0.5, max(0.01, deadline - time.time()))):
                if msg.error():
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        pending.pop(msg.partition(), None)
                    continue
                p = msg.partition()
                if p not in pending:
                    continue
                if msg.offset() < pending[p][1]:
                    records.append(as_record(msg))
                if msg.offset() >= pending[p][1] - 1:
                    pending.pop(p)
    finally:
        consumer.close()
    records.sort(key=lambda r: (r["timestamp"] or 0, r["partition"], r["offset"]))
    records = records[-count:] if start == "end" else records[:count]
    matched = [r for r in records if matches(r, regex, expression)]
    complete = not pending
    described = "the %s %d message(s) of each partition of %s" % ("last" if start == "end" else "first", count, topic)
    status = OK if complete else WARNING
    message = "%d of %d message(s) read match%s" % (
        len(matched), len(records), "" if complete else
        " (stopped after %ss with %d partition(s) unread: the counts are partial)" % (params["timeout"], len(pending)))
    return {
        "messages": matched,
        "read": len(records),
        "matched": len(matched),
        "complete": complete,
        "window": dict((str(p), {"first": f, "end": e}) for p, (f, e) in sorted(window.items())),
        "findings": [make_finding("kafka_messages_read", status, "%s: %s" % (described, message),
                                  value=len(matched), target=topic)],
    }
