"""Run history: every `opsbook run` / `respond` kept under ``<state>/runs/<run id>/``.

A run directory holds ``report.json`` (the opsbook.report/v2 report, as ``--json`` prints it) and
``run.json`` (``opsbook.run/v1``: id, when, scenario, inventory, the censored command line, outcome,
exit code, duration). It is written whole in a temporary directory beside the others and renamed
into place, so a reader never sees half a run; ids are unique (time, scenario, random suffix), so two
runs finishing at once never collide, and pruning (count and age) holds the state directory's lock.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError, scrub
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.outcome import INTERRUPTED
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.state import default_state_dir, load_record, locked_dir

RUN_SCHEMA = "opsbook.run/v1"
DEFAULT_KEEP = 200
DEFAULT_MAX_AGE = "30d"
TMP_PREFIX = ".tmp-"
STALE_TMP_SECONDS = 3600  # a half-written run dir older than this is debris of a killed process
MASK = "********"
_SECRET_KEY = re.compile(r"KEY|TOKEN|PASS|SECRET|CREDENTIAL", re.I)  # as runner.scrub_artifacts_env masks env
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EXTRA_VARS_FLAGS = ("-e", "--extra-vars")


class HistoryError(OpsbookError):
    """No such run, an ambiguous id, or an unreadable history."""


def runs_dir(env=None) -> Path:
    """``$OPSBOOK_STATE_DIR/runs``, else ``$XDG_STATE_HOME/opsbook/runs`` (``~/.local/state``)."""
    return Path(default_state_dir("runs", env))


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``90s``, ``30m``, ``2h``, ``30d``, ``1w``; ValueError otherwise."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration (e.g. 90s, 30m, 2h, 30d, 1w)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def epoch(iso: str) -> float:
    """``2026-01-02T03:04:05Z`` (the report's ``started``) as seconds since the epoch."""
    return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))


