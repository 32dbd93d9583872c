"""Issue 20: an `opsbook run` interrupted by SIGINT/SIGTERM, and two remediating runs of one scenario at once.

Real CLI processes running the disk-space scenario (it needs no lab service) against an inventory of the
test's own, with ``disk_space_growth_interval`` making its first measurement last long enough to be
interrupted. Every background run is stopped (SIGTERM, then SIGKILL of its whole process tree) even when
a test fails, so no Ansible process, lock or load outlives the test.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

import pytest

from opsbook.schema import report_errors
from tests.helpers import OPSBOOK, poll, run_cli

SLOW = json.dumps({"disk_space_growth_interval": 60})


def process_tree(pid: int) -> list[int]:
    """The processes below ``pid`` read from /proc (independent of opsbook.runner.descendants)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rpartition(")")[2].split()[1])
            except OSError:
                pass
    tree, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        tree += kids
        frontier = kids
    return tree


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def ansible_processes(inventory) -> list[int]:
    """Live processes whose command line names the inventory: ansible-playbook and its workers."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and str(inventory) in cmdline(int(p))
            and "ansible-playbook" in cmdline(int(p)) and alive(int(p))]


class Background:
    """``opsbook run ...`` in the background; stderr lines are read as they come (``wait_line``)."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([OPSBOOK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, NO_COLOR="1"), start_new_session=True)
        self.lines: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        self.stdout = ""
        self.seen: dict[int, str] = {}  # every process seen below the run, its command line (stop() kills it)
        threading.Thread(target=self._read, daemon=True).start()
        self.out_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.out_reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def _read_stdout(self):
        self.stdout = self.proc.stdout.read()

    def wait_line(self, pattern: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no stderr line matching {pattern!r} (rc {self.proc.poll()}):\n{''.join(self.stderr)}")

    def wait(self, timeout: float = 120) -> int:
        rc = self.proc.wait(timeout=timeout)
        self.out_reader.join(timeout=10)
        return rc

    def tree(self) -> list[int]:
        tree = process_tree(self.proc.pid)
        self.seen.update((pid, cmdline(pid)) for pid in tree)
        return tree

    def stop(self):
        """Whatever happened: SIGTERM (the run cleans up), then SIGKILL of everything seen below it."""
        if self.proc.poll() is None:
            self.tree()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid, line in self.seen.items():  # a worker outliving its run (what the test checks) must not outlive
            if alive(pid) and cmdline(pid) == line:  # the test; the same command line: not a reused pid
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def background():
    runs: list[Background] = []

    def start(*args) -> Background:
        run = Background(*args)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.stop()


def wait_for_module(run: Background, timeout: float = 60) -> list[int]:
    """Once a module runs under the run (a worker in its own session), the run's process tree."""
    def busy():
        tree = run.tree()
        return tree if any("AnsiballZ_" in cmdline(p) for p in tree) else None
    return poll(busy, timeout=timeout)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_run_stops_ansible_records_the_partial_report_and_frees_the_lock(local_inventory, background,
                                                                                      signum, code):
    run = background("run", "disk-space", "-i", str(local_inventory), "--remediate", "--json", "-e", SLOW)
    run.wait_line(r"^  - ")  # the first task event
    tree = wait_for_module(run)
    assert ansible_processes(local_inventory)
    sent = time.monotonic()
    run.proc.send_signal(signum)
    assert run.wait(timeout=60) == code
    assert time.monotonic() - sent < 30, "the run took its time to stop"
    stderr = "".join(run.stderr)
    assert f"interrupted ({signum.name}): cancelling the run" in stderr

    # no Ansible process is left: not ansible-playbook, not its workers (own sessions), not the module
    poll(lambda: not [p for p in tree if alive(p)], timeout=15)
    assert ansible_processes(local_inventory) == []

    report = json.loads(run.stdout)
    assert report_errors(report) == []
    assert (report["outcome"], report["exit_code"], report["run"]["signal"]) == ("interrupted", code, signum.name)
    assert report["run"]["status"] == "canceled"
    run_id = re.search(r"run (\S+) recorded", stderr).group(1)
    history = json.loads(run_cli("history", "--json").stdout)
    recorded = next(r for r in history if r["id"] == run_id)
    assert (recorded["outcome"], recorded["exit_code"]) == ("interrupted", code)
    assert json.loads(run_cli("report", run_id, "--format", "json").stdout)["outcome"] == "interrupted"

    # the lock is free: the next remediating run starts at once and completes
    again = run_cli("run", "disk-space", "-i", str(local_inventory), "--remediate", "--json", timeout=300)
    assert again.returncode == 0, again.stderr


def test_a_second_remediating_run_refuses_naming_the_first_and_read_only_runs_are_not_held(local_inventory, background):
    first = background("run", "disk-space", "-i", str(local_inventory), "--remediate", "-e", SLOW)
    first.wait_line(r"^  - ")

    refused = run_cli("run", "disk-space", "-i", str(local_inventory), "--remediate", timeout=120)
    assert refused.returncode == 75, refused.stderr
    message = refused.stderr
    assert f"another remediating run of disk-space against {local_inventory} is in progress" in message
    assert f"pid {first.proc.pid}" in message
    named = re.search(r"run (\d{8}T\d{6}Z-disk-space-[0-9a-f]{6}) \(pid \d+, started (\S+Z)\)", message)
    assert named, message
    assert "Ansible" not in message and "recorded" not in message  # refused before anything ran

    # read-only: a diagnosis and a check-mode run of the same scenario take no lock
    read_only = run_cli("run", "disk-space", "-i", str(local_inventory), "--json", timeout=300)
    assert read_only.returncode == 0, read_only.stderr
    check = run_cli("run", "disk-space", "-i", str(local_inventory), "--remediate", "-C", "--json", timeout=300)
    assert check.returncode == 0, check.stderr

    # --wait: the third run waits for the first, which is interrupted, then runs
    third = background("run", "disk-space", "-i", str(local_inventory), "--remediate", "--wait", "120")
    third.wait_line(rf"waiting up to 120s for run {named.group(1)}")
    first.proc.send_signal(signal.SIGINT)
    assert first.wait(timeout=60) == 130
    assert re.search(r"run (\S+) recorded", "".join(first.stderr)).group(1) == named.group(1)  # the id it named
    assert third.wait(timeout=300) == 0, "".join(third.stderr)
    assert "running disk-space" in "".join(third.stderr)


def test_respond_takes_the_same_lock_when_it_acts(local_inventory, background, tmp_path):
    first = background("run", "disk-space", "-i", str(local_inventory), "--remediate", "-e", SLOW)
    first.wait_line(r"^  - ")
    respond = ("respond", "DiskSpaceRunningOut", "-i", str(local_inventory), "--no-incident",
               "--report-dir", str(tmp_path / "reports"))
    refused = run_cli(*respond, "--remediate", timeout=120)
    assert refused.returncode == 75, refused.stderr
    assert f"another remediating run of disk-space against {local_inventory} is in progress" in refused.stderr
    assert f"pid {first.proc.pid}" in refused.stderr
    # diagnose-only: no lock; and respond writes the textfile too
    metrics = tmp_path / "disk.prom"
    diagnosed = run_cli(*respond, "--prometheus-textfile", str(metrics), timeout=300)
    assert diagnosed.returncode == 0, diagnosed.stderr
    assert 'opsbook_run_outcome{scenario="disk-space",outcome="healthy"} 0\n' in metrics.read_text()
