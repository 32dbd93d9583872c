# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis diagnostics: read the server (``health``), judge what was read (``evaluate``).

``evaluate`` is pure: it takes parsed INFO dicts (from redis-py or from the
``redis_info`` filter) plus optional SLOWLOG/LATENCY data and returns the data and
findings, so the module and the filters judge a server the same way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import info as redis_info
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    ServiceUnreachable,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    OK,
    UNKNOWN,
    WARNING,
    make_finding,
    threshold_finding,
)

CHECKS = ("memory", "hit_rate", "clients", "evictions", "persistence", "replication", "latency", "slowlog")
REDIS_HEALTH_OPTIONS = dict(
    memory_warn_pct=dict(type="float", default=80),
    memory_crit_pct=dict(type="float", default=90),
    hit_rate_warn_pct=dict(type="float", default=95),
    hit_rate_crit_pct=dict(type="float", default=80),
    fragmentation_warn_ratio=dict(type="float", default=1.5),
    fragmentation_crit_ratio=dict(type="float", default=2.0),
    fragmentation_min_bytes=dict(type="int", default=10485760),
    clients_warn_pct=dict(type="float", default=80),
    clients_crit_pct=dict(type="float", default=90),
    evictions_warn=dict(type="int", default=1),
    persistence_max_age_seconds=dict(type="int", default=86400),
    replication_lag_warn_seconds=dict(type="float", default=10),
    replication_lag_crit_seconds=dict(type="float", default=60),
    latency_warn_ms=dict(type="float", default=100),
    latency_crit_ms=dict(type="float", default=500),
    latency_window_seconds=dict(type="int", default=300),
    sample_seconds=dict(type="float", default=1.0),
    slowlog_count=dict(type="int", default=5),
    checks=dict(type="list", elements="str", choices=list(CHECKS)),
)
# The checks a caller can pick (``checks``); the reachability finding always comes first.
CHECK_OF_FINDING = {
    "redis_memory_usage": "memory", "redis_fragmentation": "memory",
    "redis_hit_rate": "hit_rate", "redis_hit_rate_window": "hit_rate",
    "redis_clients": "clients", "redis_evictions": "evictions", "redis_persistence": "persistence",
    "redis_replication": "replication", "redis_latency": "latency", "redis_slowlog": "slowlog",
}
# Seed thresholds: Techbra "Métricas Redis" (memory < 80 %, cache hit rate > 95 %).
DEFAULT_THRESHOLDS = dict((name, spec.get("default")) for name, spec in REDIS_HEALTH_OPTIONS.items())


def thresholds_from(values):
    """Defaults overlaid with the given values (None means: keep the default)."""
    result = dict(DEFAULT_THRESHOLDS)
    for key, value in (values or {}).items():
        if key in result and value is not None:
            result[key] = value
    return result


def _text(value, limit=200):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = "" if value is None else str(value)
    return value if len(value) <= limit else value[:limit] + "..."


# --- reading the server -------------------------------------------------------------


def read_slowlog(client, count):
    """The ``count`` slowest of the last SLOWLOG entries (duration in ms), slowest first."""
    entries = client.slowlog_get(max(count, 128))
    rows = [
        {
            "id": e.get("id"),
            "start_time": e.get("start_time"),
            "duration_ms": round(e.get("duration", 0) / 1000.0, 3),
            "command": _text(e.get("command")),
            "client": _text(e.get("client_address")) or None,
        }
        for e in entries
    ]
    rows.sort(key=lambda r: r["duration_ms"], reverse=True)
    return rows[:count]


def read_latency(client):
    """``LATENCY LATEST`` as ``[{event, time, latest_ms, max_ms}]``."""
    rows = []
    for entry in client.execute_command("LATENCY", "LATEST") or []:
        event, when, latest, worst = entry[:4]
        rows.append({"event": _text(event), "time": int(when), "latest_ms": int(latest), "max_ms": int(worst)})
    return rows


def _optional(read, client, *args):
    """Run an optional read; an ACL refusal or unknown command is reported, not fatal."""
    try:
        return read(client, *args), None
    except redis_common.redis.ResponseError as exc:
        return None, _text(exc)


