# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the availability scenarios use to turn step results into findings.

``workload_step_row`` condenses one registered M(opsbook.runbooks.workload) result of a changing
operation (restart, scale, update, rollback) into a row; ``workload_step_findings`` turns the
rows of a sequence (restart-all, deploy) into one finding per workload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings as fv
from ansible_collections.opsbook.runbooks.plugins.module_utils.common import times
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

DONE = "done"
DRY_RUN = "dry_run"
FAILED = "failed"
SKIPPED = "skipped"


def workload_step_row(result, workload, step="restart"):
    """``{workload, step, outcome, revision, previous_revision, message}`` of one registered result.

    A skipped task (the sequence stopped earlier) is V(skipped); a result with C(failed) or a
    C(msg) and no C(actions) is V(failed); check mode is V(dry_run).
    """
    if not isinstance(result, dict):
        raise AnsibleFilterError("workload_step_row: expected a registered result, got %s" % type(result).__name__)
    row = {"workload": workload, "step": step, "revision": result.get("revision"),
           "previous_revision": result.get("previous_revision"), "message": None}
    actions = result.get("actions") or []
    if result.get("skipped"):
        row.update(outcome=SKIPPED, message="not run: the sequence stopped after an earlier failure")
    elif result.get("failed") or (result.get("msg") and not actions):
        row.update(outcome=FAILED, message=result.get("msg") or "failed")
    elif actions and all(a.get("dry_run") for a in actions):
        row.update(outcome=DRY_RUN, message="; ".join(a.get("detail") or "" for a in actions))
    else:
        row.update(outcome=DONE, message="; ".join(a.get("detail") or "" for a in actions) or "done")
    return row


def _finding(row, check):
    """A row's finding: done rows verify, the others say what happened to the step (remediate)."""
    target, step = row["workload"], row["step"]
    if row["outcome"] == DONE:
        detail = ""
        if row.get("revision") is not None and row.get("previous_revision") is not None:
            detail = ", revision %s -> %s" % (row["previous_revision"], row["revision"])
        return fv.make_finding(check, fv.OK, "%s: %s done and ready%s" % (target, step, detail),
                               state=row["outcome"], target=target, phase="verify")
    if row["outcome"] == DRY_RUN:
        return fv.make_finding(check, fv.OK, "%s: check mode, %s" % (target, row["message"]), state=row["outcome"], target=target,
                               phase="remediate")
    if row["outcome"] == SKIPPED:
        return fv.make_finding(check, fv.WARNING, "%s: %s %s" % (target, step, row["message"]), state=row["outcome"], target=target,
                               phase="remediate")
    return fv.make_finding(check, fv.CRITICAL, "%s: %s failed: %s" % (target, step, row["message"]), state=row["outcome"],
                           target=target, phase="remediate")


def workload_step_findings(rows, check="workload_restart"):
    """One finding per row (``ok`` done or dry run, ``warning`` skipped, ``critical`` failed)."""
    try:
        return [_finding(row, check) for row in rows or []]
    except (KeyError, TypeError, fv.FindingError) as exc:
        raise AnsibleFilterError("workload_step_findings: bad row: %s" % exc)


