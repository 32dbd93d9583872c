# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""List, cancel or terminate PostgreSQL client backends chosen by criteria.

Only ``client backend`` rows of ``pg_stat_activity`` are ever candidates: never our own
backend, never WAL senders (replication), autovacuum or other background workers.
Each signal is sent only if the pid still belongs to the same backend (same
``backend_start``), so a recycled pid is never hit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import make_action

ACTIONS = ("list", "cancel", "terminate")
CRITERIA = ("min_duration", "states", "databases", "users", "applications", "query_regex", "pids")

_SELECT = (
    "SELECT pid, backend_start, usename AS user, datname AS database, application_name, "
    "client_addr::text AS client_addr, state, wait_event_type, wait_event, "
    "round(extract(epoch FROM now() - query_start)::numeric, 1)::float AS query_seconds, "
    "round(extract(epoch FROM now() - state_change)::numeric, 1)::float AS state_seconds, "
    "left(query, 500) AS query "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY query_start, pid"
)


def compile_criteria(params):
    """Validate the criteria; return them with ``query_regex`` compiled."""
    crit = dict((name, params.get(name)) for name in CRITERIA)
    if crit["min_duration"] is not None and crit["min_duration"] < 0:
        raise InvalidInput("min_duration must be zero or more seconds, got %s" % crit["min_duration"])
    if crit["query_regex"]:
        try:
            crit["query_regex"] = re.compile(crit["query_regex"])
        except re.error as exc:
            raise InvalidInput("query_regex is not a valid regular expression: %s" % exc)
    return crit


def has_criteria(crit):
    return any(crit.get(name) not in (None, [], "") for name in CRITERIA)


def matches(row, crit):
    """Whether a pg_stat_activity row matches every given criterion."""
    if crit.get("min_duration") is not None:
        if row["query_seconds"] is None or row["query_seconds"] < crit["min_duration"]:
            return False
    for key, column in (("states", "state"), ("databases", "database"), ("users", "user"),
                        ("applications", "application_name"), ("pids", "pid")):
        if crit.get(key) and row[column] not in crit[key]:
            return False
    if crit.get("query_regex") and not crit["query_regex"].search(row["query"] or ""):
        return False
    return True


def candidates(conn, crit):
    return [row for row in postgres.query(conn, _SELECT) if matches(row, crit)]


def _describe(row):
    return "pid %s (%s@%s, %s, %ss)" % (row["pid"], row["user"], row["database"], row["state"], row["query_seconds"])


def signal(conn, action, row, wait_ms):
    """Send pg_cancel_backend / pg_terminate_backend to the same backend; return whether it was sent."""
    if action == "cancel":
        call = "pg_cancel_backend(pid)"
    elif wait_ms:
        call = "pg_terminate_backend(pid, %d)" % int(wait_ms)
    else:
        call = "pg_terminate_backend(pid)"
    done = postgres.query_one(
        conn,
        "SELECT " + call + " AS ok FROM pg_stat_activity WHERE pid = %s AND backend_start = %s",
        (row["pid"], row["backend_start"]),
    )
    return bool(done and done["ok"])


def run(params, check_mode):
    action = params.get("action") or "list"
    if action not in ACTIONS:
        raise InvalidInput("action must be one of %s, got %r" % (", ".join(ACTIONS), action))
    crit = compile_criteria(params)
    if (params.get("wait_ms") or 0) < 0:
        raise InvalidInput("wait_ms must be zero or more milliseconds, got %s" % params["wait_ms"])
    if action != "list" and not has_criteria(crit):
        raise InvalidInput("action=%s needs at least one criterion (%s)" % (action, ", ".join(CRITERIA)))
    if action == "terminate" and not params.get("confirm"):
        raise InvalidInput("action=terminate needs confirm=true (it closes the matching sessions)")
    target = postgres.describe_target(params)
    with postgres.connection(params) as conn:
        version = int(postgres.query_one(conn, "SELECT current_setting('server_version_num') AS v")["v"])
        rows = candidates(conn, crit)
        actions = []
        if action != "list":
            wait_ms = params.get("wait_ms") if version >= 140000 else 0
            for row in rows:
                sent = False if check_mode else signal(conn, action, row, wait_ms)
                detail = _describe(row) if check_mode or sent else "%s: already gone" % _describe(row)
                actions.append(make_action("%s_backend" % action, "%s pid %s" % (target, row["pid"]),
                                           sent, check_mode, detail))
    backends = [postgres.jsonable(r) for r in rows]
    hit = [a for a in actions if a["changed"]]
    return {
        "changed": bool(hit) or (check_mode and bool(actions)),
        "action": action,
        "backends": backends,
        "pids": [r["pid"] for r in rows],
        "affected_pids": [int(a["target"].rsplit(" ", 1)[1]) for a in hit],
        "actions": actions,
    }
