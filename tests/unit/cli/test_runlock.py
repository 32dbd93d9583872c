"""The run lock (one remediating run per scenario and inventory) and the interrupted outcome, without Ansible."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.lock import Locked, file_lock, read_holder
from opsbook import runlock
from opsbook.history import record_run, run_outcome_word
from opsbook.runner import RunResult, descendants
from opsbook.schema import report_errors

HOLD = """
import sys, time
from opsbook.runlock import scenario_lock
with scenario_lock("disk-space", [sys.argv[1]], "20260102T030405Z-disk-space-abcdef", directory=sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the disk-space lock of inventory ``tmp_path/inv`` (killed afterwards)."""
    inventory = tmp_path / "inv"
    inventory.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(inventory), str(tmp_path / "locks")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc, inventory
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_lock_path_is_per_scenario_and_inventory_set(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert runlock.lock_path("s", [a, b], tmp_path) == runlock.lock_path("s", [b, a], tmp_path)
    assert runlock.lock_path("s", [a], tmp_path) != runlock.lock_path("s", [b], tmp_path)
    assert runlock.lock_path("s", [a], tmp_path) != runlock.lock_path("t", [a], tmp_path)
    assert runlock.lock_path("a/../x y", [a], tmp_path).parent == tmp_path


def test_a_second_run_is_refused_naming_the_first(holder, tmp_path):
    proc, inventory = holder
    started = time.monotonic()
    with pytest.raises(runlock.RunLocked) as caught:
        with runlock.scenario_lock("disk-space", [inventory], "mine", directory=tmp_path / "locks"):
            pytest.fail("took a held lock")
    assert time.monotonic() - started < 2  # no wait by default
    message = str(caught.value)
    assert f"another remediating run of disk-space against {inventory} is in progress" in message
    assert "run 20260102T030405Z-disk-space-abcdef" in message
    assert f"pid {proc.pid}" in message
    assert caught.value.holder["pid"] == proc.pid
    assert caught.value.holder["started"] in message
    # another scenario, or another inventory, is not held
    with runlock.scenario_lock("api-down", [inventory], "x", directory=tmp_path / "locks"):
        pass
    with runlock.scenario_lock("disk-space", [tmp_path], "y", directory=tmp_path / "locks"):
        pass


def test_wait_takes_the_lock_once_the_holder_is_gone(holder, tmp_path):
    proc, inventory = holder
    seen = []
    subprocess.Popen([sys.executable, "-c", f"import os, time; time.sleep(1); os.kill({proc.pid}, 9)"])
    with runlock.scenario_lock("disk-space", [inventory], "mine", wait=30, directory=tmp_path / "locks",
                               on_wait=seen.append) as path:
        assert read_holder(str(path))["run_id"] == "mine"
    assert [h["run_id"] for h in seen] == ["20260102T030405Z-disk-space-abcdef"]


def test_wait_gives_up_after_its_seconds(holder, tmp_path):
    _proc, inventory = holder
    started = time.monotonic()
    with pytest.raises(runlock.RunLocked, match=r"waited 1s"):
        with runlock.scenario_lock("disk-space", [inventory], "mine", wait=1, directory=tmp_path / "locks"):
            pass
    assert 1 <= time.monotonic() - started < 5


def test_file_lock_holder_and_old_pid_only_files(tmp_path):
    path = str(tmp_path / "l")
    with file_lock(path, holder={"run_id": "r"}):
        assert read_holder(path) == {"run_id": "r", "pid": os.getpid()}
    with open(path, "w") as handle:
        handle.write("4242\n")  # what location_lock wrote before
    assert read_holder(path) == {"pid": 4242}
    assert read_holder(str(tmp_path / "none")) == {}
    assert issubclass(runlock.RunLocked, Locked)


def interrupted_result(signum):
    result = RunResult("disk-space", ["/inv"], False, True, started=1796180000.0, finished=1796180003.0,
                       runner_status="canceled", rc=254, hosts={"h"}, interrupted=int(signum))
    result.findings.append({"check": "disk_usage", "status": "ok", "value": 1.0, "state": None, "threshold": None,
                            "unit": "%", "message": "m", "target": "/", "host": "h", "phase": "diagnose"})
    result.failures.append({"host": None, "task": None, "message": "interrupted"})
    return result


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_report_is_valid_and_says_so(signum, code, tmp_path):
    result = interrupted_result(signum)
    report = json.loads(json.dumps(result.as_dict()))
    assert report_errors(report) == []
    assert (report["outcome"], report["exit_code"], report["run"]["signal"]) == ("interrupted", code, signum.name)
    assert report["host_outcomes"]["h"]["outcome"] == "healthy"  # the partial findings are still judged
    again = RunResult.from_report(report)
    assert (again.interrupted, again.exit_code, again.outcome) == (int(signum), code, "interrupted")
    assert run_outcome_word(report) == "interrupted"
    run_id = record_run(report, ["run", "disk-space"], directory=tmp_path, run_id="20261202T000000Z-disk-space-aaaaaa")
    assert run_id == "20261202T000000Z-disk-space-aaaaaa"
    meta = json.loads((tmp_path / run_id / "run.json").read_text())
    assert (meta["outcome"], meta["exit_code"]) == ("interrupted", code)


def test_a_failed_run_is_still_run_failed():
    result = interrupted_result(signal.SIGINT)
    result.interrupted = None
    report = result.as_dict()
    assert "signal" not in report["run"] and report["exit_code"] == 4
    assert run_outcome_word(report) == "run_failed"
    assert report_errors(json.loads(json.dumps(report))) == []


def test_descendants_finds_grandchildren_in_other_sessions():
    child = subprocess.Popen([sys.executable, "-c",
                              "import os, subprocess, sys, time\n"
                              "g = subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
                              "print(g.pid, flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        grandchild = int(child.stdout.readline())
        found = descendants(os.getpid())
        assert child.pid in found and grandchild in found
        assert found.index(child.pid) < found.index(grandchild)
    finally:
        os.kill(grandchild, signal.SIGKILL)
        child.kill()
        child.wait(timeout=10)
