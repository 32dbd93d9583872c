"""The formats of a recorded report (Markdown, JUnit XML, the text table again) and the diff of two runs."""

import xml.etree.ElementTree as ET

import pytest
from history_data import after, before, result

from opsbook.app import App
from opsbook.formats import diff_reports, diff_text, junit, markdown, threshold_text
from opsbook.report import render
from opsbook.runner import RunResult
from opsbook.schema import report_errors


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")


def test_the_fixtures_are_valid_reports():
    assert [report_errors(r.as_dict()) for r in (before(), after())] == [[], []]
    assert (before().outcome, after().outcome) == ("action_needed", "resolved")


@pytest.mark.parametrize("threshold, text", [
    (None, "-"),
    ({"warn": 80, "crit": 90, "direction": "above"}, "warn 80, crit 90 (above)"),
    ({"warn": 95.5, "crit": None, "direction": "below"}, "warn 95.5 (below)"),
    ({"warn": 20, "crit": 20, "direction": "above", "strict": True}, "warn 20, crit 20 (strictly above)"),
    ({"warn": None, "crit": None, "direction": "above"}, "-"),
    ({"expected": "running"}, "expected running"),
])
def test_threshold_text(threshold, text):
    assert threshold_text(threshold) == text


def test_the_table_of_a_recorded_report_is_the_one_the_run_printed():
    for run in (before(), after(), result([], failures=[{"host": "redis-1", "task": "Check Redis", "message": "boom"}])):
        assert render(App(colour=False), RunResult.from_report(run.as_dict())) == render(App(colour=False), run)


def test_markdown_for_a_ticket():
    assert markdown(after().as_dict(), "20260102T030405Z-redis-health-abc123") == """\
# opsbook RESOLVED: redis-health

**Outcome:** `resolved` (diagnosis `critical`, now `ok`) - exit 0

- run: `20260102T030405Z-redis-health-abc123`
- started: 2026-01-02T03:04:05Z, duration 2.5s, remediation allowed
- inventory: `/srv/inventories/prod`
- hosts: redis-1

## Diagnosis (2 ok, 1 warning, 1 critical)
| Status | Host | Check | Target | Value | Threshold | Message |
|---|---|---|---|---|---|---|
| CRITICAL | redis-1 | redis_memory | - | 97% | warn 80, crit 90 (above) | used memory 97% of maxmemory |
| WARNING | redis-1 | redis_evicted_keys | - | 412 keys | warn 1 (above) | 412 keys evicted |
| OK | redis-1 | redis_queue_length | sync_queue | 10 items | warn 1000, crit 5000 (above) | queue sync_queue has 10 items |
| OK | redis-1 | redis_reachable | - | 0.08 ms | - | Redis 7.0.15 answered PING in 0.08 ms |

## Remediation
- **done** purge `db3`: deleted 1200 expired cache keys

## Verification (1 ok)
| Status | Host | Check | Target | Value | Threshold | Message |
|---|---|---|---|---|---|---|
| OK | redis-1 | redis_memory | - | 41% | warn 80, crit 90 (above) | used memory 41% of maxmemory |

## Not checked

- `redis_not_here`: not checked
"""


def test_markdown_escapes_table_cells_and_lists_run_failures():
    text = markdown(result(before().findings, failures=[{"host": "redis-1", "task": "Check Redis", "message": "boom"}]).as_dict())
    assert "| WARNING | redis-1 | redis_hit_rate | - | 91.5% | warn 95, crit 80 (below) | hit rate 91.5% \\| below 95% |" in text
    assert text.startswith("# opsbook RUN FAILED: redis-health\n\n**Outcome:** run failed - exit 4\n")
    assert text.endswith("## Run failures\n\n- Check Redis on redis-1: boom\n")
    assert "- run:" not in text


