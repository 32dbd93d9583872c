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

from ansible.errors import AnsibleFilterError

from ansible_collections.opsbook.runbooks.plugins.module_utils import findings as fv

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
    target, step = row["workload"], row["step"]
    if row["outcome"] == DONE:
        detail = ""
        if row.get("revision") is not None and row.get("previous_revision") is not None:
            detail = ", revision %s -> %s" % (row["previous_revision"], row["revision"])
        return fv.make_finding(check, fv.OK, "%s: %s done and ready%s" % (target, step, detail),
                               value=row["outcome"], target=target)
    if row["outcome"] == DRY_RUN:
        return fv.make_finding(check, fv.OK, "%s: check mode, %s" % (target, row["message"]), value=row["outcome"], target=target)
    if row["outcome"] == SKIPPED:
        return fv.make_finding(check, fv.WARNING, "%s: %s %s" % (target, step, row["message"]), value=row["outcome"], target=target)
    return fv.make_finding(check, fv.CRITICAL, "%s: %s failed: %s" % (target, step, row["message"]), value=row["outcome"], target=target)


def workload_step_findings(rows, check="workload_restart"):
    """One finding per row (``ok`` done or dry run, ``warning`` skipped, ``critical`` failed)."""
    try:
        return [_finding(row, check) for row in rows or []]
    except (KeyError, TypeError, fv.FindingError) as exc:
        raise AnsibleFilterError("workload_step_findings: bad row: %s" % exc)


def remediation_verdict(healthy_before, target, action_result=None, status_after=None, action="restart",
                        check="remediation"):
    """One finding saying what the scenario decided and how it ended.

    ``healthy_before``: the diagnosis found nothing to fix; ``action_result``: the registered
    result of the remediation task (skipped or absent when remediation was off); ``status_after``:
    the status of the verification (None when there was nothing to verify).
    """
    result = action_result if isinstance(action_result, dict) else {}
    if healthy_before:
        return fv.make_finding(check, fv.OK, "%s is healthy: nothing to do" % target, value="healthy", target=target)
    if not result or result.get("skipped"):
        return fv.make_finding(check, fv.WARNING, "%s is unhealthy and was not remediated (remediation is off; "
                               "--remediate would %s it)" % (target, action), value="not_remediated", target=target)
    row = workload_step_row(result, target, action)
    if row["outcome"] == FAILED:
        return fv.make_finding(check, fv.CRITICAL, "%s: %s failed: %s" % (target, action, row["message"]),
                               value="failed", target=target)
    if row["outcome"] == DRY_RUN:
        return fv.make_finding(check, fv.WARNING, "%s is unhealthy; check mode, %s" % (target, row["message"]),
                               value="dry_run", target=target)
    if status_after is None or status_after == fv.OK:
        verified = "healthy again" if status_after == fv.OK else "ready again (no health endpoint to verify)"
        return fv.make_finding(check, fv.OK, "%s: %s done, %s" % (target, action, verified), value="recovered", target=target)
    return fv.make_finding(check, fv.CRITICAL, "%s: %s done, but the health check is still %s" % (target, action, status_after),
                           value="still_unhealthy", target=target)


class FilterModule(object):
    def filters(self):
        return {
            "workload_step_row": workload_step_row,
            "workload_step_findings": workload_step_findings,
            "remediation_verdict": remediation_verdict,
        }
