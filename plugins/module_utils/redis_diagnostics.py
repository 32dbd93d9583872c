# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis diagnostics: INFO-based checks returning data + findings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils import redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
    OK,
    make_finding,
    threshold_finding,
)


def hit_rate(info):
    """Keyspace hit rate in percent, or None when there were no lookups."""
    hits = int(info.get("keyspace_hits", 0))
    misses = int(info.get("keyspace_misses", 0))
    if hits + misses == 0:
        return None
    return round(100.0 * hits / (hits + misses), 2)


def memory_use_pct(info):
    """Used memory against maxmemory (or total system memory when no max is set)."""
    used = int(info.get("used_memory", 0))
    limit = int(info.get("maxmemory", 0)) or int(info.get("total_system_memory", 0))
    if not limit:
        return None, None
    return round(100.0 * used / limit, 2), ("maxmemory" if int(info.get("maxmemory", 0)) else "system memory")


def health(params, thresholds):
    target = redis_common.describe_target(params)
    client = redis_common.connect(params)
    try:
        started = time.time()
        client.ping()
        latency_ms = round((time.time() - started) * 1000, 2)
        info = client.info()
    finally:
        client.close()
    findings = [
        make_finding(
            "redis_reachable",
            OK,
            "Redis %s answered PING in %s ms" % (info.get("redis_version"), latency_ms),
            value=latency_ms,
            unit="ms",
            target=target,
        )
    ]
    mem_pct, mem_basis = memory_use_pct(info)
    findings.append(
        threshold_finding(
            "redis_memory_usage",
            mem_pct,
            warn=thresholds["memory_warn_pct"],
            crit=thresholds["memory_crit_pct"],
            unit="%",
            target=target,
            label="memory use (of %s)" % (mem_basis or "limit"),
        )
    )
    rate = hit_rate(info)
    if rate is None:
        findings.append(
            make_finding("redis_hit_rate", OK, "no keyspace lookups yet: hit rate not measured", target=target)
        )
    else:
        findings.append(
            threshold_finding(
                "redis_hit_rate",
                rate,
                warn=thresholds["hit_rate_warn_pct"],
                crit=thresholds["hit_rate_crit_pct"],
                direction="below",
                unit="%",
                target=target,
                label="keyspace hit rate",
            )
        )
    return {
        "reachable": True,
        "latency_ms": latency_ms,
        "version": info.get("redis_version"),
        "role": info.get("role"),
        "uptime_seconds": info.get("uptime_in_seconds"),
        "memory": {
            "used_bytes": info.get("used_memory"),
            "maxmemory_bytes": info.get("maxmemory"),
            "used_pct": mem_pct,
            "fragmentation_ratio": info.get("mem_fragmentation_ratio"),
        },
        "hit_rate_pct": rate,
        "connected_clients": info.get("connected_clients"),
        "findings": findings,
    }
