# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An incident's priority (P1-P4) from a run's findings and the alert, and its escalation level.

**Severity.** The matrix is a list of rules, the first that matches gives the priority.  A rule
``{priority, status, checks, scenarios}`` matches a finding whose ``status`` is in ``status`` and,
when given, whose ``check`` matches one of the ``checks`` (shell patterns) and whose run's scenario
matches one of ``scenarios``.  The default is Techbra's matrix ("Níveis de Severidade"):

- P1 (Crítico): the system unavailable, data loss, a security failure: a V(critical) finding of a
  customer-facing check (HTTP, API, application, SLO), of a backup/restore, or of a security check;
- P2 (Alto): a critical component failed, performance severely impacted: any other V(critical);
- P3 (Médio): warnings in components, performance slightly degraded: a V(warning);
- P4 (Baixo): nothing the run could confirm (an alert with no finding behind it).

Only verdicts count (not ``not_configured``/``measured``), and the diagnosis first: the priority is
what the incident was, not what is left after a fix.  The alert's own ``priority`` label (P1-P4)
wins; its ``severity`` label maps through ``alert_severity`` and the more urgent of the two speaks.

**Escalation.** ``[{level, after, contacts, priorities}]``: a level is reached once ``after``
(``0m``, ``30m``, ``2h``) has elapsed since the incident started, for the priorities it lists (all
when none).  The result is the highest level reached, every contact reached so far (in order,
without repeats) and the next level with the time it is due.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings as fv
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import times
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import DIAGNOSE, is_verdict

PRIORITIES = ("P1", "P2", "P3", "P4")
CUSTOMER_FACING = ["http_*", "api_*", "app_*", "slo_*", "*_availability", "*_health", "workload_*",
                   "backup_*", "restore_*", "dr_*", "security_*"]
DEFAULT_MATRIX = [
    {"priority": "P1", "status": [fv.CRITICAL], "checks": CUSTOMER_FACING},
    {"priority": "P2", "status": [fv.CRITICAL]},
    {"priority": "P3", "status": [fv.WARNING]},
]
DEFAULT_ALERT_SEVERITY = {"critical": "P2", "page": "P2", "high": "P2", "warning": "P3", "medium": "P3",
                          "info": "P4", "low": "P4", "none": "P4"}
LOWEST = "P4"


def _rank(priority):
    return PRIORITIES.index(priority)


def more_urgent(*priorities):
    """The most urgent of the given priorities (None ignored); P4 when none."""
    given = [p for p in priorities if p]
    return min(given, key=_rank) if given else LOWEST


def normalize_priority(value, what="priority"):
    """``p1``/``P1``/``1`` -> ``P1``; InvalidInput naming ``what`` otherwise."""
    text = str(value).strip().upper()
    if not text.startswith("P"):
        text = "P" + text
    if text not in PRIORITIES:
        raise InvalidInput("%s: %r is not one of %s" % (what, value, ", ".join(PRIORITIES)))
    return text


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_matrix(matrix):
    """The matrix with each rule's priority normalized; InvalidInput for a malformed rule."""
    checked = []
    for index, rule in enumerate(matrix or []):
        what = "severity_matrix[%d]" % index
        if not isinstance(rule, dict) or "priority" not in rule:
            raise InvalidInput("%s: expected {priority, status, checks, scenarios}, got %r" % (what, rule))
        unknown = sorted(set(rule) - {"priority", "status", "checks", "scenarios", "description"})
        if unknown:
            raise InvalidInput("%s: unknown key(s) %s (expected priority, status, checks, scenarios)" % (what, ", ".join(unknown)))
        statuses = _as_list(rule.get("status")) or [fv.CRITICAL, fv.WARNING]
        for status in statuses:
            if status not in fv.STATUSES:
                raise InvalidInput("%s.status: %r is not one of %s" % (what, status, ", ".join(fv.STATUSES)))
        checked.append({"priority": normalize_priority(rule["priority"], what + ".priority"), "status": statuses,
                        "checks": _as_list(rule.get("checks")), "scenarios": _as_list(rule.get("scenarios"))})
    return checked


def _matches(rule, finding, scenario):
    if finding.get("status") not in rule["status"]:
        return False
    if rule["checks"] and not any(fnmatch.fnmatchcase(finding.get("check") or "", p) for p in rule["checks"]):
        return False
    return not rule["scenarios"] or any(fnmatch.fnmatchcase(scenario or "", p) for p in rule["scenarios"])


