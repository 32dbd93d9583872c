# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL diagnostics: each check is a small function returning data + findings.

Seed thresholds: connection pool 80 % (ConectCRM, SparkOne), statement time 100 ms
(Techbra §5 "queries lentas > 100ms") and 1 s (ConectCRM SlowDatabaseQueries), lock
waits 5 % (Techbra §5), long-running query 5 min (ML Bling "Banco de Dados Lento").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    BELOW,
    OK,
    WARNING,
    make_finding,
    threshold_finding,
)

# 2^31: transaction IDs wrap around at this age.
XID_WRAPAROUND = 2147483648

CHECKS = (
    "connections",
    "long_queries",
    "blocked",
    "lock_waits",
    "statements",
    "cache",
    "indexes",
    "vacuum",
    "sizes",
    "xid_age",
    "replication",
)

DEFAULT_THRESHOLDS = {
    "connections_warn_pct": 80,
    "connections_crit_pct": 90,
    "pool_size": None,
    "long_query_seconds": 300,
    "statement_mean_warn_ms": 100,
    "statement_mean_crit_ms": 1000,
    "top_statements": 10,
    "lock_wait_warn_pct": 5,
    "lock_wait_crit_pct": 20,
    "cache_hit_warn_pct": 95,
    "cache_hit_crit_pct": 90,
    "seq_scan_min_rows": 1000,
    "dead_tuple_warn_pct": 10,
    "dead_tuple_crit_pct": 20,
    "dead_tuple_min_rows": 1000,
    "xid_age_warn_pct": 50,
    "xid_age_crit_pct": 75,
    "replication_lag_warn_seconds": 30,
    "replication_lag_crit_seconds": 300,
}


def server_info(conn):
    row = postgres.query_one(
        conn,
        "SELECT version() AS version, current_setting('server_version_num')::int AS version_num, "
        "current_setting('server_version') AS server_version, "
        "extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_seconds, "
        "pg_is_in_recovery() AS in_recovery",
    )
    return row


def setting(conn, name):
    return postgres.query_one(conn, "SELECT current_setting(%s) AS v", (name,))["v"]


def connections(conn):
    """Client connections by state and by database (with the oldest query_start)."""
    rows = postgres.query(
        conn,
        "SELECT coalesce(state, 'background') AS state, count(*)::int AS count "
        "FROM pg_stat_activity GROUP BY 1 ORDER BY 1",
    )
    by_db = postgres.query(
        conn,
        "SELECT coalesce(datname, '') AS database, coalesce(state, 'unknown') AS state, count(*)::int AS count, "
        "min(query_start) AS oldest_query_start, "
        "round(extract(epoch FROM now() - min(query_start))::numeric, 1)::float AS oldest_query_seconds "
        "FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2 ORDER BY 1, 2",
    )
    client = postgres.query_one(
        conn, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'"
    )["n"]
    return {
        "by_state": dict((r["state"], r["count"]) for r in rows),
        "by_database": [postgres.jsonable(r) for r in by_db],
        "total": client,
        "max_connections": int(setting(conn, "max_connections")),
        "superuser_reserved_connections": int(setting(conn, "superuser_reserved_connections")),
    }


def connection_findings(conns, thresholds, target):
    pool = thresholds.get("pool_size")
    capacity = pool or conns["max_connections"]
    findings = [
        threshold_finding(
            "postgres_connection_utilization",
            _pct(conns["total"], capacity),
            warn=thresholds["connections_warn_pct"],
            crit=thresholds["connections_crit_pct"],
            unit="%",
            target=target,
            label="connection use (%d of %s %d)" % (conns["total"], "pool" if pool else "max_connections", capacity),
        )
    ]
    if pool:
        findings.append(
            threshold_finding(
                "postgres_max_connections_utilization",
                _pct(conns["total"], conns["max_connections"]),
                warn=thresholds["connections_warn_pct"],
                crit=thresholds["connections_crit_pct"],
                unit="%",
                target=target,
                label="server connection use (%d of max_connections %d)" % (conns["total"], conns["max_connections"]),
            )
        )
    return findings


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


SCOPE_FILTER = {"server": "", "database": " AND a.datname = current_database()"}


def long_queries(conn, min_seconds, scope="server"):
    """Non-idle client queries running for at least ``min_seconds`` (not our own backend)."""
    rows = postgres.query(
        conn,
        "SELECT pid, usename AS user, datname AS database, application_name, state, "
        "round(extract(epoch FROM now() - query_start)::numeric, 1)::float AS duration_seconds, "
        "wait_event_type, wait_event, left(query, 300) AS query "
        "FROM pg_stat_activity a WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
        "AND state IS DISTINCT FROM 'idle' AND now() - query_start >= make_interval(secs => %s)"
        + SCOPE_FILTER[scope] + " ORDER BY query_start",
        (float(min_seconds),),
    )
    return [postgres.jsonable(r) for r in rows]


