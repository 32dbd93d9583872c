# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PromQL the scenarios ask Prometheus, built from their settings (never assembled in Jinja).

:func:`latency_queries` gives the api-latency checks of the seeds (ConectCRM HighLatencyP95/P99 and
HighHTTPErrorRate, Techbra §2) for M(opsbook.runbooks.prometheus_query): request rate, p95, p99 and
the 5xx share, each ``by`` the given labels, so every route is judged on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


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
