# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka cluster diagnostics: brokers, controller, topics and partition health."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils import kafka_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
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
    return {
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
