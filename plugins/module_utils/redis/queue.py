# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Queues kept in Redis: backlog and trend, peek, requeue from a dead-letter list, purge.

A queue is a key of any queue-like type: list (Celery/Kombu, RQ, Sidekiq, plain
LPUSH/BRPOP), stream (backlog = the worst consumer group's lag + pending, or the
length without groups), sorted set (delayed/scheduled jobs), set or hash.
With ``celery`` the Kombu priority lists (``name\\x06\\x16N``) count too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import (
    InvalidInput,
    ServiceError,
    ServiceUnreachable,
    scrub,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    OK,
    UNKNOWN,
    WARNING,
    make_action,
    make_finding,
    threshold_finding,
)

KOMBU_PRIORITY_SEP = "\x06\x16"
KOMBU_UNACKED = "unacked"
LENGTH_COMMANDS = {"list": "LLEN", "zset": "ZCARD", "set": "SCARD", "hash": "HLEN", "stream": "XLEN"}
OPPOSITE = {"left": "right", "right": "left"}
MAX_ITEM_CHARS = 500

REDIS_QUEUE_OPTIONS = dict(
    queues=dict(type="list", elements="str", default=[]),
    celery=dict(type="bool", default=False),
    samples=dict(type="int", default=3),
    interval=dict(type="float", default=1.0),
    length_warn=dict(type="int", default=100),
    length_crit=dict(type="int", default=1000),
    peek=dict(type="int", default=0),
    consume_from=dict(type="str", default="right", choices=["left", "right"]),
    requeue_from=dict(type="str"),
    requeue_to=dict(type="str"),
    requeue_count=dict(type="int", default=100),
    purge=dict(type="str"),
    flushdb=dict(type="bool", default=False),
    confirm=dict(type="str"),
)


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value)
    return value if len(value) <= MAX_ITEM_CHARS else value[:MAX_ITEM_CHARS] + "..."


def validate(params):
    """Check the options before touching the server; each error names its option."""
    queues = params.get("queues") or []
    if not 1 <= int(params.get("samples") or 0) <= 60:
        raise InvalidInput("samples must be between 1 and 60, got %s" % params.get("samples"))
    if not 0 <= float(params.get("interval") or 0) <= 60:
        raise InvalidInput("interval must be between 0 and 60 seconds, got %s" % params.get("interval"))
    if not 0 <= int(params.get("peek") or 0) <= 100:
        raise InvalidInput("peek must be between 0 and 100, got %s" % params.get("peek"))
    if not 1 <= int(params.get("requeue_count") or 0) <= 100000:
        raise InvalidInput("requeue_count must be between 1 and 100000, got %s" % params.get("requeue_count"))
    for option in ("length_warn", "length_crit"):
        if params.get(option) is not None and params[option] < 0:
            raise InvalidInput("%s must be zero or more items, got %s" % (option, params[option]))
    if params.get("length_warn") is not None and params.get("length_crit") is not None \
            and params["length_warn"] > params["length_crit"]:
        raise InvalidInput("length_warn (%s) must not be above length_crit (%s)"
                           % (params["length_warn"], params["length_crit"]))
    for name in queues:
        if not name:
            raise InvalidInput("queues: queue names must not be empty")
    if bool(params.get("requeue_from")) != bool(params.get("requeue_to")):
        raise InvalidInput("requeue_from and requeue_to must be given together")
    if params.get("requeue_from") and params["requeue_from"] == params["requeue_to"]:
        raise InvalidInput("requeue_from and requeue_to must differ, both are %r" % params["requeue_from"])
    actions = [name for name in ("requeue_from", "purge", "flushdb") if params.get(name)]
    if len(actions) > 1:
        raise InvalidInput("one action at a time: got %s" % ", ".join(actions))
    if params.get("purge") is not None and params.get("confirm") != params["purge"]:
        raise InvalidInput(
            "purge: refusing to delete queue %r without confirmation: set confirm to the exact queue name %r "
            "(got %r)" % (params["purge"], params["purge"], params.get("confirm"))
        )
    if params.get("flushdb"):
        expected = "db%d" % (params.get("db") or 0)
        if params.get("url"):
            raise InvalidInput("flushdb: give host/port/db rather than url, so confirm can name the database")
        if params.get("confirm") != expected:
            raise InvalidInput(
                "flushdb: refusing to delete every key of database %s without confirmation: set confirm to %r "
                "(got %r)" % (params.get("db") or 0, expected, params.get("confirm"))
            )
    if not queues and not actions:
        raise InvalidInput("queues: name at least one queue (or ask for requeue_from/requeue_to, purge or flushdb)")