def blocked_queries(conn, scope="server"):
    """Backends waiting on a lock, the lock they wait for and their blocking chain."""
    rows = postgres.query(
        conn,
        "SELECT a.pid, a.usename AS user, a.datname AS database, a.application_name, a.state, "
        "a.wait_event_type, a.wait_event, pg_blocking_pids(a.pid) AS blocking_pids, "
        "round(extract(epoch FROM now() - coalesce(a.state_change, a.query_start))::numeric, 1)::float "
        "AS waiting_seconds, left(a.query, 300) AS query, "
        "(SELECT array_agg(DISTINCT l.locktype || ':' || l.mode || coalesce(':' || l.relation::regclass::text, '')) "
        " FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS waiting_for "
        "FROM pg_stat_activity a WHERE cardinality(pg_blocking_pids(a.pid)) > 0"
        + SCOPE_FILTER[scope] + " ORDER BY a.pid",
    )
    blocked = dict((r["pid"], r) for r in rows)
    blockers = set()
    for row in rows:
        blockers.update(row["blocking_pids"])
    holders = {}
    if blockers:
        for row in postgres.query(
            conn,
            "SELECT a.pid, a.usename AS user, a.datname AS database, a.state, left(a.query, 300) AS query, "
            "round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::float AS transaction_seconds, "
            "(SELECT array_agg(DISTINCT l.locktype || ':' || l.mode || coalesce(':' || l.relation::regclass::text, '')) "
            " FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.locktype <> 'virtualxid') AS holding "
            "FROM pg_stat_activity a WHERE a.pid = ANY(%s)",
            (sorted(blockers),),
        ):
            holders[row["pid"]] = row
    for row in rows:
        row["chain"] = blocking_chain(row["pid"], blocked)
        row["waiting_for"] = sorted(row["waiting_for"] or [])
    return {
        "blocked": [postgres.jsonable(r) for r in rows],
        "blockers": [postgres.jsonable(holders[p]) for p in sorted(holders)],
    }


def blocking_chain(pid, blocked, limit=50):
    """``[pid, its first blocker, that one's blocker, ...]`` up to a backend that is not blocked.

    ``blocked`` maps pid -> row with ``blocking_pids``. Cycles (deadlocks) stop the walk.
    """
    chain = [pid]
    current = pid
    while current in blocked and len(chain) < limit:
        parents = sorted(blocked[current]["blocking_pids"])
        if not parents or parents[0] in chain:
            break
        current = parents[0]
        chain.append(current)
    return chain


def lock_waits(conn, scope="server"):
    """Active client backends, and how many of them wait on a heavyweight lock."""
    row = postgres.query_one(
        conn,
        "SELECT count(*)::int AS active, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting "
        "FROM pg_stat_activity a WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
        "AND state IS DISTINCT FROM 'idle'" + SCOPE_FILTER[scope],
    )
    row["ratio_pct"] = _pct(row["waiting"], row["active"]) if row["active"] else 0.0
    return row


def pg_stat_statements_columns(conn):
    """(total, mean) column names of pg_stat_statements: *_exec_time since 1.8 (PG 13), *_time before."""
    cols = set(
        r["attname"]
        for r in postgres.query(
            conn,
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('pg_stat_statements') "
            "AND attnum > 0 AND NOT attisdropped",
        )
    )
    if "mean_exec_time" in cols:
        return "total_exec_time", "mean_exec_time"
    if "mean_time" in cols:
        return "total_time", "mean_time"
    return None


def extension_installed(conn, name):
    row = postgres.query_one(conn, "SELECT extversion FROM pg_extension WHERE extname = %s", (name,))
    return row["extversion"] if row else None


def top_statements(conn, limit, order):
    """Top statements of the connected database from pg_stat_statements, by ``order`` (mean|total)."""
    cols = pg_stat_statements_columns(conn)
    if cols is None:
        return []
    total, mean = cols
    key = mean if order == "mean" else total
    rows = postgres.query(
        conn,
        "SELECT s.queryid::text AS queryid, s.calls, round(s.{mean}::numeric, 3)::float AS mean_ms, "
        "round(s.{total}::numeric, 3)::float AS total_ms, s.rows, left(s.query, 300) AS query "
        "FROM pg_stat_statements s "
        "WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY s.{key} DESC LIMIT %s".format(mean=mean, total=total, key=key),
        (int(limit),),
    )
    return [postgres.jsonable(r) for r in rows]


