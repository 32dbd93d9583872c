"""Progress of a run on stderr, from ansible-runner's events: what runs now, and each step's result.

On a terminal (and without NO_COLOR or CI) one line is rewritten in place (``\\r``): a spinner,
the host(s) working, the step and its elapsed time; each step's result is printed above it as it
completes. Elsewhere (a pipe, a log file, CI) the same results come as plain lines: no ANSI, no ``\\r``.
"""

from __future__ import annotations

import os
import sys
import threading
import time

SPINNER = "|/-\\"
CLEAR = "\r\x1b[K"
RESULT_COLOUR = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "red", "ignored": "magenta"}
RESULT_EVENTS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_unreachable": "unreachable"}


def interactive(stream) -> bool:
    """Rewrite a line in place only on a terminal, and not with NO_COLOR or in CI."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ and not os.environ.get("CI")


def result_findings(res: dict) -> list[dict]:
    """The findings a task result carries: its own and, for a loop, each item's."""
    items = [res] + list(res.get("results") or [])
    return [f for item in items if isinstance(item, dict)
            for f in item.get("findings") or [] if isinstance(f, dict) and "status" in f]


def elapsed(seconds: float) -> str:
    """``0.4s``, ``12s``, ``3m05s``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class Progress:
    """Renders runner events (``event(ev)``) and free text (``progress(text)``, a line of its own).

    ``live`` None: decided by :func:`interactive` on ``stream``. ``results`` False: no result lines (-v on a pipe,
    where the event handler prints each result itself). ``clock`` is injectable for tests.
    Use as a context manager: on a terminal a thread turns the spinner while a step runs.
    """

    def __init__(self, stream=None, live: bool | None = None, clock=time.monotonic, interval: float = 0.2,
                 results: bool = True):
        self.stream = stream or sys.stderr
        self.live = interactive(self.stream) if live is None else live
        self.results = results
        self.clock = clock
        self.interval = interval
        self.task: str | None = None
        self.task_started = 0.0
        self.running: dict[str, float] = {}  # host -> when its step started
        self.frame = 0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    # -- output -----------------------------------------------------------------------
    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def __call__(self, text: str) -> None:
        """A line of its own (kept in the scrollback), above the live line."""
        with self._lock:
            self._write((CLEAR if self._shown else "") + text + "\n")
            self._shown = False
            self._draw()

    def status_line(self) -> str:
        """What runs now: ``| lab-local  Back up PostgreSQL  3.2s`` (empty between steps)."""
        if not self.task:
            return ""
        now = self.clock()
        hosts = sorted(self.running)
        who = (hosts[0] + (f" (+{len(hosts) - 1})" if len(hosts) > 1 else "")) if hosts else "*"
        since = min(self.running.values()) if self.running else self.task_started
        return f"{SPINNER[self.frame % len(SPINNER)]} {who}  {self.task}  {elapsed(now - since)}"

    def _draw(self) -> None:
        if not self.live:
            return
        line = self.status_line()
        if line:
            width = max(20, _columns(self.stream) - 1)
            self._write(CLEAR + line[:width])
            self._shown = True
        elif self._shown:
            self._write(CLEAR)
            self._shown = False

    def tick(self) -> None:
        """The next spinner frame (the thread calls it every ``interval``)."""
        with self._lock:
            self.frame += 1
            self._draw()

    def _spin(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def __enter__(self) -> "Progress":
        if self.live and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._spin, name="opsbook-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self.task = None
            self.running.clear()
            if self._shown:
                self._write(CLEAR)
                self._shown = False

    # -- events -------------------------------------------------------------------------
    def event(self, event: dict) -> None:
        kind = event.get("event")
        data = event.get("event_data") or {}
        with self._lock:
            if kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
                self.task, self.task_started = data.get("task") or data.get("name") or "", self.clock()
                self.running.clear()
                if not self.live:
                    self(f"  - {self.task}")
                    return
            elif kind == "playbook_on_stats":  # the play is over: nothing runs any more
                self.task = None
                self.running.clear()
            elif kind == "runner_on_start" and data.get("host"):
                self.running[data["host"]] = self.clock()
            elif kind in RESULT_EVENTS or kind == "runner_on_skipped":
                host = data.get("host")
                started = self.running.pop(host, self.task_started)
                if kind != "runner_on_skipped" and self.results:
                    self(self.result_line(kind, data, self.clock() - started))
                    return
            self._draw()

    def result_line(self, kind: str, data: dict, seconds: float) -> str:
        """``    changed     lab-local  4.6s  findings: 1 ok`` (live: with the step's name after the host)."""
        res = data.get("res") or {}
        result = RESULT_EVENTS[kind]
        if result == "failed" and data.get("ignore_errors"):
            result = "ignored"
        elif result == "ok" and res.get("changed"):
            result = "changed"
        duration = data.get("duration")
        seconds = float(duration) if isinstance(duration, (int, float)) else seconds
        findings = result_findings(res)
        label = f"{result:<11}"
        if self.live:
            import click

            label = click.style(label, fg=RESULT_COLOUR.get(result))
        # plain lines follow the step's own "  - TASK" line; the live one has no such line above it
        task = f"  {data.get('task')}" if self.live else ""
        line = f"    {label} {data.get('host')}{task}  {elapsed(seconds)}"
        if findings:
            from opsbook.report import status_counts

            line += f"  findings: {status_counts(findings)}"
        return line


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 100  # 0: a terminal that says no size
    except (AttributeError, OSError, ValueError):
        return 100