def member_keys(name, celery):
    """The Redis keys that make up queue ``name`` (Kombu priority lists with ``celery``)."""
    keys = [name]
    if celery:
        keys.extend("%s%s%d" % (name, KOMBU_PRIORITY_SEP, prio) for prio in range(1, 10))
    return keys


def key_types(client, keys):
    """``{key: type}`` ("none" when missing) without adding keyspace misses to the server's stats.

    TYPE on a missing key counts as a keyspace miss and would lower the hit rate that
    ``redis_health`` judges, so existence is checked first with ``MEMORY USAGE`` (no
    stats); only existing keys get a TYPE (one keyspace hit each).
    """
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("MEMORY", "USAGE", key, "SAMPLES", "0")
    try:
        sizes = pipe.execute()
    except redis_common.redis.ResponseError:  # MEMORY not permitted for this user: plain TYPE
        sizes = [1] * len(keys)
    existing = [key for key, size in zip(keys, sizes) if size is not None]
    result = dict((key, "none") for key in keys)
    if existing:
        pipe = client.pipeline(transaction=False)
        for key in existing:
            pipe.type(key)
        result.update((key, _text(kind)) for key, kind in zip(existing, pipe.execute()))
    return result


def _stream_groups(client, key):
    groups = []
    for group in client.xinfo_groups(key):
        groups.append({
            "name": _text(group.get("name")),
            "consumers": group.get("consumers"),
            "pending": group.get("pending"),
            "lag": group.get("lag"),
            "last_delivered_id": _text(group.get("last-delivered-id")),
        })
    return groups


def _stream_backlog(length, groups):
    if not groups:
        return length
    backlogs = []
    for group in groups:
        lag = group["lag"] if group["lag"] is not None else length
        backlogs.append(int(lag) + int(group["pending"] or 0))
    return max(backlogs)


def measure(client, layout):
    """One sample: ``{queue: {length, backlog, groups}}`` (one pipelined round trip)."""
    pipe = client.pipeline(transaction=False)
    order = []
    for queue, keys in layout.items():
        for key, kind in keys.items():
            if kind in LENGTH_COMMANDS:
                pipe.execute_command(LENGTH_COMMANDS[kind], key)
                order.append((queue, key, kind))
    values = pipe.execute() if order else []
    result = dict((queue, {"length": 0, "backlog": 0, "groups": None}) for queue in layout)
    for (queue, key, kind), value in zip(order, values):
        entry = result[queue]
        entry["length"] += int(value)
        if kind == "stream":
            entry["groups"] = _stream_groups(client, key)
            entry["backlog"] += _stream_backlog(int(value), entry["groups"])
        else:
            entry["backlog"] += int(value)
    return result


def trend(points):
    """Trend of ``[(t, backlog), ...]``: rate per second, direction and time to drain."""
    if len(points) < 2:
        return {"rate_per_sec": None, "trend": "unknown" if points and points[-1][1] else "empty", "eta_seconds": None}
    (t0, first), (t1, last) = points[0], points[-1]
    elapsed = max(t1 - t0, 1e-6)
    rate = round((last - first) / elapsed, 2)
    if first == 0 and last == 0:
        direction = "empty"
    elif last > first:
        direction = "growing"
    elif last < first:
        direction = "draining"
    else:
        direction = "stalled"
    eta = round(last / -rate, 1) if rate < 0 and last else (0 if last == 0 else None)
    return {"rate_per_sec": rate, "trend": direction, "eta_seconds": eta}


