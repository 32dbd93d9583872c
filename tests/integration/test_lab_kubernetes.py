"""The lab's Kubernetes: a real kube-apiserver/controller-manager/scheduler with a KWOK node.

Each test works in a namespace of its own and deletes it. Waits are bounded polls of the
real API; assertions are on the API's own numbers.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest

pytestmark = pytest.mark.lab

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

from tests.helpers import poll  # noqa: E402


@pytest.fixture
def namespace(k8s_lab):
    core = client.CoreV1Api(k8s_lab["api_client"])
    name = f"k8slab-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}}, _request_timeout=10)
    poll(lambda: _has_default_sa(core, name))
    yield name
    core.delete_namespace(name, _request_timeout=10)


def _has_default_sa(core, ns):
    return any(sa.metadata.name == "default"
               for sa in core.list_namespaced_service_account(ns, _request_timeout=5).items)


def deployment(name, replicas):
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": name, "image": "lab.local/web:1"}]}}},
    }


def rolled_out(apps, ns, name):
    """kubectl's rollout-status rule: observed, updated, available all equal to the spec."""
    d = apps.read_namespaced_deployment(name, ns, _request_timeout=5)
    s = d.status
    return (s.observed_generation or 0) >= d.metadata.generation and (
        (s.updated_replicas or 0) == (s.ready_replicas or 0) == (s.available_replicas or 0) == d.spec.replicas
        and (s.replicas or 0) == d.spec.replicas) and d


def test_node_is_a_ready_kwok_node(k8s_lab):
    nodes = client.CoreV1Api(k8s_lab["api_client"]).list_node(_request_timeout=5).items
    node = next(n for n in nodes if n.metadata.name == k8s_lab["node"])
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"
    assert node.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
    version = client.VersionApi(k8s_lab["api_client"]).get_code(_request_timeout=5)
    assert version.git_version == "v1.33.13"


def test_deployment_with_two_replicas_rolls_out(k8s_lab, namespace):
    apps = client.AppsV1Api(k8s_lab["api_client"])
    core = client.CoreV1Api(k8s_lab["api_client"])
    apps.create_namespaced_deployment(namespace, deployment("web", 2), _request_timeout=10)
    d = poll(lambda: rolled_out(apps, namespace, "web"))
    assert d.status.ready_replicas == 2
    pods = core.list_namespaced_pod(namespace, _request_timeout=5).items
    assert len(pods) == 2
    assert {p.status.phase for p in pods} == {"Running"}
    assert {p.spec.node_name for p in pods} == {k8s_lab["node"]}
    if shutil.which("kubectl"):  # the real tool agrees
        out = subprocess.run(["kubectl", "--kubeconfig", k8s_lab["kubeconfig"], "-n", namespace,
                              "rollout", "status", "deployment/web", "--timeout=30s"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert 'deployment "web" successfully rolled out' in out.stdout


def test_rollout_restart_makes_a_new_replicaset_that_completes(k8s_lab, namespace):
    apps = client.AppsV1Api(k8s_lab["api_client"])
    apps.create_namespaced_deployment(namespace, deployment("api", 2), _request_timeout=10)
    poll(lambda: rolled_out(apps, namespace, "api"))
    first = apps.list_namespaced_replica_set(namespace, _request_timeout=5).items
    assert len(first) == 1
    # what `kubectl rollout restart` does: stamp the pod template
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}}}}
    apps.patch_namespaced_deployment("api", namespace, patch, _request_timeout=10)

    def restarted():
        sets = apps.list_namespaced_replica_set(namespace, _request_timeout=5).items
        return len(sets) == 2 and rolled_out(apps, namespace, "api") and sets

    sets = {rs.metadata.name: rs for rs in poll(restarted)}
    old = sets.pop(first[0].metadata.name)
    (new,) = sets.values()
    assert old.spec.replicas == 0
    assert new.status.ready_replicas == 2
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"


def test_scale_changes_ready_replicas(k8s_lab, namespace):
    apps = client.AppsV1Api(k8s_lab["api_client"])
    core = client.CoreV1Api(k8s_lab["api_client"])
    apps.create_namespaced_deployment(namespace, deployment("worker", 1), _request_timeout=10)
    poll(lambda: rolled_out(apps, namespace, "worker"))
    apps.patch_namespaced_deployment_scale("worker", namespace, {"spec": {"replicas": 3}}, _request_timeout=10)
    assert poll(lambda: rolled_out(apps, namespace, "worker")).status.ready_replicas == 3
    apps.patch_namespaced_deployment_scale("worker", namespace, {"spec": {"replicas": 1}}, _request_timeout=10)
    poll(lambda: rolled_out(apps, namespace, "worker")
         and len(core.list_namespaced_pod(namespace, _request_timeout=5).items) == 1)
    assert apps.read_namespaced_deployment("worker", namespace, _request_timeout=5).status.ready_replicas == 1


