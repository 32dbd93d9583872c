"""Pod reasons read from a pod's status as the kubelet writes it (the lab's KWOK fault stages write
the same fields): state.waiting.reason, lastState.terminated.reason, restartCount, ready."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest
import yaml

from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import kubernetes_backend as kb


def _obj(value):
    """A kubectl-style JSON dict as the attribute tree the kubernetes client returns (snake_case)."""
    if isinstance(value, dict):
        return types.SimpleNamespace(**{re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): _obj(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_obj(v) for v in value]
    return value


def _container(name="app", ready=True, restarts=0, waiting=None, last=None, running=False):
    status = {"name": name, "ready": ready, "restartCount": restarts,
              "state": {"waiting": {"reason": waiting} if waiting else None,
                        "running": {"startedAt": "2026-12-02T03:00:00Z"} if running else None},
              "lastState": {"terminated": {"reason": last, "exitCode": 137 if last == "OOMKilled" else 1} if last else None}}
    return status


def _pod(*containers, phase="Running", name="api-1"):
    return _obj({"metadata": {"name": name}, "status": {"phase": phase, "containerStatuses": list(containers)}})


@pytest.mark.parametrize("containers, phase, expected", [
    # a healthy pod
    ([_container(running=True)], "Running",
     {"ready": True, "restarts": 0, "reason": None, "waiting": None, "last_terminated": None}),
    # no status yet (just scheduled)
    ([], "Pending", {"ready": False, "restarts": 0, "reason": None, "waiting": None, "last_terminated": None}),
    # image pull error: waiting, never started
    ([_container(ready=False, waiting="ErrImagePull")], "Pending",
     {"ready": False, "restarts": 0, "reason": "ErrImagePull", "waiting": "ErrImagePull", "last_terminated": None}),
    ([_container(ready=False, waiting="ImagePullBackOff")], "Pending",
     {"ready": False, "restarts": 0, "reason": "ImagePullBackOff", "waiting": "ImagePullBackOff", "last_terminated": None}),
    # crash loop: the waiting reason wins over the last exit
    ([_container(ready=False, restarts=7, waiting="CrashLoopBackOff", last="Error")], "Running",
     {"ready": False, "restarts": 7, "reason": "CrashLoopBackOff", "waiting": "CrashLoopBackOff", "last_terminated": "Error"}),
    # OOM-killed and running again
    ([_container(restarts=3, last="OOMKilled", running=True)], "Running",
     {"ready": True, "restarts": 3, "reason": "OOMKilled", "waiting": None, "last_terminated": "OOMKilled"}),
    # two containers: restarts add up, OOMKilled beats another container's Error, one not ready -> pod not ready
    ([_container("a", restarts=2, last="Error", running=True), _container("b", ready=False, restarts=4, last="OOMKilled")],
     "Running", {"ready": False, "restarts": 6, "reason": "OOMKilled", "waiting": None, "last_terminated": "OOMKilled"}),
    # a waiting reason that is no failure (ContainerCreating) is not a reason
    ([_container(ready=False, waiting="ContainerCreating")], "Pending",
     {"ready": False, "restarts": 0, "reason": None, "waiting": None, "last_terminated": None}),
])
def test_pod_row_reads_the_kubelet_fields(containers, phase, expected):
    row = kb.pod_row(_pod(*containers, phase=phase))
    assert row == dict(expected, name="api-1", phase=phase)


@pytest.mark.parametrize("row, message", [
    ({"reason": "CrashLoopBackOff", "last_terminated": "Error", "restarts": 5}, "pod p: CrashLoopBackOff (5 restarts)"),
    ({"reason": "CrashLoopBackOff", "last_terminated": "OOMKilled", "restarts": 5},
     "pod p: CrashLoopBackOff, last terminated OOMKilled (5 restarts)"),
    ({"reason": "OOMKilled", "last_terminated": "OOMKilled", "restarts": 2}, "pod p: OOMKilled (2 restarts)"),
    ({"reason": "ErrImagePull", "last_terminated": None, "restarts": 0}, "pod p: ErrImagePull (0 restarts)"),
    ({"reason": "Error", "last_terminated": "Error", "restarts": 1}, None),  # an old exit of a running pod: no problem
    ({"reason": None, "last_terminated": None, "restarts": 0}, None),
])
def test_pod_problem(row, message):
    assert kb.pod_problem(dict(row, name="p")) == message


def test_findings_carry_reason_as_state_and_restarts_as_value():
    summary = {"ready_replicas": 1, "desired": 2}
    pods = [kb.pod_row(_pod(_container(ready=False, restarts=9, waiting="CrashLoopBackOff", last="Error"), name="api-a")),
            kb.pod_row(_pod(_container(running=True), name="api-b"))]
    findings = kb.findings_for(summary, pods, "ns/api")
    assert [(f["check"], f["status"], f["value"], f["state"], f["unit"], f["target"]) for f in findings] == [
        ("workload_ready", "warning", 1, None, "replicas", "ns/api"),
        ("workload_pod", "critical", 9, "crashloopbackoff", "restarts", "api-a"),
    ]


def test_lab_fault_stages_select_what_the_lab_documents():
    """The KWOK stages the lab installs: one per fault annotation value and one pair for the bad tag,
    each weighted above KWOK's own pod-ready stage (weight 0) so a selected pod never turns Ready."""
    from opsbook.lab import kubernetes as lab_k8s

    stages = [d for d in yaml.safe_load_all(Path(lab_k8s.FAULT_STAGES).read_text()) if d]
    assert {s["kind"] for s in stages} == {"Stage"}
    assert all(s["spec"]["weight"] >= 1 for s in stages)
    annotated = sorted(s["spec"]["selector"]["matchAnnotations"][lab_k8s.FAULT_ANNOTATION]
                       for s in stages if "matchAnnotations" in s["spec"]["selector"])
    assert annotated == sorted(lab_k8s.FAULTS)
    keys = [e["key"] for s in stages for e in s["spec"]["selector"].get("matchExpressions", [])]
    assert any('endswith("%s")' % lab_k8s.BAD_IMAGE_SUFFIX in k for k in keys)
    templates = "\n".join(s["spec"]["next"]["statusTemplate"] for s in stages)
    for reason in ("ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "OOMKilled"):
        assert "reason: %s" % reason in templates


def test_pod_problems_names_at_most_five_failing_pods():
    rows = [{"name": "p%d" % i, "reason": "ErrImagePull", "last_terminated": None, "restarts": 0} for i in range(7)]
    rows.insert(3, {"name": "ok", "reason": None, "last_terminated": None, "restarts": 0})
    assert kb.pod_problems(rows) == "".join("; pod p%d: ErrImagePull (0 restarts)" % i for i in range(5)) + "; 2 more failing pods"
    assert kb.pod_problems(rows[:2]) == "; pod p0: ErrImagePull (0 restarts); pod p1: ErrImagePull (0 restarts)"
    assert kb.pod_problems([rows[3]]) == ""
