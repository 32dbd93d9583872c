"""--prometheus-textfile: a report as the node exporter's textfile, checked by promtool and parsed back."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from opsbook import textfile

PROMTOOL = shutil.which("promtool")


def report(findings, outcome="action_needed", exit_code=2, scenario="disk-space"):
    return {"schema": "opsbook.report/v2", "scenario": scenario, "started": "2026-12-02T03:04:05Z", "duration": 2.5,
            "run": {"status": "successful", "rc": 0, "failed": False},
            "outcome": outcome, "exit_code": exit_code, "findings": findings}


def finding(check, status, value=None, target="/", unit="%", phase="diagnose", host="lab-local"):
    return {"check": check, "status": status, "value": value, "unit": unit, "target": target, "phase": phase,
            "host": host, "message": "m", "threshold": None}


NASTY = 'C:\\dir "quoted"\nsecond line'
FINDINGS = [
    finding("disk_space_used", "critical", 93.5),
    finding("disk_space_inodes", "ok", 12),
    finding("disk_space_used", "warning", 85.0, target="/var"),
    finding("postgres_reachable", "unknown", None, target=None, unit=None),
    finding("odd_target", "ok", 1, target=NASTY),
    finding("flag", "ok", True),  # a bool is no measurement
    finding("disk_space_used", "ok", 40.25, phase="verify"),  # supersedes the diagnosis of /
]


def samples(text):
    return {(m.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for m in [family] for s in family.samples}


@pytest.mark.parametrize("status,code", [("ok", 0), ("warning", 1), ("critical", 2), ("unknown", 3)])
def test_status_codes_follow_the_exit_codes(status, code):
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common import findings, outcome

    assert findings.status_code(status) == code
    assert (outcome.EXIT_OK, outcome.EXIT_WARNING, outcome.EXIT_CRITICAL, outcome.EXIT_NOT_CHECKED) == (0, 1, 2, 3)


def test_status_code_rejects_foreign_words():
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import FindingError, status_code

    with pytest.raises(FindingError, match="unknown status 'bad'"):
        status_code("bad")


@pytest.mark.parametrize("raw,escaped", [
    ("plain", "plain"), ('a"b', 'a\\"b'), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb"), (None, ""), (3, "3"),
    ('\\"\n', '\\\\\\"\\n'),
])
def test_escape_label(raw, escaped):
    assert textfile.escape_label(raw) == escaped


def test_render_series_and_values():
    text = textfile.render(report(FINDINGS), now=1796180650.5)
    got = samples(text)
    base = {"scenario": "disk-space", "host": "lab-local"}

    def key(name, **labels):
        return (name, tuple(sorted({**base, **labels}.items())))

    assert got[key("opsbook_finding_status", check="disk_space_used", target="/", phase="verify")] == 0
    assert got[key("opsbook_finding_value", check="disk_space_used", target="/", phase="verify", unit="%")] == 40.25
    assert got[key("opsbook_finding_status", check="disk_space_used", target="/var", phase="diagnose")] == 1
    assert got[key("opsbook_finding_status", check="postgres_reachable", target="", phase="diagnose")] == 3
    assert got[key("opsbook_finding_status", check="odd_target", target=NASTY, phase="diagnose")] == 0
    assert got[("opsbook_run_outcome", (("outcome", "action_needed"), ("scenario", "disk-space")))] == 2
    assert got[("opsbook_run_duration_seconds", (("scenario", "disk-space"),))] == 2.5
    assert got[("opsbook_run_timestamp_seconds", (("scenario", "disk-space"),))] == 1796180650.5
    status = [k for k in got if k[0] == "opsbook_finding_status"]
    value = [k for k in got if k[0] == "opsbook_finding_value"]
    assert len(status) == 6  # one per (host, check, target): the verification replaced the diagnosis of /
    assert len(value) == 4  # no value for the unknown one nor for a bool
    assert not any(dict(k[1])["check"] == "flag" for k in value)
    assert 'target="C:\\\\dir \\"quoted\\"\\nsecond line"' in text
    for name in textfile.METRICS:
        assert f"# TYPE {name} gauge" in text
        assert f"# HELP {name} " in text


def test_no_findings_still_reports_the_run():
    text = textfile.render(report([], outcome="not_checked", exit_code=3))
    assert "opsbook_finding_status" not in text
    assert samples(text)[("opsbook_run_outcome", (("outcome", "not_checked"), ("scenario", "disk-space")))] == 3


@pytest.mark.skipif(PROMTOOL is None, reason="Debian's promtool (package prometheus) is not installed")
@pytest.mark.parametrize("findings", [FINDINGS, []])
def test_promtool_check_metrics_accepts_it(findings):
    text = textfile.render(report(findings))
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout + check.stderr == ""  # no lint complaint either


@pytest.mark.skipif(PROMTOOL is None, reason="Debian's promtool (package prometheus) is not installed")
def test_promtool_rejects_a_broken_escape():
    """The check above can fail: an unescaped quote in a label value is an error for promtool."""
    text = textfile.render(report(FINDINGS)).replace('\\"quoted\\"', '"quoted"')
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode != 0


def test_write_is_atomic_0644_and_one_file_per_scenario(tmp_path):
    old = os.umask(0o077)
    try:
        first = textfile.write(tmp_path, report(FINDINGS))
        second = textfile.write(tmp_path, report([], scenario="redis-health", outcome="healthy", exit_code=0))
    finally:
        os.umask(old)
    assert first == tmp_path / "opsbook_disk-space.prom"
    assert second == tmp_path / "opsbook_redis-health.prom"
    assert stat.S_IMODE(first.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opsbook_disk-space.prom", "opsbook_redis-health.prom"]
    named = textfile.write(tmp_path / "mine.prom", report(FINDINGS))
    assert named == tmp_path / "mine.prom" and named.read_text() == first.read_text()


@pytest.mark.parametrize("name", ["metrics.txt", ".hidden.prom"])
def test_a_file_the_collector_would_skip_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"reads only \*\.prom files"):
        textfile.write(tmp_path / name, report(FINDINGS))
    assert list(tmp_path.iterdir()) == []
