# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL diagnostics: each check is a small function returning data + findings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils import postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
    OK,
    WARNING,
    make_finding,
    threshold_finding,
)


def server_info(conn):
    row = postgres.query_one(
        conn,
        "SELECT version() AS version, current_setting('server_version_num')::int AS version_num, "
        "current_setting('server_version') AS server_version, "
        "extract(epoch FROM now() - pg_postmaster_start_time())::bigint AS uptime_seconds, "
        "pg_is_in_recovery() AS in_recovery",
    )
    return row


def connections(conn):
    rows = postgres.query(
        conn,
        "SELECT coalesce(state, 'background') AS state, count(*)::int AS count "
        "FROM pg_stat_activity GROUP BY 1 ORDER BY 1",
    )
    max_conn = int(postgres.query_one(conn, "SELECT current_setting('max_connections') AS v")["v"])
    reserved = int(postgres.query_one(conn, "SELECT current_setting('superuser_reserved_connections') AS v")["v"])
    client = postgres.query_one(
        conn, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'"
    )["n"]
    return {
        "by_state": dict((r["state"], r["count"]) for r in rows),
        "total": client,
        "max_connections": max_conn,
        "superuser_reserved_connections": reserved,
    }


def extension_installed(conn, name):
    row = postgres.query_one(conn, "SELECT extversion FROM pg_extension WHERE extname = %s", (name,))
    return row["extversion"] if row else None


def health(params, thresholds):
    """Run the health checks; return the module result (data + findings)."""
    target = postgres.describe_target(params)
    started = time.time()
    with postgres.connection(params) as conn:
        latency_ms = round((time.time() - started) * 1000, 1)
        info = server_info(conn)
        conns = connections(conn)
        pgss = extension_installed(conn, "pg_stat_statements")
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
    capacity = thresholds.get("pool_size") or conns["max_connections"]
    pct = round(100.0 * conns["total"] / capacity, 1) if capacity else None
    findings.append(
        threshold_finding(
            "postgres_connection_utilization",
            pct,
            warn=thresholds["connections_warn_pct"],
            crit=thresholds["connections_crit_pct"],
            unit="%",
            target=target,
            label="connection use (%d of %d)" % (conns["total"], capacity),
        )
    )
    if pgss is None:
        findings.append(
            make_finding(
                "postgres_pg_stat_statements",
                WARNING,
                "pg_stat_statements is not installed in database %s: add it to "
                "shared_preload_libraries and run CREATE EXTENSION pg_stat_statements"
                % params.get("database"),
                target=target,
            )
        )
    return {
        "reachable": True,
        "latency_ms": latency_ms,
        "version": info["server_version"],
        "version_num": info["version_num"],
        "version_string": info["version"],
        "uptime_seconds": info["uptime_seconds"],
        "in_recovery": info["in_recovery"],
        "connections": conns,
        "pg_stat_statements": pgss,
        "findings": findings,
    }
