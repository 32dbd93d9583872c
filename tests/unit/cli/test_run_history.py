"""The run history: records, ids, retention by count and age, concurrent writers, `history` and `report`."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import click
import pytest
from click.testing import CliRunner
from history_data import STARTED, after, before

from opsbook import history as h
from opsbook.cli import opsbook
from opsbook.commands.history import history_table

DAY = 86400


def record(directory, run, started=STARTED, argv=("run", "redis-health"), **kwargs):
    run.started, run.finished = started, started + 2.5
    return h.record_run(run.as_dict(), list(argv), directory, now=kwargs.pop("now", started), **kwargs)


def invoke(state, *args):
    """Run the CLI in-process; the result's ``return_value`` is the exit code `opsbook` exits with."""
    return CliRunner().invoke(opsbook, list(args), env={"OPSBOOK_STATE_DIR": str(state), "NO_COLOR": "1", "COLUMNS": "120"},
                              catch_exceptions=False, standalone_mode=False)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("30d", 30 * DAY),
                                           ("1w", 7 * DAY), ("1.5h", 5400)])
def test_parse_duration(text, seconds):
    assert h.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2 hours", "h", "-1h", "1y"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="not a duration"):
        h.parse_duration(text)


def test_runs_dir_follows_the_state_dir(tmp_path):
    assert h.runs_dir({"OPSBOOK_STATE_DIR": "/s"}) == h.Path("/s/runs")
    assert h.runs_dir({"XDG_STATE_HOME": "/x"}) == h.Path("/x/opsbook/runs")


@pytest.mark.parametrize("argv, censored", [
    (["run", "x", "-e", "redis_password=hunter2", "-e", "a=1"], ["run", "x", "-e", "redis_password=********", "-e", "a=1"]),
    (["run", "x", "--extra-vars=api_token=t0k"], ["run", "x", "--extra-vars=api_token=********"]),
    (["run", "x", "-eK8S_AUTH_API_KEY=abc"], ["run", "x", "-eK8S_AUTH_API_KEY=********"]),
    (["run", "x", "-e", '{"opsbook_redis": {"host": "h", "password": "p4ss"}, "n": 5}'],
     ["run", "x", "-e", '{"opsbook_redis":{"host":"h","password":"********"},"n":5}']),
    (["run", "x", "-e", "@secrets.yml", "-e", "empty_password="], ["run", "x", "-e", "@secrets.yml", "-e", "empty_password="]),
    (["respond", "A", "--label", "url=postgres://u:pw@db:5432/x"], ["respond", "A", "--label", "url=postgres://u:********@db:5432/x"]),
])
def test_the_command_line_is_kept_censored(argv, censored):
    assert h.censor_argv(argv) == censored


def test_a_run_is_kept_whole_with_its_report_and_command(tmp_path):
    run_id = record(tmp_path, before(), argv=["run", "redis-health", "-i", "prod", "-e", "redis_password=hunter2"])
    assert run_id.startswith("20260102T030405Z-redis-health-") and len(run_id) == len("20260102T030405Z-redis-health-") + 6
    assert sorted(p.name for p in tmp_path.iterdir()) == [".opsbook-state.lock", run_id]  # no temporary dir left
    meta, report = h.load_run(run_id, tmp_path)
    assert report == json.loads(json.dumps(before().as_dict()))
    assert meta == {"schema": "opsbook.run/v1", "id": run_id, "started": "2026-01-02T03:04:05Z", "scenario": "redis-health",
                    "inventory": ["/srv/inventories/prod"], "command": ["opsbook", "run", "redis-health", "-i", "prod", "-e",
                                                                        "redis_password=********"],
                    "check": False, "remediate": False, "outcome": "action_needed", "status": "critical", "exit_code": 2,
                    "duration": 2.5, "hosts": ["redis-1"]}
    assert "hunter2" not in "".join(p.read_text() for p in (tmp_path / run_id).iterdir())
    assert oct((tmp_path / run_id).stat().st_mode & 0o777) == "0o700"


