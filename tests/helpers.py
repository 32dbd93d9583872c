"""Helpers for tests: run a module as Ansible would, run the CLI, find free ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.labinfo import read_state

REPO = Path(__file__).resolve().parents[1]
OPSBOOK = str(Path(sys.executable).with_name("opsbook"))
REDIS_TEST_DB = 11  # the Redis database drills use (fixture redis_client)


def lab_state() -> dict:
    return read_state(with_secrets=True)


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_module(name: str, args: dict, check_mode: bool = False, timeout: float = 120) -> dict:
    """Run opsbook.runbooks.<name> the way Ansible does (args file, JSON on stdout).

    Returns the module's result dict; ``failed`` is set when it called fail_json.
    """
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_no_log=False)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
        path = handle.name
    try:
        proc = subprocess.run(
            [sys.executable, "-m", f"ansible_collections.opsbook.runbooks.plugins.modules.{name}", path],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        os.unlink(path)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"module {name} printed no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result.setdefault("rc", proc.returncode)
    result["_stderr"] = proc.stderr
    return result


def run_cli(*args: str, env: dict | None = None, timeout: float = 600, cwd: str | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed `opsbook` command; return the completed process (text).

    The JSON report of every `opsbook run ... --json` is validated against the published
    schema (opsbook.report/v2), and its exit code against the report's own ``exit_code``.
    """
    proc = subprocess.run(
        [OPSBOOK, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {}), NO_COLOR="1"),
        cwd=cwd or tempfile.gettempdir(),
        input=input,
    )
    if args[:1] == ("run",) and "--json" in args and proc.returncode != 64:
        assert_valid_report(proc)
    return proc


def assert_valid_report(proc: subprocess.CompletedProcess) -> dict:
    """The report on ``proc``'s stdout, valid against the schema and agreeing with the exit code."""
    from opsbook.schema import report_errors

    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON report (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    errors = report_errors(report)
    assert not errors, "report departs from opsbook.report/v2:\n" + "\n".join(errors[:20])
    assert report["exit_code"] == proc.returncode, (report["exit_code"], proc.returncode, report["outcome"])
    return report


def poll(predicate, timeout: float = 60, interval: float = 0.25):
    """The first truthy value of ``predicate()`` within ``timeout`` seconds, else AssertionError."""
    import time

    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value {value!r}")

class ListWorker:
    """A producer (LPUSH) or consumer (RPOP) on a Redis list in a thread, bounded in count.

    ``with ListWorker(conn, key, produce=True): ...`` stops and joins it on exit.
    """

    def __init__(self, conn, key: str, produce: bool, limit: int = 20000, pause: float = 0.004):
        import threading

        self.conn, self.key, self.produce, self.limit, self.pause = conn, key, produce, limit, pause
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import time

        for i in range(self.limit):
            if self.stop.is_set():
                break
            if self.produce:
                self.conn.lpush(self.key, f"job-{i}")
            elif self.conn.rpop(self.key) is None:
                break
            time.sleep(self.pause)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
