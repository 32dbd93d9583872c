# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outcome of a scenario run: what was wrong, what was done, whether it is fixed.

A run's findings are tagged with a ``phase`` per host, in the order Ansible reports them:

- ``diagnose``: every finding until something changed on that host;
- ``remediate``: the findings of a task that recorded actions (a restart, a purge, a scale-out);
- ``verify``: every finding after the first real change (changed, not a dry run) on that host.

A finding that names its ``phase`` keeps it.  Per host, then for the run:

- ``healthy`` (exit 0): nothing wrong at diagnosis (and, if something ran, after it);
- ``resolved`` (0): something was wrong, remediation ran, verification is ok;
- ``unresolved`` (2): remediation ran (or a step failed: ``state: failed``) and verification is not ok;
- ``action_needed`` (1 / 2): problems found and nothing ran (off, refused, not possible);
- ``not_checked`` (3): no check gave a verdict (none ran, or none was configured).

``action_needed`` exits 2 when the worst finding is critical, else 1.  A run that failed
exits 4 whatever its findings (the CLI decides that); a usage error exits 64.  A run stopped by
SIGINT or SIGTERM is ``interrupted`` whatever it found until then and exits 128 + the signal
(130, 143); a remediating run refused because another holds its scenario's lock exits 75.
Findings with ``state: not_configured`` (the inventory names no such service) or
``state: measured`` (a time to recovery) are reported but are no verdict.
A silence (actions ``silence``, ``expire_silence``) is bookkeeping of the alerting, not a change of the
system the run judges: its findings are in the remediate phase, but it neither starts the verify phase
nor makes a run ``resolved``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import (
    CRITICAL,
    NO_VERDICT_STATES,
    OK,
    UNKNOWN,
    worst,
)

FAILED = "failed"
DIAGNOSE = "diagnose"
REMEDIATE = "remediate"
VERIFY = "verify"

HEALTHY = "healthy"
RESOLVED = "resolved"
UNRESOLVED = "unresolved"
ACTION_NEEDED = "action_needed"
NOT_CHECKED = "not_checked"
OUTCOMES = (HEALTHY, RESOLVED, UNRESOLVED, ACTION_NEEDED, NOT_CHECKED)
# Not a verdict: the run was stopped by a signal before it could give one (its findings are partial).
INTERRUPTED = "interrupted"
# Which host's outcome speaks for the run: the most urgent one.
_PRECEDENCE = (UNRESOLVED, ACTION_NEEDED, RESOLVED, HEALTHY, NOT_CHECKED)

EXIT_OK = 0
EXIT_WARNING = 1
EXIT_CRITICAL = 2
EXIT_NOT_CHECKED = 3
EXIT_RUN_FAILED = 4
EXIT_USAGE = 64
EXIT_BUSY = 75  # sysexits' EX_TEMPFAIL: another remediating run holds the scenario's lock; try again later
EXIT_SIGNAL_BASE = 128  # an interrupted run exits 128 + the signal's number, as a shell reports it
# Actions that change Alertmanager, not the system: a run that only silenced its alerts remediated nothing.
BOOKKEEPING_ACTIONS = ("silence", "expire_silence")


class PhaseTracker(object):
    """Tags findings with their phase as task results arrive, host by host."""

    def __init__(self):
        self.changed_hosts = set()

    def phase(self, host, actions):
        """The phase of a task result on ``host`` with these action records (before :meth:`tag` saw it)."""
        return REMEDIATE if actions else (VERIFY if host in self.changed_hosts else DIAGNOSE)

    def tag(self, host, findings, actions):
        """``findings`` of one task result on ``host`` with ``phase`` set; ``actions`` its action records."""
        phase = self.phase(host, actions)
        tagged = [dict(f, phase=f.get("phase") or phase) for f in findings]
        if any(changed(a) for a in actions):
            self.changed_hosts.add(host)
        return tagged


def changed(action):
    """A real change: recorded as changed and not a dry run (``already at 3 replicas`` is no change), and not a
    silence (BOOKKEEPING_ACTIONS)."""
    return bool(action.get("changed")) and not action.get("dry_run") and action.get("action") not in BOOKKEEPING_ACTIONS


