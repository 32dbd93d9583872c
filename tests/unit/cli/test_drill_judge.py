"""opsbook.drills.core.judge: the stages of a drill from its report and what the lab shows afterwards."""

from __future__ import annotations

import pytest

from opsbook.drills.core import DRILLS, judge


class Fault:
    detect_checks = ("http_reachable",)
    target = "backend"

    def __init__(self, present):
        self._present = present

    def present(self):
        return self._present

    def observe(self):
        return "backend down" if self._present else "backend up"


def report(outcome, diagnosis="critical", actions=(("restart", True, False),), failed=False):
    return {"outcome": outcome, "initial_status": diagnosis, "status": "ok" if outcome == "resolved" else diagnosis,
            "run": {"failed": failed, "status": "failed" if failed else "successful"}, "failures": [],
            "findings": [{"check": "http_reachable", "status": diagnosis, "phase": "diagnose", "target": "backend",
                          "message": "backend is unreachable", "state": None}],
            "actions": [{"action": a, "target": "conectsuite/backend", "changed": c, "dry_run": d} for a, c, d in actions]}


@pytest.mark.parametrize("rep, present, remediate, expected", [
    (report("resolved"), False, True, [("detect", True), ("fix", True), ("verify", True)]),
    # the report says resolved but the lab still shows the fault: the lab wins
    (report("resolved"), True, True, [("detect", True), ("fix", True), ("verify", False)]),
    (report("unresolved"), True, True, [("detect", True), ("fix", True), ("verify", False)]),
    # a dry run is no fix
    (report("action_needed", actions=(("restart", False, True),)), True, True,
     [("detect", True), ("fix", False), ("verify", False)]),
    # the diagnosis saw nothing: detect fails whatever came after
    (report("healthy", diagnosis="ok", actions=()), True, True, [("detect", False), ("fix", False), ("verify", False)]),
    (report("action_needed", actions=()), True, False, [("detect", True), ("fix", None), ("verify", True)]),
    # diagnose only, but the fault went away or something changed: not what was asked
    (report("action_needed", actions=()), False, False, [("detect", True), ("fix", None), ("verify", False)]),
    (report("resolved"), False, False, [("detect", True), ("fix", None), ("verify", False)]),
    (report("action_needed", failed=True), True, True, [("detect", True), ("run", False)]),
])
def test_stages(rep, present, remediate, expected):
    assert [(s.stage, s.ok) for s in judge(rep, Fault(present), remediate)] == expected


def test_detect_needs_the_fault_target_and_a_diagnose_verdict():
    rep = report("resolved")
    rep["findings"][0]["target"] = "other"
    assert judge(rep, Fault(False), True)[0].message == (
        "the diagnosis did not see the fault (initial status critical; expected a warning/critical http_reachable "
        "for backend)")


def test_every_drill_names_a_catalogue_scenario_and_lab_services():
    from opsbook.catalog import load_catalog
    from opsbook.lab.core import DEFAULT_SERVICES, OPTIONAL_SERVICES

    catalog = load_catalog()
    for drill in DRILLS.values():
        assert catalog[drill.scenario].available and not catalog[drill.scenario].read_only
        assert set(drill.services) <= set(DEFAULT_SERVICES) | set(OPTIONAL_SERVICES)
