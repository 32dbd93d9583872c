"""The workload module's Kubernetes backend against the lab's control plane (KWOK node).

KWOK pods turn Running/Ready without running a container, so a bad image tag or a failing
readiness probe cannot be shown here; the rollout, scale and restart mechanics are real.
"""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.lab

pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

from tests.helpers import poll, run_module  # noqa: E402


@pytest.fixture
def namespace(k8s_lab):
    core = client.CoreV1Api(k8s_lab["api_client"])
    name = f"wl-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}}, _request_timeout=10)
    poll(lambda: any(sa.metadata.name == "default"
                     for sa in core.list_namespaced_service_account(name, _request_timeout=5).items))
    yield name
    core.delete_namespace(name, _request_timeout=10)


@pytest.fixture
def api_deployment(k8s_lab, namespace):
    labels = {"app.kubernetes.io/name": "api"}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "api", "image": "lab.local/api:1"}]}}}}
    client.AppsV1Api(k8s_lab["api_client"]).create_namespaced_deployment(namespace, body, _request_timeout=10)
    return {"kind": "kubernetes", "name": "api", "namespace": namespace, "kubeconfig": k8s_lab["kubeconfig"], "timeout": 60}


def _apps(k8s_lab):
    return client.AppsV1Api(k8s_lab["api_client"])


def test_wait_then_status_agree_with_the_api(k8s_lab, api_deployment):
    waited = run_module("workload", dict(api_deployment, operation="wait"))
    assert waited.get("failed") is not True, waited
    status = run_module("workload", api_deployment)
    dep = _apps(k8s_lab).read_namespaced_deployment("api", api_deployment["namespace"], _request_timeout=5)
    assert (status["desired"], status["ready_replicas"]) == (dep.spec.replicas, dep.status.ready_replicas) == (2, 2)
    assert status["ready"] is True and status["status"] == "ok"
    assert status["revision"] == int(dep.metadata.annotations["deployment.kubernetes.io/revision"]) == 1
    assert len(status["pods"]) == 2
    assert {(p["phase"], p["ready"], p["restarts"]) for p in status["pods"]} == {("Running", True, 0)}


def test_rollout_restart_makes_a_new_replicaset(k8s_lab, api_deployment):
    ns = api_deployment["namespace"]
    assert run_module("workload", dict(api_deployment, operation="wait")).get("failed") is not True
    dry = run_module("workload", dict(api_deployment, operation="restart"), check_mode=True)
    assert dry["changed"] is True and dry["actions"][0]["dry_run"] is True
    assert len(_apps(k8s_lab).list_namespaced_replica_set(ns, _request_timeout=5).items) == 1  # nothing changed
    result = run_module("workload", dict(api_deployment, operation="restart"))
    assert result.get("failed") is not True, result
    assert (result["previous_revision"], result["revision"]) == (1, 2)
    assert result["ready"] is True and result["ready_replicas"] == 2
    sets = _apps(k8s_lab).list_namespaced_replica_set(ns, _request_timeout=5).items
    by_revision = {rs.metadata.annotations["deployment.kubernetes.io/revision"]: rs for rs in sets}
    assert sorted(by_revision) == ["1", "2"]
    assert (by_revision["1"].spec.replicas, by_revision["2"].status.ready_replicas) == (0, 2)
    template = by_revision["2"].spec.template.metadata.annotations
    assert "kubectl.kubernetes.io/restartedAt" in template


def test_scale_and_scale_to_zero_needs_confirm(k8s_lab, api_deployment):
    ns = api_deployment["namespace"]
    scaled = run_module("workload", dict(api_deployment, operation="scale", replicas=3))
    assert scaled.get("failed") is not True, scaled
    assert _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5).status.ready_replicas == 3
    refused = run_module("workload", dict(api_deployment, operation="scale", replicas=0))
    assert refused["failed"] is True
    assert refused["msg"] == "confirm: scaling api to zero stops it; set confirm to 'api' to proceed"
    assert _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5).spec.replicas == 3
    zero = run_module("workload", dict(api_deployment, operation="scale", replicas=0, confirm="api"))
    assert zero.get("failed") is not True, zero
    dep = _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5)
    assert (dep.spec.replicas, dep.status.ready_replicas) == (0, None)


def test_missing_deployment_and_unreachable_api(k8s_lab, namespace, tmp_path):
    missing = run_module("workload", {"kind": "kubernetes", "name": "nope", "namespace": namespace,
                                      "kubeconfig": k8s_lab["kubeconfig"], "operation": "restart"})
    assert missing["failed"] is True and missing["msg"] == f"deployment {namespace}/nope not found"
    from tests.helpers import closed_port
    bad = tmp_path / "kubeconfig"
    bad.write_text(open(k8s_lab["kubeconfig"]).read().replace(k8s_lab["server"], f"https://127.0.0.1:{closed_port()}"))
    down = run_module("workload", {"kind": "kubernetes", "name": "api", "namespace": namespace, "kubeconfig": str(bad), "timeout": 5})
    assert down.get("failed") is not True, down
    assert down["status"] == "critical"
    assert down["findings"][0]["message"].startswith("Kubernetes API is unreachable")