def statements_missing_finding(conn, database, target):
    preload = setting(conn, "shared_preload_libraries")
    if "pg_stat_statements" in preload:
        how = "run CREATE EXTENSION pg_stat_statements in database %s" % database
    else:
        how = (
            "add pg_stat_statements to shared_preload_libraries (postgresql.conf), restart PostgreSQL, "
            "then run CREATE EXTENSION pg_stat_statements in database %s" % database
        )
    return make_finding(
        "postgres_pg_stat_statements",
        WARNING,
        "pg_stat_statements is not installed in database %s: %s" % (database, how),
        target=target,
    )


def cache_hit(conn):
    row = postgres.query_one(
        conn,
        "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()",
    )
    total = (row["blks_hit"] or 0) + (row["blks_read"] or 0)
    row["ratio_pct"] = round(100.0 * row["blks_hit"] / total, 2) if total else None
    return row


def index_usage(conn, min_rows):
    """Unused non-unique indexes, and tables read mostly by sequential scans."""
    unused = postgres.query(
        conn,
        "SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index, s.idx_scan, "
        "pg_relation_size(s.indexrelid) AS size_bytes "
        "FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid "
        "WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary "
        "ORDER BY pg_relation_size(s.indexrelid) DESC, 1, 2, 3",
    )
    seq = postgres.query(
        conn,
        "SELECT schemaname AS schema, relname AS table, seq_scan, coalesce(idx_scan, 0) AS idx_scan, "
        "seq_tup_read, n_live_tup AS live_rows FROM pg_stat_user_tables "
        "WHERE seq_scan > coalesce(idx_scan, 0) AND n_live_tup >= %s ORDER BY seq_tup_read DESC, 1, 2",
        (int(min_rows),),
    )
    return {"unused_indexes": unused, "seq_scan_tables": seq}


def dead_tuples(conn, min_rows):
    rows = postgres.query(
        conn,
        "SELECT schemaname AS schema, relname AS table, n_live_tup AS live_rows, n_dead_tup AS dead_rows, "
        "round(100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0), 2)::float AS dead_pct, "
        "last_vacuum, last_autovacuum, last_analyze, last_autoanalyze "
        "FROM pg_stat_user_tables WHERE n_dead_tup >= %s ORDER BY 5 DESC NULLS LAST, 1, 2",
        (int(min_rows),),
    )
    return [postgres.jsonable(r) for r in rows]


def database_sizes(conn):
    return postgres.query(
        conn,
        "SELECT datname AS database, pg_database_size(oid) AS size_bytes, "
        "age(datfrozenxid) AS xid_age FROM pg_database WHERE datallowconn ORDER BY 2 DESC, 1",
    )


def replication(conn, in_recovery):
    """Replica: replay lag. Primary: the replicas it streams to."""
    if in_recovery:
        row = postgres.query_one(
            conn,
            "SELECT round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 1)::float "
            "AS lag_seconds, pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint "
            "AS replay_lag_bytes",
        )
        return dict(role="replica", **row)
    replicas = postgres.query(
        conn,
        "SELECT application_name, client_addr::text AS client_addr, state, sync_state, "
        "extract(epoch FROM replay_lag)::float AS replay_lag_seconds, "
        "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS replay_lag_bytes "
        "FROM pg_stat_replication ORDER BY 1",
    )
    return {"role": "primary", "replicas": replicas}


def _count_finding(check, items, target, what):
    """Warning when ``items`` is not empty."""
    if not items:
        return make_finding(check, OK, "no %s" % what, value=0, target=target)
    return make_finding(check, WARNING, "%d %s" % (len(items), what), value=len(items), target=target)


