# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EXPLAIN (ANALYZE, BUFFERS) of a statement, with the plan's hot spots summarised.

ConectCRM SlowDatabaseQueries: ``EXPLAIN (ANALYZE, BUFFERS) SELECT ...``. ANALYZE executes the
statement, so it only runs for read-only statements, inside a READ ONLY transaction that is
rolled back; anything else gets a plain EXPLAIN unless ``force_analyze`` is set (then it still
runs inside a transaction that is rolled back, and never in check mode).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import OK, WARNING, make_finding, threshold_finding

READ_ONLY_KEYWORDS = ("select", "with", "values", "table")
_COMMENTS = re.compile(r"(--[^\n]*\n?|/\*.*?\*/)", re.S)


def first_keyword(statement):
    text = _COMMENTS.sub(" ", statement or "").strip().lstrip("(").strip()
    match = re.match(r"[A-Za-z]+", text)
    return match.group(0).lower() if match else ""


def captured_statement(conn, pid):
    """The query a backend is running (same database only)."""
    row = postgres.query_one(
        conn,
        "SELECT query, state, datname = current_database() AS same_db, datname FROM pg_stat_activity WHERE pid = %s",
        (pid,),
    )
    if row is None:
        raise InvalidInput("pid: no backend with pid %s" % pid)
    if not row["same_db"]:
        raise InvalidInput("pid: backend %s is connected to database %s; connect to it to explain its query"
                           % (pid, row["datname"]))
    if not row["query"] or re.search(r"\$\d+", row["query"]):
        raise InvalidInput("pid: backend %s has no explainable query (empty or with bind parameters)" % pid)
    return row["query"]


def _explain(conn, statement, analyze, buffers, read_only):
    opts = ["FORMAT JSON"] + (["ANALYZE", "BUFFERS"] if analyze and buffers else ["ANALYZE"] if analyze else [])
    conn.autocommit = False
    try:
        if read_only:
            postgres.query(conn, "SET TRANSACTION READ ONLY")
        row = postgres.query_one(conn, "EXPLAIN (%s) %s" % (", ".join(opts), statement.strip().rstrip(";")))
    finally:
        conn.rollback()
        conn.autocommit = True
    plan = list(row.values())[0]
    return plan[0] if isinstance(plan, list) else plan


def nodes(plan, depth=0):
    """Every plan node with its exclusive time (ms over all loops) and depth."""
    children = plan.get("Plans") or []
    total = (plan.get("Actual Total Time") or 0.0) * (plan.get("Actual Loops") or 1)
    child_total = sum((c.get("Actual Total Time") or 0.0) * (c.get("Actual Loops") or 1) for c in children)
    yield plan, max(total - child_total, 0.0), depth
    for child in children:
        yield from nodes(child, depth + 1)


def hot_spots(plan, limit):
    """The ``limit`` nodes with the most exclusive time (or cost without ANALYZE), with their issues."""
    root = plan["Plan"]
    analyzed = "Actual Total Time" in root
    total = (root.get("Actual Total Time") or 0.0) if analyzed else (root.get("Total Cost") or 0.0)
    spots = []
    for node, exclusive, depth in nodes(root):
        weight = exclusive if analyzed else node.get("Total Cost") or 0.0
        spot = {
            "node_type": node.get("Node Type"),
            "relation": node.get("Relation Name"),
            "index": node.get("Index Name"),
            "depth": depth,
            "exclusive_ms": round(exclusive, 3) if analyzed else None,
            "share_pct": round(100.0 * weight / total, 1) if total else None,
            "plan_rows": node.get("Plan Rows"),
            "actual_rows": node.get("Actual Rows"),
            "loops": node.get("Actual Loops"),
            "rows_removed_by_filter": node.get("Rows Removed by Filter"),
            "shared_hit_blocks": node.get("Shared Hit Blocks"),
            "shared_read_blocks": node.get("Shared Read Blocks"),
            "issues": node_issues(node),
        }
        spots.append((weight, spot))
    spots.sort(key=lambda pair: -pair[0])
    return [pair[1] for pair in spots[:limit]]


def node_issues(node):
    issues = []
    removed = node.get("Rows Removed by Filter") or 0
    actual = node.get("Actual Rows")
    if node.get("Node Type") == "Seq Scan" and removed and removed > (actual or 0) * 10:
        issues.append("sequential scan of %s discards %d rows by filter (%s): an index may help"
                      % (node.get("Relation Name"), removed, node.get("Filter")))
    plan_rows = node.get("Plan Rows") or 0
    if actual is not None and max(actual, plan_rows) >= 100 and min(actual, plan_rows) * 10 < max(actual, plan_rows):
        issues.append("row estimate %d vs actual %d: statistics may be stale (ANALYZE)" % (plan_rows, actual))
    if node.get("Sort Space Type") == "Disk":
        issues.append("sort spilled to disk (%s kB): work_mem too small" % node.get("Sort Space Used"))
    return issues


def run(params, check_mode):
    statement, pid = params.get("statement"), params.get("pid")
    if bool(statement) == bool(pid):
        raise InvalidInput("give exactly one of statement or pid")
    target = postgres.describe_target(params)
    with postgres.connection(params) as conn:
        if pid:
            statement = captured_statement(conn, pid)
        read_only = first_keyword(statement) in READ_ONLY_KEYWORDS
        analyze = bool(params.get("analyze"))
        notes = []
        if analyze and not read_only and not params.get("force_analyze"):
            analyze = False
            notes.append("not ANALYZEd: the statement is not read-only (set force_analyze to execute it, rolled back)")
        if analyze and not read_only and check_mode:
            analyze = False
            notes.append("not ANALYZEd in check mode: the statement is not read-only")
        try:
            plan = _explain(conn, statement, analyze, params.get("buffers", True), read_only and analyze)
        except ServiceError as exc:
            if not (analyze and "read-only transaction" in str(exc)):
                raise
            notes.append("not ANALYZEd: the statement writes (%s)" % str(exc).split(": ", 1)[-1])
            analyze = False
            plan = _explain(conn, statement, False, False, False)
    spots = hot_spots(plan, params.get("hot_spots") or 5)
    result = {
        "statement": statement,
        "analyzed": analyze,
        "plan": plan,
        "planning_ms": plan.get("Planning Time"),
        "execution_ms": plan.get("Execution Time"),
        "total_cost": plan["Plan"].get("Total Cost"),
        "hot_spots": spots,
        "notes": notes,
    }
    findings = []
    if analyze:
        findings.append(threshold_finding("postgres_explain_execution_time", round(plan.get("Execution Time"), 3),
                                          warn=params.get("warn_ms"), crit=params.get("crit_ms"), unit="ms",
                                          target=target, label="execution time"))
    issues = [issue for spot in spots for issue in spot["issues"]]
    findings.append(make_finding("postgres_explain_plan_issues", WARNING if issues else OK,
                                 "; ".join(issues) if issues else "no plan issue among the hot spots",
                                 value=len(issues), target=target))
    result["findings"] = findings
    return result