def test_retention_keeps_the_newest_by_count(tmp_path):
    ids = [record(tmp_path, before(), started=STARTED + i, keep=3) for i in range(5)]
    assert [r["id"] for r in h.list_runs(tmp_path)] == ids[:1:-1]  # newest first, the oldest two gone


def test_retention_drops_runs_older_than_the_max_age(tmp_path):
    old = record(tmp_path, before(), started=STARTED - 31 * DAY, max_age=None)
    kept = record(tmp_path, before(), started=STARTED - 29 * DAY, max_age=None)
    new = record(tmp_path, after(), started=STARTED, max_age=30 * DAY)
    assert [r["id"] for r in h.list_runs(tmp_path)] == [new, kept]
    assert old not in os.listdir(tmp_path)
    assert h.prune(tmp_path, keep=None, max_age=DAY, now=STARTED) == [kept]


def test_pruning_removes_stale_half_written_runs_only(tmp_path):
    record(tmp_path, before())
    stale, fresh = tmp_path / ".tmp-stale", tmp_path / ".tmp-fresh"
    stale.mkdir(), fresh.mkdir()
    os.utime(stale, (STARTED - 2 * 3600, STARTED - 2 * 3600))
    os.utime(fresh, (STARTED - 60, STARTED - 60))
    h.prune(tmp_path, now=STARTED)
    assert (stale.exists(), fresh.exists()) == (False, True)
    assert len(h.list_runs(tmp_path)) == 1  # a half-written run is never listed


def test_resolve_an_id_a_prefix_or_last(tmp_path):
    first = record(tmp_path, before(), started=STARTED)
    second = record(tmp_path, after(), started=STARTED + 3600)
    assert h.resolve("last", tmp_path) == second
    assert h.resolve(first, tmp_path) == first
    assert h.resolve("20260102T03", tmp_path) == first
    with pytest.raises(h.HistoryError, match="names 2 runs"):
        h.resolve("20260102T0", tmp_path)
    with pytest.raises(h.HistoryError, match="no run 'nope'"):
        h.resolve("nope", tmp_path)
    with pytest.raises(h.HistoryError, match="no runs recorded"):
        h.resolve("last", tmp_path / "empty")


def test_list_runs_filters_by_scenario_and_time(tmp_path):
    a = record(tmp_path, before(), started=STARTED)
    b = record(tmp_path, after(), started=STARTED + 7200)
    other = before()
    other.scenario = "health-check"
    c = record(tmp_path, other, started=STARTED + 7300)
    assert [r["id"] for r in h.list_runs(tmp_path, scenario="redis-health")] == [b, a]
    assert [r["id"] for r in h.list_runs(tmp_path, since=STARTED + 3600)] == [c, b]
    assert [r["id"] for r in h.list_runs(tmp_path, limit=1)] == [c]


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from history_data import STARTED, before
from opsbook.history import record_run
report = before().as_dict()
for _ in range(int(sys.argv[2])):
    record_run(report, ["run", "redis-health"], Path(sys.argv[1]), keep=15, now=STARTED)
"""


def test_two_processes_recording_at_once_lose_nothing_and_prune_to_the_limit(tmp_path):
    """Same second, same scenario, same report: unique ids, whole runs, and the count limit holds."""
    here = os.path.dirname(__file__)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "20", here], stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    runs = h.list_runs(tmp_path)
    assert len(runs) == 15 and len({r["id"] for r in runs}) == 15
    assert all(h.load_run(r["id"], tmp_path)[1]["outcome"] == "action_needed" for r in runs)
    assert not list(tmp_path.glob(".tmp-*"))


def test_history_table():
    runs = [{"id": "20260102T030405Z-redis-health-abc123", "started": "2026-01-02T03:04:05Z", "scenario": "redis-health",
             "inventory": ["/srv/inv/prod"], "outcome": "action_needed", "exit_code": 2, "duration": 2.46},
            {"id": "20260102T020000Z-health-check-def456", "started": "2026-01-02T02:00:00Z", "scenario": "health-check",
             "inventory": ["/a", "/b"], "outcome": "run_failed", "exit_code": 4, "duration": 61.0}]
    assert history_table(runs) == """\