def peek_items(client, key, kind, count, consume_from):
    """The next ``count`` items (to be consumed first), decoded and truncated."""
    if kind == "list":
        if consume_from == "right":
            items = list(reversed(client.lrange(key, -count, -1)))
        else:
            items = client.lrange(key, 0, count - 1)
        return [_text(i) for i in items]
    if kind == "zset":
        return [{"member": _text(m), "score": s} for m, s in client.zrange(key, 0, count - 1, withscores=True)]
    if kind == "stream":
        return [{"id": _text(i), "fields": dict((_text(k), _text(v)) for k, v in f.items())}
                for i, f in client.xrange(key, count=count)]
    if kind == "set":
        return sorted(_text(m) for m in client.srandmember(key, count))
    if kind == "hash":
        cursor, fields = client.hscan(key, 0, count=count)
        return [{"field": _text(k), "value": _text(v)} for k, v in list(fields.items())[:count]]
    return []


def _queue_findings(name, data, params, target):
    where = "%s@%s" % (name, target)
    findings = []
    if data["unsupported"]:
        findings.append(make_finding(
            "redis_queue_type", UNKNOWN, "queue %s: key type %s is not a queue type (list, stream, zset, set, hash)"
            % (name, ", ".join(data["unsupported"])), target=where))
    findings.append(threshold_finding(
        "redis_queue_backlog", data["backlog"], warn=params.get("length_warn"), crit=params.get("length_crit"),
        unit="items", target=where, label="backlog of %s (%s)" % (name, "/".join(data["types"]) or "missing"),
    ))
    direction = data["trend"]
    if len(data["samples"]) < 2:
        return findings
    rate = data["rate_per_sec"]
    span = round(data["samples"][-1]["t"] - data["samples"][0]["t"], 1)
    if direction == "growing":
        status, text = WARNING, "growing by %s items/s over %ss: consumers are not keeping up" % (rate, span)
    elif direction == "stalled":
        status, text = WARNING, "not draining: %d items unchanged over %ss (no consumer?)" % (data["backlog"], span)
    elif direction == "draining":
        status, text = OK, "draining at %s items/s, empty in about %ss" % (-rate, data["eta_seconds"])
    else:
        status, text = OK, "empty over %ss" % span
    findings.append(make_finding("redis_queue_trend", status, "queue %s is %s" % (name, text), value=rate,
                                 unit="items/s", target=where))
    return findings


def layout_of(client, names, celery):
    """``{queue: {existing key: type}}`` for the queues ``names``."""
    all_keys = [k for n in names for k in member_keys(n, celery)]
    types = key_types(client, all_keys) if all_keys else {}
    return dict((n, dict((k, types[k]) for k in member_keys(n, celery) if types[k] != "none")) for n in names)


def inspect(client, params, target):
    """Backlog, trend and peek of every queue in ``params['queues']``."""
    celery = bool(params.get("celery"))
    names = list(params.get("queues") or [])
    layout = layout_of(client, names, celery)
    samples = dict((n, []) for n in names)
    count, interval = int(params.get("samples") or 1), float(params.get("interval") or 0)
    last = {}
    for index in range(count):
        if index:
            time.sleep(interval)
        now = time.time()
        last = measure(client, layout)
        for name in names:
            samples[name].append({"t": round(now, 3), "length": last[name]["length"], "backlog": last[name]["backlog"]})
    queues, findings = [], []
    for name in names:
        keys = layout[name]
        points = [(s["t"], s["backlog"]) for s in samples[name]]
        data = {
            "name": name,
            "exists": bool(keys),
            "keys": sorted(keys),
            "types": sorted(set(k for k in keys.values() if k in LENGTH_COMMANDS)),
            "unsupported": sorted(set(k for k in keys.values() if k not in LENGTH_COMMANDS)),
            "length": last[name]["length"] if name in last else 0,
            "backlog": last[name]["backlog"] if name in last else 0,
            "groups": last.get(name, {}).get("groups"),
            "samples": samples[name],
        }
        data.update(trend(points))
        if params.get("peek") and keys.get(name) in LENGTH_COMMANDS:
            data["peek"] = peek_items(client, name, keys[name], int(params["peek"]), params.get("consume_from"))
        findings.extend(_queue_findings(name, data, params, target))
        queues.append(data)
    result = {"queues": queues, "findings": findings}
    if celery:
        result["celery_unacked"] = int(client.hlen(KOMBU_UNACKED)) if key_types(client, [KOMBU_UNACKED])[
            KOMBU_UNACKED] == "hash" else 0
    return result


