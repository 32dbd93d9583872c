"""module_utils.k8s_common against the lab's Kubernetes control plane."""

from __future__ import annotations

import subprocess
import uuid

import pytest

pytest.importorskip("kubernetes")

from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common  # noqa: E402
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import ServiceError, ServiceUnreachable  # noqa: E402
from tests.helpers import closed_port  # noqa: E402

pytestmark = pytest.mark.lab


def test_client_from_kubeconfig_sees_what_kubectl_sees(k8s_lab):
    kube = k8s_common.Kube({"kubeconfig": k8s_lab["kubeconfig"], "namespace": "kube-system"}, timeout=10)
    assert (kube.namespace, kube.timeout, kube.server) == ("kube-system", 10.0, k8s_lab["server"])
    nodes = [n.metadata.name for n in kube.call(kube.core.list_node).items]
    kubectl = subprocess.run(["kubectl", "--kubeconfig", k8s_lab["kubeconfig"], "get", "nodes", "-o", "name"],
                             capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert sorted("node/" + n for n in nodes) == sorted(kubectl)
    assert k8s_lab["node"] in nodes


def test_kubeconfig_env_is_the_default(k8s_lab, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", k8s_lab["kubeconfig"])
    assert k8s_common.kubeconfig_path({}) == k8s_lab["kubeconfig"]
    assert k8s_common.server_url(k8s_common.api_client({})) == k8s_lab["server"]


def test_errors_are_mapped_with_clear_messages(k8s_lab, tmp_path):
    kube = k8s_common.Kube({"kubeconfig": k8s_lab["kubeconfig"]}, timeout=10)
    with pytest.raises(ServiceError) as err:
        kube.call(kube.apps.read_namespaced_deployment, "absent", "default", not_found="deployment default/absent not found")
    assert str(err.value) == "deployment default/absent not found"
    with pytest.raises(ServiceError) as err:
        kube.call(kube.core.read_namespace, "wl-absent-ns")
    assert str(err.value) == 'Kubernetes API error 404 (Not Found): namespaces "wl-absent-ns" not found'

    port = closed_port()
    down = tmp_path / "down.kubeconfig"
    down.write_text(open(k8s_lab["kubeconfig"]).read().replace(k8s_lab["server"], f"https://127.0.0.1:{port}"))
    kube = k8s_common.Kube({"kubeconfig": str(down)}, timeout=3)
    with pytest.raises(ServiceUnreachable) as err:
        kube.call(kube.core.list_node)
    assert str(err.value).startswith(f"Kubernetes API is unreachable at https://127.0.0.1:{port}: ")


def test_bad_kubeconfig_is_unreachable_and_secret_free(tmp_path):
    with pytest.raises(ServiceUnreachable) as err:
        k8s_common.api_client({"kubeconfig": str(tmp_path / "absent")})
    assert str(err.value).startswith(f"cannot load the kubeconfig {tmp_path}/absent (context current): ")
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nusers:\n- name: u\n  user:\n    token: s3cr3t-token-value\ncontexts: [\n")
    with pytest.raises(ServiceUnreachable) as err:
        k8s_common.api_client({"kubeconfig": str(broken), "context": "nope"})
    assert "s3cr3t" not in str(err.value)
    assert str(err.value).startswith(f"cannot load the kubeconfig {broken} (context nope): ")


def test_request_timeout_is_bounded():
    assert [k8s_common.request_timeout(t) for t in (None, 0, 5, 120)] == [30.0, 30.0, 5.0, 30.0]


def test_pod_logs_are_what_kubectl_logs_prints(k8s_lab):
    from kubernetes import client

    from tests.helpers import poll

    core = client.CoreV1Api(k8s_lab["api_client"])
    ns = f"wlk-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": ns}}, _request_timeout=10)
    try:
        poll(lambda: any(sa.metadata.name == "default" for sa in core.list_namespaced_service_account(ns, _request_timeout=5).items))
        core.create_namespaced_pod(ns, {"metadata": {"name": "app"}, "spec": {
            "containers": [{"name": "app", "image": "lab.local/app:1"}],
            "tolerations": [{"operator": "Exists"}]}}, _request_timeout=10)
        poll(lambda: core.read_namespaced_pod("app", ns, _request_timeout=5).status.phase == "Running", timeout=30)
        kube = k8s_common.Kube({"kubeconfig": k8s_lab["kubeconfig"], "namespace": ns}, timeout=10)

        def kubectl(*args):
            return subprocess.run(["kubectl", "--kubeconfig", k8s_lab["kubeconfig"], "-n", ns, "logs", "app", *args],
                                  capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()

        lines = kube.pod_logs("app")
        assert lines == kubectl() and len(lines) >= 3
        assert kube.pod_logs("app", tail_lines=2) == kubectl("--tail=2") == lines[-2:]
        assert kube.pod_logs("app", timestamps=True, container="app") == kubectl("--timestamps", "-c", "app")
        with pytest.raises(ServiceError) as err:
            kube.pod_logs("absent")
        assert str(err.value) == f"pod {ns}/absent not found"
    finally:
        core.delete_namespace(ns, _request_timeout=10)
