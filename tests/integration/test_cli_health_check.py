"""`opsbook run health-check` end to end against the lab, through ansible-runner."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import run_cli


def test_health_check_all_ok(lab):
    proc = run_cli("run", "health-check", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema"] == "opsbook.report/v2"
    assert (report["outcome"], report["initial_status"], report["status"], report["exit_code"]) == ("healthy", "ok", "ok", 0)
    assert {f["phase"] for f in report["findings"]} == {"diagnose"}  # read-only: nothing but diagnosis
    checks = {f["check"]: f["status"] for f in report["findings"]}
    for check in ("postgres_reachable", "redis_reachable", "kafka_reachable"):
        assert checks[check] == "ok"
    assert report["run"]["failed"] is False


def test_health_check_table_and_progress(lab):
    proc = run_cli("run", "health-check", "-i", "lab")
    assert proc.returncode == 0, proc.stderr
    assert "Check PostgreSQL" in proc.stderr  # progress streamed to stderr
    assert proc.stdout.splitlines()[0] == "opsbook health-check"
    assert "DIAGNOSIS" in proc.stdout and "REMEDIATION" not in proc.stdout
    assert proc.stdout.splitlines()[-1] == "outcome: HEALTHY  (status OK)   exit 0"


@pytest.fixture
def redis_stopped(lab):
    port = lab["services"]["redis"]["port"]
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)
    try:
        yield port
    finally:
        restart = run_cli("lab", "up", "-s", "redis")
        assert restart.returncode == 0, restart.stderr


def test_health_check_redis_down_is_critical_without_traceback(redis_stopped):
    proc = run_cli("run", "health-check")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    critical = [line for line in proc.stdout.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1 and "redis_reachable" in critical[0]
    assert "Connection refused" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "outcome: ACTION NEEDED  (status CRITICAL)   exit 2"


def test_secrets_never_reach_artifacts_or_report(lab, tmp_path):
    artifacts = tmp_path / "artifacts"
    report = tmp_path / "report.json"
    proc = run_cli("run", "health-check", "--artifacts-dir", str(artifacts), "--report", str(report), "-vv")
    assert proc.returncode == 0, proc.stderr
    assert any(artifacts.rglob("*.json")), "runner wrote no events"
    secrets = [lab["services"][s]["password"] for s in ("postgres", "redis")]
    texts = [p.read_text(errors="replace") for p in artifacts.rglob("*") if p.is_file()]
    texts += [report.read_text(), proc.stdout, proc.stderr]
    for secret in secrets:
        assert all(secret not in text for text in texts)


def test_check_mode_runs_read_only_scenario(lab):
    proc = run_cli("run", "health-check", "--check", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["check"] is True


def test_unreachable_host_is_a_critical_finding_not_a_run_failure(tmp_path):
    from tests.helpers import closed_port

    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  hosts:\n    dead-host:\n      ansible_host: 127.0.0.1\n"
        f"      ansible_port: {closed_port()}\n      ansible_user: nobody\n"
        "      opsbook_redis: {host: 127.0.0.1}\n"
    )
    proc = run_cli("run", "health-check", "-i", str(inventory), "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["run"]["failed"] is False
    [finding] = report["findings"]
    assert finding["check"] == "ansible_host_reachable" and finding["status"] == "critical"
    assert finding["target"] == "dead-host"


def test_bad_role_variable_fails_the_run_naming_it(lab):
    proc = run_cli("run", "health-check", "-e", "health_check_redis_hit_rate_warn_pct=lots")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "health_check_redis_hit_rate_warn_pct" in proc.stdout
    assert "outcome: RUN FAILED" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_host_that_names_no_service_is_not_checked_never_ok(tmp_path):
    """Nothing checked is never OK: exit 3, outcome not_checked, and the report says what to set."""
    import sys

    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    bare:\n      ansible_connection: local\n"
                         f"      ansible_python_interpreter: {sys.executable}\n")
    proc = run_cli("run", "health-check", "-i", str(inventory), "--json")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert (report["outcome"], report["status"]) == ("not_checked", "unknown")
    assert {(f["check"], f["state"]) for f in report["findings"]} == {
        ("postgres_reachable", "not_configured"), ("redis_reachable", "not_configured"), ("kafka_reachable", "not_configured")}
    table = run_cli("run", "health-check", "-i", str(inventory))
    assert table.returncode == 3
    assert "NOT CHECKED" in table.stdout and "set opsbook_redis in the inventory" in table.stdout
    assert table.stdout.splitlines()[-1] == "outcome: NOT CHECKED  (status UNKNOWN)   exit 3"


def test_verbosity_shows_task_results_then_ansible_output(lab):
    quiet = run_cli("run", "health-check")
    one = run_cli("run", "health-check", "-v")
    two = run_cli("run", "health-check", "-vv")
    assert (quiet.returncode, one.returncode, two.returncode) == (0, 0, 0)
    assert "ok on lab-local:" not in quiet.stderr
    assert "    ok on lab-local: " in one.stderr and "ok" in one.stderr  # each task's result per host
    assert "TASK [" not in one.stderr
    assert "TASK [opsbook.runbooks.health_check : Check PostgreSQL]" in two.stderr  # Ansible's own output
    assert "PLAY RECAP" in two.stderr and "PLAY RECAP" not in two.stdout
