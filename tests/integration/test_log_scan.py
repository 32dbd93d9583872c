"""log_scan against real log files written by the test; counts checked against grep."""

from __future__ import annotations

import datetime
import subprocess

import pytest

from tests.helpers import run_module


def _stamp(minutes_ago: float) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.123Z")


@pytest.fixture
def app_log(tmp_path):
    """60 recent lines (1 to 5 minutes old) and 40 old ones (3 hours old, outside a 60-minute window)."""
    old = [f"{_stamp(180)} ERROR old failure {i} ECONNREFUSED" for i in range(40)]
    recent = []
    for i in range(60):
        kind = ("ERROR db query timeout" if i % 3 == 0 else
                "WARN slow response" if i % 3 == 1 else "INFO request ok")
        recent.append(f"{_stamp(5 - i / 15)} {kind} #{i}")
    recent += [f"{_stamp(1)} ERROR listen EADDRINUSE: address already in use :::3000",
               "    at Server.setupListenHandle (node:net:1817:16)",
               f"{_stamp(0.5)} FATAL JavaScript heap out of memory"]
    path = tmp_path / "api.log"
    path.write_text("\n".join(old + recent) + "\n")
    return path, len(recent)


def _grep_count(regex: str, text: str) -> int:
    proc = subprocess.run(["grep", "-cP", regex], input=text, capture_output=True, text=True, timeout=30)
    return int(proc.stdout.strip())


def test_default_patterns_count_only_the_window(app_log):
    path, recent_count = app_log
    result = run_module("log_scan", {"paths": [str(path)], "since_minutes": 60, "last_lines": 2}, check_mode=True)
    assert result.get("failed") is not True, result
    recent_text = "\n".join(path.read_text().splitlines()[40:])
    # The same regexes through grep -P on the in-window lines only.
    assert result["counts"] == {
        "error": _grep_count(r"\bERROR\b", recent_text),
        "warn": _grep_count(r"\bWARN(ING)?\b", recent_text),
        "slow": _grep_count(r"(?i)\b(slow|timeout|timed out|latency)\b", recent_text),
        "eaddrinuse": 1,
        "econnrefused": 0,
        "out_of_memory": 1,
        "failed_login": 0,
    }
    assert result["counts"]["error"] == 21 and result["counts"]["slow"] == 40
    assert result["sources"] == [{"source": str(path), "lines_scanned": recent_count, "error": None}]
    assert result["last_matches"]["error"][-1].endswith("EADDRINUSE: address already in use :::3000")
    assert len(result["last_matches"]["error"]) == 2
    by_check = {f["check"]: f["status"] for f in result["findings"]}
    assert by_check == {
        "log_pattern_error": "warning",      # 21 >= 10
        "log_pattern_warn": "ok",            # 20 < 50
        "log_pattern_slow": "warning",       # 40 >= 5, < 50
        "log_pattern_eaddrinuse": "critical",
        "log_pattern_econnrefused": "ok",
        "log_pattern_out_of_memory": "critical",
        "log_pattern_failed_login": "ok",
    }
    assert result["status"] == "critical"


def test_wider_window_and_custom_patterns(app_log):
    path, recent_count = app_log
    result = run_module("log_scan", {
        "paths": [str(path)], "since_minutes": 240,
        "patterns": [{"name": "refused", "regex": "ECONNREFUSED", "warn": 1, "crit": 41}],
    })
    assert result["counts"] == {"refused": _grep_count("ECONNREFUSED", path.read_text())} == {"refused": 40}
    assert result["sources"][0]["lines_scanned"] == recent_count + 40
    assert [(f["check"], f["status"]) for f in result["findings"]] == [("log_pattern_refused", "warning")]


def test_missing_file_is_unknown_not_a_failure(tmp_path):
    result = run_module("log_scan", {"paths": [str(tmp_path / "absent.log")]})
    assert result.get("failed") is not True, result
    source = [f for f in result["findings"] if f["check"] == "log_source"]
    assert len(source) == 1 and source[0]["status"] == "unknown"
    assert "No such file or directory" in source[0]["message"]


def test_journal_without_journald(tmp_path):
    """This machine runs no systemd/journald: journalctl answers with no entries (honest gap)."""
    result = run_module("log_scan", {"journal": True, "journal_directory": str(tmp_path), "journal_units": ["api.service"]})
    assert result.get("failed") is not True, result
    assert result["sources"] == [{"source": "journal:api.service", "lines_scanned": 0, "error": None}]
    assert set(result["counts"].values()) == {0}


@pytest.mark.parametrize("args, fragment", [
    ({}, "paths, journal, pod_selector, pod_workload, project or ref: give at least one log source"),
    ({"paths": ["/x"], "since_minutes": 0}, "since_minutes must be positive"),
    ({"paths": ["/x"], "patterns": [{"name": "bad", "regex": "(["}]}, "patterns[0] (bad): regex '([' is invalid"),
    ({"paths": ["/x"], "patterns": [{"name": "a"}]}, "patterns[0]: name and regex are required"),
])
def test_bad_input_names_the_option(args, fragment):
    result = run_module("log_scan", args)
    assert result["failed"] is True
    assert fragment in result["msg"]
