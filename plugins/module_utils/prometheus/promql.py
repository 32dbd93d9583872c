# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PromQL the scenarios ask Prometheus, built from their settings (never assembled in Jinja).

:func:`latency_queries` gives the api-latency checks of the seeds (ConectCRM HighLatencyP95/P99 and
HighHTTPErrorRate, Techbra §2) for M(opsbook.runbooks.prometheus_query): request rate, p95, p99 and
the 5xx share, each ``by`` the given labels, so every route is judged on its own.

:func:`slo_queries` gives the error-budget checks of one SLO (ConectCRM SLOAvailabilityViolation,
99.9 % over 30 days; a latency SLO such as "95 % of requests under 2 s"): the SLI and the error
budget left over the SLO's window, and the multi-window burn rates of the Google SRE workbook
(1 h/5 m at 14.4, 6 h/30 m at 6). The error ratio of a window is ``bad / total`` from counters
(``rate()`` of the same target's series, so its extrapolation cancels out in the ratio); the burn
rate is that ratio over the budget ``1 - objective``; a pair burns when both of its windows do,
so its value is the lower of the two.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


_LE = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
AVAILABILITY = "availability"
LATENCY = "latency"
SLO_KINDS = (AVAILABILITY, LATENCY)
# The Google SRE workbook's page-worthy pairs ("Alerting on SLOs", table 5-8): 2 % of a 30-day budget in an hour,
# 5 % in six hours.
BURN_PAIRS = ({"long": "1h", "short": "5m", "factor": 14.4}, {"long": "6h", "short": "30m", "factor": 6})


def _selector(matchers):
    return "{%s}" % ",".join(m for m in matchers if m)


def latency_queries(histogram, window="5m", group_by=("route",), selector="", status_label="status",
                    p95=(0.5, 2), p99=(2, 5), error_rate_pct=(5, 10)):
    """The four checks, as ``prometheus_query`` ``queries`` items; ``p95``/``p99``/``error_rate_pct`` are (warn, crit)."""
    if not _METRIC.match(histogram or ""):
        raise InvalidInput("histogram: %r is not a Prometheus metric name" % (histogram,))
    if not _DURATION.match(window or ""):
        raise InvalidInput("window: %r is not a PromQL duration such as 5m" % (window,))
    bad = [label for label in list(group_by) + [status_label] if not _LABEL.match(label or "")]
    if bad:
        raise InvalidInput("group_by/status_label: %s is not a label name" % ", ".join(repr(b) for b in bad))
    by = ", ".join(group_by)
    matchers = [selector] if selector else []
    rate_sum = "sum by (%s) (rate(%s_count%s[%s]))" % (by, histogram, _selector(matchers), window)
    buckets = "sum by (%s) (rate(%s_bucket%s[%s]))" % (", ".join(["le"] + list(group_by)), histogram, _selector(matchers), window)
    errors = "sum by (%s) (rate(%s_count%s[%s]))" % (by, histogram, _selector(['%s=~"5.."' % status_label] + matchers), window)
    return [
        {"name": "api_request_rate", "description": "request rate", "query": rate_sum, "unit": "req/s"},
        {"name": "api_latency_p95", "description": "p95 latency", "query": "histogram_quantile(0.95, %s)" % buckets,
         "warn": p95[0], "crit": p95[1], "unit": "s"},
        {"name": "api_latency_p99", "description": "p99 latency", "query": "histogram_quantile(0.99, %s)" % buckets,
         "warn": p99[0], "crit": p99[1], "unit": "s"},
        # `or 0 * ...`: a route without any 5xx is 0 %, not missing
        {"name": "api_error_rate", "description": "5xx share of requests",
         "query": "100 * (%s or 0 * %s) / %s" % (errors, rate_sum, rate_sum),
         "warn": error_rate_pct[0], "crit": error_rate_pct[1], "strict": True, "unit": "%"},
    ]


def _duration(value, what):
    if not isinstance(value, str) or not _DURATION.match(value):
        raise InvalidInput("%s: %r is not a PromQL duration such as 30d or 5m" % (what, value))
    return value


def _number(slo, key, low=None, high=None):
    value = slo.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput("slo %s: %s must be a number, got %r" % (slo.get("name"), key, value))
    if (low is not None and value <= low) or (high is not None and value >= high):
        raise InvalidInput("slo %s: %s must be between %s and %s (exclusive), got %r" % (slo.get("name"), key, low, high, value))
    return value


def error_ratio(slo, window):
    """PromQL of the share of bad events of ``slo`` over ``window`` (0..1; no bad series is 0, no traffic NaN/empty)."""
    matchers = [slo["selector"]] if slo.get("selector") else []
    if slo["kind"] == AVAILABILITY:
        total = "sum(rate(%s%s[%s]))" % (slo["metric"], _selector(matchers), window)
        bad_matcher = '%s=~"%s"' % (slo["status_label"], slo["error_status"])
        bad = "sum(rate(%s%s[%s]))" % (slo["metric"], _selector([bad_matcher] + matchers), window)
        return "((%s or vector(0)) / %s)" % (bad, total)
    total = "sum(rate(%s_count%s[%s]))" % (slo["histogram"], _selector(matchers), window)
    good = "sum(rate(%s_bucket%s[%s]))" % (slo["histogram"], _selector(['le="%s"' % slo["latency_le"]] + matchers), window)
    return "(1 - (%s or vector(0)) / %s)" % (good, total)


def normalize_slo(slo):
    """Check one SLO ``{name, kind, objective, window, ...}`` and fill its defaults; InvalidInput names what is wrong."""
    if not isinstance(slo, dict) or not slo.get("name"):
        raise InvalidInput("each SLO needs a name, got %r" % (slo,))
    slo = dict({"kind": AVAILABILITY, "window": "30d", "metric": "http_requests_total", "selector": "",
                "status_label": "status", "error_status": "5..", "histogram": "http_request_duration_seconds",
                "latency_le": None, "budget_warn_pct": None, "freeze": True},
               **dict((k, v) for k, v in slo.items() if v is not None))
    name = slo["name"]
    if slo["kind"] not in SLO_KINDS:
        raise InvalidInput("slo %s: kind must be one of %s, got %r" % (name, ", ".join(SLO_KINDS), slo["kind"]))
    _number(slo, "objective", 0, 100)
    _duration(slo["window"], "slo %s: window" % name)
    metric = slo["metric"] if slo["kind"] == AVAILABILITY else slo["histogram"]
    if not _METRIC.match(metric or ""):
        raise InvalidInput("slo %s: %r is not a Prometheus metric name" % (name, metric))
    if not _LABEL.match(slo["status_label"] or ""):
        raise InvalidInput("slo %s: status_label %r is not a label name" % (name, slo["status_label"]))
    if '"' in slo["error_status"] or "\\" in slo["error_status"]:
        raise InvalidInput("slo %s: error_status must be a regular expression without quotes or backslashes" % name)
    if slo["kind"] == LATENCY and not _LE.match(str(slo["latency_le"] or "")):
        raise InvalidInput("slo %s: a latency SLO needs latency_le, the bucket bound as the histogram writes it "
                           "(for example \"2\" or \"2.5\"), got %r" % (name, slo["latency_le"]))
    if slo["budget_warn_pct"] is not None:
        _number(slo, "budget_warn_pct", 0, 100)
    return slo


def normalize_pairs(pairs):
    result = []
    for index, pair in enumerate(pairs if pairs is not None else BURN_PAIRS):
        if not isinstance(pair, dict) or set(pair) - {"long", "short", "factor"}:
            raise InvalidInput("burn_pairs[%d]: expected {long, short, factor}, got %r" % (index, pair))
        factor = pair.get("factor")
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
            raise InvalidInput("burn_pairs[%d].factor must be a positive number, got %r" % (index, factor))
        result.append({"long": _duration(pair.get("long"), "burn_pairs[%d].long" % index),
                       "short": _duration(pair.get("short"), "burn_pairs[%d].short" % index), "factor": factor})
    return result


def burn_check_name(pair):
    return "slo_burn_rate_%s_%s" % (pair["long"], pair["short"])


def slo_queries(slo, burn_pairs=None):
    """The ``prometheus_query`` checks of one SLO: SLI and budget left over its window, one burn rate per pair."""
    slo = normalize_slo(slo)
    budget = "(1 - %r / 100)" % (slo["objective"],)  # PromQL does the same float64 arithmetic as Python
    ratio = error_ratio(slo, slo["window"])
    what = "availability" if slo["kind"] == AVAILABILITY else "share of requests within %s s" % slo["latency_le"]
    queries = [
        {"name": "slo_sli", "description": "%s over %s (SLO %s %%)" % (what, slo["window"], slo["objective"]),
         "query": "100 * (1 - %s)" % ratio, "crit": slo["objective"], "direction": "below", "strict": True,
         "unit": "%", "empty": "unknown"},
        # spent (at or under 0) is critical: the seed's "error budget esgotado"
        {"name": "slo_error_budget_left", "description": "error budget left over %s" % slo["window"],
         "query": "100 * (1 - %s / %s)" % (ratio, budget), "warn": slo["budget_warn_pct"], "crit": 0,
         "direction": "below", "unit": "%", "empty": "unknown"},
    ]
    for pair in normalize_pairs(burn_pairs):
        long_rate = "(%s / %s)" % (error_ratio(slo, pair["long"]), budget)
        short_rate = "(%s / %s)" % (error_ratio(slo, pair["short"]), budget)
        queries.append({
            "name": burn_check_name(pair),
            "description": "burn rate over both %s and %s (the lower of the two)" % (pair["long"], pair["short"]),
            # the lower of two one-series vectors without labels: the long one where it is not above, else the short one
            "query": "(%s <= %s) or %s" % (long_rate, short_rate, short_rate),
            "crit": pair["factor"], "strict": True, "unit": "x", "empty": "ok"})
    return queries
