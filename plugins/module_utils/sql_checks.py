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

from ansible_collections.opsbook.runbooks.plugins.module_utils import postgres
from ansible_collections.opsbook.runbooks.plugins.module_utils.errors import InvalidInput, ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
    ABOVE,
    CRITICAL,
    DIRECTIONS,
    OK,
    UNKNOWN,
    WARNING,
    FindingError,
    evaluate,
    make_finding,
    threshold_finding,
)

CHECK_KEYS = ("name", "sql", "warn", "crit", "direction", "unit", "column", "count_rows", "strict", "description")


def _number_or_none(check, key):
    value = check.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput("checks[%s].%s must be a number, got a boolean" % (check.get("name"), key))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput("checks[%s].%s must be a number, got %r" % (check.get("name"), key, value))


def validate(checks):
    """Normalise the ``checks`` option; raise InvalidInput naming the bad entry."""
    if not checks:
        raise InvalidInput("checks must list at least one check")
    seen = set()
    result = []
    for index, check in enumerate(checks):
        if not isinstance(check, dict):
            raise InvalidInput("checks[%d] must be a dict, got %s" % (index, type(check).__name__))
        unknown = sorted(set(check) - set(CHECK_KEYS))
        if unknown:
            raise InvalidInput("checks[%d] has unknown key(s) %s; expected %s"
                               % (index, ", ".join(unknown), ", ".join(CHECK_KEYS)))
        name = check.get("name")
        if not name or not check.get("sql"):
            raise InvalidInput("checks[%d] needs a name and an sql" % index)
        if name in seen:
            raise InvalidInput("checks: the name %r is used twice" % name)
        seen.add(name)
        direction = check.get("direction") or ABOVE
        if direction not in DIRECTIONS:
            raise InvalidInput("checks[%s].direction must be one of %s, got %r" % (name, ", ".join(DIRECTIONS), direction))
        norm = dict(check, direction=direction, warn=_number_or_none(check, "warn"), crit=_number_or_none(check, "crit"),
                    strict=bool(check.get("strict")))
        try:
            evaluate(0, norm["warn"], norm["crit"], direction)
        except FindingError as exc:
            raise InvalidInput("checks[%s]: %s" % (name, exc))
        result.append(norm)
    return result


def strict_status(value, warn, crit, direction):
    """Like findings.evaluate, but a value equal to a threshold is still fine (``> 100``, ``< 98``)."""
    if value is None:
        return UNKNOWN
    worse = (lambda v, t: v > t) if direction == ABOVE else (lambda v, t: v < t)
    if crit is not None and worse(value, crit):
        return CRITICAL
    if warn is not None and worse(value, warn):
        return WARNING
    return OK


def _strict_finding(check, value, target, label):
    status = strict_status(value, check["warn"], check["crit"], check["direction"])
    unit = check.get("unit")
    shown = "%s%s" % (value, (" " + unit) if unit and unit != "%" else (unit or ""))
    rel = "more than" if check["direction"] == ABOVE else "less than"
    if status == UNKNOWN:
        message = "%s could not be measured" % label
    elif status == OK:
        bound = check["warn"] if check["warn"] is not None else check["crit"]
        message = "%s is %s" % (label, shown) + ("" if bound is None else " (not %s %s)" % (rel, _plain(bound)))
    else:
        limit = check["crit"] if status == CRITICAL else check["warn"]
        message = "%s is %s, %s the %s threshold of %s" % (label, shown, rel, status, _plain(limit))
    threshold = {"warn": check["warn"], "crit": check["crit"], "direction": check["direction"], "strict": True}
    return make_finding(check["name"], status, message, value=value, threshold=threshold, unit=unit, target=target)


def _plain(number):
    return ("%.2f" % number).rstrip("0").rstrip(".") if isinstance(number, float) else str(number)


def finding_for(check, value, target):
    label = check.get("description") or check["name"]
    if check["strict"]:
        return _strict_finding(check, value, target, label)
    return threshold_finding(check["name"], value, warn=check["warn"], crit=check["crit"],
                             direction=check["direction"], unit=check.get("unit"), target=target, label=label)


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
