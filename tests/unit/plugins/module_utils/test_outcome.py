"""The outcome model: phases per host, outcome per host and per run, exit codes."""

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common import outcome as oc
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import make_finding, not_configured_finding


def f(status, phase="diagnose", host="h1", state=None):
    return dict(make_finding("c", status, "m", state=state), phase=phase, host=host)


def act(dry_run=False, host="h1", changed=True):
    return {"action": "restart", "target": "t", "changed": changed, "dry_run": dry_run, "detail": None, "host": host}


NC = dict(not_configured_finding("redis_reachable", "redis", "opsbook_redis", "h1"), phase="diagnose", host="h1")


@pytest.mark.parametrize("findings, actions, expected", [
    # nothing wrong
    ([f("ok"), f("ok")], [], ("healthy", "ok", "ok", 0)),
    # problems, nothing ran: action needed, 1 for warning/unknown, 2 for critical
    ([f("ok"), f("warning")], [], ("action_needed", "warning", "warning", 1)),
    ([f("unknown"), f("ok")], [], ("action_needed", "unknown", "unknown", 1)),
    ([f("critical"), f("warning")], [], ("action_needed", "critical", "critical", 2)),
    # an action that changed nothing ("already at 3 replicas: not scaled down") is no remediation
    ([f("warning"), f("ok")], [act(changed=False)], ("action_needed", "warning", "warning", 1)),
    # check mode: only dry-run actions, so nothing ran
    ([f("critical"), f("warning", "remediate")], [act(dry_run=True)], ("action_needed", "critical", "critical", 2)),
    # fixed and verified: resolved, exit 0, the diagnosis kept as initial_status
    ([f("critical"), f("ok", "remediate"), f("ok", "verify")], [act()], ("resolved", "critical", "ok", 0)),
    # fixed but the verification still fails
    ([f("critical"), f("ok", "remediate"), f("critical", "verify")], [act()], ("unresolved", "critical", "critical", 2)),
    # a change with no verification at all cannot claim a fix
    ([f("critical")], [act()], ("unresolved", "critical", "critical", 2)),
    # a remediation step that failed without changing anything
    ([f("critical"), f("critical", "remediate", state="failed")], [], ("unresolved", "critical", "critical", 2)),
    # a dry run of a step on a workload that is down reports it down: still nothing ran
    ([f("critical"), f("critical", "remediate")], [act(dry_run=True)], ("action_needed", "critical", "critical", 2)),
    # nothing wrong, a change (a deploy) verified: still healthy
    ([f("ok"), f("ok", "verify")], [act()], ("healthy", "ok", "ok", 0)),
    # an operation with no diagnosis (restart-all): its plan in check mode, then done and verified
    ([f("ok", "remediate")], [act(dry_run=True)], ("healthy", "ok", "ok", 0)),
    ([f("ok", "remediate"), f("ok", "verify")], [act()], ("healthy", "unknown", "ok", 0)),
    ([f("ok", "verify"), f("critical", "remediate", state="failed")], [act()], ("unresolved", "unknown", "critical", 2)),
    # nothing checked at all, or only services the inventory does not name
    ([], [], ("not_checked", "unknown", "unknown", 3)),
    ([NC], [], ("not_checked", "unknown", "unknown", 3)),
    # a not-configured service next to a healthy one is no verdict
    ([NC, f("ok")], [], ("healthy", "ok", "ok", 0)),
])
def test_run_outcome(findings, actions, expected):
    result = oc.run_outcome(findings, actions, {"h1"})
    assert (result["outcome"], result["initial_status"], result["status"], result["exit_code"]) == expected


def test_hosts_are_judged_apart_and_the_most_urgent_speaks():
    """A fix on h1 does not verify h2's unfixed problem."""
    findings = [f("critical"), f("ok", "verify"), f("warning", host="h2")]
    result = oc.run_outcome(findings, [act()], {"h1", "h2"})
    assert result["hosts"]["h1"]["outcome"] == "resolved"
    assert result["hosts"]["h2"]["outcome"] == "action_needed"
    assert (result["outcome"], result["exit_code"]) == ("action_needed", 1)
    result = oc.run_outcome([f("critical"), f("critical", "verify"), f("ok", host="h2")], [act()], {"h1", "h2"})
    assert (result["outcome"], result["exit_code"]) == ("unresolved", 2)
    # a host that reported nothing does not make a checked run not_checked
    assert oc.run_outcome([f("ok")], [], {"h1", "h3"})["outcome"] == "healthy"


def test_phase_tracker_tags_by_order_per_host():
    tracker = oc.PhaseTracker()
    first = tracker.tag("h1", [make_finding("a", "critical", "m")], [])
    dry = tracker.tag("h1", [make_finding("b", "ok", "m")], [act(dry_run=True)])
    still = tracker.tag("h1", [make_finding("c", "ok", "m")], [])
    done = tracker.tag("h1", [make_finding("d", "ok", "m")], [act()])
    after = tracker.tag("h1", [make_finding("e", "ok", "m"), make_finding("f", "ok", "m", phase="diagnose")], [])
    other = tracker.tag("h2", [make_finding("g", "ok", "m")], [])
    assert [x["phase"] for x in first + dry + still + done + after + other] == [
        "diagnose", "remediate", "diagnose", "remediate", "verify", "diagnose", "diagnose"]
    # the phase a task result is in, asked before its findings are tagged (the run's timeline)
    assert (tracker.phase("h1", []), tracker.phase("h1", [act()]), tracker.phase("h2", []), tracker.phase("h3", True)) == (
        "verify", "remediate", "diagnose", "remediate")


def test_exit_code_refuses_an_unknown_outcome():
    with pytest.raises(ValueError, match="unknown outcome 'fine'"):
        oc.exit_code("fine")


def test_a_silence_is_bookkeeping_not_a_remediation():
    """The maintenance window's silence (or respond's) is in the remediate phase but changes nothing judged."""
    silence = dict(act(), action="silence")
    tracker = oc.PhaseTracker()
    tagged = tracker.tag("h1", [make_finding("alertmanager_reachable", "ok", "m")], [silence])
    later = tracker.tag("h1", [make_finding("pg", "warning", "m")], [])
    assert [x["phase"] for x in tagged + later] == ["remediate", "diagnose"]
    # a diagnose-only run that silenced its window: the diagnosis speaks, not "resolved" nor "healthy"
    result = oc.run_outcome([f("warning"), f("ok", "remediate")], [silence, dict(silence, action="expire_silence")], {"h1"})
    assert (result["outcome"], result["exit_code"]) == ("action_needed", 1)
    # with a real change next to it, the usual rules
    assert oc.run_outcome([f("warning"), f("ok", "verify")], [silence, act()], {"h1"})["outcome"] == "resolved"


def test_a_refused_step_after_a_clean_diagnosis_is_action_needed_not_healthy():
    diagnosed = dict(make_finding("postgres_long_queries", "ok", "none"), host="db", phase="diagnose")
    refused = dict(make_finding("postgres_permission", "critical", "permission denied", state="permission_denied"),
                   host="db", phase="remediate")
    result = oc.run_outcome([diagnosed, refused])
    assert (result["outcome"], result["initial_status"], result["status"], result["exit_code"]) == (
        "action_needed", "ok", "critical", 2)
    assert oc.run_outcome([diagnosed])["outcome"] == "healthy"
