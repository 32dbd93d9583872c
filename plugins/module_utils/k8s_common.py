# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way opsbook reaches Kubernetes (the ``kubernetes`` Python client).

``kubernetes_common_argument_spec()`` is documented by the doc fragment
``opsbook.runbooks.kubernetes``; a unit test keeps the two identical.

- :func:`api_client` builds an ``ApiClient`` from ``kubeconfig`` / ``context``
  (default ``KUBECONFIG`` or ``~/.kube/config``, the current context), with urllib3
  retries off so that a dead API server fails within one request timeout.
- :func:`call` runs one API method with ``_request_timeout`` and maps failures:
  ``ApiException`` -> :class:`ServiceError` (404 -> the caller's ``not_found`` text),
  connection errors and timeouts -> :class:`ServiceUnreachable`.  Messages are scrubbed.
- :class:`Kube` bundles the client, the namespace, the timeout and the API groups.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.opsbook.runbooks.plugins.module_utils.errors import (
    MissingDependency,
    ServiceError,
    ServiceUnreachable,
    scrub,
)

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test import sanity
    k8s_client = k8s_config = None
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

    class ApiException(Exception):
        """Stand-in so that except clauses stay valid without the library."""

DEFAULT_REQUEST_TIMEOUT = 30.0
_KUBECONFIG_SECRET = re.compile(r"((?:token|password|client-key-data|client-certificate-data|id-token|refresh-token)\"?\'?\s*[:=]\s*)\S+", re.I)


def scrub_kubeconfig_text(text):
    """``scrub`` plus kubeconfig credentials (token, password, key data) that a loader error may quote."""
    return _KUBECONFIG_SECRET.sub(r"\1********", scrub(text))


def kubernetes_common_argument_spec():
    """Connection options every Kubernetes module accepts."""
    return dict(
        kubeconfig=dict(type="path"),
        context=dict(type="str"),
        namespace=dict(type="str", default="default"),
    )


def kubeconfig_path(params):
    """The kubeconfig file(s) that will be read: the option, else KUBECONFIG, else ~/.kube/config."""
    return params.get("kubeconfig") or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def request_timeout(timeout=None):
    """Seconds for one API request: the smaller of ``timeout`` and 30 s."""
    if not timeout or timeout <= 0:
        return DEFAULT_REQUEST_TIMEOUT
    return min(float(timeout), DEFAULT_REQUEST_TIMEOUT)


def api_client(params):
    """An ``ApiClient`` for ``params`` (kubeconfig, context); ServiceUnreachable when it cannot be loaded."""
    if not HAS_KUBERNETES:
        raise MissingDependency("kubernetes", KUBERNETES_IMPORT_ERROR)
    path = kubeconfig_path(params)
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(config_file=path, context=params.get("context"), client_configuration=configuration,
                                    persist_config=False)
    except Exception as exc:  # the loader raises ConfigException, IOError, yaml errors...
        first_line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise ServiceUnreachable(scrub_kubeconfig_text("cannot load the kubeconfig %s (context %s): %s" % (
            path, params.get("context") or "current", first_line)))
    configuration.retries = False  # one attempt per call: the request timeout is the bound
    return k8s_client.ApiClient(configuration)


def server_url(client):
    """The API server URL of ``client`` (for messages)."""
    return scrub(client.configuration.host)


def _status_message(exc):
    """The ``message`` of a Kubernetes Status body, else the HTTP reason."""
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason


def call(func, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` bounded by a request timeout, mapping errors to opsbook's.

    Extra keyword arguments (removed before the call): ``timeout`` (seconds, default 30),
    ``not_found`` (message for a 404), ``server`` (URL shown when unreachable).
    """
    timeout = request_timeout(kwargs.pop("timeout", None))
    not_found = kwargs.pop("not_found", None)
    server = kwargs.pop("server", None)
    kwargs["_request_timeout"] = timeout
    try:
        return func(*args, **kwargs)
    except ApiException as exc:
        if exc.status == 404 and not_found:
            raise ServiceError(not_found)
        if exc.status in (None, 0):
            raise ServiceUnreachable("Kubernetes API is unreachable%s: %s" % (" at %s" % server if server else "", scrub(exc.reason)))
        raise ServiceError(scrub("Kubernetes API error %s (%s): %s" % (exc.status, exc.reason, _status_message(exc))))
    except (MissingDependency, ServiceError, ServiceUnreachable):
        raise
    except Exception as exc:  # urllib3 connection errors, timeouts, TLS errors
        raise ServiceUnreachable("Kubernetes API is unreachable%s: %s within %ss" % (
            " at %s" % server if server else "", exc.__class__.__name__, timeout))


class Kube(object):
    """A client bound to one namespace and request timeout, with the API groups opsbook uses."""

    def __init__(self, params, timeout=None):
        self.client = api_client(params)
        self.namespace = params.get("namespace") or "default"
        self.timeout = request_timeout(timeout)
        self.server = server_url(self.client)
        self.apps = k8s_client.AppsV1Api(self.client)
        self.core = k8s_client.CoreV1Api(self.client)

    def call(self, func, *args, **kwargs):
        """:func:`call` with this client's timeout and server."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("server", self.server)
        return call(func, *args, **kwargs)

    def pod_logs(self, pod, container=None, since_seconds=None, tail_lines=None, timestamps=False, previous=False):
        """Lines of one pod's container log in this namespace (``kubectl logs``), oldest first."""
        kwargs = dict((key, value) for key, value in (("container", container), ("since_seconds", since_seconds),
                                                      ("tail_lines", tail_lines)) if value is not None)
        text = self.call(self.core.read_namespaced_pod_log, pod, self.namespace, timestamps=bool(timestamps), previous=bool(previous),
                         not_found="pod %s/%s not found" % (self.namespace, pod), **kwargs)
        return (text or "").splitlines()

    def to_dict(self, obj):
        """A client model as the API's JSON dict (camelCase keys), e.g. to copy a pod template."""
        return self.client.sanitize_for_serialization(obj)


def selector_string(match_labels):
    """``{a: 1, b: 2}`` -> ``a=1,b=2`` (sorted), for ``label_selector``."""
    return ",".join("%s=%s" % item for item in sorted((match_labels or {}).items()))
