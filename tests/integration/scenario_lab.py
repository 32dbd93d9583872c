"""Shared pieces of the availability-scenario drills (restart-all, app-unresponsive, health-check
workloads, deploy, api-down): a namespace of our own on the lab's Kubernetes with Deployments,
and `opsbook run` with variables from a file, returning the JSON report.

Import the fixtures into a test module: ``from tests.integration.scenario_lab import scen_namespace``.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.helpers import poll, run_cli


def apps(k8s_lab):
    from kubernetes import client

    return client.AppsV1Api(k8s_lab["api_client"])


@pytest.fixture
def scen_namespace(k8s_lab):
    """A fresh namespace ``scen-<random>`` (deleted afterwards)."""
    from kubernetes import client

    core = client.CoreV1Api(k8s_lab["api_client"])
    name = f"scen-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}}, _request_timeout=10)
    poll(lambda: any(sa.metadata.name == "default"
                     for sa in core.list_namespaced_service_account(name, _request_timeout=5).items))
    yield name
    core.delete_namespace(name, _request_timeout=10)


def create_deployment(k8s_lab, namespace, name, replicas=2, image="lab.local/app:1"):
    labels = {"app.kubernetes.io/name": name}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": image}]}}}}
    apps(k8s_lab).create_namespaced_deployment(namespace, body, _request_timeout=10)
    poll(lambda: (read_deployment(k8s_lab, namespace, name).status.ready_replicas or 0) == replicas, timeout=60)


def read_deployment(k8s_lab, namespace, name):
    return apps(k8s_lab).read_namespaced_deployment(name, namespace, _request_timeout=5)


def revision(k8s_lab, namespace, name) -> int:
    return int(read_deployment(k8s_lab, namespace, name).metadata.annotations["deployment.kubernetes.io/revision"])


def replica_sets(k8s_lab, namespace, name) -> int:
    sets = apps(k8s_lab).list_namespaced_replica_set(namespace, label_selector=f"app.kubernetes.io/name={name}",
                                                     _request_timeout=5).items
    return len(sets)


def run_scenario(tmp_path, scenario, variables, *flags, inventory=None):
    """`opsbook run SCENARIO --json -e @vars.json FLAGS` -> (completed process, report dict)."""
    extra = tmp_path / f"vars-{uuid.uuid4().hex[:6]}.json"
    extra.write_text(json.dumps(variables))
    args = ["run", scenario, "--json", "-e", f"@{extra}", *flags]
    if inventory:
        args += ["-i", str(inventory)]
    proc = run_cli(*args)
    try:
        return proc, json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON report (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def findings_by(report, check):
    """{target: finding} of the findings named ``check``."""
    return {f["target"]: f for f in report["findings"] if f["check"] == check}
