# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the slo-error-budget scenario does with its SLO findings: which deploy freezes to put or lift.

An SLO whose ``slo_error_budget_left`` finding is critical (the budget is spent: at or under 0 %)
and that allows a freeze gets one, named ``<prefix><slo name>``; an SLO whose budget is measured
and left (over 0 %) gets its freeze lifted; an SLO that could not be measured changes nothing.
Freezes named in ``lift`` are lifted whatever the numbers (the explicit option).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import CRITICAL, OK, WARNING
from ansible_collections.opsbook.runbooks.plugins.module_utils.prometheus import promql


def _value(findings, check):
    found = [f for f in findings if f.get("check") == check and f.get("value") is not None]
    return found[0] if found else None


def _num(value):
    return "%.4g" % value


def freeze_plan(results, lift=(), prefix="slo-"):
    """``[{name, state: present|absent, reason, details}]`` from the registered ``prometheus_query`` loop over the SLOs."""
    if not isinstance(results, list):
        raise InvalidInput("expected the registered results of the prometheus_query loop, got %s" % type(results).__name__)
    plan = []
    for result in results:
        if not isinstance(result, dict) or "item" not in result:
            raise InvalidInput("expected loop results with their item (the SLO), got %r" % (result,))
        if result.get("skipped"):
            continue
        slo = promql.normalize_slo(result["item"])
        name = prefix + slo["name"]
        findings = result.get("findings") or []
        left, sli = _value(findings, "slo_error_budget_left"), _value(findings, "slo_sli")
        burn = dict((f["check"], f["value"]) for f in findings
                    if f.get("check", "").startswith("slo_burn_rate_") and f.get("value") is not None)
        details = {"slo": slo["name"], "kind": slo["kind"], "objective_pct": slo["objective"], "window": slo["window"],
                   "sli_pct": sli["value"] if sli else None, "budget_left_pct": left["value"] if left else None,
                   "burn_rates": burn}
        if name in lift:
            continue
        if left is None:
            continue
        if left["status"] == CRITICAL and slo["freeze"]:
            reason = "error budget of %s spent: %s %s %% over %s (SLO %s %%), %s %% of the budget left" % (
                slo["name"], "availability" if slo["kind"] == promql.AVAILABILITY else "latency SLI",
                _num(sli["value"]) if sli else "unknown", slo["window"], slo["objective"], _num(left["value"]))
            plan.append({"name": name, "state": "present", "reason": reason, "details": details})
        elif left["status"] in (OK, WARNING):
            plan.append({"name": name, "state": "absent", "details": details,
                         "reason": "error budget of %s recovered: %s %% left over %s" % (
                             slo["name"], _num(left["value"]), slo["window"])})
    for name in lift:
        plan.append({"name": name, "state": "absent", "details": {},
                     "reason": "lifted by the explicit option slo_error_budget_lift"})
    return plan