def test_techbra_profile_deployments_are_ready(k8s_lab, lab):
    from opsbook.lab.core import Lab
    from opsbook.lab.profiles import apply_profile, load_profile

    profile = load_profile("techbra")
    assert profile.services == ("kubernetes",)
    apply_profile(Lab(log=lambda *_: None), profile)
    apps = client.AppsV1Api(k8s_lab["api_client"])
    deployments = {d.metadata.name: d for d in apps.list_namespaced_deployment(
        "techbra-test", _request_timeout=5).items}
    for name in ("order-service", "billing-service", "inventory-service", "bff"):
        assert deployments[name].status.ready_replicas == deployments[name].spec.replicas == 2, name
    kafka = apps.read_namespaced_stateful_set("kafka", "techbra-test", _request_timeout=5)
    assert kafka.status.ready_replicas == 1
    pod = client.CoreV1Api(k8s_lab["api_client"]).read_namespaced_pod("kafka-0", "techbra-test", _request_timeout=5)
    assert pod.status.phase == "Running"
    # the profile's data side: topics in the lab's Kafka, the database in its PostgreSQL
    from ansible_collections.opsbook.runbooks.plugins.module_utils.kafka import common as kafka_common
    from ansible_collections.opsbook.runbooks.plugins.module_utils.postgres import common as pg

    params = {"bootstrap_servers": lab["services"]["kafka"]["bootstrap_servers"], "request_timeout": 5.0}
    topics = kafka_common.admin_client(params).list_topics(timeout=10).topics
    for topic, partitions in (("order.events", 3), ("billing.events", 3), ("inventory.events", 3),
                              ("order.events.dlq", 1)):
        assert len(topics[topic].partitions) == partitions, topic
    svc = lab["services"]["postgres"]
    with pg.connection({"host": svc["host"], "port": svc["port"], "user": svc["user"], "password": svc["password"],
                        "database": "ecommerce_db", "sslmode": "disable", "connect_timeout": 3}) as conn:
        assert pg.query_one(conn, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'orders'")["n"] == 1


def test_pod_logs_and_exec_are_simulated_by_kwok(k8s_lab, namespace):
    from kubernetes.stream import stream

    apps = client.AppsV1Api(k8s_lab["api_client"])
    core = client.CoreV1Api(k8s_lab["api_client"])
    apps.create_namespaced_deployment(namespace, deployment("logger", 1), _request_timeout=10)
    poll(lambda: rolled_out(apps, namespace, "logger"))
    pod = core.list_namespaced_pod(namespace, _request_timeout=5).items[0].metadata.name
    log = core.read_namespaced_pod_log(pod, namespace, _request_timeout=10)
    assert log.splitlines()[0] == "INFO started (simulated by the opsbook lab's KWOK node)"
    # exec runs on the lab machine as nobody, in the lab's exec dir (KWOK's local exec)
    out = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=["sh", "-c", "echo hi; id -u"],
                 stdout=True, stderr=True, stdin=False, tty=False, _request_timeout=10)
    assert out.split() == ["hi", "65534"]


def test_lab_status_prints_kubeconfig_and_docker_host(k8s_lab, docker_lab):
    from tests.helpers import run_cli

    proc = run_cli("lab", "status", timeout=120)
    lines = [line.strip() for line in proc.stdout.splitlines()]
    assert f"KUBECONFIG={k8s_lab['kubeconfig']}" in lines
    assert f"DOCKER_HOST={docker_lab['docker_host']}" in lines


def test_mlbling_profile_through_the_cli(k8s_lab, lab):
    from tests.helpers import run_cli

    proc = run_cli("lab", "up", "--profile", "mlbling", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "profile mlbling: 1 redis item(s), 6 Kubernetes object(s), workloads Ready" in proc.stdout + proc.stderr
    apps = client.AppsV1Api(k8s_lab["api_client"])
    ready = {d.metadata.name: d.status.ready_replicas
             for d in apps.list_namespaced_deployment("production", _request_timeout=5).items}
    assert ready == {"backend": 2, "frontend": 2, "worker": 1}
    config = client.CoreV1Api(k8s_lab["api_client"]).read_namespaced_config_map(
        "backend-config", "production", _request_timeout=5)
    assert config.data == {"SYNC_QUEUE": "sync_queue", "LOG_LEVEL": "info"}
    from ansible_collections.opsbook.runbooks.plugins.module_utils.redis import common as redis_common

    svc = lab["services"]["redis"]
    redis = redis_common.connect({"host": svc["host"], "port": svc["port"], "username": svc["user"],
                                  "password": svc["password"], "connect_timeout": 3.0})
    assert redis.type("sync_queue") == b"list"


def test_techbra_lab_inventory_runs_health_check(k8s_lab):
    from opsbook.lab.core import Lab
    from opsbook.lab.profiles import apply_profile, load_profile
    from tests.helpers import REPO, run_cli

    apply_profile(Lab(log=lambda *_: None), load_profile("techbra"))
    proc = run_cli("run", "health-check", "-i", str(REPO / "inventories" / "techbra-lab"), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[opsbook@127.0.0.1:" in proc.stdout and "/ecommerce_db]" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "outcome: HEALTHY  (status OK)   exit 0"
    # techbra-lab names no Redis: reported as not checked, and no verdict
    assert "NOT CHECKED" in proc.stdout and "set opsbook_redis in the inventory" in proc.stdout
