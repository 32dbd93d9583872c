"""One remediating run per (scenario, inventory) at a time: ``<state>/locks/<scenario>-<digest>.lock``.

A remediating run (``--remediate`` without ``--check``; ``respond`` when it acts) holds the ``flock``
of its scenario and inventory for its whole life (the run, its report, its history record); the
lock file says who holds it (run id, pid, start time, command line), so the run it refuses (or that
waits, ``--wait SECONDS``) can name it. Read-only runs take no lock. The kernel releases an
``flock`` when its holder dies, however it dies: a killed run leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.lock import Locked, file_lock
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.state import default_state_dir

_FILE_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class RunLocked(Locked):
    """Another remediating run of the same scenario against the same inventory holds the lock."""


def locks_dir(env=None) -> Path:
    """``$OPSBOOK_STATE_DIR/locks`` (else ``$XDG_STATE_HOME/opsbook/locks``, ``~/.local/state``)."""
    return Path(default_state_dir("locks", env))


def lock_path(scenario: str, inventories: list, directory: Path | None = None) -> Path:
    """The lock file of ``scenario`` against ``inventories`` (their resolved paths, in any order)."""
    key = "\n".join(sorted(str(Path(i).resolve()) for i in inventories))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(directory or locks_dir()) / f"{_FILE_SAFE.sub('_', scenario)}-{digest}.lock"


def describe_holder(holder: dict) -> str:
    """``run 2026...-abc123 (pid 4242, started 2026-12-02T03:04:05Z)`` from a lock file's content."""
    run = holder.get("run_id") or "(id unknown)"
    details = [f"pid {holder['pid']}" if holder.get("pid") else None,
               f"started {holder['started']}" if holder.get("started") else None]
    details = [d for d in details if d]
    return f"run {run}" + (f" ({', '.join(details)})" if details else "")


@contextlib.contextmanager
def scenario_lock(scenario: str, inventories: list, run_id: str, wait: float = 0, command: list | None = None,
                  directory: Path | None = None, on_wait=None):
    """Hold the lock of ``scenario`` against ``inventories`` (see the module); RunLocked names the holder.

    ``on_wait(holder)`` is called once when the lock is busy and ``wait`` > 0, before waiting.
    """
    path = lock_path(scenario, inventories, directory)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    holder = {"run_id": run_id, "pid": os.getpid(), "scenario": scenario,
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "inventory": [str(i) for i in inventories], "command": list(command or [])}

    def busy(other, waited):
        inventory = ", ".join(str(i) for i in inventories)
        return (f"another remediating run of {scenario} against {inventory} is in progress: "
                f"{describe_holder(other)}; waited {waited:g}s (lock {path}); "
                "wait for it to finish, or give --wait SECONDS")

    if wait and on_wait is not None:
        try:
            with file_lock(str(path), wait=0, holder=holder, busy=busy, error=RunLocked):
                pass  # free now: take it below (a run starting in between makes us wait, as it should)
        except RunLocked as exc:
            on_wait(exc.holder)
    with file_lock(str(path), wait=wait, holder=holder, busy=busy, error=RunLocked):
        yield path
