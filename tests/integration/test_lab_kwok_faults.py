"""The lab's KWOK fault stages: pod failures written by the KWOK node itself, as a kubelet reports them.

Each test makes a Deployment select a fault (an image tag the node cannot pull, or the pod
annotation ``opsbook.io/fault``), reads the pods' status as `kubectl get pods -o jsonpath` prints
it, and checks that the workload module's status names the same reason and restart count.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.helpers import poll, run_module  # noqa: E402
from tests.integration.scenario_lab import (  # noqa: E402
    create_deployment,
    kubectl_pods,
    pods,
    read_deployment,
    scen_namespace,  # noqa: F401 - fixture
)

WAITING = "{range .items[*]}{.status.containerStatuses[0].state.waiting.reason}{'\\n'}{end}"
RESTARTS = "{range .items[*]}{.status.containerStatuses[0].restartCount}{'\\n'}{end}"
LAST = "{range .items[*]}{.status.containerStatuses[0].lastState.terminated.reason}/" \
       "{.status.containerStatuses[0].lastState.terminated.exitCode}{'\\n'}{end}"
READY = "{range .items[*]}{.status.phase}/{.status.containerStatuses[0].ready}{'\\n'}{end}"


def status(k8s_lab, namespace, name):
    result = run_module("workload", {"kind": "kubernetes", "name": name, "namespace": namespace,
                                     "kubeconfig": k8s_lab["kubeconfig"], "timeout": 30})
    assert result.get("failed") is not True, result
    return result


def restarts(k8s_lab, namespace, name):
    return [int(n) for n in kubectl_pods(k8s_lab, namespace, name, RESTARTS).split()]


def test_bad_image_tag_gives_err_image_pull_then_image_pull_backoff(k8s_lab, scen_namespace):
    create_deployment(k8s_lab, scen_namespace, "puller", replicas=1, image="lab.local/puller:opsbook-bad")
    seen = set()
    poll(lambda: seen.update(kubectl_pods(k8s_lab, scen_namespace, "puller", WAITING).split()) or
         {"ErrImagePull", "ImagePullBackOff"} <= seen, timeout=30)
    assert seen == {"ErrImagePull", "ImagePullBackOff"}
    assert kubectl_pods(k8s_lab, scen_namespace, "puller", READY).split() == ["Pending/false"]
    assert read_deployment(k8s_lab, scen_namespace, "puller").status.ready_replicas is None
    result = status(k8s_lab, scen_namespace, "puller")
    (pod,) = result["pods"]
    assert pod["reason"] in ("ErrImagePull", "ImagePullBackOff") and pod["waiting"] == pod["reason"]
    crit = [f for f in result["findings"] if f["check"] == "workload_pod"]
    assert [(f["status"], f["state"], f["value"], f["target"]) for f in crit] == [
        ("critical", pod["reason"].lower(), 0, pod["name"])]


def test_crashloop_annotation_gives_crash_loop_back_off_with_rising_restarts(k8s_lab, scen_namespace):
    create_deployment(k8s_lab, scen_namespace, "crasher", replicas=1, fault="crashloop")
    first = poll(lambda: restarts(k8s_lab, scen_namespace, "crasher")[0] >= 1 and restarts(k8s_lab, scen_namespace, "crasher"))
    poll(lambda: restarts(k8s_lab, scen_namespace, "crasher")[0] > first[0], timeout=30)  # the kubelet keeps restarting it
    assert kubectl_pods(k8s_lab, scen_namespace, "crasher", WAITING).split() == ["CrashLoopBackOff"]
    assert kubectl_pods(k8s_lab, scen_namespace, "crasher", LAST).split() == ["Error/1"]
    assert kubectl_pods(k8s_lab, scen_namespace, "crasher", READY).split() == ["Running/false"]
    result = status(k8s_lab, scen_namespace, "crasher")
    (pod,) = result["pods"]
    assert (pod["reason"], pod["last_terminated"], pod["ready"]) == ("CrashLoopBackOff", "Error", False)
    assert pod["restarts"] > first[0]
    crit = [f for f in result["findings"] if f["check"] == "workload_pod"]
    assert [(f["state"], f["unit"]) for f in crit] == [("crashloopbackoff", "restarts")]
    assert crit[0]["message"] == f"pod {pod['name']}: CrashLoopBackOff ({crit[0]['value']} restarts)"


def test_oomkilled_annotation_gives_oomkilled_last_state_with_rising_restarts(k8s_lab, scen_namespace):
    create_deployment(k8s_lab, scen_namespace, "hog", replicas=1, fault="oomkilled")
    first = poll(lambda: restarts(k8s_lab, scen_namespace, "hog")[0] >= 1 and restarts(k8s_lab, scen_namespace, "hog"))
    poll(lambda: restarts(k8s_lab, scen_namespace, "hog")[0] > first[0], timeout=30)
    assert kubectl_pods(k8s_lab, scen_namespace, "hog", LAST).split() == ["OOMKilled/137"]
    result = status(k8s_lab, scen_namespace, "hog")
    (pod,) = result["pods"]
    assert (pod["reason"], pod["last_terminated"], pod["waiting"]) == ("OOMKilled", "OOMKilled", None)
    crit = [f for f in result["findings"] if f["check"] == "workload_pod"]
    assert [(f["status"], f["state"]) for f in crit] == [("critical", "oomkilled")]
    assert crit[0]["message"] == f"pod {pod['name']}: OOMKilled ({crit[0]['value']} restarts)"


def test_unready_annotation_keeps_readiness_false(k8s_lab, scen_namespace):
    create_deployment(k8s_lab, scen_namespace, "slow", replicas=2, fault="unready")
    time.sleep(3)  # KWOK's own pod-ready stage (the fast one) would have made them ready at once
    assert kubectl_pods(k8s_lab, scen_namespace, "slow", READY).split() == ["Running/false", "Running/false"]
    assert all(p.status.container_statuses[0].state.running for p in pods(k8s_lab, scen_namespace, "slow"))
    assert read_deployment(k8s_lab, scen_namespace, "slow").status.ready_replicas is None
    result = status(k8s_lab, scen_namespace, "slow")
    ready = [f for f in result["findings"] if f["check"] == "workload_ready"]
    assert [(f["status"], f["value"], f["message"]) for f in ready] == [
        ("critical", 0, f"{scen_namespace}/slow has 0 of 2 replicas ready")]
    assert [f for f in result["findings"] if f["check"] == "workload_pod"] == []
