# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The findings vocabulary shared by modules, filters, roles and the CLI.

A finding is a plain dict::

    {check, status, value, state, threshold, unit, message, target}

``status`` is one of ``ok``, ``warning``, ``critical``, ``unknown``.  Severity
orders them ``ok < unknown < warning < critical``: an unknown result is worse
than a healthy one (we could not tell) but better than a confirmed problem.

``value`` is a number or null; a word (``recovered``, ``stall``, ``running``) goes to
``state`` in lower case.  ``threshold`` is null, ``{warn, crit, direction}`` or
``{expected}``.  A scenario run adds ``phase`` (``diagnose``, ``remediate``, ``verify``)
and ``host``; a finding may set ``phase`` itself.  ``state: not_configured`` marks a
check that did not run because the inventory names no such service, ``state: measured`` a
measure of the response (the time to recovery): both are reported, neither is a verdict on
the system (see ``outcome``).

A remediation action is recorded as ``{action, target, changed, dry_run, detail}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

OK = "ok"
WARNING = "warning"
CRITICAL = "critical"
UNKNOWN = "unknown"

STATUSES = (OK, UNKNOWN, WARNING, CRITICAL)
_SEVERITY = dict((name, rank) for rank, name in enumerate(STATUSES))
# A status as a number, the monitoring plugins' convention (0 ok, 1 warning, 2 critical, 3 unknown) that a
# run's exit codes follow (outcome.EXIT_*): the value of the opsbook_finding_status metric.
STATUS_CODES = {OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3}

ABOVE = "above"
BELOW = "below"
DIRECTIONS = (ABOVE, BELOW)

FINDING_KEYS = ("check", "status", "value", "state", "threshold", "unit", "message", "target")
PHASES = ("diagnose", "remediate", "verify")
NOT_CONFIGURED = "not_configured"
MEASURED = "measured"  # a measure for the report (an MTTR), not a verdict on the system
NO_VERDICT_STATES = (NOT_CONFIGURED, MEASURED)
ACTION_KEYS = ("action", "target", "changed", "dry_run", "detail")


class FindingError(ValueError):
    """Raised for malformed thresholds or statuses (bad input, not a bad service)."""


def severity(status):
    """Rank of a status: ok 0, unknown 1, warning 2, critical 3."""
    try:
        return _SEVERITY[status]
    except KeyError:
        raise FindingError("unknown status %r: expected one of %s" % (status, ", ".join(STATUSES)))


def status_code(status):
    """``status`` as a number: ok 0, warning 1, critical 2, unknown 3 (``STATUS_CODES``)."""
    severity(status)  # FindingError for a word outside the vocabulary
    return STATUS_CODES[status]


def worst(statuses, default=OK):
    """The most severe of an iterable of statuses (``default`` when empty)."""
    result = default
    for status in statuses:
        if severity(status) > severity(result):
            result = status
    return result


def overall(findings, default=OK):
    """The most severe status among findings."""
    return worst((f["status"] for f in findings), default=default)


def _threshold(threshold):
    """The one threshold shape: null, ``{warn, crit, direction}`` or ``{expected}``."""
    if threshold is None:
        return None
    if not isinstance(threshold, dict):
        raise FindingError("threshold must be a dict or null, got %r" % (threshold,))
    if set(threshold) <= {"warn", "crit", "direction", "strict"}:  # strict: > / < instead of >= / <=
        shaped = {"warn": threshold.get("warn"), "crit": threshold.get("crit"), "direction": threshold.get("direction") or ABOVE}
        if threshold.get("strict"):
            shaped["strict"] = True
        return shaped
    if set(threshold) == {"expected"}:
        return threshold
    raise FindingError("threshold must be {warn, crit, direction[, strict]} or {expected}, got keys %s" % ", ".join(sorted(threshold)))


def make_finding(check, status, message, value=None, threshold=None, unit=None, target=None, state=None, phase=None):
    """Build a finding dict with every key present.

    A word given as ``value`` becomes ``state`` (lower case) and ``value`` stays null;
    ``phase`` is added only when given (the scenario run tags the others).
    """
    severity(status)
    if isinstance(value, bool) or (value is not None and not isinstance(value, (int, float))):
        if state is None:
            state = str(value).lower()
        value = None
    if phase is not None and phase not in PHASES:
        raise FindingError("phase must be one of %s, got %r" % (", ".join(PHASES), phase))
    finding = {
        "check": check,
        "status": status,
        "value": value,
        "state": None if state is None else str(state).lower(),
        "threshold": _threshold(threshold),
        "unit": unit,
        "message": message,
        "target": target,
    }
    if phase is not None:
        finding["phase"] = phase
    return finding


