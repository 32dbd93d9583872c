"""`opsbook respond ALERTNAME` through the installed CLI: the mapping, its refusals, the report file."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_valid_report, run_cli


@pytest.mark.parametrize("args, message", [
    (["NoSuchAlert"], "error: no scenario for alert NoSuchAlert; playbooks/catalog.yml lists the alerts it handles: nothing run"),
    (["CriticalLogDetected"], "error: no scenario for alert CriticalLogDetected: application-errors is planned, not implemented yet"),
    (["APIDown", "--label", "scenario=redis-health"],
     "error: no scenario for alert APIDown: the catalogue maps it to api-down, its scenario label says 'redis-health'"),
    (["APIDown", "--allow-remediation", "api-down,nosuch"], "not in the catalogue: nosuch"),
    (["APIDown", "--alert", '{"labels": {"alertname": "Other"}}'], "the alert's alertname label is 'Other', not 'APIDown'"),
    (["APIDown", "--alert", "[1]"], "expected one alert, a JSON object"),
    (["APIDown", "--label", "novalue"], "expected KEY=VALUE, got 'novalue'"),
])
def test_refusals_run_nothing_and_exit_64(args, message, tmp_path):
    proc = run_cli("respond", *args, "--report-dir", str(tmp_path))
    assert proc.returncode == 64, proc.stderr
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_has_examples():
    proc = run_cli("respond", "--help")
    assert proc.returncode == 0 and "opsbook respond RedisMemoryHigh" in proc.stdout and "--allow-remediation" in proc.stdout


@pytest.mark.lab
def test_respond_runs_the_mapped_scenario_and_writes_the_report(lab, tmp_path):
    alert = {"status": "firing", "labels": {"alertname": "RedisMemoryHigh", "severity": "warning"},
             "annotations": {"summary": "Redis memory"}, "startsAt": "2026-12-01T10:00:00Z", "fingerprint": "cli-1"}
    proc = run_cli("respond", "RedisMemoryHigh", "--alert", json.dumps(alert), "--label", "scenario=redis-health",
                   "--json", "--report-dir", str(tmp_path / "dir"), "--json-out", str(tmp_path / "one.json"),
                   "-e", "redis_health_sample_seconds=1", "--remediate")
    report = assert_valid_report(proc)
    assert report["scenario"] == "redis-health" and report["remediate"] is False  # read-only: --remediate moot
    assert ("alert RedisMemoryHigh (firing) -> scenario redis-health: the catalogue lists RedisMemoryHigh under "
            "redis-health (the alert's scenario label agrees); diagnose only (a read-only scenario)") in proc.stderr
    [saved] = (tmp_path / "dir").glob("*-redis-health.json")
    assert json.loads(saved.read_text()) == report == json.loads((tmp_path / "one.json").read_text())
    assert f"report: {saved}" in proc.stderr


@pytest.mark.lab
@pytest.mark.parametrize("args, remediate, why", [
    ([], False, "diagnose only (postgres-connection-pool is not on the remediation allow-list)"),
    (["--allow-remediation", "api-down,postgres-connection-pool"], True,
     "with remediation (postgres-connection-pool is on the allow-list)"),
    (["--remediate"], True, "with remediation (--remediate given by hand)"),
])
def test_remediation_only_by_hand_or_allow_list(lab, tmp_path, args, remediate, why):
    proc = run_cli("respond", "DatabaseConnectionPoolExhausted", "--json", "--report-dir", str(tmp_path), *args)
    report = assert_valid_report(proc)
    assert report["scenario"] == "postgres-connection-pool" and report["remediate"] is remediate
    assert why in proc.stderr
    # respond never confirms: a destructive step (terminate) is refused, not run
    assert not [a for a in report["actions"] if a.get("changed")]
