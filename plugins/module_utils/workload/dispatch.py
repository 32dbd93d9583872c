# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One interface for workloads, one backend module per kind.

``dispatch(params, check_mode)`` validates the operation's options (the same rules for
every backend: a scale to zero needs ``confirm`` naming the workload, a revision is a
positive integer) and calls ``<backend>.<operation>(params, check_mode)``.  ``scale`` with
``scale_down: false`` only ever adds replicas.  A backend
module exposes the operations it supports as functions; anything else is bad input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.findings import make_action
from ansible_collections.opsbook.runbooks.plugins.module_utils.workload import compose_backend, kubernetes_backend, systemd_backend

KINDS = ("kubernetes", "compose", "systemd")
OPERATIONS = ("status", "restart", "scale", "rollback", "wait", "start", "stop", "update")
# Read-only operations: an unreachable backend is a finding, not a failure.
DIAGNOSTIC_OPERATIONS = ("status",)

# Static imports, so that Ansible's module packer ships every backend with the module.
BACKENDS = {"kubernetes": kubernetes_backend, "compose": compose_backend, "systemd": systemd_backend}


def load_backend(kind):
    """The backend module for ``kind``, or InvalidInput when it is not available."""
    if kind not in BACKENDS:
        raise InvalidInput("kind: the %r backend is not available in this version of opsbook" % kind)
    return BACKENDS[kind]


def validate(params):
    """Raise InvalidInput (naming the option) unless ``params`` describe a valid operation."""
    kind, operation, name = params.get("kind"), params.get("operation"), params.get("name")
    if kind not in KINDS:
        raise InvalidInput("kind: expected one of %s, got %r" % (", ".join(KINDS), kind))
    if operation not in OPERATIONS:
        raise InvalidInput("operation: expected one of %s, got %r" % (", ".join(OPERATIONS), operation))
    if not name:
        raise InvalidInput("name: the workload to act on is required")
    timeout = params.get("timeout")
    if timeout is not None and timeout <= 0:
        raise InvalidInput("timeout: must be positive, got %s" % timeout)
    if operation == "scale":
        replicas = params.get("replicas")
        if replicas is None:
            raise InvalidInput("replicas: required for operation=scale")
        if replicas < 0:
            raise InvalidInput("replicas: must be 0 or more, got %d" % replicas)
        if replicas == 0 and params.get("confirm") != name:
            raise InvalidInput("confirm: scaling %s to zero stops it; set confirm to %r to proceed" % (name, name))
    if params.get("scale_down") is False and operation != "scale":
        raise InvalidInput("scale_down: only with operation=scale (got it with %s)" % operation)
    if operation == "stop" and params.get("confirm") != name:
        raise InvalidInput("confirm: stopping %s takes it out of service; set confirm to %r to proceed" % (name, name))
    revision = params.get("revision")
    if revision is not None and (operation != "rollback" or revision < 1):
        raise InvalidInput("revision: a positive revision, only with operation=rollback (got %r with %s)" % (revision, operation))
    if operation == "update" and not params.get("image"):
        raise InvalidInput("image: required for operation=update (the new image reference, e.g. registry/app:1.2.3)")
    for option in ("image", "container"):
        if params.get(option) and operation != "update":
            raise InvalidInput("%s: only with operation=update (got it with %s)" % (option, operation))
    if kind == "compose" and not params.get("project"):
        raise InvalidInput("project: the compose project is required for kind=compose")


def dispatch(params, check_mode, loader=load_backend):
    """Validate, then run ``operation`` on the backend for ``kind``; returns the result dict."""
    validate(params)
    backend = loader(params["kind"])
    handler = getattr(backend, params["operation"], None)
    if handler is None:
        raise InvalidInput("operation: %s is not supported for kind=%s (supported: %s)" % (
            params["operation"], params["kind"], ", ".join(op for op in OPERATIONS if hasattr(backend, op))))
    if params["operation"] == "scale" and params.get("scale_down") is False:
        kept = _kept_replicas(backend, params, check_mode)
        if kept is not None:
            return kept
    return handler(params, check_mode)


def _kept_replicas(backend, params, check_mode):
    """With ``scale_down: false``, the unchanged result for a workload already at or above ``replicas``.

    ``kubectl scale`` to a smaller number would remove capacity someone (an HPA, an earlier run) added.
    """
    current = backend.status(dict(params, operation="status"), check_mode)
    desired = current.get("desired")
    if desired is None or desired < params["replicas"]:
        return None
    target = current.get("workload") or params["name"]
    detail = "already at %s replicas (target %s): not scaled down" % (desired, params["replicas"])
    return dict(current, changed=False, actions=[make_action("scale", target, False, check_mode, detail)])
