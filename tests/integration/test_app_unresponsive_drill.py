"""`opsbook run app-unresponsive` (ML Bling "Aplicação Não Responde") on the lab's Kubernetes.

The KWOK node runs no container, so the application's health endpoint is a real HTTP server
in this test whose answer follows the Deployment through the Kubernetes API: it answers 503
until the pod template carries a rollout-restart annotation (restart drill) or until 5
replicas are ready (scale-out drill). The restart, the scale, the rollout wait and the pod
logs (KWOK serves the lab's simulated log file for every container) are real.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.helpers import closed_port  # noqa: E402
from tests.integration.scenario_lab import (  # noqa: E402
    HealthServer,
    create_deployment,
    findings_by,
    kubectl_pods,
    read_deployment,
    revision,
    run_scenario,
    scen_namespace,  # noqa: F401 - fixture
)


@pytest.fixture
def app_health(k8s_lab):
    """``serve(namespace, up_when)`` -> URL of a health endpoint that is UP when ``up_when(deployment)``."""
    servers = []

    def serve(namespace, up_when):
        def answer():
            up = up_when(read_deployment(k8s_lab, namespace, "backend"))
            return (200, {"status": "UP"}) if up else (503, {"status": "DOWN"})

        servers.append(HealthServer(answer))
        return servers[-1].__enter__()

    yield serve
    for server in servers:
        server.__exit__()


def restarted(dep):
    return "kubectl.kubernetes.io/restartedAt" in (dep.spec.template.metadata.annotations or {})


def base_vars(k8s_lab, namespace, url):
    return {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": namespace},
            "app_unresponsive_health_endpoints": [{"name": "backend", "url": url}],
            "app_unresponsive_health_json_query": "status", "app_unresponsive_timeout": 60,
            "app_unresponsive_verify_attempts": 5, "app_unresponsive_verify_delay": 0.5}


def test_unresponsive_app_is_restarted_and_verified(k8s_lab, scen_namespace, app_health, tmp_path):
    create_deployment(k8s_lab, scen_namespace, "backend")
    variables = base_vars(k8s_lab, scen_namespace, app_health(scen_namespace, restarted))
    target = f"{scen_namespace}/backend"

    proc, report = run_scenario(tmp_path, "app-unresponsive", variables)  # diagnosis only
    assert proc.returncode == 2, proc.stderr
    assert findings_by(report, "http_status")["backend"]["status"] == "critical"
    verdict = findings_by(report, "app_unresponsive_remediation")[target]
    assert verdict["message"] == (f"{target} is unhealthy and was not remediated (remediation is off; "
                                  "--remediate would restart it)")
    assert revision(k8s_lab, scen_namespace, "backend") == 1 and report["actions"] == []

    proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate", "--check")
    assert [a["dry_run"] for a in report["actions"]] == [True]
    assert revision(k8s_lab, scen_namespace, "backend") == 1

    proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate")
    assert report["run"]["failed"] is False, report["failures"]
    assert [(a["action"], a["target"], a["dry_run"]) for a in report["actions"]] == [("restart", target, False)]
    assert revision(k8s_lab, scen_namespace, "backend") == 2
    verdict = findings_by(report, "app_unresponsive_remediation")[target]
    assert (verdict["status"], verdict["message"]) == ("ok", f"{target}: restart done, healthy again")
    # the health check after the restart is in the report too: the last one is UP
    assert [f["status"] for f in report["findings"] if f["check"] == "http_json"][-1] == "ok"


def test_scale_out_when_configured(k8s_lab, scen_namespace, app_health, tmp_path):
    create_deployment(k8s_lab, scen_namespace, "backend")
    url = app_health(scen_namespace, lambda dep: (dep.status.ready_replicas or 0) >= 5)
    variables = dict(base_vars(k8s_lab, scen_namespace, url), app_unresponsive_action="scale")
    proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate")
    assert report["run"]["failed"] is False, report["failures"]
    dep = read_deployment(k8s_lab, scen_namespace, "backend")
    assert (dep.spec.replicas, dep.status.ready_replicas) == (5, 5)
    verdict = findings_by(report, "app_unresponsive_remediation")[f"{scen_namespace}/backend"]
    assert verdict["status"] == "ok"


def test_healthy_app_is_left_alone_and_still_unhealthy_is_critical(k8s_lab, scen_namespace, tmp_path):
    create_deployment(k8s_lab, scen_namespace, "backend")
    target = f"{scen_namespace}/backend"
    # no endpoint configured, workload ready: nothing to do even with --remediate
    variables = dict(base_vars(k8s_lab, scen_namespace, ""), app_unresponsive_health_endpoints=[])
    proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate")
    assert findings_by(report, "app_unresponsive_remediation")[target]["message"] == f"{target} is healthy: nothing to do"
    assert report["actions"] == [] and revision(k8s_lab, scen_namespace, "backend") == 1
    # an endpoint that never answers: the restart happens, the verification says it did not help
    dead = f"http://127.0.0.1:{closed_port()}/health"
    variables = dict(base_vars(k8s_lab, scen_namespace, dead), app_unresponsive_verify_attempts=2)
    proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate")
    assert proc.returncode == 2
    verdict = findings_by(report, "app_unresponsive_remediation")[target]
    assert (verdict["status"], verdict["message"]) == ("critical", f"{target}: restart done, but the health check is still critical")
    assert revision(k8s_lab, scen_namespace, "backend") == 2


def test_crash_looping_pods_are_named_and_a_restart_does_not_fix_them(k8s_lab, scen_namespace, tmp_path):
    """The lab's KWOK node keeps the backend's pods in CrashLoopBackOff (fault annotation in the pod
    template, so the restarted pods crash too): the diagnosis names the reason and the restart count
    kubectl shows, and the restart's rollout fails naming them."""
    create_deployment(k8s_lab, scen_namespace, "backend", fault="crashloop")
    target = f"{scen_namespace}/backend"
    variables = dict(base_vars(k8s_lab, scen_namespace, ""), app_unresponsive_health_endpoints=[], app_unresponsive_timeout=10)
    proc, report = run_scenario(tmp_path, "app-unresponsive", variables)  # diagnosis only
    assert (report["outcome"], proc.returncode) == ("action_needed", 2), report["failures"]
    restarts = dict(line.split() for line in kubectl_pods(
        k8s_lab, scen_namespace, "backend",
        "{range .items[*]}{.metadata.name} {.status.containerStatuses[0].restartCount}{'\\n'}{end}").splitlines())
    pod_findings = findings_by(report, "workload_pod")
    assert sorted(pod_findings) == sorted(restarts) and len(restarts) == 2
    for name, finding in pod_findings.items():
        assert (finding["status"], finding["state"], finding["unit"]) == ("critical", "crashloopbackoff", "restarts")
        assert 1 <= finding["value"] <= int(restarts[name])  # kubectl read after the run: still rising
        assert finding["message"] == f"pod {name}: CrashLoopBackOff ({finding['value']} restarts)"
    verdict = findings_by(report, "app_unresponsive_remediation")[target]
    assert verdict["message"] == f"{target} is unhealthy and was not remediated (remediation is off; --remediate would restart it)"

    proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate")
    assert (report["outcome"], proc.returncode) == ("unresolved", 2), report["failures"]
    verdict = findings_by(report, "app_unresponsive_remediation")[target]
    assert (verdict["status"], verdict["state"]) == ("critical", "failed")
    assert verdict["message"].startswith(f"{target}: restart failed: rollout of deployment {target} not complete after 10.0s: "), \
        verdict["message"]
    assert "CrashLoopBackOff (" in verdict["message"]  # the new ReplicaSet's pod, crash-looping too