def requeue(client, params, target, check_mode):
    """Move up to ``requeue_count`` items from a dead-letter list back to the main list (LMOVE)."""
    src, dst = params["requeue_from"], params["requeue_to"]
    types = key_types(client, [src, dst])
    if types[src] not in ("list", "none"):
        raise InvalidInput("requeue_from: %r is a %s, only lists can be requeued" % (src, types[src]))
    if types[dst] not in ("list", "none"):
        raise InvalidInput("requeue_to: %r is a %s, only lists can receive requeued items" % (dst, types[dst]))
    available = int(client.llen(src)) if types[src] == "list" else 0
    wanted = min(available, int(params["requeue_count"]))
    pop = params.get("consume_from") or "right"
    push = OPPOSITE[pop]
    if check_mode:
        preview = peek_items(client, src, "list", min(wanted, 10), pop) if wanted else []
        detail = "would move %d of %d items from %s to %s" % (wanted, available, src, dst)
        return make_action("requeue", "%s -> %s@%s" % (src, dst, target), wanted > 0, True, detail), preview
    moved, preview = 0, []
    while moved < wanted:
        item = client.lmove(src, dst, pop.upper(), push.upper())  # atomic: an item is never lost in between
        if item is None:  # someone else drained it meanwhile
            break
        moved += 1
        if len(preview) < 10:
            preview.append(_text(item))
    left = int(client.llen(src)) if key_types(client, [src])[src] == "list" else 0
    detail = "moved %d items from %s to %s (%d left in %s)" % (moved, src, dst, left, src)
    return make_action("requeue", "%s -> %s@%s" % (src, dst, target), moved > 0, False, detail), preview


def purge(client, params, target, check_mode):
    """Delete a queue (and its Celery priority lists); ``confirm`` was checked by ``validate``."""
    name = params["purge"]
    layout = layout_of(client, [name], params.get("celery"))
    keys = sorted(layout[name])
    sizes = measure(client, layout)[name]
    verb = "would delete" if check_mode else "deleted"
    if keys and not check_mode:
        client.delete(*keys)
    detail = "%s queue %s: %d items in %d keys" % (verb, name, sizes["length"], len(keys))
    return make_action("purge", "%s@%s" % (name, target), bool(keys), check_mode, detail), None


def flushdb(client, params, target, check_mode):
    size = int(client.dbsize())
    if size and not check_mode:
        client.flushdb()
    verb = "would delete" if check_mode else "deleted"
    detail = "%s all %d keys of database %s (FLUSHDB)" % (verb, size, params.get("db") or 0)
    return make_action("flushdb", target, size > 0, check_mode, detail), None


def run(params, check_mode=False):
    """The module's work: inspect the queues, then at most one action; returns the result dict."""
    validate(params)
    target = redis_common.describe_target(params)
    client = redis_common.connect(params)
    secrets = [params.get("password"), params.get("url")]
    try:
        result = inspect(client, params, target) if params.get("queues") else {"queues": [], "findings": []}
        result["actions"] = []
        result["changed"] = False
        action = None
        if params.get("requeue_from"):
            action = requeue
        elif params.get("purge") is not None:
            action = purge
        elif params.get("flushdb"):
            action = flushdb
        if action is not None:
            record, items = action(client, params, target, check_mode)
            result["actions"].append(record)
            if items is not None:
                result["requeued_items"] = items
            result["changed"] = record["changed"]
            if params.get("queues") and record["changed"] and not check_mode:
                after = measure(client, layout_of(client, params["queues"], params.get("celery")))
                result["lengths_after"] = dict((n, v["length"]) for n, v in after.items())
    except (redis_common.redis.ConnectionError, redis_common.redis.TimeoutError) as exc:
        raise ServiceUnreachable("lost Redis at %s: %s" % (target, scrub(str(exc), secrets)))
    except redis_common.redis.ResponseError as exc:
        raise redis_common.response_error(exc, secrets)
    except redis_common.redis.RedisError as exc:
        raise ServiceError("Redis error at %s: %s" % (target, scrub(str(exc), secrets)))
    finally:
        client.close()
    result["target"] = target
    return result
