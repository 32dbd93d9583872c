"""The workload module's Kubernetes backend against the lab's control plane (KWOK node).

KWOK pods turn Running/Ready without running a container, so a bad image tag cannot produce
ImagePullBackOff here; the rollout, scale, restart, update and rollback mechanics are real.
A crash loop with failing readiness is simulated honestly by writing what a kubelet would
report into one pod's status through the API (test_crashloop_shows_in_status).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab

pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

from tests.helpers import poll, run_module  # noqa: E402
from tests.integration.k8s_seed import scratch_namespace  # noqa: E402


@pytest.fixture
def namespace(k8s_lab):
    with scratch_namespace(k8s_lab, "wl") as name:
        yield name


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


def _replica_sets(k8s_lab, ns):
    sets = _apps(k8s_lab).list_namespaced_replica_set(ns, _request_timeout=5).items
    return {int(rs.metadata.annotations["deployment.kubernetes.io/revision"]): rs for rs in sets}


def test_update_then_rollback_returns_to_the_old_image_and_replicaset(k8s_lab, api_deployment):
    ns = api_deployment["namespace"]
    assert run_module("workload", dict(api_deployment, operation="wait")).get("failed") is not True
    dry = run_module("workload", dict(api_deployment, operation="update", image="lab.local/api:2"), check_mode=True)
    assert dry.get("failed") is not True, dry
    assert (dry["changed"], dry["actions"][0]["dry_run"], dry["previous_image"], dry["revision"]) == (True, True, "lab.local/api:1", 1)
    assert sorted(_replica_sets(k8s_lab, ns)) == [1]

    updated = run_module("workload", dict(api_deployment, operation="update", image="lab.local/api:2"))
    assert updated.get("failed") is not True, updated
    assert (updated["previous_image"], updated["image"], updated["container"]) == ("lab.local/api:1", "lab.local/api:2", "api")
    assert (updated["previous_revision"], updated["revision"], updated["ready_replicas"]) == (1, 2, 2)
    dep = _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5)
    assert dep.spec.template.spec.containers[0].image == "lab.local/api:2" and updated["images"] == {"api": "lab.local/api:2"}
    original = _replica_sets(k8s_lab, ns)[1].metadata.name

    again = run_module("workload", dict(api_deployment, operation="update", image="lab.local/api:2"))
    assert (again["changed"], again["revision"]) == (False, 2)
    assert again["message"] == f"container api of deployment {ns}/api already runs lab.local/api:2"

    back = run_module("workload", dict(api_deployment, operation="rollback"))
    assert back.get("failed") is not True, back
    assert (back["rolled_back_to"], back["previous_revision"], back["revision"]) == (1, 2, 3)
    assert (back["previous_images"], back["restored_images"], back["images"]) == (
        {"api": "lab.local/api:2"}, {"api": "lab.local/api:1"}, {"api": "lab.local/api:1"})
    sets = _replica_sets(k8s_lab, ns)
    assert sorted(sets) == [2, 3]  # kubectl rollout undo semantics: the old ReplicaSet becomes revision 3
    assert sets[3].metadata.name == original and sets[3].status.ready_replicas == 2 and sets[2].spec.replicas == 0
    assert sets[3].metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    dep = _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5)
    assert dep.spec.template.spec.containers[0].image == "lab.local/api:1"
    assert "pod-template-hash" not in dep.spec.template.metadata.labels

    missing = run_module("workload", dict(api_deployment, operation="rollback", revision=7))
    assert missing["failed"] is True
    assert missing["msg"] == f"revision: deployment {ns}/api has no revision 7 (revisions kept: 2, 3)"
    forward = run_module("workload", dict(api_deployment, operation="rollback", revision=2), check_mode=True)
    assert (forward["changed"], forward["rolled_back_to"], forward["restored_images"]) == (True, 2, {"api": "lab.local/api:2"})
    assert sorted(_replica_sets(k8s_lab, ns)) == [2, 3]  # check mode changed nothing


def test_rollback_without_history_is_refused(k8s_lab, api_deployment):
    ns = api_deployment["namespace"]
    assert run_module("workload", dict(api_deployment, operation="wait")).get("failed") is not True
    refused = run_module("workload", dict(api_deployment, operation="rollback"))
    assert refused["failed"] is True
    assert refused["msg"] == (f"rollback: deployment {ns}/api has no previous revision to roll back to "
                              "(current revision 1, revisions kept: 1)")


def test_update_of_a_two_container_pod_needs_the_container(k8s_lab, namespace):
    labels = {"app.kubernetes.io/name": "duo"}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "duo"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "lab.local/app:1"},
                                                          {"name": "proxy", "image": "lab.local/proxy:1"}]}}}}
    _apps(k8s_lab).create_namespaced_deployment(namespace, body, _request_timeout=10)
    args = {"kind": "kubernetes", "name": "duo", "namespace": namespace, "kubeconfig": k8s_lab["kubeconfig"], "timeout": 60,
            "operation": "update", "image": "lab.local/app:2"}
    unnamed = run_module("workload", args)
    assert unnamed["msg"] == f"container: deployment {namespace}/duo has 2 containers (app, proxy); name the one to update"
    wrong = run_module("workload", dict(args, container="web"))
    assert wrong["msg"] == f"container: deployment {namespace}/duo has no container 'web' (containers: app, proxy)"
    done = run_module("workload", dict(args, container="app"))
    assert done.get("failed") is not True, done
    assert done["images"] == {"app": "lab.local/app:2", "proxy": "lab.local/proxy:1"}
    dep = _apps(k8s_lab).read_namespaced_deployment("duo", namespace, _request_timeout=5)
    assert [c.image for c in dep.spec.template.spec.containers] == ["lab.local/app:2", "lab.local/proxy:1"]


def test_stop_needs_confirm_and_start_restores_the_replicas(k8s_lab, api_deployment):
    ns = api_deployment["namespace"]
    assert run_module("workload", dict(api_deployment, operation="wait")).get("failed") is not True
    refused = run_module("workload", dict(api_deployment, operation="stop"))
    assert refused["msg"] == "confirm: stopping api takes it out of service; set confirm to 'api' to proceed"
    dry = run_module("workload", dict(api_deployment, operation="stop", confirm="api"), check_mode=True)
    assert dry["actions"][0]["dry_run"] is True
    assert _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5).spec.replicas == 2
    stopped = run_module("workload", dict(api_deployment, operation="stop", confirm="api"))
    assert stopped.get("failed") is not True, stopped
    dep = _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5)
    assert (dep.spec.replicas, dep.metadata.annotations["opsbook.io/replicas-before-stop"]) == (0, "2")
    assert (stopped["desired"], stopped["ready_replicas"], stopped["status"]) == (0, 0, "ok")
    started = run_module("workload", dict(api_deployment, operation="start"))
    assert started.get("failed") is not True, started
    dep = _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5)
    assert (dep.spec.replicas, dep.status.ready_replicas, started["ready_replicas"]) == (2, 2, 2)
    assert "opsbook.io/replicas-before-stop" not in (dep.metadata.annotations or {})
    idle = run_module("workload", dict(api_deployment, operation="start"))
    assert (idle["changed"], idle["message"]) == (False, f"deployment {ns}/api is not stopped (2 replicas desired)")


def test_crashloop_shows_in_status(k8s_lab, api_deployment):
    """KWOK runs no container: annotating one running pod with the lab's fault annotation makes the
    KWOK node report it in CrashLoopBackOff with a rising restartCount (what the kubelet would)."""
    from opsbook.lab.kubernetes import FAULT_ANNOTATION

    ns = api_deployment["namespace"]
    assert run_module("workload", dict(api_deployment, operation="wait")).get("failed") is not True
    core = client.CoreV1Api(k8s_lab["api_client"])
    pod = sorted(core.list_namespaced_pod(ns, _request_timeout=5).items, key=lambda p: p.metadata.name)[0]
    core.patch_namespaced_pod(pod.metadata.name, ns, {"metadata": {"annotations": {FAULT_ANNOTATION: "crashloop"}}},
                              _request_timeout=5)
    # the Deployment controller counts the pod as not ready
    poll(lambda: _apps(k8s_lab).read_namespaced_deployment("api", ns, _request_timeout=5).status.ready_replicas == 1, timeout=30)
    result = run_module("workload", api_deployment)
    assert (result["ready_replicas"], result["ready"]) == (1, False)
    ready = [f for f in result["findings"] if f["check"] == "workload_ready"]
    assert [(f["status"], f["message"]) for f in ready] == [("warning", f"{ns}/api has 1 of 2 replicas ready")]
    rows = {p["name"]: p for p in result["pods"]}
    restarts = core.read_namespaced_pod(pod.metadata.name, ns, _request_timeout=5).status.container_statuses[0].restart_count
    row = rows[pod.metadata.name]
    assert (row["reason"], row["last_terminated"], row["ready"]) == ("CrashLoopBackOff", "Error", False)
    assert 1 <= row["restarts"] <= restarts  # read before, and still rising
    crit = [f for f in result["findings"] if f["check"] == "workload_pod"]
    assert [(f["status"], f["target"], f["message"]) for f in crit] == [
        ("critical", pod.metadata.name, f"pod {pod.metadata.name}: CrashLoopBackOff ({row['restarts']} restarts)")]
    assert result["status"] == "critical"
    waited = run_module("workload", dict(api_deployment, operation="wait", timeout=2))
    assert waited["failed"] is True
    assert waited["msg"].startswith(f"rollout of deployment {ns}/api not complete after 2.0s: 2 of 2 replicas updated, 1 ready; "
                                    f"pod {pod.metadata.name}: CrashLoopBackOff (")


@pytest.fixture
def worker_statefulset(k8s_lab, namespace):
    labels = {"app.kubernetes.io/name": "worker"}
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "worker"},
            "spec": {"replicas": 2, "serviceName": "worker", "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "worker", "image": "lab.local/worker:1"}]}}}}
    _apps(k8s_lab).create_namespaced_stateful_set(namespace, body, _request_timeout=10)
    return {"kind": "kubernetes", "resource": "statefulset", "name": "worker", "namespace": namespace,
            "kubeconfig": k8s_lab["kubeconfig"], "timeout": 60}


def _controller_revisions(k8s_lab, ns):
    return {cr.revision: cr for cr in _apps(k8s_lab).list_namespaced_controller_revision(ns, _request_timeout=5).items}


def test_statefulset_status_restart_update_rollback_scale(k8s_lab, worker_statefulset):
    ns = worker_statefulset["namespace"]
    waited = run_module("workload", dict(worker_statefulset, operation="wait"))
    assert waited.get("failed") is not True, waited
    sts = _apps(k8s_lab).read_namespaced_stateful_set("worker", ns, _request_timeout=5)
    assert (waited["desired"], waited["ready_replicas"], waited["revision"], waited["resource"]) == (2, 2, 1, "statefulset")
    assert waited["update_revision"] == sts.status.update_revision == _controller_revisions(k8s_lab, ns)[1].metadata.name

    restarted = run_module("workload", dict(worker_statefulset, operation="restart"))
    assert restarted.get("failed") is not True, restarted
    assert (restarted["previous_revision"], restarted["revision"], restarted["ready_replicas"]) == (1, 2, 2)
    updated = run_module("workload", dict(worker_statefulset, operation="update", image="lab.local/worker:2"))
    assert updated.get("failed") is not True, updated
    assert (updated["previous_image"], updated["revision"]) == ("lab.local/worker:1", 3)
    back = run_module("workload", dict(worker_statefulset, operation="rollback"))
    assert back.get("failed") is not True, back
    assert (back["rolled_back_to"], back["revision"], back["images"]) == (2, 4, {"worker": "lab.local/worker:1"})
    sts = _apps(k8s_lab).read_namespaced_stateful_set("worker", ns, _request_timeout=5)
    assert sts.spec.template.spec.containers[0].image == "lab.local/worker:1"
    revisions = _controller_revisions(k8s_lab, ns)
    assert sorted(revisions) == [1, 3, 4]  # revision 2's ControllerRevision was reused as 4, as kubectl undo does
    assert sts.status.update_revision == sts.status.current_revision == revisions[4].metadata.name
    assert "kubectl.kubernetes.io/restartedAt" in sts.spec.template.metadata.annotations

    scaled = run_module("workload", dict(worker_statefulset, operation="scale", replicas=3))
    assert scaled.get("failed") is not True, scaled
    assert _apps(k8s_lab).read_namespaced_stateful_set("worker", ns, _request_timeout=5).status.ready_replicas == 3
    pods = client.CoreV1Api(k8s_lab["api_client"]).list_namespaced_pod(ns, _request_timeout=5).items
    assert sorted(p.metadata.name for p in pods) == sorted(p["name"] for p in scaled["pods"]) == ["worker-0", "worker-1", "worker-2"]


def test_ref_names_the_workload_and_the_module_options_fill_the_rest(k8s_lab, api_deployment, worker_statefulset):
    """`ref` as inventories write it: the namespace and kubeconfig come from the module's options (module_defaults
    from opsbook_kubernetes), unless a dict reference says its own namespace."""
    ns = api_deployment["namespace"]
    options = {"namespace": ns, "kubeconfig": k8s_lab["kubeconfig"], "timeout": 60}
    by_kind = run_module("workload", dict(api_deployment, operation="wait"))
    for ref in ("deployment/api", "api", {"name": "api"}, {"kind": "kubernetes", "name": "api", "label": "deployment/api"}):
        result = run_module("workload", dict(options, ref=ref, operation="wait"))
        assert result.get("failed") is not True, (ref, result)
        assert (result["workload"], result["resource"], result["desired"], result["revision"]) == (
            by_kind["workload"], "deployment", 2, by_kind["revision"]) == (f"{ns}/api", "deployment", 2, 1)
    said = run_module("workload", dict(options, namespace="default", ref={"name": "api", "namespace": ns}))
    assert said["workload"] == f"{ns}/api" and said["status"] == "ok"
    sts = run_module("workload", dict(options, ref="statefulset/worker", operation="wait"))
    assert (sts.get("failed"), sts["resource"], sts["workload"]) == (None, "statefulset", f"{ns}/worker")
    restarted = run_module("workload", dict(options, ref="deployment/api", operation="restart"))
    assert (restarted["previous_revision"], restarted["revision"]) == (1, 2)
    missing = run_module("workload", dict(options, ref="statefulset/api"))  # the resource the reference says is used
    assert missing["failed"] is True and missing["msg"] == f"statefulset {ns}/api not found", missing


@pytest.mark.parametrize("args, message", [
    ({"ref": "pod/api"}, "ref: unknown prefix 'pod' in 'pod/api' (use one of compose, deploy, deployment, kubernetes, "
                         "statefulset, sts, systemd, or a dict)"),
    ({"ref": {"name": "api", "replica": 2}}, "ref: unknown key(s) replica (known: kind, name, resource, namespace, project, "
                                              "docker_host, replicas)"),
    ({"ref": "api", "name": "api"}, "parameters are mutually exclusive: ref|name"),
    ({"ref": "api", "kind": "kubernetes"}, "parameters are mutually exclusive: ref|kind"),
    ({}, "one of the following is required: ref, name"),
    ({"name": "api"}, "parameters are required together: kind, name"),
])
def test_bad_ref_names_the_option(args, message):
    result = run_module("workload", args)
    assert result["failed"] is True and result["msg"] == message, result