def health(params, thresholds):
    """Read the server (two INFO reads ``sample_seconds`` apart) and evaluate it."""
    target = redis_common.describe_target(params)
    sample = float(thresholds.get("sample_seconds") or 0)
    if not 0 <= sample <= 60:
        raise InvalidInput("sample_seconds must be between 0 and 60, got %s" % sample)
    count = int(thresholds.get("slowlog_count") or 0)
    if not 0 <= count <= 128:
        raise InvalidInput("slowlog_count must be between 0 and 128, got %s" % count)
    secrets = [params.get("password"), params.get("url")]
    client = redis_common.connect(params)
    try:
        started = time.time()
        client.ping()
        latency_ms = round((time.time() - started) * 1000, 2)
        before = first = None
        if sample > 0:
            before = client.info("all")
            first = time.time()
            time.sleep(sample)
        info = client.info("all")
        elapsed = (time.time() - first) if before is not None else None
        slowlog, slowlog_error = _optional(read_slowlog, client, count) if count else (None, None)
        latency, latency_error = _optional(read_latency, client)
    except (redis_common.redis.ConnectionError, redis_common.redis.TimeoutError) as exc:
        raise ServiceUnreachable("lost Redis at %s: %s" % (target, scrub(str(exc), secrets)))
    except redis_common.redis.ResponseError as exc:
        raise redis_common.response_error(exc, secrets)
    except redis_common.redis.RedisError as exc:
        raise ServiceError("Redis error at %s: %s" % (target, scrub(str(exc), secrets)))
    finally:
        client.close()
    return evaluate(
        info,
        thresholds,
        target=target,
        now=time.time(),
        before=before,
        elapsed=elapsed,
        slowlog=slowlog,
        latency=latency,
        ping_ms=latency_ms,
        errors={"slowlog": slowlog_error, "latency": latency_error},
    )


# --- judging what was read ----------------------------------------------------------


def _memory_findings(mem, t, target):
    findings = [
        threshold_finding(
            "redis_memory_usage", mem["used_pct"], warn=t["memory_warn_pct"], crit=t["memory_crit_pct"],
            unit="%", target=target, label="memory use (of %s)" % (mem["basis"] or "limit"),
        )
    ]
    ratio, frag_bytes = mem["fragmentation_ratio"], mem["fragmentation_bytes"]
    if ratio is None:
        findings.append(make_finding("redis_fragmentation", UNKNOWN, "fragmentation ratio not reported", target=target))
    elif frag_bytes is not None and frag_bytes < t["fragmentation_min_bytes"]:
        findings.append(make_finding(
            "redis_fragmentation", OK,
            "fragmentation ratio %s ignored: only %d bytes fragmented (under %d)"
            % (ratio, frag_bytes, t["fragmentation_min_bytes"]),
            value=ratio, target=target,
        ))
    else:
        findings.append(threshold_finding(
            "redis_fragmentation", ratio, warn=t["fragmentation_warn_ratio"], crit=t["fragmentation_crit_ratio"],
            target=target, label="memory fragmentation ratio (RSS / used)",
        ))
    return findings


def _hit_rate_findings(lifetime, win, t, target):
    findings = []
    if lifetime is None:
        findings.append(make_finding("redis_hit_rate", OK, "no keyspace lookups yet: hit rate not measured",
                                     target=target))
    else:
        findings.append(threshold_finding(
            "redis_hit_rate", lifetime, warn=t["hit_rate_warn_pct"], crit=t["hit_rate_crit_pct"],
            direction="below", unit="%", target=target, label="keyspace hit rate (since start or RESETSTAT)",
        ))
    if win is not None:
        if win["hit_rate_pct"] is None:
            findings.append(make_finding(
                "redis_hit_rate_window", OK,
                "no keyspace lookups during the %ss sample: window hit rate not measured" % win["seconds"],
                target=target,
            ))
        else:
            finding = threshold_finding(
                "redis_hit_rate_window", win["hit_rate_pct"], warn=t["hit_rate_warn_pct"],
                crit=t["hit_rate_crit_pct"], direction="below", unit="%", target=target,
                label="keyspace hit rate over the last %ss (%d hits, %d misses)"
                % (win["seconds"], win["keyspace_hits"], win["keyspace_misses"]),
            )
            findings.append(finding)
    return findings


