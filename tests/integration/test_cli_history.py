"""Run history end to end: a real scenario run twice, both listed, shown again in every format, diffed.

health-check needs no lab here: a bare local host gives `not_checked`, and the same host with
`opsbook_redis` at a closed port (and a password in the command line) gives a critical finding.
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import OPSBOOK, assert_valid_report, closed_port, run_cli

BARE = "all:\n  hosts:\n    bare:\n      ansible_connection: local\n      ansible_python_interpreter: {python}\n"
SECRET = "hist0ry-s3cret"


@pytest.fixture
def state(tmp_path):
    return {"OPSBOOK_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "120"}


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "hosts.yml"
    path.write_text(BARE.format(python=sys.executable))
    return path


def redis_at(port: int) -> str:
    return json.dumps({"opsbook_redis": {"host": "127.0.0.1", "port": port, "password": SECRET, "connect_timeout": 2}})


def run_id_of(proc) -> str:
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("run ") and " recorded: " in line]
    return line.split()[1]


def test_a_scenario_run_twice_is_listed_shown_again_and_diffed(state, inventory):
    first = run_cli("run", "health-check", "-i", str(inventory), env=state)
    assert first.returncode == 3, first.stdout + first.stderr
    first_id = run_id_of(first)
    port = closed_port()
    second = run_cli("run", "health-check", "-i", str(inventory), "-e", redis_at(port), env=state)
    assert second.returncode == 2, second.stdout + second.stderr
    second_id = run_id_of(second)
    assert first_id != second_id and first_id.split("-")[1:3] == ["health", "check"]

    listed = run_cli("history", "--json", env=state)
    assert listed.returncode == 0
    runs = json.loads(listed.stdout)
    assert [(r["id"], r["scenario"], r["outcome"], r["exit_code"], r["inventory"]) for r in runs] == [
        (second_id, "health-check", "action_needed", 2, [str(inventory)]),
        (first_id, "health-check", "not_checked", 3, [str(inventory)])]
    assert SECRET not in listed.stdout and "********" in " ".join(runs[0]["command"])
    assert SECRET not in "".join(p.read_text() for p in (inventory.parent / "state" / "runs").rglob("*.json"))
    table = run_cli("history", "--scenario", "health-check", env=state)
    assert [line.split()[0] for line in table.stdout.splitlines()] == ["ID", second_id, first_id]

    again = run_cli("report", "last", env=state)
    assert again.returncode == 0 and again.stdout == second.stdout  # the very report `opsbook run` printed
    assert run_cli("report", first_id[:-3], env=state).stdout == first.stdout

    as_json = run_cli("report", "last", "--format", "json", env=state)
    report = assert_valid_report(subprocess.CompletedProcess(as_json.args, 2, as_json.stdout, as_json.stderr))
    assert report["timeline"] and {f["check"]: f["status"] for f in report["findings"]}["redis_reachable"] == "critical"

    root = ET.fromstring(run_cli("report", "last", "--format", "junit", env=state).stdout)
    cases = list(root.iter("testcase"))
    assert len(cases) == len(report["findings"])
    assert int(root.get("failures")) == sum(f["status"] in ("warning", "critical") and f["state"] != "not_configured"
                                            for f in report["findings"]) >= 1
    assert [c.get("name") for c in cases if c.find("failure") is not None] == [f"bare: redis_reachable [127.0.0.1:{port}/0]"]
    assert [c.get("name") for c in cases if c.find("skipped") is not None] == [
        "bare: postgres_reachable [bare]", "bare: kafka_reachable [bare]"]

    md = run_cli("report", "last", "--format", "md", env=state).stdout
    assert md.startswith("# opsbook ACTION NEEDED: health-check\n")
    assert "| CRITICAL | bare | redis_reachable |" in md and f"- run: `{second_id}`" in md

    diff = run_cli("report", "diff", first_id, second_id, env=state)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    lines = diff.stdout.splitlines()
    assert lines[:2] == [f"diff {first_id} -> {second_id}", "outcome: not_checked -> action_needed"]
    assert lines[3:5] == ["NEW (1)", f"  CRITICAL  bare: redis_reachable [127.0.0.1:{port}/0] (diagnose)  -  " + next(
        f["message"] for f in report["findings"] if f["check"] == "redis_reachable")]
    assert lines[6:8] == ["CLEARED (1)", "  UNKNOWN   bare: redis_reachable [bare] (diagnose)  not_configured  redis not "
                          "checked: no opsbook_redis is defined for bare (set opsbook_redis in the inventory)"]
    assert lines[-1] == "1 new, 1 cleared, 0 changed, 2 unchanged"
    third = run_cli("run", "health-check", "-i", str(inventory), "-e", redis_at(port), env=state)
    assert third.returncode == 2 and run_id_of(third) not in (first_id, second_id)
    same = run_cli("report", "diff", second_id, "last", env=state)  # the same problem again: nothing new
    assert (same.returncode, same.stdout.splitlines()[-1]) == (0, "0 new, 0 cleared, 0 changed, 3 unchanged")


def test_no_history_records_nothing_and_the_json_report_stays_clean(state, inventory):
    proc = run_cli("run", "health-check", "-i", str(inventory), "--no-history", "--json", env=state)
    assert proc.returncode == 3 and " recorded: " not in proc.stderr
    assert "no recorded run in" in run_cli("history", env=state).stderr
    recorded = run_cli("run", "health-check", "-i", str(inventory), "--json", env=state)
    assert json.loads(recorded.stdout)["outcome"] == "not_checked"  # stdout is the report alone
    assert run_id_of(recorded)
    assert run_cli("report", "nope", env=state).returncode == 64


def test_two_runs_finishing_at_once_are_both_recorded(state, inventory):
    env = dict(os.environ, **state, NO_COLOR="1")
    procs = [subprocess.Popen([OPSBOOK, "run", "health-check", "-i", str(inventory), "--history-keep", "5"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [3, 3], outputs
    ids = sorted(run_id_of(subprocess.CompletedProcess([], 3, out, err)) for out, err in outputs)
    assert sorted(r["id"] for r in json.loads(run_cli("history", "--json", env=state).stdout)) == ids


def test_respond_is_recorded_like_run(state, inventory):
    proc = run_cli("respond", "RedisMemoryHigh", "-i", str(inventory), "--no-incident", env=state)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    [run] = json.loads(run_cli("history", "--json", env=state).stdout)
    assert (run["id"], run["scenario"], run["command"][:3]) == (run_id_of(proc), "redis-health",
                                                                 ["opsbook", "respond", "RedisMemoryHigh"])
