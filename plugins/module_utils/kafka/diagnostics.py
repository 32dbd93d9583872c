# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka cluster diagnostics: brokers, controller, topics and partition health."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_finding,
)


def partition_health(metadata, include_internal=False):
    """Per-topic partition counts plus under-replicated and offline partitions."""
    topics = {}
    under_replicated = []
    offline = []
    for name, topic in sorted(metadata.topics.items()):
        if name.startswith("__") and not include_internal:
            continue
        partitions = topic.partitions or {}
        topics[name] = {"partitions": len(partitions), "error": str(topic.error) if topic.error else None}
        for pid, part in sorted(partitions.items()):
            where = "%s-%d" % (name, pid)
            if part.leader is None or part.leader < 0:
                offline.append(where)
            elif len(part.isrs) < len(part.replicas):
                under_replicated.append(where)
    return topics, under_replicated, offline


def min_insync_replicas(admin, params, topics):
    """{topic: min.insync.replicas} for the given topics, in one DescribeConfigs request."""
    from confluent_kafka.admin import ConfigResource, ResourceType

    names = sorted(set(topics))
    if not names:
        return {}

    def send(timeout):
        futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, t) for t in names], request_timeout=timeout)
        return dict((resource.name, future.result(timeout=timeout + 1)) for resource, future in futures.items())

    configs = kafka_common.request(params, "describing the configs of %d topic(s)" % len(names), send)
    result = {}
    for topic, entries in configs.items():
        entry = entries.get("min.insync.replicas")
        result[topic] = int(entry.value) if entry is not None and entry.value else 1
    return result


def isr_shrink(metadata, min_isr, include_internal=False):
    """Partitions whose ISR shrank below ``min.insync.replicas``: producers with acks=all fail there.

    Returns [{partition, replicas, isr, min_isr}].
    """
    below = []
    for name, topic in sorted(metadata.topics.items()):
        if (name.startswith("__") and not include_internal) or name not in min_isr:
            continue
        for pid, part in sorted((topic.partitions or {}).items()):
            if part.leader is not None and part.leader >= 0 and len(part.isrs) < min_isr[name]:
                below.append({"partition": "%s-%d" % (name, pid), "replicas": len(part.replicas),
                              "isr": len(part.isrs), "min_isr": min_isr[name]})
    return below


def isr_finding(below, target):
    if not below:
        return make_finding("kafka_isr_below_min", OK, "no partition has fewer in-sync replicas than min.insync.replicas",
                            value=0, target=target)
    shown = ", ".join("%s (ISR %d of %d, min %d)" % (b["partition"], b["isr"], b["replicas"], b["min_isr"])
                      for b in below[:10])
    return make_finding("kafka_isr_below_min", CRITICAL,
                        "%d partition(s) have shrunk below min.insync.replicas; producers with acks=all fail there: %s"
                        % (len(below), shown), value=len(below),
                        threshold={"warn": None, "crit": 1, "direction": "above"}, target=target)


def cluster_info(params, include_internal=False):
    target = kafka_common.describe_target(params)
    admin = kafka_common.admin_client(params)
    started = time.time()
    metadata = kafka_common.cluster_metadata(admin, params)
    latency_ms = round((time.time() - started) * 1000, 1)
    brokers = [
        {"id": b.id, "host": b.host, "port": b.port} for b in sorted(metadata.brokers.values(), key=lambda b: b.id)
    ]
    topics, under_replicated, offline = partition_health(metadata, include_internal)
    findings = [
        make_finding(
            "kafka_reachable",
            OK,
            "Kafka cluster %s answered in %s ms with %d broker(s)" % (metadata.cluster_id, latency_ms, len(brokers)),
            value=latency_ms,
            unit="ms",
            target=target,
        )
    ]
    if metadata.controller_id is None or metadata.controller_id < 0:
        findings.append(make_finding("kafka_controller", CRITICAL, "the cluster has no active controller", target=target))
    findings.append(
        make_finding(
            "kafka_offline_partitions",
            CRITICAL if offline else OK,
            ("%d partition(s) have no leader: %s" % (len(offline), ", ".join(offline[:10])))
            if offline
            else "every partition has a leader",
            value=len(offline),
            threshold={"warn": None, "crit": 1, "direction": "above"},
            target=target,
        )
    )
    findings.append(
        make_finding(
            "kafka_under_replicated_partitions",
            WARNING if under_replicated else OK,
            ("%d partition(s) are under-replicated: %s" % (len(under_replicated), ", ".join(under_replicated[:10])))
            if under_replicated
            else "every partition has its full ISR",
            value=len(under_replicated),
            threshold={"warn": 1, "crit": None, "direction": "above"},
            target=target,
        )
    )
    # every topic: a partition with all its replicas in sync is still below a min.insync.replicas above
    # its replication factor (what `kafka-topics --describe --under-min-isr-partitions` lists)
    checked = [name for name in metadata.topics if include_internal or not name.startswith("__")]
    below = isr_shrink(metadata, min_insync_replicas(admin, params, checked), include_internal)
    findings.append(isr_finding(below, target))
    return {
        "isr_below_min": below,
        "reachable": True,
        "latency_ms": latency_ms,
        "cluster_id": metadata.cluster_id,
        "controller_id": metadata.controller_id,
        "brokers": brokers,
        "topics": topics,
        "under_replicated_partitions": under_replicated,
        "offline_partitions": offline,
        "findings": findings,
    }
