"""A namespace of our own on the lab's Kubernetes holding Deployments named like a seed system's.

Built with the lab's own profile code (the same objects `opsbook lab up --profile` creates), so
the drills act on the shape the seed inventories describe without touching the shared profile
namespaces (techbra-test, production).
"""

from __future__ import annotations

import contextlib
import uuid

from tests.helpers import poll


@contextlib.contextmanager
def scratch_namespace(k8s_lab, prefix: str):
    """Create an empty namespace ``<prefix>-<random>``, wait for its default service account (pods
    need it), delete it after."""
    from kubernetes import client

    core = client.CoreV1Api(k8s_lab["api_client"])
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}}, _request_timeout=10)
    try:
        poll(lambda: any(sa.metadata.name == "default"
                         for sa in core.list_namespaced_service_account(name, _request_timeout=5).items))
        yield name
    finally:
        core.delete_namespace(name, _request_timeout=10)


@contextlib.contextmanager
def seed_namespace(k8s_lab, prefix: str, deployments: dict, statefulsets: dict | None = None):
    """Create ``<prefix>-<random>`` with ``{name: replicas}`` Deployments (and StatefulSets), wait until Ready,
    delete it after."""
    from kubernetes import client

    from opsbook.lab.profiles import apply_objects, kubernetes_manifests, workloads_ready

    api = k8s_lab["api_client"]
    core = client.CoreV1Api(api)
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    objs = kubernetes_manifests({"namespace": name,
                                 "deployments": [{"name": d, "replicas": r} for d, r in deployments.items()],
                                 "statefulsets": [{"name": d, "replicas": r} for d, r in (statefulsets or {}).items()]})
    apply_objects(api, objs[:1])
    poll(lambda: any(sa.metadata.name == "default"
                     for sa in core.list_namespaced_service_account(name, _request_timeout=5).items))
    try:
        apply_objects(api, objs[1:])
        poll(lambda: workloads_ready(api, objs), timeout=60, interval=0.5)
        yield name
    finally:
        core.delete_namespace(name, _request_timeout=10)


def deployment(k8s_lab, namespace: str, name: str):
    from kubernetes import client

    return client.AppsV1Api(k8s_lab["api_client"]).read_namespaced_deployment(name, namespace, _request_timeout=5)


def replica_set_revisions(k8s_lab, namespace: str, name: str) -> list[int]:
    """Revisions of the ReplicaSets that Deployment ``name`` owns, sorted."""
    from kubernetes import client

    sets = client.AppsV1Api(k8s_lab["api_client"]).list_namespaced_replica_set(namespace, _request_timeout=5).items
    return sorted(int(rs.metadata.annotations["deployment.kubernetes.io/revision"]) for rs in sets
                  if any(ref.name == name for ref in rs.metadata.owner_references or []))


def statefulset_revision(k8s_lab, namespace: str, name: str) -> tuple[str, str]:
    """(currentRevision, updateRevision) of a StatefulSet: they differ while a rolling restart is under way."""
    from kubernetes import client

    sts = client.AppsV1Api(k8s_lab["api_client"]).read_namespaced_stateful_set(name, namespace, _request_timeout=5)
    return sts.status.current_revision, sts.status.update_revision
