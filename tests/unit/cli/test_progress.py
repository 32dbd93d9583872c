"""opsbook.progress: recorded ansible-runner events rendered as plain lines, or as a live line on a terminal.

data/runner_events.json holds the events of two real `opsbook run backup` runs on a lab (trimmed to the
fields the renderer and the collector read): one healthy, one whose pg_backup failed (location /proc/nope).
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from opsbook.progress import CLEAR, SPINNER, Progress, elapsed, interactive
from opsbook.runner import EventCollector, RunResult

EVENTS = json.loads((Path(__file__).parent / "data" / "runner_events.json").read_text())


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        self.now += 0.5  # every reading half a second later
        return self.now


def feed(progress: Progress, events: list[dict]) -> None:
    for event in events:
        progress.event(event)


def test_plain_lines_of_a_healthy_run():
    out = io.StringIO()
    with Progress(out, live=False, clock=Clock()) as progress:
        feed(progress, EVENTS["backup_ok"])
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
    assert lines[lines.index("  - Back up PostgreSQL") + 1] == "    changed     lab-local  4.6s  findings: 1 ok"
    assert lines[lines.index("  - List and verify the backup location") + 1] == \
        "    ok          lab-local  3.1s  findings: 2 ok"
    # skipped steps show only their start line
    after_redis = lines[lines.index("  - Back up Redis") + 1]
    assert after_redis == "  - Back up files"


def test_plain_lines_of_a_failed_step():
    out = io.StringIO()
    with Progress(out, live=False, clock=Clock()) as progress:
        feed(progress, EVENTS["backup_failed"])
    lines = out.getvalue().splitlines()
    assert lines[-2:] == ["  - Back up PostgreSQL", "    failed      lab-local  1.8s"]


def test_without_result_lines_only_the_steps():
    out = io.StringIO()
    with Progress(out, live=False, clock=Clock(), results=False) as progress:
        feed(progress, EVENTS["backup_ok"])
    assert all(line.startswith("  - ") for line in out.getvalue().splitlines())


def test_ignored_failure_and_unreachable():
    out = io.StringIO()
    progress = Progress(out, live=False, clock=Clock())
    progress.event({"event": "playbook_on_task_start", "event_data": {"task": "Probe"}})
    progress.event({"event": "runner_on_failed", "event_data": {"host": "db-1", "task": "Probe", "ignore_errors": True,
                                                               "duration": 12.3, "res": {"msg": "x"}}})
    progress.event({"event": "runner_on_unreachable", "event_data": {"host": "db-2", "task": "Probe",
                                                                    "duration": 75.0, "res": {}}})
    assert out.getvalue().splitlines()[1:] == ["    ignored     db-1  12s", "    unreachable db-2  1m15s"]


def test_live_line_is_rewritten_with_spinner_host_step_and_elapsed():
    out = io.StringIO()
    clock = Clock()
    progress = Progress(out, live=True, clock=clock)
    progress.event({"event": "playbook_on_task_start", "event_data": {"task": "Back up PostgreSQL"}})
    progress.event({"event": "runner_on_start", "event_data": {"host": "lab-local", "task": "Back up PostgreSQL"}})
    progress.tick()
    progress.tick()
    text = out.getvalue()
    assert "  - Back up PostgreSQL" not in text  # the live line replaces the start line
    frames = [chunk for chunk in text.split(CLEAR) if chunk]
    assert frames[-1].startswith(f"{SPINNER[2]} lab-local  Back up PostgreSQL  ")
    assert {f[0] for f in frames} >= {SPINNER[0], SPINNER[1], SPINNER[2]}
    assert "\n" not in text  # nothing kept yet: one line rewritten
    progress.event(EVENTS["backup_ok"][12])  # runner_on_ok of Back up PostgreSQL
    progress.event(EVENTS["backup_ok"][-1])  # playbook_on_stats
    assert progress.status_line() == "" and out.getvalue().endswith(CLEAR)
    progress.__exit__(None, None, None)
    text = out.getvalue()
    assert "lab-local  Back up PostgreSQL  4.6s  findings: 1 ok\n" in text
    assert "\x1b[33m" in text  # "changed" in yellow
    assert text.endswith(CLEAR)  # the live line is gone at the end


def test_live_line_counts_parallel_hosts():
    progress = Progress(io.StringIO(), live=True, clock=Clock())
    progress.event({"event": "playbook_on_task_start", "event_data": {"task": "Ping"}})
    for host in ("web-2", "web-1", "web-3"):
        progress.event({"event": "runner_on_start", "event_data": {"host": host}})
    assert progress.status_line().startswith(f"{SPINNER[0]} web-1 (+2)  Ping  ")
    progress.event({"event": "runner_on_ok", "event_data": {"host": "web-1", "task": "Ping", "res": {}}})
    assert progress.status_line().startswith(f"{SPINNER[0]} web-2 (+1)  Ping  ")


@pytest.mark.parametrize("seconds, text", [(0.44, "0.4s"), (9.96, "10.0s"), (12.4, "12s"), (185, "3m05s")])
def test_elapsed(seconds, text):
    assert elapsed(seconds) == text


def test_collector_feeds_the_display_and_leaves_the_steps_to_it():
    out = io.StringIO()
    result = RunResult("backup", [], False, False, started=0)
    with Progress(out, live=False, clock=Clock()) as progress:
        collector = EventCollector(result, progress)
        for event in EVENTS["backup_failed"]:
            collector(event)
    lines = out.getvalue().splitlines()
    assert lines.count("  - Back up PostgreSQL") == 1
    assert "    FAILED on lab-local: One or more items failed" in lines
    assert result.failures and result.failures[0]["task"] == "Back up PostgreSQL"


def test_interactive_needs_a_terminal_without_no_color_or_ci(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert interactive(Tty()) and not interactive(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not interactive(Tty())
    monkeypatch.delenv("CI")
    monkeypatch.setenv("NO_COLOR", "")
    assert not interactive(Tty())


# A real stderr: a pseudo-terminal (pty) or a pipe, the display deciding by itself.
SCRIPT = r"""
import json, sys, time
from opsbook.progress import Progress
events = json.load(open(sys.argv[1]))["backup_ok"]
with Progress(interval=0.02) as progress:
    for event in events:
        progress.event(event)
        if event["event"] == "runner_on_start":
            time.sleep(0.15)
