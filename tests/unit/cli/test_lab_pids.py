"""The lab decides from pidfiles whether a daemon still runs: a reused pid must not fool it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from opsbook.lab.base import pid_alive


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
