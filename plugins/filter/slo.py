# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the slo-error-budget scenario: its PromQL checks and what to do about deploy freezes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql
from ansible_collections.opsbook.runbooks.plugins.module_utils.slo import budget, etl_sla


def slo_queries(slo, burn_pairs=None):
    """``{{ slo | opsbook.runbooks.slo_queries(burn_pairs) }}``: the ``prometheus_query`` checks of one SLO."""
    try:
        return promql.slo_queries(slo, burn_pairs)
    except InvalidInput as exc:
        raise AnsibleFilterError("slo_error_budget_slos: %s" % exc)


def slo_freeze_plan(results, lift=None, prefix="slo-"):
    """``{{ prometheus_loop.results | opsbook.runbooks.slo_freeze_plan(lift_names) }}``: freezes to put and lift."""
    try:
        return budget.freeze_plan(results, lift or [], prefix)
    except InvalidInput as exc:
        raise AnsibleFilterError("slo_freeze_plan: %s" % exc)


def etl_sla_checks(window_hours=24, success_ok_pct=98, success_warning_pct=95, max_minutes=120, within_pct=95):
    """``{{ 24 | opsbook.runbooks.etl_sla_checks(98, 95, 120, 95) }}``: the ETL SLA checks for ``sql_checks``."""
    try:
        return etl_sla.etl_sla_checks(window_hours, success_ok_pct, success_warning_pct, max_minutes, within_pct)
    except InvalidInput as exc:
        raise AnsibleFilterError("etl_sla_checks: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"slo_queries": slo_queries, "slo_freeze_plan": slo_freeze_plan,
                "etl_sla_checks": etl_sla_checks}