ID                                    STARTED               SCENARIO      INVENTORY      OUTCOME        EXIT  DURATION
20260102T030405Z-redis-health-abc123  2026-01-02T03:04:05Z  redis-health  /srv/inv/prod  action_needed  2     2.5s
20260102T020000Z-health-check-def456  2026-01-02T02:00:00Z  health-check  /a, /b         run_failed     4     61.0s"""


def test_history_and_report_commands(tmp_path):
    runs = tmp_path / "runs"
    a = record(runs, before(), started=STARTED)
    b = record(runs, after(), started=STARTED + 60)
    listed = invoke(tmp_path, "history", "--json")
    assert listed.return_value == 0 and [r["id"] for r in json.loads(listed.output)] == [b, a]
    table = invoke(tmp_path, "history", "--scenario", "redis-health", "-n", "1")
    assert table.output.splitlines()[1].split()[:5] == [b, "2026-01-02T03:05:05Z", "redis-health", "/srv/inventories/prod",
                                                       "resolved"]
    assert invoke(tmp_path, "history", "--since", "2026-01-01").output.count("redis-health-") == 2
    recent = invoke(tmp_path, "history", "--since", "2h").output  # 2026-01-02 is long ago
    assert recent.startswith("no recorded run in ") and recent.endswith(" matches\n") and "redis-health-" not in recent
    with pytest.raises(click.BadParameter, match="a duration .* or a UTC time"):
        invoke(tmp_path, "history", "--since", "yesterday")
    shown = invoke(tmp_path, "report", "last")
    assert shown.return_value == 0 and shown.output.rstrip("\n").splitlines()[-1] == \
        "outcome: RESOLVED  (diagnosis CRITICAL, now OK)   exit 0"
    assert json.loads(invoke(tmp_path, "report", a[:20], "--format", "json").output)["outcome"] == "action_needed"
    assert invoke(tmp_path, "report", "show", a, "-f", "md").output.startswith("# opsbook ACTION NEEDED: redis-health\n")
    assert ET.fromstring(invoke(tmp_path, "report", "last", "-f", "junit").output).get("failures") == "2"
    same = invoke(tmp_path, "report", "diff", a, a)
    assert (same.return_value, same.output.splitlines()[-1]) == (0, "0 new, 0 cleared, 0 changed, 4 unchanged")
    changed = invoke(tmp_path, "report", "diff", a, "last", "--json")
    assert changed.return_value == 1
    assert {k: len(v) for k, v in json.loads(changed.output).items() if isinstance(v, list)} == {
        "new": 3, "cleared": 1, "changed": 1}


def test_report_of_an_unknown_run_is_a_usage_error(tmp_path):
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "opsbook"), "report", "nope"], capture_output=True,
                          text=True, env=dict(os.environ, OPSBOOK_STATE_DIR=str(tmp_path)), timeout=60)
    assert proc.returncode == 64 and "error: no runs recorded in" in proc.stderr


@pytest.mark.parametrize("command", [("history",), ("report",), ("report", "show"), ("report", "diff")])
def test_every_history_command_has_help_with_examples(tmp_path, command):
    shown = invoke(tmp_path, *command, "--help")
    assert "Examples:" in shown.output
    assert [line for line in shown.output.splitlines() if line.strip().startswith("opsbook ")], shown.output


def test_run_and_respond_offer_no_history(tmp_path):
    for command in ("run", "respond"):
        shown = invoke(tmp_path, command, "--help").output
        assert all(option in shown for option in ("--no-history", "--history-keep", "--history-max-age")), command
