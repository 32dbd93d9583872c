"""The shipped Kubernetes ClusterRoles (extensions/permissions/kubernetes, bound by the lab to users
opsbook-diagnose / opsbook-remediate / opsbook-backup) against the lab's real API server:
app-unresponsive diagnoses with opsbook-diagnose and its restart is refused with a permission_denied
finding (the Deployment untouched); with opsbook-remediate the restart happens. ``kubectl auth can-i``
(what an SRE would ask by hand) agrees with the roles."""

from __future__ import annotations

import subprocess

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.helpers import lab_state  # noqa: E402
from tests.integration.scenario_lab import (  # noqa: E402
    HealthServer,
    create_deployment,
    findings_by,
    read_deployment,
    revision,
    run_scenario,
    scen_namespace,  # noqa: F401 - fixture
)


@pytest.fixture(scope="module")
def k8s_lab():
    """Only the lab's Kubernetes (started if needed; ``up`` also applies the principals' RBAC)."""
    from opsbook.lab.core import Lab
    from opsbook.lab.profiles import api_client_for

    Lab(log=lambda *_: None).up(["kubernetes"])
    svc = lab_state()["services"]["kubernetes"]
    return {"kubeconfig": svc["kubeconfig"], "server": svc["server"], "principals": svc["principals"],
            "api_client": api_client_for(svc["kubeconfig"])}


@pytest.mark.parametrize("principal,verb,resource,expected", [
    ("diagnose", "list", "pods", "yes"), ("diagnose", "get", "pods/log", "yes"),
    ("diagnose", "patch", "deployments.apps", "no"), ("diagnose", "get", "secrets", "no"),
    ("remediate", "patch", "deployments.apps", "yes"), ("remediate", "patch", "statefulsets.apps/scale", "yes"),
    ("remediate", "delete", "deployments.apps", "no"), ("remediate", "get", "secrets", "no"),
    ("backup", "list", "secrets", "yes"), ("backup", "update", "configmaps", "yes"),
    ("backup", "patch", "deployments.apps", "no"),
])
def test_kubectl_auth_can_i_agrees_with_the_roles(k8s_lab, principal, verb, resource, expected):
    proc = subprocess.run(["kubectl", "--kubeconfig", k8s_lab["principals"][principal]["kubeconfig"], "auth", "can-i",
                           verb, resource, "-n", "opsbook-rbac-check"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == expected, (proc.stdout, proc.stderr)


def restarted(dep):
    return "kubectl.kubernetes.io/restartedAt" in (dep.spec.template.metadata.annotations or {})


def test_app_unresponsive_restart_per_principal(k8s_lab, scen_namespace, tmp_path):
    create_deployment(k8s_lab, scen_namespace, "backend")
    target = f"{scen_namespace}/backend"

    def answer():
        up = restarted(read_deployment(k8s_lab, scen_namespace, "backend"))
        return (200, {"status": "UP"}) if up else (503, {"status": "DOWN"})

    with HealthServer(answer) as url:
        def run(principal):
            variables = {"opsbook_kubernetes": {"kubeconfig": k8s_lab["principals"][principal]["kubeconfig"],
                                                "namespace": scen_namespace},
                         "app_unresponsive_health_endpoints": [{"name": "backend", "url": url}],
                         "app_unresponsive_health_json_query": "status", "app_unresponsive_timeout": 60,
                         "app_unresponsive_verify_attempts": 5, "app_unresponsive_verify_delay": 0.5}
            proc, report = run_scenario(tmp_path, "app-unresponsive", variables, "--remediate")
            assert "Traceback" not in proc.stderr
            assert report["run"]["failed"] is False, (report["failures"], proc.stderr)
            return proc, report

        proc, refused = run("diagnose")
        denied = [f for f in refused["findings"] if f["state"] == "permission_denied"]
        assert [(f["check"], f["status"], f["phase"], f["target"]) for f in denied] == [
            ("workload_permission", "critical", "remediate", "kubernetes/backend")], refused["findings"]
        assert "403" in denied[0]["message"] and "opsbook-diagnose" in denied[0]["message"]
        assert [a for a in refused["actions"] if a["changed"]] == []
        assert revision(k8s_lab, scen_namespace, "backend") == 1 and proc.returncode == 2
        # the diagnosis itself worked with the read-only principal
        assert findings_by(refused, "http_status")["backend"]["status"] == "critical"

        proc, done = run("remediate")
        assert [f for f in done["findings"] if f["state"] == "permission_denied"] == []
        assert [(a["action"], a["target"]) for a in done["actions"] if a["changed"]] == [("restart", target)]
        assert revision(k8s_lab, scen_namespace, "backend") == 2
        assert findings_by(done, "app_unresponsive_remediation")[target]["status"] == "ok"
