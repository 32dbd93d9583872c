"""health-check with workloads (and consumer groups) configured: one report, read-only.

Workloads live in a namespace of our own on the lab's Kubernetes (KWOK node). A Deployment whose
pods cannot be scheduled (a nodeSelector no node has) stays at 0 ready replicas: the real
"not ready" case on a node where no container runs.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab
pytest.importorskip("kubernetes")

from tests.integration.scenario_lab import (  # noqa: E402
    apps,
    create_deployment,
    findings_by,
    kubectl_pods,
    read_deployment,
    run_scenario,
    scen_namespace,  # noqa: F401 - fixture
)
from tests.kafka_lab import scratch  # noqa: E402,F401 - fixture


@pytest.fixture
def workloads(k8s_lab, scen_namespace):
    create_deployment(k8s_lab, scen_namespace, "api")
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stuck"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "stuck"}},
                     "template": {"metadata": {"labels": {"app": "stuck"}},
                                  "spec": {"nodeSelector": {"opsbook.lab/none": "true"},
                                           "containers": [{"name": "stuck", "image": "lab.local/stuck:1"}]}}}}
    apps(k8s_lab).create_namespaced_deployment(scen_namespace, body, _request_timeout=10)
    return {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": scen_namespace}}


def test_ready_workload_is_ok_and_unschedulable_one_is_critical(k8s_lab, scen_namespace, workloads, tmp_path):
    variables = dict(workloads, health_check_workloads=["api", {"name": "stuck", "namespace": scen_namespace}])
    proc, report = run_scenario(tmp_path, "health-check", variables)
    assert proc.returncode == 2, proc.stderr
    assert report["run"]["failed"] is False
    ready = findings_by(report, "workload_ready")
    api, stuck = read_deployment(k8s_lab, scen_namespace, "api"), read_deployment(k8s_lab, scen_namespace, "stuck")
    assert (ready[f"{scen_namespace}/api"]["status"], ready[f"{scen_namespace}/api"]["value"]) == ("ok", api.status.ready_replicas)
    assert ready[f"{scen_namespace}/api"]["value"] == 2
    assert (ready[f"{scen_namespace}/stuck"]["status"], ready[f"{scen_namespace}/stuck"]["value"]) == ("critical", 0)
    assert stuck.status.ready_replicas is None
    assert ready[f"{scen_namespace}/stuck"]["message"] == f"{scen_namespace}/stuck has 0 of 2 replicas ready"
    # the service checks still run in the same report, and nothing was changed
    assert {"postgres_reachable", "redis_reachable", "kafka_reachable"} <= {f["check"] for f in report["findings"]}
    assert report["actions"] == []


def test_oom_killed_pods_are_named_though_the_workload_is_ready(k8s_lab, scen_namespace, tmp_path):
    """The lab's KWOK node reports the pods OOM-killed and running again (lastState.terminated.reason
    OOMKilled, restartCount rising): every replica is ready, and health-check still names each pod."""
    create_deployment(k8s_lab, scen_namespace, "hog", fault="oomkilled")
    variables = {"opsbook_kubernetes": {"kubeconfig": k8s_lab["kubeconfig"], "namespace": scen_namespace},
                 "health_check_workloads": ["hog"]}
    proc, report = run_scenario(tmp_path, "health-check", variables)
    assert report["run"]["failed"] is False, proc.stderr
    assert proc.returncode == 2 and report["actions"] == []
    assert findings_by(report, "workload_ready")[f"{scen_namespace}/hog"]["status"] == "ok"
    last = dict(line.split() for line in kubectl_pods(
        k8s_lab, scen_namespace, "hog",
        "{range .items[*]}{.metadata.name} {.status.containerStatuses[0].lastState.terminated.reason}{'\\n'}{end}").splitlines())
    assert set(last.values()) == {"OOMKilled"} and len(last) == 2
    pod_findings = findings_by(report, "workload_pod")
    assert sorted(pod_findings) == sorted(last)
    for name, finding in pod_findings.items():
        assert (finding["status"], finding["state"]) == ("critical", "oomkilled")
        assert finding["message"] == f"pod {name}: OOMKilled ({finding['value']} restarts)" and finding["value"] >= 1


def test_consumer_lag_of_a_group_is_in_the_report(scratch, tmp_path):
    topic = scratch.topic(partitions=1)
    group = scratch.group()
    scratch.produce(topic, 30)
    scratch.commit(group, topic, {0: 10})
    proc, report = run_scenario(tmp_path, "health-check", {"health_check_kafka_groups": [group],
                                                           "health_check_kafka_lag_crit": 15})
    assert report["run"]["failed"] is False, proc.stderr
    lag = findings_by(report, "kafka_consumer_lag")[group]
    assert (lag["status"], lag["value"]) == ("critical", 20)  # 30 produced - 10 committed >= 15
