"""Shared pieces of the availability-scenario drills (restart-all, app-unresponsive, health-check
workloads, deploy, api-down): a namespace of our own on the lab's Kubernetes with Deployments,
and `opsbook run` with variables from a file, returning the JSON report.

Import the fixtures into a test module: ``from tests.integration.scenario_lab import scen_namespace``.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.helpers import poll, run_cli
from tests.integration.k8s_seed import scratch_namespace


def apps(k8s_lab):
    from kubernetes import client

    return client.AppsV1Api(k8s_lab["api_client"])


@pytest.fixture
def scen_namespace(k8s_lab):
    """A fresh namespace ``scen-<random>`` (deleted afterwards)."""
    with scratch_namespace(k8s_lab, "scen") as name:
        yield name


def create_deployment(k8s_lab, namespace, name, replicas=2, image="lab.local/app:1", fault=None):
    """A Deployment, waited for until all replicas are ready; with ``fault`` (a KWOK fault stage
    of the lab: crashloop, oomkilled, unready) its pods carry the fault annotation, and then (as with
    an image the lab cannot pull) the wait is for every pod to have container statuses instead."""
    from opsbook.lab.kubernetes import BAD_IMAGE_SUFFIX, FAULT_ANNOTATION

    labels = {"app.kubernetes.io/name": name}
    meta = {"labels": labels, "annotations": {FAULT_ANNOTATION: fault}} if fault else {"labels": labels}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": meta,
                                  "spec": {"containers": [{"name": name, "image": image}]}}}}
    apps(k8s_lab).create_namespaced_deployment(namespace, body, _request_timeout=10)
    if fault or image.endswith(BAD_IMAGE_SUFFIX):
        poll(lambda: len([p for p in pods(k8s_lab, namespace, name) if p.status.container_statuses]) == replicas, timeout=60)
    else:
        poll(lambda: (read_deployment(k8s_lab, namespace, name).status.ready_replicas or 0) == replicas, timeout=60)


def pods(k8s_lab, namespace, name):
    """The pods of Deployment ``name`` (by its app.kubernetes.io/name label), sorted by name."""
    from kubernetes import client

    items = client.CoreV1Api(k8s_lab["api_client"]).list_namespaced_pod(
        namespace, label_selector=f"app.kubernetes.io/name={name}", _request_timeout=5).items
    return sorted(items, key=lambda p: p.metadata.name)


def kubectl_pods(k8s_lab, namespace, name, jsonpath):
    """`kubectl get pods -l app.kubernetes.io/name=NAME -o jsonpath=...`: what an SRE reads by hand."""
    out = subprocess.run(["kubectl", "--kubeconfig", k8s_lab["kubeconfig"], "-n", namespace, "get", "pods",
                          "-l", f"app.kubernetes.io/name={name}", "--sort-by=.metadata.name", "-o", f"jsonpath={jsonpath}"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


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


def findings_by(report, check, phase=None):
    """{target: finding} of the findings named ``check`` (of ``phase`` when given).

    Two findings of one check for the same target fail the test: a dict would keep only the last.
    """
    found = {}
    for f in report["findings"]:
        if f["check"] != check or (phase and f["phase"] != phase):
            continue
        assert f["target"] not in found, f"two {check} findings for {f['target']}: {found[f['target']]} and {f}"
        found[f["target"]] = f
    return found


class HealthServer:
    """A JSON health endpoint on 127.0.0.1: ``answer()`` -> (HTTP code, body dict) per request.

    ``with HealthServer(answer) as url: ...`` serves ``url`` (path /health) and stops on exit.
    """

    def __init__(self, answer, path="/health"):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                code, body = answer()
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self.url

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
