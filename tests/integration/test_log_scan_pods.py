"""log_scan over pod logs on the lab's Kubernetes (KWOK serves the lab's simulated log file for
every container), checked against `kubectl logs --timestamps --since` on the same pods."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.helpers import closed_port, run_module  # noqa: E402
from tests.integration.scenario_lab import create_deployment, scen_namespace  # noqa: E402,F401

WINDOW = 24 * 60  # the simulated lines carry the time the lab wrote them


def kubectl_logs(k8s_lab, namespace, pod):
    out = subprocess.run([shutil.which("kubectl"), "--kubeconfig", k8s_lab["kubeconfig"], "logs", "-n", namespace, pod,
                          "--timestamps", f"--since={WINDOW}m"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def pod_names(k8s_lab, namespace):
    from kubernetes import client

    pods = client.CoreV1Api(k8s_lab["api_client"]).list_namespaced_pod(namespace, _request_timeout=5).items
    return sorted(p.metadata.name for p in pods)


def test_pod_logs_of_a_workload_match_kubectl(k8s_lab, scen_namespace):
    create_deployment(k8s_lab, scen_namespace, "api", replicas=2)
    result = run_module("log_scan", {"pod_workload": "api", "namespace": scen_namespace, "kubeconfig": k8s_lab["kubeconfig"],
                                     "since_minutes": WINDOW})
    assert result.get("failed") is not True, result
    pods = pod_names(k8s_lab, scen_namespace)
    assert [s["source"] for s in result["sources"]] == [f"pod/{scen_namespace}/{p}/api" for p in pods]
    lines = [line for p in pods for line in kubectl_logs(k8s_lab, scen_namespace, p)]
    assert [s["lines_scanned"] for s in result["sources"]] == [len(kubectl_logs(k8s_lab, scen_namespace, p)) for p in pods]
    assert result["counts"]["error"] == sum(1 for line in lines if re.search(r"\bERROR\b", line))
    assert result["counts"]["warn"] == sum(1 for line in lines if re.search(r"\bWARN(ING)?\b", line))
    assert result["counts"]["error"] >= 2  # the simulated log has an ERROR line per container
    assert result["last_matches"]["error"][-1].split(" ", 1)[1] == [line for line in lines if "ERROR" in line][-1].split(" ", 1)[1]
    # the same pods by label selector, one container named
    by_label = run_module("log_scan", {"pod_selector": "app.kubernetes.io/name=api", "pod_container": "api",
                                       "namespace": scen_namespace, "kubeconfig": k8s_lab["kubeconfig"],
                                       "since_minutes": WINDOW})
    assert by_label["counts"] == result["counts"]
    # the same pods as a workload reference (what roles pass from the inventory): the namespace from the module's
    # options (module_defaults from opsbook_kubernetes), or said by the reference itself
    by_ref = run_module("log_scan", {"ref": "deployment/api", "namespace": scen_namespace,
                                     "kubeconfig": k8s_lab["kubeconfig"], "since_minutes": WINDOW})
    assert by_ref["sources"] == result["sources"] and by_ref["counts"] == result["counts"]
    by_dict = run_module("log_scan", {"ref": [{"name": "api", "namespace": scen_namespace}], "namespace": "elsewhere",
                                      "kubeconfig": k8s_lab["kubeconfig"], "since_minutes": WINDOW})
    assert by_dict["sources"] == result["sources"] and by_dict["counts"] == result["counts"]


def test_missing_workload_is_unknown_and_dead_api_is_critical(k8s_lab, scen_namespace, tmp_path):
    result = run_module("log_scan", {"pod_workload": "nope", "namespace": scen_namespace, "kubeconfig": k8s_lab["kubeconfig"]})
    assert result.get("failed") is not True, result
    source = [f for f in result["findings"] if f["check"] == "log_source"]
    assert [(f["status"], f["message"]) for f in source] == [
        ("unknown", f"cannot read pods of nope in {scen_namespace}: no Deployment or StatefulSet nope in namespace {scen_namespace}")]
    bad = tmp_path / "kubeconfig"
    bad.write_text(open(k8s_lab["kubeconfig"]).read().replace(k8s_lab["server"], f"https://127.0.0.1:{closed_port()}"))
    down = run_module("log_scan", {"pod_workload": "api", "namespace": scen_namespace, "kubeconfig": str(bad), "timeout": 5})
    assert down.get("failed") is not True, down
    assert down["status"] == "critical"
    assert down["findings"][0]["message"].startswith("Kubernetes API is unreachable")


@pytest.mark.parametrize("args, message", [
    ({"pod_workload": "a", "pod_selector": "x=y"}, "pod_selector, pod_workload: give one of them, not both"),
    ({"paths": ["/tmp/x.log"], "pod_container": "api"}, "pod_container: needs pod_selector or pod_workload"),
    ({}, "paths, journal, pod_selector, pod_workload, project or ref: give at least one log source"),
])
def test_bad_pod_options_name_the_option(args, message):
    result = run_module("log_scan", args)
    assert result["failed"] is True and result["msg"] == message