def findings_priority(findings, scenario=None, matrix=None):
    """``(priority, finding)``: the most urgent priority the matrix gives any verdict of the diagnosis.

    Falls back to every verdict when the diagnosis has none; ``(P4, None)`` when nothing matches.
    """
    rules = check_matrix(DEFAULT_MATRIX if matrix is None else matrix)
    verdicts = [f for f in findings or [] if isinstance(f, dict) and is_verdict(f)]
    diagnosed = [f for f in verdicts if f.get("phase", DIAGNOSE) == DIAGNOSE] or verdicts
    best = (LOWEST, None)
    for finding in diagnosed:
        for rule in rules:
            if _matches(rule, finding, scenario):
                if _rank(rule["priority"]) < _rank(best[0]) or best[1] is None and rule["priority"] == best[0]:
                    best = (rule["priority"], finding)
                break
    return best


def alert_priority(alert, severity_map=None):
    """The priority the alert's labels give: ``priority`` (P1-P4) wins, else ``severity`` mapped; None without."""
    labels = (alert or {}).get("labels") or {}
    if labels.get("priority") not in (None, ""):
        return normalize_priority(labels["priority"], "alert label priority")
    severity = str(labels.get("severity") or "").strip().lower()
    if not severity:
        return None
    mapping = DEFAULT_ALERT_SEVERITY if severity_map is None else dict((str(k).lower(), v) for k, v in severity_map.items())
    if severity not in mapping:
        return None
    return normalize_priority(mapping[severity], "alert_severity.%s" % severity)


def classify(findings, alert=None, scenario=None, matrix=None, severity_map=None):
    """``{priority, source, reason}``: the priority of the incident and why."""
    labels = (alert or {}).get("labels") or {}
    if labels.get("priority") not in (None, ""):
        priority = alert_priority(alert, severity_map)
        return {"priority": priority, "source": "alert", "reason": "the alert's priority label is %s" % priority}
    by_findings, finding = findings_priority(findings, scenario, matrix)
    by_alert = alert_priority(alert, severity_map)
    if by_alert and _rank(by_alert) < _rank(by_findings):
        return {"priority": by_alert, "source": "alert",
                "reason": "the alert's severity %s maps to %s" % (labels.get("severity"), by_alert)}
    if finding is None:
        return {"priority": by_findings, "source": "default", "reason": "no finding of the run matches the severity matrix"}
    return {"priority": by_findings, "source": "findings",
            "reason": "%s %s: %s" % (finding["status"], finding.get("check"), finding.get("message") or "")}


def check_escalation(levels):
    """The escalation levels, each with ``after_seconds``, in order of ``after``; InvalidInput when malformed."""
    checked = []
    for index, level in enumerate(levels or []):
        what = "escalation[%d]" % index
        if not isinstance(level, dict) or not level.get("level"):
            raise InvalidInput("%s: expected {level, after, contacts[, priorities]}, got %r" % (what, level))
        priorities = [normalize_priority(p, what + ".priorities") for p in _as_list(level.get("priorities"))]
        checked.append({"level": str(level["level"]), "after": level.get("after", 0),
                        "after_seconds": times.duration_seconds(level.get("after", 0), what + ".after"),
                        "contacts": [str(c) for c in _as_list(level.get("contacts"))], "priorities": priorities,
                        "description": level.get("description")})
    return sorted(checked, key=lambda lv: lv["after_seconds"])  # stable: same "after" keeps the given order


def escalate(levels, priority, elapsed_seconds):
    """``{level, contacts, reached, next_level, next_in_minutes, elapsed_minutes}`` for ``priority`` after ``elapsed_seconds``."""
    applicable = [lv for lv in check_escalation(levels) if not lv["priorities"] or priority in lv["priorities"]]
    reached = [lv for lv in applicable if lv["after_seconds"] <= elapsed_seconds]
    pending = [lv for lv in applicable if lv["after_seconds"] > elapsed_seconds]
    contacts = []
    for lv in reached:
        contacts.extend(c for c in lv["contacts"] if c not in contacts)
    nxt = pending[0] if pending else None
    return {
        "level": reached[-1]["level"] if reached else None,
        "contacts": contacts,
        "reached": [lv["level"] for lv in reached],
        "next_level": nxt["level"] if nxt else None,
        "next_in_minutes": round((nxt["after_seconds"] - elapsed_seconds) / 60.0, 1) if nxt else None,
        "elapsed_minutes": round(max(0.0, elapsed_seconds) / 60.0, 1),
    }
