# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes Deployments through the ``kubernetes`` client (status, restart, scale, wait).

restart has ``kubectl rollout restart`` semantics: it patches the pod template annotation
``kubectl.kubernetes.io/restartedAt``, so the Deployment controller rolls out a new
ReplicaSet; then it waits for the rollout.  Every API call carries ``_request_timeout``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

from ansible_collections.opsbook.runbooks.plugins.module_utils import k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.errors import ServiceError
from ansible_collections.opsbook.runbooks.plugins.module_utils.findings import (
    CRITICAL,
    OK,
    WARNING,
    make_action,
    make_finding,
    overall,
)

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
BAD_WAITING = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "InvalidImageName")


class _Api(k8s_common.Kube):
    def __init__(self, params):
        super(_Api, self).__init__(params, params["timeout"])
        self.name = params["name"]

    def call(self, func, *args, **kwargs):
        kwargs.setdefault("not_found", "deployment %s/%s not found" % (self.namespace, self.name))
        return super(_Api, self).call(func, *args, **kwargs)

    def deployment(self):
        return self.call(self.apps.read_namespaced_deployment, self.name, self.namespace)

    def pods(self, deployment):
        selector = k8s_common.selector_string(deployment.spec.selector.match_labels)
        return self.call(self.core.list_namespaced_pod, self.namespace, label_selector=selector).items


def pod_row(pod):
    """Phase, readiness, restarts and the worst container reason of one pod."""
    statuses = pod.status.container_statuses or []
    reason = None
    for cs in statuses:
        waiting = cs.state.waiting if cs.state else None
        terminated = cs.last_state.terminated if cs.last_state else None
        if waiting and waiting.reason in BAD_WAITING:
            reason = waiting.reason
        elif terminated and terminated.reason and reason is None:
            reason = terminated.reason
    return {
        "name": pod.metadata.name,
        "phase": pod.status.phase,
        "ready": bool(statuses) and all(cs.ready for cs in statuses),
        "restarts": sum(cs.restart_count or 0 for cs in statuses),
        "reason": reason,
    }


def deployment_summary(dep):
    st = dep.status
    return {
        "desired": dep.spec.replicas if dep.spec.replicas is not None else 1,
        "ready_replicas": st.ready_replicas or 0,
        "updated": st.updated_replicas or 0,
        "available": st.available_replicas or 0,
        "total": st.replicas or 0,
        "revision": int((dep.metadata.annotations or {}).get(REVISION, 0)),
        "generation": dep.metadata.generation,
        "observed_generation": st.observed_generation,
    }


def rollout_complete(summary):
    """kubectl rollout status: observed the latest spec, all replicas updated, available, no old ones."""
    return (summary["observed_generation"] or 0) >= (summary["generation"] or 0) and \
        summary["updated"] == summary["desired"] and summary["total"] == summary["desired"] and \
        summary["available"] == summary["desired"] and summary["ready_replicas"] == summary["desired"]


def findings_for(summary, pods, target):
    ready, desired = summary["ready_replicas"], summary["desired"]
    if ready >= desired:
        status = OK
    else:
        status = CRITICAL if ready == 0 else WARNING
    findings = [make_finding("workload_ready", status, "%s has %d of %d replicas ready" % (target, ready, desired),
                             value=ready, threshold={"desired": desired}, unit="replicas", target=target)]
    for pod in pods:
        if pod["reason"] in BAD_WAITING or pod["reason"] == "OOMKilled":
            findings.append(make_finding("workload_pod", CRITICAL, "pod %s: %s (%d restarts)" % (pod["name"], pod["reason"], pod["restarts"]),
                                         value=pod["reason"], target=pod["name"]))
    return findings


def _result(api, dep):
    summary = deployment_summary(dep)
    pods = [pod_row(p) for p in api.pods(dep)]
    target = "%s/%s" % (api.namespace, api.name)
    findings = findings_for(summary, pods, target)
    return dict(summary, kind="kubernetes", workload=target, pods=pods, findings=findings, status=overall(findings),
                ready=rollout_complete(summary))


def status(params, check_mode):
    api = _Api(params)
    return _result(api, api.deployment())


def _wait(api, deadline):
    dep = api.deployment()
    while not rollout_complete(deployment_summary(dep)) and time.time() < deadline:
        time.sleep(1)
        dep = api.deployment()
    summary = deployment_summary(dep)
    if not rollout_complete(summary):
        raise ServiceError("rollout of %s/%s not complete after %ss: %d of %d replicas updated, %d ready" % (
            api.namespace, api.name, api.timeout, summary["updated"], summary["desired"], summary["ready_replicas"]))
    return dep


def wait(params, check_mode):
    api = _Api(params)
    dep = _wait(api, time.time() + params["timeout"])
    return dict(_result(api, dep), changed=False)


def _change(params, check_mode, action, body, detail):
    api = _Api(params)
    before = deployment_summary(api.deployment())
    target = "%s/%s" % (api.namespace, api.name)
    if check_mode:
        return {"kind": "kubernetes", "workload": target, "changed": True, "revision": before["revision"],
                "actions": [make_action(action, target, True, True, "would " + detail)]}
    api.call(api.apps.patch_namespaced_deployment, api.name, api.namespace, body)
    dep = _wait(api, time.time() + params["timeout"])
    result = _result(api, dep)
    result.update(changed=True, previous_revision=before["revision"],
                  actions=[make_action(action, target, True, False, detail)])
    return result


def restart(params, check_mode):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    return _change(params, check_mode, "rollout_restart", body, "rollout restart (%s=%s)" % (RESTARTED_AT, stamp))


def scale(params, check_mode):
    body = {"spec": {"replicas": params["replicas"]}}
    return _change(params, check_mode, "scale", body, "scale to %d replicas" % params["replicas"])
