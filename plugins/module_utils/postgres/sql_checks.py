# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative SQL checks: ``{name, sql, warn, crit, direction, unit, column, strict}`` -> findings.

Each check's SQL runs in its own READ ONLY transaction (rolled back), so a check can
never change data. The value is ``column`` (default: the first column) of the first
row, or with ``count_rows`` the number of rows; the first ``max_rows`` rows are
returned too. A failing query is an ``unknown`` finding for that check only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import declarative_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import UNKNOWN, make_finding

EXTRA_KEYS = ("column", "count_rows")
CHECK_KEYS = declarative_checks.COMMON_KEYS + ("sql",) + EXTRA_KEYS
strict_status = declarative_checks.strict_status
finding_for = declarative_checks.finding_for


def validate(checks):
    """Normalise the ``checks`` option; raise InvalidInput naming the bad entry."""
    return declarative_checks.validate(checks, "sql", EXTRA_KEYS)


def _value(rows, column):
    if not rows:
        return None
    row = rows[0]
    if column:
        if column not in row:
            raise ServiceError("the query returned no column %r (columns: %s)" % (column, ", ".join(row)))
        value = row[column]
    else:
        value = list(row.values())[0] if row else None
    if isinstance(value, bool):
        raise ServiceError("the value %r is a boolean, not a number" % (value,))
    if value is None or isinstance(value, int):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ServiceError("the value %r is not a number" % (value,))


def run_one(conn, check, max_rows):
    """Rows and value of one check, in a read-only transaction that is always rolled back."""
    conn.autocommit = False
    try:
        postgres.query(conn, "SET TRANSACTION READ ONLY")
        rows = postgres.query(conn, check["sql"])
    finally:
        conn.rollback()
        conn.autocommit = True
    rows = [postgres.jsonable(r) for r in rows]
    value = len(rows) if check.get("count_rows") else _value(rows, check.get("column"))
    return rows[:max_rows], value, len(rows)


def run(params):
    checks = validate(params.get("checks"))
    max_rows = params.get("max_rows") or 20
    target = postgres.describe_target(params)
    results, findings = [], []
    with postgres.connection(params) as conn:
        for check in checks:
            try:
                rows, value, count = run_one(conn, check, max_rows)
            except ServiceError as exc:
                results.append({"name": check["name"], "value": None, "rows": [], "row_count": 0,
                                "status": UNKNOWN, "error": str(exc)})
                findings.append(make_finding(check["name"], UNKNOWN, "%s failed: %s" % (check["name"], exc), target=target))
                continue
            finding = finding_for(check, value, target)
            findings.append(finding)
            results.append({"name": check["name"], "value": value, "rows": rows, "row_count": count,
                            "status": finding["status"]})
    return {"reachable": True, "results": results, "findings": findings}