def not_configured_finding(check, service, variable, target, scope=None):
    """The finding of a check that did not run because the inventory names no ``service``.

    ``unknown`` with ``state: not_configured``: reported, never counted as a verdict.
    """
    what = scope or service
    return make_finding(check, UNKNOWN, "%s not checked: no %s is defined for %s (set %s in the inventory)" % (
        what, variable, target, variable), target=target, state=NOT_CONFIGURED)


def make_action(action, target, changed, dry_run, detail=None):
    """Build a remediation action record."""
    return {
        "action": action,
        "target": target,
        "changed": bool(changed),
        "dry_run": bool(dry_run),
        "detail": detail,
    }


def _number(value, what):
    if isinstance(value, bool):
        raise FindingError("%s must be a number, got a boolean" % what)
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FindingError("%s must be a number, got %r" % (what, value))


def evaluate(value, warn=None, crit=None, direction=ABOVE):
    """Status of ``value`` against thresholds.

    ``direction='above'`` means a larger value is worse (lag, latency): the status
    is critical when ``value >= crit``, warning when ``value >= warn``.
    ``direction='below'`` means a smaller value is worse (hit rate, free space):
    critical when ``value <= crit``, warning when ``value <= warn``.
    A missing value (None) is ``unknown``.  Either threshold may be omitted.
    """
    if direction not in DIRECTIONS:
        raise FindingError("direction must be one of %s, got %r" % (", ".join(DIRECTIONS), direction))
    if value is None:
        return UNKNOWN
    value = _number(value, "value")
    warn = None if warn is None else _number(warn, "warn threshold")
    crit = None if crit is None else _number(crit, "crit threshold")
    if warn is not None and crit is not None:
        if direction == ABOVE and warn > crit:
            raise FindingError("warn threshold %s is above crit threshold %s for direction 'above'" % (warn, crit))
        if direction == BELOW and warn < crit:
            raise FindingError("warn threshold %s is below crit threshold %s for direction 'below'" % (warn, crit))
    if direction == ABOVE:
        if crit is not None and value >= crit:
            return CRITICAL
        if warn is not None and value >= warn:
            return WARNING
        return OK
    if crit is not None and value <= crit:
        return CRITICAL
    if warn is not None and value <= warn:
        return WARNING
    return OK


def _fmt(number):
    if isinstance(number, float):
        return ("%.2f" % number).rstrip("0").rstrip(".")
    return str(number)


def threshold_finding(check, value, warn=None, crit=None, direction=ABOVE, unit=None, target=None, label=None):
    """Evaluate ``value`` and build a finding whose message explains the verdict."""
    status = evaluate(value, warn, crit, direction)
    label = label or check
    unit_txt = (" %s" % unit) if unit and unit != "%" else (unit or "")
    if status == UNKNOWN:
        message = "%s could not be measured" % label
    else:
        shown = "%s%s" % (_fmt(value), unit_txt)
        limit = crit if status == CRITICAL else warn
        if status == OK:
            bound = warn if warn is not None else crit
            if bound is None:
                message = "%s is %s" % (label, shown)
            else:
                rel = "below" if direction == ABOVE else "above"
                message = "%s is %s (%s the %s%s limit)" % (label, shown, rel, _fmt(bound), unit_txt)
        else:
            rel = "at or above" if direction == ABOVE else "at or below"
            message = "%s is %s, %s the %s threshold of %s%s" % (label, shown, rel, status, _fmt(limit), unit_txt)
    threshold = {"warn": warn, "crit": crit, "direction": direction}
    return make_finding(check, status, message, value=value, threshold=threshold, unit=unit, target=target)


def unreachable_finding(check, target, error, status=CRITICAL):
    """A finding for a service that could not be reached (never a traceback)."""
    return make_finding(check, status, "%s is unreachable: %s" % (target, error), target=target)


PERMISSION_DENIED = "permission_denied"


def permission_finding(check, target, error, status=CRITICAL):
    """A finding for an operation the service refused to this principal (never a traceback).

    ``state: permission_denied``; the message says so and names the right that is missing when known.
    """
    return make_finding(check, status, "permission denied on %s: %s" % (target, error), target=target,
                        state=PERMISSION_DENIED)


def validate_finding(finding):
    """Raise FindingError unless ``finding`` has the vocabulary's shape."""
    if not isinstance(finding, dict):
        raise FindingError("a finding must be a dict, got %s" % type(finding).__name__)
    missing = [k for k in FINDING_KEYS if k not in finding]
    if missing:
        raise FindingError("finding is missing %s" % ", ".join(missing))
    severity(finding["status"])
    return finding


def summarize(findings):
    """Counts per status plus the overall status."""
    counts = dict((s, 0) for s in STATUSES)
    for finding in findings:
        counts[finding["status"]] += 1
    return {"status": overall(findings), "counts": counts, "total": len(findings)}
