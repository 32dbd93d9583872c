# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka topics: list by pattern with message counts, describe configs, set configs idempotently."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    OK,
    make_action,
    make_finding,
    threshold_finding,
)

try:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import (
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ConfigSource,
        OffsetSpec,
        ResourceType,
    )
except ImportError:  # pragma: no cover - kafka_common.admin_client reports the missing library
    pass

DYNAMIC_TOPIC_CONFIG = "DYNAMIC_TOPIC_CONFIG"


def validate_options(params):
    pattern = params.get("pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput("pattern: %r is not a valid regular expression (%s)" % (pattern, exc))
    if params.get("configs") and not params.get("name"):
        raise InvalidInput("configs: setting configs needs the topic in 'name'")
    warn = params.get("warn_messages")
    if warn is not None and warn < 0:
        raise InvalidInput("warn_messages: expected 0 or more messages, got %s" % warn)


def config_text(value):
    """Kafka config values are strings; booleans in Kafka's spelling."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def partitions_of(admin, params, names):
    """{topic: [partition ids]} from the cluster metadata."""
    metadata = kafka_common.cluster_metadata(admin, params)
    return dict((name, sorted(metadata.topics[name].partitions)) for name in names if name in metadata.topics)


def message_counts(admin, params, partitions):
    """{topic: {messages, partitions: {p: {earliest, latest}}}} (messages = latest - earliest summed).

    Compacted topics and transaction markers make this an upper bound, like every
    offset-based count.
    """
    tps = [(t, p) for t, ps in partitions.items() for p in ps]
    if not tps:
        return {}

    def offsets(spec):
        def send(timeout):
            futures = admin.list_offsets(dict((TopicPartition(t, p), spec) for t, p in tps), request_timeout=timeout)
            return dict(((tp.topic, tp.partition), f.result(timeout=timeout + 1).offset) for tp, f in futures.items())
        return send

    earliest = kafka_common.request(params, "reading earliest offsets", offsets(OffsetSpec.earliest()))
    latest = kafka_common.request(params, "reading latest offsets", offsets(OffsetSpec.latest()))
    result = {}
    for topic, ps in partitions.items():
        detail = dict((p, {"earliest": earliest[(topic, p)], "latest": latest[(topic, p)]}) for p in ps)
        result[topic] = {
            "messages": sum(d["latest"] - d["earliest"] for d in detail.values()),
            "partitions": detail,
        }
    return result


def list_topics(params):
    """Topics matching ``pattern`` (all when empty) with partitions and message counts."""
    admin = kafka_common.admin_client(params)
    metadata = kafka_common.cluster_metadata(admin, params)
    regex = re.compile(params["pattern"]) if params.get("pattern") else None
    names = sorted(
        name for name in metadata.topics
        if (params.get("include_internal") or not name.startswith("__")) and (regex is None or regex.search(name))
    )
    partitions = dict((name, sorted(metadata.topics[name].partitions)) for name in names)
    counts = message_counts(admin, params, partitions) if params.get("message_counts", True) else {}
    topics = []
    for name in names:
        entry = {"name": name, "partitions": len(partitions[name])}
        if name in counts:
            entry["messages"] = counts[name]["messages"]
        topics.append(entry)
    return {"topics": topics, "findings": topic_findings(topics, params)}


def topic_findings(topics, params):
    target = kafka_common.describe_target(params)
    warn = params.get("warn_messages")
    what = "matching %r" % params["pattern"] if params.get("pattern") else "in the cluster"
    if warn is None or not params.get("message_counts", True):
        return [make_finding("kafka_topics", OK, "%d topic(s) %s" % (len(topics), what), value=len(topics),
                             target=target)]
    if not topics:
        return [make_finding("kafka_topic_messages", OK, "no topic %s" % what, value=0, target=target)]
    return [
        threshold_finding("kafka_topic_messages", t["messages"], warn=warn, unit="messages", target=t["name"],
                          label="message count of topic %s" % t["name"])
        for t in topics
    ]


def source_name(source):
    """ConfigSource name (``DYNAMIC_TOPIC_CONFIG``, ``DEFAULT_CONFIG``...); the driver gives an int."""
    try:
        return ConfigSource(source).name
    except (ValueError, NameError):
        return str(source)


def describe_configs(admin, params, name):
    """{config: {value, source, default, read_only, sensitive}} of one topic."""
    def send(timeout):
        futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, name)], request_timeout=timeout)
        return [f.result(timeout=timeout + 1) for f in futures.values()][0]

    entries = kafka_common.request(params, "describing the configs of topic %s" % name, send)
    return dict(
        (key, {
            "value": None if entry.is_sensitive else entry.value,
            "source": source_name(entry.source),
            "default": entry.is_default,
            "read_only": entry.is_read_only,
            "sensitive": entry.is_sensitive,
        })
        for key, entry in sorted(entries.items())
    )


def require_topic(admin, params, name):
    partitions = partitions_of(admin, params, [name])
    if name not in partitions:
        raise InvalidInput("name: topic %r does not exist on %s" % (name, kafka_common.describe_target(params)))
    return partitions


def describe_topic(params):
    admin = kafka_common.admin_client(params)
    name = params["name"]
    partitions = require_topic(admin, params, name)
    configs = describe_configs(admin, params, name)
    counts = message_counts(admin, params, partitions) if params.get("message_counts", True) else {}
    topic = {
        "name": name,
        "partitions": len(partitions[name]),
        "configs": dict((k, v["value"]) for k, v in configs.items()),
        "overrides": dict((k, v["value"]) for k, v in configs.items() if v["source"] == DYNAMIC_TOPIC_CONFIG),
    }
    if name in counts:
        topic["messages"] = counts[name]["messages"]
        topic["offsets"] = counts[name]["partitions"]
    finding = make_finding("kafka_topic", OK, "topic %s: %d partition(s)%s, %d config override(s)" % (
        name, topic["partitions"], (", %d message(s)" % topic["messages"]) if "messages" in topic else "",
        len(topic["overrides"])), target=name)
    return {"topic": topic, "topics": [dict((k, topic[k]) for k in ("name", "partitions", "messages") if k in topic)],
            "findings": [finding]}


def config_changes(current, wanted):
    """{key: (before, after)} for the wanted configs that differ; InvalidInput for unknown or read-only keys."""
    changes = {}
    for key, value in sorted(wanted.items()):
        if key not in current:
            raise InvalidInput("configs: %r is not a topic config this broker knows (e.g. retention.ms, "
                               "cleanup.policy)" % key)
        if current[key]["read_only"]:
            raise InvalidInput("configs: %r is read-only" % key)
        after = config_text(value)
        if current[key]["value"] != after:
            changes[key] = (current[key]["value"], after)
    return changes


def set_configs(params, check_mode=False):
    """Set ``configs`` on topic ``name``; only the keys that differ; honours check mode."""
    admin = kafka_common.admin_client(params)
    name = params["name"]
    require_topic(admin, params, name)
    current = describe_configs(admin, params, name)
    changes = config_changes(current, params["configs"])
    if changes and not check_mode:
        resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
            ConfigEntry(key, after, incremental_operation=AlterConfigOpType.SET) for key, (dummy, after) in changes.items()
        ])

        def send(timeout):
            futures = admin.incremental_alter_configs([resource], request_timeout=timeout)
            return [f.result(timeout=timeout + 1) for f in futures.values()]

        kafka_common.request(params, "setting configs of topic %s" % name, send)
        current = describe_configs(admin, params, name)
    detail = ", ".join("%s %s -> %s" % (k, b, a) for k, (b, a) in changes.items()) or "already set"
    return {
        "changed": bool(changes),
        "topic": {"name": name, "configs": dict((k, v["value"]) for k, v in current.items())},
        "changes": dict((k, {"before": b, "after": a}) for k, (b, a) in changes.items()),
        "diff": {
            "before": dict((k, b) for k, (b, dummy) in changes.items()),
            "after": dict((k, a) for k, (dummy, a) in changes.items()),
        },
        "actions": [make_action("kafka_topic_set_configs", name, bool(changes), check_mode, detail)],
        "findings": [],
    }
