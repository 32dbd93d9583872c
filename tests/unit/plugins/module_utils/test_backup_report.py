"""backup_report: achieved RTO/RPO from a timeline, findings against targets, SVG/Markdown output."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import report as br
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

T0 = 1_800_000_000.0


def result(started, finished, status="ok", backup_started=None, failed=False):
    res = {"started": T0 + started, "finished": T0 + finished,
           "findings": [{"check": "x", "status": status, "message": "m"}]}
    if backup_started is not None:
        res["manifest"] = {"started_epoch": T0 + backup_started}
    if failed:
        res = {"failed": True, "msg": "pg_dump exited 1"}
    return res


def steps(*items):
    return [s for s in (br.step_from_result({"name": n, "phase": p, "result": r}) for n, p, r in items) if s]


def checks(assessment):
    return {f["check"]: f for f in assessment["findings"]}


def test_rto_rpo_from_timeline():
    timeline = steps(("pg", "backup", result(0, 10, backup_started=0)),
                     ("redis", "backup", result(10, 12, backup_started=10)),
                     ("pg", "restore", result(20, 50)),
                     ("redis", "restore", result(50, 53)),
                     ("files", "restore", {"skipped": True}))
    got = br.assess(timeline, 4, 1, 6)
    assert got["rto_seconds"] == 33.0          # 20 -> 53
    assert got["rpo_seconds"] == 20.0          # oldest restored backup started at 0, restore began at 20
    assert got["schedule_rpo_seconds"] == 6 * 3600 + 10.0
    found = checks(got)
    assert (found["dr_rto"]["status"], found["dr_rpo"]["status"], found["dr_rpo_schedule"]["status"]) == (
        "ok", "ok", "critical")
    assert br.assess(timeline, 4, 1, 0.5)["findings"][-1]["status"] == "ok"
    assert checks(br.assess(timeline, 0.005, 1, 0.5))["dr_rto"]["status"] == "critical"  # 18 s target


def test_failed_step_is_critical_and_rto_unknown():
    timeline = steps(("pg", "backup", result(0, 0, failed=True)), ("redis", "backup", result(0, 1)),
                     ("redis", "restore", result(2, 3)))
    found = checks(br.assess(timeline, 4, 1, 6))
    assert found["dr_step"]["status"] == "critical" and "pg_dump exited 1" in found["dr_step"]["message"]
    assert found["dr_rto"]["status"] == "unknown"


@pytest.mark.parametrize("option, args", [("rto_target_hours", (0, 1, 6)), ("rpo_target_hours", (4, -1, 6)),
                                          ("backup_interval_hours", (4, 1, None))])
def test_bad_targets_name_the_option(option, args):
    with pytest.raises(InvalidInput, match="^%s:" % option):
        br.assess(steps(("pg", "backup", result(0, 1))), *args)


def test_bad_phase_names_the_option():
    with pytest.raises(InvalidInput, match="^steps:"):
        br.step_from_result({"name": "pg", "phase": "explode", "result": {}})


def test_svg_is_valid_xml_with_one_bar_per_timed_step_and_escapes():
    timeline = steps(("pg <main>", "backup", result(0, 2)), ("pg", "restore", result(3, 5)))
    root = ET.fromstring(br.timeline_svg(timeline, "DR & co"))
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 2
    text = br.markdown("DR", timeline, br.assess(timeline, 4, 1, 6), "t.svg", T0)
    assert "![timeline](t.svg)" in text and "| 2 | restore | pg | ok |" in text


def test_database_recovery_steps_loops_and_own_times():
    """stop/start loops with step times, RPO from the restored backup, no schedule finding."""
    from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import report as br

    loop = {"results": [{"findings": [{"check": "w", "status": "ok", "message": ""}]}, {"skipped": True}]}
    raw = [
        {"name": "scale down", "phase": "stop", "result": loop, "started": 100.0, "finished": 110.0},
        {"name": "pre-recovery", "phase": "backup", "result": {"started": 110.0, "finished": 120.0}},
        {"name": "postgres", "phase": "restore", "result": {"started": 120.0, "finished": 150.0, "backup_started": 40.0,
                                                              "findings": [{"check": "r", "status": "ok", "message": ""}]}},
        {"name": "scale up", "phase": "start", "result": loop, "started": 150.0, "finished": 170.0},
        {"name": "all skipped", "phase": "start", "result": {"results": [{"skipped": True}]}},
    ]
    steps = [s for s in (br.step_from_result(s) for s in raw) if s]
    assert [(s["name"], s["status"], s["duration"]) for s in steps] == [
        ("scale down", "ok", 10.0), ("pre-recovery", "unknown", 10.0), ("postgres", "ok", 30.0), ("scale up", "ok", 20.0)]
    out = br.assess(steps, 4, 1, 6, target="database-recovery", schedule_check=False)
    assert (out["rto_seconds"], out["rpo_seconds"]) == (70.0, 60.0)
    assert [f["check"] for f in out["findings"]] == ["dr_rto", "dr_rpo"]
    failed = br.step_from_result({"name": "scale up", "phase": "start",
                                  "result": {"results": [{"failed": True, "msg": "boom"}, {"findings": []}]}})
    assert (failed["status"], failed["message"]) == ("failed", "boom")


def test_a_loop_step_spans_its_items_and_takes_the_oldest_backup():
    from ansible_collections.opsbook.runbooks.plugins.module_utils.backup import report as br

    step = br.step_from_result({"name": "k8s", "phase": "restore", "result": {"results": [
        {"started": 10.0, "finished": 12.0, "backup_started": 5.0, "findings": []},
        {"started": 12.5, "finished": 20.0, "backup_started": 3.0, "findings": []}]}})
    assert (step["started"], step["finished"], step["duration"], step["backup_started"]) == (10.0, 20.0, 10.0, 3.0)