def _clients_finding(cl, t, target):
    if cl["used_pct"] is None:
        return make_finding("redis_clients", OK, "%d clients connected (%d blocked)" % (cl["connected"], cl["blocked"]),
                            value=cl["connected"], target=target)
    return threshold_finding(
        "redis_clients", cl["used_pct"], warn=t["clients_warn_pct"], crit=t["clients_crit_pct"], unit="%",
        target=target,
        label="client connections (%d of maxclients %d, %d blocked)"
        % (cl["connected"], cl["maxclients"], cl["blocked"]),
    )


def _evictions_finding(info, win, t, target):
    evicted = int(info.get("evicted_keys", 0))
    expired = int(info.get("expired_keys", 0))
    rate = ""
    if win is not None:
        rate = "; in the %ss sample: %d evicted, %d expired" % (win["seconds"], win["evicted_keys"], win["expired_keys"])
    finding = threshold_finding(
        "redis_evictions", evicted, warn=t["evictions_warn"] or None, unit="keys", target=target,
        label="keys evicted since start or RESETSTAT (policy %s, %d expired)"
        % (info.get("maxmemory_policy"), expired),
    )
    finding["message"] += rate
    return finding


def _persistence_finding(pers, t, target):
    failed = []
    if pers["rdb_last_bgsave_status"] not in (None, "ok"):
        failed.append("last BGSAVE %s" % pers["rdb_last_bgsave_status"])
    if pers["aof_enabled"]:
        for key in ("aof_last_write_status", "aof_last_bgrewrite_status"):
            if pers[key] not in (None, "ok"):
                failed.append("%s %s" % (key, pers[key]))
    age = pers["rdb_last_save_age_seconds"]
    aof = "AOF on" if pers["aof_enabled"] else "AOF off"
    summary = "last RDB save %ss ago, %d changes since, %s" % (age, pers["rdb_changes_since_last_save"], aof)
    if failed:
        return make_finding("redis_persistence", CRITICAL, "persistence failing: %s (%s)" % (", ".join(failed), summary),
                            value=age, unit="s", target=target)
    max_age = t["persistence_max_age_seconds"]
    if max_age and age is not None and pers["rdb_changes_since_last_save"] > 0 and age >= max_age \
            and not pers["aof_enabled"]:
        return make_finding(
            "redis_persistence", WARNING,
            "%d changes not saved for %ss (over %ss): %s" % (pers["rdb_changes_since_last_save"], age, max_age, summary),
            value=age, threshold={"warn": max_age, "crit": None, "direction": "above"}, unit="s", target=target,
        )
    return make_finding("redis_persistence", OK, summary, value=age, unit="s", target=target)


def _replication_finding(rep, t, target):
    if rep["role"] == "master":
        if not rep["replicas"]:
            return make_finding("redis_replication", OK, "master with no replicas", value=0, target=target)
        syncing = ["%s %s" % (r["address"], r["state"]) for r in rep["replicas"] if r["state"] != "online"]
        if syncing:
            return make_finding("redis_replication", WARNING, "replicas not online: %s" % ", ".join(syncing),
                                value=len(syncing), target=target)
        return threshold_finding(
            "redis_replication", rep["lag_seconds"], warn=t["replication_lag_warn_seconds"],
            crit=t["replication_lag_crit_seconds"], unit="s", target=target,
            label="worst replica lag (%d replicas)" % len(rep["replicas"]),
        )
    if rep.get("link_status") != "up":
        return make_finding(
            "redis_replication", CRITICAL,
            "replica's link to master %s is %s (down for %ss)" % (rep["master"], rep.get("link_status"),
                                                                  rep.get("link_down_seconds")),
            target=target,
        )
    return threshold_finding(
        "redis_replication", rep["lag_seconds"], warn=t["replication_lag_warn_seconds"],
        crit=t["replication_lag_crit_seconds"], unit="s", target=target,
        label="replica of %s, last I/O from master" % rep["master"],
    )