def test_junit_one_testcase_per_finding_failures_for_warning_and_critical():
    report = after().as_dict()
    report["findings"][0]["message"] = "<b>&\"quoted\"</b>"  # escaped, still parses
    root = ET.fromstring(junit(report, "RID"))
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(report["findings"]) == 6
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "0")
    assert {k: suite.get(k) for k in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "opsbook.redis-health", "tests": "6", "failures": "2", "errors": "0", "skipped": "1"}
    failed = {(c.get("name"), c.find("failure").get("type")) for c in cases if c.find("failure") is not None}
    assert failed == {("redis-1: redis_memory", "critical"), ("redis-1: redis_evicted_keys", "warning")}
    assert [c.get("name") for c in cases if c.find("skipped") is not None] == ["redis-1: redis_not_here"]
    assert "redis-1: redis_queue_length [sync_queue]" in {c.get("name") for c in cases}
    assert {c.get("classname") for c in cases} == {"redis-health.diagnose", "redis-health.verify"}
    assert cases[0].find("system-out").text.startswith('ok: <b>&"quoted"</b>')
    memory = next(c for c in cases if c.find("failure") is not None and c.get("name") == "redis-1: redis_memory")
    assert memory.find("failure").text == "used memory 97% of maxmemory\nvalue: 97%\nthreshold: warn 80, crit 90 (above)"
    assert {p.get("name"): p.get("value") for p in suite.find("properties")} == {
        "run": "RID", "outcome": "resolved", "exit_code": "0", "inventory": "/srv/inventories/prod"}


def test_junit_a_failed_run_is_an_error_testcase():
    report = result([], failures=[{"host": None, "task": None, "message": "the run exceeded 60s"}]).as_dict()
    root = ET.fromstring(junit(report))
    [case] = root.iter("testcase")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    assert (case.get("name"), case.find("error").get("message")) == ("run failed: run", "the run exceeded 60s")


def test_diff_new_cleared_changed_keyed_by_host_check_target_phase():
    changes = diff_reports(before().as_dict(), after().as_dict())
    key = lambda f: (f["host"], f["check"], f["target"], f["phase"])  # noqa: E731
    assert [key(f) for f in changes["new"]] == [("redis-1", "redis_evicted_keys", None, "diagnose"),
                                                ("redis-1", "redis_memory", None, "verify"),
                                                ("redis-1", "redis_not_here", None, "diagnose")]
    assert [key(f) for f in changes["cleared"]] == [("redis-1", "redis_hit_rate", None, "diagnose")]
    assert [(c["key"], c["before"]["value"], c["after"]["value"]) for c in changes["changed"]] == [
        (["redis-1", "redis_memory", "", "diagnose"], 96.0, 97.0)]
    assert changes["unchanged"] == 2
    assert diff_reports(before().as_dict(), before().as_dict()) == {"new": [], "cleared": [], "changed": [], "unchanged": 4}


def test_diff_a_status_change_alone_is_a_change():
    a = result([dict(before().findings[1])]).as_dict()
    b = result([dict(before().findings[1], status="warning")]).as_dict()
    [changed] = diff_reports(a, b)["changed"]
    assert (changed["before"]["status"], changed["after"]["status"]) == ("critical", "warning")


def test_diff_text():
    a, b = before().as_dict(), after().as_dict()
    assert diff_text(diff_reports(a, b), "A", "B", a["outcome"], b["outcome"]) == """\
diff A -> B
outcome: action_needed -> resolved

NEW (3)
  WARNING   redis-1: redis_evicted_keys (diagnose)  412 keys  412 keys evicted
  OK        redis-1: redis_memory (verify)  41%  used memory 41% of maxmemory
  UNKNOWN   redis-1: redis_not_here (diagnose)  not_configured  not checked

CLEARED (1)
  WARNING   redis-1: redis_hit_rate (diagnose)  91.5%  hit rate 91.5% | below 95%

CHANGED (1)
  redis-1: redis_memory (diagnose): CRITICAL 96% -> CRITICAL 97%

3 new, 1 cleared, 1 changed, 2 unchanged"""
