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

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*\Z")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+\Z")


_LE = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\Z")
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


# node_exporter's filesystems that are no disks (the seeds' DiskSpaceRunningOut leaves them out too)
PSEUDO_FILESYSTEMS = "tmpfs|overlay|squashfs|devtmpfs|ramfs|nsfs|fuse.lxcfs"


def _by(labels, option):
    bad = [label for label in labels if not _LABEL.match(label or "")]
    if bad:
        raise InvalidInput("%s: %s is not a label name" % (option, ", ".join(repr(b) for b in bad)))
    return ", ".join(labels)


def _matchers(*parts):
    return _selector([p for p in parts if p])


_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string_literal(text):
    """``text`` as a PromQL double-quoted string, escaped per PromQL's (Go's) string rules: every
    character reaches Prometheus as it is, quotes, backslashes, newlines and non-ASCII letters included."""
    if not isinstance(text, str):
        raise InvalidInput("a PromQL string must be text, got %r" % (text,))
    return '"%s"' % "".join(_STRING_ESCAPES.get(c, c) if c in _STRING_ESCAPES or c >= " " else "\\x%02x" % ord(c)
                            for c in text)


def label_matcher(label, value, op="="):
    """``label="value"`` (``op`` ``=``/``!=``; ``=~``/``!~`` take ``value`` literally, as a regular expression
    matching exactly it), the value escaped; InvalidInput names a label that is no label name."""
    if not _LABEL.match(label or ""):
        raise InvalidInput("label: %r is not a label name" % (label,))
    if op not in ("=", "!=", "=~", "!~"):
        raise InvalidInput("op: expected =, !=, =~ or !~, got %r" % (op,))
    return "%s%s%s" % (label, op, string_literal(_regex_escape(value) if "~" in op else value))


def _regex_escape(text):
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def _regex_literal(text):
    """``text`` matched literally inside a PromQL ``=~"..."`` (RE2 escapes, then the string's own)."""
    return string_literal(_regex_escape(text))[1:-1]


def _pair(value, option):
    try:
        warn, crit = value
    except (TypeError, ValueError):
        raise InvalidInput("%s: expected [warn, crit], got %r" % (option, value))
    return warn, crit


