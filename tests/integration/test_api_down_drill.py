"""`opsbook run api-down` (ConectCRM APIDown) against a compose project of our own on the lab's
Docker engine: `backend` (busybox httpd with /health and a HEALTHCHECK) and a `postgres`
stand-in whose HEALTHCHECK opens the lab's PostgreSQL port, like the lab's conectsuite.
The project is created with docker-compose and taken down afterwards; conectsuite is untouched.
"""

from __future__ import annotations

import datetime
import json
import uuid

import pytest

from opsbook.drills.compose import Compose, http_status
from tests.helpers import closed_port, poll
from tests.integration.scenario_lab import findings_by, run_scenario, scen_namespace  # noqa: F401 - fixture

pytestmark = pytest.mark.lab


def health(port):
    return http_status(f"http://127.0.0.1:{port}/health")


class Project(Compose):
    """A compose project of our own (the fault injector is opsbook.drills.compose's, as `opsbook drill` uses)."""

    def __init__(self, docker_lab, pg_port, tmp_path, health_port=None):
        super().__init__(f"scen{uuid.uuid4().hex[:8]}", tmp_path / "docker-compose.yml", docker_lab["docker_host"])
        self.port = closed_port()
        quick = {"interval": "1s", "timeout": "2s", "retries": 2}
        (tmp_path / "docker-compose.yml").write_text(json.dumps({"version": "2.4", "services": {
            "backend": {"image": docker_lab["image"], "network_mode": "host", "init": True,
                        "command": ["httpd", "-f", "-p", f"127.0.0.1:{self.port}", "-h", "/www"],
                        "healthcheck": dict(quick, test=["CMD", "wget", "-q", "-O", "/dev/null",
                                                         f"http://127.0.0.1:{health_port or self.port}/health"])},
            "postgres": {"image": docker_lab["image"], "network_mode": "host", "init": True,
                         "command": ["sleep", "2147483647"],
                         "healthcheck": dict(quick, test=["CMD-SHELL", f"echo | nc -w 2 127.0.0.1 {pg_port}"])},
        }}))


@pytest.fixture
def project(docker_lab, pg_params, tmp_path):
    proj = Project(docker_lab, pg_params["port"], tmp_path)
    proj.compose("up", "-d")
    poll(lambda: proj.healthy("backend") and proj.healthy("postgres"), timeout=60)
    yield proj
    proj.compose("down", "-t", "1")


def variables(proj, pg_params, **extra):
    return dict({"opsbook_docker": {"docker_host": proj.docker_host, "project": proj.project},
                 "api_down_health_url": f"http://127.0.0.1:{proj.port}/health",
                 "api_down_database_endpoint": {"host": "127.0.0.1", "port": pg_params["port"]},
                 "api_down_timeout": 60, "api_down_verify_delay": 1}, **extra)


def test_stopped_backend_is_restarted_health_up_and_mttr_reported(project, pg_params, tmp_path):
    target = "backend"
    project.stop("backend")
    assert project.state("backend")["Running"] is False and health(project.port) is None
    vars_ = variables(project, pg_params)

    proc, report = run_scenario(tmp_path, "api-down", vars_, "--remediate", "--check")
    assert [(a["action"], a["dry_run"]) for a in report["actions"]] == [("restart", True)]
    assert project.state("backend")["Running"] is False  # check mode changed nothing
    assert (report["outcome"], report["initial_status"], proc.returncode) == ("action_needed", "critical", 2)

    proc, report = run_scenario(tmp_path, "api-down", vars_, "--remediate")
    assert report["run"]["failed"] is False, report["failures"]
    assert [(a["action"], a["target"], a["dry_run"]) for a in report["actions"]] == [
        ("restart", f"{project.project}/backend", False)]
    assert health(project.port) == 200 and project.state("backend")["Running"] is True
    # a verified fix: resolved, exit 0, and the diagnosis (critical) still in the report
    assert (report["outcome"], report["initial_status"], report["status"], proc.returncode) == (
        "resolved", "critical", "ok", 0), proc.stderr
    verdict = findings_by(report, "api_down_remediation", phase="verify")[target]
    assert (verdict["status"], verdict["message"]) == ("ok", "backend: restart done, healthy again")
    mttr = findings_by(report, "api_down_mttr")[target]
    assert mttr["status"] == "ok" and mttr["unit"] == "minutes" and 0 <= mttr["value"] < 7
    assert mttr["threshold"]["crit"] == 7
    # the diagnosis before the action is in the same report: backend down, endpoint unreachable, logs collected
    assert findings_by(report, "http_reachable", phase="diagnose")["backend"]["status"] == "critical"
    assert findings_by(report, "http_status", phase="verify")["backend"]["status"] == "ok"  # answered 200 after the fix
    logs = findings_by(report, "api_down_logs")[target]
    assert logs["message"].startswith(f"backend: {logs['value']} log lines collected before any change from container/")
    checks = [f["check"] for f in report["findings"]]
    assert checks.index("api_down_logs") > checks.index("log_pattern_error")