def _run_checks(conn, params, thr, target, selected, result, findings):
    scope = params.get("scope") or "server"
    if "connections" in selected:
        result["connections"] = connections(conn)
        findings.extend(connection_findings(result["connections"], thr, target))
    if "long_queries" in selected:
        longq = result["long_queries"] = long_queries(conn, thr["long_query_seconds"], scope)
        findings.append(
            _count_finding("postgres_long_queries", longq, target,
                           "queries running for %s s or more" % thr["long_query_seconds"])
        )
    if "blocked" in selected:
        locks = blocked_queries(conn, scope)
        result["blocked"], result["blockers"] = locks["blocked"], locks["blockers"]
        findings.append(_count_finding("postgres_blocked_queries", locks["blocked"], target,
                                       "backends waiting on a lock held by another backend"))
    if "lock_waits" in selected:
        waits = result["lock_waits"] = lock_waits(conn, scope)
        findings.append(threshold_finding(
            "postgres_lock_wait_ratio", waits["ratio_pct"], warn=thr["lock_wait_warn_pct"],
            crit=thr["lock_wait_crit_pct"], unit="%", target=target,
            label="lock waits (%d of %d active backends)" % (waits["waiting"], waits["active"])))
    if "statements" in selected:
        _statement_checks(conn, params, thr, target, result, findings)
    if "cache" in selected:
        cache = result["cache"] = cache_hit(conn)
        if cache["ratio_pct"] is not None:
            findings.append(threshold_finding(
                "postgres_cache_hit_ratio", cache["ratio_pct"], warn=thr["cache_hit_warn_pct"],
                crit=thr["cache_hit_crit_pct"], direction=BELOW, unit="%", target=target,
                label="buffer cache hit ratio"))
    if "indexes" in selected:
        usage = result["index_usage"] = index_usage(conn, thr["seq_scan_min_rows"])
        findings.append(_count_finding("postgres_unused_indexes", usage["unused_indexes"], target,
                                       "non-unique indexes never scanned since the statistics reset"))
        findings.append(_count_finding("postgres_seq_scan_tables", usage["seq_scan_tables"], target,
                                       "tables of %s+ rows read more by sequential than index scans"
                                       % thr["seq_scan_min_rows"]))
    if "vacuum" in selected:
        dead = result["dead_tuples"] = dead_tuples(conn, thr["dead_tuple_min_rows"])
        worst = dead[0] if dead else None
        findings.append(threshold_finding(
            "postgres_dead_tuples", worst["dead_pct"] if worst else 0.0, warn=thr["dead_tuple_warn_pct"],
            crit=thr["dead_tuple_crit_pct"], unit="%", target=target,
            label="dead tuples of %s.%s" % (worst["schema"], worst["table"]) if worst else "dead tuples"))
    if "sizes" in selected or "xid_age" in selected:
        result["databases"] = database_sizes(conn)
    if "xid_age" in selected:
        oldest = max(result["databases"], key=lambda r: r["xid_age"])
        findings.append(threshold_finding(
            "postgres_xid_age", round(100.0 * oldest["xid_age"] / XID_WRAPAROUND, 2),
            warn=thr["xid_age_warn_pct"], crit=thr["xid_age_crit_pct"], unit="%", target=target,
            label="transaction ID age of database %s (%d, percent of wraparound)"
            % (oldest["database"], oldest["xid_age"])))
    if "replication" in selected:
        rep = result["replication"] = replication(conn, result["in_recovery"])
        if rep["role"] == "replica":
            findings.append(threshold_finding(
                "postgres_replication_lag", rep["lag_seconds"], warn=thr["replication_lag_warn_seconds"],
                crit=thr["replication_lag_crit_seconds"], unit="s", target=target, label="replica replay lag"))


def _statement_checks(conn, params, thr, target, result, findings):
    if result["pg_stat_statements"] is None:
        result["top_statements"] = {"by_mean": [], "by_total": []}
        findings.append(statements_missing_finding(conn, params.get("database"), target))
        return
    by_mean = top_statements(conn, thr["top_statements"], "mean")
    result["top_statements"] = {"by_mean": by_mean, "by_total": top_statements(conn, thr["top_statements"], "total")}
    slowest = by_mean[0] if by_mean else None
    findings.append(threshold_finding(
        "postgres_slow_statements", slowest["mean_ms"] if slowest else 0.0,
        warn=thr["statement_mean_warn_ms"], crit=thr["statement_mean_crit_ms"], unit="ms", target=target,
        label="slowest mean statement time (queryid %s)" % slowest["queryid"] if slowest
        else "slowest mean statement time"))


def resolve_thresholds(params):
    thr = dict(DEFAULT_THRESHOLDS)
    for key in thr:
        if params.get(key) is not None:
            thr[key] = params[key]
    return thr


def selected_checks(params):
    selected = params.get("checks") or list(CHECKS)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        raise InvalidInput("checks: unknown check(s) %s; expected any of %s" % (", ".join(unknown), ", ".join(CHECKS)))
    return selected


def health(params, thresholds=None):
    """Run the health checks; return the module result (data + findings)."""
    target = postgres.describe_target(params)
    thr = resolve_thresholds(thresholds if thresholds is not None else params)
    selected = selected_checks(params)
    started = time.time()
    with postgres.connection(params) as conn:
        latency_ms = round((time.time() - started) * 1000, 1)
        info = server_info(conn)
        result = {
            "reachable": True,
            "latency_ms": latency_ms,
            "version": info["server_version"],
            "version_num": info["version_num"],
            "version_string": info["version"],
            "uptime_seconds": info["uptime_seconds"],
            "in_recovery": info["in_recovery"],
            "pg_stat_statements": extension_installed(conn, "pg_stat_statements"),
            "checks": selected,
        }
        findings = [
            make_finding(
                "postgres_reachable",
                OK,
                "PostgreSQL %s answered in %s ms" % (info["server_version"], latency_ms),
                value=latency_ms,
                unit="ms",
                target=target,
            )
        ]
        _run_checks(conn, params, thr, target, selected, result, findings)
    result["findings"] = findings
    return result
