# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod and container log sources for log_scan.

Each source function returns ``[(label, lines, error), ...]`` like log_scan's file and journal
sources: a source that cannot be read carries an ``error`` text (an V(unknown) finding), never
an exception, except when the API itself is unreachable (:class:`ServiceUnreachable`, which
the module turns into a critical finding).  Lines are prefixed with the time the runtime
recorded (Kubernetes ``timestamps=true``, Docker ``timestamps=1``), so that log_scan's window
applies even to applications that print no timestamp of their own.

- pods: ``pod_selector`` (a label selector) or ``pod_workload`` (a Deployment or StatefulSet,
  whose selector is used) in ``namespace``, every container or ``pod_container``, through
  :mod:`k8s_common`, with ``since_seconds`` and ``limit_bytes`` bounded server-side.
- containers: the containers of the compose ``project`` (every service, or ``services``)
  through :mod:`docker_engine`, with ``since`` and the last ``max_lines`` lines of each.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.opsbook.runbooks.plugins.module_utils.docker import common as docker_engine
from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError, ServiceError, ServiceUnreachable

_MISSING = "__missing__"


def _read(label, func, *args, **kwargs):
    """(label, lines, error) of one log read: API errors become the source's error, unreachable raises."""
    try:
        return label, func(*args, **kwargs), None
    except ServiceUnreachable:
        raise
    except OpsbookError as exc:
        return label, [], str(exc)


def _selector(kube, params):
    """The label selector of the pods to read: the option, or the workload's own selector (None: no such workload)."""
    if params.get("pod_selector"):
        return params["pod_selector"]
    for read in (kube.apps.read_namespaced_deployment, kube.apps.read_namespaced_stateful_set):
        try:
            obj = kube.call(read, params["pod_workload"], kube.namespace, not_found=_MISSING)
        except ServiceError as exc:
            if str(exc) == _MISSING:
                continue
            raise
        return k8s_common.selector_string(obj.spec.selector.match_labels)
    return None


def pod_sources(params, since_minutes, max_bytes):
    """Logs of the matching pods' containers over the last ``since_minutes``."""
    kube = k8s_common.Kube(params, params.get("timeout"))
    where = "pods of %s in %s" % (params.get("pod_workload") or params.get("pod_selector"), kube.namespace)
    try:
        selector = _selector(kube, params)
    except ServiceUnreachable:
        raise
    except OpsbookError as exc:
        return [(where, [], str(exc))]
    if selector is None:
        return [(where, [], "no Deployment or StatefulSet %s in namespace %s" % (params["pod_workload"], kube.namespace))]
    pods = kube.call(kube.core.list_namespaced_pod, kube.namespace, label_selector=selector).items
    if not pods:
        return [(where, [], "no pods match %s in namespace %s" % (selector, kube.namespace))]

    def read_log(pod, container):
        text = kube.call(kube.core.read_namespaced_pod_log, pod, kube.namespace, container=container, timestamps=True,
                         since_seconds=max(1, int(since_minutes * 60)), limit_bytes=max_bytes,
                         not_found="pod %s is gone" % pod)
        return (text or "").splitlines()

    sources = []
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        containers = [c.name for c in pod.spec.containers]
        if params.get("pod_container"):
            containers = [c for c in containers if c == params["pod_container"]]
        if not containers:
            sources.append(("pod/%s/%s" % (kube.namespace, pod.metadata.name), [],
                            "pod has no container %s" % params["pod_container"]))
        for container in containers:
            label = "pod/%s/%s/%s" % (kube.namespace, pod.metadata.name, container)
            sources.append(_read(label, read_log, pod.metadata.name, container))
    return sources


def container_sources(params, since_minutes, max_lines):
    """Logs (stdout and stderr) of the compose project's containers over the last ``since_minutes``."""
    engine = docker_engine.engine(params, params.get("timeout"))
    project = params["project"]
    since = time.time() - since_minutes * 60

    def read_log(container_id):
        return [entry["line"] for entry in engine.logs(container_id, since=since, tail=max_lines, timestamps=True)]

    sources = []
    for service in params.get("services") or [None]:
        matched = engine.containers(project=project, service=service)
        if not matched:
            sources.append(("compose/%s/%s" % (project, service or "*"), [], "no containers of compose project %s%s" % (
                project, " service %s" % service if service else "")))
        for container in matched:
            sources.append(_read("container/%s" % container["Names"][0].lstrip("/"), read_log, container["Id"]))
    return sources