def is_verdict(finding):
    """Whether a finding judges the system (a not-configured check or a measure does not)."""
    return finding.get("state") not in NO_VERDICT_STATES


def host_outcome(findings, actions=()):
    """``{outcome, initial_status, status, remediated}`` of one host's tagged findings and actions."""
    verdicts = [f for f in findings if is_verdict(f)]
    by_phase = dict((p, [f["status"] for f in verdicts if f.get("phase", DIAGNOSE) == p]) for p in (DIAGNOSE, REMEDIATE, VERIFY))
    ran = any(changed(a) for a in actions)
    # a remediation step that was tried and failed (it may have changed nothing): state "failed"
    failed_step = any(f.get("phase") == REMEDIATE and f.get("state") == FAILED and f["status"] == CRITICAL for f in verdicts)
    if not verdicts:
        return {"outcome": NOT_CHECKED, "initial_status": UNKNOWN, "status": UNKNOWN, "remediated": ran}
    if not ran and not failed_step:
        # nothing changed: the diagnosis speaks, or a plan (check mode of an operation such as restart-all)
        initial = worst(by_phase[DIAGNOSE] or by_phase[REMEDIATE] + by_phase[VERIFY])
        # a step that was refused (a permission the principal lacks) leaves what it was for undone
        status = worst([initial] + by_phase[REMEDIATE]) if by_phase[DIAGNOSE] else initial
        outcome = HEALTHY if status == OK else ACTION_NEEDED
        return {"outcome": outcome, "initial_status": initial, "status": status, "remediated": False}
    initial = worst(by_phase[DIAGNOSE]) if by_phase[DIAGNOSE] else UNKNOWN
    after = by_phase[VERIFY] + by_phase[REMEDIATE]
    status = worst(after) if by_phase[VERIFY] else worst(after + [initial if initial != OK else UNKNOWN])
    if status != OK:
        outcome = UNRESOLVED
    else:  # something was wrong and is fixed, or an operation (a deploy, a restart) went through
        outcome = RESOLVED if by_phase[DIAGNOSE] and initial != OK else HEALTHY
    return {"outcome": outcome, "initial_status": initial, "status": status, "remediated": ran}


def run_outcome(findings, actions=(), hosts=()):
    """The run's ``{outcome, initial_status, status, exit_code, hosts: {host: host_outcome}}``.

    ``findings`` and ``actions`` carry ``host``; ``hosts`` adds hosts that reported nothing.
    """
    names = set(hosts) | set(f.get("host") for f in findings) | set(a.get("host") for a in actions)
    per_host = {}
    for name in sorted(names, key=lambda n: n or ""):
        per_host[name] = host_outcome([f for f in findings if f.get("host") == name],
                                      [a for a in actions if a.get("host") == name])
    chosen = list(per_host.values())
    outcome = next((c for c in _PRECEDENCE if any(h["outcome"] == c for h in chosen)), NOT_CHECKED)
    judged = [h for h in chosen if h["outcome"] != NOT_CHECKED]
    initial = worst(h["initial_status"] for h in judged) if judged else UNKNOWN
    status = worst(h["status"] for h in judged) if judged else UNKNOWN
    result = {"outcome": outcome, "initial_status": initial, "status": status, "hosts": per_host}
    result["exit_code"] = exit_code(outcome, [h["status"] for h in judged if h["outcome"] == outcome])
    return result


def interrupted_exit_code(signum):
    """The exit code of a run stopped by signal ``signum``: 130 for SIGINT (2), 143 for SIGTERM (15)."""
    return EXIT_SIGNAL_BASE + int(signum)


def exit_code(outcome, statuses=()):
    """The exit code automation reads for ``outcome`` (``statuses``: of the hosts with that outcome)."""
    if outcome in (HEALTHY, RESOLVED):
        return EXIT_OK
    if outcome == UNRESOLVED:
        return EXIT_CRITICAL
    if outcome == ACTION_NEEDED:
        return EXIT_CRITICAL if worst(statuses) == CRITICAL else EXIT_WARNING
    if outcome == NOT_CHECKED:
        return EXIT_NOT_CHECKED
    raise ValueError("unknown outcome %r: expected one of %s" % (outcome, ", ".join(OUTCOMES)))
