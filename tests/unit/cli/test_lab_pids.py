"""The lab decides from pidfiles whether a daemon still runs: a reused pid must not fool it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from opsbook.lab.base import LabError, pid_alive, spawn, wait_running


def test_own_process_is_alive():
    import os

    assert pid_alive(os.getpid())


def test_a_thread_id_of_another_process_is_not_alive():
    # kill(tid, 0) succeeds for a thread: a stale pidfile whose pid the kernel gave to a thread
    # made the lab skip starting etcd again
    ready, done = threading.Event(), threading.Event()
    native = []

    def worker():
        native.append(threading.get_native_id())
        ready.set()
        done.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert ready.wait(10)
        assert not pid_alive(native[0])
    finally:
        done.set()
        thread.join()


def test_exited_and_zombie_processes_are_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # exited but not reaped: a zombie
        with open(f"/proc/{child.pid}/status") as handle:
            if "State:\tZ" in handle.read():
                break
        time.sleep(0.01)
    assert not pid_alive(child.pid)
    child.wait()
    assert not pid_alive(child.pid)


def test_a_daemon_that_exits_while_we_wait_fails_at_once_with_its_log(tmp_path):
    # not a timeout minutes later: "exited" and the log's last lines, long before the 120 s are up
    pidfile, logfile = tmp_path / "d.pid", tmp_path / "d.log"
    spawn(["sh", "-c", "echo starting; echo 'FATAL bad flag --nope'; exit 3"], logfile, pidfile)
    with pytest.raises(LabError) as err:
        wait_running(pidfile, logfile, lambda: False, 120, "the daemon", "daemon")
    assert str(err.value) == f"daemon exited; see {logfile}:\nstarting\nFATAL bad flag --nope"


def test_wait_running_returns_what_ready_answers_while_the_daemon_lives(tmp_path):
    pidfile, logfile = tmp_path / "d.pid", tmp_path / "d.log"
    spawn([sys.executable, "-c", "import time; time.sleep(30)"], logfile, pidfile)
    calls = []
    try:
        assert wait_running(pidfile, logfile, lambda: calls.append(1) or (len(calls) >= 3 and "ready"), 30,
                            "the daemon", "daemon", interval=0.01) == "ready"
        with pytest.raises(LabError, match=r"^timed out after 0s waiting for the daemon$"):
            wait_running(pidfile, logfile, lambda: False, 0.2, "the daemon", "daemon", interval=0.05)
    finally:
        subprocess.run(["kill", pidfile.read_text().split()[0]], check=False)