def test_database_down_starts_it_then_the_app_and_late_recovery_misses_the_target(project, pg_params, tmp_path):
    project.stop("postgres")
    started = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    proc, report = run_scenario(tmp_path, "api-down", variables(project, pg_params, api_down_incident_started=started),
                                "--remediate")
    assert report["run"]["failed"] is False, report["failures"]
    assert [(a["action"], a["target"]) for a in report["actions"]] == [
        ("start", f"{project.project}/postgres"), ("restart", f"{project.project}/backend")]
    assert project.healthy("postgres") and health(project.port) == 200
    verdict = findings_by(report, "api_down_remediation")["backend"]
    assert (verdict["status"], verdict["message"]) == ("ok", "backend: start postgres then restart done, healthy again")
    mttr = findings_by(report, "api_down_mttr")["backend"]
    assert mttr["status"] == "critical" and mttr["value"] >= 10 and mttr["state"] == "measured"
    # fixed late is still fixed: the MTTR miss is in the report, the outcome is the system's
    assert (report["outcome"], report["initial_status"], report["status"], proc.returncode) == (
        "resolved", "critical", "ok", 0)


def test_healthy_api_is_left_alone(project, pg_params, tmp_path):
    proc, report = run_scenario(tmp_path, "api-down", variables(project, pg_params), "--remediate")
    assert report["run"]["failed"] is False, report["failures"]
    assert report["actions"] == []
    assert (report["outcome"], report["status"], proc.returncode) == ("healthy", "ok", 0)
    assert findings_by(report, "api_down_remediation")["backend"]["message"] == "backend is healthy: nothing to do"
    assert "api_down_mttr" not in {f["check"] for f in report["findings"]}