def saturation_queries(window="5m", node_selector="", node_group_by=("instance",), cpu_pct=(70, 90),
                       memory_pct=(80, 90), disk_pct=(80, 90), jvm_selector="", jvm_group_by=("job", "instance"),
                       heap_pct=(75, 90), kafka_selector="", kafka_log_size_bytes=(None, None),
                       kafka_disk_mountpoints=(), kafka_disk_pct=(80, 90), container_selector="",
                       container_group_by=("namespace", "pod", "container"), container_cpu_pct=(70, 90),
                       container_memory_pct=(80, 90), checks=None):
    """The saturation checks (Techbra "Métricas Críticas", SparkOne, ML Bling, ConectCRM HighCPUUsage/HighMemoryUsage)
    as ``prometheus_query`` ``queries`` items; every ``*_pct``/``*_bytes`` is (warn, crit).

    ``cpu_usage``, ``memory_usage`` and ``disk_usage`` from node_exporter (per ``node_group_by``, disks also per
    mount point), ``jvm_heap_usage`` from the JVM's heap pools (Micrometer's ``jvm_memory_used_bytes`` or the
    JMX exporter's ``jvm_memory_bytes_used``, whichever the target exports), ``kafka_log_dir_size`` per broker
    from the JMX exporter's ``kafka_log_log_size`` and ``kafka_disk_usage`` for the file systems holding the log
    dirs (``kafka_disk_mountpoints``, none: no check); ``container_cpu_usage`` / ``container_memory_usage``
    against each container's limit (cAdvisor), only with a ``container_selector`` (the containers the inventory
    names). ``checks`` keeps only the named ones. A query without series is ``unknown``: nothing exports it.
    """
    if not _DURATION.match(window or ""):
        raise InvalidInput("window: %r is not a PromQL duration such as 5m" % (window,))
    node_by = _by(list(node_group_by), "node_group_by")
    jvm_by = _by(list(jvm_group_by), "jvm_group_by")
    container_by = _by(list(container_group_by), "container_group_by")
    fs = 'fstype!~"%s"' % PSEUDO_FILESYSTEMS

    def item(name, description, query, pair, option, unit="%", target_labels=None):
        warn, crit = _pair(pair, option)
        entry = {"name": name, "description": description, "query": query, "unit": unit, "empty": "unknown"}
        if target_labels:
            entry["target_labels"] = list(target_labels)
        entry.update((k, v) for k, v in (("warn", warn), ("crit", crit)) if v is not None)
        return entry

    def filesystem_pct(extra):
        avail = "node_filesystem_avail_bytes%s" % _matchers(fs, node_selector, extra)
        size = "node_filesystem_size_bytes%s" % _matchers(fs, node_selector, extra)
        return "100 * (1 - %s / %s)" % (avail, size)

    queries = [
        item("cpu_usage", "CPU usage", "100 * (1 - avg by (%s) (rate(node_cpu_seconds_total%s[%s])))"
             % (node_by, _matchers('mode="idle"', node_selector), window), cpu_pct, "cpu_pct"),
        item("memory_usage", "memory usage", "100 * (1 - sum by (%s) (node_memory_MemAvailable_bytes%s) / "
             "sum by (%s) (node_memory_MemTotal_bytes%s))"
             % (node_by, _matchers(node_selector), node_by, _matchers(node_selector)), memory_pct, "memory_pct"),
        item("disk_usage", "disk usage", filesystem_pct(""), disk_pct, "disk_pct",
             target_labels=list(node_group_by) + ["mountpoint"]),
        # heap pools whose max is undefined (-1) are left out; either exporter's metric names
        item("jvm_heap_usage", "JVM heap usage",
             "100 * (sum by ({by}) (jvm_memory_used_bytes{m}) / sum by ({by}) (jvm_memory_max_bytes{m} > 0) or "
             "sum by ({by}) (jvm_memory_bytes_used{m}) / sum by ({by}) (jvm_memory_bytes_max{m} > 0))".format(
                 by=jvm_by, m=_matchers('area="heap"', jvm_selector)), heap_pct, "heap_pct"),
        item("kafka_log_dir_size", "Kafka log-dir size", "sum by (%s) (kafka_log_log_size%s)"
             % (jvm_by, _matchers(kafka_selector)), kafka_log_size_bytes, "kafka_log_size_bytes", unit="B"),
    ]
    if kafka_disk_mountpoints:
        mounts = "|".join(_regex_literal(m) for m in kafka_disk_mountpoints)
        queries.append(item("kafka_disk_usage", "Kafka disk usage", filesystem_pct('mountpoint=~"%s"' % mounts),
                            kafka_disk_pct, "kafka_disk_pct", target_labels=list(node_group_by) + ["mountpoint"]))
    if container_selector:
        c = _matchers('container!=""', 'container!="POD"', container_selector)
        queries += [
            item("container_cpu_usage", "CPU usage of its limit",
                 "100 * sum by ({by}) (rate(container_cpu_usage_seconds_total{c}[{w}])) / sum by ({by}) "
                 "(container_spec_cpu_quota{c} / container_spec_cpu_period{c})".format(by=container_by, c=c, w=window),
                 container_cpu_pct, "container_cpu_pct"),
            item("container_memory_usage", "memory usage of its limit",
                 "100 * sum by ({by}) (container_memory_working_set_bytes{c}) / sum by ({by}) "
                 "(container_spec_memory_limit_bytes{c} > 0)".format(by=container_by, c=c),
                 container_memory_pct, "container_memory_pct"),
        ]
    if checks is not None:
        unknown = sorted(set(checks) - set(SATURATION_CHECKS))
        if unknown:
            raise InvalidInput("checks: %s unknown (known: %s)" % (", ".join(unknown), ", ".join(SATURATION_CHECKS)))
        queries = [q for q in queries if q["name"] in checks]
    return queries


SATURATION_CHECKS = ("cpu_usage", "memory_usage", "disk_usage", "jvm_heap_usage", "kafka_log_dir_size",
                     "kafka_disk_usage", "container_cpu_usage", "container_memory_usage")


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