def new_run_id(started: float, scenario: str) -> str:
    """``20260102T030405Z-redis-health-1a2b3c``: sorts by time, unique without a lock."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(started))}-{scenario}-{secrets.token_hex(3)}"


def _censor_vars(value):
    if isinstance(value, dict):
        return {k: (MASK if _SECRET_KEY.search(str(k)) and v not in (None, "") else _censor_vars(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_censor_vars(v) for v in value]
    return value


def _censor_extra_var(raw: str) -> str:
    if raw.startswith("@"):
        return raw  # a file: its name is no secret, its content is not recorded
    if raw.lstrip().startswith("{"):
        import yaml

        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError:
            return MASK
        return json.dumps(_censor_vars(data), separators=(",", ":")) if isinstance(data, dict) else MASK
    key, sep, value = raw.partition("=")
    return f"{key}={MASK}" if sep and _SECRET_KEY.search(key) and value else raw


def censor_argv(argv: list[str]) -> list[str]:
    """The command line with secret ``-e`` values masked and password/URL fragments scrubbed."""
    out: list[str] = []
    follows_flag = False
    for arg in argv:
        if follows_flag:
            arg, follows_flag = _censor_extra_var(arg), False
        elif arg in _EXTRA_VARS_FLAGS:
            follows_flag = True
        elif arg.startswith("--extra-vars="):
            arg = "--extra-vars=" + _censor_extra_var(arg.partition("=")[2])
        elif arg.startswith("-e") and not arg.startswith("--"):
            arg = "-e" + _censor_extra_var(arg[2:])
        out.append(scrub(arg))
    return out


def _write_json(path: Path, data) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def run_outcome_word(report: dict) -> str:
    """The run record's ``outcome``: the report's, ``run_failed`` when Ansible failed (an interruption says so)."""
    if report["outcome"] == INTERRUPTED or not report["run"]["failed"]:
        return report["outcome"]
    return "run_failed"


def record_run(report: dict, argv: list[str], directory: Path | None = None, keep: int = DEFAULT_KEEP,
               max_age: float | None = parse_duration(DEFAULT_MAX_AGE), now: float | None = None,
               run_id: str | None = None) -> str:
    """Keep ``report`` as a new run under ``directory`` (default :func:`runs_dir`); prune; return its id.

    ``run_id``: the id the run announced while it ran (its lock names it), else a new one.
    """
    directory = Path(directory or runs_dir())
    started = epoch(report["started"])
    run_id = run_id or new_run_id(started, report["scenario"])
    meta = {
        "schema": RUN_SCHEMA,
        "id": run_id,
        "started": report["started"],
        "scenario": report["scenario"],
        "inventory": report.get("inventory") or [],
        "command": ["opsbook"] + censor_argv(list(argv)),
        "check": report.get("check", False),
        "remediate": report.get("remediate", False),
        "outcome": run_outcome_word(report),
        "status": report["status"],
        "exit_code": report["exit_code"],
        "duration": report["duration"],
        "hosts": report.get("hosts") or [],
    }
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / f"{TMP_PREFIX}{run_id}"
    tmp.mkdir(mode=0o700)
    try:
        _write_json(tmp / "report.json", report)
        _write_json(tmp / "run.json", meta)
        os.rename(tmp, directory / run_id)  # the whole run appears at once
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(directory, keep=keep, max_age=max_age, now=now)
    return run_id


def _run_dirs(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def prune(directory: Path, keep: int | None = DEFAULT_KEEP, max_age: float | None = None,
          now: float | None = None) -> list[str]:
    """Remove runs beyond the newest ``keep`` and those started over ``max_age`` seconds ago; return their ids.

    ``keep`` 0/None and ``max_age`` None mean no limit. Under the directory's lock, so two runs
    finishing at once prune once each without tripping over each other.
    """
    now = time.time() if now is None else now
    removed: list[str] = []
    with locked_dir(str(directory), f"another opsbook is pruning {directory}", HistoryError):
        runs = _run_dirs(directory)
        doomed = set(runs[:-keep] if keep and len(runs) > keep else [])
        if max_age is not None:
            for run in runs:
                meta = _meta(run)
                if meta and now - epoch(meta["started"]) > max_age:
                    doomed.add(run)
        for run in sorted(doomed):
            shutil.rmtree(run, ignore_errors=True)
            removed.append(run.name)
        for tmp in directory.glob(TMP_PREFIX + "*"):
            try:
                if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                    shutil.rmtree(tmp, ignore_errors=True)
            except FileNotFoundError:
                pass
    return removed


def _meta(run: Path) -> dict | None:
    try:
        return load_record(str(run / "run.json"), RUN_SCHEMA, HistoryError, "run record")
    except HistoryError:
        return None


def list_runs(directory: Path | None = None, scenario: str | None = None, since: float | None = None,
              limit: int | None = None) -> list[dict]:
    """The recorded runs' ``run.json`` records, newest first (unreadable ones left out)."""
    runs = []
    for run in reversed(_run_dirs(Path(directory or runs_dir()))):
        meta = _meta(run)
        if not meta or (scenario and meta["scenario"] != scenario) or (since and epoch(meta["started"]) < since):
            continue
        runs.append(meta)
        if limit and len(runs) >= limit:
            break
    return runs


def resolve(ref: str, directory: Path | None = None) -> str:
    """The run id ``ref`` names: an id, a unique id prefix, or ``last`` (the newest run)."""
    directory = Path(directory or runs_dir())
    names = [p.name for p in _run_dirs(directory)]
    if not names:
        raise HistoryError(f"no runs recorded in {directory}")
    if ref == "last":
        return names[-1]
    if ref in names:
        return ref
    matches = [n for n in names if n.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise HistoryError(f"no run {ref!r} in {directory} (`opsbook history` lists them)")
    raise HistoryError(f"{ref!r} names {len(matches)} runs ({', '.join(matches[:5])}{', ...' if len(matches) > 5 else ''}); "
                       "give more of the id")


def load_run(ref: str, directory: Path | None = None) -> tuple[dict, dict]:
    """``(run record, report)`` of the run ``ref`` names."""
    directory = Path(directory or runs_dir())
    run = directory / resolve(ref, directory)
    meta = load_record(str(run / "run.json"), RUN_SCHEMA, HistoryError, "run record")
    try:
        report = json.loads((run / "report.json").read_text())
    except (OSError, ValueError) as exc:
        raise HistoryError(f"cannot read the report of {run.name}: {exc}")
    return meta, report
