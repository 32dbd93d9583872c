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
  the ``kubernetes`` client (to move onto the shared k8s_common helper), with ``since_seconds`` and ``limit_bytes`` bounded server-side.
- containers (compose project/service through docker_engine) come with the shared Docker helper.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
except ImportError:  # pragma: no cover - exercised by ansible-test import sanity
    k8s_client = k8s_config = None
    HAS_KUBERNETES = False

    class ApiException(Exception):
        """Stand-in so that the except clauses below stay valid without the library."""

from ansible_collections.opsbook.runbooks.plugins.module_utils.errors import (
    MissingDependency,
    OpsbookError,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

_MISSING = "__missing__"


class _Kube(object):
    """A client bound to one namespace and request timeout (the shape of k8s_common.Kube)."""

    def __init__(self, params, timeout=None):
        if not HAS_KUBERNETES:
            raise MissingDependency("kubernetes")
        try:
            api_client = k8s_config.new_client_from_config(config_file=params.get("kubeconfig"), context=params.get("context"))
        except Exception as exc:  # the config loader raises several types
            raise ServiceUnreachable(scrub("cannot load the kubeconfig: %s" % exc))
        api_client.configuration.retries = False
        self.namespace = params.get("namespace") or "default"
        self.timeout = min(float(timeout or 30), 30)
        self.apps = k8s_client.AppsV1Api(api_client)
        self.core = k8s_client.CoreV1Api(api_client)

    def call(self, func, *args, **kwargs):
        not_found = kwargs.pop("not_found", None)
        kwargs["_request_timeout"] = self.timeout
        try:
            return func(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 404 and not_found:
                raise ServiceError(not_found)
            if exc.status in (None, 0):
                raise ServiceUnreachable("Kubernetes API is unreachable: %s" % scrub(exc.reason))
            raise ServiceError(scrub("Kubernetes API error %s: %s" % (exc.status, exc.reason)))
        except Exception as exc:  # urllib3 connection errors and timeouts
            raise ServiceUnreachable("Kubernetes API is unreachable: %s within %ss" % (exc.__class__.__name__, self.timeout))


def _selector_string(match_labels):
    return ",".join("%s=%s" % item for item in sorted((match_labels or {}).items()))


def _selector(kube, params):
    """The label selector of the pods to read: the option, or the workload's own selector."""
    if params.get("pod_selector"):
        return params["pod_selector"]
    name, namespace = params["pod_workload"], kube.namespace
    for read in (kube.apps.read_namespaced_deployment, kube.apps.read_namespaced_stateful_set):
        try:
            obj = kube.call(read, name, namespace, not_found=_MISSING)
        except ServiceError as exc:
            if str(exc) == _MISSING:
                continue
            raise
        return _selector_string(obj.spec.selector.match_labels)
    return None


def pod_sources(params, since_minutes, max_bytes):
    """Logs of the matching pods' containers over the last ``since_minutes``."""
    kube = _Kube(params, params.get("timeout"))
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
    sources = []
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        containers = [c.name for c in pod.spec.containers]
        if params.get("pod_container"):
            containers = [c for c in containers if c == params["pod_container"]]
        for container in containers:
            label = "pod/%s/%s/%s" % (kube.namespace, pod.metadata.name, container)
            try:
                text = kube.call(kube.core.read_namespaced_pod_log, pod.metadata.name, kube.namespace,
                                 container=container, timestamps=True, since_seconds=max(1, int(since_minutes * 60)),
                                 limit_bytes=max_bytes, not_found="pod %s is gone" % pod.metadata.name)
            except ServiceUnreachable:
                raise
            except OpsbookError as exc:
                sources.append((label, [], str(exc)))
                continue
            sources.append((label, (text or "").splitlines(), None))
        if not containers:
            sources.append(("pod/%s/%s" % (kube.namespace, pod.metadata.name), [],
                            "pod has no container %s" % params["pod_container"]))
    return sources