def remediation_verdict(healthy_before, target, action_result=None, status_after=None, action="restart",
                        check="remediation", not_run_reason=None):
    """One finding saying what the scenario decided and how it ended.

    ``healthy_before``: the diagnosis found nothing to fix; ``action_result``: the registered
    result of the remediation task (skipped or absent when remediation was off); ``status_after``:
    the status of the verification (None when there was nothing to verify); ``not_run_reason``:
    why nothing ran, when not because remediation is off.
    """
    if isinstance(action_result, list):  # a sequence of steps: the first that failed, else the last that ran
        ran = [r for r in action_result if isinstance(r, dict) and r and not r.get("skipped")]
        failed = [r for r in ran if workload_step_row(r, target)["outcome"] == FAILED]
        if failed or not ran:
            action_result = (failed or [None])[0]
        else:  # every step's actions, the revisions of the first and the last step
            action_result = {"actions": [a for r in ran for a in r.get("actions") or []],
                             "previous_revision": ran[0].get("previous_revision"), "revision": ran[-1].get("revision")}
    result = action_result if isinstance(action_result, dict) else {}
    if healthy_before:
        return fv.make_finding(check, fv.OK, "%s is healthy: nothing to do" % target, state="healthy", target=target,
                               phase="diagnose")
    if not result or result.get("skipped"):
        reason = not_run_reason or "remediation is off; --remediate would %s it" % action
        return fv.make_finding(check, fv.WARNING, "%s is unhealthy and was not remediated (%s)" % (target, reason),
                               state="not_remediated", target=target, phase="diagnose")
    row = workload_step_row(result, target, action)
    if row["outcome"] == FAILED:
        return fv.make_finding(check, fv.CRITICAL, "%s: %s failed: %s" % (target, action, row["message"]),
                               state="failed", target=target, phase="remediate")
    if row["outcome"] == DRY_RUN:
        return fv.make_finding(check, fv.WARNING, "%s is unhealthy; check mode, %s" % (target, row["message"]),
                               state="dry_run", target=target, phase="remediate")
    if status_after is None or status_after == fv.OK:
        verified = "healthy again" if status_after == fv.OK else "ready again (no health endpoint to verify)"
        return fv.make_finding(check, fv.OK, "%s: %s done, %s" % (target, action, verified), state="recovered", target=target,
                               phase="verify")
    return fv.make_finding(check, fv.CRITICAL, "%s: %s done, but the health check is still %s" % (target, action, status_after),
                           state="still_unhealthy", target=target, phase="verify")


def _ready(result):
    """True/False for a registered workload status, None when it was not checked."""
    if not isinstance(result, dict) or result.get("skipped") or not result:
        return None
    if result.get("desired") == 0:  # stopped (scaled to zero): not serving, whatever its own status says
        return False
    return bool(result.get("ready")) and result.get("status") == fv.OK


def _running(result):
    """Whether any container or pod of a registered workload status runs."""
    containers = result.get("containers")
    if containers is not None:
        return any(c.get("running") for c in containers)
    pods = result.get("pods")
    if pods is not None:
        return any(p.get("phase") == "Running" for p in pods)
    return bool(result.get("ready_replicas"))


def api_down_branch(app_status, db_status=None, db_port=None, health=None):
    """The ConectCRM APIDown decision tree: ``none``, ``start_database``, ``start``, ``restart`` or ``stop_start``.

    Database workload not ready or its port unreachable -> start the database, then the application
    (Ação 3); application scaled to zero -> start it; application not running -> restart it (Ação 1);
    running but not ready or its health
    endpoint failing -> stop and start it (Ação 2); everything healthy -> none.
    """
    health_ok = not isinstance(health, dict) or health.get("skipped") or health.get("status") == fv.OK
    port_ok = not isinstance(db_port, dict) or db_port.get("skipped") or db_port.get("status") in (fv.OK, fv.WARNING)
    if _ready(db_status) is False or not port_ok:
        return "start_database"
    app = app_status if isinstance(app_status, dict) else {}
    if _ready(app) and health_ok:
        return "none"
    if app.get("desired") == 0:  # stopped on purpose (scaled to zero): a restart would not bring it up
        return "start"
    if not app.get("reachable", True) or not _running(app):
        return "restart"
    return "stop_start"


def log_collection_finding(log_result, target, check="api_down_logs", max_lines=10):
    """A finding that carries the collected log evidence into the report: counts and the last matching lines."""
    if not isinstance(log_result, dict) or log_result.get("skipped"):
        return fv.make_finding(check, fv.UNKNOWN, "%s: no logs collected" % target, target=target, phase="diagnose")
    scanned = sum(row.get("lines_scanned") or 0 for row in log_result.get("sources") or [])
    counts = dict((k, v) for k, v in sorted((log_result.get("counts") or {}).items()) if v)
    last = []
    for name in counts:
        last.extend((log_result.get("last_matches") or {}).get(name) or [])
    last = sorted(set(last))[-max_lines:]
    message = "%s: %d log lines collected before any change from %s; matches %s" % (
        target, scanned, ", ".join(r["source"] for r in log_result.get("sources") or []) or "no source",
        ", ".join("%s=%d" % item for item in counts.items()) or "none")
    if last:
        message += "; last: " + " | ".join(line[:300] for line in last)
    return fv.make_finding(check, fv.OK, message, value=scanned, unit="lines", target=target, phase="diagnose")