def _latency_finding(latency, error, now, t, target):
    if latency is None:
        return make_finding("redis_latency", UNKNOWN, "LATENCY LATEST not available: %s" % error, target=target)
    recent = [e for e in latency if now - e["time"] <= t["latency_window_seconds"]]
    if not recent:
        older = ", ".join("%s %d ms" % (e["event"], e["max_ms"]) for e in latency) or "none recorded"
        return make_finding("redis_latency", OK, "no latency spike in the last %ss (older: %s)"
                            % (t["latency_window_seconds"], older), value=0, unit="ms", target=target)
    worst = max(recent, key=lambda e: e["latest_ms"])
    return threshold_finding(
        "redis_latency", worst["latest_ms"], warn=t["latency_warn_ms"], crit=t["latency_crit_ms"], unit="ms",
        target=target, label="latency spike '%s' %ss ago" % (worst["event"], int(now - worst["time"])),
    )


def _slowlog_finding(slowlog, error, target):
    if slowlog is None:
        return make_finding("redis_slowlog", UNKNOWN, "SLOWLOG not available: %s" % error, target=target)
    if not slowlog:
        return make_finding("redis_slowlog", OK, "slowlog is empty", value=0, unit="ms", target=target)
    top = slowlog[0]
    return make_finding(
        "redis_slowlog", OK,
        "slowest logged command took %s ms: %s" % (top["duration_ms"], top["command"]),
        value=top["duration_ms"], unit="ms", target=target,
    )


def evaluate(info, thresholds, target=None, now=None, before=None, elapsed=None, slowlog=None, latency=None,
             ping_ms=None, errors=None):
    """Data and findings for one server's INFO (``before``/``elapsed``: the sample window)."""
    t = thresholds_from(thresholds)
    now = time.time() if now is None else now
    errors = errors or {}
    mem = redis_info.memory(info)
    cl = redis_info.clients(info)
    pers = redis_info.persistence(info, now)
    rep = redis_info.replication(info)
    win = redis_info.window(before, info, elapsed) if before is not None and elapsed else None
    lifetime = redis_info.hit_rate(info)
    ops = win["ops_per_sec"] if win else info.get("instantaneous_ops_per_sec")
    reach = "Redis %s (%s)" % (info.get("redis_version"), info.get("role"))
    findings = [
        make_finding("redis_reachable", OK,
                     reach + (" answered PING in %s ms" % ping_ms if ping_ms is not None else " answered INFO"),
                     value=ping_ms, unit="ms", target=target)
    ]
    findings.extend(_memory_findings(mem, t, target))
    findings.extend(_hit_rate_findings(lifetime, win, t, target))
    findings.append(_clients_finding(cl, t, target))
    findings.append(_evictions_finding(info, win, t, target))
    findings.append(_persistence_finding(pers, t, target))
    findings.append(_replication_finding(rep, t, target))
    if latency is not None or errors.get("latency"):
        findings.append(_latency_finding(latency, errors.get("latency"), now, t, target))
    if slowlog is not None or errors.get("slowlog"):
        findings.append(_slowlog_finding(slowlog, errors.get("slowlog"), target))
    if t.get("checks"):
        findings = [f for f in findings if CHECK_OF_FINDING.get(f["check"], "reachable") in ("reachable",) + tuple(t["checks"])]
    return {
        "reachable": True,
        "latency_ms": ping_ms,
        "version": info.get("redis_version"),
        "role": info.get("role"),
        "uptime_seconds": info.get("uptime_in_seconds"),
        "memory": mem,
        "hit_rate_pct": lifetime,
        "hit_rate": {
            "lifetime_pct": lifetime,
            "window_pct": win["hit_rate_pct"] if win else None,
            "keyspace_hits": int(info.get("keyspace_hits", 0)),
            "keyspace_misses": int(info.get("keyspace_misses", 0)),
        },
        "window": win,
        "connected_clients": cl["connected"],
        "clients": cl,
        "ops_per_sec": ops,
        "evicted_keys": int(info.get("evicted_keys", 0)),
        "expired_keys": int(info.get("expired_keys", 0)),
        "persistence": pers,
        "replication": rep,
        "keyspace": redis_info.keyspace(info),
        "slowlog": slowlog,
        "latency_events": latency,
        "findings": findings,
    }
