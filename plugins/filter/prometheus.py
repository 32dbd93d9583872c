# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that build the PromQL checks scenarios give M(opsbook.runbooks.prometheus_query)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput


def api_latency_queries(histogram, window="5m", group_by=None, selector="", status_label="status",
                        p95=None, p99=None, error_rate_pct=None):
    """``{{ 'http_request_duration_seconds' | opsbook.runbooks.api_latency_queries('5m', ['route']) }}``."""
    try:
        return promql.latency_queries(histogram, window, list(group_by or ["route"]), selector or "", status_label,
                                      tuple(p95 or (0.5, 2)), tuple(p99 or (2, 5)), tuple(error_rate_pct or (5, 10)))
    except (InvalidInput, TypeError, IndexError) as exc:
        raise AnsibleFilterError("api_latency_queries: %s" % exc)


def saturation_queries(settings):
    """``{{ {'window': '5m', 'cpu_pct': [70, 90], ...} | opsbook.runbooks.saturation_queries }}``: the keyword
    arguments of ``promql.saturation_queries`` as one dictionary (the role's variables)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("saturation_queries: expected a dictionary of settings, got %r" % (settings,))
    settings = dict((k, v) for k, v in settings.items() if v is not None)
    try:
        return promql.saturation_queries(**settings)
    except (InvalidInput, TypeError) as exc:
        raise AnsibleFilterError("saturation_queries: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"api_latency_queries": api_latency_queries, "saturation_queries": saturation_queries}