def test_running_but_unhealthy_needs_confirm_to_stop_and_start(docker_lab, pg_params, tmp_path):
    # the backend's HEALTHCHECK probes a closed port: the container runs but Docker marks it unhealthy
    proj = Project(docker_lab, pg_params["port"], tmp_path, health_port=closed_port())
    proj.compose("up", "-d")
    try:
        poll(lambda: (proj.state("backend").get("Health") or {}).get("Status") == "unhealthy", timeout=60)
        vars_ = variables(proj, pg_params, api_down_timeout=5)
        before = proj.state("backend")["StartedAt"]
        proc, report = run_scenario(tmp_path, "api-down", vars_, "--remediate")
        assert report["actions"] == [] and proj.state("backend")["Running"] is True
        assert (report["outcome"], proc.returncode) == ("action_needed", 2)
        verdict = findings_by(report, "api_down_remediation")["backend"]
        assert verdict["message"] == ("backend is unhealthy and was not remediated (stopping backend takes it out of "
                                      "service: pass --confirm backend to allow the stop and start)")
        refusal = findings_by(report, "api_down_confirmation")["backend"]
        assert (refusal["status"], refusal["state"], refusal["value"], refusal["message"]) == (
            "warning", "not_confirmed", None,
            "not confirmed, not run: stop and start backend; pass --confirm backend to allow it (or --yes for every target)")
        # check mode lists what the confirmation would allow, with and without it
        proc, report = run_scenario(tmp_path, "api-down", vars_, "-C", "--remediate")
        assert findings_by(report, "api_down_confirmation")["backend"]["message"] == (
            "check mode: pass --confirm backend to allow: stop and start backend")
        proc, report = run_scenario(tmp_path, "api-down", vars_, "-C", "--remediate", "--yes")
        planned = findings_by(report, "api_down_confirmation")["backend"]
        assert (planned["status"], planned["state"], planned["message"]) == (
            "ok", "confirmed", "check mode: confirmed (--confirm backend): would stop and start backend")
        assert [(a["action"], a["dry_run"]) for a in report["actions"]] == [("stop", True), ("start", True)]
        assert proj.state("backend")["StartedAt"] == before  # nothing changed so far
        proc, report = run_scenario(tmp_path, "api-down", vars_, "--remediate", "--confirm", "backend")
        assert "api_down_confirmation" not in {f["check"] for f in report["findings"]}
        assert [(a["action"], a["target"]) for a in report["actions"]] == [("stop", f"{proj.project}/backend")]
        state = proj.state("backend")
        assert state["Running"] is True and state["StartedAt"] != before  # stopped, then started again
        verdict = findings_by(report, "api_down_remediation")["backend"]
        assert verdict["status"] == "critical" and verdict["phase"] == "remediate"
        assert (report["outcome"], report["status"], proc.returncode) == ("unresolved", "critical", 2)
        assert verdict["message"].startswith(f"backend: stop and start failed: compose service {proj.project}/backend "
                                             "not running and healthy after 5")
    finally:
        proj.compose("down", "-t", "1")


def test_kubernetes_database_scaled_to_zero_is_started_then_the_app_restarted(k8s_lab, tmp_path, request):
    """The same tree on Kubernetes: `postgres` stopped (scaled to 0 by the workload module), so the
    health endpoint (a server here, UP while postgres has ready replicas) fails."""
    pytest.importorskip("kubernetes")
    from tests.helpers import run_module
    from tests.integration.scenario_lab import HealthServer, create_deployment, read_deployment, revision

    namespace = request.getfixturevalue("scen_namespace")
    for name in ("backend", "postgres"):
        create_deployment(k8s_lab, namespace, name)
    stopped = run_module("workload", {"kind": "kubernetes", "name": "postgres", "namespace": namespace, "operation": "stop",
                                      "confirm": "postgres", "kubeconfig": k8s_lab["kubeconfig"], "timeout": 60})
    assert stopped.get("failed") is not True, stopped

    def answer():
        up = (read_deployment(k8s_lab, namespace, "postgres").status.ready_replicas or 0) > 0
        return (200, {"status": "UP"}) if up else (503, {"status": "DOWN"})

    with HealthServer(answer) as url:
        vars_ = {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": namespace},
                 "api_down_app": "deployment/backend", "api_down_database": "postgres", "api_down_health_url": url, "api_down_health_json_query": "status",
                 "api_down_timeout": 60, "api_down_verify_delay": 1}
        proc, report = run_scenario(tmp_path, "api-down", vars_, "--remediate")
    assert report["run"]["failed"] is False, report["failures"]
    assert [(a["action"], a["target"]) for a in report["actions"]] == [
        ("start", f"{namespace}/postgres"), ("restart", f"{namespace}/backend")], [(f["check"], f["status"], f["message"][:120]) for f in report["findings"]]
    assert read_deployment(k8s_lab, namespace, "postgres").status.ready_replicas == 2
    assert revision(k8s_lab, namespace, "backend") == 2
    assert (report["outcome"], report["initial_status"], report["status"], proc.returncode) == (
        "resolved", "critical", "ok", 0)
    target = f"{namespace}/backend"
    assert findings_by(report, "api_down_remediation")[target]["message"] == (
        f"{target}: start postgres then restart done, healthy again")
    assert findings_by(report, "api_down_mttr")[target]["status"] == "ok"
    assert findings_by(report, "api_down_logs")[target]["message"].startswith(f"{target}: ")
