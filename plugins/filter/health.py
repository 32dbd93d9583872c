# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters exposing the findings vocabulary to playbooks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings as fv


def health_status(value, warn=None, crit=None, direction="above"):
    """``{{ lag | opsbook.runbooks.health_status(1000, 5000) }}`` -> ok/warning/critical/unknown."""
    try:
        return fv.evaluate(value, warn, crit, direction)
    except fv.FindingError as exc:
        raise AnsibleFilterError("health_status: %s" % exc)


def health_finding(value, check, warn=None, crit=None, direction="above", unit=None, target=None, label=None):
    """Build a full finding from a value: ``{{ lag | opsbook.runbooks.health_finding('lag', 1000) }}``."""
    try:
        return fv.threshold_finding(check, value, warn, crit, direction, unit=unit, target=target, label=label)
    except fv.FindingError as exc:
        raise AnsibleFilterError("health_finding: %s" % exc)


def worst_status(statuses):
    """The most severe of a list of statuses or findings."""
    try:
        return fv.worst(s["status"] if isinstance(s, dict) else s for s in statuses)
    except fv.FindingError as exc:
        raise AnsibleFilterError("worst_status: %s" % exc)


def not_configured(target, service, variable=None, check=None, scope=None):
    """The finding of a check that did not run because the host names no ``service`` connection.

    ``{{ inventory_hostname | opsbook.runbooks.not_configured('redis') }}`` -> check C(redis_reachable),
    ``unknown``, state C(not_configured), a message naming C(opsbook_redis) (or ``variable``).
    Reported, but no verdict: a run where every check is like this is C(not_checked).
    """
    if not service or not isinstance(service, str):
        raise AnsibleFilterError("not_configured: service must be a name such as 'redis', got %r" % (service,))
    return fv.not_configured_finding(check or "%s_reachable" % service, service, variable or "opsbook_%s" % service,
                                     target, scope=scope)


def findings_summary(findings):
    """``{status, counts, total}`` of a list of findings."""
    try:
        return fv.summarize([fv.validate_finding(f) for f in findings])
    except fv.FindingError as exc:
        raise AnsibleFilterError("findings_summary: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "health_status": health_status,
            "health_finding": health_finding,
            "worst_status": worst_status,
            "findings_summary": findings_summary,
            "not_configured": not_configured,
        }
