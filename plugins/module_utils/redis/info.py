# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions over Redis ``INFO``: parse the raw text, derive the metrics.

No connection here: the same functions serve ``redis_health`` (INFO read with
redis-py) and the ``redis_info`` filter (raw ``redis-cli INFO`` text from sites
that only have exec), so both report the same numbers for the same server.

``parse_info`` follows redis-py's own parser (numbers become int/float,
``k=v,k=v`` values become dicts) so a parsed dict equals ``client.info()``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_DB_KEY = re.compile(r"^db(\d+)$")
_REPLICA_KEY = re.compile(r"^slave(\d+)$")
_FIELD = re.compile(r"^[A-Za-z0-9_.|-]+$")


def _value(text):
    if "," not in text and "=" not in text:
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            return text
    if "=" not in text:
        return [_value(v) for v in text.split(",") if v]
    result = {}
    for item in text.split(","):
        if not item:
            continue
        if "=" in item:
            key, val = item.rsplit("=", 1)
            result[key] = _value(val)
        else:
            result[item] = True
    return result


def parse_info(text, sections=False):
    """Parse raw ``INFO`` text (``redis-cli INFO`` output, CRLF or LF) into a dict.

    With ``sections=True`` the result is ``{section_name_lowercase: {key: value}}``.
    Raises ValueError when the text does not look like INFO output.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise ValueError("expected the text of Redis INFO, got %s" % type(text).__name__)
    flat = {}
    grouped = {}
    section = "default"
    seen_field = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            section = line.lstrip("#").strip().lower()
            grouped.setdefault(section, {})
            continue
        if ":" not in line:
            flat.setdefault("__raw__", []).append(line)
            continue
        key, val = line.split(":", 1)
        if key == "cmdstat_host":
            key, val = line.rsplit(":", 1)
        if not _FIELD.match(key):  # e.g. "Could not connect to Redis at ...: Connection refused"
            flat.setdefault("__raw__", []).append(line)
            continue
        seen_field = True
        parsed = _value(val)
        if key == "module":
            flat.setdefault("modules", []).append(parsed)
            grouped.setdefault(section, {}).setdefault("modules", []).append(parsed)
        else:
            flat[key] = parsed
            grouped.setdefault(section, {})[key] = parsed
    if not seen_field:
        raise ValueError("no 'field:value' lines: this is not the output of Redis INFO")
    return grouped if sections else flat


def _int(info, key, default=0):
    try:
        return int(info.get(key, default))
    except (TypeError, ValueError):
        return default


def _ratio_pct(part, total):
    if not total:
        return None
    return round(100.0 * part / total, 2)


def hit_rate(info):
    """Lifetime (since start or CONFIG RESETSTAT) keyspace hit rate in percent; None without lookups."""
    hits = _int(info, "keyspace_hits")
    return _ratio_pct(hits, hits + _int(info, "keyspace_misses"))


def memory_use_pct(info):
    """Used memory against maxmemory (or total system memory when no max is set) and the basis used."""
    used = _int(info, "used_memory")
    maxmemory = _int(info, "maxmemory")
    limit = maxmemory or _int(info, "total_system_memory")
    if not limit:
        return None, None
    return _ratio_pct(used, limit), ("maxmemory" if maxmemory else "system memory")


def memory(info):
    pct, basis = memory_use_pct(info)
    return {
        "used_bytes": info.get("used_memory"),
        "used_rss_bytes": info.get("used_memory_rss"),
        "peak_bytes": info.get("used_memory_peak"),
        "maxmemory_bytes": info.get("maxmemory"),
        "maxmemory_policy": info.get("maxmemory_policy"),
        "total_system_bytes": info.get("total_system_memory"),
        "used_pct": pct,
        "basis": basis,
        "fragmentation_ratio": info.get("mem_fragmentation_ratio"),
        "fragmentation_bytes": info.get("mem_fragmentation_bytes"),
    }


def keyspace(info):
    """``{"db0": {keys, expires, avg_ttl}}`` from the Keyspace section."""
    result = {}
    for key, value in info.items():
        match = _DB_KEY.match(key)
        if match and isinstance(value, dict):
            result[key] = {
                "keys": int(value.get("keys", 0)),
                "expires": int(value.get("expires", 0)),
                "avg_ttl": int(value.get("avg_ttl", 0)),
            }
    return result


def clients(info):
    connected = _int(info, "connected_clients")
    maxclients = _int(info, "maxclients")
    return {
        "connected": connected,
        "blocked": _int(info, "blocked_clients"),
        "maxclients": maxclients or None,
        "used_pct": _ratio_pct(connected, maxclients),
        "rejected_connections": _int(info, "rejected_connections"),
    }


def persistence(info, now):
    """Last BGSAVE status and age, pending changes, AOF state."""
    last_save = _int(info, "rdb_last_save_time")
    aof_enabled = bool(_int(info, "aof_enabled"))
    return {
        "rdb_last_bgsave_status": info.get("rdb_last_bgsave_status"),
        "rdb_last_save_time": last_save or None,
        "rdb_last_save_age_seconds": int(now - last_save) if last_save else None,
        "rdb_changes_since_last_save": _int(info, "rdb_changes_since_last_save"),
        "rdb_bgsave_in_progress": bool(_int(info, "rdb_bgsave_in_progress")),
        "aof_enabled": aof_enabled,
        "aof_last_write_status": info.get("aof_last_write_status") if aof_enabled else None,
        "aof_last_bgrewrite_status": info.get("aof_last_bgrewrite_status") if aof_enabled else None,
    }


def replication(info):
    """Role, and replica lag: per replica on a master, link state and lag on a replica."""
    role = info.get("role")
    result = {"role": role, "connected_replicas": _int(info, "connected_slaves")}
    if role == "master":
        offset = _int(info, "master_repl_offset")
        numbered = sorted((int(m.group(1)), m.group(0)) for m in map(_REPLICA_KEY.match, info) if m)
        replicas = []
        for _number, key in numbered:
            rep = info[key]
            if not isinstance(rep, dict):
                continue
            replicas.append({
                "address": "%s:%s" % (rep.get("ip"), rep.get("port")),
                "state": rep.get("state"),
                "lag_seconds": rep.get("lag"),
                "offset_lag_bytes": offset - int(rep.get("offset", offset)),
            })
        result["replicas"] = replicas
        lags = [r["lag_seconds"] for r in replicas if r["lag_seconds"] is not None]
        result["lag_seconds"] = max(lags) if lags else None
    else:
        link = info.get("master_link_status")
        result.update({
            "master": "%s:%s" % (info.get("master_host"), info.get("master_port")),
            "link_status": link,
            "lag_seconds": info.get("master_last_io_seconds_ago") if link == "up" else None,
            "link_down_seconds": info.get("master_link_down_since_seconds") if link != "up" else None,
            "offset_lag_bytes": _int(info, "master_repl_offset") - _int(info, "slave_repl_offset"),
        })
    return result


def window(before, after, seconds):
    """Counter deltas between two INFO reads ``seconds`` apart (the sample window)."""
    seconds = float(seconds)

    def delta(key):
        return max(0, _int(after, key) - _int(before, key))

    hits, misses = delta("keyspace_hits"), delta("keyspace_misses")
    commands = delta("total_commands_processed")
    return {
        "seconds": round(seconds, 3),
        "keyspace_hits": hits,
        "keyspace_misses": misses,
        "hit_rate_pct": _ratio_pct(hits, hits + misses),
        "commands": commands,
        "ops_per_sec": round(commands / seconds, 1) if seconds > 0 else None,
        "evicted_keys": delta("evicted_keys"),
        "expired_keys": delta("expired_keys"),
    }