def mttr_finding(run_started, incident_started, target_minutes, target, check="mttr", recovered=None):
    """Minutes from the incident start (else the run start) to ``recovered`` (default now) against the target.

    Critical at or above the target, as the seed's target is "< N minutes"; C(state: measured), so the
    run's outcome (resolved or not) does not depend on it.
    """
    start = incident_started if incident_started not in (None, "") else run_started
    end = recovered if recovered not in (None, "") else time.time()
    try:
        # a measure of the response for the report and the post-mortem: a late fix is still a fix
        return times.minutes_finding(check, start, end, target_minutes, target,
                                     "time to recovery (MTTR) of %s" % target)
    except InvalidInput as exc:
        raise AnsibleFilterError("mttr_finding: %s" % exc)


API_DOWN_STEPS = {"stop_start": "stop and start", "start": "start"}


def api_down_findings(branch, target, logs, steps, health_after=None, database=None, run_started=None,
                      incident_started=None, mttr_target_minutes=7, not_run_reason=None):
    """The api-down report: the logs collected first, the decision and how it ended, and the MTTR once recovered.

    ``branch`` is what M(api_down_branch) chose; ``steps`` the registered results of the database start, the
    application stop and the application fix; ``health_after`` the registered verification of the health endpoint.
    """
    if branch == "start_database":
        step = "start %s then restart" % (database or "the database")
    else:
        step = API_DOWN_STEPS.get(branch, "restart")
    after = health_after.get("status") if isinstance(health_after, dict) and not health_after.get("skipped") else None
    findings = [log_collection_finding(logs, target),
                remediation_verdict(branch == "none", target, list(steps or []), after, step, "api_down_remediation",
                                    not_run_reason)]
    if after == fv.OK:
        findings.append(mttr_finding(run_started, incident_started, mttr_target_minutes, target, "api_down_mttr"))
    return findings


def deploy_verdict(update_result, target, image, smoke_result=None, rollback_result=None, smoke_attempts=None,
                   check="deploy_result"):
    """One finding for a deploy: done and smoke-checked, dry run, or failed (and rolled back or not).

    ``smoke_attempts``: the attempts configured (a failed smoke check used them all; the registered
    ``attempts`` of an C(until) loop does not count the last one when C(failed_when) is false).
    """
    row = workload_step_row(update_result, target, "update")
    smoke = smoke_result if isinstance(smoke_result, dict) and not smoke_result.get("skipped") else None
    rolled = None
    if isinstance(rollback_result, dict) and rollback_result and not rollback_result.get("skipped"):
        rolled = workload_step_row(rollback_result, target, "rollback")
    if row["outcome"] == DRY_RUN:
        return fv.make_finding(check, fv.OK, "%s: check mode, %s" % (target, row["message"]), state="dry_run", target=target,
                               phase="remediate")
    if row["outcome"] == DONE and (smoke is None or smoke.get("status") == fv.OK):
        smoked = "smoke checks passed" if smoke is not None else "no smoke checks configured"
        return fv.make_finding(check, fv.OK, "%s: deployed %s (revision %s -> %s), %s" % (
            target, image, row["previous_revision"], row["revision"], smoked), state="deployed", target=target, phase="verify")
    if row["outcome"] == DONE:
        why = "smoke checks %s after %s attempt(s)" % (smoke.get("status"), smoke_attempts or smoke.get("attempts") or 1)
    else:
        why = "rollout failed: %s" % row["message"]
    if rolled is None:
        after = "not rolled back (automatic rollback is off)"
    elif rolled["outcome"] == DONE:
        after = "rolled back (revision %s)" % rolled["revision"] if rolled.get("revision") is not None else "rolled back"
    else:
        after = "rollback FAILED: %s" % rolled["message"]
    state = "rolled_back" if rolled is not None and rolled["outcome"] == DONE else "failed"
    return fv.make_finding(check, fv.CRITICAL, "%s: deploy of %s failed, %s; %s" % (target, image, why, after),
                           state=state, target=target, phase="verify" if row["outcome"] == DONE else "remediate")


class FilterModule(object):
    def filters(self):
        return {
            "workload_step_row": workload_step_row,
            "workload_step_findings": workload_step_findings,
            "remediation_verdict": remediation_verdict,
            "api_down_branch": api_down_branch,
            "log_collection_finding": log_collection_finding,
            "mttr_finding": mttr_finding,
            "deploy_verdict": deploy_verdict,
            "api_down_findings": api_down_findings,
        }