"""


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    env.update(extra)
    return env


def _on_pty(env) -> str:
    """stderr of SCRIPT with a pty as its stderr."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(Path(__file__).parent / "data" / "runner_events.json")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary, env=env)
    os.close(secondary)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 30)
            if not ready:
                raise AssertionError("no output from the progress script within 30 s")
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the script ended and closed the pty
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
        assert proc.wait(timeout=30) == 0
    return b"".join(chunks).decode()


def test_a_terminal_gets_spinner_frames_a_pipe_plain_lines():
    tty = _on_pty(_env())
    assert CLEAR in tty
    frames = {chunk[0] for chunk in tty.split(CLEAR) if chunk and chunk[0] in SPINNER}
    assert len(frames) >= 2, tty  # the spinner turned while a step ran
    assert "lab-local  Back up PostgreSQL  4.6s  findings: 1 ok" in tty

    piped = subprocess.run([sys.executable, "-c", SCRIPT, str(Path(__file__).parent / "data" / "runner_events.json")],
                           capture_output=True, text=True, timeout=60, env=_env())
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and "\x1b" not in piped.stderr
    assert "  - Back up PostgreSQL\n    changed     lab-local  4.6s  findings: 1 ok\n" in piped.stderr


@pytest.mark.parametrize("extra", [{"NO_COLOR": "1"}, {"CI": "true"}])
def test_a_terminal_with_no_color_or_ci_gets_plain_lines(extra):
    tty = _on_pty(_env(**extra))
    assert "\x1b" not in tty and "  - Back up PostgreSQL" in tty
    assert "\r" not in tty.replace("\r\n", "\n")  # the pty's own newline translation only
