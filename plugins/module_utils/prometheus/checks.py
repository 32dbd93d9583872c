# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PromQL checks ``{name, query, warn, crit, direction, unit, ...}`` -> one finding per series.

A query such as ``histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m]))
by (le, route))`` returns one series per route: each series is judged on its own and named by
its labels (``route=/orders``), so the report says *which* route is slow. A query that returns
nothing (no traffic in the window, a wrong metric name) or NaN (0/0) is reported with the
check's ``empty`` status, saying so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import declarative_checks
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    ABOVE,
    CRITICAL,
    OK,
    STATUSES,
    UNKNOWN,
    make_finding,
    overall,
)
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus.common import Prometheus

EXTRA_KEYS = ("empty", "target_labels")
MAX_NAMED = 5  # series named in one "not measured" finding


def validate(queries):
    checks = declarative_checks.validate(queries, "query", EXTRA_KEYS, option="queries")
    for check in checks:
        empty = check.get("empty") or OK
        if empty not in STATUSES:
            raise InvalidInput("queries[%s].empty must be one of %s, got %r" % (check["name"], ", ".join(STATUSES), empty))
        labels = check.get("target_labels")
        if isinstance(labels, str):
            labels = [labels]
        if labels is not None and not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
            raise InvalidInput("queries[%s].target_labels must be a label name or a list of them" % check["name"])
        check.update(empty=empty, target_labels=labels)
    return checks


def series_name(labels, wanted=None):
    """``route=/orders, method=GET`` from a series' labels (``__name__`` left out)."""
    keys = wanted if wanted is not None else sorted(k for k in labels if k != "__name__")
    return ", ".join("%s=%s" % (k, labels[k]) for k in keys if k in labels)


def _label(check, name):
    label = check.get("description") or check["name"]
    return "%s for %s" % (label, name) if name else label


def series_finding(check, series, default_target):
    name = series_name(series["labels"], check["target_labels"])
    target = name or default_target
    value = series["value"]
    if math.isinf(value):
        worse = (value > 0) == (check["direction"] == ABOVE)
        beyond = " (beyond the highest finite histogram bucket)" if worse else ""
        return make_finding(check["name"], CRITICAL if worse else OK,
                            "%s is %s%s" % (_label(check, name), series["raw"], beyond),
                            value=None, unit=check.get("unit"), target=target,
                            threshold={"warn": check["warn"], "crit": check["crit"], "direction": check["direction"]})
    return declarative_checks.finding_for(check, value, target, label=_label(check, name))


def jsonable(series):
    value = series["value"]
    return {"labels": series["labels"], "value": None if value is not None and math.isinf(value) else value,
            "raw": series["raw"]}


def run_check(client, check, at, default_target):
    series = client.query(check["query"], at=at)
    label = check.get("description") or check["name"]
    numbers = [item for item in series if item["value"] is not None]
    nan = [series_name(item["labels"], check["target_labels"]) or default_target
           for item in series if item["value"] is None]
    findings = [series_finding(check, item, default_target) for item in numbers]
    if not series:
        findings.append(make_finding(check["name"], check["empty"],
                                     "%s: the query returned no series (no samples in the window, or no such "
                                     "metric/labels)" % label, target=default_target))
    elif nan:  # one finding for all of them: a quantile over a window without requests is 0/0
        shown = "; ".join(nan[:MAX_NAMED]) + ("; and %d more" % (len(nan) - MAX_NAMED) if len(nan) > MAX_NAMED else "")
        findings.append(make_finding(check["name"], check["empty"],
                                     "%s not measured for %d series (NaN: nothing in the window, such as no requests): %s"
                                     % (label, len(nan), shown), value=len(nan), unit="series",
                                     target=default_target))
    return findings, {"name": check["name"], "query": check["query"], "series": [jsonable(s) for s in series],
                      "status": overall(findings)}


def run(params):
    checks = validate(params.get("queries"))
    client = Prometheus(params)
    default_target = params.get("target") or client.target
    info = client.buildinfo() or {}  # first: an unreachable server is one finding, before any query
    findings = [make_finding("prometheus_reachable", OK, "Prometheus %sat %s answered"
                             % ("%s " % info["version"] if info.get("version") else "", client.target),
                             target=client.target)]
    results = []
    for check in checks:
        try:
            check_findings, result = run_check(client, check, params.get("time"), default_target)
        except (InvalidInput, ServiceError) as exc:
            check_findings = [make_finding(check["name"], UNKNOWN, "%s failed: %s" % (check["name"], exc),
                                           target=default_target)]
            result = {"name": check["name"], "query": check["query"], "series": [], "status": UNKNOWN,
                      "error": str(exc)}
        findings.extend(check_findings)
        results.append(result)
    return {"reachable": True, "prometheus": {"url": client.target, "version": info.get("version")},
            "results": results, "findings": findings}
